package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// This file checks Relay's node(id:) and nodes(ids:): every Node type is
// found by its id with the same fields as its usual field answers, with the
// same permissions; another tenant's id reads exactly like an unknown one;
// malformed ids are refused naming the argument.

// nodeSel is what the tests select of each Node type, on both paths.
var nodeSel = map[string]string{
	"Tenant":          `id name domain status createdAt createdBy modifiedAt version plan { id } settings { auditLogRetentionDays version } limits { users } usage { activeUsers }`,
	"Plan":            `id name description monthlyPriceCents currency limits { users policies interactionsPerMonth apiRequestsPerMinute }`,
	"ApiKey":          `id name prefix permissions status createdAt createdBy expiresAt lastUsedAt revokedAt`,
	"Invoice":         `id number status kind date dueDate paymentTerms lines { description amount { amountCents currency } } subtotal { amountCents } taxRateBasisPoints tax { amountCents } amount { amountCents formatted } seller { name } billTo { name } currency description periodStart periodEnd pdfUrl paidAt createdAt`,
	"CreditGrant":     `id amount used remaining expiresAt expired reason createdAt createdBy`,
	"Event":           `id type wireType at actor action subject payload requestId`,
	"WebhookDelivery": `id eventId eventType eventWireType channel url status attemptCount createdAt nextAttemptAt attempts { at httpStatus }`,
	"Member":          `id email name role status permissions lastLoginMethod lastLoginAt createdAt invitedBy invitationExpiresAt`,
	"Session":         `id method createdAt lastSeenAt idleExpiresAt expiresAt revokedAt ipAddress userAgent current`,
}

// usualPath is the query reaching each Node type the usual way, for the
// tenant $id, and where its list is in the answer.
var usualPath = map[string]struct{ query, list string }{
	"Tenant":          {`query($id: ID!) { list: tenant(id: $id) { %s } }`, ""},
	"Plan":            {`{ list: plans { %s } }`, ""},
	"ApiKey":          {`query($id: ID!) { tenant(id: $id) { list: apiKeys(first: 100) { nodes { %s } } } }`, "nodes"},
	"Invoice":         {`query($id: ID!) { tenant(id: $id) { list: invoices(first: 100) { nodes { %s } } } }`, "nodes"},
	"CreditGrant":     {`query($id: ID!) { tenant(id: $id) { list: credits { grants { %s } } } }`, "grants"},
	"Event":           {`query($id: ID!) { tenant(id: $id) { list: events(first: 100) { nodes { %s } } } }`, "nodes"},
	"WebhookDelivery": {`query($id: ID!) { tenant(id: $id) { list: webhookDeliveries(first: 100) { nodes { %s } } } }`, "nodes"},
	"Member":          {`query($id: ID!) { tenant(id: $id) { list: members(first: 100) { nodes { %s } } } }`, "nodes"},
	"Session":         {`{ viewer { list: sessions { %s } } }`, ""},
}

// nodeWorld is a tenant with one object of every Node type, and a second
// tenant with keys that must not see them.
type nodeWorld struct {
	*peopleEnv
	a, b        string            // the tenants
	ids         map[string]string // an id of each Node type, A's
	readAll     string            // A's key holding every read permission
	memberToken string            // A's member's session
	bReadAll    string            // B's key holding every read permission
	bManager    string            // B's key holding them and TENANT_MANAGE
	tenantOnly  string            // A's key holding TENANT_READ only
	billingOnly string            // A's key holding BILLING_READ only
}

var readPerms = []string{"TENANT_READ", "API_KEYS_READ", "BILLING_READ", "EVENTS_READ", "NOTIFICATION_CHANNELS_READ", "MEMBERS_READ"}

func newNodeWorld(t *testing.T) *nodeWorld {
	t.Helper()
	clock := &billClock{}
	clock.Set(billStart)
	p := newPeopleEnv(t, envOptions{now: clock.Now})
	w := &nodeWorld{peopleEnv: p, ids: map[string]string{}}
	w.a, w.b = p.createTenant("Node Alpha", randomDomain()), p.createTenant("Node Beta", randomDomain())
	w.ids["Tenant"], w.ids["Plan"] = w.a, "professional"
	var keyID string
	w.readAll, keyID = p.createKeyWithID(w.a, readPerms...)
	w.ids["ApiKey"] = keyID
	w.tenantOnly, w.billingOnly = p.createKey(w.a, "TENANT_READ"), p.createKey(w.a, "BILLING_READ")
	w.bReadAll = p.createKey(w.b, readPerms...)
	w.bManager = p.createKey(w.b, append([]string{"TENANT_MANAGE"}, readPerms...)...)

	// An invoice, a credit grant, an event and its webhook delivery.
	p.mustGQL(testAdminSecret, qRunBilling, map[string]any{"in": map[string]any{"period": "2026-11"}}, nil)
	var grant struct {
		GrantCredits struct{ Grant struct{ ID string } }
	}
	p.mustGQL(testAdminSecret, `mutation($id: ID!) { grantCredits(input: {tenantId: $id, amount: 25, reason: "node test"}) { grant { id } } }`,
		map[string]any{"id": w.a}, &grant)
	w.ids["CreditGrant"] = grant.GrantCredits.Grant.ID
	subscribe(p.env, w.a, "https://hooks.example.com/node", "SUBSCRIPTION_CHANGED")
	changePlanTo(p.env, w.a, "enterprise")
	if _, err := p.store.DispatchEvents(context.Background(), 100); err != nil {
		t.Fatal(err)
	}
	w.ids["Event"] = eventIDs(p.env, w.a, "SUBSCRIPTION_CHANGED")[0]
	// A member and its session.
	var memberID string
	w.memberToken, memberID = p.member(w.a, "ana@"+randomDomain(), "ADMIN")
	w.ids["Member"] = memberID
	var viewer struct {
		Viewer struct{ Session struct{ ID string } }
	}
	p.mustGQL(w.memberToken, `{ viewer { session { id } } }`, nil, &viewer)
	w.ids["Session"] = viewer.Viewer.Session.ID
	for _, typ := range []string{"Invoice", "WebhookDelivery"} {
		usual := w.usual(t, typ, w.readAll)
		if len(usual) == 0 {
			t.Fatalf("tenant A has no %s", typ)
		}
		w.ids[typ] = usual[0]["id"].(string)
	}
	return w
}

// tokenFor is the token that reads typ the usual way in A.
func (w *nodeWorld) tokenFor(typ string) string {
	if typ == "Session" {
		return w.memberToken
	}
	return w.readAll
}

// usual reads the objects of typ the usual way, as token.
func (w *nodeWorld) usual(t *testing.T, typ, token string) []map[string]any {
	t.Helper()
	u := usualPath[typ]
	var vars map[string]any
	if strings.Contains(u.query, "$id") {
		vars = map[string]any{"id": w.a}
	}
	r := w.gql(token, fmt.Sprintf(u.query, nodeSel[typ]), vars)
	var data map[string]json.RawMessage
	r.Decode(t, &data)
	raw := data["list"]
	if raw == nil { // nested under tenant or viewer
		for _, v := range data {
			var inner map[string]json.RawMessage
			if err := json.Unmarshal(v, &inner); err == nil && inner["list"] != nil {
				raw = inner["list"]
			}
		}
	}
	if u.list != "" {
		var inner map[string]json.RawMessage
		if err := json.Unmarshal(raw, &inner); err != nil {
			t.Fatal(err)
		}
		raw = inner[u.list]
	}
	var list []map[string]any
	if err := json.Unmarshal(raw, &list); err != nil {
		var one map[string]any
		if err := json.Unmarshal(raw, &one); err != nil {
			t.Fatalf("%s: %s", typ, r.Raw)
		}
		list = []map[string]any{one}
	}
	return list
}

const qNode = `query($id: ID!) { node(id: $id) { __typename id %s } }`

// TestNodeEveryType: node(id:) finds an object of every Node type by the
// id its usual field answers, with exactly the fields that field answers.
func TestNodeEveryType(t *testing.T) {
	t.Parallel()
	w := newNodeWorld(t)
	for typ := range nodeSel {
		t.Run(typ, func(t *testing.T) {
			token := w.tokenFor(typ)
			var want map[string]any
			for _, o := range w.usual(t, typ, token) {
				if o["id"] == w.ids[typ] {
					want = o
				}
			}
			if want == nil {
				t.Fatalf("%s %s is not in its usual list", typ, w.ids[typ])
			}
			var got struct{ Node map[string]any }
			w.withT(t).mustGQL(token, fmt.Sprintf(qNode, "... on "+typ+" { "+nodeSel[typ]+" }"), map[string]any{"id": w.ids[typ]}, &got)
			if got.Node["__typename"] != typ {
				t.Fatalf("node(%s) is a %v, want %s", w.ids[typ], got.Node["__typename"], typ)
			}
			delete(got.Node, "__typename")
			gotJSON, _ := json.Marshal(got.Node)
			wantJSON, _ := json.Marshal(want)
			if !bytes.Equal(gotJSON, wantJSON) {
				t.Fatalf("node(id:) answers\n%s\nits usual field\n%s", gotJSON, wantJSON)
			}
		})
	}
	t.Run("nodes", func(t *testing.T) {
		// Every type at once, in the order asked, a duplicate twice and an
		// unknown id as null; upper-case ids are the same ids.
		var ids []string
		for typ := range nodeSel {
			if typ != "Session" {
				ids = append(ids, w.ids[typ])
			}
		}
		ids = append(ids, strings.ToUpper(w.ids["Invoice"]), randomUUID(), w.ids["Plan"])
		var got struct {
			Nodes []*struct{ Typename, ID string }
		}
		w.withT(t).mustGQL(w.readAll, `query($ids: [ID!]!) { nodes(ids: $ids) { typename: __typename id } }`, map[string]any{"ids": ids}, &got)
		if len(got.Nodes) != len(ids) {
			t.Fatalf("%d nodes for %d ids", len(got.Nodes), len(ids))
		}
		for i, id := range ids {
			n := got.Nodes[i]
			switch {
			case i == len(ids)-2:
				if n != nil {
					t.Errorf("nodes[%d] (an unknown id) = %+v, want null", i, n)
				}
			case n == nil || !strings.EqualFold(n.ID, id):
				t.Errorf("nodes[%d] = %+v, want the object of %s", i, n, id)
			}
		}
	})
}

// TestNodeIsolation: another tenant's id answers null with no error, byte
// for byte what an id that exists nowhere answers, for every Node type and
// in nodes; the operator and a TENANT_MANAGE key see what tenant(id:) and
// its fields show them (no sessions: those are only their member's).
func TestNodeIsolation(t *testing.T) {
	t.Parallel()
	w := newNodeWorld(t)
	q := fmt.Sprintf(qNode, "... on Invoice { number } ... on Member { email }")
	unknown := w.gql(w.bReadAll, q, map[string]any{"id": randomUUID()})
	if string(unknown.Data) != `{"node":null}` || len(unknown.Errors) > 0 {
		t.Fatalf("an unknown id: %s; want node null, no error", unknown.Raw)
	}
	for typ, id := range w.ids {
		t.Run(typ, func(t *testing.T) {
			e := w.withT(t)
			r := e.gql(w.bReadAll, q, map[string]any{"id": id})
			if typ == "Plan" { // the public catalog
				if !strings.Contains(string(r.Data), `"Plan"`) {
					t.Fatalf("B's key on a plan: %s", r.Raw)
				}
				return
			}
			if !bytes.Equal(r.Raw, unknown.Raw) || r.Status != unknown.Status {
				t.Fatalf("B's key on A's %s: %d %s; want what an unknown id answers: %d %s", typ, r.Status, r.Raw, unknown.Status, unknown.Raw)
			}
			// A's own member reads only its own sessions.
			if typ != "Session" {
				if r := e.gql(w.memberToken, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}); strings.Contains(string(r.Raw), `"node":null`) {
					t.Fatalf("A's member on A's %s: %s", typ, r.Raw)
				}
			}
			for who, token := range map[string]string{"the operator": testAdminSecret, "B's TENANT_MANAGE key": w.bManager} {
				r := e.gql(token, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})
				if typ == "Session" {
					if string(r.Data) != `{"node":null}` || len(r.Errors) > 0 {
						t.Errorf("%s on A's session: %s; want null (viewer.sessions shows it only its member's)", who, r.Raw)
					}
					continue
				}
				if want := `{"node":{"id":"` + id + `"}}`; string(r.Data) != want || len(r.Errors) > 0 {
					t.Errorf("%s on A's %s: %s; want %s", who, typ, r.Raw, want)
				}
			}
		})
	}
	t.Run("nodes", func(t *testing.T) {
		var got struct{ Nodes []any }
		w.withT(t).mustGQL(w.bReadAll, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []string{w.ids["Invoice"], w.a, w.ids["Member"]}}, &got)
		if len(got.Nodes) != 3 || got.Nodes[0] != nil || got.Nodes[1] != nil || got.Nodes[2] != nil {
			t.Fatalf("B's key: nodes = %v, want three nulls", got.Nodes)
		}
	})
}

// TestNodePermissions: node(id:) needs what the usual field needs: a key
// without BILLING_READ gets FORBIDDEN on its own tenant's invoice (at the
// node's path, data null, naming the permission), one without TENANT_READ
// on its tenant; in nodes, each refused position has its own error and
// the others are answered. Without credentials only plans are found.
func TestNodePermissions(t *testing.T) {
	t.Parallel()
	w := newNodeWorld(t)
	cases := []struct {
		name, token, typ, code string
	}{
		{"OK/InvoiceWithBillingRead", w.billingOnly, "Invoice", ""},
		{"OK/TenantWithTenantRead", w.tenantOnly, "Tenant", ""},
		{"OK/PlanAnonymous", "", "Plan", ""},
		{"ErrInvoiceWithoutBillingRead", w.tenantOnly, "Invoice", "FORBIDDEN"},
		{"ErrCreditGrantWithoutBillingRead", w.tenantOnly, "CreditGrant", "FORBIDDEN"},
		{"ErrApiKeyWithoutApiKeysRead", w.tenantOnly, "ApiKey", "FORBIDDEN"},
		{"ErrEventWithoutEventsRead", w.tenantOnly, "Event", "FORBIDDEN"},
		{"ErrDeliveryWithoutChannelsRead", w.tenantOnly, "WebhookDelivery", "FORBIDDEN"},
		{"ErrMemberWithoutMembersRead", w.tenantOnly, "Member", "FORBIDDEN"},
		{"ErrTenantWithoutTenantRead", w.billingOnly, "Tenant", "FORBIDDEN"},
		{"ErrSessionOfAKey", w.readAll, "Session", "null"},
		{"ErrAnonymous", "", "Invoice", "UNAUTHENTICATED"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := w.withT(t).gql(c.token, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": w.ids[c.typ]})
			switch c.code {
			case "":
				if want := `{"node":{"id":"` + w.ids[c.typ] + `"}}`; string(r.Data) != want || len(r.Errors) > 0 {
					t.Fatalf("%s, want %s", r.Raw, want)
				}
			case "null":
				if string(r.Data) != `{"node":null}` || len(r.Errors) > 0 {
					t.Fatalf("%s, want node null and no error", r.Raw)
				}
			default:
				if r.Code() != c.code || string(r.Data) != `{"node":null}` || fmt.Sprint(r.Errors[0].Path) != "[node]" {
					t.Fatalf("%s, want node null with %s at [node]", r.Raw, c.code)
				}
				if c.code == "FORBIDDEN" && !strings.Contains(r.Errors[0].Message, "_READ permission") {
					t.Fatalf("the refusal does not name the permission: %s", r.Errors[0].Message)
				}
			}
		})
	}
	t.Run("ErrNodesPerPosition", func(t *testing.T) {
		r := w.withT(t).gql(w.tenantOnly, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`,
			map[string]any{"ids": []string{w.a, w.ids["Invoice"], "starter", w.ids["Member"]}})
		want := `{"nodes":[{"id":"` + w.a + `"},null,{"id":"starter"},null]}`
		if string(r.Data) != want || len(r.Errors) != 2 || r.Code() != "FORBIDDEN" ||
			fmt.Sprint(r.Errors[0].Path, r.Errors[1].Path) != "[nodes 1] [nodes 3]" {
			t.Fatalf("%s; want %s with FORBIDDEN at [nodes 1] and [nodes 3]", r.Raw, want)
		}
	})
}

// TestNodeMalformedID: an id that is neither a UUID nor a plan's id answers
// BAD_USER_INPUT naming the argument (id, ids[i]); more than 100 ids,
// naming ids. The refusal is the same with or without credentials.
func TestNodeMalformedID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	many := make([]string, 101)
	for i := range many {
		many[i] = randomUUID()
	}
	for _, c := range []struct {
		name, token, query string
		vars               map[string]any
		field              string
	}{
		{"ErrNotAUUID", testAdminSecret, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": "not-a-uuid"}, "id"},
		{"ErrNotAUUIDAnonymous", "", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": "7c9e6679-7425-40de-944b"}, "id"},
		{"ErrPlanCase", testAdminSecret, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": "Starter"}, "id"},
		{"ErrEmpty", testAdminSecret, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": ""}, "id"},
		{"ErrOneOfMany", testAdminSecret, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []string{randomUUID(), "x"}}, "ids[1]"},
		{"ErrTooMany", testAdminSecret, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": many}, "ids"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.withT(t).gql(c.token, c.query, c.vars)
			if r.Status != http.StatusOK || r.Code() != "BAD_USER_INPUT" || r.Field() != c.field || !strings.Contains(r.Errors[0].Message, c.field) {
				t.Fatalf("%d %s; want BAD_USER_INPUT naming %s", r.Status, r.Raw, c.field)
			}
		})
	}
}
