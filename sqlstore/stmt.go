package sqlstore

import (
	"container/list"
	"context"
	"database/sql"
	"sync"
)

// maxCachedStatements bounds the statement cache: queries are built from a
// fixed set of shapes, but filters with lists (InstanceId.N) make the shape
// depend on the list's length, so the set of shapes a caller can produce is
// open-ended.
const maxCachedStatements = 256

// stmtCache keeps prepared statements for the queries outside transactions.
// Preparing costs more than running the small queries of the request path
// (signature nonce, AccessKey lookup): measured, it was two fifths of the
// SQLite time of a signed request.
//
// It is a least-recently-used cache of at most maxCachedStatements entries.
// Every statement it prepares is either in the cache or closed: an evicted
// statement is closed as soon as no caller is between taking it from the
// cache and starting its query (the users count), and a query already
// started keeps what it needs, because database/sql closes a statement's
// driver handles only after its open rows are closed.
type stmtCache struct {
	mu    sync.Mutex
	byKey map[string]*list.Element // of *cachedStmt
	lru   list.List                // front is the most recently used
}

type cachedStmt struct {
	query   string
	stmt    *sql.Stmt
	users   int
	evicted bool
}

// prepared returns the cached statement of query, preparing it on a miss,
// and a release func the caller must call once the statement's Query, Exec
// or QueryRow call has returned.
func (db *DB) prepared(ctx context.Context, query string) (*sql.Stmt, func(), error) {
	c := &db.stmts
	c.mu.Lock()
	if e, ok := c.byKey[query]; ok {
		c.lru.MoveToFront(e)
		cs := e.Value.(*cachedStmt)
		cs.users++
		c.mu.Unlock()
		return cs.stmt, func() { c.release(cs) }, nil
	}
	c.mu.Unlock()

	// Prepare outside the lock: on PostgreSQL it is a round trip.
	s, err := db.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[query]; ok {
		// Another caller prepared the same query meanwhile; use theirs.
		s.Close()
		c.lru.MoveToFront(e)
		cs := e.Value.(*cachedStmt)
		cs.users++
		return cs.stmt, func() { c.release(cs) }, nil
	}
	if c.byKey == nil {
		c.byKey = map[string]*list.Element{}
	}
	cs := &cachedStmt{query: query, stmt: s, users: 1}
	c.byKey[query] = c.lru.PushFront(cs)
	for c.lru.Len() > maxCachedStatements {
		c.evict(c.lru.Back())
	}
	return s, func() { c.release(cs) }, nil
}

// evict removes e from the cache and closes its statement unless it is in
// use, in which case its last user closes it. c.mu is held.
func (c *stmtCache) evict(e *list.Element) {
	cs := c.lru.Remove(e).(*cachedStmt)
	delete(c.byKey, cs.query)
	cs.evicted = true
	if cs.users == 0 {
		cs.stmt.Close()
	}
}

func (c *stmtCache) release(cs *cachedStmt) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cs.users--
	if cs.evicted && cs.users == 0 {
		cs.stmt.Close()
	}
}

// len returns the number of cached statements.
func (c *stmtCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// queryRow is db.QueryRowContext through the statement cache.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	s, release, err := db.prepared(ctx, query)
	if err != nil {
		// A Row carrying the error: QueryRowContext reports it on Scan.
		return db.db.QueryRowContext(ctx, query, args...)
	}
	defer release()
	return s.QueryRowContext(ctx, args...)
}

// query is db.QueryContext through the statement cache.
func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, release, err := db.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	defer release()
	return s.QueryContext(ctx, args...)
}

// exec is db.ExecContext through the statement cache.
func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	defer db.writing()()
	s, release, err := db.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	defer release()
	return s.ExecContext(ctx, args...)
}

// close closes every cached statement. Statements in use are closed by
// their last user.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.lru.Len() > 0 {
		c.evict(c.lru.Back())
	}
	c.byKey = nil
}
