package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/kafkaplane/kafkaplane"
)

// pruneEvery is how many UseNonce (or TakeGCRA) calls pass between two
// opportunistic deletes of expired rows: often enough to bound the tables,
// rarely enough that the hot path is one upsert.
const pruneEvery = 1000

// nonceBucket is the width of the expiry buckets nonce_counts counts a
// key's nonces in.
const nonceBucket = int64(time.Minute / time.Microsecond)

// UseNonce implements kafkaplane.NonceService. The primary key
// (access_key_id, nonce) decides atomically across replicas: of concurrent
// uses one inserts the row and the others find it. A row whose expiry has
// passed says no more than a missing one and is overwritten as fresh, so the
// answer does not depend on whether pruning has run yet.
//
// The limit is checked against nonce_counts: the key's nonces expiring in
// the current minute or later, which counts every unexpired one (and those
// that expired earlier in the current minute). Every pruneEvery-th call
// deletes expired rows of both tables.
func (db *DB) UseNonce(ctx context.Context, accessKeyID, nonce string, now, expires time.Time, limit int) (bool, error) {
	nowUS, expUS := toMicros(now), toMicros(expires)
	fresh := false
	var limited error
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var held int64
		err := tx.QueryRowContext(ctx, `SELECT expires_at FROM nonces WHERE access_key_id = $1 AND nonce = $2`, accessKeyID, nonce).Scan(&held)
		switch {
		case err == nil && held > nowUS:
			return nil
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return err
		}
		var n, first int64
		if err := tx.QueryRowContext(ctx, `SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT), CAST(COALESCE(MIN(bucket), 0) AS BIGINT)
			FROM nonce_counts WHERE access_key_id = $1 AND bucket >= $2`, accessKeyID, nowUS/nonceBucket).Scan(&n, &first); err != nil {
			return err
		}
		if n >= int64(limit) {
			retry := max(time.Duration((first+1)*nonceBucket-nowUS)*time.Microsecond, 0)
			limited = &kafkaplane.NonceLimitError{Limit: limit, RetryAfter: retry}
			return nil
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO nonces (access_key_id, nonce, expires_at) VALUES ($1, $2, $3)
			ON CONFLICT (access_key_id, nonce) DO UPDATE SET expires_at = excluded.expires_at
			WHERE nonces.expires_at <= $4
			RETURNING expires_at`, accessKeyID, nonce, expUS, nowUS).Scan(&held)
		if errors.Is(err, sql.ErrNoRows) {
			// A concurrent use of the nonce committed first.
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO nonce_counts (access_key_id, bucket, n) VALUES ($1, $2, 1)
			ON CONFLICT (access_key_id, bucket) DO UPDATE SET n = nonce_counts.n + 1`, accessKeyID, expUS/nonceBucket); err != nil {
			return err
		}
		fresh = true
		return nil
	})
	if err != nil {
		return false, wrap("use nonce", err)
	}
	if limited != nil {
		return false, limited
	}
	if db.nonceCalls.Add(1)%pruneEvery == 0 {
		if _, err := db.exec(ctx, `DELETE FROM nonces WHERE expires_at <= $1`, nowUS); err != nil {
			return fresh, wrap("prune nonces", err)
		}
		if _, err := db.exec(ctx, `DELETE FROM nonce_counts WHERE bucket < $1`, nowUS/nonceBucket); err != nil {
			return fresh, wrap("prune nonce counts", err)
		}
	}
	return fresh, nil
}

// TakeGCRA takes one request from the GCRA limiter of key at now, with
// emission interval T = interval (1/rate) and burst tolerance
// τ = tolerance (interval·(burst−1)). It is one statement implementing
// the GCRA of docs/quotas.md: an upsert of the key's theoretical arrival time
// (tat) that only writes when max(tat, now) − now ≤ τ, setting
// tat = max(tat, now) + T. The row lock of ON CONFLICT serialises
// concurrent callers, so replicas sharing a PostgreSQL database share the
// limit exactly. now is the caller's clock rather than the database's so
// that tests are deterministic; replicas should run NTP-synchronised
// clocks.
//
// When the request is throttled, retryAfter is how long until one would be
// allowed (tat − τ − now), read by a second query only on that path.
// Every pruneEvery-th call deletes rows whose tat has passed: such a row
// says no more than a missing one.
func (db *DB) TakeGCRA(ctx context.Context, key string, now time.Time, interval, tolerance time.Duration) (allowed bool, retryAfter time.Duration, err error) {
	nowUS := now.UnixMicro()
	t, tau := interval.Microseconds(), tolerance.Microseconds()
	g := db.d.greatest
	var tat int64
	unlock := db.writing()
	err = db.queryRow(ctx, `INSERT INTO gcra AS r (key, tat) VALUES ($1, CAST($2 AS BIGINT) + CAST($3 AS BIGINT))
		ON CONFLICT (key) DO UPDATE SET tat = `+g+`(r.tat, CAST($2 AS BIGINT)) + CAST($3 AS BIGINT)
		WHERE `+g+`(r.tat, CAST($2 AS BIGINT)) - CAST($2 AS BIGINT) <= CAST($4 AS BIGINT)
		RETURNING tat`, key, nowUS, t, tau).Scan(&tat)
	unlock()
	switch {
	case err == nil:
		allowed = true
	case errors.Is(err, sql.ErrNoRows):
		err = db.queryRow(ctx, `SELECT tat FROM gcra WHERE key = $1`, key).Scan(&tat)
		if errors.Is(err, sql.ErrNoRows) {
			// Pruned in between: the key is idle again.
			return false, 0, nil
		}
		if err != nil {
			return false, 0, wrap("gcra", err)
		}
		retryAfter = max(time.Duration(tat-tau-nowUS)*time.Microsecond, 0)
	default:
		return false, 0, wrap("gcra", err)
	}
	if db.gcraCalls.Add(1)%pruneEvery == 0 {
		if _, err := db.exec(ctx, `DELETE FROM gcra WHERE tat < $1`, nowUS); err != nil {
			return allowed, retryAfter, wrap("prune gcra", err)
		}
	}
	return allowed, retryAfter, nil
}

// withinLimit fails with CodeLimitExceeded when countQuery (one count(*)
// with args) already reaches limit; a limit of zero or less is no limit.
// It runs inside the transaction that then inserts, so the count and the
// insert are one step: on SQLite the transaction holds the database's write
// lock from BEGIN; on PostgreSQL a transaction-scoped advisory lock on
// lockKey keeps two transactions from both counting before either inserts,
// which READ COMMITTED alone would allow. what names the counted things in
// the error.
func (db *DB) withinLimit(ctx context.Context, tx *sql.Tx, limit int, lockKey, what, countQuery string, args ...any) error {
	if limit <= 0 {
		return nil
	}
	if db.d.engine == EnginePostgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, lockKey); err != nil {
			return err
		}
	}
	var n int
	if err := tx.QueryRowContext(ctx, countQuery, args...).Scan(&n); err != nil {
		return err
	}
	if n >= limit {
		return kafkaplane.Errorf(kafkaplane.CodeLimitExceeded, "There are already %d %s; at most %d are allowed.", n, what, limit)
	}
	return nil
}
