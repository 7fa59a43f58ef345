package httpapi_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"tenantapi/db/dbtest"
	"tenantapi/tenant"
)

// This file covers the audit log: the entries every mutation writes (who,
// which mutation, what changed before and after, secrets redacted, request
// id, client address), Tenant.auditLog (paging, filters, permissions,
// isolation), the immutability the database enforces and the retention
// purge.

const qAuditLog = `query($id: ID!, $first: Int, $after: String, $filter: AuditFilter) {
  tenant(id: $id) { auditLog(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id at actor action operation targetType targetId changes { field before after redacted } requestId clientIp } }
  } } }`

type auditChange struct {
	Field    string
	Before   *json.RawMessage // JSON values as they are: 365, "EU", ["203.0.113.0/24"]
	After    *json.RawMessage
	Redacted bool
}

type auditEntry struct {
	ID         string
	At         time.Time
	Actor      string
	Action     string
	Operation  string
	TargetType string
	TargetID   string
	Changes    []auditChange
	RequestID  *string
	ClientIP   *string
}

// change returns the entry's change of field, or nil.
func (a auditEntry) change(field string) *auditChange {
	for i := range a.Changes {
		if a.Changes[i].Field == field {
			return &a.Changes[i]
		}
	}
	return nil
}

type auditPage struct {
	TotalCount int
	PageInfo   struct {
		HasNextPage bool
		EndCursor   *string
	}
	Entries []auditEntry
	Raw     []byte
}

// auditLog reads a page of tenantID's log as token.
func (e *env) auditLog(token, tenantID string, first int, after string, filter map[string]any) *auditPage {
	e.t.Helper()
	vars := map[string]any{"id": tenantID, "first": first}
	if after != "" {
		vars["after"] = after
	}
	if filter != nil {
		vars["filter"] = filter
	}
	r := e.gql(token, qAuditLog, vars)
	var out struct {
		Tenant struct {
			AuditLog struct {
				TotalCount int
				PageInfo   struct {
					HasNextPage bool
					EndCursor   *string
				}
				Edges []struct {
					Cursor string
					Node   auditEntry
				}
			}
		}
	}
	r.Decode(e.t, &out)
	p := &auditPage{TotalCount: out.Tenant.AuditLog.TotalCount, PageInfo: out.Tenant.AuditLog.PageInfo, Raw: r.Raw}
	for _, edge := range out.Tenant.AuditLog.Edges {
		p.Entries = append(p.Entries, edge.Node)
	}
	return p
}

// entriesFor returns every entry of tenantID's log written by action.
func (e *env) entriesFor(tenantID, action string) []auditEntry {
	e.t.Helper()
	return e.auditLog(testAdminSecret, tenantID, 100, "", map[string]any{"action": []string{action}}).Entries
}

// gqlHeaders is gql with extra request headers.
func (e *env) gqlHeaders(token, query string, vars map[string]any, header map[string]string) *result {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return e.do(req)
}

// js is the JSON text of a change's value ("" for none).
func js(p *json.RawMessage) string {
	if p == nil {
		return ""
	}
	return string(*p)
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

const qUpdateSettingsVersion = `mutation($in: UpdateTenantSettingsInput!) { updateTenantSettings(input: $in) { settings { version updatedAt } } }`

func TestAuditLogEntries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Audited Co", "audited.example.com")
	key, keyID := e.createKeyWithID(id, "TENANT_READ", "TENANT_UPDATE", "AUDIT_READ", "API_KEYS_WRITE")

	t.Run("OK/createTenant", func(t *testing.T) {
		e := e.withT(t)
		got := e.entriesFor(id, "createTenant")
		if len(got) != 2 {
			t.Fatalf("createTenant wrote %d entries, want 2 (the tenant, its settings): %+v", len(got), got)
		}
		types := map[string]auditEntry{}
		for _, a := range got {
			types[a.TargetType] = a
			if a.Actor != "admin" || a.Operation != "INSERT" || a.TargetID != id || a.RequestID == nil || a.ClientIP == nil {
				t.Errorf("entry %+v: want actor admin, INSERT, target %s, a request id and a client address", a, id)
			}
		}
		if c := types["Tenant"].change("name"); c == nil || c.Before != nil || js(c.After) != `"Audited Co"` {
			t.Errorf("Tenant entry name change = %+v, want null -> \"Audited Co\"", c)
		}
		if c := types["TenantSettings"].change("auditLogRetentionDays"); c == nil || js(c.After) != "365" {
			t.Errorf("TenantSettings entry auditLogRetentionDays = %+v, want -> 365", c)
		}
		if *got[0].RequestID != *got[1].RequestID {
			t.Errorf("the entries of one mutation have request ids %s and %s, want the same", *got[0].RequestID, *got[1].RequestID)
		}
	})

	t.Run("OK/updateTenantSettings", func(t *testing.T) {
		e := e.withT(t)
		r := e.gqlHeaders(key, qUpdateSettingsVersion, map[string]any{"in": map[string]any{"auditLogRetentionDays": 400, "ipAllowlist": []string{"127.0.0.0/8"}}},
			map[string]string{"X-Request-Id": "audit-req-0001"})
		var out struct {
			UpdateTenantSettings struct {
				Settings struct {
					Version   int
					UpdatedAt time.Time
				}
			}
		}
		r.Decode(t, &out)
		got := e.entriesFor(id, "updateTenantSettings")
		if len(got) != 1 {
			t.Fatalf("updateTenantSettings wrote %d entries, want 1: %+v", len(got), got)
		}
		a := got[0]
		if a.Actor != "key:"+keyID || a.Operation != "UPDATE" || a.TargetType != "TenantSettings" || a.TargetID != id {
			t.Errorf("entry = %+v, want actor key:%s, UPDATE of TenantSettings %s", a, keyID, id)
		}
		if str(a.RequestID) != "audit-req-0001" || str(a.ClientIP) != "127.0.0.1" {
			t.Errorf("requestId %s, clientIp %s; want audit-req-0001 and 127.0.0.1", str(a.RequestID), str(a.ClientIP))
		}
		if !a.At.Equal(out.UpdateTenantSettings.Settings.UpdatedAt) {
			t.Errorf("entry at %s, settings updatedAt %s: want the transaction's one time", a.At, out.UpdateTenantSettings.Settings.UpdatedAt)
		}
		want := map[string][2]string{
			"auditLogRetentionDays": {"365", "400"},
			"ipAllowlist":           {`[]`, `["127.0.0.0/8"]`},
			"version":               {"1", "2"},
		}
		if len(a.Changes) != len(want) {
			t.Errorf("changes = %+v, want exactly %v", a.Changes, want)
		}
		for f, w := range want {
			c := a.change(f)
			if c == nil || js(c.Before) != w[0] || js(c.After) != w[1] || c.Redacted {
				t.Errorf("change of %s = %+v, want %s -> %s", f, c, w[0], w[1])
			}
		}
		// On the wire, values are JSON values, not strings holding JSON.
		wire := e.gql(testAdminSecret, `query($id: ID!) { tenant(id: $id) { auditLog(first: 1, filter: {action: ["updateTenantSettings"]}) {
			nodes { changes { field before after } } } } }`, map[string]any{"id": id})
		for _, w := range []string{`{"field":"auditLogRetentionDays","before":365,"after":400}`, `{"field":"ipAllowlist","before":[],"after":["127.0.0.0/8"]}`} {
			if !bytes.Contains(wire.Raw, []byte(w)) {
				t.Errorf("response %s lacks %s", wire.Raw, w)
			}
		}
	})

	t.Run("OK/secretsRedacted", func(t *testing.T) {
		e := e.withT(t)
		var out struct {
			CreateApiKey struct {
				Secret string
				ApiKey struct{ ID string }
			}
		}
		e.mustGQL(key, `mutation { createApiKey(input: {name: "audited key", permissions: [TENANT_READ]}) { secret apiKey { id } } }`, nil, &out)
		got := e.auditLog(testAdminSecret, id, 100, "", map[string]any{"action": []string{"createApiKey"}, "actor": "key:" + keyID}).Entries
		if len(got) != 1 || got[0].TargetType != "ApiKey" || got[0].TargetID != out.CreateApiKey.ApiKey.ID {
			t.Fatalf("createApiKey entries = %+v, want one for ApiKey %s", got, out.CreateApiKey.ApiKey.ID)
		}
		c := got[0].change("keyHash")
		if c == nil || !c.Redacted || c.Before != nil || js(c.After) != `"[redacted]"` {
			t.Errorf("keyHash change = %+v, want null -> \"[redacted]\", redacted", c)
		}
		page := e.auditLog(testAdminSecret, id, 100, "", nil)
		if bytes.Contains(page.Raw, []byte(out.CreateApiKey.Secret)) || bytes.Contains(page.Raw, []byte(out.CreateApiKey.Secret[4:20])) {
			t.Errorf("the audit log shows the key's secret")
		}
	})

	t.Run("OK/nothingForRefusedOrDryRuns", func(t *testing.T) {
		e := e.withT(t)
		before := len(e.entriesFor(id, "updateTenantSettings"))
		for _, in := range []map[string]any{
			{"auditLogRetentionDays": 30},                        // refused
			{"auditLogRetentionDays": 500, "validateOnly": true}, // dry run
			{"expectedVersion": 1, "auditLogRetentionDays": 500}, // stale
			{}, // changes nothing
		} {
			e.gql(key, qUpdateSettingsVersion, map[string]any{"in": in})
		}
		if after := len(e.entriesFor(id, "updateTenantSettings")); after != before {
			t.Errorf("refused, validate-only, stale and empty updates wrote %d entries, want none", after-before)
		}
	})

}

func TestAuditLogQuery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Paged Co", "paged.example.com")
	key, keyID := e.createKeyWithID(id, "TENANT_READ", "TENANT_UPDATE", "AUDIT_READ")
	for i := range 3 {
		e.mustGQL(key, qUpdateSettingsVersion, map[string]any{"in": map[string]any{"auditLogRetentionDays": 100 + i}}, nil)
	}
	all := e.auditLog(key, id, 100, "", nil)
	// createTenant (2) + createApiKey (1) + 3 updates
	if all.TotalCount != 6 || len(all.Entries) != 6 {
		t.Fatalf("totalCount %d, %d entries; want 6", all.TotalCount, len(all.Entries))
	}

	t.Run("OK/newestFirst", func(t *testing.T) {
		for i := 1; i < len(all.Entries); i++ {
			if all.Entries[i].At.After(all.Entries[i-1].At) {
				t.Errorf("entry %d (%s) is newer than entry %d (%s)", i, all.Entries[i].At, i-1, all.Entries[i-1].At)
			}
		}
		if c := all.Entries[0].change("auditLogRetentionDays"); c == nil || js(c.After) != "102" {
			t.Errorf("newest entry = %+v, want the last update (-> 102)", all.Entries[0])
		}
	})

	t.Run("OK/paging", func(t *testing.T) {
		var seen []string
		after := ""
		for range 10 {
			p := e.withT(t).auditLog(key, id, 4, after, nil)
			if p.TotalCount != 6 {
				t.Errorf("totalCount on a page = %d, want 6", p.TotalCount)
			}
			for _, a := range p.Entries {
				seen = append(seen, a.ID)
			}
			if !p.PageInfo.HasNextPage {
				break
			}
			after = *p.PageInfo.EndCursor
		}
		var want []string
		for _, a := range all.Entries {
			want = append(want, a.ID)
		}
		if strings.Join(seen, ",") != strings.Join(want, ",") {
			t.Errorf("pages of 4 gave %v, want %v", seen, want)
		}
	})

	t.Run("OK/filters", func(t *testing.T) {
		e := e.withT(t)
		first := all.Entries[len(all.Entries)-1].At
		last := all.Entries[0].At
		tests := []struct {
			name   string
			filter map[string]any
			want   int
		}{
			{"action", map[string]any{"action": []string{"updateTenantSettings"}}, 3},
			{"actions", map[string]any{"action": []string{"updateTenantSettings", "createTenant"}}, 5},
			{"actorKey", map[string]any{"actor": "key:" + keyID}, 3},
			{"actorAdmin", map[string]any{"actor": "admin"}, 3},
			{"since", map[string]any{"since": last.Format(time.RFC3339Nano)}, 1},
			{"until", map[string]any{"until": first.Add(time.Microsecond).Format(time.RFC3339Nano)}, 2},
			{"nothing", map[string]any{"action": []string{"deleteTenant"}}, 0},
			{"combined", map[string]any{"actor": "admin", "action": []string{"updateTenantSettings"}}, 0},
		}
		for _, tt := range tests {
			p := e.auditLog(key, id, 100, "", tt.filter)
			if p.TotalCount != tt.want || len(p.Entries) != tt.want {
				t.Errorf("%s: totalCount %d, %d entries; want %d", tt.name, p.TotalCount, len(p.Entries), tt.want)
			}
		}
	})

	t.Run("ErrBadArguments", func(t *testing.T) {
		e := e.withT(t)
		now := time.Now().UTC()
		tests := []struct {
			name, field, message string
			vars                 map[string]any
		}{
			{"ErrFirstZero", "first", "first must be between 1 and 100", map[string]any{"first": 0}},
			{"ErrFirstTooLarge", "first", "first must be between 1 and 100", map[string]any{"first": 101}},
			{"ErrBadCursor", "after", "after is not a cursor returned by this API", map[string]any{"after": "bm9wZQ"}},
			{"ErrUntilBeforeSince", "filter.until", "filter.until", map[string]any{"filter": map[string]any{"since": now.Format(time.RFC3339), "until": now.Add(-time.Hour).Format(time.RFC3339)}}},
			{"ErrEmptyActor", "filter.actor", "filter.actor must be 1 to 100 characters", map[string]any{"filter": map[string]any{"actor": ""}}},
			{"ErrEmptyAction", "filter.action[0]", "filter.action[0] must be 1 to 100 characters", map[string]any{"filter": map[string]any{"action": []string{""}}}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				vars := map[string]any{"id": id}
				for k, v := range tt.vars {
					vars[k] = v
				}
				r := e.withT(t).gql(key, qAuditLog, vars)
				if r.Code() != "BAD_USER_INPUT" || r.Field() != tt.field || !strings.Contains(r.Errors[0].Message, tt.message) {
					t.Errorf("got %s", r.Raw)
				}
			})
		}
	})
}

// auditPermissionCases are the permission table's rows for Tenant.auditLog
// (permissions_test.go).
func auditPermissionCases() []permCase {
	return tenantFieldCases("auditLog", "auditLog(first: 5) { totalCount nodes { id action } }", "AUDIT_READ")
}

func TestAuditLogIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createTenant("Tenant A", "a.audit.example.com")
	b := e.createTenant("Tenant B", "b.audit.example.com")
	keyA := e.createKey(a, "TENANT_READ", "AUDIT_READ")

	t.Run("ErrOtherTenant", func(t *testing.T) {
		r := e.withT(t).gql(keyA, qAuditLog, map[string]any{"id": b, "first": 10})
		if r.Code() != "NOT_FOUND" || bytes.Contains(r.Raw, []byte("createTenant")) {
			t.Errorf("tenant A's key reading B's log: %s", r.Raw)
		}
	})
	t.Run("OK/inTheList", func(t *testing.T) {
		// The admin list loads every tenant's page in one statement: each
		// tenant must get its own entries.
		var out struct {
			Tenants struct {
				Nodes []struct {
					ID       string
					AuditLog struct {
						TotalCount int
						Nodes      []struct{ TargetID string }
					}
				}
			}
		}
		e.withT(t).mustGQL(testAdminSecret, `{ tenants(first: 10) { nodes { id auditLog(first: 2) { totalCount nodes { targetId } } } } }`, nil, &out)
		want := map[string]int{a: 3, b: 2} // createTenant (tenant, settings) + A's key
		for _, n := range out.Tenants.Nodes {
			if n.AuditLog.TotalCount != want[n.ID] || len(n.AuditLog.Nodes) != 2 {
				t.Errorf("tenant %s: totalCount %d, %d entries; want %d and 2", n.ID, n.AuditLog.TotalCount, len(n.AuditLog.Nodes), want[n.ID])
			}
			if n.ID == b && (n.AuditLog.Nodes[0].TargetID != b || n.AuditLog.Nodes[1].TargetID != b) {
				t.Errorf("tenant B's page holds %+v", n.AuditLog.Nodes)
			}
		}
	})
	t.Run("OK/storeScope", func(t *testing.T) {
		// The SQL carries the scope too: A's key asking the store for B's log
		// gets nothing, whatever the resolvers do.
		ctx := tenant.WithActor(context.Background(), &tenant.Actor{Kind: tenant.APIKey, TenantID: a, Permissions: []tenant.Permission{tenant.PermAuditRead}})
		pages, errs := e.store.AuditLogByTenant(ctx, tenant.AuditQuery{Page: tenant.Page{Size: 10}}, []string{b, a})
		if errs[0] != nil || len(pages[0].Entries) != 0 || errs[1] != nil || len(pages[1].Entries) == 0 {
			t.Errorf("pages for B, A = %d, %d entries (errors %v, %v); want 0 and A's", len(pages[0].Entries), len(pages[1].Entries), errs[0], errs[1])
		}
		counts, _ := e.store.CountAuditByTenant(ctx, tenant.AuditFilter{}, []string{b, a})
		if counts[0] != 0 || counts[1] == 0 {
			t.Errorf("counts for B, A = %v, want 0 and A's", counts)
		}
	})
}

// TestAuditCoversMutations runs mutations of every area as the operator and
// checks each wrote its entry, named after it, with redacted secrets.
func TestAuditCoversMutations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const ssoSecret = "idp-client-secret-audit-4f1c"
	const webhookSecret = "whsec_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		action, query string
		in            func(tenantID, keyID string) map[string]any
		target        string
		redacted      string // a field that must be redacted
	}{
		{"updateTenant", `mutation($in: UpdateTenantInput!) { updateTenant(input: $in) { tenant { id } } }`,
			func(id, _ string) map[string]any { return map[string]any{"tenantId": id, "name": "Renamed"} }, "Tenant", ""},
		{"revokeApiKey", `mutation($in: RevokeApiKeyInput!) { revokeApiKey(input: $in) { apiKey { id } } }`,
			func(_, k string) map[string]any { return map[string]any{"id": k} }, "ApiKey", ""},
		{"updateKeywords", `mutation($in: UpdateKeywordsInput!) { updateKeywords(input: $in) { keywords { version } } }`,
			func(id, _ string) map[string]any {
				return map[string]any{"tenantId": id, "keywords": []string{"casino"}}
			}, "KeywordList", ""},
		{"updateRiskMatrix", `mutation($in: UpdateRiskMatrixInput!) { updateRiskMatrix(input: $in) { riskMatrix { version } } }`,
			func(id, _ string) map[string]any {
				return map[string]any{"tenantId": id, "weights": []map[string]any{{"check": "BLACKLIST", "weight": 0.5}, {"check": "DOMAIN_AGE", "weight": 0.5}}}
			}, "RiskWeight", ""},
		{"updateWatchlistSeats", `mutation($in: UpdateWatchlistSeatsInput!) { updateWatchlistSeats(input: $in) { watchlist { version } } }`,
			func(id, _ string) map[string]any { return map[string]any{"tenantId": id, "availableSeats": 10} }, "WatchlistSeats", ""},
		{"updateNotificationChannels", `mutation($in: UpdateNotificationChannelsInput!) { updateNotificationChannels(input: $in) { notificationChannels { version } } }`,
			func(id, _ string) map[string]any {
				return map[string]any{"tenantId": id, "webhookUrl": "https://hooks.example.com/in", "webhookSecret": webhookSecret}
			}, "NotificationChannels", "webhookSecretSealed"},
		{"enableSso", `mutation($in: EnableSsoInput!) { enableSso(input: $in) { sso { version } } }`,
			func(id, _ string) map[string]any {
				return map[string]any{"tenantId": id, "provider": map[string]any{"oidc": map[string]any{"clientId": "portal", "clientSecret": ssoSecret,
					"discoveryUrl": "https://idp.example.com/.well-known/openid-configuration", "redirectUri": "https://app.example.com/cb"}}}
			}, "SsoConfig", "clientSecretSealed"},
		{"deleteTenant", `mutation($in: DeleteTenantInput!) { deleteTenant(input: $in) { tenant { id } } }`,
			func(id, _ string) map[string]any { return map[string]any{"tenantId": id} }, "Tenant", ""},
	}
	for _, tt := range tests {
		t.Run(tt.action+"/OK", func(t *testing.T) {
			t.Parallel()
			e := e.withT(t)
			id := e.createTenant("Covered Co", randomDomain())
			_, keyID := e.createKeyWithID(id, "TENANT_READ")
			e.mustGQL(testAdminSecret, tt.query, map[string]any{"in": tt.in(id, keyID)}, nil)
			got := e.entriesFor(id, tt.action)
			if len(got) == 0 {
				t.Fatalf("%s wrote no audit entry", tt.action)
			}
			var found bool
			for _, a := range got {
				found = found || a.TargetType == tt.target
				if a.Actor != "admin" {
					t.Errorf("entry actor %q, want admin", a.Actor)
				}
				if tt.redacted != "" && a.TargetType == tt.target {
					if c := a.change(tt.redacted); c == nil || !c.Redacted {
						t.Errorf("change of %s = %+v, want redacted", tt.redacted, c)
					}
				}
			}
			if !found {
				t.Errorf("%s entries %+v: none about %s", tt.action, got, tt.target)
			}
			raw := e.auditLog(testAdminSecret, id, 100, "", nil).Raw
			for _, secret := range []string{ssoSecret, webhookSecret} {
				if bytes.Contains(raw, []byte(secret)) {
					t.Errorf("the audit log shows a secret")
				}
			}
		})
	}
}

// openRaw opens url with database/sql, as the application's role.
func openRaw(t *testing.T, url string) *sql.DB {
	t.Helper()
	conn, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestAuditLogImmutable checks, straight through the database role the
// application uses, that entries cannot be changed or deleted, and that the
// purge deletes only entries older than their tenant's retention.
func TestAuditLogImmutable(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	e := newEnvAt(t, url)
	raw := openRaw(t, url)
	a := e.createTenant("Keeps a year", "year.example.com")
	b := e.createTenant("Keeps seven years", "seven.example.com")
	e.mustGQL(testAdminSecret, qUpdateSettingsVersion, map[string]any{"in": map[string]any{"tenantId": b, "auditLogRetentionDays": 2555}}, nil)

	refused := func(t *testing.T, stmt string, args ...any) {
		t.Helper()
		_, err := raw.Exec(stmt, args...)
		var pqErr *pq.Error
		if !errors.As(err, &pqErr) || pqErr.Code != "42501" || !strings.Contains(pqErr.Message, "audit log entries cannot be changed or deleted") {
			t.Errorf("%s: err = %v, want the audit log's refusal (42501)", stmt, err)
		}
	}
	t.Run("ErrUpdate", func(t *testing.T) {
		refused(t, `UPDATE audit_log SET actor = 'someone else' WHERE tenant_id = $1`, a)
	})
	t.Run("ErrDeleteRecent", func(t *testing.T) {
		refused(t, `DELETE FROM audit_log WHERE tenant_id = $1`, a)
	})
	t.Run("ErrTruncate", func(t *testing.T) {
		refused(t, `TRUNCATE audit_log`)
	})

	t.Run("OK/unknownContextOnReusedConnection", func(t *testing.T) {
		// One connection: a transaction sets the context and commits; the
		// next change on that connection sets none, and the settings read
		// back as '' rather than as missing. The trigger must take them as
		// unknown: a change by the system, outside any request.
		conn, err := raw.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ctx := context.Background()
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(`SELECT set_config('app.actor', 'admin', true), set_config('app.request_id', 'earlier', true), set_config('app.client_ip', '203.0.113.9', true)`); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, `UPDATE tenant_settings SET deduplicate_tokens = true WHERE tenant_id = $1`, a); err != nil {
			t.Fatal(err)
		}
		page := e.auditLog(testAdminSecret, a, 1, "", nil)
		if len(page.Entries) != 1 {
			t.Fatal("no entry")
		}
		got := page.Entries[0]
		if got.Actor != "system" || got.Action != "tenant_settings.update" || got.RequestID != nil || got.ClientIP != nil || got.change("deduplicateTokens") == nil {
			t.Errorf("entry = %+v, want actor system, action tenant_settings.update, no request id or address", got)
		}
	})

	t.Run("OK/purgeOnlyExpired", func(t *testing.T) {
		// Backdated entries: inserting is what the triggers do, so the role may.
		for _, row := range []struct {
			tenant, target string
			age            int // days
		}{{a, "expired", 400}, {a, "kept", 100}, {b, "kept-long", 400}} {
			if _, err := raw.Exec(`INSERT INTO audit_log (tenant_id, at, actor, action, operation, target_type, target_id, changes)
				VALUES ($1, now() - make_interval(days => $2), 'admin', 'backdated', 'EVENT', 'test', $3, '{}')`, row.tenant, row.age, row.target); err != nil {
				t.Fatal(err)
			}
		}
		refused(t, `UPDATE audit_log SET actor = 'x' WHERE target_id = 'expired'`)
		n, err := e.store.PurgeAudit(context.Background())
		if err != nil || n != 1 {
			t.Fatalf("PurgeAudit = %d, %v; want 1 (the 400-day entry of the 365-day tenant)", n, err)
		}
		var left []string
		rows, err := raw.Query(`SELECT target_id FROM audit_log WHERE action = 'backdated' ORDER BY target_id`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			_ = rows.Scan(&s)
			left = append(left, s)
		}
		rows.Close()
		if strings.Join(left, ",") != "kept,kept-long" {
			t.Errorf("after the purge: %v, want kept and kept-long", left)
		}
		var recent int
		_ = raw.QueryRow(`SELECT count(*) FROM audit_log WHERE action <> 'backdated'`).Scan(&recent)
		if recent == 0 {
			t.Errorf("the purge deleted the recent entries")
		}
	})
}
