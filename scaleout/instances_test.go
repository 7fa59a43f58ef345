package scaleout_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tenantapi/db/dbtest"
	"tenantapi/keyring"
)

// TestInstancesShareState runs two real tenantapi processes, A and B, as
// two instances behind a load balancer: one database, one Redis, no state
// of their own. What one writes the other reads; the rate limit budget is
// shared (Redis); a live subscription on B receives the events committed
// through A (LISTEN/NOTIFY); each webhook is delivered once although both
// instances run a delivery worker (SKIP LOCKED leases); a session opened
// on A works on B and, ended on B, is refused on A. The PgBouncer variant
// runs the same with DATABASE_URL through PgBouncer in transaction mode.
func TestInstancesShareState(t *testing.T) {
	redisURL := os.Getenv("TEST_REDIS_URL")
	if redisURL == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TEST_REDIS_URL is not set: the instances share their rate limits through Redis")
		}
		t.Skip("TEST_REDIS_URL is not set (make test sets it): the instances' shared rate limits need Redis")
	}
	t.Run("Direct", func(t *testing.T) {
		dbURL := dbtest.NewURL(t)
		checkInstances(t, map[string]string{"DATABASE_URL": dbURL, "REDIS_URL": redisURL})
	})
	t.Run("PgBouncer", func(t *testing.T) {
		direct := dbtest.Direct(t, dbtest.NewURL(t))
		b := startPgBouncer(t, direct)
		checkInstances(t, map[string]string{
			"DATABASE_URL": withHostPort(t, direct, b.addr), "DATABASE_DIRECT_URL": direct, "REDIS_URL": redisURL,
			// PgBouncer 1.18 keeps no prepared statements and refuses
			// start-up options (docs/scaling.md).
			"DB_PREPARED_STATEMENTS": "false", "DB_STATEMENT_TIMEOUT": "0",
		})
		b.alive(t)
		xacts, queries := b.stats(t)
		if xacts == 0 {
			t.Fatal("no transaction went through PgBouncer")
		}
		t.Logf("through PgBouncer: %d transactions, %d queries", xacts, queries)
	})
}

// checkInstances starts A (seeding the demo tenant) and B with env and
// checks what TestInstancesShareState says.
func checkInstances(t *testing.T, env map[string]string) {
	// The webhook receiver: https only, trusted by the instances through
	// SSL_CERT_FILE; it counts each delivery by its webhook-id.
	var mu sync.Mutex
	received := map[string]int{}
	hook := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		received[r.Header.Get("webhook-id")]++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hook.Close()
	dir := t.TempDir()
	certFile := filepath.Join(dir, "receiver.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hook.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	env["ENCRYPTION_KEY"] = keyring.Generate("scale") // one keyring: what A seals, B opens
	env["SSL_CERT_FILE"] = certFile
	env["EGRESS_ALLOW_PRIVATE"] = "true"
	env["RATE_LIMIT_ANONYMOUS_PER_MINUTE"] = "10"
	env["TRUSTED_PROXIES"] = "127.0.0.1/32"
	env["LOG_LEVEL"] = "warn"

	keyFile := filepath.Join(dir, "demo-api-key")
	a := startInstance(t, "A", env, "-seed-demo", "-demo-key-file", keyFile)
	b := startInstance(t, "B", env)
	key := readTrimmed(t, keyFile)
	password := readTrimmed(t, filepath.Join(dir, "demo-password"))

	t.Run("WritesReadAcross", func(t *testing.T) {
		a.must(t, key, `mutation($n: String!) { updateTenant(input: {name: $n}) { tenant { name } } }`, map[string]any{"n": "Written through A"}, nil)
		var got struct{ Me struct{ Name string } }
		b.must(t, key, `{ me { name } }`, nil, &got)
		if got.Me.Name != "Written through A" {
			t.Fatalf("B reads the name %q, want the one written through A", got.Me.Name)
		}
	})

	t.Run("RateLimitShared", func(t *testing.T) {
		// Anonymous requests from one client address (a /64 of this run's
		// own, forwarded by a trusted proxy), alternating between A and B:
		// with a budget per instance both would pass 10, 20 in all.
		var suffix [4]byte
		_, _ = rand.Read(suffix[:])
		xff := http.Header{"X-Forwarded-For": {fmt.Sprintf("2001:db8:%x:%x::1", suffix[:2], suffix[2:])}}
		passed := 0
		for i := range 20 {
			in := a
			if i%2 == 1 {
				in = b
			}
			r := in.gql(t, "", `{ __typename }`, nil, xff)
			switch {
			case r.Status == http.StatusOK && len(r.Errors) == 0:
				passed++
			case r.code() != "RATE_LIMITED":
				t.Fatalf("%s answered %d %+v, want success or RATE_LIMITED", in.name, r.Status, r.Errors)
			}
		}
		// 10 a minute, one more may come back while the 20 run.
		if passed < 10 || passed > 12 {
			t.Fatalf("%d of 20 anonymous requests passed over A and B, want 10 (one budget of 10 a minute shared through Redis)", passed)
		}
	})

	t.Run("LiveAcross", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		events := b.subscribe(t, ctx, key, `subscription { tenantEvents(types: [TENANT_UPDATED]) { id wireType payload } }`)
		// The subscription starts with the events committed after it
		// began, which SSE does not announce: write until one arrives.
		for i := range 20 {
			name := fmt.Sprintf("Live %d through A", i)
			a.must(t, key, `mutation($n: String!) { updateTenant(input: {name: $n}) { tenant { name } } }`, map[string]any{"n": name}, nil)
			select {
			case data, ok := <-events:
				if !ok {
					t.Fatal("B ended the subscription")
				}
				var ev struct {
					TenantEvents struct{ WireType, Payload string }
				}
				if err := json.Unmarshal(data, &ev); err != nil || ev.TenantEvents.WireType != "tenant.updated" ||
					!strings.Contains(ev.TenantEvents.Payload, "through A") {
					t.Fatalf("B sent %s, want the tenant.updated committed through A", data)
				}
				return
			case <-time.After(time.Second):
			}
		}
		t.Fatal("a subscriber on B received none of 20 events committed through A")
	})

	t.Run("WebhookDeliveredOnce", func(t *testing.T) {
		a.must(t, key, `mutation($u: String!) { updateNotificationChannels(input: {webhookUrl: $u, events: [TENANT_UPDATED]}) { webhookSecret } }`,
			map[string]any{"u": hook.URL + "/hook"}, nil)
		const n = 10
		for i := range n { // through both instances, each running a worker
			in := a
			if i%2 == 1 {
				in = b
			}
			in.must(t, key, `mutation($n: String!) { updateTenant(input: {name: $n}) { tenant { name } } }`, map[string]any{"n": fmt.Sprintf("Hook %d", i)}, nil)
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			mu.Lock()
			got := len(received)
			mu.Unlock()
			if got >= n {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d webhooks delivered in a minute", got, n)
			}
			time.Sleep(100 * time.Millisecond)
		}
		// Both workers poll every second: give a duplicate the time to
		// show up.
		time.Sleep(2500 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		if len(received) != n {
			t.Errorf("%d distinct deliveries, want %d", len(received), n)
		}
		for id, c := range received {
			if c != 1 {
				t.Errorf("delivery %s arrived %d times, want once", id, c)
			}
		}
	})

	t.Run("SessionAcross", func(t *testing.T) {
		var login struct{ Login struct{ Token string } }
		a.must(t, "", `mutation($p: String!) { login(input: {email: "it@acme.fr", password: $p}) { token } }`, map[string]any{"p": password}, &login)
		var v struct{ Viewer struct{ Kind string } }
		b.must(t, login.Login.Token, `{ viewer { kind } }`, nil, &v)
		if v.Viewer.Kind != "MEMBER" {
			t.Fatalf("B sees the session opened on A as %q, want MEMBER", v.Viewer.Kind)
		}
		b.must(t, login.Login.Token, `mutation { logout { session { revokedAt } } }`, nil, nil)
		if r := a.gql(t, login.Login.Token, `{ viewer { kind } }`, nil, nil); r.code() != "UNAUTHENTICATED" {
			t.Fatalf("A answers the session ended on B with %d %+v, want UNAUTHENTICATED", r.Status, r.Errors)
		}
	})
}

func readTrimmed(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
