package jobs

import (
	"context"
	"fmt"

	"github.com/kafkaplane/kafkaplane"
)

// The specification change, under the names callers of jobs know.
const (
	TypeChangeSpec   = kafkaplane.OperationChangeSpec
	StepCheckBrokers = kafkaplane.StepCheckBrokers
	StepFinalizeSpec = kafkaplane.StepFinalizeSpec
)

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
		// Its work is the finishing transaction itself.
		return nil, nil, nil
	}
	return nil, nil, kafkaplane.Errorf(kafkaplane.CodeUnsupportedStep, "Operation type %s has no step %q.", TypeChangeSpec, step.Name)
}
