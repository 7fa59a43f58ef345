package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"tenantapi/db/dbtest"
)

// This file covers the Idempotency-Key header: replays, reuse with another
// request, scoping to the credential, keys in progress, expiry, and that the
// stored responses (one-time secrets included) are sealed at rest.

const qCreateKeyIdem = `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { apiKey { id name } secret } }`

// postIdem sends a raw JSON body to /graphql with token and Idempotency-Key.
func (e *env) postIdem(token, idem, body string) *result {
	e.t.Helper()
	h := map[string]string{"Authorization": "Bearer " + token}
	if idem != "" {
		h["Idempotency-Key"] = idem
	}
	return e.do(newHTTPRequest(e.t, e, http.MethodPost, "/graphql", body, h))
}

func createKeyBody(name string) string {
	b, _ := json.Marshal(map[string]any{"query": qCreateKeyIdem, "variables": map[string]any{"in": map[string]any{"name": name, "permissions": []string{"TENANT_READ"}}}})
	return string(b)
}

type createdKey struct {
	CreateApiKey struct {
		ApiKey struct{ ID, Name string }
		Secret string
	}
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewURL(t)
	e := newEnvAt(t, dbURL)
	raw := openRaw(t, dbURL)
	id := e.createTenant("Idempotent Co", "idempotent.example.com")
	key := e.createKey(id, "TENANT_READ", "API_KEYS_WRITE", "API_KEYS_READ")
	keysNamed := func(t *testing.T, name string) int {
		t.Helper()
		var n int
		if err := raw.QueryRow(`SELECT count(*) FROM api_keys WHERE tenant_id = $1 AND name = $2`, id, name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("OK/replay", func(t *testing.T) {
		e := e.withT(t)
		idem := newIdempotencyKey()
		first := e.postIdem(key, idem, createKeyBody("replayed"))
		var a, b createdKey
		first.Decode(t, &a)
		if first.Header.Get("Idempotent-Replayed") != "" {
			t.Errorf("the first request says it was replayed")
		}
		// The same request, its JSON spaced and ordered differently.
		again := fmt.Sprintf(`{ "variables" : {"in": {"permissions": ["TENANT_READ"], "name": "replayed"}}, "query": %q }`, qCreateKeyIdem)
		second := e.postIdem(key, idem, again)
		second.Decode(t, &b)
		if second.Status != first.Status || second.Header.Get("Idempotent-Replayed") != "true" || second.Header.Get("Content-Type") != first.Header.Get("Content-Type") {
			t.Errorf("replay: status %d, Idempotent-Replayed %q, Content-Type %q", second.Status, second.Header.Get("Idempotent-Replayed"), second.Header.Get("Content-Type"))
		}
		if a.CreateApiKey.ApiKey.ID == "" || b != a {
			t.Errorf("replay answered %+v, the first request %+v: want the same key and secret", b, a)
		}
		if n := keysNamed(t, "replayed"); n != 1 {
			t.Errorf("%d keys created, want 1", n)
		}
		if n := len(e.entriesFor(id, "createApiKey")); n != 2 { // the harness's key and this one
			t.Errorf("%d createApiKey audit entries, want 2", n)
		}
	})

	t.Run("OK/sealedAtRest", func(t *testing.T) {
		e := e.withT(t)
		idem := newIdempotencyKey()
		var out createdKey
		e.postIdem(key, idem, createKeyBody("sealed")).Decode(t, &out)
		var sealed, status string
		if err := raw.QueryRow(`SELECT response_sealed, state FROM idempotency_keys WHERE key = $1`, idem).Scan(&sealed, &status); err != nil {
			t.Fatal(err)
		}
		if status != "DONE" || !strings.HasPrefix(sealed, "test:") || strings.Contains(dumpTables(t, raw), out.CreateApiKey.Secret) {
			t.Errorf("stored response %.20s… (state %s): want it sealed by the keyring and the secret nowhere in the database", sealed, status)
		}
	})

	t.Run("ErrReusedWithAnotherRequest", func(t *testing.T) {
		e := e.withT(t)
		idem := newIdempotencyKey()
		e.postIdem(key, idem, createKeyBody("original")).Decode(t, new(createdKey))
		r := e.postIdem(key, idem, createKeyBody("different"))
		if r.Status != http.StatusUnprocessableEntity || r.Code() != "IDEMPOTENCY_KEY_REUSED" || !strings.Contains(r.Errors[0].Message, "different request") {
			t.Errorf("reuse: %d %s", r.Status, r.Raw)
		}
		if n := keysNamed(t, "different"); n != 0 {
			t.Errorf("the refused request created %d keys", n)
		}
	})

	t.Run("OK/scopedToCredential", func(t *testing.T) {
		e := e.withT(t)
		idem := newIdempotencyKey()
		other := e.createKey(id, "TENANT_READ", "API_KEYS_WRITE")
		var a, b createdKey
		e.postIdem(key, idem, createKeyBody("scoped")).Decode(t, &a)
		r := e.postIdem(other, idem, createKeyBody("scoped"))
		r.Decode(t, &b)
		if r.Header.Get("Idempotent-Replayed") != "" || a.CreateApiKey.ApiKey.ID == b.CreateApiKey.ApiKey.ID {
			t.Errorf("another credential with the same key got the first one's response")
		}
		if n := keysNamed(t, "scoped"); n != 2 {
			t.Errorf("%d keys, want 2 (one per credential)", n)
		}
	})

	t.Run("OK/errorsReplayed", func(t *testing.T) {
		e := e.withT(t)
		idem := newIdempotencyKey()
		body := `{"query": "mutation { createApiKey(input: {name: \"\", permissions: [TENANT_READ]}) { secret } }"}`
		first := e.postIdem(key, idem, body)
		second := e.postIdem(key, idem, body)
		if first.Code() != "BAD_USER_INPUT" || string(second.Raw) != string(first.Raw) || second.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("a refused request and its replay: %s / %s", first.Raw, second.Raw)
		}
	})

	t.Run("OK/queriesIgnoreTheKey", func(t *testing.T) {
		e := e.withT(t)
		idem := newIdempotencyKey()
		r := e.postIdem(key, idem, gqlBody(`{ me { name } }`))
		var n int
		_ = raw.QueryRow(`SELECT count(*) FROM idempotency_keys WHERE key = $1`, idem).Scan(&n)
		if r.Code() != "" || n != 0 {
			t.Errorf("a query with an Idempotency-Key: %s, %d records", r.Raw, n)
		}
	})

	t.Run("ErrInvalidKey", func(t *testing.T) {
		e := e.withT(t)
		for _, k := range []string{strings.Repeat("k", 256), "clé"} {
			r := e.postIdem(key, k, createKeyBody("invalid key"))
			if r.Status != http.StatusBadRequest || r.Code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "1 to 255 printable ASCII") {
				t.Errorf("key %.10q…: %d %s", k, r.Status, r.Raw)
			}
		}
		if n := keysNamed(t, "invalid key"); n != 0 {
			t.Errorf("%d keys created with invalid Idempotency-Keys", n)
		}
	})

	t.Run("ErrInProgress", func(t *testing.T) {
		e := e.withT(t)
		idem := newIdempotencyKey()
		// Hold the tenant's row so the first request waits inside its
		// transaction, claim taken.
		tx, err := raw.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(`SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE`, id); err != nil {
			t.Fatal(err)
		}
		done := make(chan *result, 1)
		go func() { done <- e.postIdem(key, idem, createKeyBody("in progress")) }()
		for range 200 {
			var n int
			_ = raw.QueryRow(`SELECT count(*) FROM idempotency_keys WHERE key = $1 AND state = 'RUNNING'`, idem).Scan(&n)
			if n == 1 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		dup := e.postIdem(key, idem, createKeyBody("in progress"))
		if dup.Status != http.StatusConflict || dup.Code() != "CONFLICT" || dup.Header.Get("Retry-After") != "1" || !strings.Contains(dup.Errors[0].Message, "in progress") {
			t.Errorf("duplicate while the first runs: %d %s (Retry-After %q)", dup.Status, dup.Raw, dup.Header.Get("Retry-After"))
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		var a, b createdKey
		(<-done).Decode(t, &a)
		r := e.postIdem(key, idem, createKeyBody("in progress"))
		r.Decode(t, &b)
		if b != a || r.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("after the first finished, the duplicate got %+v, want the replay of %+v", b, a)
		}
		if n := keysNamed(t, "in progress"); n != 1 {
			t.Errorf("%d keys created, want 1", n)
		}
	})

	t.Run("OK/expiresAfter24Hours", func(t *testing.T) {
		e := e.withT(t)
		idem := newIdempotencyKey()
		e.postIdem(key, idem, createKeyBody("yesterday")).Decode(t, new(createdKey))
		if _, err := raw.Exec(`UPDATE idempotency_keys SET created_at = created_at - interval '25 hours' WHERE key = $1`, idem); err != nil {
			t.Fatal(err)
		}
		// An expired key starts afresh, whatever the request.
		r := e.postIdem(key, idem, createKeyBody("today"))
		r.Decode(t, new(createdKey))
		if r.Header.Get("Idempotent-Replayed") != "" || keysNamed(t, "today") != 1 {
			t.Errorf("a key older than 24 hours was not forgotten: %s", r.Raw)
		}
		if _, err := raw.Exec(`UPDATE idempotency_keys SET created_at = created_at - interval '25 hours' WHERE key = $1`, idem); err != nil {
			t.Fatal(err)
		}
		n, err := e.store.PurgeIdempotencyKeys(t.Context())
		if err != nil || n < 1 {
			t.Errorf("PurgeIdempotencyKeys = %d, %v; want the expired record deleted", n, err)
		}
		var left int
		_ = raw.QueryRow(`SELECT count(*) FROM idempotency_keys WHERE key = $1`, idem).Scan(&left)
		if left != 0 {
			t.Errorf("the expired record is still stored")
		}
	})
}
