package db_test

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"tenantapi/db"
	"tenantapi/db/dbtest"
	"tenantapi/keyring"
	"tenantapi/tenant"
)

// TestCombinedBatchesMatchAlone runs every loader batch of the demo tenant
// (and of a tenant that does not exist) alone, then all together through
// one Combiner, and requires the same values and errors: the combined
// statement's rows are scanned exactly as sqlx scans a batch's own.
func TestCombinedBatchesMatchAlone(t *testing.T) {
	store, id := demoStore(t)
	admin := tenant.WithActor(context.Background(), &tenant.Actor{Kind: tenant.Admin})
	ids := []string{id, "7d9f1c2e-5b4a-4c3d-8e2f-1a0b9c8d7e6f", "not-a-uuid"} // the demo tenant, a missing one, a malformed one
	today := tenant.DateOf(time.Now())
	stats := tenant.StatsQuery{Start: today.AddDays(-29), End: today, Granularity: tenant.ByDay}
	weekly := tenant.StatsQuery{Start: today.AddDays(-90), End: today, Granularity: tenant.ByWeek, Distinct: true}
	batches := map[string]func(ctx context.Context) any{
		"settings": func(ctx context.Context) any { return pair(store.SettingsByTenant(ctx, ids)) },
		"plans": func(ctx context.Context) any {
			return pair(store.PlansByID(ctx, []string{"starter", "enterprise", "none"}))
		},
		"usage": func(ctx context.Context) any { return pair(store.UsageByTenant(ctx, ids)) },
		"apiKeys": func(ctx context.Context) any {
			return pair(store.APIKeyPagesByTenant(ctx, ids, db.Forward(5, ""), true))
		},
		"apiKeyCounts":  func(ctx context.Context) any { return pair(store.APIKeyCountsByTenant(ctx, ids, false)) },
		"sso":           func(ctx context.Context) any { return pair(store.SSOByTenant(ctx, ids)) },
		"notifications": func(ctx context.Context) any { return pair(store.NotificationChannelsByTenant(ctx, ids)) },
		"keywords":      func(ctx context.Context) any { return pair(store.KeywordsByTenant(ctx, ids)) },
		"industries":    func(ctx context.Context) any { return pair(store.IndustriesByTenant(ctx, ids)) },
		"riskMatrix":    func(ctx context.Context) any { return pair(store.RiskMatricesByTenant(ctx, ids)) },
		"websiteConfig": func(ctx context.Context) any { return pair(store.WebsiteConfigsByTenant(ctx, ids)) },
		"watchlist":     func(ctx context.Context) any { return pair(store.WatchlistByTenant(ctx, ids)) },
		"billing":       func(ctx context.Context) any { return pair(store.BillingByTenant(ctx, ids)) },
		"invoices": func(ctx context.Context) any {
			return pair(store.InvoicePagesByTenant(ctx, ids, db.Forward(5, ""), true))
		},
		"invoicesLite": func(ctx context.Context) any {
			return pair(store.InvoicePagesByTenant(ctx, ids, db.Forward(5, ""), false))
		},
		"invoiceCounts": func(ctx context.Context) any { return pair(store.InvoiceCountsByTenant(ctx, ids)) },
		"credits":       func(ctx context.Context) any { return pair(store.CreditsByTenant(ctx, ids)) },
		"quota":         func(ctx context.Context) any { return pair(store.QuotaByTenant(ctx, ids)) },
		"usageReport":   func(ctx context.Context) any { return pair(store.UsageReportsByTenant(ctx, ids)) },
		"stats":         func(ctx context.Context) any { return pair(store.StatsByTenant(ctx, stats, ids)) },
		"statsWeekly":   func(ctx context.Context) any { return pair(store.StatsByTenant(ctx, weekly, ids)) },
		"auditLog": func(ctx context.Context) any {
			return pair(store.AuditLogByTenant(ctx, tenant.AuditQuery{Page: db.Forward(10, "")}, ids))
		},
		"auditCount": func(ctx context.Context) any { return pair(store.CountAuditByTenant(ctx, tenant.AuditFilter{}, ids)) },
	}

	alone := map[string]any{}
	before := store.Statements.Load()
	for name, f := range batches {
		alone[name] = f(admin)
	}
	aloneStatements := store.Statements.Load() - before

	combined := map[string]any{}
	var mu sync.Mutex
	before = store.Statements.Load()
	c, ctx := store.Combine(admin)
	for name, f := range batches {
		c.Go(func() {
			v := f(ctx)
			mu.Lock()
			combined[name] = v
			mu.Unlock()
		})
	}
	c.Wait()
	combinedStatements := store.Statements.Load() - before

	for name := range batches {
		if !reflect.DeepEqual(alone[name], combined[name]) {
			t.Errorf("%s: combined\n%#v\nalone\n%#v", name, combined[name], alone[name])
		}
	}
	t.Logf("statements: %d alone, %d combined", aloneStatements, combinedStatements)
	if combinedStatements != 1 {
		t.Errorf("combined batches ran %d statements, want 1", combinedStatements)
	}
}

// TestCombinerScope: a tenant key's combined batches see its own tenant
// only, exactly as alone.
func TestCombinerScope(t *testing.T) {
	store, id := demoStore(t)
	other := "7d9f1c2e-5b4a-4c3d-8e2f-1a0b9c8d7e6f" // not the demo tenant
	key := tenant.WithActor(context.Background(), &tenant.Actor{Kind: tenant.APIKey, TenantID: other, Permissions: []tenant.Permission{tenant.PermTenantRead, tenant.PermBillingRead}})
	c, ctx := store.Combine(key)
	var settingsErr, billingErr error
	c.Go(func() { _, errs := store.SettingsByTenant(ctx, []string{id}); settingsErr = errs[0] })
	c.Go(func() { _, errs := store.BillingByTenant(ctx, []string{id}); billingErr = errs[0] })
	c.Wait()
	if tenant.ErrorCode(settingsErr) != tenant.ENOTFOUND || tenant.ErrorCode(billingErr) != tenant.ENOTFOUND {
		t.Fatalf("another tenant's rows through a combined statement: settings %v, billing %v", settingsErr, billingErr)
	}
}

// TestCombinerWithoutBatches: goroutines that select nothing, or a batch
// started after the statement ran, neither block nor fail.
func TestCombinerWithoutBatches(t *testing.T) {
	store := dbtest.New(t)
	admin := tenant.WithActor(context.Background(), &tenant.Actor{Kind: tenant.Admin})
	c, ctx := store.Combine(admin)
	c.Go(func() {})
	c.Wait()
	vals, errs := store.PlansByID(ctx, []string{"starter"})
	if errs[0] != nil || vals[0].ID != "starter" {
		t.Fatalf("a batch after the combined statement: %v %v", vals, errs)
	}
}

// TestCombinerPanic: a batch goroutine that panics ends alone; the others
// still get their rows, and nothing waits forever.
func TestCombinerPanic(t *testing.T) {
	store := dbtest.New(t)
	admin := tenant.WithActor(context.Background(), &tenant.Actor{Kind: tenant.Admin})
	c, ctx := store.Combine(admin)
	var plans []*tenant.Plan
	c.Go(func() { panic("a broken batch") })
	c.Go(func() { plans, _ = store.PlansByID(ctx, []string{"starter"}) })
	c.Wait()
	if len(plans) != 1 || plans[0].ID != "starter" {
		t.Fatalf("plans after a panicking batch: %v", plans)
	}
}

// TestCombinerWithoutPreparedStatements: with Options.NoPrepare (behind
// PgBouncer in transaction mode) the combined statement runs unprepared on
// the one pool, with the same results.
func TestCombinerWithoutPreparedStatements(t *testing.T) {
	store, err := db.Open(context.Background(), dbtest.NewURL(t), db.Options{MaxOpenConns: 2, NoPrepare: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	admin := tenant.WithActor(context.Background(), &tenant.Actor{Kind: tenant.Admin})
	c, ctx := store.Combine(admin)
	var plans []*tenant.Plan
	var usageErr error
	c.Go(func() { plans, _ = store.PlansByID(ctx, []string{"enterprise", "starter"}) })
	c.Go(func() {
		_, errs := store.UsageByTenant(ctx, []string{"7d9f1c2e-5b4a-4c3d-8e2f-1a0b9c8d7e6f"})
		usageErr = errs[0]
	})
	before := store.Statements.Load()
	c.Wait()
	if n := store.Statements.Load() - before; n != 1 {
		t.Errorf("%d statements, want 1", n)
	}
	if len(plans) != 2 || plans[0].ID != "enterprise" || plans[1].ID != "starter" || usageErr != nil {
		t.Fatalf("plans %v, usage: %v", plans, usageErr)
	}
}

// demoStore is a fresh database with the demo tenant (every area
// configured), and that tenant's id.
func demoStore(t *testing.T) (*db.Store, string) {
	t.Helper()
	store := dbtest.New(t)
	ring, _ := keyring.Parse(keyring.Generate("t"))
	store.Sealer = ring
	id, _, err := store.SeedDemo(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	store.WaitBackground()
	return store, id
}

func pair[V any](vals []V, errs []error) [2]any { return [2]any{vals, errs} }

// TestInvoicePagesWithoutSnapshot: a page read without the snapshots has
// the same invoices, each marked as read without it, and reading a
// snapshot of one is refused loudly rather than answered with zeros.
func TestInvoicePagesWithoutSnapshot(t *testing.T) {
	store, id := demoStore(t)
	admin := tenant.WithActor(context.Background(), &tenant.Actor{Kind: tenant.Admin})
	full, errs := store.InvoicePagesByTenant(admin, []string{id}, db.Forward(5, ""), true)
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	lite, errs := store.InvoicePagesByTenant(admin, []string{id}, db.Forward(5, ""), false)
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	if len(full[0].Invoices) == 0 || len(lite[0].Invoices) != len(full[0].Invoices) {
		t.Fatalf("%d invoices with snapshots, %d without", len(full[0].Invoices), len(lite[0].Invoices))
	}
	for i, inv := range lite[0].Invoices {
		f := *full[0].Invoices[i]
		if f.SnapshotOmitted || len(f.Lines()) == 0 {
			t.Fatalf("full page: invoice %s without its snapshot", f.Number)
		}
		if !inv.SnapshotOmitted {
			t.Errorf("invoice %s: read without its snapshot but not marked", inv.Number)
		}
		f.Snapshot, f.SnapshotOmitted = tenant.InvoiceSnapshot{}, true
		if !reflect.DeepEqual(*inv, f) {
			t.Errorf("invoice %d differs beyond its snapshot:\n%#v\n%#v", i, *inv, f)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("invoice %s: Lines() of an invoice read without its snapshot did not panic", inv.Number)
				}
			}()
			_ = inv.Lines()
		}()
	}
}
