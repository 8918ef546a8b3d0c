package kafkaplane

import "time"

// OperationChangeSpec carries out a specification change (Upgrade…Order,
// Downgrade…Order) of a serving instance, which is Changing while it runs.
const OperationChangeSpec OperationType = "CHANGE_SPECIFICATION"

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
// with OperationService.StartOperation in the transaction that applies
// EventChangeSpec to inst. Its end applies EventChangeSpecDone, writing
// the new specification, or EventChangeSpecFailed, dropping it.
func NewSpecOperation(inst *Instance, id string, now time.Time) *Operation {
	return &Operation{
		ID:            id,
		AccountID:     inst.AccountID,
		RegionID:      inst.RegionID,
		InstanceID:    inst.ID,
		Type:          OperationChangeSpec,
		State:         OperationPending,
		SourceVersion: inst.Version,
		SourceMinor:   inst.MinorVersion,
		TargetVersion: inst.Version,
		TargetMinor:   inst.MinorVersion,
		Steps: []OperationStep{
			{Name: StepCheckBrokers, Status: StepPending, BrokerID: NoBroker},
			{Name: StepFinalizeSpec, Status: StepPending, BrokerID: NoBroker},
		},
		CreatedAt: now,
		UpdatedAt: now,
	}
}

// settleSpec ends a specification change: the pending specification is
// written when it succeeded and dropped either way.
func settleSpec(inst *Instance, succeeded bool) {
	if succeeded && inst.Deployment.PendingSpec != nil {
		inst.SetSpecification(*inst.Deployment.PendingSpec)
	}
	inst.Deployment.PendingSpec = nil
}
