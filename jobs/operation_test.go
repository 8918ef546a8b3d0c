package jobs

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/broker"
	"github.com/kafkaplane/kafkaplane/sqlstore"
)

// upgradeOp builds an upgrade operation in state with the ROLL_BROKER
// steps of the given brokers COMPLETE, created at minute m.
func upgradeOp(id, inst, target string, state kafkaplane.OperationState, m int, rolled ...int32) *kafkaplane.Operation {
	in := newInstance(inst, "acct1", "0.10.2", "0.10.2-1.1.0", 3)
	op := NewUpgradeOperation(in, kafkaplane.UpgradePlan{TargetVersion: target}, id, time.Date(2026, 1, 1, 0, m, 0, 0, time.UTC))
	op.State = state
	for i, s := range op.Steps {
		for _, b := range rolled {
			if s.Name == StepRollBroker && s.BrokerID == b {
				op.Steps[i].Status = kafkaplane.StepComplete
			}
		}
	}
	return op
}

func withStep(op *kafkaplane.Operation, broker int32, st kafkaplane.StepStatus) *kafkaplane.Operation {
	for i, s := range op.Steps {
		if s.Name == StepRollBroker && s.BrokerID == broker {
			op.Steps[i].Status = st
		}
	}
	return op
}

func TestSpecFor(t *testing.T) {
	const id = "alikafka_post-cn-spec"
	const (
		pending  = kafkaplane.OperationPending
		running  = kafkaplane.OperationInProgress
		complete = kafkaplane.OperationComplete
		failed   = kafkaplane.OperationFailed
	)
	for _, tc := range []struct {
		name    string
		version string // the instance's version
		ops     []*kafkaplane.Operation
		want    map[int32]string
	}{
		{name: "no operations", version: "0.10.2"},
		{name: "start operation only", version: "2.2.0",
			ops: []*kafkaplane.Operation{NewStartOperation(newInstance(id, "acct1", "2.2.0", "2.2.0-1.1.0", 3), "s", time.Time{})}},
		{name: "pending upgrade", version: "0.10.2",
			ops: []*kafkaplane.Operation{upgradeOp("u1", id, "2.2.0", pending, 1)}},
		{name: "upgrade in progress", version: "0.10.2",
			ops:  []*kafkaplane.Operation{upgradeOp("u1", id, "2.2.0", running, 1, 2, 0)},
			want: map[int32]string{0: "2.2.0", 2: "2.2.0"}},
		{name: "steps in progress or failed are not rolled", version: "0.10.2",
			ops:  []*kafkaplane.Operation{withStep(withStep(upgradeOp("u1", id, "2.2.0", running, 1, 2), 0, kafkaplane.StepInProgress), 1, kafkaplane.StepFailed)},
			want: map[int32]string{2: "2.2.0"}},
		{name: "failed upgrade keeps its rolled brokers", version: "0.10.2",
			ops:  []*kafkaplane.Operation{upgradeOp("u1", id, "2.2.0", failed, 1, 0)},
			want: map[int32]string{0: "2.2.0"}},
		{name: "completed upgrade", version: "2.2.0",
			ops: []*kafkaplane.Operation{upgradeOp("u1", id, "2.2.0", complete, 1, 0, 1, 2)}},
		{name: "minor upgrade in progress", version: "2.2.0",
			ops: []*kafkaplane.Operation{upgradeOp("u1", id, "2.2.0", running, 1, 0, 1)}},
		{name: "retry after a failure has not reached the rolled broker", version: "0.10.2",
			ops: []*kafkaplane.Operation{
				upgradeOp("u2", id, "2.2.0", running, 2, 2),
				upgradeOp("u1", id, "2.2.0", failed, 1, 0),
			},
			want: map[int32]string{0: "2.2.0", 2: "2.2.0"}},
		{name: "failure then completed retry", version: "2.2.0",
			ops: []*kafkaplane.Operation{
				upgradeOp("u1", id, "2.2.0", failed, 1, 0),
				upgradeOp("u2", id, "2.2.0", complete, 2, 0, 1, 2),
			}},
		{name: "operations of another instance", version: "0.10.2",
			ops: []*kafkaplane.Operation{upgradeOp("u1", "alikafka_post-cn-other", "2.2.0", running, 1, 0)}},
		{name: "unknown broker ids are dropped", version: "0.10.2",
			ops: []*kafkaplane.Operation{func() *kafkaplane.Operation {
				op := upgradeOp("u1", id, "2.2.0", running, 1, 1)
				op.Steps = append(op.Steps, kafkaplane.OperationStep{Name: StepRollBroker, BrokerID: 7, Status: kafkaplane.StepComplete})
				return op
			}()},
			want: map[int32]string{1: "2.2.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inst := newInstance(id, "acct1", tc.version, "m", 3)
			got := SpecFor(inst, tc.ops)
			want := broker.Spec{
				InstanceID:     id,
				Version:        tc.version,
				Minor:          "m",
				Ports:          []int{19092, 19093, 19094},
				Config:         map[string]string{"kafka.log.retention.hours": "72"},
				BrokerVersions: tc.want,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("SpecFor (-want +got):\n%s", diff)
			}
			got.Ports[0], got.Config["x"] = 1, "y"
			if inst.BrokerPorts[0] != 19092 || inst.Config["x"] != "" {
				t.Error("SpecFor shares the instance's ports or config")
			}
		})
	}
}

func TestReorderRolls(t *testing.T) {
	for _, tc := range []struct {
		name  string
		done  []int32 // brokers already rolled
		order []int32
		want  []string
	}{
		{"controller last", nil, []int32{1, 2, 0},
			[]string{"INITIALIZE_UPDATE", "ROLL_BROKER/1", "ROLL_BROKER/2", "ROLL_BROKER/0", "FINALIZE_UPDATE"}},
		{"unknown brokers last, in id order", nil, []int32{2},
			[]string{"INITIALIZE_UPDATE", "ROLL_BROKER/2", "ROLL_BROKER/0", "ROLL_BROKER/1", "FINALIZE_UPDATE"}},
		{"extra and repeated ids ignored", nil, []int32{9, 1, 1, 0, 2},
			[]string{"INITIALIZE_UPDATE", "ROLL_BROKER/1", "ROLL_BROKER/0", "ROLL_BROKER/2", "FINALIZE_UPDATE"}},
		{"completed rolls stay put", []int32{0}, []int32{2, 1, 0},
			[]string{"INITIALIZE_UPDATE", "ROLL_BROKER/0", "ROLL_BROKER/2", "ROLL_BROKER/1", "FINALIZE_UPDATE"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op := upgradeOp("u", "i", "2.2.0", kafkaplane.OperationInProgress, 0, tc.done...)
			reorderRolls(op.Steps, tc.order)
			var got []string
			for _, s := range op.Steps {
				n := s.Name
				if s.BrokerID >= 0 {
					n += "/" + string(rune('0'+s.BrokerID))
				}
				got = append(got, n)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("order (-want +got):\n%s", diff)
			}
		})
	}
}

// TestHeartbeat: a step that outlasts the lease keeps it by heartbeats,
// so the operation is not given up while a broker takes long to restart.
func TestHeartbeat(t *testing.T) {
	db := openDB(t, dbPath(t))
	id := "alikafka_post-cn-slow"
	inst := create(t, db, newInstance(id, "acct1", "0.10.2", "0.10.2-1.1.0", 1), 5, 2)
	op := acceptUpgrade(t, db, inst, "2.2.0", "op-1", time.Now())
	blocked, release := make(chan struct{}), make(chan struct{})
	fake := broker.NewFake()
	fake.OnCall = func(call string) {
		if call == "restart "+id+" 0 2.2.0" {
			close(blocked)
			<-release
		}
	}
	cfg := config(t, db, fake, "node-a")
	cfg.Lease = 60 * time.Millisecond
	start(t, cfg).Wake()
	<-blocked
	first := findOp(t, db, "acct1", op.ID)
	deadline := time.Now().Add(wait)
	for {
		cur := findOp(t, db, "acct1", op.ID)
		if cur.ModifyIndex >= first.ModifyIndex+2 && cur.LeaseUntil.After(first.LeaseUntil) && cur.LeaseOwner == "node-a" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no heartbeat: index %d → %d, lease %v → %v", first.ModifyIndex, cur.ModifyIndex, first.LeaseUntil, cur.LeaseUntil)
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	got := waitDone(t, db, "acct1", op.ID)
	if got.State != kafkaplane.OperationComplete || got.Attempts != 1 {
		t.Errorf("operation %s after %d attempts", got.State, got.Attempts)
	}
}

// renamingStore is the real store with one interference: armed, its next
// FindInstance is followed by a rename of that instance through the same
// store, as an API call racing the worker would do.
type renamingStore struct {
	*sqlstore.DB
	armed atomic.Bool
}

func (s *renamingStore) FindInstance(ctx context.Context, account, region, id string) (*kafkaplane.Instance, error) {
	inst, err := s.DB.FindInstance(ctx, account, region, id)
	if err == nil && s.armed.Swap(false) {
		other := *inst
		other.Name = "renamed"
		if err := s.DB.UpdateInstance(ctx, &other); err != nil {
			return nil, err
		}
	}
	return inst, err
}

// TestInstanceChangedWhileFinishing: an API write to the instance between
// the worker's read and its finishing transaction makes that transaction
// lose its compare-and-set on the instance; the worker reads the instance
// again and finishes, keeping the rename.
func TestInstanceChangedWhileFinishing(t *testing.T) {
	db := openDB(t, dbPath(t))
	store := &renamingStore{DB: db}
	id := "alikafka_post-cn-rename"
	inst := create(t, db, newInstance(id, "acct1", "0.10.2", "0.10.2-1.1.0", 2), 5, 2)
	op := acceptUpgrade(t, db, inst, "2.2.0", "op-1", time.Now())
	cfg := config(t, db, broker.NewFake(), "node-a")
	cfg.Instances = store
	cfg.Observer = func(_ *kafkaplane.Operation, s kafkaplane.OperationStep) {
		if s.Name == StepRollBroker && s.BrokerID == 1 {
			store.armed.Store(true) // the next read is the finishing one
		}
	}
	start(t, cfg).Wake()
	if got := waitDone(t, db, "acct1", op.ID); got.State != kafkaplane.OperationComplete {
		t.Fatalf("operation %s %s", got.State, got.ErrorMessage)
	}
	if store.armed.Load() {
		t.Fatal("the rename never happened")
	}
	after := reload(t, db, inst)
	if after.Name != "renamed" || after.Version != "2.2.0" || after.ServiceStatus != 5 || after.ViewStatus != 2 {
		t.Errorf("instance %q %s %d/%d", after.Name, after.Version, after.ServiceStatus, after.ViewStatus)
	}
}

// TestInstanceDeleted: an operation whose instance row is gone fails with
// the store's not-found code instead of being retried forever.
func TestInstanceDeleted(t *testing.T) {
	db := openDB(t, dbPath(t))
	inst := create(t, db, newInstance("alikafka_post-cn-gone", "acct1", "0.10.2", "0.10.2-1.1.0", 2), 5, 2)
	op := acceptUpgrade(t, db, inst, "2.2.0", "op-1", time.Now())
	if err := db.DeleteInstance(context.Background(), reload(t, db, inst)); err != nil {
		t.Fatal(err)
	}
	fake := broker.NewFake()
	start(t, config(t, db, fake, "node-a")).Wake()
	got := waitDone(t, db, "acct1", op.ID)
	if got.State != kafkaplane.OperationFailed || got.ErrorCode != kafkaplane.CodeInstanceNotFound || !got.LeaseUntil.IsZero() {
		t.Errorf("operation %s %s lease until %v", got.State, got.ErrorCode, got.LeaseUntil)
	}
	if calls := fake.Calls(); len(calls) != 0 {
		t.Errorf("runtime called for a deleted instance: %v", calls)
	}
}

// TestUnsupportedOperation: an operation this worker cannot run (a type or
// step from a newer version) fails instead of blocking the queue, and the
// operation behind it still runs.
func TestUnsupportedOperation(t *testing.T) {
	db := openDB(t, dbPath(t))
	now := time.Now()
	a := create(t, db, newInstance("alikafka_post-cn-odd1", "acct1", "0.10.2", "0.10.2-1.1.0", 1), 5, 2)
	b := create(t, db, newInstance("alikafka_post-cn-odd2", "acct1", "0.10.2", "0.10.2-1.1.0", 1), 5, 2)
	c := create(t, db, newInstance("alikafka_post-cn-odd3", "acct1", "0.10.2", "0.10.2-1.1.0", 1), 5, 2)
	odd := NewUpgradeOperation(a, kafkaplane.UpgradePlan{TargetVersion: "2.2.0"}, "op-1", now)
	odd.Type = "RESIZE_INSTANCE"
	if err := db.StartOperation(context.Background(), reload(t, db, a), odd); err != nil {
		t.Fatal(err)
	}
	step := acceptUpgrade(t, db, b, "2.2.0", "op-2", now.Add(time.Millisecond))
	ok := acceptUpgrade(t, db, c, "2.2.0", "op-3", now.Add(2*time.Millisecond))
	o := findOp(t, db, "acct1", step.ID)
	o.Steps[1].Name = "REBALANCE"
	if err := db.UpdateOperation(context.Background(), o); err != nil {
		t.Fatal(err)
	}

	cfg := config(t, db, broker.NewFake(), "node-a")
	cfg.Concurrency = 1
	start(t, cfg).Wake()
	if got := waitDone(t, db, "acct1", odd.ID); got.State != kafkaplane.OperationFailed || got.ErrorCode != kafkaplane.CodeUnsupportedOperation {
		t.Errorf("odd type: %s %s", got.State, got.ErrorCode)
	}
	got := waitDone(t, db, "acct1", step.ID)
	if got.State != kafkaplane.OperationFailed || got.ErrorCode != kafkaplane.CodeUnsupportedStep || got.Steps[1].Status != kafkaplane.StepFailed {
		t.Errorf("odd step: %s %s %v", got.State, got.ErrorCode, stepNames(got.Steps))
	}
	if in := reload(t, db, b); in.ServiceStatus != 5 || in.ViewStatus != 102 {
		t.Errorf("instance of the odd step %d/%d", in.ServiceStatus, in.ViewStatus)
	}
	if got := waitDone(t, db, "acct1", ok.ID); got.State != kafkaplane.OperationComplete {
		t.Errorf("operation behind them: %s", got.State)
	}
}
