package jobs

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/broker"
)

// Operation types the worker runs. The upgrade type is the domain's own;
// it is repeated here so that callers find every type the worker knows in
// one place.
const (
	// TypeStartInstance deploys the brokers of an instance that
	// StartInstance accepted (ServiceStatus 1).
	TypeStartInstance kafkaplane.OperationType = "START_INSTANCE"
	// TypeUpgradeInstanceVersion rolls every broker of an instance onto a
	// new version or minor version (ServiceStatus 8).
	TypeUpgradeInstanceVersion = kafkaplane.OperationUpgradeInstanceVersion
)

// Step names. The upgrade steps follow AWS MSK's documented example
// (INITIALIZE_UPDATE → … → FINALIZE_UPDATE), with the binary update split
// into one ROLL_BROKER step per broker so that a resumed operation knows
// exactly which brokers already run the target version.
//
// A step that fails after its retries gives its operation the error code
// "<step name>_FAILED" (for example ROLL_BROKER_FAILED), unless the runtime
// returned a *kafkaplane.Error, whose code is kept.
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
)

// noBroker is OperationStep.BrokerID of steps that concern no single broker.
const noBroker int32 = -1

// NewStartOperation returns the PENDING operation that deploys inst, for
// the StartInstance handler to store with OperationService.StartOperation
// in the same transaction that moves inst to ServiceStatus 1. The handler
// sets inst.Version, inst.MinorVersion and inst.BrokerPorts first: the
// operation deploys what the instance row says. On success the worker sets
// the instance to ServiceStatus 5 / ViewStatus 2; on failure to 0 / 101.
func NewStartOperation(inst *kafkaplane.Instance, id string, now time.Time) *kafkaplane.Operation {
	return &kafkaplane.Operation{
		ID:            id,
		AccountID:     inst.AccountID,
		RegionID:      inst.RegionID,
		InstanceID:    inst.ID,
		Type:          TypeStartInstance,
		State:         kafkaplane.OperationPending,
		TargetVersion: inst.Version,
		TargetMinor:   inst.MinorVersion,
		Steps: []kafkaplane.OperationStep{
			{Name: StepDeployBrokers, Status: kafkaplane.StepPending, BrokerID: noBroker},
		},
		CreatedAt: now,
		UpdatedAt: now,
	}
}

// NewUpgradeOperation returns the PENDING operation that carries out plan
// on inst, for the UpgradeInstanceVersion handler to store with
// OperationService.StartOperation in the same transaction that moves inst
// to ServiceStatus 8 / ViewStatus 7. It has one ROLL_BROKER step per broker
// in broker-id order; INITIALIZE_UPDATE reorders them by the runtime's
// RollOrder when it runs, because only the running brokers know which one
// is the controller.
func NewUpgradeOperation(inst *kafkaplane.Instance, plan kafkaplane.UpgradePlan, id string, now time.Time) *kafkaplane.Operation {
	steps := make([]kafkaplane.OperationStep, 0, len(inst.BrokerPorts)+2)
	steps = append(steps, kafkaplane.OperationStep{Name: StepInitializeUpdate, Status: kafkaplane.StepPending, BrokerID: noBroker})
	for i := range inst.BrokerPorts {
		steps = append(steps, kafkaplane.OperationStep{Name: StepRollBroker, Status: kafkaplane.StepPending, BrokerID: int32(i)})
	}
	steps = append(steps, kafkaplane.OperationStep{Name: StepFinalizeUpdate, Status: kafkaplane.StepPending, BrokerID: noBroker})
	return &kafkaplane.Operation{
		ID:            id,
		AccountID:     inst.AccountID,
		RegionID:      inst.RegionID,
		InstanceID:    inst.ID,
		Type:          TypeUpgradeInstanceVersion,
		State:         kafkaplane.OperationPending,
		SourceVersion: plan.SourceVersion,
		SourceMinor:   plan.SourceMinor,
		TargetVersion: plan.TargetVersion,
		TargetMinor:   plan.TargetMinor,
		Steps:         steps,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
}

// SpecFor returns the broker.Spec that brings back inst's brokers as they
// last ran: Version, Minor, the ports of every listener and Config from the
// instance (Security is added by SecureRuntime on every Start), and
// BrokerVersions for brokers that an unfinished or failed upgrade already
// rolled onto its target version. The server calls it at start-up (see
// Worker.RestoreRunning) and INITIALIZE_UPDATE calls it before rolling, so
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
func SpecFor(inst *kafkaplane.Instance, ops []*kafkaplane.Operation) broker.Spec {
	spec := broker.Spec{
		InstanceID: inst.ID,
		Version:    inst.Version,
		Minor:      inst.MinorVersion,
		Ports:      slices.Clone(inst.BrokerPorts),
		SaslPorts:  slices.Clone(inst.SaslPorts),
		SslPorts:   slices.Clone(inst.SslPorts),
		Config:     maps.Clone(inst.Config),
	}
	var ups []*kafkaplane.Operation
	for _, op := range ops {
		if op != nil && op.InstanceID == inst.ID && op.Type == TypeUpgradeInstanceVersion {
			ups = append(ups, op)
		}
	}
	slices.SortStableFunc(ups, func(a, b *kafkaplane.Operation) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	rolled := map[int32]string{}
	for _, op := range ups {
		if op.State == kafkaplane.OperationComplete {
			clear(rolled)
			continue
		}
		for _, s := range op.Steps {
			if s.Name == StepRollBroker && s.Status == kafkaplane.StepComplete {
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

// reorderRolls sorts the ROLL_BROKER steps that are not COMPLETE by their
// broker's position in order, in place and keeping the slots the roll
// steps occupy, so the steps before and after them stay where they are.
// Brokers the order does not mention keep their relative order and go
// last: rolling them later is safer than guessing they are not the
// controller.
func reorderRolls(steps []kafkaplane.OperationStep, order []int32) {
	rank := make(map[int32]int, len(order))
	for i, id := range order {
		if _, dup := rank[id]; !dup {
			rank[id] = i
		}
	}
	var slots []int
	var pending []kafkaplane.OperationStep
	for i, s := range steps {
		if s.Name == StepRollBroker && s.Status != kafkaplane.StepComplete {
			slots = append(slots, i)
			pending = append(pending, s)
		}
	}
	pos := func(id int32) int {
		if r, ok := rank[id]; ok {
			return r
		}
		return len(order)
	}
	slices.SortStableFunc(pending, func(a, b kafkaplane.OperationStep) int {
		return cmp.Compare(pos(a.BrokerID), pos(b.BrokerID))
	})
	for k, i := range slots {
		steps[i] = pending[k]
	}
}

// cloneOperation returns a copy of op that shares nothing mutable with it,
// so that an Observer may keep it while the worker goes on.
func cloneOperation(op *kafkaplane.Operation) *kafkaplane.Operation {
	c := *op
	c.Steps = slices.Clone(op.Steps)
	return &c
}
