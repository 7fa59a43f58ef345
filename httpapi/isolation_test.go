package httpapi_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"tenantapi/tenant"
)

// This file checks tenant isolation: a key reaches only its own tenant,
// another tenant's id reads exactly like a missing one and changes nothing,
// and a deleted or suspended tenant's keys stop working.

// isoCase is an operation tried with ids of another tenant, of nothing at
// all, and malformed ones.
type isoCase struct {
	name  string
	query string
	vars  func(id string) map[string]any
	want  string // the code for another tenant's id and for a missing one
}

func inputWith(fields map[string]any) func(string) map[string]any {
	return func(id string) map[string]any {
		in := map[string]any{}
		for k, v := range fields {
			in[k] = v
		}
		in["tenantId"] = id
		return map[string]any{"in": in}
	}
}

func idVar(id string) map[string]any { return map[string]any{"id": id} }

// isoCases are every root field and mutation that takes an id (a tenant id;
// an API key id for revokeApiKey), and those needing TENANT_MANAGE, given
// the id in whatever they accept (tenants: the search text; createTenant:
// the owner id).
var isoCases = []isoCase{
	{"tenant", qTenant, idVar, "NOT_FOUND"},
	{"tenant/nested", `query($id: ID!) { tenant(id: $id) { id name plan { id } settings { version } limits { users } usage { activeUsers } apiKeys(first: 100, includeRevoked: true) { nodes { id } } } }`, idVar, "NOT_FOUND"},
	{"tenants", `query($id: String) { tenants(filter: {search: $id}) { nodes { id } } }`, idVar, "FORBIDDEN"},
	{"createTenant", qCreateTenant, func(id string) map[string]any {
		return map[string]any{"in": map[string]any{"name": "Lookalike", "domain": "x-" + id + ".example", "ownerId": id}}
	}, "FORBIDDEN"},
	{"updateTenant/expectedVersion", qUpdateTenant, inputWith(map[string]any{"name": "Hijacked", "expectedVersion": 1}), "NOT_FOUND"},
	{"updateTenant", qUpdateTenant, inputWith(map[string]any{"name": "Hijacked", "domain": "hijacked.example"}), "NOT_FOUND"},
	{"updateTenant/status", qUpdateTenant, inputWith(map[string]any{"status": "SUSPENDED"}), "NOT_FOUND"},
	{"updateTenantSettings", qUpdateSettings, inputWith(map[string]any{"auditLogRetentionDays": 90, "deduplicateTokens": true, "ipAllowlist": []string{"127.0.0.0/8", "::1"}}), "NOT_FOUND"},
	{"deleteTenant", qDeleteTenant, inputWith(map[string]any{}), "NOT_FOUND"},
	{"restoreTenant", qRestoreTenant, inputWith(map[string]any{}), "FORBIDDEN"},
	{"createApiKey", qCreateAPIKey, inputWith(map[string]any{"name": "backdoor", "permissions": []string{"TENANT_READ"}}), "NOT_FOUND"},
	{"revokeApiKey", qRevokeAPIKey, func(id string) map[string]any { return map[string]any{"in": idVar(id)} }, "NOT_FOUND"}, // an API key id
	{"redeliverEvent", qRedeliver, inputWith(map[string]any{"eventId": "0190a0b0-0000-7000-8000-000000000000"}), "NOT_FOUND"},
	{"enableWebhookEndpoint", qEnableWebhook, inputWith(map[string]any{}), "NOT_FOUND"},
}

// snapshotQuery reads, as the admin, everything a foreign caller could try
// to change (not lastUsedAt, which using a key updates).
const snapshotQuery = `query($id: ID!) { tenant(id: $id) {
	id name domain status version modifiedAt modifiedBy deletedAt owner { id email } plan { id }
	settings { dataResidency encryptionEnabled auditLogRetentionDays ssoEnabled ipAllowlist deduplicateTokens version updatedAt updatedBy }
	apiKeys(first: 100, includeRevoked: true) { nodes { id name prefix permissions status createdAt createdBy expiresAt revokedAt } } } }`

func (e *env) snapshot(tenantID string) string {
	e.t.Helper()
	r := e.ask(testAdminSecret, snapshotQuery, map[string]any{"id": tenantID})
	if r.Status != http.StatusOK || len(r.Errors) > 0 || dataAt(e.t, r, "tenant.id") != tenantID {
		e.t.Fatalf("snapshot of %s: %s", tenantID, r.Raw)
	}
	return string(r.Data)
}

// sameResponse checks two responses cannot be told apart: same HTTP status,
// same body (errors with their messages, paths and codes, and data).
func sameResponse(t testing.TB, got, want *result) {
	t.Helper()
	if got.Status != want.Status || !bytes.Equal(got.Raw, want.Raw) {
		t.Errorf("responses differ:\n  got:  %d %s\n  want: %d %s", got.Status, got.Raw, want.Status, want.Raw)
	}
}

// TestIsolationForeignIDs uses tenant A's key, holding every permission but
// TENANT_MANAGE, on tenant B's ids: each answers like a missing id would,
// and B is unchanged afterwards.
func TestIsolationForeignIDs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createTenant("Alpha", "alpha.example")
	b := e.createTenant("Beta", "beta.example")
	aKey, _ := e.createKeyWithID(a, enumNames(tenant.TenantPermissions())...)
	bKey, bKeyID := e.createKeyWithID(b, "TENANT_READ", "API_KEYS_READ")
	beforeA, beforeB := e.snapshot(a), e.snapshot(b)

	t.Run("cases", func(t *testing.T) {
		for _, c := range isoCases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				e := e.withT(t)
				foreign := b
				if c.name == "revokeApiKey" {
					foreign = bKeyID
				}
				got := e.ask(aKey, c.query, c.vars(foreign))
				if got.Code() != c.want || len(got.Errors) != 1 {
					t.Fatalf("B's id: want one %s error, got %d %s", c.want, got.Status, got.Raw)
				}
				sameResponse(t, got, e.ask(aKey, c.query, c.vars(randomUUID())))
			})
		}
	})

	if after := e.snapshot(b); after != beforeB {
		t.Errorf("tenant B changed:\nbefore %s\nafter  %s", beforeB, after)
	}
	if after := e.snapshot(a); after != beforeA {
		t.Errorf("tenant A changed:\nbefore %s\nafter  %s", beforeA, after)
	}
	var out struct{ Me struct{ ID string } }
	e.mustGQL(bKey, `{ me { id apiKeys { nodes { status } } } }`, nil, &out)
	if out.Me.ID != b {
		t.Errorf("B's key reads tenant %s, want %s", out.Me.ID, b)
	}
}

// ownTenantCases are the isoCases a key holding tenant.TenantPermissions()
// may run on its own tenant, deleteTenant last (it ends the key's life).
func ownTenantCases() []isoCase {
	var out []isoCase
	var del isoCase
	for _, c := range isoCases {
		switch c.name {
		case "deleteTenant":
			del = c
		case "tenants", "createTenant", "restoreTenant", "updateTenant/status":
			// need TENANT_MANAGE
		case "redeliverEvent", "enableWebhookEndpoint":
			// names no event of the own tenant / needs a webhookUrl first;
			// TestDeliveryIsolation and the permission table are their controls
		default:
			out = append(out, c)
		}
	}
	return append(out, del)
}

// TestIsolationOwnTenantStillWorks is the control of TestIsolationForeignIDs:
// the same key and operations on its own tenant succeed.
func TestIsolationOwnTenantStillWorks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createTenant("Alpha", "alpha.example")
	aKey, _ := e.createKeyWithID(a, enumNames(tenant.TenantPermissions())...)
	_, spare := e.createKeyWithID(a, "TENANT_READ")
	for _, c := range ownTenantCases() {
		id := a
		if c.name == "revokeApiKey" {
			id = spare
		}
		if r := e.ask(aKey, c.query, c.vars(id)); len(r.Errors) > 0 {
			t.Errorf("%s on its own tenant: %s", c.name, r.Raw)
		}
	}
}

// TestOwnIDInUpperCase: a UUID is case-insensitive, and tenant(id:) accepts
// the key's own tenant id in upper case; the mutations must too, since it is
// not another tenant's id.
func TestOwnIDInUpperCase(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createTenant("Alpha", "alpha.example")
	aKey, _ := e.createKeyWithID(a, enumNames(tenant.TenantPermissions())...)
	for _, c := range ownTenantCases() {
		if c.name == "revokeApiKey" || c.name == "updateTenant/expectedVersion" {
			continue // not a tenant id; the version moves as cases run
		}
		t.Run(c.name, func(t *testing.T) {
			if r := e.withT(t).ask(aKey, c.query, c.vars(strings.ToUpper(a))); len(r.Errors) > 0 {
				t.Errorf("own tenant id in upper case: %s", r.Raw)
			}
		})
	}
}

// TestMalformedIDsAnswerNotFound sends "not-a-uuid" wherever an id goes,
// with a tenant key and with the admin secret (whose queries reach the
// database): NOT_FOUND with the message of a missing id, never an internal
// error or driver text.
func TestMalformedIDsAnswerNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createTenant("Alpha", "alpha.example")
	tenantKey, _ := e.createKeyWithID(a, enumNames(tenant.TenantPermissions())...)
	manageKey, _ := e.createKeyWithID(a, enumNames(tenant.AllPermissions)...)
	creds := map[string]string{"tenantKey": tenantKey, "manageKey": manageKey, "admin": testAdminSecret}
	for label, token := range creds {
		for _, c := range isoCases {
			if c.name == "tenants" || c.name == "createTenant" || (label == "tenantKey" && c.want != "NOT_FOUND") {
				continue // no id to look up, or refused before any id is looked at
			}
			t.Run(c.name+"/"+label, func(t *testing.T) {
				t.Parallel()
				e := e.withT(t)
				bad := e.ask(token, c.query, c.vars("not-a-uuid"))
				if bad.Code() != "NOT_FOUND" || len(bad.Errors) != 1 {
					t.Fatalf("not-a-uuid: want one NOT_FOUND error, got %d %s", bad.Status, bad.Raw)
				}
				missing := e.ask(token, c.query, c.vars(randomUUID()))
				if missing.Code() != "NOT_FOUND" || missing.Errors[0].Message != bad.Errors[0].Message {
					t.Errorf("not-a-uuid and a missing id answer differently:\n  %s\n  %s", bad.Raw, missing.Raw)
				}
			})
		}
	}
}

// TestDeletedAndSuspendedTenantKeys follows tenant B's key through B's
// deletion, restoration, suspension and reactivation by the operator.
func TestDeletedAndSuspendedTenantKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.createTenant("Beta", "beta.example")
	bKey := e.createKey(b, "TENANT_READ")
	unknownKey := tenant.NewAPIKey() // well formed, never issued

	works := func(step string) {
		t.Helper()
		r := e.ask(bKey, `{ me { id status } }`, nil)
		if r.Status != http.StatusOK || len(r.Errors) > 0 || dataAt(t, r, "me.id") != b {
			t.Fatalf("%s: B's key should work: %d %s", step, r.Status, r.Raw)
		}
	}
	refused := func(step string, status int, code string) *result {
		t.Helper()
		// viewer needs no permission: the key itself is refused, it does
		// not fall back to an credAnonymous caller.
		var r *result
		for _, q := range []string{`{ me { id } }`, `{ viewer { kind } }`} {
			r = e.ask(bKey, q, nil)
			if r.Status != status || r.Code() != code || len(r.Data) > 0 {
				t.Fatalf("%s: %s with B's key: want HTTP %d %s without data, got %d %s", step, q, status, code, r.Status, r.Raw)
			}
		}
		return r // of viewer
	}
	admin := func(query string, in map[string]any) {
		t.Helper()
		e.mustGQL(testAdminSecret, query, map[string]any{"in": in}, nil)
	}

	works("before")

	admin(qDeleteTenant, map[string]any{"tenantId": b})
	r := refused("after deleteTenant", http.StatusUnauthorized, "UNAUTHENTICATED")
	if r.Header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
	// A deleted tenant's key reads exactly like a key that never existed.
	sameResponse(t, r, e.ask(unknownKey, `{ viewer { kind } }`, nil))

	admin(qRestoreTenant, map[string]any{"tenantId": b})
	works("after restoreTenant")

	admin(qUpdateTenant, map[string]any{"tenantId": b, "status": "SUSPENDED"})
	refused("after suspension", http.StatusForbidden, "FORBIDDEN")

	admin(qUpdateTenant, map[string]any{"tenantId": b, "status": "ACTIVE"})
	works("after reactivation")
}
