package main

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/broker"
	"github.com/kafkaplane/kafkaplane/jobs"
)

// Back-off of the data plane keeper between attempts to start one
// instance's brokers, and how often it looks at instances when none is
// down.
const (
	restoreMinBackoff = 250 * time.Millisecond
	restoreMaxBackoff = 4 * time.Second
	restorePoll       = 2 * time.Second
)

// dataPlaneKeeper keeps the brokers of every serving instance running. It
// is the one place that starts brokers outside an operation: at start-up
// (restore) and whenever it finds a serving instance without them — after
// a restore that failed (a port held by another socket), after a roll
// step or an upgrade that failed and left a broker down. An instance whose
// brokers will not start is retried with a doubling back-off until they
// do; until then it is listed by down (for /healthz and the metric), and
// every attempt logs why it failed.
//
// An instance serves in ServiceStatus 5 (Running) and 8 (Upgrading). In 5
// every broker must be up. In 8 the worker takes brokers down on purpose
// while it rolls them, so only an instance with no brokers at all (not
// restored) is started here; the roll itself restarts the others.
type dataPlaneKeeper struct {
	instances  kafkaplane.InstanceService
	operations kafkaplane.OperationService
	runtime    broker.Runtime
	log        *slog.Logger

	mu   sync.Mutex
	down map[string]*downInstance
}

// downInstance is a serving instance whose brokers are not running.
type downInstance struct {
	attempts int
	next     time.Time
	err      error
}

// pass looks at every serving instance once and starts the brokers of
// those that need it and are due. It returns when the next attempt is due.
func (d *dataPlaneKeeper) pass(ctx context.Context) time.Time {
	now := time.Now()
	next := now.Add(restorePoll)
	insts, err := d.instances.FindInstances(ctx, kafkaplane.InstanceFilter{})
	if err != nil {
		if ctx.Err() == nil {
			d.log.Error("data plane check: list instances", "err", err)
		}
		return next
	}
	serving := map[string]bool{}
	for _, inst := range insts {
		if !serves(inst) {
			continue
		}
		serving[inst.ID] = true
		if d.healthy(ctx, inst) {
			d.recovered(inst.ID)
			continue
		}
		d.mu.Lock()
		st := d.down[inst.ID]
		if st == nil {
			st = &downInstance{}
			d.down[inst.ID] = st
		}
		due := st.next
		d.mu.Unlock()
		if now.Before(due) {
			next = minTime(next, due)
			continue
		}
		// Decide on a fresh read: the list may be older than an upgrade
		// that has begun rolling this instance's brokers since.
		cur, err := d.instances.FindInstance(ctx, inst.AccountID, inst.RegionID, inst.ID)
		if err == nil && (!serves(cur) || d.healthy(ctx, cur)) {
			d.recovered(inst.ID)
			continue
		}
		if err == nil {
			inst = cur
		}
		err = d.start(ctx, inst)
		if ctx.Err() != nil {
			return next
		}
		if err == nil {
			d.recovered(inst.ID)
			continue
		}
		d.mu.Lock()
		st.attempts++
		st.err = err
		wait := min(restoreMinBackoff<<min(st.attempts-1, 10), restoreMaxBackoff)
		st.next = time.Now().Add(wait)
		attempts := st.attempts
		d.mu.Unlock()
		next = minTime(next, st.next)
		d.log.Error("brokers of a running instance are down; retrying", "instance", inst.ID,
			"attempt", attempts, "retry_in", wait, "err", err)
	}
	// Instances that stopped serving (deleted, failed) are no longer down.
	d.mu.Lock()
	for id := range d.down {
		if !serving[id] {
			delete(d.down, id)
		}
	}
	d.mu.Unlock()
	return next
}

func serves(inst *kafkaplane.Instance) bool {
	return len(inst.BrokerPorts) > 0 &&
		(inst.ServiceStatus == kafkaplane.ServiceStatusRunning || inst.ServiceStatus == kafkaplane.ServiceStatusUpgrading)
}

// healthy reports whether inst's brokers run as its status requires.
func (d *dataPlaneKeeper) healthy(ctx context.Context, inst *kafkaplane.Instance) bool {
	st, err := d.runtime.Status(ctx, inst.ID)
	if err != nil || len(st) == 0 {
		return false
	}
	if inst.ServiceStatus == kafkaplane.ServiceStatusUpgrading {
		return true
	}
	for _, b := range st {
		if !b.Up {
			return false
		}
	}
	return true
}

// start brings up inst's brokers on the versions its operations left them
// on (brokers an interrupted roll already moved come back on the target).
func (d *dataPlaneKeeper) start(ctx context.Context, inst *kafkaplane.Instance) error {
	ops, err := d.operations.FindOperations(ctx, kafkaplane.OperationFilter{
		AccountID: inst.AccountID, RegionID: inst.RegionID, InstanceID: inst.ID,
	})
	if err != nil {
		return fmt.Errorf("read operations: %w", err)
	}
	spec := jobs.SpecFor(inst, ops)
	if _, err := d.runtime.Start(ctx, spec); err != nil {
		return err
	}
	// The instance may have been deleted while its brokers started; a
	// deleted instance must not keep brokers.
	if cur, err := d.instances.FindInstance(ctx, inst.AccountID, inst.RegionID, inst.ID); kafkaplane.ErrorCode(err) == kafkaplane.CodeInstanceNotFound || err == nil && !serves(cur) {
		return d.runtime.Stop(ctx, inst.ID)
	}
	d.log.Info("started brokers", "instance", inst.ID, "version", spec.Version, "rolled", len(spec.BrokerVersions))
	return nil
}

func (d *dataPlaneKeeper) recovered(id string) {
	d.mu.Lock()
	st, was := d.down[id]
	delete(d.down, id)
	d.mu.Unlock()
	if was && st.attempts > 0 {
		d.log.Info("brokers of a running instance are up again", "instance", id, "failed_attempts", st.attempts)
	}
}

// run repeats pass until ctx is done.
func (d *dataPlaneKeeper) run(ctx context.Context) {
	for {
		next := d.pass(ctx)
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// downReport returns the ids of instances whose brokers are down, sorted,
// each with the last start error.
func (d *dataPlaneKeeper) downReport() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for id, st := range d.down {
		line := id
		if st.err != nil {
			line += ": " + strings.ReplaceAll(st.err.Error(), "\n", " ")
		}
		out = append(out, line)
	}
	sort.Strings(out)
	return out
}

func (d *dataPlaneKeeper) downCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.down)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
