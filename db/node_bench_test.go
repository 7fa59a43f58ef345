package db_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jmoiron/sqlx"

	"tenantapi/db"
	"tenantapi/db/dbtest"
	"tenantapi/tenant"
)

// BenchmarkNodeLookup measures node(id:)'s reads against a real PostgreSQL
// (TEST_DATABASE_URL): db.NodeRefs (the UNION ALL over every Node table)
// and db.Nodes (the object's own read), for a key confined to its tenant
// and for the operator, whose lookup is by id alone, for an id found (an
// event: the largest table) and one found nowhere, and for nodes(ids:) of
// 100 ids. 200 tenants with 500 events and 500 deliveries each (100,000 of
// each) stand for a populated database; every branch of the UNION ALL is
// one index probe, so the size matters little (docs/architecture.md,
// Global object identification, gives the figures and the plan).
func BenchmarkNodeLookup(b *testing.B) {
	url := dbtest.NewURL(b)
	store, err := db.Open(context.Background(), url, db.Options{MaxOpenConns: 4})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	admin := tenant.WithActor(context.Background(), &tenant.Actor{Kind: tenant.Admin})
	ids := make([]string, 200)
	for i := range ids {
		t, err := store.CreateTenant(admin, tenant.CreateTenant{Name: fmt.Sprintf("Node %d", i), Domain: fmt.Sprintf("n%d.example.com", i), PlanID: "starter"})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = t.ID
	}
	raw, err := sqlx.Open("postgres", url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Close() })
	for _, q := range []string{
		`SET session_replication_role = replica`, // no triggers: rows only
		`INSERT INTO events (tenant_id, id, type, at, actor, action, payload)
			SELECT t.id, uuid7(now() - n * interval '1 second'), 'settings.updated', now(), 'admin', 'bench', '{}'
			FROM tenants t, generate_series(1, 500) AS n`,
		`INSERT INTO webhook_deliveries (tenant_id, id, event_id, url, created_at, next_attempt_at, updated_at)
			SELECT e.tenant_id, uuid7(e.at), e.id, 'https://hooks.example.com/', e.at, e.at, e.at FROM events e`,
		`ANALYZE`,
	} {
		if _, err := raw.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	var own []string
	if err := raw.Select(&own, `SELECT id::text FROM events WHERE tenant_id = $1 ORDER BY id LIMIT 100`, ids[7]); err != nil {
		b.Fatal(err)
	}
	key := tenant.WithActor(context.Background(), &tenant.Actor{Kind: tenant.APIKey, TenantID: ids[7], Permissions: tenant.AllPermissions})
	const unknown = "0190a0b0-0000-7000-8000-000000000000"
	b.Run("baseline/tenant", func(b *testing.B) { // tenant(id:): one primary-key read, for comparison
		for b.Loop() {
			if _, err := store.Tenant(key, ids[7]); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, c := range []struct {
		name string
		ctx  context.Context
		ids  []string
		want int
	}{
		{"key/found", key, own[:1], 1},
		{"key/unknown", key, []string{unknown}, 0},
		{"admin/found", admin, own[:1], 1},
		{"admin/unknown", admin, []string{unknown}, 0},
		{"key/nodes100", key, own, 100},
	} {
		b.Run(c.name, func(b *testing.B) {
			start := store.Statements.Load()
			b.ReportAllocs()
			for b.Loop() {
				refs, err := store.NodeRefs(c.ctx, c.ids)
				if err != nil || len(refs) != c.want {
					b.Fatalf("NodeRefs: %d refs, %v; want %d", len(refs), err, c.want)
				}
				if len(refs) == 0 {
					continue
				}
				if objs, err := store.Nodes(c.ctx, refs); err != nil || len(objs) != c.want {
					b.Fatalf("Nodes: %d, %v", len(objs), err)
				}
			}
			b.ReportMetric(float64(store.Statements.Load()-start)/float64(b.N), "stmts/op")
		})
	}
}
