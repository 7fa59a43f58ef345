package httpapi_test

import (
	"fmt"
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
