package db

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/jmoiron/sqlx/reflectx"
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
// would. The batches keep their own SQL, scope and key order; the
// database sees one statement (one parse, one plan, one round trip) instead
// of one per association. A batch registering after that, or the only one,
// runs alone as before.
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
	query string
	args  []any
	dest  any // *[]R, as sqlx.Select takes
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

// selectBatch fills dest (a *[]R) with the rows of query, as
// sqlx.SelectContext does: combined with the other batches of ctx's
// combiner, or alone. (The benchmark's ceiling build answers a batch read
// before from memory: db/ceiling.go.)
func (s *Store) selectBatch(ctx context.Context, dest any, query string, args ...any) error {
	if ceiling && ceilingGet(dest, query, args) {
		return nil
	}
	err := s.selectRows(ctx, dest, query, args)
	if ceiling && err == nil {
		ceilingPut(dest, query, args)
	}
	return err
}

func (s *Store) selectRows(ctx context.Context, dest any, query string, args []any) error {
	c, _ := ctx.Value(combinerKey{}).(*Combiner)
	if c == nil || c.s != s {
		return selectAlone(ctx, s, dest, query, args)
	}
	c.mu.Lock()
	if c.done {
		c.mu.Unlock()
		return selectAlone(ctx, s, dest, query, args)
	}
	r := &selectReq{query: query, args: args, dest: dest, ready: make(chan struct{})}
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

func selectAlone(ctx context.Context, s *Store, dest any, query string, args []any) error {
	return sqlx.SelectContext(ctx, s.q(), dest, query, args...)
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
		r.err = selectAlone(c.ctx, c.s, r.dest, r.query, r.args)
		return
	}
	// The same selection gives the same text whatever order the goroutines
	// registered in: one prepared statement, and its cached plan, per shape.
	slices.SortStableFunc(reqs, func(a, b *selectReq) int { return strings.Compare(a.query, b.query) })
	query, args := combinedQuery(reqs)
	err := c.s.scanCombined(c.ctx, query, args, reqs)
	if err != nil {
		for _, r := range reqs {
			r.err = err
		}
	}
}

var placeholder = regexp.MustCompile(`\$(\d+)`)

// renumberedKey is a batch's text with its placeholders shifted by off.
type renumberedKey struct {
	query string
	off   int
}

// renumberedTexts remembers each shift once: the texts are the package's
// constants and the shifts few, so every request of a shape after the
// first reuses the texts instead of rewriting them.
var renumberedTexts sync.Map // renumberedKey -> string

// renumbered returns q with every $n as $(n+off).
func renumbered(q string, off int) string {
	if off == 0 {
		return q
	}
	k := renumberedKey{q, off}
	if v, ok := renumberedTexts.Load(k); ok {
		return v.(string)
	}
	out := placeholder.ReplaceAllStringFunc(q, func(m string) string {
		n, _ := strconv.Atoi(m[1:])
		return "$" + strconv.Itoa(n+off)
	})
	renumberedTexts.Store(k, out)
	return out
}

// combinedQuery joins the requests' SELECTs into one: segment i is
// (SELECT row_number() OVER () AS _n<i>, x.* FROM (<query i>) x), its
// placeholders renumbered after those of the segments before it, FULL
// JOINed to the segments before it on the row number.
func combinedQuery(reqs []*selectReq) (string, []any) {
	var b strings.Builder
	var args []any
	b.WriteString("SELECT * FROM ")
	for i, r := range reqs {
		if i > 0 {
			b.WriteString("\nFULL JOIN ")
		}
		fmt.Fprintf(&b, "(SELECT row_number() OVER () AS _n%d, x.* FROM (%s) x) b%d", i, renumbered(r.query, len(args)), i)
		if i > 0 {
			// Row n of this segment joins row n of the others: as many rows
			// as the longest segment, not the sum of all.
			fmt.Fprintf(&b, " ON b%d._n%d = COALESCE(", i, i)
			for j := range i {
				if j > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "b%d._n%d", j, j)
			}
			b.WriteString(")")
		}
		args = append(args, r.args...)
	}
	return b.String(), args
}

// scanCombined runs the combined statement and fills each request's dest
// with its segment's rows, in the segment's order.
func (s *Store) scanCombined(ctx context.Context, query string, args []any, reqs []*selectReq) error {
	rows, err := s.combinedQ().QueryxContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	// Segment i spans the columns after _n<i> up to the next marker.
	starts := make([]int, 0, len(reqs)+1)
	for j, name := range cols {
		if name == "_n"+strconv.Itoa(len(starts)) {
			starts = append(starts, j)
		}
	}
	if len(starts) != len(reqs) {
		return fmt.Errorf("combined statement: %d segments for %d batches", len(starts), len(reqs))
	}
	starts = append(starts, len(cols))
	type segRow struct {
		n    int64
		vals []any
	}
	segs := make([][]segRow, len(reqs))
	// Each column lands in an *any: database/sql's cheapest destination
	// (bytes are copied, as they must be: the driver reuses its buffer).
	cells := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for j := range cells {
		ptrs[j] = &cells[j]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		// One copy of the row; each segment's values are a part of it.
		row := slices.Clone(cells)
		for i := range reqs {
			n, ok := row[starts[i]].(int64)
			if !ok {
				continue
			}
			segs[i] = append(segs[i], segRow{n, row[starts[i]+1 : starts[i+1]]})
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i, r := range reqs {
		slices.SortFunc(segs[i], func(a, b segRow) int { return int(a.n - b.n) })
		vals := make([][]any, len(segs[i]))
		for k, sr := range segs[i] {
			vals[k] = sr.vals
		}
		r.err = fillRows(s.db.Mapper, r.dest, cols[starts[i]+1:starts[i+1]], vals)
	}
	return nil
}

// fillRows sets *dest (a *[]R: R a struct, a pointer to one, or a scalar)
// to the rows vals of the columns cols, mapping columns to fields as
// sqlx does (db tags, embedded structs).
func fillRows(m *reflectx.Mapper, dest any, cols []string, vals [][]any) error {
	sv := reflect.ValueOf(dest)
	if sv.Kind() != reflect.Pointer || sv.Elem().Kind() != reflect.Slice {
		return fmt.Errorf("combined statement: destination %T is not a pointer to a slice", dest)
	}
	slice := sv.Elem()
	et := slice.Type().Elem()
	isPtr := et.Kind() == reflect.Pointer
	base := et
	if isPtr {
		base = et.Elem()
	}
	scannable := reflect.PointerTo(base).Implements(scannerType) || base.Kind() != reflect.Struct
	var fields [][]int
	var scanners []bool // the column's field is an sql.Scanner
	if !scannable {
		fields = m.TraversalsByName(base, cols)
		scanners = make([]bool, len(fields))
		for j, f := range fields {
			if len(f) == 0 {
				return fmt.Errorf("combined statement: missing destination name %s in %s", cols[j], base)
			}
			scanners[j] = reflect.PointerTo(base.FieldByIndex(f).Type).Implements(scannerType)
		}
	} else if len(cols) != 1 {
		return fmt.Errorf("combined statement: %d columns for scalar %s", len(cols), base)
	}
	// The rows are filled in place: one allocation for the slice (and one
	// per row for a slice of pointers).
	out := reflect.MakeSlice(slice.Type(), len(vals), len(vals))
	for k, row := range vals {
		v := out.Index(k)
		if isPtr {
			p := reflect.New(base)
			v.Set(p)
			v = p.Elem()
		}
		if scannable {
			if err := assign(v, row[0]); err != nil {
				return fmt.Errorf("combined statement: column %s: %w", cols[0], err)
			}
			continue
		}
		for j, idx := range fields {
			var f reflect.Value
			if len(idx) == 1 {
				f = v.Field(idx[0])
			} else {
				f = reflectx.FieldByIndexes(v, idx) // through embedded structs, allocating nil pointers
			}
			var err error
			if scanners[j] {
				err = f.Addr().Interface().(sql.Scanner).Scan(row[j])
			} else {
				err = assignValue(f, row[j])
			}
			if err != nil {
				return fmt.Errorf("combined statement: column %s: %w", cols[j], err)
			}
		}
	}
	slice.Set(out)
	return nil
}

var (
	scannerType = reflect.TypeFor[sql.Scanner]()
	timeType    = reflect.TypeFor[time.Time]()
)

// assign stores the driver value src (as lib/pq decodes it: nil, int64,
// float64, bool, []byte, string or time.Time) in dst, converting as
// database/sql's Scan does for the destinations this package uses.
func assign(dst reflect.Value, src any) error {
	if dst.CanAddr() {
		if sc, ok := dst.Addr().Interface().(sql.Scanner); ok {
			return sc.Scan(src)
		}
	}
	return assignValue(dst, src)
}

// assignValue is assign for a dst that is not an sql.Scanner.
func assignValue(dst reflect.Value, src any) error {
	// The common cases first: the driver's type is the field's.
	switch v := src.(type) {
	case string:
		if dst.Kind() == reflect.String {
			dst.SetString(v)
			return nil
		}
	case []byte:
		if dst.Kind() == reflect.String {
			dst.SetString(string(v))
			return nil
		}
	case int64:
		switch dst.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			if dst.OverflowInt(v) {
				return fmt.Errorf("converting %d to %s: value out of range", v, dst.Type())
			}
			dst.SetInt(v)
			return nil
		}
	case bool:
		if dst.Kind() == reflect.Bool {
			dst.SetBool(v)
			return nil
		}
	case float64:
		if k := dst.Kind(); k == reflect.Float64 || k == reflect.Float32 {
			dst.SetFloat(v)
			return nil
		}
	}
	if src == nil {
		switch dst.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
			dst.SetZero()
			return nil
		}
		return fmt.Errorf("converting NULL to %s is unsupported", dst.Type())
	}
	switch dst.Kind() {
	case reflect.Pointer:
		v := reflect.New(dst.Type().Elem())
		if err := assign(v.Elem(), src); err != nil {
			return err
		}
		dst.Set(v)
		return nil
	case reflect.Interface:
		dst.Set(reflect.ValueOf(src))
		return nil
	}
	if dst.Type() == timeType {
		t, ok := src.(time.Time)
		if !ok {
			return fmt.Errorf("converting %T to time.Time is unsupported", src)
		}
		dst.Set(reflect.ValueOf(t))
		return nil
	}
	var text string
	switch v := src.(type) {
	case []byte:
		if dst.Kind() == reflect.Slice && dst.Type().Elem().Kind() == reflect.Uint8 {
			dst.SetBytes(v)
			return nil
		}
		text = string(v)
	case string:
		text = v
	case int64:
		text = strconv.FormatInt(v, 10)
	case float64:
		text = strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		text = strconv.FormatBool(v)
	case time.Time:
		text = v.Format(time.RFC3339Nano)
	default:
		return fmt.Errorf("unsupported driver value %T", src)
	}
	switch dst.Kind() {
	case reflect.String:
		dst.SetString(text)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(text, 10, dst.Type().Bits())
		if err != nil {
			return fmt.Errorf("converting %q to %s: %w", text, dst.Type(), err)
		}
		dst.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(text, 10, dst.Type().Bits())
		if err != nil {
			return fmt.Errorf("converting %q to %s: %w", text, dst.Type(), err)
		}
		dst.SetUint(n)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(text, dst.Type().Bits())
		if err != nil {
			return fmt.Errorf("converting %q to %s: %w", text, dst.Type(), err)
		}
		dst.SetFloat(f)
	case reflect.Bool:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return fmt.Errorf("converting %q to %s: %w", text, dst.Type(), err)
		}
		dst.SetBool(b)
	default:
		return fmt.Errorf("converting %T to %s is unsupported", src, dst.Type())
	}
	return nil
}
