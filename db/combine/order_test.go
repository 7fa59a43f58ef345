package combine_test

import (
	"cmp"
	"context"
	"slices"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"tenantapi/db/combine"
)

// reorder is the session of TestOrderedSegmentsKeepTheirOrder: parallel
// plans wherever PostgreSQL may use one, read by the workers only (which
// return rows interleaved),
// hash joins instead of merge joins (a FULL JOIN's unmatched rows then come
// in hash order), and sorts only where nothing else gives the order.
const reorder = "-c parallel_setup_cost=0 -c parallel_tuple_cost=0 -c min_parallel_table_scan_size=0 " +
	"-c max_parallel_workers_per_gather=4 -c parallel_leader_participation=off -c enable_mergejoin=off -c enable_sort=off"

type probeRow struct {
	ID int `db:"id"`
	V  int `db:"v"`
}

// TestOrderedSegmentsKeepTheirOrder: each ordered segment gets its rows in
// its Order, combined as alone, when nothing else orders them: the table's
// rows are stored in another order, the queries carry no ORDER BY of their
// own, and the session makes PostgreSQL pick plans that reorder rows.
func TestOrderedSegmentsKeepTheirOrder(t *testing.T) {
	conn := open(t, reorder)
	ctx := context.Background()
	// v scrambles the ids; the table is large enough for parallel scans.
	if _, err := conn.ExecContext(ctx, `CREATE TABLE probe AS SELECT g AS id, (g * 7919) % 100003 AS v FROM generate_series(1, 20000) g;
		ANALYZE probe`); err != nil {
		t.Fatal(err)
	}
	var all []probeRow
	if err := sqlx.SelectContext(ctx, conn, &all, `SELECT id, v FROM probe`); err != nil {
		t.Fatal(err)
	}

	// What the settings do to rows numbered as they arrive (the numbering
	// this package no longer relies on): logged, as the number of parallel
	// workers free on a shared server varies.
	var displaced int
	if err := conn.GetContext(ctx, &displaced, `SELECT count(*) FILTER (WHERE n <> id) FROM (SELECT row_number() OVER () AS n, id FROM probe) x`); err != nil {
		t.Fatal(err)
	}
	t.Logf("rows numbered as they arrive: %d of %d out of place", displaced, len(all))

	byVDesc := filter(all, func(r probeRow) bool { return r.ID%4 == 0 })
	slices.SortFunc(byVDesc, func(a, b probeRow) int { return cmp.Or(cmp.Compare(b.V, a.V), cmp.Compare(a.ID, b.ID)) })
	type pick struct {
		G  int `db:"g"`
		ID int `db:"id"`
		V  int `db:"v"`
	}
	var picks []pick
	for _, g := range []int{3, 1, 2} {
		rows := filter(all, func(r probeRow) bool { return r.ID%10 == g })
		slices.SortFunc(rows, func(a, b probeRow) int { return cmp.Compare(a.V, b.V) })
		for _, r := range rows[:5] {
			picks = append(picks, pick{g, r.ID, r.V})
		}
	}
	idsDesc := make([]int, len(all))
	for i := range idsDesc {
		idsDesc[i] = len(all) - i
	}

	for _, together := range []bool{true, false} {
		var a []probeRow
		var few []int
		var c []pick
		var d []int
		segs := []combine.Segment{
			{Query: `SELECT id, v FROM probe WHERE id % 4 = 0`, Order: `v DESC, id`, Dest: &a},
			{Query: `SELECT id FROM probe WHERE id <= 50`, Dest: &few},
			// A loader batch's shape: keys with their position, a LATERAL
			// page each.
			{Query: `SELECT k.g, p.id, p.v FROM unnest($1::int[]) WITH ORDINALITY AS k(g, ord)
				CROSS JOIN LATERAL (SELECT id, v FROM probe WHERE id % 10 = k.g ORDER BY v LIMIT 5) p`,
				Order: `k.ord, p.v`, Args: []any{pq.Array([]int{3, 1, 2})}, Dest: &c},
			{Query: `SELECT id FROM probe`, Order: `id DESC`, Dest: &d},
		}
		if together {
			errs, err := combined(ctx, conn, segs)
			if err != nil {
				t.Fatal(err)
			}
			for i, err := range errs {
				if err != nil {
					t.Fatalf("segment %d: %v", i, err)
				}
			}
		} else {
			for _, s := range segs {
				if err := sqlx.SelectContext(ctx, conn, s.Dest, s.Text(), s.Args...); err != nil {
					t.Fatal(err)
				}
			}
		}
		name := map[bool]string{true: "combined", false: "alone"}[together]
		if !slices.Equal(a, byVDesc) {
			t.Errorf("%s: the v DESC segment is out of order (first %v, want %v)", name, a[:3], byVDesc[:3])
		}
		slices.Sort(few)
		if len(few) != 50 || few[0] != 1 || few[49] != 50 {
			t.Errorf("%s: the unordered segment: %v", name, few)
		}
		if !slices.Equal(c, picks) {
			t.Errorf("%s: the LATERAL segment: %v, want %v", name, c, picks)
		}
		if !slices.Equal(d, idsDesc) {
			t.Errorf("%s: the id DESC segment is out of order", name)
		}
	}
}

func filter[T any](s []T, keep func(T) bool) []T {
	var out []T
	for _, v := range s {
		if keep(v) {
			out = append(out, v)
		}
	}
	return out
}
