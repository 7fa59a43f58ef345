package httpapi_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tenantapi/db/dbtest"
)

// This file covers what happens when the database goes away: connections
// cut under a load of writes (no acknowledged write lost, none applied
// twice), a database that cannot be reached at all (fast 503 /
// SERVICE_UNAVAILABLE without driver text), and the service resuming by
// itself.

// newEnvAt is newEnv over the database at dbURL, which the test may also
// reach directly or through a proxy it controls.
func newEnvAt(t testing.TB, dbURL string) *env {
	t.Helper()
	return buildEnv(t, envOptions{dbURL: dbURL})
}

// newIdempotencyKey returns a fresh random Idempotency-Key.
func newIdempotencyKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// dbProxy is a TCP proxy in front of PostgreSQL that the test can cut (its
// port refuses connections and every open one is closed) and restore.
type dbProxy struct {
	t      testing.TB
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
}

func startProxy(t testing.TB, target string) *dbProxy {
	t.Helper()
	p := &dbProxy{t: t, target: target, addr: "127.0.0.1:0", conns: map[net.Conn]bool{}}
	p.up()
	p.addr = p.ln.Addr().String()
	t.Cleanup(p.down)
	return p
}

// up listens again, on the same port.
func (p *dbProxy) up() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy listen on %s: %v", p.addr, err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
}

func (p *dbProxy) serve(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // cut while dialing
		p.mu.Unlock()
		c.Close()
		s.Close()
		return
	}
	p.conns[c], p.conns[s] = true, true
	p.mu.Unlock()
	go func() { _, _ = io.Copy(s, c); s.Close() }()
	_, _ = io.Copy(c, s)
	c.Close()
}

// down closes the listener and every connection: the database is gone.
func (p *dbProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

// unavailableText is what a SERVICE_UNAVAILABLE answer must not contain.
var unavailableText = []string{"pq:", "dial", "tcp", "refused", "eof", "127.0.0.1", "sql", "connection reset", "broken pipe"}

func TestDatabaseUnreachable(t *testing.T) {
	t.Parallel()
	direct := dbtest.NewURL(t)
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startProxy(t, u.Host)
	u.Host = proxy.addr
	e := newEnvAt(t, u.String())
	id := e.createTenant("Outage Co", "outage.example.com")
	key := e.createKey(id, "TENANT_READ", "API_KEYS_WRITE")
	e.mustGQL(key, `{ me { name } }`, nil, nil)

	proxy.down()
	// A client that gives up rather than hang: every answer below must come
	// back well within it.
	client := &http.Client{Timeout: 10 * time.Second}
	send := func(t *testing.T, token, query string, header map[string]string) *result {
		t.Helper()
		req := newHTTPRequest(t, e, http.MethodPost, "/graphql", gqlBody(query), header)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("no answer while the database is down: %v", err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		r := &result{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
		if err := json.Unmarshal(raw, r); err != nil {
			t.Fatalf("not JSON: %s", raw)
		}
		return r
	}
	wantUnavailable := func(t *testing.T, r *result, status int) {
		t.Helper()
		if r.Status != status || r.Code() != "SERVICE_UNAVAILABLE" {
			t.Fatalf("status %d: %s; want %d SERVICE_UNAVAILABLE", r.Status, r.Raw, status)
		}
		for _, s := range unavailableText {
			if strings.Contains(strings.ToLower(r.Errors[0].Message), s) {
				t.Errorf("message %q shows %q", r.Errors[0].Message, s)
			}
		}
	}
	idemKey := newIdempotencyKey()

	t.Run("ErrReadyz", func(t *testing.T) {
		resp, err := client.Get(e.srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("/readyz = %d, want 503", resp.StatusCode)
		}
	})
	t.Run("ErrAPIKeyIs503NotUnauthenticated", func(t *testing.T) {
		// The key cannot be checked: that is an outage, not a bad key.
		wantUnavailable(t, send(t, key, `{ me { name } }`, nil), http.StatusServiceUnavailable)
	})
	t.Run("ErrAdminQuery", func(t *testing.T) {
		wantUnavailable(t, send(t, testAdminSecret, fmt.Sprintf(`{ tenant(id: %q) { name } }`, id), nil), http.StatusOK)
	})
	t.Run("ErrMutationWithIdempotencyKey", func(t *testing.T) {
		wantUnavailable(t, send(t, testAdminSecret, fmt.Sprintf(`mutation { updateTenant(input: {tenantId: %q, name: "Renamed"}) { tenant { name } } }`, id),
			map[string]string{"Idempotency-Key": idemKey}), http.StatusServiceUnavailable)
	})

	proxy.up()
	t.Run("OK/resumes", func(t *testing.T) {
		ready := false
		for range 100 {
			resp, err := client.Get(e.srv.URL + "/readyz")
			if err == nil {
				resp.Body.Close()
				if ready = resp.StatusCode == http.StatusOK; ready {
					break
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		if !ready {
			t.Fatal("/readyz did not come back after the database returned")
		}
		var me struct{ Me struct{ Name string } }
		send(t, key, `{ me { name } }`, nil).Decode(t, &me)
		if me.Me.Name != "Outage Co" {
			t.Errorf("me = %+v after the outage", me)
		}
		// The key that failed during the outage was released: the retry runs.
		r := send(t, testAdminSecret, fmt.Sprintf(`mutation { updateTenant(input: {tenantId: %q, name: "Renamed"}) { tenant { name } } }`, id),
			map[string]string{"Idempotency-Key": idemKey})
		if r.Status != http.StatusOK || r.Code() != "" || r.Header.Get("Idempotent-Replayed") != "" || !strings.Contains(string(r.Raw), "Renamed") {
			t.Errorf("retry after the outage: %d %s (replayed %q)", r.Status, r.Raw, r.Header.Get("Idempotent-Replayed"))
		}
	})
}

// TestDatabaseTerminatedUnderLoad cuts every connection of the test
// database with pg_terminate_backend, again and again, while clients create
// API keys concurrently, each retrying with its Idempotency-Key until it
// gets an answer. Afterwards every acknowledged key exists with the id the
// client was given, and no key exists twice.
func TestDatabaseTerminatedUnderLoad(t *testing.T) {
	t.Parallel()
	direct := dbtest.NewURL(t)
	u, _ := url.Parse(direct)
	dbName := strings.TrimPrefix(u.Path, "/")
	e := newEnvAt(t, direct)
	raw := openRaw(t, direct)
	admin := openRaw(t, dbtest.AdminURL(t))
	id := e.createTenant("Load Co", "load.example.com")
	key := e.createKey(id, "TENANT_READ", "API_KEYS_WRITE")

	const workers, writesEach = 4, 10
	var (
		stop        = make(chan struct{})
		killerDone  = make(chan struct{})
		terminated  atomic.Int64
		rounds      atomic.Int64
		mu          sync.Mutex
		acked       = map[string]string{} // key name -> id the client was given
		unknown     []string              // names whose outcome the API could not tell
		failures    = map[string]int{}    // failed attempts by code
		unexpected  []string
		wg          sync.WaitGroup
		httpClient  = &http.Client{Timeout: 20 * time.Second}
		giveUpAfter = 30 * time.Second
	)
	go func() {
		defer close(killerDone)
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			var n int64
			if err := admin.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
				WHERE datname = $1 AND pid <> pg_backend_pid()`, dbName).Scan(&n); err == nil {
				terminated.Add(n)
				rounds.Add(1)
			}
		}
	}()
	for w := range workers {
		wg.Go(func() {
			for i := range writesEach {
				name := fmt.Sprintf("load-%d-%d", w, i)
				idem := newIdempotencyKey()
				body := gqlBody(fmt.Sprintf(`mutation { createApiKey(input: {name: %q, permissions: [TENANT_READ]}) { apiKey { id name } } }`, name))
				deadline := time.Now().Add(giveUpAfter)
				for {
					req := newHTTPRequest(t, e, http.MethodPost, "/graphql", body, map[string]string{"Authorization": "Bearer " + key, "Idempotency-Key": idem})
					resp, err := httpClient.Do(req)
					code := "TRANSPORT"
					var r result
					if err == nil {
						b, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						r = result{Status: resp.StatusCode, Raw: b}
						if json.Unmarshal(b, &r) == nil {
							code = r.Code()
						}
					}
					if err == nil && resp.StatusCode == http.StatusOK && code == "" {
						var out struct {
							CreateApiKey struct{ ApiKey struct{ ID, Name string } }
						}
						if json.Unmarshal(r.Data, &out) == nil && out.CreateApiKey.ApiKey.Name == name {
							mu.Lock()
							acked[name] = out.CreateApiKey.ApiKey.ID
							mu.Unlock()
							break
						}
						code = "BAD_PAYLOAD"
					}
					mu.Lock()
					failures[code]++
					mu.Unlock()
					switch {
					case code == "CONFLICT" && strings.Contains(string(r.Raw), "response was lost"):
						mu.Lock()
						unknown = append(unknown, name)
						mu.Unlock()
					case code == "SERVICE_UNAVAILABLE" || code == "CONFLICT" || code == "TRANSPORT":
						if time.Now().Before(deadline) {
							time.Sleep(50 * time.Millisecond)
							continue
						}
						mu.Lock()
						unknown = append(unknown, name)
						mu.Unlock()
					default:
						mu.Lock()
						unexpected = append(unexpected, fmt.Sprintf("%s: %d %s", name, r.Status, r.Raw))
						mu.Unlock()
					}
					break
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	<-killerDone

	// What the database holds, read directly.
	stored := map[string][]string{}
	rows, err := raw.Query(`SELECT name, id FROM api_keys WHERE tenant_id = $1 AND name LIKE 'load-%'`, id)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name, kid string
		if err := rows.Scan(&name, &kid); err != nil {
			t.Fatal(err)
		}
		stored[name] = append(stored[name], kid)
	}
	rows.Close()
	lost, duplicated := 0, 0
	for name, kid := range acked {
		if got := stored[name]; len(got) == 0 || got[0] != kid {
			lost++
			t.Errorf("acknowledged key %s (%s) is stored as %v", name, kid, got)
		}
	}
	for name, ids := range stored {
		if len(ids) > 1 {
			duplicated++
			t.Errorf("key %s was created %d times: %v", name, len(ids), ids)
		}
	}
	var audited, auditedKeys int
	if err := raw.QueryRow(`SELECT count(*), count(DISTINCT target_id) FROM audit_log WHERE tenant_id = $1 AND action = 'createApiKey'
		AND changes -> 'name' ->> 'after' LIKE 'load-%'`, id).Scan(&audited, &auditedKeys); err != nil {
		t.Fatal(err)
	}
	storedKeys := 0
	for _, ids := range stored {
		storedKeys += len(ids)
	}
	if audited != storedKeys || auditedKeys != storedKeys {
		t.Errorf("%d audit entries for %d distinct keys, want one per stored key (%d)", audited, auditedKeys, storedKeys)
	}
	for _, u := range unexpected {
		t.Errorf("unexpected answer: %s", u)
	}
	t.Logf("%d writes by %d clients; %d connections terminated in %d rounds; acknowledged %d, lost %d, duplicated %d, outcome unknown %d (%v); failed attempts by code: %v",
		workers*writesEach, workers, terminated.Load(), rounds.Load(), len(acked), lost, duplicated, len(unknown), unknown, failures)
	if len(acked)+len(unknown) != workers*writesEach {
		t.Errorf("%d acknowledged + %d unknown, want %d answered", len(acked), len(unknown), workers*writesEach)
	}
	for _, name := range unknown {
		if len(stored[name]) > 1 {
			t.Errorf("key %s with an unknown outcome is stored %d times", name, len(stored[name]))
		}
	}
	if terminated.Load() == 0 {
		t.Errorf("no connection was terminated: the test proved nothing")
	}
}
