package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStatements bounds the statement cache: queries are built from a
// fixed set of shapes, but filters with lists (InstanceId.N) make the shape
// depend on the list's length.
const maxCachedStatements = 256

// stmtCache keeps prepared statements for the queries outside transactions.
// Preparing costs more than running the small queries of the request path
// (signature nonce, AccessKey lookup): measured, it was two fifths of the
// SQLite time of a signed request.
type stmtCache struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func (db *DB) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	c := &db.stmts
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.stmts[query]; ok {
		return s, nil
	}
	s, err := db.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	if len(c.stmts) < maxCachedStatements {
		c.stmts[query] = s
	}
	return s, nil
}

// queryRow is db.QueryRowContext through the statement cache.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	s, err := db.prepared(ctx, query)
	if err != nil {
		// A Row carrying the error: QueryRowContext reports it on Scan.
		return db.db.QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

// query is db.QueryContext through the statement cache.
func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := db.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// exec is db.ExecContext through the statement cache.
func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	defer db.writing()()
	s, err := db.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.stmts {
		s.Close()
	}
	c.stmts = nil
}
