package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"tenantapi/httpapi"
)

// allowlistEnv is a server behind a trusted proxy (the test client on
// 127.0.0.1), so requests can claim client addresses with X-Forwarded-For,
// and a tenant whose key holds every tenant permission.
func allowlistEnv(t *testing.T) (*env, string, string) {
	e := newEnvWith(t, func(c *httpapi.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	})
	id := e.createTenant("Fenced", "fenced.example.com")
	key := e.createKey(id, "TENANT_READ", "TENANT_UPDATE")
	return e, id, key
}

// gqlFrom is gql with an X-Forwarded-For header ("" for none).
func (e *env) gqlFrom(xff, token, query string, vars map[string]any) *result {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	return e.do(req)
}

func setAllowlist(t *testing.T, e *env, tenantID string, list ...string) {
	t.Helper()
	if list == nil {
		list = []string{} // empty clears; null would leave it unchanged
	}
	e.mustGQL(testAdminSecret, `mutation($id: ID, $l: [String!]) { updateTenantSettings(input: {tenantId: $id, ipAllowlist: $l}) { settings { version } } }`,
		map[string]any{"id": tenantID, "l": list}, nil)
}

func TestAllowlistEnforced(t *testing.T) {
	t.Parallel()
	e, id, key := allowlistEnv(t)
	setAllowlist(t, e, id, "203.0.113.0/24", "2001:db8::/32")
	const q = `{ me { name } }`
	tests := []struct {
		name, xff string
		wantIP    string // "" = allowed
	}{
		{"OKInside", "203.0.113.9", ""},
		{"OKIPv6", "2001:db8::42", ""},
		{"OKIPv4MappedIPv6", "::ffff:203.0.113.9", ""},
		{"OKBehindTwoTrustedHops", "203.0.113.9, 127.0.0.1", ""},
		{"ErrOutside", "198.51.100.7", "198.51.100.7"},
		{"ErrSpoofedLeftEntry", "203.0.113.9, 198.51.100.7", "198.51.100.7"},
		{"ErrNoForwardedHeader", "", "127.0.0.1"},
		{"ErrMalformedHop", "203.0.113.9, garbage", "127.0.0.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := e.store.Statements.Load()
			r := e.gqlFrom(tc.xff, key, q, nil)
			if tc.wantIP == "" {
				if r.Status != http.StatusOK || r.Code() != "" {
					t.Fatalf("refused: %d %s", r.Status, r.Raw)
				}
				return
			}
			if r.Status != http.StatusForbidden || r.Code() != "FORBIDDEN" || !strings.Contains(r.Errors[0].Message, tc.wantIP) {
				t.Fatalf("got %d %s, want 403 FORBIDDEN naming %s", r.Status, r.Raw, tc.wantIP)
			}
			if _, ok := jsonKeys(r.Raw)["data"]; ok {
				t.Fatalf("a refused request has a data key: %s", r.Raw)
			}
			e.store.WaitBackground()
			if n := e.store.Statements.Load() - before; n > 2 { // the key lookup (+ a lastUsedAt write)
				t.Fatalf("a refused request ran %d statements: something executed", n)
			}
		})
	}
	t.Run("OKAdminSecretNotRestricted", func(t *testing.T) {
		if r := e.gqlFrom("198.51.100.7", testAdminSecret, `{ tenant(id: "`+id+`") { name } }`, nil); r.Code() != "" {
			t.Fatalf("admin refused: %s", r.Raw)
		}
	})
}

func TestAllowlistUntrustedProxyIgnored(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // no TRUSTED_PROXIES: X-Forwarded-For is never believed
	id := e.createTenant("Fenced", "fenced.example.com")
	key := e.createKey(id, "TENANT_READ")
	setAllowlist(t, e, id, "203.0.113.0/24")
	r := e.gqlFrom("203.0.113.9", key, `{ me { name } }`, nil)
	if r.Status != http.StatusForbidden || !strings.Contains(r.Errors[0].Message, "127.0.0.1") {
		t.Fatalf("forwarded header believed from an untrusted peer: %d %s", r.Status, r.Raw)
	}
}

func TestAllowlistLockoutProtection(t *testing.T) {
	t.Parallel()
	e, id, key := allowlistEnv(t)
	const m = `mutation($l: [String!], $c: Boolean) { updateTenantSettings(input: {ipAllowlist: $l, confirmLockout: $c}) { settings { ipAllowlist version } } }`
	from := "203.0.113.9"

	r := e.gqlFrom(from, key, m, map[string]any{"l": []string{"198.51.100.0/24"}})
	if r.Code() != "BAD_USER_INPUT" || r.Field() != "ipAllowlist" || !strings.Contains(r.Errors[0].Message, from) || !strings.Contains(r.Errors[0].Message, "confirmLockout") {
		t.Fatalf("ErrLockout: %s", r.Raw)
	}
	if got := settingsVersion(t, e, id); got != 1 {
		t.Fatalf("refused change saved: version %d", got)
	}
	// Including the caller's address is fine.
	if r := e.gqlFrom(from, key, m, map[string]any{"l": []string{"198.51.100.0/24", "203.0.113.0/24"}}); r.Code() != "" {
		t.Fatalf("OKIncludesSelf: %s", r.Raw)
	}
	// Confirmed: saved, and the key is refused from then on.
	if r := e.gqlFrom(from, key, m, map[string]any{"l": []string{"198.51.100.0/24"}, "c": true}); r.Code() != "" {
		t.Fatalf("OKConfirmed: %s", r.Raw)
	}
	if r := e.gqlFrom(from, key, `{ me { name } }`, nil); r.Status != http.StatusForbidden {
		t.Fatalf("locked-out key still works: %s", r.Raw)
	}
	// The operator is never locked out and can clear it.
	setAllowlist(t, e, id)
	if r := e.gqlFrom(from, key, `{ me { name } }`, nil); r.Code() != "" {
		t.Fatalf("after clearing: %s", r.Raw)
	}
}

func TestSettingsValidateOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Dry", "dry.example.com")
	const m = `mutation($in: UpdateTenantSettingsInput!) { updateTenantSettings(input: $in) { settings { auditLogRetentionDays ipAllowlist version } } }`
	var out struct {
		UpdateTenantSettings struct {
			Settings struct {
				AuditLogRetentionDays int
				IPAllowlist           []string `json:"ipAllowlist"`
				Version               int
			}
		}
	}
	e.mustGQL(testAdminSecret, m, map[string]any{"in": map[string]any{"tenantId": id, "auditLogRetentionDays": 400, "ipAllowlist": []string{"10.0.0.1"}, "validateOnly": true}}, &out)
	if s := out.UpdateTenantSettings.Settings; s.AuditLogRetentionDays != 400 || s.Version != 2 || len(s.IPAllowlist) != 1 {
		t.Fatalf("validateOnly payload should show the would-be settings: %+v", s)
	}
	if got := settingsVersion(t, e, id); got != 1 {
		t.Fatalf("validateOnly saved: version %d", got)
	}
	r := e.gql(testAdminSecret, m, map[string]any{"in": map[string]any{"tenantId": id, "auditLogRetentionDays": 10, "validateOnly": true}})
	if r.Code() != "BAD_USER_INPUT" || r.Field() != "auditLogRetentionDays" {
		t.Fatalf("validateOnly must report the same errors: %s", r.Raw)
	}
	r = e.gql(testAdminSecret, `mutation($id: ID) { updateTenant(input: {tenantId: $id, name: "Renamed", validateOnly: true}) { tenant { name version } } }`, map[string]any{"id": id})
	if r.Code() != "" || !strings.Contains(string(r.Data), `"Renamed"`) {
		t.Fatalf("updateTenant validateOnly: %s", r.Raw)
	}
	var t2 struct{ Tenant struct{ Name string } }
	e.mustGQL(testAdminSecret, `query($id: ID!) { tenant(id: $id) { name } }`, map[string]any{"id": id}, &t2)
	if t2.Tenant.Name != "Dry" {
		t.Fatalf("updateTenant validateOnly saved the name: %q", t2.Tenant.Name)
	}
}

func settingsVersion(t *testing.T, e *env, id string) int {
	t.Helper()
	var out struct {
		Tenant struct{ Settings struct{ Version int } }
	}
	e.mustGQL(testAdminSecret, `query($id: ID!) { tenant(id: $id) { settings { version } } }`, map[string]any{"id": id}, &out)
	return out.Tenant.Settings.Version
}

func jsonKeys(raw []byte) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(raw, &m)
	return m
}
