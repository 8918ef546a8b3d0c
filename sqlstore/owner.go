package sqlstore

import (
	"context"
	"time"
)

// DataPlaneLease is the row that names the one process running the
// embedded data plane of this store: the brokers of every instance and the
// operations worker that rolls them. Several control-plane replicas may
// share a PostgreSQL store; only the holder of an unexpired lease starts
// brokers.
type DataPlaneLease struct {
	// Holder is the worker id of the owning process ("" when never held).
	Holder string
	// Addr is the address the holder's API listens on.
	Addr string
	// Until is when the lease ends unless renewed; zero once released.
	Until time.Time
}

// Held reports whether the lease is in force at now.
func (l DataPlaneLease) Held(now time.Time) bool {
	return l.Holder != "" && now.Before(l.Until)
}

// AcquireDataPlane takes or renews the data plane lease for holder until
// now+ttl, with compare-and-set in one statement: it succeeds when holder
// already holds the lease (a renewal, or a restarted process with the same
// worker id) or when the lease has ended. It returns the lease as stored
// afterwards and whether holder has it.
func (db *DB) AcquireDataPlane(ctx context.Context, holder, addr string, now time.Time, ttl time.Duration) (DataPlaneLease, bool, error) {
	res, err := db.exec(ctx, `UPDATE dataplane_owner SET holder = $1, addr = $2, lease_until = $3
		WHERE id = 1 AND (holder = $1 OR lease_until <= $4)`,
		holder, addr, toMicros(now.Add(ttl)), toMicros(now))
	if err != nil {
		return DataPlaneLease{}, false, wrap("acquire data plane lease", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return DataPlaneLease{}, false, wrap("acquire data plane lease", err)
	}
	l, err := db.DataPlane(ctx)
	return l, n == 1 && l.Holder == holder, err
}

// ReleaseDataPlane ends holder's lease at once, so that a standby may take
// the data plane over without waiting for it to expire. It does nothing
// when holder no longer holds it.
func (db *DB) ReleaseDataPlane(ctx context.Context, holder string) error {
	_, err := db.exec(ctx, `UPDATE dataplane_owner SET lease_until = 0 WHERE id = 1 AND holder = $1`, holder)
	return wrap("release data plane lease", err)
}

// DataPlane reads the data plane lease.
func (db *DB) DataPlane(ctx context.Context) (DataPlaneLease, error) {
	var l DataPlaneLease
	var until int64
	err := db.queryRow(ctx, `SELECT holder, addr, lease_until FROM dataplane_owner WHERE id = 1`).Scan(&l.Holder, &l.Addr, &until)
	if err != nil {
		return DataPlaneLease{}, wrap("read data plane lease", err)
	}
	l.Until = fromMicros(until)
	return l, nil
}
