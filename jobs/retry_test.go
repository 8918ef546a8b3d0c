package jobs

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/broker"
)

// TestUnfinishedAttemptsBackOff: an upgrade whose finishing write keeps
// failing (the database refuses to change the instance) is not claimed
// again at every poll. Each claim waits out a doubling back-off stored with
// the operation; after MaxAttempts the operation fails, and once the
// database accepts writes again the instance shows 102 and the operation
// its error.
func TestUnfinishedAttemptsBackOff(t *testing.T) {
	path := dbPath(t)
	db := openDB(t, path)
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()

	clk := newClock()
	id := "alikafka_post-cn-backoff"
	inst := create(t, db, newInstance(id, "acct1", "0.10.2", "0.10.2-1.1.0", 3), 5, 2)
	op := acceptUpgrade(t, db, inst, "2.2.0", "op-1", clk.Now())
	// From now on the database refuses every change of the instance, so
	// no attempt can record the upgrade's outcome.
	if _, err := raw.Exec(`CREATE TRIGGER refuse_instance_updates BEFORE UPDATE ON instances
		BEGIN SELECT RAISE(ABORT, 'instances are read-only'); END`); err != nil {
		t.Fatal(err)
	}

	cfg := config(t, db, broker.NewFake(), "node-a")
	cfg.Now = clk.Now
	cfg.MaxAttempts = 4
	cfg.AttemptBackoff = 10 * time.Second
	cfg.AttemptBackoffMax = 25 * time.Second
	w := start(t, cfg)

	// waitAttempt waits until the n-th attempt was released with a
	// next-attempt time, and returns the wait it set.
	waitAttempt := func(n int) time.Duration {
		t.Helper()
		deadline := time.Now().Add(wait)
		for {
			got := findOp(t, db, "acct1", op.ID)
			if got.Attempts == n && got.LeaseOwner == "" && got.NextAttemptAt.After(clk.Now()) {
				return got.NextAttemptAt.Sub(clk.Now())
			}
			if got.Attempts > n || got.Done() || time.Now().After(deadline) {
				t.Fatalf("waiting for attempt %d: attempts %d, state %s, lease %q, next %v", n, got.Attempts, got.State, got.LeaseOwner, got.NextAttemptAt)
			}
			w.Wake()
			time.Sleep(time.Millisecond)
		}
	}
	wants := []time.Duration{10 * time.Second, 20 * time.Second, 25 * time.Second, 25 * time.Second}
	for n := 1; n <= len(wants); n++ {
		if got := waitAttempt(n); got != wants[n-1] {
			t.Errorf("attempt %d backs off %v, want %v", n, got, wants[n-1])
		}
		// Polls while the back-off runs claim nothing.
		w.waitPolls(t, 5)
		if got := findOp(t, db, "acct1", op.ID); got.Attempts != n {
			t.Fatalf("attempts %d during the back-off of attempt %d", got.Attempts, n)
		}
		clk.Add(wants[n-1])
	}
	// Attempt 4 was the last; failing the operation needed the refused
	// instance write too, so it stays active. Once writes are accepted, the
	// next claim fails it without running the steps again.
	if _, err := raw.Exec(`DROP TRIGGER refuse_instance_updates`); err != nil {
		t.Fatal(err)
	}
	w.Wake()
	got := waitDone(t, db, "acct1", op.ID)
	if got.State != kafkaplane.OperationFailed || got.ErrorCode != CodeAttemptsExhausted || got.Attempts != 5 {
		t.Fatalf("operation %s %s after %d attempts: %s", got.State, got.ErrorCode, got.Attempts, got.ErrorMessage)
	}
	if !strings.Contains(got.ErrorMessage, "4 attempts") {
		t.Errorf("error message %q", got.ErrorMessage)
	}
	if after := reload(t, db, inst); after.ServiceStatus != 5 || after.ViewStatus != 102 || after.Version != "0.10.2" {
		t.Errorf("instance %d/%d %s, want 5/102 0.10.2", after.ServiceStatus, after.ViewStatus, after.Version)
	}
}

// TestAttemptsCapSurvivesRestarts: claims whose process died during them
// count. After MaxAttempts of them, the next worker fails the operation at
// once and does not run its steps again.
func TestAttemptsCapSurvivesRestarts(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, dbPath(t))
	clk := newClock()
	id := "alikafka_post-cn-crashloop"
	inst := create(t, db, newInstance(id, "acct1", "0.10.2", "0.10.2-1.1.0", 3), 5, 2)
	op := acceptUpgrade(t, db, inst, "2.2.0", "op-1", clk.Now())
	const maxAttempts = 3
	for range maxAttempts {
		// A worker claims the operation and its process dies in the step.
		if o, err := db.ClaimOperation(ctx, "node-a", clk.Now(), DefaultLease); err != nil || o == nil {
			t.Fatalf("claim: %v %v", o, err)
		}
		clk.Add(DefaultLease)
	}
	fake := broker.NewFake()
	cfg := config(t, db, fake, "node-b")
	cfg.Now = clk.Now
	cfg.MaxAttempts = maxAttempts
	start(t, cfg).Wake()
	got := waitDone(t, db, "acct1", op.ID)
	if got.State != kafkaplane.OperationFailed || got.ErrorCode != CodeAttemptsExhausted || got.Attempts != maxAttempts+1 {
		t.Fatalf("operation %s %s after %d attempts", got.State, got.ErrorCode, got.Attempts)
	}
	if calls := fake.Calls(); len(calls) != 0 {
		t.Errorf("steps ran again after the attempts were used up: %q", calls)
	}
	if after := reload(t, db, inst); after.ServiceStatus != 5 || after.ViewStatus != 102 {
		t.Errorf("instance %d/%d, want 5/102", after.ServiceStatus, after.ViewStatus)
	}
}

// TestPermanentStepError: a step error no retry can cure fails the
// operation on its first occurrence, with its own code.
func TestPermanentStepError(t *testing.T) {
	db := openDB(t, dbPath(t))
	id := "alikafka_post-cn-permanent"
	var tries atomic.Int32
	fake := broker.NewFake()
	fake.FailOn = func(call string) error {
		if call == "restart "+id+" 1 2.2.0" {
			tries.Add(1)
			return Permanent(errors.New("this runtime has no Kafka 2.2.0"))
		}
		return nil
	}
	cfg := config(t, db, fake, "node-a")
	cfg.StepRetries = 3
	inst := create(t, db, newInstance(id, "acct1", "0.10.2", "0.10.2-1.1.0", 3), 5, 2)
	op := acceptUpgrade(t, db, inst, "2.2.0", "op-1", time.Now())
	start(t, cfg).Wake()
	got := waitDone(t, db, "acct1", op.ID)
	if got.State != kafkaplane.OperationFailed || got.ErrorCode != "ROLL_BROKER_FAILED" || !strings.Contains(got.ErrorMessage, "no Kafka 2.2.0") {
		t.Fatalf("operation %s %s %q", got.State, got.ErrorCode, got.ErrorMessage)
	}
	if n := tries.Load(); n != 1 {
		t.Errorf("permanent error tried %d times, want 1", n)
	}
	if after := reload(t, db, inst); after.ServiceStatus != 5 || after.ViewStatus != 102 {
		t.Errorf("instance %d/%d, want 5/102", after.ServiceStatus, after.ViewStatus)
	}
}

func TestAttemptBackoff(t *testing.T) {
	c := Config{AttemptBackoff: time.Second, AttemptBackoffMax: 5 * time.Second}
	var got []time.Duration
	for n := 1; n <= 6; n++ {
		got = append(got, c.attemptBackoff(n))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("back-offs %v, want %v", got, want)
		}
	}
	if d := c.attemptBackoff(1 << 20); d != 5*time.Second {
		t.Errorf("huge attempt count: %v", d)
	}
}
