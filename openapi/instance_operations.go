package openapi

import (
	"context"
	"time"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
)

// UpgradeInstanceVersion and the operations it starts, as the API shows
// them (docs/upgrade.md).

// upgradeInstanceVersion accepts an upgrade per the seed's TargetVersion
// table. Acceptance is one transaction: the instance leaves Running
// (ServiceStatus 8, ViewInstanceStatusCode 7) and the operation is written;
// of concurrent calls exactly one wins the compare-and-set.
func (s *Instances) upgradeInstanceVersion(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.find(ctx, r)
	if err != nil {
		return nil, err
	}
	target := r.String("TargetVersion")
	// The version rules come first: a request that could never be
	// accepted says why, whatever the instance is doing.
	plan, err := s.Catalogue.PlanUpgrade(inst.Version, inst.MinorVersion, target)
	if inst.ServiceStatus != kafkaplane.ServiceStatusRunning {
		if err != nil && kafkaplane.ErrorCode(err) != kafkaplane.CodeNothingToUpgrade {
			return nil, err
		}
		return nil, statusError(inst, "UpgradeInstanceVersion")
	}
	if err != nil {
		return nil, err
	}
	if err := inst.Apply(kafkaplane.EventUpgrade); err != nil {
		return nil, err
	}
	op := kafkaplane.NewUpgradeOperation(inst, plan, newOperationID(), s.now())
	if err := s.Operations.StartOperation(ctx, inst, op); err != nil {
		return nil, s.raced(ctx, r, err, "UpgradeInstanceVersion")
	}
	s.wake()
	return Object{}, nil
}

func (s *Instances) listInstanceOperations(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.find(ctx, r)
	if err != nil {
		return nil, err
	}
	ops, err := s.Operations.FindOperations(ctx, kafkaplane.OperationFilter{AccountID: inst.AccountID, InstanceID: inst.ID})
	if err != nil {
		return nil, err
	}
	out := make([]Object, 0, len(ops))
	for _, op := range ops {
		out = append(out, operationVO(op))
	}
	return Object{{"Operations", Object{{"OperationVO", out}}}}, nil
}

// findOperation returns an operation of the caller's account in the
// request's region; any other is reported as not found.
func (s *Instances) findOperation(ctx context.Context, r *Request) (*kafkaplane.Operation, error) {
	op, err := s.Operations.FindOperation(ctx, r.Caller.AccountID, r.String("OperationId"))
	if err == nil && op.RegionID != r.RegionID {
		err = kafkaplane.Errorf(kafkaplane.CodeOperationNotFound, "")
	}
	if kafkaplane.ErrorCode(err) == kafkaplane.CodeOperationNotFound {
		return nil, apierr.OperationNotFound.Errorf("The operation %s does not exist in region %s.", r.String("OperationId"), r.RegionID)
	}
	return op, err
}

// operationInstance is the instance an OperationId names, for
// authorization. An operation the caller's account does not have in the
// region names no instance: the request is authorized on all the
// account's instances ("*"), which tells the caller nothing about
// operations of other accounts, and the handler then reports it missing.
func (s *Instances) operationInstance(ctx context.Context, r *Request) (string, error) {
	op, err := s.findOperation(ctx, r)
	if kafkaplane.ErrorCode(err) == apierr.OperationNotFound.Code {
		return "*", nil
	}
	if err != nil {
		return "", err
	}
	return op.InstanceID, nil
}

func (s *Instances) describeInstanceOperation(ctx context.Context, r *Request) (Object, error) {
	op, err := s.findOperation(ctx, r)
	if err != nil {
		return nil, err
	}
	return Object{{"Operation", operationVO(op)}}, nil
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func operationVO(op *kafkaplane.Operation) Object {
	steps := make([]Object, 0, len(op.Steps))
	for _, st := range op.Steps {
		o := Object{{"StepName", st.Name}, {"StepStatus", string(st.Status)}}
		if st.BrokerID >= 0 {
			o = append(o, Field{"BrokerId", st.BrokerID})
		}
		o = append(o, Field{"Detail", st.Detail}, Field{"StartTime", millis(st.StartedAt)}, Field{"EndTime", millis(st.FinishedAt)})
		steps = append(steps, o)
	}
	return Object{
		{"OperationId", op.ID},
		{"InstanceId", op.InstanceID},
		{"RegionId", op.RegionID},
		{"OperationType", string(op.Type)},
		{"OperationState", string(op.State)},
		{"SourceVersion", op.SourceVersion},
		{"SourceMinorVersion", op.SourceMinor},
		{"TargetVersion", op.TargetVersion},
		{"TargetMinorVersion", op.TargetMinor},
		{"Steps", Object{{"StepVO", steps}}},
		{"ErrorInfo", Object{{"ErrorCode", op.ErrorCode}, {"ErrorString", op.ErrorMessage}}},
		{"Attempts", op.Attempts},
		{"CreateTime", millis(op.CreatedAt)},
		{"UpdateTime", millis(op.UpdatedAt)},
		{"EndTime", millis(op.FinishedAt)},
	}
}

// getUpgradableVersions lists the versions UpgradeInstanceVersion would
// accept for the instance now, like MSK's GetCompatibleKafkaVersions.
func (s *Instances) getUpgradableVersions(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.find(ctx, r)
	if err != nil {
		return nil, err
	}
	targets := []Object{}
	for _, v := range s.Catalogue.UpgradeTargets(inst.Version, inst.MinorVersion) {
		targets = append(targets, Object{{"TargetVersion", v}, {"TargetMinorVersion", s.Catalogue.LatestMinor(v)}})
	}
	return Object{
		{"CurrentVersion", inst.Version},
		{"CurrentMinorVersion", inst.MinorVersion},
		{"LatestMinorVersion", s.Catalogue.LatestMinor(inst.Version)},
		{"UpgradableVersions", Object{{"UpgradableVersionVO", targets}}},
	}, nil
}
