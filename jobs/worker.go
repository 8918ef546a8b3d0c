package jobs

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/broker"
)

// Defaults for the zero fields of Config.
const (
	DefaultLease        = 30 * time.Second
	DefaultPoll         = time.Second
	DefaultStepRetries  = 3
	DefaultRetryBackoff = 250 * time.Millisecond
	DefaultConcurrency  = 4
	// DefaultMaxAttempts is how many claims an operation gets before it
	// fails for good. Every claim counts, including one whose process died
	// during it, so a step that crashes the process cannot loop forever.
	DefaultMaxAttempts = 10
	// DefaultAttemptBackoff and DefaultAttemptBackoffMax space the claims
	// of an operation whose attempt ended unfinished: 5 s after the first,
	// doubling after each further one, never more than 5 minutes.
	DefaultAttemptBackoff    = 5 * time.Second
	DefaultAttemptBackoffMax = 5 * time.Minute
	// DefaultStepTimeout bounds one attempt of a step. It matches
	// Strimzi's default readiness wait for a rolled broker (300 s): a
	// broker that is not back by then is treated as a failed attempt
	// rather than holding the operation forever.
	DefaultStepTimeout = 5 * time.Minute
)

// writeTimeout bounds the store writes the worker makes after its context
// was cancelled (recording a finished step, releasing a lease), so that a
// stuck store cannot stop Close from returning.
const writeTimeout = 10 * time.Second

// Config configures a Worker. Instances, Operations and Runtime are
// required; every other zero field takes its default.
type Config struct {
	// Instances and Operations are the store. In kafkaplane both are one
	// *sqlstore.DB, so FinishOperation changes the operation and the
	// instance in one transaction.
	Instances  kafkaplane.InstanceService
	Operations kafkaplane.OperationService
	// Runtime runs the brokers the steps start, restart and check.
	Runtime broker.Runtime
	// Catalogue, when set, fills in the latest minor version of a start
	// operation whose handler left TargetMinor empty.
	Catalogue *kafkaplane.VersionCatalogue

	// Owner is the stable id of this node, written as the lease owner of
	// the operations it runs. A restarted process with the same Owner
	// takes its own leases back at once instead of waiting for them to
	// expire, so it must be unique per node and survive restarts (a host
	// name, not a random id).
	Owner string
	// Lease is how long a claim or heartbeat keeps an operation from other
	// workers (default 30 s). Steps heartbeat every Lease/3.
	Lease time.Duration
	// Poll is how often an idle worker looks for operations (default 1 s);
	// Wake makes it look at once.
	Poll time.Duration
	// StepRetries is how many times a failing step is retried before the
	// operation fails (default 3; negative means no retries).
	StepRetries int
	// RetryBackoff is the wait before the first retry, doubled for each
	// further one (default 250 ms).
	RetryBackoff time.Duration
	// StepTimeout bounds one attempt of a step (default 5 min).
	StepTimeout time.Duration
	// Concurrency is how many operations, each on a different instance,
	// one worker runs at a time (default 4).
	Concurrency int
	// MaxAttempts caps the claims of one operation (default 10). A claim
	// beyond it fails the operation at once with
	// CodeAttemptsExhausted, as does an attempt that ends unfinished
	// when it was the last one.
	MaxAttempts int
	// AttemptBackoff is how long an operation whose first attempt ended
	// unfinished (a store error, a failure to record the outcome) waits
	// before it may be claimed again; each further attempt doubles it, up
	// to AttemptBackoffMax (defaults 5 s and 5 min). The time is stored
	// with the operation, so it holds across restarts and workers.
	AttemptBackoff    time.Duration
	AttemptBackoffMax time.Duration

	// Logger receives the worker's logs (default: discarded, as in the
	// other components; the service passes its own).
	Logger *slog.Logger
	// Now is the clock for claims, leases and step timestamps (default
	// time.Now). Tests inject it to expire leases without waiting.
	Now func() time.Time
	// Observer, when set, is called after each step is recorded COMPLETE or
	// FAILED, with a copy of the operation as stored and the step. The
	// service counts finished steps with it in a metric (the worker logs
	// them itself). It runs on the worker's goroutine and should return
	// quickly.
	Observer func(op *kafkaplane.Operation, step kafkaplane.OperationStep)
}

// Worker runs durable operations from the store: it claims one with a
// lease, runs its unfinished steps in order and records each, and finishes
// it together with the instance. It is safe for concurrent use; Run may be
// called once.
type Worker struct {
	cfg  Config
	log  *slog.Logger
	wake chan struct{}

	mu      sync.Mutex
	started bool
	closed  bool
	cancel  context.CancelFunc
	done    chan struct{}

	// polls counts claim attempts, so that tests can wait for a worker to
	// have looked without sleeping for a guessed time.
	polls atomic.Int64
}

// New returns a Worker for cfg with defaults applied. It panics when a
// required dependency is missing: that is a wiring bug, not a runtime
// condition.
func New(cfg Config) *Worker {
	if cfg.Instances == nil || cfg.Operations == nil || cfg.Runtime == nil {
		panic("jobs: Config needs Instances, Operations and Runtime")
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.StepRetries == 0 {
		cfg.StepRetries = DefaultStepRetries
	}
	if cfg.StepRetries < 0 {
		cfg.StepRetries = 0
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = DefaultRetryBackoff
	}
	if cfg.StepTimeout <= 0 {
		cfg.StepTimeout = DefaultStepTimeout
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.AttemptBackoff <= 0 {
		cfg.AttemptBackoff = DefaultAttemptBackoff
	}
	if cfg.AttemptBackoffMax <= 0 {
		cfg.AttemptBackoffMax = DefaultAttemptBackoffMax
	}
	cfg.AttemptBackoffMax = max(cfg.AttemptBackoffMax, cfg.AttemptBackoff)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Worker{
		cfg:  cfg,
		log:  cfg.Logger.With("owner", cfg.Owner),
		wake: make(chan struct{}, 1),
	}
}

// Wake makes an idle worker look for operations now instead of at its
// next poll. API handlers call it after StartOperation so that an accepted
// operation starts without waiting. It never blocks.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run claims and runs operations until ctx is done or Close is called,
// then waits for the steps in flight to finish or stop and returns nil. At
// start it takes back the leases this Owner held before a restart. It
// returns an error only when that start-up fails or Run was already
// called.
func (w *Worker) Run(ctx context.Context) error {
	w.mu.Lock()
	if w.started {
		w.mu.Unlock()
		return errors.New("jobs: Run called twice")
	}
	w.started = true
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	w.cancel, w.done = cancel, make(chan struct{})
	done := w.done
	w.mu.Unlock()
	defer close(done)
	defer cancel()

	if err := w.reclaimOwn(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}

	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, w.cfg.Concurrency)
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		// The claim runs detached from ctx: a claim committed as ctx is
		// cancelled must still come back, so that execute releases its
		// lease, rather than be lost behind a context error.
		cctx, ccancel := detached(ctx)
		op, err := w.cfg.Operations.ClaimOperation(cctx, w.cfg.Owner, w.cfg.Now(), w.cfg.Lease)
		ccancel()
		w.polls.Add(1)
		if err != nil || op == nil {
			<-slots
			if err != nil && ctx.Err() == nil {
				w.log.Error("claim operation", "err", err)
			}
			if !w.idle(ctx) {
				return nil
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			w.execute(ctx, op)
		}()
	}
}

// idle waits for the next poll or a Wake, and reports false when ctx is
// done.
func (w *Worker) idle(ctx context.Context) bool {
	t := time.NewTimer(w.cfg.Poll)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-w.wake:
	case <-t.C:
	}
	return true
}

// Close stops Run and waits until it returned, which is after every step
// in flight finished or stopped. It may be called more than once, and
// before or without Run.
func (w *Worker) Close() error {
	w.mu.Lock()
	w.closed = true
	cancel, done := w.cancel, w.done
	w.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	return nil
}

// reclaimOwn clears the lease of every active operation this Owner holds.
// Such a lease can only be left over from before a restart: this process
// has not claimed anything yet. Clearing it makes the operation claimable
// now instead of after the lease expires, so a restarted node resumes its
// own upgrades at once.
func (w *Worker) reclaimOwn(ctx context.Context) error {
	_, err := ReleaseLeases(ctx, w.cfg.Operations, w.cfg.Owner, w.cfg.Now(), w.log)
	return err
}

// lostRace reports whether a store error means the operation is no longer
// ours: a compare-and-set lost to another writer (a worker that took the
// lease over), or the row is gone.
func lostRace(err error) bool {
	switch kafkaplane.ErrorCode(err) {
	case kafkaplane.CodeConflict, kafkaplane.CodeOperationNotFound:
		return true
	}
	return false
}
