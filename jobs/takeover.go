package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/kafkaplane/kafkaplane"
)

// ReleaseLeases clears the lease of every active operation that owner
// holds, so that any worker may claim it now instead of when the lease
// expires. It is for leases whose holder is known to have stopped: this
// worker's own from before a restart (Run does it first thing), or those of
// a process whose data plane lease ended, which stopped its worker before
// that (cmd/kafkaplane). A lease someone else took meanwhile is left to
// them. It returns how many leases it cleared.
func ReleaseLeases(ctx context.Context, ops kafkaplane.OperationService, owner string, now time.Time, log *slog.Logger) (int, error) {
	if owner == "" {
		return 0, nil
	}
	active, err := ops.FindOperations(ctx, kafkaplane.OperationFilter{Active: true})
	if err != nil {
		return 0, fmt.Errorf("jobs: find operations leased to %s: %w", owner, err)
	}
	n := 0
	for _, op := range active {
		if op.LeaseOwner != owner {
			continue
		}
		op.LeaseOwner, op.LeaseUntil, op.UpdatedAt = "", time.Time{}, now
		switch err := ops.UpdateOperation(ctx, op); {
		case err == nil:
			n++
			log.Info("released a stopped worker's lease", "op", op.ID, "instance", op.InstanceID, "lease_owner", owner)
		case lostRace(err):
			// Someone claimed it meanwhile (the lease had expired); it is
			// theirs now.
		default:
			return n, fmt.Errorf("jobs: release lease of %s: %w", op.ID, err)
		}
	}
	return n, nil
}
