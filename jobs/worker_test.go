package jobs

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/broker"
)

func TestStartInstance(t *testing.T) {
	db := openDB(t, dbPath(t))
	fake := broker.NewFake()
	var obs observed
	cfg := config(t, db, fake, "node-a")
	cfg.Observer = obs.observe
	inst := create(t, db, newInstance("alikafka_post-cn-start1", "acct1", "2.2.0", "2.2.0-1.1.0", 3), 0, 0)
	op := acceptStart(t, db, inst, "op-1", time.Now())

	w := start(t, cfg)
	w.Wake()
	got := waitDone(t, db, "acct1", op.ID)

	if got.State != kafkaplane.OperationComplete || got.ErrorCode != "" {
		t.Fatalf("operation %s %s %s", got.State, got.ErrorCode, got.ErrorMessage)
	}
	if diff := cmp.Diff([]string{"DEPLOY_BROKERS:COMPLETE"}, stepNames(got.Steps)); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	checkTimestamps(t, got)
	after := reload(t, db, inst)
	if after.ServiceStatus != 5 || after.ViewStatus != 2 || after.Version != "2.2.0" || after.MinorVersion != "2.2.0-1.1.0" {
		t.Errorf("instance %d/%d %s %s, want 5/2 2.2.0 2.2.0-1.1.0", after.ServiceStatus, after.ViewStatus, after.Version, after.MinorVersion)
	}
	want := []string{
		"start alikafka_post-cn-start1",
		"check alikafka_post-cn-start1 0 2.2.0",
		"check alikafka_post-cn-start1 1 2.2.0",
		"check alikafka_post-cn-start1 2 2.2.0",
	}
	if diff := cmp.Diff(want, fake.Calls()); diff != "" {
		t.Errorf("runtime calls (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"DEPLOY_BROKERS:COMPLETE"}, obs.wait(t, 1)); diff != "" {
		t.Errorf("observed (-want +got):\n%s", diff)
	}
}

// checkTimestamps verifies that a finished operation and each of its
// finished steps carry their times in order.
func checkTimestamps(t *testing.T, op *kafkaplane.Operation) {
	t.Helper()
	if op.CreatedAt.IsZero() || op.FinishedAt.IsZero() || op.FinishedAt.Before(op.CreatedAt) {
		t.Errorf("operation times created %v finished %v", op.CreatedAt, op.FinishedAt)
	}
	for _, s := range op.Steps {
		if s.Status != kafkaplane.StepComplete && s.Status != kafkaplane.StepFailed {
			continue
		}
		if s.StartedAt.IsZero() || s.FinishedAt.IsZero() || s.FinishedAt.Before(s.StartedAt) {
			t.Errorf("step %s/%d times started %v finished %v", s.Name, s.BrokerID, s.StartedAt, s.FinishedAt)
		}
	}
}

func TestUpgrade(t *testing.T) {
	for _, tc := range []struct {
		name           string
		version, minor string
		target         string
		wantMinor      string
	}{
		{"major from latest minor", "0.10.2", "0.10.2-1.1.0", "2.2.0", "2.2.0-1.1.0"},
		{"major from older minor", "0.10.2", "0.10.2-1.0.0", "2.2.0", "2.2.0-1.1.0"},
		{"minor 2.2.0", "2.2.0", "2.2.0-1.0.0", "2.2.0", "2.2.0-1.1.0"},
		{"minor 0.10.2", "0.10.2", "0.10.2-1.0.0", "0.10.2", "0.10.2-1.1.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t, dbPath(t))
			fake := &orderedFake{Fake: broker.NewFake(), order: []int32{2, 0, 1}}
			var obs observed
			cfg := config(t, db, fake, "node-a")
			cfg.Observer = obs.observe
			id := "alikafka_post-cn-up1"
			inst := create(t, db, newInstance(id, "acct1", tc.version, tc.minor, 3), 0, 0)
			w := start(t, cfg)

			// The Terraform flow: start, wait for 5, upgrade, wait for 5.
			startOp := acceptStart(t, db, inst, "op-1", time.Now())
			w.Wake()
			waitDone(t, db, "acct1", startOp.ID)
			before := len(fake.Calls())

			op := acceptUpgrade(t, db, inst, tc.target, "op-2", time.Now())
			if got := reload(t, db, inst); got.ServiceStatus != 8 || got.ViewStatus != 7 {
				t.Fatalf("accepted upgrade leaves the instance %d/%d, want 8/7", got.ServiceStatus, got.ViewStatus)
			}
			w.Wake()
			got := waitDone(t, db, "acct1", op.ID)

			if got.State != kafkaplane.OperationComplete {
				t.Fatalf("operation %s %s %s", got.State, got.ErrorCode, got.ErrorMessage)
			}
			wantSteps := []string{
				"INITIALIZE_UPDATE:COMPLETE",
				"ROLL_BROKER/2:COMPLETE", "ROLL_BROKER/0:COMPLETE", "ROLL_BROKER/1:COMPLETE",
				"FINALIZE_UPDATE:COMPLETE",
			}
			if diff := cmp.Diff(wantSteps, stepNames(got.Steps)); diff != "" {
				t.Errorf("stored steps (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantSteps, obs.wait(t, 6)[1:]); diff != "" {
				t.Errorf("observed steps (-want +got):\n%s", diff)
			}
			checkTimestamps(t, got)
			if got.SourceVersion != tc.version || got.SourceMinor != tc.minor || got.TargetVersion != tc.target || got.TargetMinor != tc.wantMinor {
				t.Errorf("operation versions %s/%s → %s/%s", got.SourceVersion, got.SourceMinor, got.TargetVersion, got.TargetMinor)
			}
			if got.Attempts != 1 {
				t.Errorf("attempts = %d, want 1", got.Attempts)
			}

			want := append([]string{"start " + id}, rollCalls(id, tc.target, 2, 0, 1)...)
			if diff := cmp.Diff(want, fake.Calls()[before:]); diff != "" {
				t.Errorf("runtime calls (-want +got):\n%s", diff)
			}
			after := reload(t, db, inst)
			if after.ServiceStatus != 5 || after.ViewStatus != 2 || after.Version != tc.target || after.MinorVersion != tc.wantMinor {
				t.Errorf("instance %d/%d %s %s, want 5/2 %s %s", after.ServiceStatus, after.ViewStatus, after.Version, after.MinorVersion, tc.target, tc.wantMinor)
			}
			for b, v := range fake.BrokerVersions(id) {
				if v != tc.target {
					t.Errorf("broker %d runs %s, want %s", b, v, tc.target)
				}
			}
			ops, err := db.FindOperations(context.Background(), kafkaplane.OperationFilter{AccountID: "acct1", InstanceID: id})
			if err != nil {
				t.Fatal(err)
			}
			if spec := SpecFor(after, ops); spec.BrokerVersions != nil || spec.Version != tc.target {
				t.Errorf("SpecFor after the upgrade: version %s, per broker %v", spec.Version, spec.BrokerVersions)
			}
		})
	}
}

func TestUpgradeFailure(t *testing.T) {
	db := openDB(t, dbPath(t))
	id := "alikafka_post-cn-fail1"
	var failing atomic.Bool
	var attempts atomic.Int32
	failing.Store(true)
	fake := broker.NewFake()
	fake.FailOn = func(call string) error {
		if failing.Load() && call == "restart "+id+" 1 2.2.0" {
			attempts.Add(1)
			return errors.New("broker 1 would not come back")
		}
		return nil
	}
	var obs observed
	cfg := config(t, db, fake, "node-a")
	cfg.StepRetries = 2
	cfg.Observer = obs.observe
	inst := create(t, db, newInstance(id, "acct1", "0.10.2", "0.10.2-1.0.0", 3), 5, 2)
	op := acceptUpgrade(t, db, inst, "2.2.0", "op-1", time.Now())

	w := start(t, cfg)
	w.Wake()
	got := waitDone(t, db, "acct1", op.ID)

	if got.State != kafkaplane.OperationFailed || got.ErrorCode != "ROLL_BROKER_FAILED" {
		t.Fatalf("operation %s %s, want FAILED ROLL_BROKER_FAILED", got.State, got.ErrorCode)
	}
	if !strings.Contains(got.ErrorMessage, "would not come back") || !strings.Contains(got.ErrorMessage, "after 3 attempts") {
		t.Errorf("error message %q", got.ErrorMessage)
	}
	if n := attempts.Load(); n != 3 {
		t.Errorf("restart of broker 1 tried %d times, want 3 (1 + StepRetries)", n)
	}
	wantSteps := []string{
		"INITIALIZE_UPDATE:COMPLETE", "ROLL_BROKER/0:COMPLETE", "ROLL_BROKER/1:FAILED",
		"ROLL_BROKER/2:PENDING", "FINALIZE_UPDATE:PENDING",
	}
	if diff := cmp.Diff(wantSteps, stepNames(got.Steps)); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	if d := got.Steps[2].Detail; !strings.Contains(d, "would not come back") {
		t.Errorf("failed step detail %q", d)
	}
	if o := obs.wait(t, 3); o[len(o)-1] != "ROLL_BROKER/1:FAILED" {
		t.Errorf("observer saw %v", o)
	}
	checkTimestamps(t, got)
	after := reload(t, db, inst)
	if after.ServiceStatus != 5 || after.ViewStatus != 102 || after.Version != "0.10.2" || after.MinorVersion != "0.10.2-1.0.0" {
		t.Errorf("instance %d/%d %s %s, want 5/102 0.10.2 0.10.2-1.0.0", after.ServiceStatus, after.ViewStatus, after.Version, after.MinorVersion)
	}
	ops, err := db.FindOperations(context.Background(), kafkaplane.OperationFilter{AccountID: "acct1", InstanceID: id})
	if err != nil {
		t.Fatal(err)
	}
	spec := SpecFor(after, ops)
	if diff := cmp.Diff(map[int32]string{0: "2.2.0"}, spec.BrokerVersions); diff != "" {
		t.Errorf("SpecFor after the failure (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[int32]string{0: "2.2.0", 1: "0.10.2", 2: "0.10.2"}, fake.BrokerVersions(id)); diff != "" {
		t.Errorf("brokers (-want +got):\n%s", diff)
	}

	// The instance serves again, so the upgrade may be retried; it rolls
	// every broker, the one already on 2.2.0 harmlessly.
	failing.Store(false)
	retry := acceptUpgrade(t, db, inst, "2.2.0", "op-2", time.Now().Add(time.Second))
	w.Wake()
	if got := waitDone(t, db, "acct1", retry.ID); got.State != kafkaplane.OperationComplete {
		t.Fatalf("retry %s %s", got.State, got.ErrorMessage)
	}
	after = reload(t, db, inst)
	if after.ServiceStatus != 5 || after.ViewStatus != 2 || after.Version != "2.2.0" {
		t.Errorf("after retry instance %d/%d %s", after.ServiceStatus, after.ViewStatus, after.Version)
	}
	ops, _ = db.FindOperations(context.Background(), kafkaplane.OperationFilter{AccountID: "acct1", InstanceID: id})
	if spec := SpecFor(after, ops); spec.BrokerVersions != nil {
		t.Errorf("SpecFor after the retry: %v", spec.BrokerVersions)
	}
}

func TestStartFailure(t *testing.T) {
	db := openDB(t, dbPath(t))
	id := "alikafka_post-cn-fail2"
	fake := broker.NewFake()
	fake.FailOn = func(call string) error {
		if call == "check "+id+" 1 2.2.0" {
			return errors.New("no ApiVersions answer")
		}
		return nil
	}
	cfg := config(t, db, fake, "node-a")
	cfg.StepRetries = 1
	inst := create(t, db, newInstance(id, "acct1", "2.2.0", "2.2.0-1.1.0", 2), 0, 0)
	op := acceptStart(t, db, inst, "op-1", time.Now())

	w := start(t, cfg)
	w.Wake()
	got := waitDone(t, db, "acct1", op.ID)
	if got.State != kafkaplane.OperationFailed || got.ErrorCode != "DEPLOY_BROKERS_FAILED" {
		t.Fatalf("operation %s %s", got.State, got.ErrorCode)
	}
	after := reload(t, db, inst)
	if after.ServiceStatus != 0 || after.ViewStatus != 101 {
		t.Errorf("instance %d/%d, want 0/101", after.ServiceStatus, after.ViewStatus)
	}
	calls := fake.Calls()
	if calls[len(calls)-1] != "stop "+id {
		t.Errorf("brokers of the failed deploy not stopped: %v", calls)
	}
}

// TestResume interrupts an upgrade at every point and resumes it with a
// new worker: after a crash (the store is closed under the worker, so
// nothing more is recorded, and the process restarts with the same Owner
// before its lease expires) and after a graceful stop (the context is
// cancelled; another Owner resumes at once).
func TestResume(t *testing.T) {
	const id = "alikafka_post-cn-resume"
	type point struct {
		name     string
		call     string // cut after this runtime call succeeded
		observed int    // or after this many steps were recorded
	}
	var points []point
	points = append(points, point{name: "after start", call: "start " + id})
	for _, b := range []string{"2", "0", "1"} {
		points = append(points,
			point{name: "after restart " + b, call: "restart " + id + " " + b + " 2.2.0"},
			point{name: "after check " + b, call: "check " + id + " " + b + " 2.2.0"})
	}
	for k := 1; k <= 5; k++ {
		points = append(points, point{name: "after recording step " + string(rune('0'+k)), observed: k})
	}

	for _, crash := range []bool{true, false} {
		for _, p := range points {
			mode := "crash"
			if !crash {
				mode = "stop"
			}
			t.Run(mode+" "+p.name, func(t *testing.T) {
				testResume(t, id, crash, p.call, p.observed)
			})
		}
	}
}

func testResume(t *testing.T, id string, crash bool, cutCall string, cutObserved int) {
	ctx := context.Background()
	path := dbPath(t)
	db := openDB(t, path)
	clk := newClock()
	inst := create(t, db, newInstance(id, "acct1", "0.10.2", "0.10.2-1.1.0", 3), 5, 2)
	op := acceptUpgrade(t, db, inst, "2.2.0", "op-1", clk.Now())

	// First life: cut at the chosen point.
	var cut atomic.Bool
	life1, kill := context.WithCancel(ctx)
	defer kill()
	crashDB := db
	interrupt := func() {
		if cut.Swap(true) {
			return
		}
		if crash {
			crashDB.Close()
		}
		kill()
	}
	fake1 := &orderedFake{Fake: broker.NewFake(), order: []int32{2, 0, 1}}
	if cutCall != "" {
		fake1.OnCall = func(call string) {
			if call == cutCall {
				interrupt()
			}
		}
	}
	var seen atomic.Int32
	cfg1 := config(t, db, fake1, "node-a")
	cfg1.Now = clk.Now
	cfg1.Logger = testLogger(t).With("life", 1)
	cfg1.Observer = func(*kafkaplane.Operation, kafkaplane.OperationStep) {
		if int(seen.Add(1)) == cutObserved {
			interrupt()
		}
	}
	w1 := startCtx(t, life1, cfg1)
	w1.Wake()
	w1.waitStopped(t)
	if !cut.Load() {
		t.Fatal("the cut point was never reached")
	}

	// What the store kept decides what must run again.
	if crash {
		db = openDB(t, path)
	}
	kept := findOp(t, db, "acct1", op.ID)
	if kept.State == kafkaplane.OperationFailed {
		t.Fatalf("interruption failed the operation: %s", kept.ErrorMessage)
	}
	if crash {
		if !kept.Done() && (kept.LeaseOwner != "node-a" || !kept.LeaseUntil.After(clk.Now())) {
			t.Fatalf("crashed worker's lease: %q until %v", kept.LeaseOwner, kept.LeaseUntil)
		}
	} else if !kept.LeaseUntil.IsZero() {
		t.Fatalf("stopped worker kept its lease until %v", kept.LeaseUntil)
	}
	var want []string
	for _, s := range kept.Steps {
		if s.Status == kafkaplane.StepComplete {
			continue
		}
		switch s.Name {
		case StepInitializeUpdate:
			want = append(want, "start "+id)
		case StepRollBroker:
			if kept.Steps[0].Status != kafkaplane.StepComplete {
				continue // added below in the order INITIALIZE_UPDATE picks
			}
			want = append(want, rollCalls(id, "2.2.0", s.BrokerID)...)
		}
	}
	if kept.Steps[0].Status != kafkaplane.StepComplete {
		want = append(want, rollCalls(id, "2.2.0", 2, 0, 1)...)
	}

	// Second life. After a crash the process restarts: a new runtime with
	// no brokers, started from SpecFor as the service does at start, and a
	// worker with the same Owner whose
	// clock has not moved, so only reclaiming its own lease lets it in.
	// After a stop any worker may continue on the running brokers.
	fake2, owner := fake1, "node-b"
	if crash {
		fake2, owner = &orderedFake{Fake: broker.NewFake(), order: []int32{2, 0, 1}}, "node-a"
	}
	cfg2 := config(t, db, fake2, owner)
	cfg2.Now = clk.Now
	cfg2.Logger = testLogger(t).With("life", 2)
	w2 := New(cfg2)
	before := len(fake2.Calls())
	if crash {
		ops, err := db.FindOperations(ctx, kafkaplane.OperationFilter{InstanceID: id})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fake2.Start(ctx, SpecFor(reload(t, db, inst), ops)); err != nil {
			t.Fatalf("start brokers: %v", err)
		}
		wantVersions := map[int32]string{0: "0.10.2", 1: "0.10.2", 2: "0.10.2"}
		if kept.Done() {
			wantVersions = map[int32]string{0: "2.2.0", 1: "2.2.0", 2: "2.2.0"}
		} else {
			for _, s := range kept.Steps {
				if s.Name == StepRollBroker && s.Status == kafkaplane.StepComplete {
					wantVersions[s.BrokerID] = "2.2.0"
				}
			}
		}
		if diff := cmp.Diff(wantVersions, fake2.BrokerVersions(id)); diff != "" {
			t.Fatalf("restored brokers (-want +got):\n%s", diff)
		}
		before = len(fake2.Calls())
	}
	r2 := &running{Worker: w2, done: make(chan error, 1)}
	rctx, cancel := context.WithCancel(ctx)
	r2.cancel = cancel
	go func() { r2.done <- w2.Run(rctx) }()
	t.Cleanup(r2.stop)
	w2.Wake()

	got := waitDone(t, db, "acct1", op.ID)
	if got.State != kafkaplane.OperationComplete {
		t.Fatalf("resumed operation %s %s %s", got.State, got.ErrorCode, got.ErrorMessage)
	}
	for _, s := range got.Steps {
		if s.Status != kafkaplane.StepComplete {
			t.Errorf("step %s/%d is %s", s.Name, s.BrokerID, s.Status)
		}
	}
	checkTimestamps(t, got)
	if diff := cmp.Diff(want, fake2.Calls()[before:], cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("runtime calls after resuming (-want +got):\n%s", diff)
	}
	after := reload(t, db, inst)
	if after.ServiceStatus != 5 || after.ViewStatus != 2 || after.Version != "2.2.0" || after.MinorVersion != "2.2.0-1.1.0" {
		t.Errorf("instance %d/%d %s %s, want 5/2 2.2.0 2.2.0-1.1.0", after.ServiceStatus, after.ViewStatus, after.Version, after.MinorVersion)
	}
	for b, v := range fake2.BrokerVersions(id) {
		if v != "2.2.0" {
			t.Errorf("broker %d runs %s", b, v)
		}
	}
	insts, err := db.FindInstances(ctx, kafkaplane.InstanceFilter{AccountID: "acct1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range insts {
		if in.ServiceStatus == kafkaplane.ServiceStatusUpgrading {
			t.Errorf("instance %s left upgrading", in.ID)
		}
	}
}

// TestLeaseTakeover: a node that died holding a lease blocks other
// workers until the lease expires, and then one takes the operation over.
func TestLeaseTakeover(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, dbPath(t))
	clk := newClock()
	id := "alikafka_post-cn-lease"
	inst := create(t, db, newInstance(id, "acct1", "0.10.2", "0.10.2-1.1.0", 3), 5, 2)
	op := acceptUpgrade(t, db, inst, "2.2.0", "op-1", clk.Now())
	claimed, err := db.ClaimOperation(ctx, "node-a", clk.Now(), DefaultLease)
	if err != nil || claimed == nil {
		t.Fatalf("claim as the dead node: %v %v", claimed, err)
	}

	fake := broker.NewFake()
	cfg := config(t, db, fake, "node-b")
	cfg.Now = clk.Now
	w := start(t, cfg)
	w.waitPolls(t, 3)
	clk.Add(DefaultLease - time.Second)
	w.waitPolls(t, 3)
	if got := findOp(t, db, "acct1", op.ID); got.ModifyIndex != claimed.ModifyIndex || got.LeaseOwner != "node-a" {
		t.Fatalf("operation taken before the lease expired: owner %s, index %d → %d", got.LeaseOwner, claimed.ModifyIndex, got.ModifyIndex)
	}
	if calls := fake.Calls(); len(calls) != 0 {
		t.Fatalf("runtime called before the lease expired: %v", calls)
	}

	clk.Add(time.Second)
	w.Wake()
	got := waitDone(t, db, "acct1", op.ID)
	if got.State != kafkaplane.OperationComplete || got.LeaseOwner != "node-b" || got.Attempts != 2 {
		t.Errorf("operation %s owner %s attempts %d, want COMPLETE node-b 2", got.State, got.LeaseOwner, got.Attempts)
	}
}

// TestReclaimOwnLease: a node restarting with the same Owner resumes its
// operation at once, before its old lease would expire.
func TestReclaimOwnLease(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, dbPath(t))
	clk := newClock()
	inst := create(t, db, newInstance("alikafka_post-cn-own", "acct1", "0.10.2", "0.10.2-1.1.0", 3), 5, 2)
	op := acceptUpgrade(t, db, inst, "2.2.0", "op-1", clk.Now())
	if claimed, err := db.ClaimOperation(ctx, "node-a", clk.Now(), time.Hour); err != nil || claimed == nil {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	cfg := config(t, db, broker.NewFake(), "node-a")
	cfg.Now = clk.Now
	start(t, cfg).Wake()
	if got := waitDone(t, db, "acct1", op.ID); got.State != kafkaplane.OperationComplete || got.Attempts != 2 {
		t.Errorf("operation %s after %d attempts", got.State, got.Attempts)
	}
}

// TestLostLease: when another worker claims the operation while a step
// runs (our lease had expired), the first worker's next write loses its
// compare-and-set and it stops without touching the operation again.
func TestLostLease(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, dbPath(t))
	clk := newClock()
	id := "alikafka_post-cn-lost"
	inst := create(t, db, newInstance(id, "acct1", "0.10.2", "0.10.2-1.1.0", 3), 5, 2)
	op := acceptUpgrade(t, db, inst, "2.2.0", "op-1", clk.Now())

	taken := make(chan *kafkaplane.Operation, 1)
	fake := broker.NewFake()
	fake.OnCall = func(call string) {
		if call == "restart "+id+" 0 2.2.0" {
			o, err := db.ClaimOperation(ctx, "node-b", clk.Now().Add(time.Hour), DefaultLease)
			if err != nil || o == nil {
				t.Errorf("takeover claim: %v %v", o, err)
			}
			taken <- o
		}
	}
	cfg := config(t, db, fake, "node-a")
	cfg.Now = clk.Now
	w := start(t, cfg)
	w.Wake()
	var claimed *kafkaplane.Operation
	select {
	case claimed = <-taken:
	case <-time.After(wait):
		t.Fatal("the roll never started")
	}
	w.waitPolls(t, 2)
	w.stop()

	got := findOp(t, db, "acct1", op.ID)
	if claimed == nil || got.ModifyIndex != claimed.ModifyIndex || got.LeaseOwner != "node-b" {
		t.Fatalf("operation written after it was taken over: owner %s index %d", got.LeaseOwner, got.ModifyIndex)
	}
	want := []string{"start " + id, "restart " + id + " 0 2.2.0", "check " + id + " 0 2.2.0"}
	if diff := cmp.Diff(want, fake.Calls()); diff != "" {
		t.Errorf("runtime calls (-want +got):\n%s", diff)
	}
	if in := reload(t, db, inst); in.ServiceStatus != 8 {
		t.Errorf("instance status %d, want it still upgrading under node-b", in.ServiceStatus)
	}
}

// TestConcurrentWorkers: two workers with small pools share one store;
// every operation runs exactly once.
func TestConcurrentWorkers(t *testing.T) {
	db := openDB(t, dbPath(t))
	fake := broker.NewFake()
	var ids []string
	for i := range 6 {
		id := "alikafka_post-cn-many" + string(rune('a'+i))
		ids = append(ids, id)
		inst := create(t, db, newInstance(id, "acct1", "0.10.2", "0.10.2-1.1.0", 3), 5, 2)
		acceptUpgrade(t, db, inst, "2.2.0", "op-"+id, time.Now())
	}
	for _, owner := range []string{"node-a", "node-b"} {
		cfg := config(t, db, fake, owner)
		cfg.Concurrency = 2
		start(t, cfg).Wake()
	}
	for _, id := range ids {
		got := waitDone(t, db, "acct1", "op-"+id)
		if got.State != kafkaplane.OperationComplete || got.Attempts != 1 {
			t.Errorf("%s: %s after %d attempts", id, got.State, got.Attempts)
		}
	}
	calls := fake.Calls()
	for _, id := range ids {
		var mine []string
		for _, c := range calls {
			if strings.Contains(c, id+" ") || strings.HasSuffix(c, id) {
				mine = append(mine, c)
			}
		}
		want := append([]string{"start " + id}, rollCalls(id, "2.2.0", 0, 1, 2)...)
		if diff := cmp.Diff(want, mine); diff != "" {
			t.Errorf("%s calls (-want +got):\n%s", id, diff)
		}
	}
}

func TestRunLifecycle(t *testing.T) {
	db := openDB(t, dbPath(t))
	w := New(config(t, db, broker.NewFake(), "node-a"))
	w.Wake()
	w.Wake() // never blocks
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Run(context.Background()); err != nil {
		t.Errorf("Run after Close: %v", err)
	}
	if err := w.Run(context.Background()); err == nil {
		t.Error("second Run did not fail")
	}
}
