package db

import (
	"cmp"
	"context"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"github.com/jmoiron/sqlx"

	"tenantapi/db/combine"
)

// A Combiner runs the loader batches of one prefetch as ONE statement.
//
// The resolvers of a tenant (or a page of tenants) know every association
// the query selects before any is read, and start one goroutine per
// association batch (Combiner.Go). Each batch's SELECT (Store.selectBatch)
// registers with the combiner instead of running; when every goroutine has
// registered or returned, the last one runs all the registered SELECTs as
// one statement, each a segment numbering its rows (_n<i>), the segments
// FULL JOINed on that number (row n of the statement holds row n of every
// segment that has one), and hands each batch its rows, scanned as sqlx
// would (package combine builds the statement and scans it). The batches
// keep their own SQL, scope and order; the database sees one statement
// (one parse, one plan, one round trip) instead of one per association. A
// batch registering after that, or the only one, runs alone as before.
type Combiner struct {
	s   *Store
	ctx context.Context

	mu       sync.Mutex
	launched int // goroutines started, plus one for the launcher until Wait
	exited   int // goroutines returned before the statement ran
	reqs     []*selectReq
	done     bool // the statement ran (or is running): later selects run alone
	wg       sync.WaitGroup
}

type selectReq struct {
	seg   combine.Segment
	err   error
	ready chan struct{}
}

type combinerKey struct{}

// Combine returns a combiner for the batches started with its Go, and the
// context those batches must use.
func (s *Store) Combine(ctx context.Context) (*Combiner, context.Context) {
	c := &Combiner{s: s, launched: 1}
	c.ctx = context.WithValue(ctx, combinerKey{}, c)
	return c, c.ctx
}

// Go runs f in a goroutine whose batches (with the combiner's context) are
// combined. A panic in f is logged and ends only f: what it would have
// loaded is left to the loaders, under gqlgen's own recovery.
func (c *Combiner) Go(f func()) {
	c.mu.Lock()
	c.launched++
	c.mu.Unlock()
	c.wg.Go(func() {
		defer c.exit()
		defer func() {
			if r := recover(); r != nil {
				slog.ErrorContext(c.ctx, "prefetch batch panicked", "panic", r, "stack", string(debug.Stack()))
			}
		}()
		f()
	})
}

// Wait marks the end of the launches and waits for every goroutine.
func (c *Combiner) Wait() {
	c.exit()
	c.wg.Wait()
}

// exit counts a goroutine (or the launcher) that will register no more.
func (c *Combiner) exit() {
	c.mu.Lock()
	c.exited++
	run := c.readyLocked()
	c.mu.Unlock()
	if run != nil {
		c.run(run)
	}
}

// readyLocked returns the requests to run when every launched goroutine
// has registered or returned, once.
func (c *Combiner) readyLocked() []*selectReq {
	if c.done || len(c.reqs)+c.exited < c.launched {
		return nil
	}
	c.done = true
	if len(c.reqs) == 0 {
		return nil
	}
	return c.reqs
}

// selectBatch fills dest (a *[]R) with the rows of query, in any order, as
// sqlx.SelectContext does: combined with the other batches of ctx's
// combiner, or alone. query is one SELECT without ORDER BY (combine.Segment).
func (s *Store) selectBatch(ctx context.Context, dest any, query string, args ...any) error {
	return s.selectSegment(ctx, combine.Segment{Query: query, Args: args, Dest: dest})
}

// selectOrdered is selectBatch for rows in an order: order is the ORDER BY
// list, in query's scope. The combined statement numbers the rows by it,
// so they keep it there too.
func (s *Store) selectOrdered(ctx context.Context, dest any, order, query string, args ...any) error {
	return s.selectSegment(ctx, combine.Segment{Query: query, Order: order, Args: args, Dest: dest})
}

// selectSegment runs seg, combined or alone, unless the association
// cache has its rows for the versions ctx's request read
// (db/assoccache.go). (The benchmark's ceiling build answers a batch read
// before from memory: db/ceiling.go.)
func (s *Store) selectSegment(ctx context.Context, seg combine.Segment) error {
	if ceiling && ceilingGet(seg.Dest, seg.Text(), seg.Args) {
		return nil
	}
	var key string
	var versions []int64
	cached := false
	if s.assoc != nil {
		book, _ := ctx.Value(versionBookKey{}).(*versionBook)
		key, versions, cached = book.cacheable(&seg)
		if cached && s.assoc.get(key, versions, seg.Dest) {
			return nil
		}
	}
	err := s.selectRows(ctx, seg)
	if err == nil && cached {
		s.assoc.put(key, versions, seg.Dest)
	}
	if ceiling && err == nil {
		ceilingPut(seg.Dest, seg.Text(), seg.Args)
	}
	return err
}

// selectShared is selectBatch for rows that belong to no tenant (plans).
func (s *Store) selectShared(ctx context.Context, dest any, query string, args ...any) error {
	return s.selectSegment(ctx, combine.Segment{Query: query, Args: args, Dest: dest, Shared: true})
}

// selectOrderedUncached is selectOrdered for rows the association cache
// must not keep (they show what the tenant versions ignore).
func (s *Store) selectOrderedUncached(ctx context.Context, dest any, order, query string, args ...any) error {
	return s.selectSegment(ctx, combine.Segment{Query: query, Order: order, Args: args, Dest: dest, NoCache: true})
}

func (s *Store) selectRows(ctx context.Context, seg combine.Segment) error {
	c, _ := ctx.Value(combinerKey{}).(*Combiner)
	if c == nil || c.s != s {
		return selectAlone(ctx, s, seg)
	}
	c.mu.Lock()
	if c.done {
		c.mu.Unlock()
		return selectAlone(ctx, s, seg)
	}
	r := &selectReq{seg: seg, ready: make(chan struct{})}
	c.reqs = append(c.reqs, r)
	run := c.readyLocked()
	c.mu.Unlock()
	if run != nil {
		c.run(run)
	} else {
		<-r.ready
	}
	return r.err
}

func selectAlone(ctx context.Context, s *Store, seg combine.Segment) error {
	return sqlx.SelectContext(ctx, s.q(), seg.Dest, seg.Text(), seg.Args...)
}

// run executes the requests and wakes their goroutines.
func (c *Combiner) run(reqs []*selectReq) {
	defer func() {
		for _, r := range reqs {
			close(r.ready)
		}
	}()
	if len(reqs) == 1 {
		r := reqs[0]
		r.err = selectAlone(c.ctx, c.s, r.seg)
		return
	}
	// The same selection gives the same text whatever order the goroutines
	// registered in: one prepared statement, and its cached plan, per shape.
	slices.SortStableFunc(reqs, func(a, b *selectReq) int {
		return cmp.Or(strings.Compare(a.seg.Query, b.seg.Query), strings.Compare(a.seg.Order, b.seg.Order))
	})
	segs := make([]combine.Segment, len(reqs))
	for i, r := range reqs {
		segs[i] = r.seg
	}
	errs, err := c.s.selectCombined(c.ctx, segs)
	for i, r := range reqs {
		if err != nil {
			r.err = err
		} else {
			r.err = errs[i]
		}
	}
}

// selectCombined runs segs as one statement (package combine) on the
// generic-plan pool and returns each segment's error.
func (s *Store) selectCombined(ctx context.Context, segs []combine.Segment) ([]error, error) {
	query, args, err := combine.Statement(segs)
	if err != nil {
		return nil, err
	}
	rows, err := s.combinedQ().QueryxContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return combine.Scan(rows.Rows, s.db.Mapper, segs)
}
