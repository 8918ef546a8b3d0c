package openapi

import (
	"context"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
)

// The lifecycle actions: rename, stop, reopen, release and delete, each a
// move of the state table in status.go.

func (s *Instances) modifyInstanceName(ctx context.Context, r *Request) (Object, error) {
	_, err := s.change(ctx, r, func(inst *kafkaplane.Instance) error {
		if inst.State() == kafkaplane.StateReleased {
			return statusError(inst, "ModifyInstanceName")
		}
		inst.Name = r.String("InstanceName")
		return nil
	})
	return Object{}, err
}

// stopInstance takes a pay-as-you-go instance's brokers down and keeps
// their data; subscription instances cannot be stopped. The row changes
// first: a concurrent upgrade then loses its compare-and-set instead of
// rolling brokers that are going away.
func (s *Instances) stopInstance(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.change(ctx, r, func(inst *kafkaplane.Instance) error {
		if inst.PaidType == 0 {
			return apierr.InstanceStatus.Errorf("Subscription instances cannot be stopped.")
		}
		return inst.Apply(kafkaplane.EventStop)
	})
	if err != nil {
		return nil, err
	}
	return Object{}, s.Runtime.Stop(ctx, inst.ID)
}

// reopenInstance brings a stopped instance's brokers back with their data.
// The status changes first, so a concurrent ReleaseInstance either sees a
// running instance (and stops it) or loses; if the brokers cannot start,
// the instance goes back to stopped.
func (s *Instances) reopenInstance(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.change(ctx, r, func(inst *kafkaplane.Instance) error {
		return inst.Apply(kafkaplane.EventReopen)
	})
	if err != nil {
		return nil, err
	}
	ops, err := s.Operations.FindOperations(ctx, kafkaplane.OperationFilter{AccountID: inst.AccountID, InstanceID: inst.ID})
	if err == nil {
		_, err = s.Runtime.Start(ctx, kafkaplane.SpecFor(inst, ops))
	}
	if err != nil {
		_, _ = s.change(ctx, r, func(inst *kafkaplane.Instance) error {
			return inst.Apply(kafkaplane.EventReopenFailed)
		})
		return nil, err
	}
	return Object{}, nil
}

// releaseInstance releases a pay-as-you-go instance: its brokers stop and
// it stays listed with ServiceStatus 15 (ViewInstanceStatusCode 6) until
// DeleteInstance removes it, which is what Terraform's destroy waits for.
// With ForceDeleteInstance the brokers' data goes at once; without it the
// data is kept until DeleteInstance.
func (s *Instances) releaseInstance(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.change(ctx, r, func(inst *kafkaplane.Instance) error {
		if inst.PaidType == 0 {
			return apierr.InstanceStatus.Errorf("Subscription instances are released when they expire; ReleaseInstance applies to pay-as-you-go instances.")
		}
		return inst.Apply(kafkaplane.EventRelease)
	})
	if err != nil {
		return nil, err
	}
	if r.Bool("ForceDeleteInstance", false) {
		return Object{}, s.Runtime.Destroy(ctx, inst.ID)
	}
	return Object{}, s.Runtime.Stop(ctx, inst.ID)
}

// deleteInstance removes a released instance and its data. The brokers'
// data goes first and the row last, so a destroy that fails leaves the
// instance listed as released, and DeleteInstance can be called again
// (Destroy of what is already gone succeeds). The store removes the
// instance's topics and consumer groups with the row. A released instance
// runs no operation and cannot be reopened, so nothing starts its brokers
// again in between. Deleted, it leaves every list, and its id answers
// BIZ_INSTANCE_NOT_FOUND from then on.
func (s *Instances) deleteInstance(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.find(ctx, r)
	if err != nil {
		return nil, err
	}
	if err := inst.Apply(kafkaplane.EventDelete); err != nil {
		return nil, err
	}
	if err := s.Runtime.Destroy(ctx, inst.ID); err != nil {
		return nil, err
	}
	if err := s.Store.DeleteInstance(ctx, inst); err != nil {
		return nil, s.raced(ctx, r, err, "DeleteInstance")
	}
	return Object{}, nil
}
