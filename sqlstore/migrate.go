package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// migrationFS holds one directory of numbered migrations per engine. The two
// directories use the same numbers for the same change, so that a database
// of either engine at version N has the same logical schema.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// migration is one embedded schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the engine's migrations in version order. File names
// are NNNN_description.sql.
func migrations(engine string) ([]migration, error) {
	dir := "migrations/" + engine
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("sqlstore: migration %s/%s is not named NNNN_name.sql", dir, e.Name())
		}
		b, err := migrationFS.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("sqlstore: two %s migrations numbered %d", engine, out[i].version)
		}
	}
	return out, nil
}

// migrate applies every migration not yet recorded in schema_migrations,
// each in its own transaction together with its record, so that a crash
// leaves the schema at a recorded version. Each transaction first takes the
// dialect's migration lock and re-checks the record under it: concurrent
// Opens (several replicas starting at once) then apply each migration once.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrations(db.d.engine)
	if err != nil {
		return err
	}
	lock := func(tx *sql.Tx) error {
		if db.d.migrationLock == "" {
			return nil
		}
		_, err := tx.ExecContext(ctx, db.d.migrationLock)
		return err
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		if err := lock(tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    BIGINT NOT NULL PRIMARY KEY,
			name       TEXT   NOT NULL,
			applied_at BIGINT NOT NULL
		)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: create schema_migrations: %w", err)
	}
	for _, m := range ms {
		err := db.inTx(ctx, func(tx *sql.Tx) error {
			if err := lock(tx); err != nil {
				return err
			}
			done, err := exists(ctx, tx, `SELECT 1 FROM schema_migrations WHERE version = $1`, m.version)
			if err != nil || done {
				return err
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.version, m.name, toMicros(db.now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("sqlstore: migration %s/%s: %w", db.d.engine, m.name, err)
		}
	}
	return nil
}

// SchemaVersion returns the highest applied migration version, so that
// operators and tests can see which schema a database has.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	if err := db.db.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, wrap("schema version", err)
	}
	return int(v.Int64), nil
}
