package db

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
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

// Each method falls back to an unprepared statement when the prepared one
// went stale (stale, below).

func (p preparedPool) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := p.c.get(ctx, q); st != nil {
		rows, err := st.QueryContext(ctx, args...)
		if !p.c.stale(q, st, err) {
			return rows, err
		}
	}
	return p.DB.QueryContext(ctx, q, args...)
}

func (p preparedPool) QueryxContext(ctx context.Context, q string, args ...any) (*sqlx.Rows, error) {
	if st := p.c.get(ctx, q); st != nil {
		rows, err := st.QueryxContext(ctx, args...)
		if !p.c.stale(q, st, err) {
			return rows, err
		}
	}
	return p.DB.QueryxContext(ctx, q, args...)
}

func (p preparedPool) QueryRowxContext(ctx context.Context, q string, args ...any) *sqlx.Row {
	if st := p.c.get(ctx, q); st != nil {
		row := st.QueryRowxContext(ctx, args...)
		if !p.c.stale(q, st, row.Err()) {
			return row
		}
	}
	return p.DB.QueryRowxContext(ctx, q, args...)
}

func (p preparedPool) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := p.c.get(ctx, q); st != nil {
		res, err := st.ExecContext(ctx, args...)
		if !p.c.stale(q, st, err) {
			return res, err
		}
	}
	return p.DB.ExecContext(ctx, q, args...)
}

// stale reports whether err says PostgreSQL can no longer run the prepared
// statement st as prepared: a migration changed the columns a cached plan
// returns ("cached plan must not change result type", SQLSTATE 0A000), as
// happens to a running instance during a rolling deploy. It then forgets
// st, so the caller runs the text unprepared and the next call prepares it
// again.
func (c *stmtCache) stale(q string, st *sqlx.Stmt, err error) bool {
	var pe *pq.Error
	if !errors.As(err, &pe) || pe.Code != "0A000" || !strings.Contains(pe.Message, "cached plan") {
		return false
	}
	c.mu.Lock()
	if c.m[q] == st {
		delete(c.m, q)
	}
	c.mu.Unlock()
	st.Close()
	return true
}
