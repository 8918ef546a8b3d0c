package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/kafkaplane/kafkaplane"
)

// TypeChangeSpec carries out a specification change (Upgrade…Order,
// Downgrade…Order) of a serving instance (ServiceStatus 11 while it runs).
const TypeChangeSpec kafkaplane.OperationType = "CHANGE_SPECIFICATION"

// Steps of a specification change.
const (
	// StepCheckBrokers checks that every broker answers as the instance's
	// version before the new specification is recorded. The brokers have
	// no disk, bandwidth or partition limit of their own to resize, so
	// this is the whole of the change on them.
	StepCheckBrokers = "CHECK_BROKERS"
	// StepFinalizeSpec writes the new specification (the instance's
	// Deployment.PendingSpec) and brings the instance back to Running, in
	// the transaction that completes the operation.
	StepFinalizeSpec = "FINALIZE_SPEC"
)

// NewSpecOperation returns the PENDING operation that gives inst the
// specification in inst.Deployment.PendingSpec, for the handler to store
// with OperationService.StartOperation in the transaction that moves inst
// to Changing. On success the worker writes the new specification; on
// failure it drops it; either way the instance is Running again.
func NewSpecOperation(inst *kafkaplane.Instance, id string, now time.Time) *kafkaplane.Operation {
	return &kafkaplane.Operation{
		ID:            id,
		AccountID:     inst.AccountID,
		RegionID:      inst.RegionID,
		InstanceID:    inst.ID,
		Type:          TypeChangeSpec,
		State:         kafkaplane.OperationPending,
		SourceVersion: inst.Version,
		SourceMinor:   inst.MinorVersion,
		TargetVersion: inst.Version,
		TargetMinor:   inst.MinorVersion,
		Steps: []kafkaplane.OperationStep{
			{Name: StepCheckBrokers, Status: kafkaplane.StepPending, BrokerID: noBroker},
			{Name: StepFinalizeSpec, Status: kafkaplane.StepPending, BrokerID: noBroker},
		},
		CreatedAt: now,
		UpdatedAt: now,
	}
}

// planSpec is plan for the steps of a specification change.
func (x *execution) planSpec(step kafkaplane.OperationStep) (work func(context.Context) error, after func(i int), err error) {
	inst, rt := x.inst, x.w.cfg.Runtime
	switch step.Name {
	case StepCheckBrokers:
		work = func(ctx context.Context) error {
			for id := range inst.BrokerPorts {
				if err := rt.CheckBroker(ctx, inst.ID, int32(id), inst.Version); err != nil {
					return fmt.Errorf("check broker %d: %w", id, err)
				}
			}
			return nil
		}
		after = func(i int) {
			x.op.Steps[i].Detail = fmt.Sprintf("%d brokers answer as %s", len(inst.BrokerPorts), inst.Version)
		}
		return work, after, nil
	case StepFinalizeSpec:
		return nil, nil, nil
	}
	return nil, nil, kafkaplane.Errorf(kafkaplane.CodeUnsupportedStep, "Operation type %s has no step %q.", TypeChangeSpec, step.Name)
}

// finishSpec is the instance change of a finished specification change:
// the pending specification is written when it succeeded and dropped when
// it failed, and the instance leaves Changing. An instance that is not
// Changing is left alone.
func finishSpec(inst *kafkaplane.Instance, ok bool) error {
	e := kafkaplane.EventChangeSpecFailed
	if ok {
		e = kafkaplane.EventChangeSpecDone
	}
	pending := inst.Deployment.PendingSpec
	if err := inst.Apply(e); err != nil {
		return err
	}
	if ok && pending != nil {
		inst.SetSpec(*pending)
	}
	inst.Deployment.PendingSpec = nil
	return nil
}
