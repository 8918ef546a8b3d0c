package kafkaplane

import (
	"cmp"
	"maps"
	"slices"
	"time"
)

// Step names. The upgrade steps follow AWS MSK's documented example
// (INITIALIZE_UPDATE → … → FINALIZE_UPDATE), with the binary update split
// into one ROLL_BROKER step per broker so that a resumed operation knows
// exactly which brokers already run the target version.
//
// A step that fails after its retries gives its operation the error code
// "<step name>_FAILED" (for example ROLL_BROKER_FAILED), unless the runtime
// returned a *Error, whose code is kept.
const (
	// StepDeployBrokers starts every broker of a new instance and checks
	// that each answers as the instance's version.
	StepDeployBrokers = "DEPLOY_BROKERS"
	// StepInitializeUpdate makes sure the brokers are up (on the versions
	// they ran before any interruption) and fixes the roll order.
	StepInitializeUpdate = "INITIALIZE_UPDATE"
	// StepRollBroker restarts one broker (OperationStep.BrokerID) onto the
	// target version and checks it as a client would.
	StepRollBroker = "ROLL_BROKER"
	// StepFinalizeUpdate records the new version on the instance and brings
	// it back to Running, in the same transaction that completes the
	// operation.
	StepFinalizeUpdate = "FINALIZE_UPDATE"
	// StepFailBroker restarts the failover test's broker
	// (OperationStep.BrokerID) on the version it runs: its clients are cut
	// off and must move to the other brokers and back.
	StepFailBroker = "FAIL_BROKER"
	// StepCheckRecovery checks every broker of the instance as a client
	// would after the fault.
	StepCheckRecovery = "CHECK_RECOVERY"
)

// NoBroker is OperationStep.BrokerID of steps that concern no single
// broker.
const NoBroker int32 = -1

// operationKind is what the domain knows about one operation type: the
// instance events that end it, or that it keeps the instance's state.
type operationKind struct {
	done, failed Event
	// settle, when set, finishes what the operation changes besides the
	// state, once the state moved.
	settle func(inst *Instance, succeeded bool)
	// keepsState marks operations that run on a Running instance and
	// leave it Running whatever their outcome.
	keepsState bool
}

// operationKinds is every operation type a worker runs, with the event
// that moves its instance when it completes and when it fails (see
// Transitions): a start ends Deploying, an upgrade ends Upgrading.
var operationKinds = map[OperationType]operationKind{
	OperationStartInstance:          {done: EventStartDone, failed: EventStartFailed},
	OperationUpgradeInstanceVersion: {done: EventUpgradeDone, failed: EventUpgradeFailed},
	OperationChangeSpec:             {done: EventChangeSpecDone, failed: EventChangeSpecFailed, settle: settleSpec},
	OperationFailoverTest:           {keepsState: true},
}

// Known reports whether a worker runs operations of type t.
func (t OperationType) Known() bool {
	_, ok := operationKinds[t]
	return ok
}

// Finish moves inst as the end of an operation of type t does: to its
// done state when succeeded, else to its failed state. It returns a
// CodeInstanceStatus error and leaves inst alone when inst is no longer
// in the state the operation moves it from, and CodeUnsupportedOperation for a type
// no worker runs.
func (inst *Instance) Finish(t OperationType, succeeded bool) error {
	k, ok := operationKinds[t]
	if !ok {
		return Errorf(CodeUnsupportedOperation, "Operations of type %q are not run.", t)
	}
	if k.keepsState {
		return nil
	}
	e := k.failed
	if succeeded {
		e = k.done
	}
	if err := inst.Apply(e); err != nil {
		return err
	}
	if k.settle != nil {
		k.settle(inst, succeeded)
	}
	return nil
}

// NewStartOperation returns the PENDING operation that deploys inst, for
// the StartInstance handler to store with OperationService.StartOperation
// in the same transaction that applies EventStart to inst. The handler
// sets inst.Version, inst.MinorVersion and inst.BrokerPorts first: the
// operation deploys what the instance row says. Its end applies
// EventStartDone or EventStartFailed.
func NewStartOperation(inst *Instance, id string, now time.Time) *Operation {
	return &Operation{
		ID:            id,
		AccountID:     inst.AccountID,
		RegionID:      inst.RegionID,
		InstanceID:    inst.ID,
		Type:          OperationStartInstance,
		State:         OperationPending,
		TargetVersion: inst.Version,
		TargetMinor:   inst.MinorVersion,
		Steps: []OperationStep{
			{Name: StepDeployBrokers, Status: StepPending, BrokerID: NoBroker},
		},
		CreatedAt: now,
		UpdatedAt: now,
	}
}

// NewUpgradeOperation returns the PENDING operation that carries out plan
// on inst, for the UpgradeInstanceVersion handler to store with
// OperationService.StartOperation in the same transaction that applies
// EventUpgrade to inst. It has one ROLL_BROKER step per broker in
// broker-id order; INITIALIZE_UPDATE reorders them by the runtime's
// RollOrder when it runs, because only the running brokers know which one
// is the controller. Its end applies EventUpgradeDone or
// EventUpgradeFailed.
func NewUpgradeOperation(inst *Instance, plan UpgradePlan, id string, now time.Time) *Operation {
	steps := make([]OperationStep, 0, len(inst.BrokerPorts)+2)
	steps = append(steps, OperationStep{Name: StepInitializeUpdate, Status: StepPending, BrokerID: NoBroker})
	for i := range inst.BrokerPorts {
		steps = append(steps, OperationStep{Name: StepRollBroker, Status: StepPending, BrokerID: int32(i)})
	}
	steps = append(steps, OperationStep{Name: StepFinalizeUpdate, Status: StepPending, BrokerID: NoBroker})
	return &Operation{
		ID:            id,
		AccountID:     inst.AccountID,
		RegionID:      inst.RegionID,
		InstanceID:    inst.ID,
		Type:          OperationUpgradeInstanceVersion,
		State:         OperationPending,
		SourceVersion: plan.SourceVersion,
		SourceMinor:   plan.SourceMinor,
		TargetVersion: plan.TargetVersion,
		TargetMinor:   plan.TargetMinor,
		Steps:         steps,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
}

// SpecFor returns the Spec that brings back inst's brokers as they last
// ran: Version, Minor, the ports of every listener and Config from the
// instance (the service's runtime adds the stored Security on every Start,
// see jobs.SecureRuntime), and
// BrokerVersions for brokers that an unfinished or failed upgrade already
// rolled onto its target version. The service calls it whenever it starts
// an instance's brokers outside an operation (at start-up, and to bring
// lost brokers back) and INITIALIZE_UPDATE calls it before rolling, so
// that a broker is never started on an older version than it ran: after a
// 0.10.2 → 2.2.0 roll, going back would mean reading a newer log format.
//
// ops are the instance's operations in any order (others are ignored).
// Upgrade operations are replayed oldest first: a COMPLETE one means every
// broker runs the instance's version; an active or FAILED one moves each
// broker whose ROLL_BROKER step is COMPLETE to its TargetVersion. For a
// single upgrade this is "the newest upgrade's completed rolls"; replaying
// also keeps the brokers a failed upgrade rolled when a retry has not yet
// reached them.
func SpecFor(inst *Instance, ops []*Operation) Spec {
	spec := Spec{
		InstanceID: inst.ID,
		Version:    inst.Version,
		Minor:      inst.MinorVersion,
		Ports:      slices.Clone(inst.BrokerPorts),
		SaslPorts:  slices.Clone(inst.SaslPorts),
		SslPorts:   slices.Clone(inst.SslPorts),
		Config:     maps.Clone(inst.Config),
	}
	var ups []*Operation
	for _, op := range ops {
		if op != nil && op.InstanceID == inst.ID && op.Type == OperationUpgradeInstanceVersion {
			ups = append(ups, op)
		}
	}
	slices.SortStableFunc(ups, func(a, b *Operation) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	rolled := map[int32]string{}
	for _, op := range ups {
		if op.State == OperationComplete {
			clear(rolled)
			continue
		}
		for _, s := range op.Steps {
			if s.Name == StepRollBroker && s.Status == StepComplete {
				rolled[s.BrokerID] = op.TargetVersion
			}
		}
	}
	maps.DeleteFunc(rolled, func(id int32, v string) bool {
		return v == "" || v == inst.Version || id < 0 || int(id) >= len(inst.BrokerPorts)
	})
	if len(rolled) > 0 {
		spec.BrokerVersions = rolled
	}
	return spec
}

// NewFailoverOperation returns the PENDING operation of a failover test of
// inst's broker brokerID, for the FailoverTest handler to store with
// OperationService.StartOperation; the instance keeps its state. detail is
// recorded on the fault step (the test's name and description).
func NewFailoverOperation(inst *Instance, brokerID int32, detail, id string, now time.Time) *Operation {
	return &Operation{
		ID:            id,
		AccountID:     inst.AccountID,
		RegionID:      inst.RegionID,
		InstanceID:    inst.ID,
		Type:          OperationFailoverTest,
		State:         OperationPending,
		SourceVersion: inst.Version,
		SourceMinor:   inst.MinorVersion,
		TargetVersion: inst.Version,
		TargetMinor:   inst.MinorVersion,
		Steps: []OperationStep{
			{Name: StepFailBroker, Status: StepPending, BrokerID: brokerID, Detail: detail},
			{Name: StepCheckRecovery, Status: StepPending, BrokerID: NoBroker},
		},
		CreatedAt: now,
		UpdatedAt: now,
	}
}
