package httpapi_test

import (
	"slices"
	"testing"
)

// Tenant.invoices paged three ways over 25 invoices: a numbered page
// (first/offset with totalCount, the reference's limit/offset/total),
// forwards by cursor and backwards by cursor (last/before), with
// pageInfo's hasPreviousPage and hasNextPage, and every refusal of
// arguments that do not go together.

type invoicePageOut struct {
	TotalCount int
	Nodes      []struct{ ID string }
	Edges      []struct{ Cursor string }
	PageInfo   struct {
		HasNextPage, HasPreviousPage bool
		StartCursor, EndCursor       *string
	}
}

func (p invoicePageOut) ids() []string {
	out := make([]string, len(p.Nodes))
	for i, n := range p.Nodes {
		out[i] = n.ID
	}
	return out
}

const qInvoicePage = `query($id: ID!, $first: Int, $after: String, $last: Int, $before: String, $offset: Int) {
	tenant(id: $id) { invoices(first: $first, after: $after, last: $last, before: $before, offset: $offset) {
		totalCount nodes { id } edges { cursor } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }`

// invoicesEnv is a tenant with 25 monthly invoices, and all their ids,
// newest first.
func invoicesEnv(t *testing.T) (b *billEnv, id string, all []string) {
	t.Helper()
	b = newBillEnv(t)
	id = b.tenantOn("Paged", "starter")
	b.runBilling("2026-11")
	// Its subscription started two years ago: the run catches up every
	// period since (one invoice per month).
	if _, err := b.sql.Exec(`UPDATE billing_accounts SET next_billing_date = '2024-11-10' WHERE tenant_id = $1`, id); err != nil {
		t.Fatal(err)
	}
	b.runBilling("2026-11")
	p := invoicePage(b, id, map[string]any{"first": 100})
	if p.TotalCount != 25 || len(p.Nodes) != 25 {
		t.Fatalf("seeded %d invoices (page of %d), want 25", p.TotalCount, len(p.Nodes))
	}
	return b, id, p.ids()
}

func invoicePage(b *billEnv, id string, args map[string]any) invoicePageOut {
	b.t.Helper()
	vars := map[string]any{"id": id}
	for k, v := range args {
		vars[k] = v
	}
	var out struct {
		Tenant struct{ Invoices invoicePageOut }
	}
	b.mustGQL(testAdminSecret, qInvoicePage, vars, &out)
	return out.Tenant.Invoices
}

func TestInvoicePaging(t *testing.T) {
	b, id, all := invoicesEnv(t)
	cursorOf := func(i int) string { // the cursor of all[i]
		p := invoicePage(b, id, map[string]any{"first": 1, "offset": i})
		return p.Edges[0].Cursor
	}
	type want struct {
		ids        []string
		prev, next bool
	}
	for _, tc := range []struct {
		name string
		args map[string]any
		want want
	}{
		{"FirstPage", map[string]any{"first": 10}, want{ids: all[:10], next: true}},
		{"DefaultSize", map[string]any{}, want{ids: all[:10], next: true}},
		{"OffsetPage3", map[string]any{"first": 10, "offset": 20}, want{ids: all[20:], prev: true}},
		{"OffsetZero", map[string]any{"first": 10, "offset": 0}, want{ids: all[:10], next: true}},
		{"OffsetMiddle", map[string]any{"first": 5, "offset": 10}, want{ids: all[10:15], prev: true, next: true}},
		{"OffsetPastEnd", map[string]any{"first": 10, "offset": 30}, want{ids: []string{}, prev: true}},
		{"After", map[string]any{"first": 10, "after": cursorOf(9)}, want{ids: all[10:20], prev: true, next: true}},
		{"AfterLast", map[string]any{"first": 10, "after": cursorOf(24)}, want{ids: []string{}, prev: true}},
		{"LastOnly", map[string]any{"last": 10}, want{ids: all[15:], prev: true}},
		{"LastAll", map[string]any{"last": 100}, want{ids: all}},
		{"Before", map[string]any{"last": 10, "before": cursorOf(15)}, want{ids: all[5:15], prev: true, next: true}},
		{"BeforeReachesStart", map[string]any{"last": 10, "before": cursorOf(5)}, want{ids: all[:5], next: true}},
		{"BeforeFirst", map[string]any{"last": 10, "before": cursorOf(0)}, want{ids: []string{}, next: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := invoicePage(b, id, tc.args)
			if got := p.ids(); !slices.Equal(got, tc.want.ids) {
				t.Errorf("ids = %v, want %v", got, tc.want.ids)
			}
			if p.TotalCount != 25 {
				t.Errorf("totalCount = %d, want 25", p.TotalCount)
			}
			if p.PageInfo.HasPreviousPage != tc.want.prev || p.PageInfo.HasNextPage != tc.want.next {
				t.Errorf("hasPreviousPage, hasNextPage = %v, %v; want %v, %v", p.PageInfo.HasPreviousPage, p.PageInfo.HasNextPage, tc.want.prev, tc.want.next)
			}
			if n := len(p.Edges); n > 0 && (*p.PageInfo.StartCursor != p.Edges[0].Cursor || *p.PageInfo.EndCursor != p.Edges[n-1].Cursor) {
				t.Errorf("start/end cursors are not the edges' first and last")
			}
		})
	}

	// Walking backwards from the end by startCursor visits every invoice
	// once, in order, and stops where hasPreviousPage turns false.
	t.Run("WalkBackwards", func(t *testing.T) {
		var got []string
		args := map[string]any{"last": 7}
		for range 10 {
			p := invoicePage(b, id, args)
			got = append(p.ids(), got...)
			if !p.PageInfo.HasPreviousPage {
				break
			}
			args = map[string]any{"last": 7, "before": *p.PageInfo.StartCursor}
		}
		if !slices.Equal(got, all) {
			t.Errorf("walked %v, want %v", got, all)
		}
	})

	for _, tc := range []struct {
		name, field, msg string
		args             map[string]any
	}{
		{"ErrFirstWithLast", "last", "first and last cannot be combined: first pages forwards, last backwards", map[string]any{"first": 5, "last": 5}},
		{"ErrAfterWithLast", "after", "after cannot be combined with last: the page before a cursor is last with before", map[string]any{"last": 5, "after": all[0]}},
		{"ErrBeforeWithoutLast", "before", "before goes with last (the last items before a cursor), not with first", map[string]any{"before": cursorOf(3)}},
		{"ErrOffsetWithAfter", "offset", "offset and after cannot be combined: page by one or the other", map[string]any{"offset": 5, "after": cursorOf(3)}},
		{"ErrOffsetWithLast", "offset", "offset counts from the start of the list: it cannot be combined with last", map[string]any{"offset": 5, "last": 5}},
		{"ErrOffsetNegative", "offset", "offset must be between 0 and 10000, got -1; page further with after", map[string]any{"offset": -1}},
		{"ErrOffsetTooLarge", "offset", "offset must be between 0 and 10000, got 10001; page further with after", map[string]any{"offset": 10001}},
		{"ErrLastTooLarge", "last", "last must be between 1 and 100 (the page size of Tenant.invoices), got 101", map[string]any{"last": 101}},
		{"ErrBadBefore", "before", "before is not a cursor returned by this API", map[string]any{"last": 5, "before": "bm90LWEtY3Vyc29y"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]any{"id": id}
			for k, v := range tc.args {
				vars[k] = v
			}
			r := b.gql(testAdminSecret, qInvoicePage, vars)
			if r.Code() != "BAD_USER_INPUT" || r.Field() != tc.field || r.Errors[0].Message != tc.msg {
				t.Errorf("got %s", r.Raw)
			}
		})
	}
}

// Billing.usage is the reference's billing usage block: this month's
// active users and interactions beside the plan's limits; unlimited plans
// read null limits.
func TestBillingUsage(t *testing.T) {
	b := newBillEnv(t)
	starter, enterprise := b.tenantOn("Starter", "starter"), b.tenantOn("Enterprise", "enterprise")
	b.seedUsage(starter, 3, 0, 1234)
	b.seedUsage(enterprise, 7, 0, 99)
	type usageOut struct {
		ActiveUsers, Interactions     int
		LimitUsers, LimitInteractions *int
	}
	read := func(id string) usageOut {
		key, _ := b.createKeyWithID(id, "TENANT_READ", "BILLING_READ")
		var out struct {
			Me struct{ Billing struct{ Usage usageOut } }
		}
		b.mustGQL(key, `{ me { billing { usage { activeUsers interactions limitUsers limitInteractions } } } }`, nil, &out)
		return out.Me.Billing.Usage
	}
	five, tenK := 5, 10000
	for _, tc := range []struct {
		name, id string
		want     usageOut
	}{
		{"Starter", starter, usageOut{3, 1234, &five, &tenK}},
		{"EnterpriseUnlimited", enterprise, usageOut{7, 99, nil, nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := read(tc.id)
			if got.ActiveUsers != tc.want.ActiveUsers || got.Interactions != tc.want.Interactions ||
				!eqIntPtr(got.LimitUsers, tc.want.LimitUsers) || !eqIntPtr(got.LimitInteractions, tc.want.LimitInteractions) {
				t.Errorf("usage = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func eqIntPtr(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// Tenant.stats without dates is the current UTC month to date; either date
// may be an RFC 3339 instant (its UTC day); a week cut by startDate starts
// on startDate.
func TestStatsDefaultsAndInstants(t *testing.T) {
	b := newBillEnv(t) // today is 2026-11-10 (a Tuesday)
	id := b.tenantOn("Stats", "starter")
	b.seedUsage(id, 2, 0, 1234) // 1,234 interactions on 2026-11-03
	type bucket struct{ Date, From, To string }
	type out struct {
		Period  struct{ Start, End string }
		Summary struct{ TotalInteractions int }
		Trends  []bucket
	}
	for _, tc := range []struct {
		name, args string
		start, end string
		total      int
		trends     []bucket
	}{
		{"NoDates", `granularity: MONTHLY`, "2026-11-01T00:00:00Z", "2026-11-10T23:59:59Z", 1234,
			[]bucket{{"2026-11-01", "2026-11-01", "2026-11-10"}}},
		{"EndInstantOnly", `endDate: "2026-10-20T23:30:00-05:00", granularity: MONTHLY`, "2026-10-01T00:00:00Z", "2026-10-21T23:59:59Z", 0,
			[]bucket{{"2026-10-01", "2026-10-01", "2026-10-21"}}},
		{"StartInstantWeekly", `startDate: "2026-11-03T10:00:00Z", granularity: WEEKLY`, "2026-11-03T00:00:00Z", "2026-11-10T23:59:59Z", 1234,
			[]bucket{{"2026-11-03", "2026-11-03", "2026-11-08"}, {"2026-11-09", "2026-11-09", "2026-11-10"}}},
		{"StartAfterToday", `startDate: "2026-12-05", granularity: MONTHLY`, "2026-12-05T00:00:00Z", "2026-12-05T23:59:59Z", 0,
			[]bucket{{"2026-12-05", "2026-12-05", "2026-12-05"}}},
		{"BothDates", `startDate: "2026-11-01", endDate: "2026-11-30T12:00:00Z", granularity: MONTHLY`, "2026-11-01T00:00:00Z", "2026-11-30T23:59:59Z", 1234,
			[]bucket{{"2026-11-01", "2026-11-01", "2026-11-30"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o struct{ Tenant struct{ Stats out } }
			b.mustGQL(testAdminSecret, `query($id: ID!) { tenant(id: $id) { stats(`+tc.args+`) {
				period { start end } summary { totalInteractions } trends { date from to } } } }`, map[string]any{"id": id}, &o)
			s := o.Tenant.Stats
			if s.Period.Start != tc.start || s.Period.End != tc.end || s.Summary.TotalInteractions != tc.total || !slices.Equal(s.Trends, tc.trends) {
				t.Errorf("stats = %+v\nwant %s..%s, %d, %+v", s, tc.start, tc.end, tc.total, tc.trends)
			}
		})
	}
}
