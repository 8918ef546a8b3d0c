package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kafkaplane/kafkaplane"
)

// operationColumns is the column list every operation read selects, in the
// order scanOperation expects.
const operationColumns = `id, account_id, region_id, instance_id, type, state,
	source_version, source_minor, target_version, target_minor, steps,
	error_code, error_message, attempts, lease_owner, lease_until,
	created_at, updated_at, finished_at, modify_index, next_attempt_at`

// stepJSON is the stored shape of an operation step; times are unix
// microseconds like every other stored time.
type stepJSON struct {
	Name       string `json:"name"`
	Status     string `json:"status"`
	BrokerID   int32  `json:"broker_id"`
	Detail     string `json:"detail,omitempty"`
	StartedAt  int64  `json:"started_at,omitempty"`
	FinishedAt int64  `json:"finished_at,omitempty"`
}

func encodeSteps(steps []kafkaplane.OperationStep) (string, error) {
	sj := make([]stepJSON, 0, len(steps))
	for _, s := range steps {
		sj = append(sj, stepJSON{
			Name: s.Name, Status: string(s.Status), BrokerID: s.BrokerID, Detail: s.Detail,
			StartedAt: toMicros(s.StartedAt), FinishedAt: toMicros(s.FinishedAt),
		})
	}
	b, err := json.Marshal(sj)
	return string(b), err
}

// normSteps truncates step times in place to the stored precision.
func normSteps(steps []kafkaplane.OperationStep) {
	for i := range steps {
		steps[i].StartedAt = norm(steps[i].StartedAt)
		steps[i].FinishedAt = norm(steps[i].FinishedAt)
	}
}

func scanOperation(s scanner) (*kafkaplane.Operation, error) {
	var (
		op                       kafkaplane.Operation
		typ, state, steps        string
		attempts                 int64
		lease, created, upd, fin int64
		next                     int64
	)
	err := s.Scan(&op.ID, &op.AccountID, &op.RegionID, &op.InstanceID, &typ, &state,
		&op.SourceVersion, &op.SourceMinor, &op.TargetVersion, &op.TargetMinor, &steps,
		&op.ErrorCode, &op.ErrorMessage, &attempts, &op.LeaseOwner, &lease,
		&created, &upd, &fin, &op.ModifyIndex, &next)
	if err != nil {
		return nil, err
	}
	op.Type, op.State, op.Attempts = kafkaplane.OperationType(typ), kafkaplane.OperationState(state), int(attempts)
	op.LeaseUntil, op.CreatedAt, op.UpdatedAt, op.FinishedAt = fromMicros(lease), fromMicros(created), fromMicros(upd), fromMicros(fin)
	op.NextAttemptAt = fromMicros(next)
	var sj []stepJSON
	if err := json.Unmarshal([]byte(steps), &sj); err != nil {
		return nil, fmt.Errorf("operation %s steps: %w", op.ID, err)
	}
	for _, s := range sj {
		op.Steps = append(op.Steps, kafkaplane.OperationStep{
			Name: s.Name, Status: kafkaplane.StepStatus(s.Status), BrokerID: s.BrokerID, Detail: s.Detail,
			StartedAt: fromMicros(s.StartedAt), FinishedAt: fromMicros(s.FinishedAt),
		})
	}
	return &op, nil
}

// StartOperation writes inst (compare-and-set) and inserts op, in one
// transaction. The partial unique index operations_one_active lets at most
// one PENDING or IN_PROGRESS operation exist per instance; losing either
// the instance's compare-and-set or that index is CodeConflict, and then
// nothing is written and inst and op are left as they were. On success
// inst.ModifyIndex has advanced and op carries ModifyIndex 1 and its
// timestamps (CreatedAt and UpdatedAt default to the store clock).
func (db *DB) StartOperation(ctx context.Context, inst *kafkaplane.Instance, op *kafkaplane.Operation) error {
	if op.State == "" {
		op.State = kafkaplane.OperationPending
	}
	steps, err := encodeSteps(op.Steps)
	if err != nil {
		return wrap("start operation", err)
	}
	created := db.orNow(op.CreatedAt)
	updated := created
	if !op.UpdatedAt.IsZero() {
		updated = norm(op.UpdatedAt)
	}
	savedInst := *inst
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.updateInstance(ctx, tx, inst); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO operations (`+operationColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, 1, $20)`,
			op.ID, op.AccountID, op.RegionID, op.InstanceID, string(op.Type), string(op.State),
			op.SourceVersion, op.SourceMinor, op.TargetVersion, op.TargetMinor, steps,
			op.ErrorCode, op.ErrorMessage, op.Attempts, op.LeaseOwner, toMicros(op.LeaseUntil),
			toMicros(created), toMicros(updated), toMicros(op.FinishedAt), toMicros(op.NextAttemptAt))
		if isUniqueViolation(err) {
			return kafkaplane.Errorf(kafkaplane.CodeConflict, "The instance %s already has an operation in progress.", op.InstanceID)
		}
		if isForeignKeyViolation(err) {
			return instanceNotFound(op.InstanceID)
		}
		return err
	})
	if err != nil {
		*inst = savedInst
		return wrap("start operation", err)
	}
	normSteps(op.Steps)
	op.CreatedAt, op.UpdatedAt = created, updated
	op.LeaseUntil, op.FinishedAt, op.NextAttemptAt = norm(op.LeaseUntil), norm(op.FinishedAt), norm(op.NextAttemptAt)
	op.ModifyIndex = 1
	return nil
}

// FindOperation returns one operation of the account, or
// CodeOperationNotFound.
func (db *DB) FindOperation(ctx context.Context, accountID, id string) (*kafkaplane.Operation, error) {
	op, err := scanOperation(db.queryRow(ctx, `SELECT `+operationColumns+` FROM operations
		WHERE id = $1 AND account_id = $2`, id, accountID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, operationNotFound(id)
	}
	return op, wrap("find operation", err)
}

func operationNotFound(id string) error {
	return kafkaplane.Errorf(kafkaplane.CodeOperationNotFound, "The operation %s does not exist.", id)
}

// FindOperations lists operations matching f, newest first (creation time,
// then id, descending). Empty filter fields do not filter.
func (db *DB) FindOperations(ctx context.Context, f kafkaplane.OperationFilter) ([]*kafkaplane.Operation, error) {
	var (
		where []string
		args  []any
	)
	eq := func(col, v string) {
		if v != "" {
			args = append(args, v)
			where = append(where, fmt.Sprintf("%s = $%d", col, len(args)))
		}
	}
	eq("account_id", f.AccountID)
	eq("region_id", f.RegionID)
	eq("instance_id", f.InstanceID)
	if f.Active {
		where = append(where, "state IN ('PENDING', 'IN_PROGRESS')")
	}
	q := `SELECT ` + operationColumns + ` FROM operations`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	return scanAll("find operations", scanOperation)(db.query(ctx, q+` ORDER BY created_at DESC, id DESC`, args...))
}

// ClaimOperation leases the oldest active operation whose lease is free
// (lease_until 0) or expired (lease_until <= now) and whose next attempt is
// due (next_attempt_at <= now) to owner until now+lease,
// sets it IN_PROGRESS and counts the attempt, in one statement. On
// PostgreSQL the inner SELECT uses FOR UPDATE SKIP LOCKED so that
// concurrent workers each take a different operation instead of queueing on
// one row; on SQLite the statement holds the database write lock, which
// serialises claimers. It returns nil, nil when nothing is claimable.
func (db *DB) ClaimOperation(ctx context.Context, owner string, now time.Time, lease time.Duration) (*kafkaplane.Operation, error) {
	nowUS := toMicros(now)
	unlock := db.writing()
	defer unlock()
	op, err := scanOperation(db.queryRow(ctx, `UPDATE operations SET
			state = 'IN_PROGRESS', attempts = attempts + 1, lease_owner = $1, lease_until = $2,
			updated_at = $3, modify_index = modify_index + 1
		WHERE id = (
			SELECT id FROM operations
			WHERE state IN ('PENDING', 'IN_PROGRESS') AND lease_until <= $3 AND next_attempt_at <= $3
			ORDER BY created_at, id
			LIMIT 1 `+db.d.skipLocked+`
		)
		RETURNING `+operationColumns,
		owner, toMicros(now.Add(lease)), nowUS))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return op, wrap("claim operation", err)
}

// UpdateOperation writes op's mutable fields (state, steps, error, lease,
// attempts, next attempt, timestamps) with compare-and-set on its ModifyIndex and then
// advances op.ModifyIndex. A zero UpdatedAt is set from the store clock.
func (db *DB) UpdateOperation(ctx context.Context, op *kafkaplane.Operation) error {
	defer db.writing()()
	return wrap("update operation", db.updateOperation(ctx, db.db, op))
}

func (db *DB) updateOperation(ctx context.Context, q querier, op *kafkaplane.Operation) error {
	steps, err := encodeSteps(op.Steps)
	if err != nil {
		return err
	}
	updated := db.orNow(op.UpdatedAt)
	res, err := q.ExecContext(ctx, `UPDATE operations SET
		state = $3, steps = $4, error_code = $5, error_message = $6, attempts = $7,
		lease_owner = $8, lease_until = $9, updated_at = $10, finished_at = $11,
		source_version = $12, source_minor = $13, target_version = $14, target_minor = $15,
		next_attempt_at = $16, modify_index = modify_index + 1
		WHERE id = $1 AND modify_index = $2`,
		op.ID, op.ModifyIndex,
		string(op.State), steps, op.ErrorCode, op.ErrorMessage, op.Attempts,
		op.LeaseOwner, toMicros(op.LeaseUntil), toMicros(updated), toMicros(op.FinishedAt),
		op.SourceVersion, op.SourceMinor, op.TargetVersion, op.TargetMinor, toMicros(op.NextAttemptAt))
	if isUniqueViolation(err) {
		// Only reachable by turning a finished operation active again
		// while another one is active on the instance.
		return kafkaplane.Errorf(kafkaplane.CodeConflict, "The instance %s already has an operation in progress.", op.InstanceID)
	}
	if err != nil {
		return err
	}
	ok, err := oneRow(res)
	if err != nil {
		return err
	}
	if !ok {
		found, err := exists(ctx, q, `SELECT 1 FROM operations WHERE id = $1`, op.ID)
		if err != nil {
			return err
		}
		if !found {
			return operationNotFound(op.ID)
		}
		return kafkaplane.Errorf(kafkaplane.CodeConflict, "The operation %s was changed concurrently; retry.", op.ID)
	}
	normSteps(op.Steps)
	op.UpdatedAt, op.LeaseUntil, op.FinishedAt = updated, norm(op.LeaseUntil), norm(op.FinishedAt)
	op.NextAttemptAt = norm(op.NextAttemptAt)
	op.ModifyIndex++
	return nil
}

// FinishOperation writes the final op and inst in one transaction, both
// compare-and-set: either both rows change or, on any error, neither does
// and op and inst are left as they were. A zero FinishedAt is set from the
// store clock when op is done.
func (db *DB) FinishOperation(ctx context.Context, op *kafkaplane.Operation, inst *kafkaplane.Instance) error {
	savedOp, savedInst := *op, *inst
	savedOp.Steps = append([]kafkaplane.OperationStep(nil), op.Steps...)
	if op.Done() && op.FinishedAt.IsZero() {
		op.FinishedAt = db.now()
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.updateOperation(ctx, tx, op); err != nil {
			return err
		}
		return db.updateInstance(ctx, tx, inst)
	})
	if err != nil {
		*op, *inst = savedOp, savedInst
		return wrap("finish operation", err)
	}
	return nil
}
