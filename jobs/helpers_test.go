package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/broker"
	"github.com/kafkaplane/kafkaplane/sqlstore"
)

const region = "cn-hangzhou"

// wait bounds every poll of the tests; a correct run takes milliseconds.
const wait = 15 * time.Second

// clock is an injectable Now that moves only when told to.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// orderedFake is the broker.Fake with a chosen roll order, so that tests
// can tell the roll order from broker-id order.
type orderedFake struct {
	*broker.Fake
	order []int32
}

func (f *orderedFake) RollOrder(ctx context.Context, id string) ([]int32, error) {
	if _, err := f.Fake.RollOrder(ctx, id); err != nil {
		return nil, err
	}
	return slices.Clone(f.order), nil
}

// dbPath returns a fresh SQLite file in the test's temp dir.
func dbPath(t *testing.T) string {
	return filepath.Join(t.TempDir(), "kafkaplane.db")
}

// openDB opens the real store on path; the test closes it at cleanup
// (closing twice is harmless).
func openDB(t *testing.T, path string) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// config returns a worker Config for the store and runtime with fast
// polls and retries.
func config(t *testing.T, db *sqlstore.DB, rt broker.Runtime, owner string) Config {
	return Config{
		Instances:    db,
		Operations:   db,
		Runtime:      rt,
		Catalogue:    kafkaplane.DefaultVersionCatalogue(),
		Owner:        owner,
		Poll:         10 * time.Millisecond,
		RetryBackoff: time.Millisecond,
		Logger:       testLogger(t),
	}
}

// running is a Worker whose Run goroutine the test can stop and wait for.
type running struct {
	*Worker
	cancel context.CancelFunc
	done   chan error
}

// start runs a new Worker for cfg until the test ends or stop is called.
func start(t *testing.T, cfg Config) *running {
	return startCtx(t, context.Background(), cfg)
}

// startCtx is start with a parent context that the test may cancel.
func startCtx(t *testing.T, parent context.Context, cfg Config) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(parent)
	r := &running{Worker: New(cfg), cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- r.Run(ctx) }()
	t.Cleanup(r.stop)
	return r
}

// stop cancels the worker and waits for Run to return.
func (r *running) stop() {
	r.cancel()
	r.Close()
}

// waitStopped waits until Run returned by itself (its context was
// cancelled from inside a hook).
func (r *running) waitStopped(t *testing.T) {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("worker did not stop")
	}
}

// waitPolls waits until the worker has made n more claim attempts.
func (r *running) waitPolls(t *testing.T, n int64) {
	t.Helper()
	target := r.polls.Load() + n
	deadline := time.Now().Add(wait)
	for r.polls.Load() < target {
		if time.Now().After(deadline) {
			t.Fatal("worker did not poll")
		}
		r.Wake()
		time.Sleep(time.Millisecond)
	}
}

// newInstance returns an instance row of n brokers, not yet started.
func newInstance(id, account, version, minor string, n int) *kafkaplane.Instance {
	ports := make([]int, n)
	for i := range ports {
		ports[i] = 19092 + i
	}
	return &kafkaplane.Instance{
		ID:           id,
		AccountID:    account,
		RegionID:     region,
		Name:         id,
		Version:      version,
		MinorVersion: minor,
		BrokerPorts:  ports,
		Config:       map[string]string{"kafka.log.retention.hours": "72"},
	}
}

// create stores inst with the given status.
func create(t *testing.T, db *sqlstore.DB, inst *kafkaplane.Instance, ss kafkaplane.ServiceStatus, vs kafkaplane.ViewStatus) *kafkaplane.Instance {
	t.Helper()
	inst.ServiceStatus, inst.ViewStatus = ss, vs
	if err := db.CreateInstance(context.Background(), inst, 0); err != nil {
		t.Fatalf("create instance: %v", err)
	}
	return inst
}

// acceptStart does what the StartInstance handler does: instance to
// deploying and the start operation, in one transaction.
func acceptStart(t *testing.T, db *sqlstore.DB, inst *kafkaplane.Instance, opID string, now time.Time) *kafkaplane.Operation {
	t.Helper()
	inst = reload(t, db, inst)
	inst.ServiceStatus, inst.ViewStatus = kafkaplane.ServiceStatusDeploying, kafkaplane.ViewStatusDeploying
	op := NewStartOperation(inst, opID, now)
	if err := db.StartOperation(context.Background(), inst, op); err != nil {
		t.Fatalf("start operation: %v", err)
	}
	return op
}

// acceptUpgrade does what the UpgradeInstanceVersion handler does: plan,
// instance to upgrading and the upgrade operation, in one transaction.
func acceptUpgrade(t *testing.T, db *sqlstore.DB, inst *kafkaplane.Instance, target, opID string, now time.Time) *kafkaplane.Operation {
	t.Helper()
	inst = reload(t, db, inst)
	plan, err := kafkaplane.DefaultVersionCatalogue().PlanUpgrade(inst.Version, inst.MinorVersion, target)
	if err != nil {
		t.Fatalf("plan upgrade: %v", err)
	}
	inst.ServiceStatus, inst.ViewStatus = kafkaplane.ServiceStatusUpgrading, kafkaplane.ViewStatusUpgrading
	op := NewUpgradeOperation(inst, plan, opID, now)
	if err := db.StartOperation(context.Background(), inst, op); err != nil {
		t.Fatalf("start operation: %v", err)
	}
	return op
}

func reload(t *testing.T, db *sqlstore.DB, inst *kafkaplane.Instance) *kafkaplane.Instance {
	t.Helper()
	got, err := db.FindInstance(context.Background(), inst.AccountID, inst.RegionID, inst.ID)
	if err != nil {
		t.Fatalf("find instance: %v", err)
	}
	return got
}

func findOp(t *testing.T, db *sqlstore.DB, account, id string) *kafkaplane.Operation {
	t.Helper()
	op, err := db.FindOperation(context.Background(), account, id)
	if err != nil {
		t.Fatalf("find operation: %v", err)
	}
	return op
}

// waitDone polls the store until the operation is finished.
func waitDone(t *testing.T, db *sqlstore.DB, account, id string) *kafkaplane.Operation {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		op := findOp(t, db, account, id)
		if op.Done() {
			return op
		}
		if time.Now().After(deadline) {
			t.Fatalf("operation %s not finished: state %s, steps %+v", id, op.State, op.Steps)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// rollCalls returns the Fake's log lines of ROLL_BROKER steps for the
// brokers in order: a restart onto version, then a check.
func rollCalls(id, version string, order ...int32) []string {
	var out []string
	for _, b := range order {
		out = append(out, fmt.Sprintf("restart %s %d %s", id, b, version), fmt.Sprintf("check %s %d %s", id, b, version))
	}
	return out
}

// stepNames renders steps compactly for comparisons.
func stepNames(steps []kafkaplane.OperationStep) []string {
	var out []string
	for _, s := range steps {
		n := s.Name
		if s.BrokerID >= 0 {
			n = fmt.Sprintf("%s/%d", n, s.BrokerID)
		}
		out = append(out, n+":"+string(s.Status))
	}
	return out
}

// observed collects what an Observer saw.
type observed struct {
	mu    sync.Mutex
	steps []string
}

func (o *observed) observe(op *kafkaplane.Operation, s kafkaplane.OperationStep) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.steps = append(o.steps, stepNames([]kafkaplane.OperationStep{s})[0])
}

func (o *observed) get() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.steps)
}

// wait returns what the Observer saw once it saw n steps: it is called
// after the store write, so a test that saw the write may get there first.
func (o *observed) wait(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		if got := o.get(); len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(time.Millisecond)
	}
}
