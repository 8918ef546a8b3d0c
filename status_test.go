package kafkaplane

import "testing"

// TestStateTable checks the invariants the state table promises: every
// state has a pair no other live state has, StateOf reads every pair back,
// and every move's endpoints are states of the table.
func TestStateTable(t *testing.T) {
	seen := map[StatusPair]InstanceState{}
	for s, i := range states {
		if s == StateDeleted {
			continue
		}
		if o, dup := seen[i.pair]; dup {
			t.Errorf("%v and %v share the pair %v", s, o, i.pair)
		}
		seen[i.pair] = s
		if got, ok := StateOf(i.pair); !ok || got != s {
			t.Errorf("StateOf(%v) = %v, %v; want %v", i.pair, got, ok, s)
		}
	}
	for _, tr := range Transitions {
		if _, ok := states[tr.From]; !ok {
			t.Errorf("%v starts from an unknown state", tr)
		}
		if _, ok := states[tr.To]; !ok {
			t.Errorf("%v ends in an unknown state", tr)
		}
	}
	if got := (Transition{StateRunning, EventRelease, StateReleased}).String(); got != "Running(5/2) --Release--> Released(15/6)" {
		t.Errorf("String() = %q", got)
	}
	// A released row written before ServiceStatus 15 (10 with 6) is still
	// released, so DeleteInstance can remove it.
	if s, ok := StateOf(StatusPair{ServiceStatusReleased, ViewStatusReleased}); !ok || s != StateReleased {
		t.Errorf("StateOf(10/6) = %v, %v", s, ok)
	}
}

func TestApply(t *testing.T) {
	inst := &Instance{ID: "i", ServiceStatus: ServiceStatusRunning, ViewStatus: ViewStatusRunning}
	if err := inst.Apply(EventRelease); err != nil {
		t.Fatal(err)
	}
	if inst.ServiceStatus != 15 || inst.ViewStatus != 6 || inst.State() != StateReleased {
		t.Fatalf("after release: %d/%d", inst.ServiceStatus, inst.ViewStatus)
	}
	if err := inst.Apply(EventReopen); ErrorCode(err) != CodeInstanceStatus {
		t.Fatalf("reopen of a released instance: %v", err)
	}
	if inst.State() != StateReleased {
		t.Fatalf("a refused move changed the state to %v", inst.State())
	}
	if err := inst.Apply(EventDelete); err != nil || inst.ServiceStatus != 10 {
		t.Fatalf("delete: %v, %d", err, inst.ServiceStatus)
	}
}

// TestFinish checks that the end of each operation type moves the
// instance it ran on as the table says, and nothing else.
func TestFinish(t *testing.T) {
	for _, c := range []struct {
		typ       OperationType
		from      InstanceState
		succeeded bool
		want      InstanceState
	}{
		{OperationStartInstance, StateDeploying, true, StateRunning},
		{OperationStartInstance, StateDeploying, false, StateDeployFailed},
		{OperationUpgradeInstanceVersion, StateUpgrading, true, StateRunning},
		{OperationUpgradeInstanceVersion, StateUpgrading, false, StateUpgradeFailed},
	} {
		p := c.from.Pair()
		inst := &Instance{ID: "i", ServiceStatus: p.Service, ViewStatus: p.View}
		if err := inst.Finish(c.typ, c.succeeded); err != nil || inst.State() != c.want {
			t.Errorf("%s from %v (succeeded %v): %v, %v; want %v", c.typ, c.from, c.succeeded, inst.State(), err, c.want)
		}
	}
	// An instance that left the operation's state (released meanwhile)
	// keeps its state.
	p := StateReleased.Pair()
	inst := &Instance{ID: "i", ServiceStatus: p.Service, ViewStatus: p.View}
	if err := inst.Finish(OperationUpgradeInstanceVersion, true); ErrorCode(err) != CodeInstanceStatus || inst.State() != StateReleased {
		t.Errorf("finish on a released instance: %v, %v", err, inst.State())
	}
	if err := inst.Finish("NO_SUCH_TYPE", true); ErrorCode(err) != CodeUnsupportedOperation {
		t.Errorf("unknown type: %v", err)
	}
}
