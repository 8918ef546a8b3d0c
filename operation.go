package kafkaplane

import (
	"context"
	"time"
)

// OperationType names what an operation does.
type OperationType string

// Operation types; plan.go gives each its steps and the instance events
// that finish it.
const (
	// OperationStartInstance deploys the brokers of an instance that
	// StartInstance accepted (Deploying).
	OperationStartInstance OperationType = "START_INSTANCE"
	// OperationUpgradeInstanceVersion rolls every broker of an instance
	// onto a new version or minor version (Upgrading).
	OperationUpgradeInstanceVersion OperationType = "UPGRADE_INSTANCE_VERSION"
	// OperationFailoverTest restarts one broker of a Running instance
	// through the rolling-restart path (FailoverTest); the instance stays
	// Running.
	OperationFailoverTest OperationType = "FAILOVER_TEST"
)

// OperationState is the state of an operation, as AWS MSK names them.
type OperationState string

// Operation states.
const (
	OperationPending    OperationState = "PENDING"
	OperationInProgress OperationState = "IN_PROGRESS"
	OperationComplete   OperationState = "COMPLETE"
	OperationFailed     OperationState = "FAILED"
)

// StepStatus is the status of one step of an operation.
type StepStatus string

// Step statuses.
const (
	StepPending    StepStatus = "PENDING"
	StepInProgress StepStatus = "IN_PROGRESS"
	StepComplete   StepStatus = "COMPLETE"
	StepFailed     StepStatus = "FAILED"
)

// OperationStep is one ordered, recorded step of an operation. A worker
// that resumes an operation starts at its first step that is not COMPLETE.
type OperationStep struct {
	Name       string
	Status     StepStatus
	BrokerID   int32 // the broker a roll step restarts; -1 for other steps
	Detail     string
	StartedAt  time.Time
	FinishedAt time.Time
}

// Operation is a durable asynchronous change to an instance, run by a worker
// from the store.
type Operation struct {
	ID         string
	AccountID  string
	RegionID   string
	InstanceID string
	Type       OperationType
	State      OperationState

	SourceVersion string
	SourceMinor   string
	TargetVersion string
	TargetMinor   string

	Steps []OperationStep

	ErrorCode    string
	ErrorMessage string

	// Attempts counts how many times a worker claimed the operation. It is
	// stored, so a cap on it holds across restarts.
	Attempts int
	// NextAttemptAt, when set, is the earliest time a worker may claim the
	// operation again: a worker whose attempt ended without finishing the
	// operation backs off by setting it.
	NextAttemptAt time.Time
	// LeaseOwner and LeaseUntil say which worker runs the operation and
	// until when; an expired lease lets another worker (or the same process
	// after a restart) resume it.
	LeaseOwner string
	LeaseUntil time.Time

	CreatedAt   time.Time
	UpdatedAt   time.Time
	FinishedAt  time.Time
	ModifyIndex int64
}

// Done reports whether the operation reached a final state.
func (o *Operation) Done() bool {
	return o.State == OperationComplete || o.State == OperationFailed
}

// NextStep returns the index of the first step that is not complete, or
// len(o.Steps) when every step is.
func (o *Operation) NextStep() int {
	for i, s := range o.Steps {
		if s.Status != StepComplete {
			return i
		}
	}
	return len(o.Steps)
}

// OperationFilter selects operations.
type OperationFilter struct {
	AccountID  string
	RegionID   string
	InstanceID string
	// Active selects only PENDING and IN_PROGRESS operations.
	Active bool
}

// OperationService stores operations. Methods that touch an instance and an
// operation do so in one transaction, so a crash never leaves one changed
// without the other.
type OperationService interface {
	// StartOperation writes inst (compare-and-set on its ModifyIndex) and
	// inserts op in one transaction. At most one PENDING or IN_PROGRESS
	// operation may exist per instance: a second one fails with
	// CodeConflict and changes nothing.
	StartOperation(ctx context.Context, inst *Instance, op *Operation) error
	// FindOperation returns one operation of the account, or an error with
	// CodeOperationNotFound.
	FindOperation(ctx context.Context, accountID, id string) (*Operation, error)
	// FindOperations lists operations, newest first.
	FindOperations(ctx context.Context, f OperationFilter) ([]*Operation, error)
	// ClaimOperation leases the oldest PENDING or IN_PROGRESS operation
	// whose lease is free or expired at now and whose NextAttemptAt is not
	// after now to owner until now+lease,
	// increments its Attempts and sets it IN_PROGRESS. It returns nil, nil
	// when there is nothing to claim.
	ClaimOperation(ctx context.Context, owner string, now time.Time, lease time.Duration) (*Operation, error)
	// UpdateOperation writes op (steps, lease, state) with compare-and-set
	// on its ModifyIndex.
	UpdateOperation(ctx context.Context, op *Operation) error
	// FinishOperation writes the final op and inst in one transaction, both
	// compare-and-set.
	FinishOperation(ctx context.Context, op *Operation, inst *Instance) error
}
