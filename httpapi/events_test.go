package httpapi_test

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"tenantapi/graph"
	"tenantapi/resolvers"
)

// This file covers the event log: the one event each mutation writes in its
// transaction (type and payload), none for a refused or validateOnly one,
// Tenant.events (paging, filters, permission, isolation) and the retention
// purge.

const qEvents = `query($id: ID!, $first: Int, $after: String, $filter: EventFilter) {
  tenant(id: $id) { events(first: $first, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id type wireType at actor action subject payload requestId } }
  } } }`

type eventNode struct {
	ID        string
	Type      string
	WireType  string
	At        time.Time
	Actor     string
	Action    string
	Subject   *string
	Payload   string
	RequestID *string
}

type eventPage struct {
	HasNextPage bool
	EndCursor   *string
	Events      []eventNode
}

// events reads a page of tenantID's event log as token.
func (e *env) events(token, tenantID string, first int, after string, filter map[string]any) *eventPage {
	e.t.Helper()
	vars := map[string]any{"id": tenantID, "first": first}
	if after != "" {
		vars["after"] = after
	}
	if filter != nil {
		vars["filter"] = filter
	}
	var out struct {
		Tenant struct {
			Events struct {
				PageInfo struct {
					HasNextPage bool
					EndCursor   *string
				}
				Edges []struct {
					Cursor string
					Node   eventNode
				}
			}
		}
	}
	e.gql(token, qEvents, vars).Decode(e.t, &out)
	p := &eventPage{HasNextPage: out.Tenant.Events.PageInfo.HasNextPage, EndCursor: out.Tenant.Events.PageInfo.EndCursor}
	for _, ed := range out.Tenant.Events.Edges {
		if ed.Cursor != ed.Node.ID {
			e.t.Errorf("cursor %s of event %s: want the event id", ed.Cursor, ed.Node.ID)
		}
		p.Events = append(p.Events, ed.Node)
	}
	return p
}

// eventsOf returns every event of tenantID written by action, newest first.
func (e *env) eventsOf(tenantID, action string) []eventNode {
	e.t.Helper()
	var out []eventNode
	for _, ev := range e.events(testAdminSecret, tenantID, 100, "", nil).Events {
		if ev.Action == action {
			out = append(out, ev)
		}
	}
	return out
}

// onlyEvent checks that action wrote exactly one event, of type typ, and
// returns its payload.
func onlyEvent(t *testing.T, e *env, tenantID, action, typ string) map[string]any {
	t.Helper()
	got := e.eventsOf(tenantID, action)
	if len(got) != 1 {
		t.Fatalf("%s wrote %d events, want 1: %+v", action, len(got), got)
	}
	ev := got[0]
	if ev.Type != typ || ev.WireType != strings.ToLower(typ[:strings.LastIndex(typ, "_")])+"."+strings.ToLower(typ[strings.LastIndex(typ, "_")+1:]) {
		t.Errorf("%s wrote type %s (%s), want %s", action, ev.Type, ev.WireType, typ)
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(ev.Payload), &p); err != nil {
		t.Fatalf("payload %q: %v", ev.Payload, err)
	}
	return p
}

func TestEventsWrittenWithTheChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Evented Co", "evented.example.com")
	key, keyID := e.createKeyWithID(id, "TENANT_READ", "TENANT_UPDATE", "EVENTS_READ", "API_KEYS_WRITE")

	t.Run("OK/createTenant", func(t *testing.T) {
		p := onlyEvent(t, e.withT(t), id, "createTenant", "TENANT_CREATED")
		if p["id"] != id || p["name"] != "Evented Co" || p["planId"] != "professional" {
			t.Errorf("payload = %v, want the tenant as created", p)
		}
	})
	t.Run("OK/updateTenant", func(t *testing.T) {
		e := e.withT(t)
		e.mustGQL(key, `mutation { updateTenant(input: {name: "Evented Two"}) { tenant { id } } }`, nil, nil)
		p := onlyEvent(t, e, id, "updateTenant", "TENANT_UPDATED")
		if p["name"] != "Evented Two" || p["modifiedBy"] != "key:"+keyID {
			t.Errorf("payload = %v, want the renamed tenant modified by key:%s", p, keyID)
		}
		ev := e.eventsOf(id, "updateTenant")[0]
		if ev.Actor != "key:"+keyID || str(ev.Subject) != id || ev.RequestID == nil {
			t.Errorf("event = %+v, want actor key:%s, subject %s and a request id", ev, keyID, id)
		}
	})
	t.Run("OK/updateTenantSettings", func(t *testing.T) {
		e := e.withT(t)
		e.mustGQL(key, `mutation { updateTenantSettings(input: {auditLogRetentionDays: 400, ipAllowlist: ["127.0.0.0/8"]}) { settings { version } } }`, nil, nil)
		p := onlyEvent(t, e, id, "updateTenantSettings", "SETTINGS_UPDATED")
		if p["tenantId"] != id || p["auditLogRetentionDays"] != 400.0 || p["version"] != 2.0 {
			t.Errorf("payload = %v, want the settings after the change", p)
		}
		if _, ok := p["ipAllowlist"].([]any); !ok {
			t.Errorf("payload ipAllowlist = %v, want a list", p["ipAllowlist"])
		}
	})
	var newKeyID string
	t.Run("OK/createApiKey", func(t *testing.T) {
		e := e.withT(t)
		_, newKeyID = e.createKeyWithID(id, "TENANT_READ")
		var found map[string]any
		for _, ev := range e.eventsOf(id, "createApiKey") {
			if str(ev.Subject) == newKeyID {
				if ev.Type != "API_KEY_CREATED" {
					t.Errorf("type %s, want API_KEY_CREATED", ev.Type)
				}
				_ = json.Unmarshal([]byte(ev.Payload), &found)
			}
		}
		if found == nil || found["id"] != newKeyID || found["name"] == nil {
			t.Fatalf("no api_key.created event with the key %s as payload: %v", newKeyID, found)
		}
		for k := range found {
			if strings.Contains(strings.ToLower(k), "hash") || strings.Contains(strings.ToLower(k), "secret") {
				t.Errorf("payload carries %s: secrets must be left out", k)
			}
		}
	})
	t.Run("OK/revokeApiKey", func(t *testing.T) {
		e := e.withT(t)
		e.mustGQL(key, `mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { id } } }`, map[string]any{"id": newKeyID}, nil)
		p := onlyEvent(t, e, id, "revokeApiKey", "API_KEY_REVOKED")
		if p["id"] != newKeyID || p["revokedAt"] == nil || p["revokedBy"] != "key:"+keyID {
			t.Errorf("payload = %v, want the revoked key", p)
		}
	})
	t.Run("OK/changePlan", func(t *testing.T) {
		e := e.withT(t)
		e.mustGQL(testAdminSecret, `mutation($id: ID!) { changePlan(input: {tenantId: $id, plan: "enterprise"}) { plan { id } } }`, map[string]any{"id": id}, nil)
		// Two types: the subscription, and the plan change applied at once.
		got := map[string]eventNode{}
		for _, ev := range e.eventsOf(id, "changePlan") {
			got[ev.Type] = ev
		}
		if len(got) != 2 || got["SUBSCRIPTION_CHANGED"].ID == "" || got["PLAN_CHANGE_APPLIED"].ID == "" {
			t.Fatalf("changePlan wrote %+v, want SUBSCRIPTION_CHANGED and PLAN_CHANGE_APPLIED", got)
		}
		var p, applied map[string]any
		_ = json.Unmarshal([]byte(got["SUBSCRIPTION_CHANGED"].Payload), &p)
		_ = json.Unmarshal([]byte(got["PLAN_CHANGE_APPLIED"].Payload), &applied)
		if p["tenantId"] != id || p["planId"] != "enterprise" {
			t.Errorf("payload = %v, want the subscription on enterprise", p)
		}
		if applied["planId"] != "enterprise" || applied["previousPlanId"] != "professional" {
			t.Errorf("plan_change.applied payload = %v", applied)
		}
	})
	t.Run("OK/idsSortByTime", func(t *testing.T) {
		evs := e.withT(t).events(testAdminSecret, id, 100, "", nil).Events
		for i := 1; i < len(evs); i++ {
			if evs[i-1].ID <= evs[i].ID || evs[i-1].At.Before(evs[i].At) {
				t.Errorf("events %d and %d out of order (newest first): %s %s, %s %s", i-1, i, evs[i-1].ID, evs[i-1].At, evs[i].ID, evs[i].At)
			}
			if evs[i].ID[14] != '7' {
				t.Errorf("event id %s is not a UUIDv7", evs[i].ID)
			}
		}
	})

	t.Run("ErrRefusedWritesNone", func(t *testing.T) {
		e := e.withT(t)
		before := len(e.events(testAdminSecret, id, 100, "", nil).Events)
		r := e.gql(key, `mutation { updateTenant(input: {name: "Bad", expectedVersion: 999}) { tenant { id } } }`, nil)
		if r.Code() != "CONFLICT" {
			t.Fatalf("stale version: code %q, want CONFLICT: %s", r.Code(), r.Raw)
		}
		r = e.gql(key, `mutation { updateTenantSettings(input: {auditLogRetentionDays: 5}) { settings { version } } }`, nil)
		if r.Code() != "BAD_USER_INPUT" {
			t.Fatalf("bad retention: code %q, want BAD_USER_INPUT: %s", r.Code(), r.Raw)
		}
		e.mustGQL(key, `mutation { updateTenant(input: {name: "Dry", validateOnly: true}) { tenant { name } } }`, nil, nil)
		e.mustGQL(testAdminSecret, `mutation($id: ID!) { changePlan(input: {tenantId: $id, plan: "starter", validateOnly: true}) { plan { id } } }`, map[string]any{"id": id}, nil)
		if after := len(e.events(testAdminSecret, id, 100, "", nil).Events); after != before {
			t.Errorf("refused and validateOnly mutations wrote %d events, want none", after-before)
		}
	})
}

func TestEventLogPagingFiltersAndAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createTenant("Paged Events", "paged-events.example.com")
	b := e.createTenant("Other Events", "other-events.example.com")
	keyA := e.createKey(a, "TENANT_READ", "TENANT_UPDATE", "EVENTS_READ")
	noPerm := e.createKey(a, "TENANT_READ", "AUDIT_READ")
	for i := range 5 {
		e.mustGQL(keyA, `mutation($n: String) { updateTenant(input: {name: $n}) { tenant { id } } }`, map[string]any{"n": "Paged " + string(rune('A'+i))}, nil)
	}

	t.Run("OK/paging", func(t *testing.T) {
		e := e.withT(t)
		var seen []string
		after := ""
		for range 10 {
			p := e.events(keyA, a, 2, after, nil)
			for _, ev := range p.Events {
				seen = append(seen, ev.ID)
			}
			if !p.HasNextPage {
				break
			}
			after = *p.EndCursor
		}
		// tenant.created, two api_key.created (the keys), five tenant.updated.
		if len(seen) != 8 {
			t.Fatalf("paging by 2 saw %d events, want 8", len(seen))
		}
		for i := 1; i < len(seen); i++ {
			if seen[i-1] <= seen[i] {
				t.Errorf("paging repeated or reordered events: %v", seen)
			}
		}
	})
	t.Run("OK/filterTypes", func(t *testing.T) {
		p := e.withT(t).events(keyA, a, 100, "", map[string]any{"types": []string{"TENANT_UPDATED"}})
		if len(p.Events) != 5 {
			t.Fatalf("types [TENANT_UPDATED]: %d events, want 5", len(p.Events))
		}
		for _, ev := range p.Events {
			if ev.Type != "TENANT_UPDATED" {
				t.Errorf("filter let %s through", ev.Type)
			}
		}
	})
	t.Run("OK/filterSince", func(t *testing.T) {
		e := e.withT(t)
		if p := e.events(keyA, a, 100, "", map[string]any{"since": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}); len(p.Events) != 0 {
			t.Errorf("since an hour ahead: %d events, want 0", len(p.Events))
		}
		if p := e.events(keyA, a, 100, "", map[string]any{"since": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}); len(p.Events) < 5 {
			t.Errorf("since an hour ago: %d events, want them all", len(p.Events))
		}
	})
	t.Run("ErrBadCursor", func(t *testing.T) {
		r := e.withT(t).gql(keyA, qEvents, map[string]any{"id": a, "after": "not-a-cursor"})
		if r.Code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "after is not a cursor") {
			t.Errorf("bad cursor: %q %s, want BAD_USER_INPUT naming after", r.Code(), r.Raw)
		}
	})
	t.Run("ErrFirstTooLarge", func(t *testing.T) {
		r := e.withT(t).gql(keyA, qEvents, map[string]any{"id": a, "first": 101})
		if r.Code() != "BAD_USER_INPUT" || r.Field() != "first" {
			t.Errorf("first 101: %q field %q %s, want BAD_USER_INPUT on first", r.Code(), r.Field(), r.Raw)
		}
	})
	t.Run("ErrNoPermission", func(t *testing.T) {
		r := e.withT(t).gql(noPerm, qEvents, map[string]any{"id": a})
		if r.Code() != "FORBIDDEN" || !strings.Contains(r.Errors[0].Message, "EVENTS_READ") {
			t.Errorf("without EVENTS_READ: %q %s, want FORBIDDEN naming EVENTS_READ", r.Code(), r.Raw)
		}
	})
	t.Run("ErrOtherTenant", func(t *testing.T) {
		r := e.withT(t).gql(keyA, qEvents, map[string]any{"id": b})
		if r.Code() != "NOT_FOUND" {
			t.Errorf("another tenant's events: %q %s, want NOT_FOUND", r.Code(), r.Raw)
		}
		for _, ev := range e.withT(t).events(keyA, a, 100, "", nil).Events {
			if strings.Contains(ev.Payload, b) {
				t.Errorf("tenant A's log lists an event about B: %+v", ev)
			}
		}
	})
	t.Run("OK/retentionPurge", func(t *testing.T) {
		e := e.withT(t)
		if _, err := e.raw().Exec(`UPDATE events SET at = at - interval '31 days' WHERE tenant_id = $1 AND type = 'tenant.created'`, a); err != nil {
			t.Fatal(err)
		}
		n, err := e.store.PurgeEvents(context.Background(), 30*24*time.Hour)
		if err != nil || n != 1 {
			t.Fatalf("PurgeEvents = %d, %v; want 1 (A's 31-day-old creation)", n, err)
		}
		if p := e.events(keyA, a, 100, "", map[string]any{"types": []string{"TENANT_CREATED"}}); len(p.Events) != 0 {
			t.Errorf("the purged event is still listed")
		}
		if p := e.events(keyA, a, 100, "", map[string]any{"types": []string{"TENANT_UPDATED"}}); len(p.Events) != 5 {
			t.Errorf("the purge deleted recent events: %d left, want 5", len(p.Events))
		}
	})
}

// eventPermissionCases are the permission table's rows for Tenant.events
// (permissions_test.go).
func eventPermissionCases() []permCase {
	return tenantFieldCases("events", "events(first: 5) { nodes { id type } }", "EVENTS_READ")
}

// TestEventCatalog checks the one catalog three ways: the EventType enum's
// wire names (in each value's description) are exactly the types the
// database may write (its event_types table, which events reference), and
// docs/events.md lists each of them with its enum value.
func TestEventCatalog(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var out struct {
		Type struct {
			EnumValues []struct{ Name, Description string }
		} `json:"__type"`
	}
	e.mustGQL("", `{ __type(name: "EventType") { enumValues { name description } } }`, nil, &out)
	var enum []string
	for _, v := range out.Type.EnumValues {
		wire := resolvers.WireType(graph.EventType(v.Name))
		if !strings.HasPrefix(v.Description, "`"+wire+"`: ") {
			t.Errorf("description of %s = %q, want it to start with its wire name `%s`", v.Name, v.Description, wire)
		}
		if !strings.Contains(v.Description, "Payload:") {
			t.Errorf("description of %s does not describe its payload", v.Name)
		}
		if back := resolvers.EventTypeOf(wire); string(back) != v.Name {
			t.Errorf("EventTypeOf(%s) = %s, want %s", wire, back, v.Name)
		}
		enum = append(enum, wire)
	}
	slices.Sort(enum)
	db, err := e.store.EventTypes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(enum, db) {
		t.Errorf("EventType enum = %v\nthe database's event_types = %v", enum, db)
	}
	doc, err := os.ReadFile("../docs/events.md")
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_.]+)` \\| `([A-Z_]+)` \\|").FindAllStringSubmatch(string(doc), -1) {
		if resolvers.WireType(graph.EventType(m[2])) != m[1] {
			t.Errorf("docs/events.md lists %s as %s", m[1], m[2])
		}
		listed = append(listed, m[1])
	}
	slices.Sort(listed)
	if !slices.Equal(listed, enum) {
		t.Errorf("docs/events.md lists %v\nthe EventType enum has %v", listed, enum)
	}
	// NotificationEvent's types that this log writes keep their wire names.
	for _, shared := range []string{"subscription.changed", "invoice.issued"} {
		if !slices.Contains(enum, shared) {
			t.Errorf("NotificationEvent's %s is not in the EventType catalog", shared)
		}
	}
}
