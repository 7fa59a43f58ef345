package httpapi_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"tenantapi/tenant"
)

// Every connection pages backwards (last/before) as it pages forwards
// (first/after): the two walks visit the same items in the same order,
// page info is right at every step in both directions, the refusals are
// the same as Tenant.invoices' (TestInvoicePaging), and a cursor taken
// from another tenant's list is only a position: the answer is the
// caller's own page at that position, nothing of the other tenant's.

// connPageOut is a page of any connection.
type connPageOut struct {
	Edges []struct {
		Cursor string
		Node   struct{ ID string }
	}
	PageInfo struct {
		HasNextPage, HasPreviousPage bool
		StartCursor, EndCursor       *string
	}
}

func (p connPageOut) ids() []string {
	out := make([]string, len(p.Edges))
	for i, e := range p.Edges {
		out[i] = e.Node.ID
	}
	return out
}

// pagedConnections are the connections walked: a Tenant field, or the
// root tenants list.
var pagedConnections = []string{"apiKeys", "members", "auditLog", "events", "webhookDeliveries", "tenants"}

func connQuery(field string) string {
	page := `(first: $first, after: $after, last: $last, before: $before) {
		edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }`
	if field == "tenants" {
		return `query($first: Int, $after: String, $last: Int, $before: String) { c: tenants` + page + ` }`
	}
	return `query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) { tenant(id: $id) { c: ` + field + page + ` } }`
}

// pagingEnv is tenant a with several items in every list, then tenant b
// with a few, all of them after a's in time (so before them in the lists
// ordered newest first), b's members sorting before a's by email; five
// more tenants for the tenants list. key reads a's lists.
type pagingEnv struct {
	*env
	a, b, key, bKey string
}

func newPagingEnv(t *testing.T) *pagingEnv {
	t.Helper()
	e := newEnv(t)
	rcv := newScriptedReceiver(t, nil)
	seed := func(id, emailPrefix string, keys, members int) {
		subscribe(e, id, rcv.URL(id), "API_KEY_CREATED", "MEMBER_INVITED")
		for range keys {
			e.createKey(id, "TENANT_READ")
		}
		for i := range members {
			e.mustGQL(testAdminSecret, `mutation($in: InviteMemberInput!) { inviteMember(input: $in) { member { id } } }`,
				map[string]any{"in": map[string]any{"tenantId": id, "email": fmt.Sprintf("%s%d@example.test", emailPrefix, i), "role": "VIEWER"}}, nil)
		}
		if _, err := e.store.DispatchEvents(context.Background(), 1000); err != nil {
			t.Fatal(err)
		}
	}
	p := &pagingEnv{env: e}
	p.a = e.createTenant("Alpha Paged", randomDomain())
	p.key = e.createKey(p.a, "TENANT_READ", "API_KEYS_READ", "MEMBERS_READ", "AUDIT_READ", "EVENTS_READ", "NOTIFICATION_CHANNELS_READ")
	seed(p.a, "member-", 6, 6)
	p.b = e.createTenant("Beta Paged", randomDomain())
	p.bKey = e.createKey(p.b, "TENANT_READ", "API_KEYS_READ", "MEMBERS_READ", "AUDIT_READ", "EVENTS_READ", "NOTIFICATION_CHANNELS_READ")
	seed(p.b, "0-beta-", 2, 2)
	for i := range 5 {
		e.createTenant(fmt.Sprintf("Listed %d", i), randomDomain())
	}
	return p
}

// on is p reporting to t (a subtest's).
func (p *pagingEnv) on(t *testing.T) *pagingEnv {
	e := *p.env
	e.t = t
	q := *p
	q.env = &e
	return &q
}

// page reads a page of field as token (of tenant id, for a Tenant field).
func (p *pagingEnv) page(token, id, field string, args map[string]any) (connPageOut, *result) {
	p.t.Helper()
	vars := map[string]any{}
	if field != "tenants" {
		vars["id"] = id
	}
	for k, v := range args {
		vars[k] = v
	}
	r := p.gql(token, connQuery(field), vars)
	var out struct {
		Tenant *struct {
			C connPageOut `json:"c"`
		}
		C *connPageOut `json:"c"`
	}
	if len(r.Errors) > 0 {
		return connPageOut{}, r
	}
	r.Decode(p.t, &out)
	if out.Tenant != nil {
		return out.Tenant.C, r
	}
	if out.C == nil {
		p.t.Fatalf("no page in %s", r.Raw)
	}
	return *out.C, r
}

func (p *pagingEnv) mustPage(field string, args map[string]any) connPageOut {
	p.t.Helper()
	token := p.key
	if field == "tenants" {
		token = testAdminSecret
	}
	out, r := p.page(token, p.a, field, args)
	if len(r.Errors) > 0 {
		p.t.Fatalf("%s %v: %s", field, args, r.Raw)
	}
	return out
}

// walk reads field's list four items at a time, forwards (first/after) or
// backwards (last/before), checks each page's info (total items in the
// list), and returns the items in list order.
func (p *pagingEnv) walk(field string, backward bool, total int) []string {
	p.t.Helper()
	size, from := "first", "after"
	if backward {
		size, from = "last", "before"
	}
	var got []string
	args := map[string]any{size: 4}
	for i := 0; i <= total; i++ {
		pg := p.mustPage(field, args)
		n := len(pg.Edges)
		if n == 0 || *pg.PageInfo.StartCursor != pg.Edges[0].Cursor || *pg.PageInfo.EndCursor != pg.Edges[n-1].Cursor {
			p.t.Fatalf("page %d: %d items, start/end cursors not the edges' first and last", i, n)
		}
		// walked: the side of the page already read; ahead: the other.
		walked, ahead, next := pg.PageInfo.HasPreviousPage, pg.PageInfo.HasNextPage, *pg.PageInfo.EndCursor
		if backward {
			got = append(pg.ids(), got...)
			walked, ahead, next = ahead, walked, *pg.PageInfo.StartCursor
		} else {
			got = append(got, pg.ids()...)
		}
		if walked != (i > 0) || ahead != (len(got) < total) {
			p.t.Errorf("page %d (%d of %d read): pageInfo %+v", i, len(got), total, pg.PageInfo)
		}
		if !ahead {
			break
		}
		args = map[string]any{size: 4, from: next}
	}
	return got
}

func TestBackwardPagingEveryConnection(t *testing.T) {
	t.Parallel()
	p := newPagingEnv(t)
	for _, field := range pagedConnections {
		t.Run(field, func(t *testing.T) {
			p := p.on(t)
			whole := p.mustPage(field, map[string]any{"first": 100})
			all := whole.ids()
			if len(all) < 6 || whole.PageInfo.HasNextPage || whole.PageInfo.HasPreviousPage {
				t.Fatalf("whole list: %d items, pageInfo %+v; want at least 6, no page either side", len(all), whole.PageInfo)
			}
			cursor := map[string]string{}
			for _, e := range whole.Edges {
				cursor[e.Node.ID] = e.Cursor
			}

			for _, backward := range []bool{false, true} {
				t.Run(map[bool]string{false: "WalkForwards", true: "WalkBackwards"}[backward], func(t *testing.T) {
					if got := p.on(t).walk(field, backward, len(all)); !slices.Equal(got, all) {
						t.Errorf("walked %v, want %v (the list's order)", got, all)
					}
				})
			}

			n := len(all)
			for _, tc := range []struct {
				name       string
				args       map[string]any
				ids        []string
				prev, next bool
			}{
				{"LastLargerThanList", map[string]any{"last": 100}, all, false, false},
				{"LastOne", map[string]any{"last": 1}, all[n-1:], true, false},
				{"BeforeFirstItem", map[string]any{"last": 3, "before": cursor[all[0]]}, []string{}, false, true},
				{"BeforeSecondItem", map[string]any{"last": 3, "before": cursor[all[1]]}, all[:1], false, true},
				{"BeforeLastItem", map[string]any{"last": 2, "before": cursor[all[n-1]]}, all[n-3 : n-1], true, true},
				{"AfterLastItem", map[string]any{"first": 3, "after": cursor[all[n-1]]}, []string{}, true, false},
				{"AfterFirstItem", map[string]any{"first": 2, "after": cursor[all[0]]}, all[1:3], true, true},
			} {
				t.Run(tc.name, func(t *testing.T) {
					p := p.on(t)
					pg := p.mustPage(field, tc.args)
					if got := pg.ids(); !slices.Equal(got, tc.ids) {
						t.Errorf("ids = %v, want %v", got, tc.ids)
					}
					if pg.PageInfo.HasPreviousPage != tc.prev || pg.PageInfo.HasNextPage != tc.next {
						t.Errorf("hasPreviousPage, hasNextPage = %v, %v; want %v, %v", pg.PageInfo.HasPreviousPage, pg.PageInfo.HasNextPage, tc.prev, tc.next)
					}
				})
			}

			for _, tc := range []struct {
				name, arg, msg string
				args           map[string]any
			}{
				{"ErrBadBefore", "before", "before is not a cursor returned by this API", map[string]any{"last": 3, "before": "!not a cursor!"}},
				{"ErrBadAfter", "after", "after is not a cursor returned by this API", map[string]any{"first": 3, "after": "!not a cursor!"}},
				{"ErrFirstWithLast", "last", "first and last cannot be combined: first pages forwards, last backwards", map[string]any{"first": 3, "last": 3}},
				{"ErrAfterWithLast", "after", "after cannot be combined with last: the page before a cursor is last with before", map[string]any{"last": 3, "after": cursor[all[0]]}},
				{"ErrBeforeWithoutLast", "before", "before goes with last (the last items before a cursor), not with first", map[string]any{"before": cursor[all[1]]}},
				{"ErrLastZero", "last", "", map[string]any{"last": 0}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					p := p.on(t)
					token := p.key
					if field == "tenants" {
						token = testAdminSecret
					}
					_, r := p.page(token, p.a, field, tc.args)
					if r.Code() != "BAD_USER_INPUT" || r.Field() != tc.arg || (tc.msg != "" && r.Errors[0].Message != tc.msg) {
						t.Errorf("got %s", r.Raw)
					}
				})
			}

			if field == "tenants" {
				return // the operators' list: no tenant's own
			}
			// b's items are all newer than a's (members: sort before them),
			// so b's first item sorts before every one of a's: after it, a's
			// list reads as from its start; before it, nothing. The same
			// pages as a's own, to the byte: b's cursor tells nothing more.
			t.Run("OtherTenantsCursor", func(t *testing.T) {
				p := p.on(t)
				bPage, r := p.page(p.bKey, p.b, field, map[string]any{"first": 1})
				if len(r.Errors) > 0 || len(bPage.Edges) != 1 {
					t.Fatalf("b's list: %s", r.Raw)
				}
				foreign := bPage.Edges[0].Cursor
				if _, ok := cursor[bPage.Edges[0].Node.ID]; ok {
					t.Fatalf("b's item is in a's list")
				}
				after, r1 := p.page(p.key, p.a, field, map[string]any{"first": 3, "after": foreign})
				_, own := p.page(p.key, p.a, field, map[string]any{"first": 3})
				if string(r1.Raw) != string(own.Raw) {
					t.Errorf("after b's cursor:\n%s\nwant a's first page:\n%s", r1.Raw, own.Raw)
				}
				for _, id := range after.ids() {
					if _, ok := cursor[id]; !ok {
						t.Errorf("item %s is not a's", id)
					}
				}
				before, r2 := p.page(p.key, p.a, field, map[string]any{"last": 3, "before": foreign})
				if len(r2.Errors) > 0 || len(before.Edges) != 0 || before.PageInfo.HasPreviousPage || !before.PageInfo.HasNextPage {
					t.Errorf("before b's cursor: %s; want an empty page with a's items after it", r2.Raw)
				}
				// And b's own cursor on b's list, asked by a's key, is
				// refused as any other tenant's list is.
				_, r3 := p.page(p.key, p.b, field, map[string]any{"last": 3, "before": foreign})
				_, r4 := p.page(p.key, randomUUID(), field, map[string]any{"last": 3, "before": foreign})
				if r3.Code() != "NOT_FOUND" && r3.Code() != "FORBIDDEN" {
					t.Errorf("a's key on b's list: %s", r3.Raw)
				}
				sameResponse(t, r3, r4)
			})
		})
	}
}

// TestStatementsConstantBackwards: a page of tenants read backwards from a
// cursor (the oldest tenant's), each with its last API keys and audit entries, runs as many
// statements for 30 tenants as for 2 (each nested connection one batch,
// whatever the direction).
func TestStatementsConstantBackwards(t *testing.T) {
	t.Parallel()
	count := func(n int) int64 {
		e := newEnv(t)
		ctx := tenant.WithActor(context.Background(), &tenant.Actor{Kind: tenant.Admin})
		for i := range n + 1 {
			tn, err := e.store.CreateTenant(ctx, tenant.CreateTenant{Name: fmt.Sprintf("Tenant %d", i), Domain: fmt.Sprintf("t%d.example.com", i), PlanID: "starter"})
			if err != nil {
				t.Fatal(err)
			}
			for k := range 3 {
				if _, _, err := e.store.CreateAPIKey(ctx, tenant.NewAPIKeyInput{TenantID: tn.ID, Name: fmt.Sprintf("key %d", k), Permissions: []tenant.Permission{tenant.PermTenantRead}}); err != nil {
					t.Fatal(err)
				}
			}
		}
		var first struct {
			Tenants struct{ PageInfo struct{ StartCursor string } }
		}
		e.mustGQL(testAdminSecret, `{ tenants(last: 1) { pageInfo { startCursor } } }`, nil, &first)
		var out struct {
			Tenants struct {
				Nodes []struct {
					APIKeys struct{ Nodes []any }
				}
			}
		}
		before := e.store.Statements.Load()
		e.mustGQL(testAdminSecret, `query($last: Int!, $before: String!) { tenants(last: $last, before: $before) { nodes {
			apiKeys(last: 2) { nodes { id } pageInfo { hasPreviousPage } }
			auditLog(last: 2) { nodes { id } pageInfo { hasPreviousPage } } } } }`,
			map[string]any{"last": n, "before": first.Tenants.PageInfo.StartCursor}, &out)
		got := e.store.Statements.Load() - before
		if len(out.Tenants.Nodes) != n || len(out.Tenants.Nodes[0].APIKeys.Nodes) != 2 {
			t.Fatalf("got %+v, want %d tenants with 2 keys each", out.Tenants.Nodes, n)
		}
		return got
	}
	small, large := count(2), count(30)
	t.Logf("statements: %d for 2 tenants, %d for 30", small, large)
	if small != large {
		t.Errorf("statements grow with the list: %d for 2 tenants, %d for 30", small, large)
	}
}
