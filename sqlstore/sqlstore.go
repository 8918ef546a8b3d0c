package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/sealer"
)

// Engine names returned by DB.Engine.
const (
	EngineSQLite   = "sqlite"
	EnginePostgres = "postgres"
)

// Interface checks: *DB is the store of every service the domain defines.
var (
	_ kafkaplane.InstanceService  = (*DB)(nil)
	_ kafkaplane.OperationService = (*DB)(nil)
	_ kafkaplane.IdentityService  = (*DB)(nil)
	_ kafkaplane.NonceService     = (*DB)(nil)
	_ kafkaplane.TopicService     = (*DB)(nil)
)

// DB is a kafkaplane store on SQLite or PostgreSQL. It is safe for
// concurrent use; several DB values (or processes) may share one
// PostgreSQL database.
type DB struct {
	// Now is the clock used for timestamps the caller did not set
	// (CreateTime, UpdatedAt, AttachDate …). Tests replace it to get
	// deterministic rows; it defaults to time.Now.
	Now func() time.Time

	db *sql.DB
	d  dialect
	// sealer encrypts secret columns (see secrets.go).
	sealer *sealer.Sealer

	stmts   stmtCache
	writeMu sync.Mutex

	// keys caches AccessKeys by id on SQLite (see FindAccessKey); keysGen
	// counts writes that invalidate it.
	keys    sync.Map
	keysGen atomic.Uint64

	// reads caches instance lists on SQLite (see readCache).
	reads readCache

	nonceCalls atomic.Uint64
	gcraCalls  atomic.Uint64
}

// dialect holds the few SQL fragments that differ between the engines.
type dialect struct {
	engine string
	// greatest is the two-argument maximum: GREATEST on PostgreSQL, the
	// scalar max() on SQLite.
	greatest string
	// skipLocked is appended to the claim query's inner SELECT. PostgreSQL
	// lets concurrent workers skip a row another worker is claiming; SQLite
	// needs nothing because its write lock serialises writers.
	skipLocked string
	// migrationLock is run first in every migration transaction. On
	// PostgreSQL a transaction-scoped advisory lock makes concurrent Opens
	// of one database apply each migration exactly once; on SQLite the
	// immediate transaction already holds the write lock.
	migrationLock string
}

var (
	sqliteDialect = dialect{
		engine:   EngineSQLite,
		greatest: "max",
	}
	postgresDialect = dialect{
		engine:        EnginePostgres,
		greatest:      "GREATEST",
		skipLocked:    "FOR UPDATE SKIP LOCKED",
		migrationLock: "SELECT pg_advisory_xact_lock(7236561640071692147)",
	}
)

// sqlitePragmas are applied to every SQLite connection. WAL lets readers run
// while one writer commits; busy_timeout makes a writer wait for the lock
// instead of failing with SQLITE_BUSY; foreign_keys is off by default in
// SQLite; _txlock=immediate makes BEGIN take the write lock up front, which
// avoids the lock-upgrade deadlock between two transactions that both read
// and then write. secure_delete overwrites deleted
// content with zeros, so a deleted row (an AccessKey, even sealed) cannot be
// read back from the file's free space.
const sqlitePragmas = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=secure_delete(1)&_txlock=immediate"

// sqliteFileMode is the mode of the SQLite database and its -wal and -shm
// files, whatever the umask: they hold the account's identities.
const sqliteFileMode = 0o600

// Option configures Open.
type Option func(*options)

type options struct {
	sealer *sealer.Sealer
}

// WithSealer makes the store seal secret columns with s. Without it, an
// SQLite store uses the key file sealer.DefaultKeyFile beside its database
// file (created on first use), and a PostgreSQL store refuses to open:
// its database has no directory of its own to keep a key beside.
func WithSealer(s *sealer.Sealer) Option {
	return func(o *options) { o.sealer = s }
}

// Open opens the store named by dsn and applies pending migrations.
//
// A dsn of the form postgres://… or postgresql://… opens PostgreSQL through
// pgx; anything else is an SQLite database file, given either as
// sqlite:///path/to/file.db or as a plain path. Extra query parameters of an
// SQLite dsn are passed to the driver after the store's own pragmas.
//
// Secret columns are sealed (see WithSealer); rows written in plaintext by
// an older release are sealed here, and a key that does not open the
// stored secrets fails Open.
func Open(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	var (
		sdb  *sql.DB
		d    dialect
		err  error
		o    options
		path string
	)
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		d = postgresDialect
		if o.sealer == nil {
			return nil, errors.New("sqlstore: a PostgreSQL store needs a secrets key (WithSealer)")
		}
		sdb, err = sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: open postgres: %w", err)
		}
		// Bounded so that a burst of goroutines queues in the pool rather
		// than exhausting the server's max_connections.
		sdb.SetMaxOpenConns(32)
		sdb.SetMaxIdleConns(8)
	default:
		d = sqliteDialect
		var query string
		path, query, err = sqlitePath(dsn)
		if err != nil {
			return nil, err
		}
		if o.sealer == nil {
			if o.sealer, err = sealer.LoadKeyFile(filepath.Join(filepath.Dir(path), sealer.DefaultKeyFile), true); err != nil {
				return nil, fmt.Errorf("sqlstore: %w", err)
			}
		}
		if err := restrictSQLiteFiles(path, true); err != nil {
			return nil, err
		}
		q := sqlitePragmas
		if query != "" {
			q += "&" + query
		}
		sdb, err = sql.Open("sqlite", path+"?"+q)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: open sqlite: %w", err)
		}
		// One writer at a time anyway; a few connections serve WAL readers.
		sdb.SetMaxOpenConns(8)
		sdb.SetMaxIdleConns(8)
	}
	db := &DB{Now: time.Now, db: sdb, d: d, sealer: o.sealer}
	if err := ping(ctx, sdb); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("sqlstore: connect %s: %w", d.engine, err)
	}
	if err := db.migrate(ctx); err != nil {
		sdb.Close()
		return nil, err
	}
	if err := db.sealSecrets(ctx); err != nil {
		sdb.Close()
		return nil, err
	}
	if path != "" {
		// The first connection made the -wal and -shm files.
		if err := restrictSQLiteFiles(path, false); err != nil {
			sdb.Close()
			return nil, err
		}
	}
	return db, nil
}

// restrictSQLiteFiles gives the database file and its -wal and -shm files
// sqliteFileMode. With create it first creates a missing database file
// with that mode (SQLite takes an empty file for a new database, and makes
// its -wal and -shm files with the database file's mode), so that no
// umask ever lets the file be created readable by others.
func restrictSQLiteFiles(path string, create bool) error {
	if create {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, sqliteFileMode)
		if err != nil {
			return fmt.Errorf("sqlstore: create %s: %w", path, err)
		}
		f.Close()
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, sqliteFileMode); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("sqlstore: %w", err)
		}
	}
	return nil
}

// ping connects once. On SQLite it retries while the file is busy: the
// first connection switches a new file to WAL, which needs an exclusive lock
// that SQLite does not wait for through busy_timeout, so processes opening
// one new file at the same moment may see SQLITE_BUSY for a few
// milliseconds.
func ping(ctx context.Context, sdb *sql.DB) error {
	deadline := time.Now().Add(10 * time.Second)
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		err := sdb.PingContext(ctx)
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// sqlitePath splits an SQLite dsn into the file path and extra query.
func sqlitePath(dsn string) (path, query string, err error) {
	if rest, ok := strings.CutPrefix(dsn, "sqlite://"); ok {
		u, err := url.Parse("sqlite://" + rest)
		if err != nil {
			return "", "", fmt.Errorf("sqlstore: bad sqlite dsn %q: %w", dsn, err)
		}
		path = u.Host + u.Path
		query = u.RawQuery
	} else {
		path, query, _ = strings.Cut(dsn, "?")
	}
	if path == "" || strings.Contains(path, ":memory:") {
		// Every pooled connection would get its own empty in-memory
		// database, so a store on it would lose rows between calls.
		return "", "", fmt.Errorf("sqlstore: sqlite dsn %q must name a database file", dsn)
	}
	return path, query, nil
}

// Close closes the database.
func (db *DB) Close() error {
	db.stmts.close()
	return db.db.Close()
}

// Engine returns EngineSQLite or EnginePostgres.
func (db *DB) Engine() string { return db.d.engine }

// now returns the store clock in UTC at the stored precision.
func (db *DB) now() time.Time {
	return fromMicros(toMicros(db.Now()))
}

// toMicros encodes a time for storage; the zero time is 0.
func toMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros decodes a stored time; 0 is the zero time.
func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// norm truncates t to the stored precision, so that the caller's struct holds
// exactly what a later read returns.
func norm(t time.Time) time.Time { return fromMicros(toMicros(t)) }

// orNow returns norm(t), or the store clock when t is zero.
func (db *DB) orNow(t time.Time) time.Time {
	if t.IsZero() {
		return db.now()
	}
	return norm(t)
}

// querier is what *sql.DB and *sql.Tx have in common, so that helpers run
// inside or outside a transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// writing serialises this process's SQLite writers on a mutex and returns
// its unlock. SQLite has one writer at a time; a second connection that
// tries to write gets SQLITE_BUSY and sleeps in busy_timeout's millisecond
// steps, which under concurrent signed requests (each records its nonce)
// cost more than the writes themselves. PostgreSQL needs no such lock.
//
// Every SQLite write of this package must run under it: it also advances
// the read cache's generation before and after the write (see readCache).
func (db *DB) writing() func() {
	if db.d.engine != EngineSQLite {
		return func() {}
	}
	db.writeMu.Lock()
	db.reads.gen.Add(1)
	return func() {
		db.reads.gen.Add(1)
		db.writeMu.Unlock()
	}
}

// inTx runs fn in a transaction and commits it when fn returns nil. On
// SQLite BEGIN is IMMEDIATE (see sqlitePragmas), so the transaction holds the
// write lock from its first statement.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	defer db.writing()()
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: commit: %w", err)
	}
	return nil
}

// isUniqueViolation reports whether err is a primary-key or unique-index
// violation on either engine.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// isForeignKeyViolation reports whether err is a foreign-key violation on
// either engine.
func isForeignKeyViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23503"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// wrap annotates an unexpected database error; domain errors pass through
// unchanged so that callers can read their codes.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var ke *kafkaplane.Error
	if errors.As(err, &ke) {
		return err
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// exists reports whether query returns a row.
func exists(ctx context.Context, q querier, query string, args ...any) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// oneRow reports whether an UPDATE or DELETE touched exactly one row.
func oneRow(res sql.Result) (bool, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

// scanAll is the one loop that reads a query's rows: it takes the query's
// two results, scans every row with scan, closes the rows, and names the
// query op in errors. A list method is
//
//	return scanAll("list users", scanUser)(db.query(ctx, …))
func scanAll[T any](op string, scan func(scanner) (T, error)) func(*sql.Rows, error) ([]T, error) {
	return func(rows *sql.Rows, err error) ([]T, error) {
		if err != nil {
			return nil, wrap(op, err)
		}
		defer rows.Close()
		var out []T
		for rows.Next() {
			v, err := scan(rows)
			if err != nil {
				return nil, wrap(op, err)
			}
			out = append(out, v)
		}
		return out, wrap(op, rows.Err())
	}
}
