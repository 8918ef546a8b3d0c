package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
	"github.com/kafkaplane/kafkaplane/broker"
	"github.com/kafkaplane/kafkaplane/jobs"
	"github.com/kafkaplane/kafkaplane/openapi"
	"github.com/kafkaplane/kafkaplane/sqlstore"
)

// The data plane lease (README "Several replicas"): the owner renews it
// every dataPlaneRenew for dataPlaneLeaseTTL. An owner that has not
// renewed for dataPlaneLeaseTTL-dataPlaneFenceMargin stops its data plane,
// so it is down before any standby may take the lease.
const (
	dataPlaneLeaseTTL    = 10 * time.Second
	dataPlaneRenew       = 2 * time.Second
	dataPlaneFenceMargin = 2 * dataPlaneRenew
)

// standbyActions are the alikafka actions a standby replica serves itself:
// they read and write only the store (orders, the instance list, accepting
// a start or an upgrade that the owner's worker then runs, names,
// consumer group records, tags of instances, operations). Every other
// alikafka action may touch the brokers, which run only in the owner, and
// a standby answers it with ServiceUnavailable before it changes anything;
// an action added later is refused on a standby until it is listed here.
// RAM actions touch only the store and are served everywhere.
var standbyActions = map[string]bool{
	"CreatePostPayOrder":        true,
	"CreatePrePayOrder":         true,
	"UpgradePostPayOrder":       true,
	"GetInstanceList":           true,
	"GetAllInstanceIdList":      true,
	"StartInstance":             true,
	"UpgradeInstanceVersion":    true,
	"ModifyInstanceName":        true,
	"EnableAutoGroupCreation":   true,
	"CreateConsumerGroup":       true,
	"DeleteConsumerGroup":       true,
	"GetConsumerList":           true,
	"ListTagResources":          true,
	"ListInstanceOperations":    true,
	"DescribeInstanceOperation": true,
	"GetUpgradableVersions":     true,
}

// dataPlaneOwner holds or waits for the store's data plane lease. Exactly
// one process of a store owns the data plane: it runs the brokers, the
// keeper that restores them and the operations worker. Every other
// process is a standby that serves the API for the store (see
// standbyActions) and takes the data plane over when the owner's lease
// ends: it starts the brokers from the store, as a restart does, and its
// worker resumes the operations whose leases the dead owner left.
type dataPlaneOwner struct {
	m   *Main
	id  string
	log *slog.Logger
	// newWorker builds the operations worker that runs on rt.
	newWorker func(rt broker.Runtime) *jobs.Worker
	// shared is set when the brokers run outside every replica (Strimzi
	// on Kubernetes): each replica then serves the data plane and runs a
	// worker, operation leases keep each operation to one worker, and no
	// data plane lease is taken.
	shared bool

	// gate is held for reading by every API call into the runtime and for
	// writing while ownership changes, so a demotion waits for such calls
	// and none starts on a runtime being closed.
	gate sync.RWMutex
	// Guarded by gate (writes) and mu (reads from health and metrics).
	mu      sync.Mutex
	owning  bool
	fenceAt time.Time // stop owning at this time unless renewed
	lease   sqlstore.DataPlaneLease
	addr    string
	keeper  *dataPlaneKeeper
	worker  *jobs.Worker
	stop    context.CancelFunc
	duties  sync.WaitGroup

	loopStop context.CancelFunc
	loopDone chan struct{}
}

// standbyError is the answer of a standby to data plane work.
func (o *dataPlaneOwner) standbyError() error {
	o.mu.Lock()
	l := o.lease
	o.mu.Unlock()
	if l.Holder == "" || !l.Held(o.m.Now()) {
		return apierr.ServiceUnavailable.Errorf("This replica does not run the data plane, and no replica does right now; one takes it over within %s. Retry later.", dataPlaneLeaseTTL)
	}
	return apierr.ServiceUnavailable.Errorf("This replica is a standby: the data plane runs in replica %s at %s. Retry, or send the request to that replica.", l.Holder, l.Addr)
}

// tryAcquire takes or renews the lease once and acts on the answer:
// promote when newly held, demote when lost, or when it could not be
// renewed for so long that a standby may take it soon.
func (o *dataPlaneOwner) tryAcquire(ctx context.Context) {
	if o.shared {
		o.mu.Lock()
		owning := o.owning
		o.mu.Unlock()
		if !owning {
			o.promote(ctx, sqlstore.DataPlaneLease{})
		}
		return
	}
	start := o.m.Now()
	o.mu.Lock()
	addr := o.addr
	o.mu.Unlock()
	cctx, cancel := context.WithTimeout(ctx, dataPlaneRenew)
	defer cancel()
	o.mu.Lock()
	owning := o.owning
	o.mu.Unlock()
	// A process taking the lease needs to know whose it was (promote).
	var prev sqlstore.DataPlaneLease
	if !owning {
		prev, _ = o.m.DB.DataPlane(cctx)
	}
	l, ok, err := o.m.DB.AcquireDataPlane(cctx, o.id, addr, start, dataPlaneLeaseTTL)
	if ctx.Err() != nil {
		return
	}
	o.mu.Lock()
	if err == nil {
		o.lease = l
	}
	if ok {
		o.fenceAt = start.Add(dataPlaneLeaseTTL - dataPlaneFenceMargin)
	}
	fenceAt := o.fenceAt
	o.mu.Unlock()
	switch {
	case err != nil:
		o.log.Error("data plane lease: renew", "err", err)
		if owning && !o.m.Now().Before(fenceAt) {
			o.demote("the lease could not be renewed before it ends")
		}
	case ok && !owning:
		o.promote(ctx, prev)
	case !ok && owning:
		o.demote("replica " + l.Holder + " holds the lease")
	}
}

// promote starts the data plane: brokers of every serving instance first
// (rolled ones on their target version), then the keeper, the worker and
// the scaling rule scheduler.
// prev is the lease as last seen before this one was taken. When another
// process held it, that process stopped its worker before its lease ended
// (or died), so the operation leases it left are released for this
// worker to resume now rather than when they expire.
func (o *dataPlaneOwner) promote(ctx context.Context, prev sqlstore.DataPlaneLease) {
	o.gate.Lock()
	defer o.gate.Unlock()
	if prev.Holder != "" && prev.Holder != o.id {
		if _, err := jobs.ReleaseLeases(ctx, o.m.DB, prev.Holder, o.m.Now(), o.log); err != nil {
			o.log.Error("data plane takeover: release the former owner's operation leases", "former_owner", prev.Holder, "err", err)
		}
	}
	// Every Start of the keeper and the worker carries the instance's
	// stored security (jobs.Secure).
	rt := jobs.Secure(o.m.Runtime, o.m.DB)
	keeper := &dataPlaneKeeper{instances: o.m.DB, operations: o.m.DB, runtime: rt,
		log: o.m.Logger.With("component", "dataplane"), down: map[string]*downInstance{}}
	keeper.pass(ctx)
	worker := o.newWorker(rt)
	dctx, stop := context.WithCancel(context.Background())
	o.duties.Add(3)
	go func() {
		defer o.duties.Done()
		keeper.run(dctx)
	}()
	go func() {
		defer o.duties.Done()
		_ = o.m.Scaling.Run(dctx)
	}()
	go func() {
		defer o.duties.Done()
		if err := worker.Run(dctx); err != nil && !errors.Is(err, context.Canceled) {
			o.log.Error("operations worker stopped", "err", err)
		}
	}()
	o.mu.Lock()
	o.owning, o.keeper, o.worker, o.stop = true, keeper, worker, stop
	o.m.Worker = worker
	o.mu.Unlock()
	o.log.Info("data plane: this replica is the owner", "owner", o.id)
}

// demote stops the data plane: the worker finishes or stops its step and
// releases its leases, and the brokers stop (their data is kept) on a
// fresh, idle runtime that a later promotion starts from the store.
func (o *dataPlaneOwner) demote(why string) {
	o.gate.Lock()
	defer o.gate.Unlock()
	if !o.stopDuties() {
		return
	}
	o.log.Error("data plane: this replica is no longer the owner; brokers stopped", "reason", why)
	if err := o.m.Runtime.Close(); err != nil {
		o.log.Error("data plane: stop brokers", "err", err)
	}
	if err := o.m.openRuntime(); err != nil {
		// Without a runtime this process cannot own the data plane again;
		// it keeps serving as a standby.
		o.log.Error("data plane: reopen runtime", "err", err)
		o.m.Runtime = broker.NewFake()
	}
}

// stopDuties ends the keeper and the worker; it reports whether this
// process was the owner. The caller holds gate.
func (o *dataPlaneOwner) stopDuties() bool {
	o.mu.Lock()
	was, stop := o.owning, o.stop
	o.owning, o.keeper, o.worker, o.stop = false, nil, nil, nil
	o.mu.Unlock()
	if !was {
		return false
	}
	stop()
	o.duties.Wait()
	return true
}

// start runs the lease loop; addr is the API's address, stored with the
// lease so that standbys can name the owner.
func (o *dataPlaneOwner) start(addr string) {
	o.mu.Lock()
	o.addr = addr
	o.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	o.loopStop, o.loopDone = cancel, make(chan struct{})
	go func() {
		defer close(o.loopDone)
		t := time.NewTicker(dataPlaneRenew)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			o.tryAcquire(ctx)
		}
	}()
}

// close stops the lease loop and the data plane, closes the runtime and
// then releases the lease, so a standby can start the brokers at once on
// ports that are free by then.
func (o *dataPlaneOwner) close() error {
	if o.loopStop != nil {
		o.loopStop()
		<-o.loopDone
	}
	o.gate.Lock()
	defer o.gate.Unlock()
	was := o.stopDuties()
	err := o.m.Runtime.Close()
	if was && !o.shared {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = errors.Join(err, o.m.DB.ReleaseDataPlane(ctx, o.id))
		cancel()
	}
	return err
}

// wake makes the owner's worker look for operations now; a standby's
// accepted operations are found by the owner's next poll.
func (o *dataPlaneOwner) wake() {
	o.mu.Lock()
	w := o.worker
	o.mu.Unlock()
	if w != nil {
		w.Wake()
	}
}

// status is the data plane line of /healthz, and the keeper's report of
// instances that are down while this replica owns the data plane.
func (o *dataPlaneOwner) status() (line string, down []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.keeper != nil {
		down = o.keeper.downReport()
	}
	if o.shared {
		return "data plane: shared (brokers run outside the replicas; every replica serves them)", down
	}
	if o.owning {
		return "data plane: owner " + o.id, down
	}
	l := o.lease
	if !l.Held(o.m.Now()) {
		return "data plane: standby (no owner; the next lease check takes it over)", nil
	}
	return fmt.Sprintf("data plane: standby (owner %s at %s, lease until %s)", l.Holder, l.Addr, l.Until.UTC().Format(time.RFC3339)), nil
}

func (o *dataPlaneOwner) downCount() int {
	o.mu.Lock()
	k := o.keeper
	o.mu.Unlock()
	if k == nil {
		return 0
	}
	return k.downCount()
}

// guardStandby makes every alikafka action outside standbyActions answer
// ServiceUnavailable on a standby before its handler runs. On the owner
// the handler runs holding the gate, so ownership cannot move under it.
func (o *dataPlaneOwner) guardStandby(g *openapi.Registry) {
	for _, a := range g.Actions() {
		if a.Product != "alikafka" || standbyActions[a.Name] {
			continue
		}
		h := a.Handler
		a.Handler = func(ctx context.Context, r *openapi.Request) (openapi.Object, error) {
			o.gate.RLock()
			defer o.gate.RUnlock()
			o.mu.Lock()
			owning := o.owning
			o.mu.Unlock()
			if !owning {
				return nil, o.standbyError()
			}
			return h(ctx, r)
		}
	}
}

// lockDataDir takes an exclusive lock on dir for the life of the process:
// the worker id, nonce log and SQLite database in it belong to one process.
// Replicas on one machine use a data dir each and share brokers through
// --broker-data-dir.
func lockDataDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("data dir %s is in use by another kafkaplane process; give every replica its own --data-dir (replicas on one machine share brokers through --broker-data-dir)", dir)
		}
		return nil, fmt.Errorf("lock data dir %s: %w", dir, err)
	}
	return f, nil
}

// runtime is the process's runtime now (a demotion replaces it).
func (o *dataPlaneOwner) runtime() broker.Runtime {
	o.gate.RLock()
	defer o.gate.RUnlock()
	return o.m.Runtime
}

// apiRuntime is the runtime the API handlers get. In shared mode the
// runtime is never replaced, and handlers use it as it is (with its
// optional interfaces, such as Strimzi's endpoints); otherwise they go
// through currentRuntime.
func (o *dataPlaneOwner) apiRuntime() broker.Runtime {
	if o.shared {
		return o.m.Runtime
	}
	return currentRuntime{o.m}
}

// currentRuntime is the runtime the API handlers call: whichever runtime
// the process holds now, since a demotion replaces it. Handlers that call
// it hold the gate (guardStandby), so the runtime cannot change under a
// call.
type currentRuntime struct{ m *Main }

func (c currentRuntime) Start(ctx context.Context, spec broker.Spec) ([]broker.BrokerStatus, error) {
	return c.m.Runtime.Start(ctx, spec)
}

func (c currentRuntime) Stop(ctx context.Context, instanceID string) error {
	return c.m.Runtime.Stop(ctx, instanceID)
}

func (c currentRuntime) Destroy(ctx context.Context, instanceID string) error {
	return c.m.Runtime.Destroy(ctx, instanceID)
}

func (c currentRuntime) Status(ctx context.Context, instanceID string) ([]broker.BrokerStatus, error) {
	return c.m.Runtime.Status(ctx, instanceID)
}

func (c currentRuntime) RestartBroker(ctx context.Context, instanceID string, brokerID int32, version string) error {
	return c.m.Runtime.RestartBroker(ctx, instanceID, brokerID, version)
}

func (c currentRuntime) CheckBroker(ctx context.Context, instanceID string, brokerID int32, version string) error {
	return c.m.Runtime.CheckBroker(ctx, instanceID, brokerID, version)
}

func (c currentRuntime) ApplySecurity(ctx context.Context, instanceID string, sec broker.Security) error {
	return c.m.Runtime.ApplySecurity(ctx, instanceID, sec)
}

func (c currentRuntime) ApplyConfig(ctx context.Context, instanceID string, config map[string]string) error {
	return c.m.Runtime.ApplyConfig(ctx, instanceID, config)
}

func (c currentRuntime) RollOrder(ctx context.Context, instanceID string) ([]int32, error) {
	return c.m.Runtime.RollOrder(ctx, instanceID)
}

func (c currentRuntime) CreateTopic(ctx context.Context, instanceID string, t broker.TopicSpec) error {
	return c.m.Runtime.CreateTopic(ctx, instanceID, t)
}

func (c currentRuntime) DeleteTopic(ctx context.Context, instanceID, topic string) error {
	return c.m.Runtime.DeleteTopic(ctx, instanceID, topic)
}

func (c currentRuntime) CreatePartitions(ctx context.Context, instanceID, topic string, total int32) error {
	return c.m.Runtime.CreatePartitions(ctx, instanceID, topic, total)
}

func (c currentRuntime) AddPartitions(ctx context.Context, instanceID, topic string, add, max int32) (int32, error) {
	return c.m.Runtime.AddPartitions(ctx, instanceID, topic, add, max)
}

func (c currentRuntime) Topics(ctx context.Context, instanceID string) ([]broker.TopicState, error) {
	return c.m.Runtime.Topics(ctx, instanceID)
}

func (c currentRuntime) SetTopicConfig(ctx context.Context, instanceID, topic, name, value string) (string, error) {
	return c.m.Runtime.SetTopicConfig(ctx, instanceID, topic, name, value)
}

func (c currentRuntime) Groups(ctx context.Context, instanceID string) ([]kafkaplane.GroupState, error) {
	return c.m.Runtime.Groups(ctx, instanceID)
}

func (c currentRuntime) ConsumedTimes(ctx context.Context, instanceID string, offsets []kafkaplane.GroupOffset) (map[kafkaplane.TopicPartition]time.Time, error) {
	return c.m.Runtime.ConsumedTimes(ctx, instanceID, offsets)
}

func (c currentRuntime) ResetOffsets(ctx context.Context, instanceID, group string, r kafkaplane.OffsetReset) ([]kafkaplane.GroupOffset, error) {
	return c.m.Runtime.ResetOffsets(ctx, instanceID, group, r)
}

func (c currentRuntime) ReadRecords(ctx context.Context, instanceID string, q kafkaplane.RecordQuery) ([]kafkaplane.Record, error) {
	return c.m.Runtime.ReadRecords(ctx, instanceID, q)
}

func (c currentRuntime) Observed(ctx context.Context, instanceID string) (kafkaplane.Observations, error) {
	return c.m.Runtime.Observed(ctx, instanceID)
}

func (c currentRuntime) DiskUsed(ctx context.Context, instanceID string) (int64, error) {
	return c.m.Runtime.DiskUsed(ctx, instanceID)
}

// InjectsFaults: currentRuntime stands for the embedded runtimes only
// (the kafka and fake runtimes, both FaultInjectors); shared runtimes
// such as Strimzi reach the handlers unwrapped.
func (c currentRuntime) InjectsFaults() {}

// Close is the process's business (dataPlaneOwner.close), not the API's.
func (c currentRuntime) Close() error { return nil }
