package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kafkaplane/kafkaplane"
)

// errLost reports that another worker took the operation over (or it was
// removed): the execution must stop without writing anything more.
var errLost = errors.New("operation lease lost")

// execution is one claim of one operation, run on its own goroutine. Only
// that goroutine and, while a step's runtime work runs, its heartbeat touch
// op; they never do so at the same time.
type execution struct {
	w   *Worker
	op  *kafkaplane.Operation
	log *slog.Logger
	// inst is the instance as read when the claim began. Steps use its
	// id, ports and config, which no API action changes during an
	// operation; finishing re-reads it for a fresh ModifyIndex.
	inst *kafkaplane.Instance
	// stored is a copy of op as last written. op runs ahead of the store
	// between a change and its write, and a failed write may leave it
	// there; releasing the lease must not publish such a change (a
	// COMPLETE state without the instance that goes with it).
	stored *kafkaplane.Operation
}

// execute runs op's unfinished steps in order. It returns when the
// operation is finished, when it failed, when it was lost to another
// worker, when ctx is done (the lease is released for a prompt resume), or
// when the attempt ended unfinished for another reason: then a permanent
// error fails the operation, and any other releases it to be claimed again
// after a back-off, until MaxAttempts claims are used up (see retry.go).
func (w *Worker) execute(ctx context.Context, op *kafkaplane.Operation) {
	x := &execution{w: w, op: op, stored: cloneOperation(op), log: w.log.With("op", op.ID, "type", string(op.Type), "instance", op.InstanceID)}
	x.log.Info("claimed operation", "attempt", op.Attempts, "next_step", op.NextStep())
	var err error
	if op.Attempts > w.cfg.MaxAttempts {
		// Earlier attempts ended without a word, as when the process
		// died in them; do not run the steps once more.
		err = x.giveUp(ctx, nil)
	} else {
		err = x.run(ctx)
	}
	switch {
	case err == nil:
	case errors.Is(err, errLost):
		x.log.Warn("operation taken over by another worker; stopping")
	case ctx.Err() != nil:
		x.log.Info("stopping; operation left to resume", "step", op.NextStep())
		x.release(ctx)
	case permanent(err) && !x.op.Done():
		if ferr := x.fail(ctx, inProgressStep(x.op), err); ferr != nil {
			x.retryLater(ctx, ferr)
		}
	case op.Attempts >= w.cfg.MaxAttempts && !x.op.Done():
		if ferr := x.giveUp(ctx, err); ferr != nil {
			x.retryLater(ctx, ferr)
		}
	default:
		x.retryLater(ctx, err)
	}
}

func (x *execution) run(ctx context.Context) error {
	op := x.op
	inst, err := x.w.cfg.Instances.FindInstance(ctx, op.AccountID, op.RegionID, op.InstanceID)
	if kafkaplane.ErrorCode(err) == kafkaplane.CodeInstanceNotFound {
		return x.failWithoutInstance(ctx, err)
	}
	if err != nil {
		return err
	}
	x.inst = inst
	if !op.Type.Known() || len(op.Steps) == 0 {
		return x.fail(ctx, -1, kafkaplane.Errorf(kafkaplane.CodeUnsupportedOperation, "This worker cannot run operation type %q with %d steps.", op.Type, len(op.Steps)))
	}
	for {
		i := op.NextStep()
		if i == len(op.Steps) {
			// Only an operation written by an older worker can have every
			// step recorded but not be finished.
			return x.succeed(ctx, -1)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := x.runStep(ctx, i); err != nil {
			return err
		}
		if x.op.Done() {
			return nil
		}
	}
}

// runStep marks step i IN_PROGRESS, does its work with retries and records
// the outcome. The last step is recorded by finishing the operation, so
// that its completion, the operation's and the instance's new status land
// in one transaction.
func (x *execution) runStep(ctx context.Context, i int) error {
	op := x.op
	now := x.w.cfg.Now()
	op.Steps[i].Status = kafkaplane.StepInProgress
	op.Steps[i].StartedAt = now
	op.Steps[i].FinishedAt = time.Time{}
	if err := x.update(ctx); err != nil {
		return err
	}
	step := op.Steps[i]
	x.log.Info("step started", "step", step.Name, "broker", step.BrokerID)

	work, after, err := x.plan(ctx, step)
	if kafkaplane.ErrorCode(err) == kafkaplane.CodeUnsupportedStep {
		return x.fail(ctx, i, err)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	if work != nil {
		err = x.withRetries(ctx, step, work)
	}
	if errors.Is(err, errLost) {
		return err
	}
	if ctx.Err() != nil && err != nil {
		// Stopped, not failed: the step stays IN_PROGRESS and re-runs
		// on resume, which is safe because every step is idempotent.
		return ctx.Err()
	}
	if err != nil {
		return x.fail(ctx, i, err)
	}
	if after != nil {
		after(i)
	}
	op.Steps[i].Status = kafkaplane.StepComplete
	op.Steps[i].FinishedAt = x.w.cfg.Now()
	if i == len(op.Steps)-1 {
		return x.succeed(ctx, i)
	}
	// The work happened, so record it even when ctx was cancelled while
	// it ran: a resumed roll then does not restart the broker again.
	wctx, cancel := detached(ctx)
	defer cancel()
	if err := x.update(wctx); err != nil {
		return err
	}
	x.observe(i)
	x.log.Info("step complete", "step", step.Name, "broker", step.BrokerID)
	return nil
}

// plan returns the runtime work of step and what to record once it
// succeeded. work runs with retries and a heartbeat and must not touch the
// operation; after runs on the execution's goroutine when work is done.
// Reads the work needs from the store happen here, before the heartbeat
// starts.
func (x *execution) plan(ctx context.Context, step kafkaplane.OperationStep) (work func(context.Context) error, after func(i int), err error) {
	op, inst, rt := x.op, x.inst, x.w.cfg.Runtime
	switch {
	case op.Type == TypeChangeSpec:
		return x.planSpec(step)
	case op.Type == TypeStartInstance && step.Name == StepDeployBrokers:
		spec := SpecFor(inst, nil)
		if spec.Version == "" {
			spec.Version, spec.Minor = op.TargetVersion, x.startMinor()
		}
		work = func(ctx context.Context) error {
			if _, err := rt.Start(ctx, spec); err != nil {
				return fmt.Errorf("start brokers: %w", err)
			}
			for id := range spec.Ports {
				if err := rt.CheckBroker(ctx, inst.ID, int32(id), spec.VersionOf(int32(id))); err != nil {
					return fmt.Errorf("check broker %d: %w", id, err)
				}
			}
			return nil
		}
		after = func(i int) {
			x.op.Steps[i].Detail = fmt.Sprintf("%d brokers run %s", len(spec.Ports), spec.Version)
		}
		return work, after, nil

	case op.Type == TypeUpgradeInstanceVersion && step.Name == StepInitializeUpdate:
		ops, err := x.w.cfg.Operations.FindOperations(ctx, kafkaplane.OperationFilter{
			AccountID: op.AccountID, RegionID: op.RegionID, InstanceID: op.InstanceID,
		})
		if err != nil {
			return nil, nil, err
		}
		// The stored copy of this operation is older than ours.
		for k, o := range ops {
			if o.ID == op.ID {
				ops[k] = op
			}
		}
		spec := SpecFor(inst, ops)
		var order []int32
		work = func(ctx context.Context) error {
			if _, err := rt.Start(ctx, spec); err != nil {
				return fmt.Errorf("start brokers: %w", err)
			}
			o, err := rt.RollOrder(ctx, inst.ID)
			if err != nil {
				return fmt.Errorf("roll order: %w", err)
			}
			order = o
			return nil
		}
		after = func(i int) {
			reorderRolls(x.op.Steps, order)
			var ids []string
			for _, s := range x.op.Steps {
				if s.Name == StepRollBroker {
					ids = append(ids, fmt.Sprint(s.BrokerID))
				}
			}
			x.op.Steps[i].Detail = "roll order " + strings.Join(ids, ", ")
		}
		return work, after, nil

	case op.Type == TypeUpgradeInstanceVersion && step.Name == StepRollBroker:
		id, version := step.BrokerID, op.TargetVersion
		work = func(ctx context.Context) error {
			if err := rt.RestartBroker(ctx, inst.ID, id, version); err != nil {
				return fmt.Errorf("restart broker %d onto %s: %w", id, version, err)
			}
			if err := rt.CheckBroker(ctx, inst.ID, id, version); err != nil {
				return fmt.Errorf("check broker %d on %s: %w", id, version, err)
			}
			return nil
		}
		after = func(i int) {
			x.op.Steps[i].Detail = fmt.Sprintf("broker %d runs %s", id, version)
		}
		return work, after, nil

	case op.Type == TypeFailoverTest && step.Name == StepFailBroker:
		// The broker comes back on the version it runs; a failover test
		// changes nothing but the connections.
		id := step.BrokerID
		spec := SpecFor(inst, nil)
		version := spec.VersionOf(id)
		work = func(ctx context.Context) error {
			if err := rt.RestartBroker(ctx, inst.ID, id, version); err != nil {
				return fmt.Errorf("restart broker %d: %w", id, err)
			}
			return nil
		}
		after = func(i int) {
			x.op.Steps[i].Detail = strings.TrimPrefix(x.op.Steps[i].Detail+"; ", "; ") + fmt.Sprintf("broker %d was restarted on %s", id, version)
		}
		return work, after, nil

	case op.Type == TypeFailoverTest && step.Name == StepCheckRecovery:
		spec := SpecFor(inst, nil)
		work = func(ctx context.Context) error {
			for id := range spec.Ports {
				if err := rt.CheckBroker(ctx, inst.ID, int32(id), spec.VersionOf(int32(id))); err != nil {
					return fmt.Errorf("check broker %d: %w", id, err)
				}
			}
			return nil
		}
		after = func(i int) {
			x.op.Steps[i].Detail = fmt.Sprintf("%d brokers answer", len(spec.Ports))
		}
		return work, after, nil

	case op.Type == TypeUpgradeInstanceVersion && step.Name == StepFinalizeUpdate:
		// Its work is the finishing transaction itself, preceded by the
		// runtime's own finishing work when it has some (Strimzi's
		// metadata version bump).
		f, ok := kafkaplane.RuntimeAs[kafkaplane.UpgradeFinalizer](rt)
		if !ok {
			return nil, nil, nil
		}
		version := op.TargetVersion
		work = func(ctx context.Context) error {
			if err := f.FinalizeUpgrade(ctx, inst.ID, version); err != nil {
				return fmt.Errorf("finalize upgrade to %s: %w", version, err)
			}
			return nil
		}
		return work, nil, nil
	}
	return nil, nil, kafkaplane.Errorf(kafkaplane.CodeUnsupportedStep, "Operation type %s has no step %q.", op.Type, step.Name)
}

// startMinor is the minor version a start operation deploys.
func (x *execution) startMinor() string {
	if x.op.TargetMinor == "" && x.w.cfg.Catalogue != nil {
		return x.w.cfg.Catalogue.LatestMinor(x.op.TargetVersion)
	}
	return x.op.TargetMinor
}

// withRetries runs work until it succeeds, the retries are used up, or
// ctx is done, with a doubling backoff between attempts. While it runs, a
// heartbeat extends the lease every Lease/3 so that a slow broker restart
// is not mistaken for a dead worker; when the heartbeat finds the
// operation taken over, the work is cancelled and errLost returned.
func (x *execution) withRetries(ctx context.Context, step kafkaplane.OperationStep, work func(context.Context) error) error {
	cfg := x.w.cfg
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var lost atomic.Bool
	hb := make(chan struct{})
	go func() {
		defer close(hb)
		x.heartbeat(sctx, cancel, &lost)
	}()
	defer func() {
		cancel()
		<-hb
	}()

	var err error
	backoff := cfg.RetryBackoff
	for attempt := 0; ; attempt++ {
		actx, acancel := context.WithTimeout(sctx, cfg.StepTimeout)
		err = work(actx)
		acancel()
		if lost.Load() {
			return errLost
		}
		if err == nil || sctx.Err() != nil {
			return err
		}
		if permanent(err) {
			return err
		}
		if attempt >= cfg.StepRetries {
			return fmt.Errorf("%w (after %d attempts)", err, attempt+1)
		}
		x.log.Warn("step attempt failed; retrying", "step", step.Name, "broker", step.BrokerID, "attempt", attempt+1, "err", err)
		t := time.NewTimer(backoff)
		select {
		case <-sctx.Done():
			t.Stop()
			if lost.Load() {
				return errLost
			}
			return err
		case <-t.C:
		}
		backoff = min(2*backoff, cfg.Lease/3)
	}
}

// heartbeat extends the lease every Lease/3 until ctx is done. A lost
// compare-and-set means another worker claimed the operation after our
// lease expired; the step is then cancelled.
func (x *execution) heartbeat(ctx context.Context, cancel context.CancelFunc, lost *atomic.Bool) {
	t := time.NewTicker(x.w.cfg.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := x.update(ctx)
		switch {
		case errors.Is(err, errLost):
			lost.Store(true)
			cancel()
			return
		case err != nil && ctx.Err() == nil:
			x.log.Warn("heartbeat failed", "err", err)
		}
	}
}

// update writes the operation with a fresh lease; every write of a running
// operation is also its heartbeat.
func (x *execution) update(ctx context.Context) error {
	now := x.w.cfg.Now()
	x.op.LeaseOwner = x.w.cfg.Owner
	x.op.LeaseUntil = now.Add(x.w.cfg.Lease)
	x.op.UpdatedAt = now
	return x.write(ctx)
}

// write stores the operation as it is in memory.
func (x *execution) write(ctx context.Context) error {
	err := x.w.cfg.Operations.UpdateOperation(ctx, x.op)
	if lostRace(err) {
		return fmt.Errorf("%w: %v", errLost, err)
	}
	if err == nil {
		x.stored = cloneOperation(x.op)
	}
	return err
}

// succeed completes step i (already marked COMPLETE in memory; -1 for none)
// and the operation, and sets the instance's final state, in one
// transaction.
func (x *execution) succeed(ctx context.Context, i int) error {
	op := x.op
	now := x.w.cfg.Now()
	op.State = kafkaplane.OperationComplete
	op.FinishedAt, op.UpdatedAt = now, now
	op.LeaseUntil = time.Time{}
	err := x.finish(ctx, func(inst *kafkaplane.Instance) {
		from := inst.State()
		if err := inst.Finish(op.Type, true); err != nil {
			x.log.Warn("instance left the state the operation moves it from; not changing it", "state", from, "err", err)
			return
		}
		switch op.Type {
		case TypeStartInstance:
			if op.TargetVersion != "" {
				inst.Version, inst.MinorVersion = op.TargetVersion, x.startMinor()
			}
		case TypeUpgradeInstanceVersion:
			inst.Version, inst.MinorVersion = op.TargetVersion, op.TargetMinor
		}
	})
	if err != nil {
		return err
	}
	if i >= 0 {
		x.observe(i)
	}
	x.log.Info("operation complete", "target_version", op.TargetVersion, "target_minor", op.TargetMinor)
	return nil
}

// fail records step i (-1 for none) and the operation as FAILED with err,
// and gives the instance its failed status: a failed upgrade leaves the
// instance serving on its old version (5 / 102), with the brokers rolled so
// far on the target (SpecFor keeps them there); a failed deploy sends it
// back to "bought, not deployed" (0 / 101) with its brokers stopped, so
// StartInstance may be called again.
func (x *execution) fail(ctx context.Context, i int, cause error) error {
	op := x.op
	now := x.w.cfg.Now()
	code := kafkaplane.ErrorCode(cause)
	msg := cause.Error()
	if code == "" && i >= 0 {
		code = op.Steps[i].Name + "_FAILED"
	}
	if m := kafkaplane.ErrorMessage(cause); m != "" {
		msg = m
	}
	if i >= 0 {
		op.Steps[i].Status = kafkaplane.StepFailed
		op.Steps[i].FinishedAt = now
		op.Steps[i].Detail = msg
	}
	op.State = kafkaplane.OperationFailed
	op.ErrorCode, op.ErrorMessage = code, msg
	op.FinishedAt, op.UpdatedAt = now, now
	op.LeaseUntil = time.Time{}
	x.log.Error("operation failed", "code", code, "err", cause)

	if op.Type == TypeStartInstance {
		sctx, cancel := detached(ctx)
		if err := x.w.cfg.Runtime.Stop(sctx, op.InstanceID); err != nil {
			x.log.Warn("stop brokers of failed deploy", "err", err)
		}
		cancel()
	}
	err := x.finish(ctx, func(inst *kafkaplane.Instance) {
		from := inst.State()
		if err := inst.Finish(op.Type, false); err != nil {
			x.log.Warn("instance left the state the operation moves it from; not changing it", "state", from, "err", err)
		}
	})
	if err != nil {
		return err
	}
	if i >= 0 {
		x.observe(i)
	}
	return nil
}

// failWithoutInstance records the operation FAILED when its instance is
// gone, which leaves nothing to finish it with.
func (x *execution) failWithoutInstance(ctx context.Context, cause error) error {
	op := x.op
	now := x.w.cfg.Now()
	op.State = kafkaplane.OperationFailed
	op.ErrorCode, op.ErrorMessage = kafkaplane.ErrorCode(cause), kafkaplane.ErrorMessage(cause)
	op.FinishedAt = now
	op.LeaseUntil = time.Time{}
	op.UpdatedAt = now
	wctx, cancel := detached(ctx)
	defer cancel()
	return x.write(wctx)
}

// finish writes the final operation and the instance changed by mutate in
// one transaction. The instance is read afresh for each attempt: API
// actions that are allowed during an operation (ModifyInstanceName, tags)
// may have moved its ModifyIndex, and such a conflict is retried. A
// conflict on the operation itself means it was taken over.
func (x *execution) finish(ctx context.Context, mutate func(*kafkaplane.Instance)) error {
	ctx, cancel := detached(ctx)
	defer cancel()
	op := x.op
	for attempt := 0; ; attempt++ {
		inst, err := x.w.cfg.Instances.FindInstance(ctx, op.AccountID, op.RegionID, op.InstanceID)
		if kafkaplane.ErrorCode(err) == kafkaplane.CodeInstanceNotFound {
			return x.write(ctx)
		}
		if err != nil {
			return err
		}
		mutate(inst)
		err = x.w.cfg.Operations.FinishOperation(ctx, op, inst)
		if err == nil {
			x.stored = cloneOperation(op)
			return nil
		}
		if !lostRace(err) {
			return err
		}
		stored, ferr := x.w.cfg.Operations.FindOperation(ctx, op.AccountID, op.ID)
		if ferr != nil || stored.ModifyIndex != op.ModifyIndex || attempt >= 5 {
			return fmt.Errorf("%w: %v", errLost, err)
		}
	}
}

// release gives up the lease so that another worker (or this one) may
// resume the operation at once. It is best effort: if it fails, the lease
// simply expires.
func (x *execution) release(ctx context.Context) {
	wctx, cancel := detached(ctx)
	defer cancel()
	op := cloneOperation(x.stored)
	op.LeaseOwner, op.LeaseUntil, op.UpdatedAt = "", time.Time{}, x.w.cfg.Now()
	if err := x.w.cfg.Operations.UpdateOperation(wctx, op); err != nil && !lostRace(err) {
		x.log.Warn("release lease", "err", err)
	}
}

// observe hands step i to the Observer.
func (x *execution) observe(i int) {
	if x.w.cfg.Observer != nil {
		c := cloneOperation(x.op)
		x.w.cfg.Observer(c, c.Steps[i])
	}
}

// detached returns a context that outlives ctx's cancellation for at most
// writeTimeout, for writes that record work already done.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
}
