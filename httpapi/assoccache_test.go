package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestAssocCacheNoStaleRead runs two servers over one database, each with
// its own association cache, and checks read-after-write across them under
// concurrent writes: once a write has been answered by one instance, every
// read that starts afterwards, on either instance, shows it (or something
// newer), whether through a tenant's key (me) or the operator's list.
// Readers hammer both instances meanwhile, so the caches are full of
// entries from before each write.
func TestAssocCacheNoStaleRead(t *testing.T) {
	t.Parallel()
	a := newEnv(t)
	b := buildEnv(t, envOptions{dbURL: a.url})
	id := a.createTenant("Cached", "cached.example.com")
	key := a.createKey(id, "TENANT_READ", "TENANT_UPDATE", "KEYWORDS_READ", "KEYWORDS_UPDATE", "USAGE_WRITE", "BILLING_READ")
	servers := []*env{a, b}

	const home = `{ me { settings { auditLogRetentionDays version } keywords { version }
		usage { interactionsThisMonth } accountStatus { subscription { status } requiresPayment } } }`
	type homeData struct {
		Me struct {
			Settings struct{ AuditLogRetentionDays, Version int }
			Keywords struct{ Version int }
			Usage    struct{ InteractionsThisMonth int }
		}
	}
	const list = `{ tenants(first: 20) { nodes { id settings { auditLogRetentionDays version } usage { interactionsThisMonth } } } }`
	type listData struct {
		Tenants struct {
			Nodes []struct {
				ID       string
				Settings struct{ AuditLogRetentionDays, Version int }
				Usage    struct{ InteractionsThisMonth int }
			}
		}
	}

	// What has been acknowledged so far: a read started later must show
	// at least this.
	var settingsV, keywordsV, interactions atomic.Int64
	check := func(who string, s *env) {
		var h homeData
		sv, kv, n := settingsV.Load(), keywordsV.Load(), interactions.Load() // before the read starts
		s.mustGQL(key, home, nil, &h)
		if int64(h.Me.Settings.Version) < sv ||
			int64(h.Me.Keywords.Version) < kv || int64(h.Me.Usage.InteractionsThisMonth) < n {
			t.Errorf("%s: stale home: settings v%d (acknowledged v%d), keywords v%d (v%d), interactions %d (%d)",
				who, h.Me.Settings.Version, sv, h.Me.Keywords.Version, kv, h.Me.Usage.InteractionsThisMonth, n)
		}
		var l listData
		sv, n = settingsV.Load(), interactions.Load()
		s.mustGQL(testAdminSecret, list, nil, &l)
		for _, node := range l.Tenants.Nodes {
			if node.ID == id && (int64(node.Settings.Version) < sv || int64(node.Usage.InteractionsThisMonth) < n) {
				t.Errorf("%s: stale list: settings v%d (acknowledged v%d), interactions %d (%d)", who, node.Settings.Version, sv, node.Usage.InteractionsThisMonth, n)
			}
		}
	}

	stop := make(chan struct{})
	var readers sync.WaitGroup
	for i := range 4 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				check(fmt.Sprintf("reader %d", i), servers[i%2])
			}
		})
	}

	for i := range 30 {
		w, r := servers[i%2], servers[(i+1)%2]
		switch i % 3 {
		case 0:
			var out struct {
				UpdateTenantSettings struct{ Settings struct{ Version int } }
			}
			w.mustGQL(key, `mutation($d: Int!) { updateTenantSettings(input: {auditLogRetentionDays: $d}) { settings { version } } }`,
				map[string]any{"d": 100 + i}, &out)
			settingsV.Store(int64(out.UpdateTenantSettings.Settings.Version))
		case 1:
			var out struct {
				UpdateKeywords struct{ Keywords struct{ Version int } }
			}
			w.mustGQL(key, `mutation($k: [String!]!) { updateKeywords(input: {keywords: $k}) { keywords { version } } }`,
				map[string]any{"k": []string{fmt.Sprintf("word %d", i)}}, &out)
			keywordsV.Store(int64(out.UpdateKeywords.Keywords.Version))
		case 2:
			var out struct{ RecordUsage struct{ Accepted int } }
			w.mustGQL(key, `mutation($e: [UsageEventInput!]!) { recordUsage(input: {events: $e}) { accepted } }`,
				map[string]any{"e": []map[string]any{{"id": fmt.Sprintf("ev-%d", i), "occurredAt": time.Now().UTC().Format(time.RFC3339),
					"userId": "u1", "platform": "chatgpt", "outcome": "LOGGED", "riskLevel": "LOW"}}}, &out)
			interactions.Add(int64(out.RecordUsage.Accepted))
		}
		// At once, on the other instance.
		check(fmt.Sprintf("after write %d", i), r)
	}
	close(stop)
	readers.Wait()

	for i, s := range servers {
		st := s.store.AssocCacheStats()
		t.Logf("instance %d: %+v", i, st)
		if st.Hits == 0 || st.Misses == 0 {
			t.Errorf("instance %d: the test did not exercise the cache: %+v", i, st)
		}
	}
}

// TestConditionalGET checks ETags on GET queries: the same answer gives the
// same tag and, when the client names it, 304 without a body; a write, on
// another instance, changes the answer and so the tag; a query with errors
// gets none.
func TestConditionalGET(t *testing.T) {
	t.Parallel()
	a := newEnv(t)
	b := buildEnv(t, envOptions{dbURL: a.url})
	id := a.createTenant("Polled", "polled.example.com")
	key := a.createKey(id, "TENANT_READ", "TENANT_UPDATE")
	get := func(e *env, query, etag string) *result {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/graphql?query="+url.QueryEscape(query), nil)
		req.Header.Set("Authorization", "Bearer "+key)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		return e.do(req)
	}
	const home = `{ me { name settings { auditLogRetentionDays version } } }`

	first := get(a, home, "")
	tag := first.Header.Get("ETag")
	if first.Status != http.StatusOK || tag == "" || first.Header.Get("Cache-Control") != "private, no-cache" {
		t.Fatalf("first GET: status %d, ETag %q, Cache-Control %q: %s", first.Status, tag, first.Header.Get("Cache-Control"), first.Raw)
	}
	t.Run("NotModified", func(t *testing.T) {
		for _, e := range []*env{a, b} {
			r := get(e, home, tag)
			if r.Status != http.StatusNotModified || len(r.Raw) != 0 || r.Header.Get("ETag") != tag {
				t.Errorf("status %d, ETag %q (want 304, %q), body %q", r.Status, r.Header.Get("ETag"), tag, r.Raw)
			}
		}
	})
	t.Run("OtherTag", func(t *testing.T) {
		if r := get(a, home, `"something else"`); r.Status != http.StatusOK || r.Header.Get("ETag") != tag {
			t.Errorf("status %d, ETag %q: %s", r.Status, r.Header.Get("ETag"), r.Raw)
		}
	})
	t.Run("ChangedAfterWrite", func(t *testing.T) {
		b.mustGQL(key, `mutation { updateTenantSettings(input: {auditLogRetentionDays: 123}) { settings { version } } }`, nil, nil)
		r := get(a, home, tag)
		if r.Status != http.StatusOK || r.Header.Get("ETag") == tag || !strings.Contains(string(r.Raw), `"auditLogRetentionDays":123`) {
			t.Errorf("after a write: status %d, ETag %q (before: %q): %s", r.Status, r.Header.Get("ETag"), tag, r.Raw)
		}
	})
	t.Run("NoTagOnErrors", func(t *testing.T) {
		r := get(a, `{ tenant(id: "00000000-0000-0000-0000-000000000001") { id } }`, "")
		if len(r.Errors) == 0 || r.Header.Get("ETag") != "" {
			t.Errorf("errors %v, ETag %q", r.Errors, r.Header.Get("ETag"))
		}
	})
}
