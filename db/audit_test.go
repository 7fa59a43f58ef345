package db_test

import (
	"context"
	"testing"

	"github.com/jmoiron/sqlx"

	"tenantapi/db"
	"tenantapi/db/dbtest"
	"tenantapi/tenant"
)

// TestAuditSummary checks the explicit entry a many-row change writes
// instead of row entries (recordUsage's batch): in a transaction run with
// withRowAuditOff, the row triggers stay silent and auditEvent's summary,
// with the transaction's actor, action and request id, is its one entry.
func TestAuditSummary(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	store, err := db.Open(context.Background(), url, dbtest.Options(db.Options{MaxOpenConns: 2}))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	admin := tenant.WithActor(context.Background(), &tenant.Actor{Kind: tenant.Admin})
	tn, err := store.CreateTenant(admin, tenant.CreateTenant{Name: "Summed", Domain: "summed.example.com", PlanID: "starter"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := tenant.WithRequestID(tenant.WithAction(admin, "recordUsage"), "batch-1")
	err = store.InTxForTest(ctx, true, func(tx sqlx.ExtContext) error {
		for range 3 {
			if _, err := tx.ExecContext(ctx, `UPDATE tenant_settings SET version = version + 1 WHERE tenant_id = $1`, tn.ID); err != nil {
				return err
			}
		}
		return db.AuditEventForTest(ctx, tx, tn.ID, "usage_daily", tn.ID, map[string]db.AuditValue{"interactions": {Before: 10, After: 13}})
	})
	if err != nil {
		t.Fatal(err)
	}
	pages, errs := store.AuditLogByTenant(admin, tenant.AuditQuery{Page: db.Forward(10, ""), Filter: tenant.AuditFilter{Actions: []string{"recordUsage"}}}, []string{tn.ID})
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	got := pages[0].Entries
	if len(got) != 1 {
		t.Fatalf("%d entries, want the one summary", len(got))
	}
	e := got[0]
	changes, err := e.Changes()
	if err != nil {
		t.Fatal(err)
	}
	if e.Operation != tenant.AuditEvent || e.Actor != "admin" || e.Table != "usage_daily" || str(e.RequestID) != "batch-1" ||
		len(changes) != 1 || changes[0].Field != "interactions" || string(changes[0].Before) != "10" || string(changes[0].After) != "13" {
		t.Errorf("summary = %+v, changes %+v", e, changes)
	}
	// The next transaction on the pool audits rows again.
	if _, err := store.UpdateSettings(admin, tn.ID, tenant.SettingsPatch{DeduplicateTokens: new(bool)}); err != nil {
		t.Fatal(err)
	}
	n, _ := store.CountAuditByTenant(admin, tenant.AuditFilter{Actions: []string{"tenant_settings.update"}}, []string{tn.ID})
	if n[0] != 1 {
		t.Errorf("%d row entries for the next change, want 1", n[0])
	}
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}
