package combine

import (
	"database/sql"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"

	"github.com/jmoiron/sqlx/reflectx"
)

// Scan reads the rows of Statement(segs) into each segment's Dest, in the
// segment's order, mapping columns to fields with m as sqlx does (db tags,
// embedded structs). The values are converted by database/sql's own Scan,
// into the very fields sqlx.Select would pass it, so a segment's rows are
// what it would read alone. A segment whose rows do not fit its Dest gets
// its error in errs (the others still get their rows); err is the
// statement's own failure.
func Scan(rows *sql.Rows, m *reflectx.Mapper, segs []Segment) (errs []error, err error) {
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	// Segment i spans the columns after _n<i> up to the next marker.
	starts := make([]int, 0, len(segs)+1)
	for j, name := range cols {
		if name == "_n"+strconv.Itoa(len(starts)) {
			starts = append(starts, j)
		}
	}
	if len(starts) != len(segs) {
		return nil, fmt.Errorf("combined statement: %d segments for %d destinations", len(starts), len(segs))
	}
	starts = append(starts, len(cols))
	errs = make([]error, len(segs))
	dests := make([]*dest, len(segs))
	for i := range segs {
		dests[i], errs[i] = newDest(m, segs[i].Dest, cols[starts[i]+1:starts[i+1]])
	}

	// Each row is scanned twice: once for the row numbers (which segments
	// have a row here: an absent one's columns are NULL, which its fields
	// may refuse), then into the fields of the segments present.
	marks := make([]any, len(cols))
	ns := make([]any, len(segs))
	for j := range marks {
		marks[j] = discard{}
	}
	for i := range segs {
		marks[starts[i]] = &ns[i]
	}
	into := make([]any, len(cols))
	var present []int
	for rows.Next() {
		if err := rows.Scan(marks...); err != nil {
			return nil, err
		}
		present = present[:0]
		for i, d := range dests {
			n, ok := ns[i].(int64)
			if !ok || d == nil || errs[i] != nil {
				for j := starts[i]; j < starts[i+1]; j++ {
					into[j] = discard{}
				}
				continue
			}
			d.next(n, into[starts[i]:starts[i+1]])
			present = append(present, i)
		}
		if len(present) == 0 {
			continue
		}
		if err := rows.Scan(into...); err != nil {
			// Which segment refused its values: each again alone.
			for _, i := range present {
				alone := slices.Clone(marks)
				copy(alone[starts[i]+1:starts[i+1]], into[starts[i]+1:starts[i+1]])
				if err := rows.Scan(alone...); err != nil {
					errs[i] = fmt.Errorf("combined statement: %w", err)
				}
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i, d := range dests {
		if d != nil && errs[i] == nil {
			errs[i] = d.finish(i)
		}
	}
	return errs, nil
}

// discard is the destination of a column not read.
type discard struct{}

func (discard) Scan(any) error { return nil }

// dest is a segment's destination slice being filled.
type dest struct {
	slice  reflect.Value // *Dest
	from   int           // the length of the slice before the statement
	base   reflect.Type  // the element type, or what it points to
	isPtr  bool          // elements are pointers
	direct bool          // the element itself is the one column's destination
	fields [][]int       // the field of each column (structs)
	ns     []int64       // the row number of each new element
}

// newDest prepares dst (a *[]R) for the columns cols, refusing as
// sqlx.Select would: a destination that is not a pointer to a slice, a
// column without a field, several columns for a scalar.
func newDest(m *reflectx.Mapper, dst any, cols []string) (*dest, error) {
	sv := reflect.ValueOf(dst)
	if sv.Kind() != reflect.Pointer || sv.IsNil() || sv.Elem().Kind() != reflect.Slice {
		return nil, fmt.Errorf("combined statement: destination %T is not a pointer to a slice", dst)
	}
	d := &dest{slice: sv.Elem(), from: sv.Elem().Len()}
	d.base = d.slice.Type().Elem()
	if d.base.Kind() == reflect.Pointer {
		d.isPtr, d.base = true, d.base.Elem()
	}
	// sqlx's isScannable: a Scanner, a non-struct, or a struct without
	// mapped fields (time.Time) is scanned whole.
	d.direct = reflect.PointerTo(d.base).Implements(scannerType) || d.base.Kind() != reflect.Struct ||
		len(m.TypeMap(d.base).Index) == 0
	if d.direct {
		if len(cols) != 1 {
			return nil, fmt.Errorf("combined statement: non-struct dest type %s with >1 columns (%d)", d.base, len(cols))
		}
		return d, nil
	}
	d.fields = m.TraversalsByName(d.base, cols)
	for j, f := range d.fields {
		if len(f) == 0 {
			return nil, fmt.Errorf("combined statement: missing destination name %s in %s", cols[j], d.slice.Type())
		}
	}
	return d, nil
}

var scannerType = reflect.TypeFor[sql.Scanner]()

// next appends an element for row n and points into (the segment's
// columns, its marker first) at its fields.
func (d *dest) next(n int64, into []any) {
	k := d.slice.Len()
	d.slice.Grow(1) // amortized, in place
	d.slice.SetLen(k + 1)
	v := d.slice.Index(k)
	v.SetZero() // the caller's slice may hold old elements past its length
	if d.isPtr {
		p := reflect.New(d.base)
		v.Set(p)
		v = p.Elem()
	}
	d.ns = append(d.ns, n)
	into[0] = discard{}
	if d.direct {
		into[1] = v.Addr().Interface()
		return
	}
	for j, idx := range d.fields {
		f := v
		if len(idx) == 1 {
			f = v.Field(idx[0])
		} else {
			f = reflectx.FieldByIndexes(v, idx) // through embedded structs, allocating nil pointers, as sqlx
		}
		into[1+j] = f.Addr().Interface()
	}
}

// finish puts segment i's new elements in their numbers' order (the FULL
// JOIN returns them in any order) and checks the numbers are 1..n.
func (d *dest) finish(i int) error {
	added := d.slice.Slice(d.from, d.slice.Len())
	if !slices.IsSorted(d.ns) {
		sort.Sort(byNumber{d.ns, reflect.Swapper(added.Interface())})
	}
	for k, n := range d.ns {
		if n != int64(k+1) {
			return fmt.Errorf("combined statement: segment %d numbered its row %d as %d", i, k+1, n)
		}
	}
	return nil
}

// byNumber sorts a segment's rows and their numbers together.
type byNumber struct {
	ns   []int64
	swap func(i, j int)
}

func (b byNumber) Len() int           { return len(b.ns) }
func (b byNumber) Less(i, j int) bool { return b.ns[i] < b.ns[j] }
func (b byNumber) Swap(i, j int) {
	b.ns[i], b.ns[j] = b.ns[j], b.ns[i]
	b.swap(i, j)
}
