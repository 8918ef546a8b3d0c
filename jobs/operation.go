package jobs

import (
	"cmp"
	"slices"

	"github.com/kafkaplane/kafkaplane"
)

// Operation types the worker runs and their steps belong to the domain
// (plan.go in package kafkaplane); these names keep the jobs package's
// spelling.
const (
	TypeStartInstance          = kafkaplane.OperationStartInstance
	TypeUpgradeInstanceVersion = kafkaplane.OperationUpgradeInstanceVersion
	TypeFailoverTest           = kafkaplane.OperationFailoverTest

	StepDeployBrokers    = kafkaplane.StepDeployBrokers
	StepInitializeUpdate = kafkaplane.StepInitializeUpdate
	StepRollBroker       = kafkaplane.StepRollBroker
	StepFinalizeUpdate   = kafkaplane.StepFinalizeUpdate
	StepFailBroker       = kafkaplane.StepFailBroker
	StepCheckRecovery    = kafkaplane.StepCheckRecovery
)

// Plans of the domain, under the names callers of jobs know.
var (
	NewStartOperation    = kafkaplane.NewStartOperation
	NewUpgradeOperation  = kafkaplane.NewUpgradeOperation
	NewFailoverOperation = kafkaplane.NewFailoverOperation
	SpecFor              = kafkaplane.SpecFor
)

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
