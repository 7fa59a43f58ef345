package httpapi_test

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq" // the postgres driver, for reading the test database directly

	"tenantapi/tenant"
)

// This file follows an API key through its life on the real server:
// creation (the secret shown once), storage (hash only), authentication,
// lastUsedAt, revocation and expiry, and every credential that must be
// refused with 401.

const keyFields = `id name prefix permissions status createdAt createdBy expiresAt lastUsedAt revokedAt`

// keyInfo is a decoded ApiKey.
type keyInfo struct {
	ID, Name, Prefix, Status, CreatedBy string
	Permissions                         []string
	CreatedAt                           time.Time
	ExpiresAt, LastUsedAt, RevokedAt    *time.Time
}

// newKey creates a key for tenantID as the operator and returns the raw
// response, the secret and the key.
func newKey(e *env, tenantID string, in map[string]any) (*result, string, keyInfo) {
	e.t.Helper()
	in["tenantId"] = tenantID
	r := e.gql(testAdminSecret, `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret apiKey { `+keyFields+` } } }`,
		map[string]any{"in": in})
	var out struct {
		CreateApiKey struct {
			Secret string
			ApiKey keyInfo
		}
	}
	r.Decode(e.t, &out)
	return r, out.CreateApiKey.Secret, out.CreateApiKey.ApiKey
}

// listKeys lists tenantID's keys as the operator (the first page of 100).
func listKeys(e *env, tenantID string, includeRevoked bool) (*result, []keyInfo) {
	e.t.Helper()
	r := e.gql(testAdminSecret, `query($id: ID!, $rev: Boolean) { tenant(id: $id) { apiKeys(first: 100, includeRevoked: $rev) { nodes { `+keyFields+` } } } }`,
		map[string]any{"id": tenantID, "rev": includeRevoked})
	var out struct {
		Tenant struct{ ApiKeys struct{ Nodes []keyInfo } }
	}
	r.Decode(e.t, &out)
	return r, out.Tenant.ApiKeys.Nodes
}

func findKey(keys []keyInfo, id string) *keyInfo {
	for i := range keys {
		if keys[i].ID == id {
			return &keys[i]
		}
	}
	return nil
}

// viewerInfo is who the server takes the token for.
type viewerInfo struct {
	Kind, APIKeyID, TenantID string
	Permissions              []string
}

const viewerQuery = `{ viewer { kind apiKeyId tenantId permissions } }`

// wantUnauthenticated checks r is the 401 of a refused credential, whose
// message contains msg.
func wantUnauthenticated(t *testing.T, r *result, msg string) {
	t.Helper()
	if r.Status != http.StatusUnauthorized || r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("status %d code %q, want 401 UNAUTHENTICATED: %s", r.Status, r.Code(), r.Raw)
	}
	if h := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
		t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", h)
	}
	if !strings.Contains(strings.ToLower(r.Errors[0].Message), msg) {
		t.Errorf("message %q does not mention %q", r.Errors[0].Message, msg)
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(r.Raw, &body); err != nil {
		t.Fatalf("body is not a JSON object: %s", r.Raw)
	}
	if _, ok := body["data"]; ok {
		t.Errorf("a refused request has a data key: %s", r.Raw)
	}
}

// dumpTables returns the text of every row of every table.
func dumpTables(t *testing.T, conn *sql.DB) string {
	t.Helper()
	rows, err := conn.Query(`SELECT quote_ident(table_name) FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	if !slices.Contains(tables, "api_keys") {
		t.Fatalf("tables %v: no api_keys", tables)
	}
	var all strings.Builder
	for _, tbl := range tables {
		var dump string
		if err := conn.QueryRow(`SELECT coalesce(string_agg(r::text, E'\n'), '') FROM ` + tbl + ` r`).Scan(&dump); err != nil {
			t.Fatalf("dump %s: %v", tbl, err)
		}
		all.WriteString(tbl + ":\n" + dump + "\n")
	}
	return all.String()
}

func TestAPIKeyLifecycle(t *testing.T) {
	t.Parallel()
	e0 := newEnv(t)
	tenantID := e0.createTenant("Keyholder", "keyholder.example")
	perms := []string{"TENANT_READ", "API_KEYS_READ", "API_KEYS_WRITE"}
	var (
		secret  string
		key     keyInfo
		created = time.Now()
		later   []*result // every response after creation: none may show the secret
	)
	step := func(name string, f func(t *testing.T, e *env)) {
		if !t.Run(name, func(t *testing.T) { f(t, e0.withT(t)) }) {
			t.FailNow()
		}
	}

	step("CreateShowsSecretOnce", func(t *testing.T, e *env) {
		_, secret, key = newKey(e, tenantID, map[string]any{"name": "  CI/CD Pipeline ", "permissions": append(slices.Clone(perms), "TENANT_READ")})
		if !strings.HasPrefix(secret, "tnt_") || len(secret) != 50 || !tenant.WellFormedKey(secret) {
			t.Fatalf("secret %q: want tnt_ + 46 characters with a valid checksum", secret)
		}
		if key.Prefix != secret[:12] {
			t.Errorf("prefix %q, want the secret's first 12 characters %q", key.Prefix, secret[:12])
		}
		if !tenant.ValidID(key.ID) || key.Name != "CI/CD Pipeline" || !slices.Equal(key.Permissions, perms) || key.Status != "ACTIVE" ||
			key.CreatedBy != "admin" || key.ExpiresAt != nil || key.LastUsedAt != nil || key.RevokedAt != nil {
			t.Errorf("apiKey = %+v", key)
		}
		if d := key.CreatedAt.Sub(created); d < -5*time.Second || d > 5*time.Second {
			t.Errorf("createdAt %v, now %v", key.CreatedAt, created)
		}
	})

	step("StoredAsSHA256Only", func(t *testing.T, e *env) {
		conn := e.raw().DB
		var hash []byte
		var prefix string
		if err := conn.QueryRow(`SELECT key_hash, prefix FROM api_keys WHERE id = $1`, key.ID).Scan(&hash, &prefix); err != nil {
			t.Fatal(err)
		}
		if want := sha256.Sum256([]byte(secret)); !bytes.Equal(hash, want[:]) {
			t.Errorf("key_hash = %x, want SHA-256 of the secret %x", hash, want)
		}
		if prefix != secret[:12] {
			t.Errorf("stored prefix %q", prefix)
		}
		dump := dumpTables(t, conn)
		hidden := secret[12:] // what the prefix does not show
		for _, s := range []string{hidden, strings.ToLower(hidden), hex.EncodeToString([]byte(hidden))} {
			if strings.Contains(dump, s) {
				t.Fatalf("the database holds the secret (%q)", s)
			}
		}
	})

	step("Authenticates", func(t *testing.T, e *env) {
		r := e.gql(secret, viewerQuery, nil)
		later = append(later, r)
		var out struct{ Viewer viewerInfo }
		r.Decode(t, &out)
		want := viewerInfo{Kind: "API_KEY", APIKeyID: key.ID, TenantID: tenantID, Permissions: perms}
		if out.Viewer.Kind != want.Kind || out.Viewer.APIKeyID != want.APIKeyID || out.Viewer.TenantID != want.TenantID ||
			!slices.Equal(out.Viewer.Permissions, want.Permissions) {
			t.Errorf("viewer = %+v, want %+v", out.Viewer, want)
		}
		r = e.gql(secret, `{ me { id apiKeys { nodes { `+keyFields+` } } } }`, nil)
		later = append(later, r)
		var me struct{ Me struct{ ID string } }
		r.Decode(t, &me)
		if me.Me.ID != tenantID {
			t.Errorf("me.id = %s, want %s", me.Me.ID, tenantID)
		}
	})

	step("LastUsedAtRecorded", func(t *testing.T, e *env) {
		// Both requests of Authenticates saw lastUsedAt null and each
		// started a write: wait for both, or the later one lands between
		// the two reads below.
		e.store.WaitBackground()
		var used *time.Time
		for deadline := time.Now().Add(10 * time.Second); used == nil && time.Now().Before(deadline); {
			r, keys := listKeys(e, tenantID, false)
			later = append(later, r)
			if k := findKey(keys, key.ID); k != nil && k.LastUsedAt != nil {
				used = k.LastUsedAt
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if used == nil {
			t.Fatal("lastUsedAt still null 10s after the key was used")
		}
		if used.Before(key.CreatedAt.Add(-time.Second)) || used.After(time.Now().Add(time.Second)) {
			t.Errorf("lastUsedAt %v: not between createdAt %v and now", used, key.CreatedAt)
		}
		// Used again within the minute: lastUsedAt is not rewritten.
		later = append(later, e.gql(secret, viewerQuery, nil))
		e.store.WaitBackground()
		r, keys := listKeys(e, tenantID, false)
		later = append(later, r)
		if k := findKey(keys, key.ID); k == nil || k.LastUsedAt == nil || !k.LastUsedAt.Equal(*used) {
			t.Errorf("lastUsedAt changed within a minute: %v, then %+v", used, k)
		}
	})

	var revokedAt time.Time
	step("Revoke", func(t *testing.T, e *env) {
		for i := range 2 { // revoking a revoked key changes nothing
			r := e.gql(testAdminSecret, `mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { `+keyFields+` } } }`, map[string]any{"id": key.ID})
			later = append(later, r)
			var out struct{ RevokeApiKey struct{ ApiKey keyInfo } }
			r.Decode(t, &out)
			k := out.RevokeApiKey.ApiKey
			if k.ID != key.ID || k.Status != "REVOKED" || k.RevokedAt == nil {
				t.Fatalf("revoke #%d: apiKey = %+v", i+1, k)
			}
			if i == 0 {
				revokedAt = *k.RevokedAt
			} else if !k.RevokedAt.Equal(revokedAt) {
				t.Errorf("revoking again moved revokedAt from %v to %v", revokedAt, *k.RevokedAt)
			}
		}
	})

	step("RevokedKeyRefused", func(t *testing.T, e *env) {
		r := e.gql(secret, viewerQuery, nil)
		later = append(later, r)
		wantUnauthenticated(t, r, "revoked")
	})

	step("RevokedListedOnlyOnRequest", func(t *testing.T, e *env) {
		r, keys := listKeys(e, tenantID, false)
		later = append(later, r)
		if k := findKey(keys, key.ID); k != nil {
			t.Errorf("apiKeys lists the revoked key: %+v", k)
		}
		r, keys = listKeys(e, tenantID, true)
		later = append(later, r)
		k := findKey(keys, key.ID)
		if k == nil || k.Status != "REVOKED" || k.RevokedAt == nil || !k.RevokedAt.Equal(revokedAt) || k.Prefix != secret[:12] {
			t.Errorf("apiKeys(includeRevoked: true) shows %+v", k)
		}
	})

	step("SecretNeverShownAgain", func(t *testing.T, e *env) {
		// Another key's creation and a schema read do not show it either.
		r, _, _ := newKey(e, tenantID, map[string]any{"name": "second", "permissions": []string{"TENANT_READ"}})
		later = append(later, r)
		r = e.gql(testAdminSecret, `{ __type(name: "ApiKey") { fields { name } } }`, nil)
		later = append(later, r)
		for _, f := range []string{"secret", "hash", "keyHash", "key"} {
			if bytes.Contains(r.Raw, []byte(`"`+f+`"`)) {
				t.Errorf("ApiKey has a field %q: %s", f, r.Raw)
			}
		}
		for _, r := range later {
			if bytes.Contains(r.Raw, []byte(secret[12:])) {
				t.Fatalf("a later response shows the secret: %s", r.Raw)
			}
		}
	})
}

func TestAPIKeyExpires(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenantID := e.createTenant("Expiring", "expiring.example")
	expires := time.Now().Add(2 * time.Second).UTC()
	_, secret, key := newKey(e, tenantID, map[string]any{"name": "short-lived", "permissions": []string{"TENANT_READ"}, "expiresAt": expires.Format(time.RFC3339Nano)})
	if key.ExpiresAt == nil || key.ExpiresAt.Sub(expires).Abs() > time.Millisecond {
		t.Fatalf("expiresAt = %v, want %v", key.ExpiresAt, expires)
	}
	var out struct{ Viewer viewerInfo }
	e.mustGQL(secret, viewerQuery, nil, &out)
	if out.Viewer.APIKeyID != key.ID {
		t.Fatalf("before expiry the key is %+v", out.Viewer)
	}

	time.Sleep(time.Until(*key.ExpiresAt) + 100*time.Millisecond)
	wantUnauthenticated(t, e.gql(secret, viewerQuery, nil), "expired")

	// Expired keys are listed, even without includeRevoked.
	_, keys := listKeys(e, tenantID, false)
	if k := findKey(keys, key.ID); k == nil || k.Status != "EXPIRED" {
		t.Errorf("apiKeys shows the expired key as %+v", k)
	}
}

// TestMalformedKeyNoLookup: a token of the key's shape with a wrong checksum
// is refused before any database statement; a well-formed unknown key is
// looked up and refused.
func TestMalformedKeyNoLookup(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	genuine := tenant.NewAPIKey()
	last := genuine[len(genuine)-1]
	swap := byte('0')
	if last == '0' {
		swap = '1'
	}
	fake := genuine[:len(genuine)-1] + string(swap)
	if len(fake) != tenant.KeyLength || tenant.WellFormedKey(fake) {
		t.Fatalf("fake %q should have the shape but not the checksum of a key", fake)
	}
	tests := []struct {
		name, token, msg string
		lookup           bool
	}{
		{"WrongChecksum", fake, "malformed", false},
		{"WrongPrefix", "tok_" + genuine[4:], "neither the admin secret nor an api key", false},
		{"TooShort", genuine[:20], "malformed", false},
		{"UnknownWellFormed", tenant.NewAPIKey(), "not recognised", true},
	}
	for _, tt := range tests { // sequential: they share the statement counter
		t.Run(tt.name, func(t *testing.T) {
			e := e.withT(t)
			e.store.WaitBackground()
			before := e.store.Statements.Load()
			wantUnauthenticated(t, e.gql(tt.token, viewerQuery, nil), tt.msg)
			e.store.WaitBackground()
			if moved := e.store.Statements.Load() != before; moved != tt.lookup {
				t.Errorf("database statements sent: %v, want %v", moved, tt.lookup)
			}
		})
	}
}

func TestAuthorizationHeaderRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name, header, msg string
	}{
		{"Basic", "Basic dXNlcjpwYXNzd29yZA==", "bearer"},
		{"BasicAdminSecret", "Basic " + testAdminSecret, "bearer"},
		{"BearerWithoutToken", "Bearer", "bearer"},
		{"BearerBlankToken", "Bearer    ", "bearer"},
		{"TokenWithoutScheme", testAdminSecret, "bearer"},
		{"WrongAdminSecret", "Bearer wrong-admin-secret", "neither the admin secret nor an api key"},
		{"AdminSecretPlusOne", "Bearer " + testAdminSecret + "x", "neither the admin secret nor an api key"},
		{"MalformedKey", "Bearer tnt_madeup", "malformed api key"},
		{"AdminSecretTruncated", "Bearer " + testAdminSecret[:len(testAdminSecret)-1], "neither the admin secret nor an api key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", strings.NewReader(`{"query": "{ viewer { kind } }"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", tt.header)
			wantUnauthenticated(t, e.withT(t).do(req), tt.msg)
		})
	}
	// The scheme is case-insensitive and the token trimmed.
	for _, h := range []string{"bearer " + testAdminSecret, "BEARER  " + testAdminSecret + " "} {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", strings.NewReader(`{"query": "{ viewer { kind } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", h)
		var out struct{ Viewer viewerInfo }
		e.do(req).Decode(t, &out)
		if out.Viewer.Kind != "ADMIN" {
			t.Errorf("Authorization %q: viewer %+v, want ADMIN", h, out.Viewer)
		}
	}
	// No header at all is an anonymous caller, not an error.
	var out struct{ Viewer viewerInfo }
	e.mustGQL("", viewerQuery, nil, &out)
	if out.Viewer.Kind != "ANONYMOUS" || len(out.Viewer.Permissions) != 0 {
		t.Errorf("anonymous viewer = %+v", out.Viewer)
	}
}

func TestDeletedTenantKeyRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenantID := e.createTenant("Doomed", "doomed.example")
	secret := e.createKey(tenantID, "TENANT_READ")
	e.mustGQL(secret, `{ me { id } }`, nil, nil)

	e.mustGQL(testAdminSecret, `mutation($id: ID!) { deleteTenant(input: {tenantId: $id}) { tenant { status } } }`, map[string]any{"id": tenantID}, nil)
	wantUnauthenticated(t, e.gql(secret, viewerQuery, nil), "not recognised")

	// Restored, its keys work again.
	e.mustGQL(testAdminSecret, `mutation($id: ID!) { restoreTenant(input: {tenantId: $id}) { tenant { status } } }`, map[string]any{"id": tenantID}, nil)
	var out struct{ Me struct{ ID string } }
	e.mustGQL(secret, `{ me { id } }`, nil, &out)
	if out.Me.ID != tenantID {
		t.Errorf("after restore me = %+v", out.Me)
	}
}
