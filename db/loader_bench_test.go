package db_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"tenantapi/db"
	"tenantapi/db/dbtest"
	"tenantapi/tenant"
)

// BenchmarkLoaderBatch measures the loader batches the admin list runs
// (one statement each for a page of 100 tenants), against a real
// PostgreSQL (TEST_DATABASE_URL, as `make test` sets it). Each op is one
// batch for all 100 tenants; stmts/op shows it stays one statement.
func BenchmarkLoaderBatch(b *testing.B) {
	store := dbtest.New(b)
	ctx := tenant.WithActor(context.Background(), &tenant.Actor{Kind: tenant.Admin})
	plans := []string{"starter", "professional", "enterprise"}
	ids := make([]string, 100)
	for i := range ids {
		t, err := store.CreateTenant(ctx, tenant.CreateTenant{Name: fmt.Sprintf("Bench %d", i), Domain: fmt.Sprintf("b%d.example.com", i), PlanID: plans[i%3]})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = t.ID
	}
	if _, err := store.RunBilling(ctx, time.Now().UTC().Format("2006-01")); err != nil {
		b.Fatal(err)
	}
	batches := []struct {
		name string
		run  func() []error
	}{
		{"settings", func() []error { _, errs := store.SettingsByTenant(ctx, ids); return errs }},
		{"usage", func() []error { _, errs := store.UsageByTenant(ctx, ids); return errs }},
		{"billing", func() []error { _, errs := store.BillingByTenant(ctx, ids); return errs }},
		{"invoices", func() []error { _, errs := store.InvoicePagesByTenant(ctx, ids, db.Forward(3, ""), true); return errs }},
		// The four as the list's prefetch runs them: one combined statement
		// (db.Combiner) and its scan.
		{"combined", func() []error {
			wg, cctx := store.Combine(ctx)
			var errs [4][]error
			wg.Go(func() { _, errs[0] = store.SettingsByTenant(cctx, ids) })
			wg.Go(func() { _, errs[1] = store.UsageByTenant(cctx, ids) })
			wg.Go(func() { _, errs[2] = store.BillingByTenant(cctx, ids) })
			wg.Go(func() { _, errs[3] = store.InvoicePagesByTenant(cctx, ids, db.Forward(3, ""), true) })
			wg.Wait()
			return slices.Concat(errs[:]...)
		}},
	}
	for _, batch := range batches {
		b.Run(batch.name, func(b *testing.B) {
			start := store.Statements.Load()
			b.ReportAllocs()
			for b.Loop() {
				for _, err := range batch.run() {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(store.Statements.Load()-start)/float64(b.N), "stmts/op")
		})
	}
}
