package db

import (
	"context"
	"database/sql"
	"sync"

	"github.com/jmoiron/sqlx"
)

// Reads through the pool run as named prepared statements, one per query
// text: PostgreSQL parses each text once per connection and, after a few
// executions, reuses a generic plan instead of planning every call. On the
// dashboard query that planning was most of PostgreSQL's time
// (docs/benchmarks.md). Transactions (writes) keep unnamed statements.
//
// The texts are the package's own constants, so the cache stays small;
// maxPrepared bounds it anyway, and a text beyond it runs unprepared. A
// pooler in transaction mode without prepared-statement support (PgBouncer
// before 1.21) needs Options.NoPrepare.

// maxPrepared bounds the statements prepared per pool.
const maxPrepared = 512

// stmtCache holds the pool's prepared statements by query text.
type stmtCache struct {
	db *sqlx.DB
	mu sync.RWMutex
	m  map[string]*sqlx.Stmt
}

func newStmtCache(db *sqlx.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sqlx.Stmt{}}
}

// get returns the statement prepared for q, preparing it on first use, or
// nil when q is to run unprepared (cache full, or preparing failed: the
// unprepared run then reports the error as usual).
func (c *stmtCache) get(ctx context.Context, q string) *sqlx.Stmt {
	c.mu.RLock()
	st, ok := c.m[q]
	full := len(c.m) >= maxPrepared
	c.mu.RUnlock()
	if ok || full {
		return st
	}
	st, err := c.db.PreparexContext(ctx, q)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.m[q]; ok { // prepared concurrently
		st.Close()
		return prev
	}
	if len(c.m) >= maxPrepared {
		st.Close()
		return nil
	}
	c.m[q] = st
	return st
}

// close releases every prepared statement.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		st.Close()
		delete(c.m, q)
	}
}

// preparedPool is the pool with its reads and single statements sent as
// prepared statements.
type preparedPool struct {
	*sqlx.DB
	c *stmtCache
}

func (p preparedPool) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := p.c.get(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return p.DB.QueryContext(ctx, q, args...)
}

func (p preparedPool) QueryxContext(ctx context.Context, q string, args ...any) (*sqlx.Rows, error) {
	if st := p.c.get(ctx, q); st != nil {
		return st.QueryxContext(ctx, args...)
	}
	return p.DB.QueryxContext(ctx, q, args...)
}

func (p preparedPool) QueryRowxContext(ctx context.Context, q string, args ...any) *sqlx.Row {
	if st := p.c.get(ctx, q); st != nil {
		return st.QueryRowxContext(ctx, args...)
	}
	return p.DB.QueryRowxContext(ctx, q, args...)
}

func (p preparedPool) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := p.c.get(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return p.DB.ExecContext(ctx, q, args...)
}
