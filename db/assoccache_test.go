package db_test

import (
	"context"
	"testing"

	"github.com/jmoiron/sqlx"

	"tenantapi/db"
	"tenantapi/db/dbtest"
	"tenantapi/tenant"
)

// TestTenantVersionTriggers checks that every table holding a tenant's
// rows changes the tenant's version when written (the association cache's
// exactness rests on it): a table added later without
// tenant_version_attach fails here.
func TestTenantVersionTriggers(t *testing.T) {
	t.Parallel()
	store := dbtest.New(t)
	var missing []string
	err := sqlx.SelectContext(context.Background(), store.QForTest(), &missing, `
		SELECT c.table_name FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
		  AND ((c.column_name = 'tenant_id' AND c.table_name <> 'tenant_versions') OR c.table_name IN ('tenants', 'plans'))
		  AND NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = (quote_ident(c.table_name))::regclass AND g.tgname = 'tenant_version')
		GROUP BY c.table_name ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Errorf("tables without the tenant_version trigger (call tenant_version_attach in their migration): %v", missing)
	}
}

// TestTenantVersions checks what changes a tenant's version, read as the
// reads that start a request read it: a write of any of its rows (once per
// transaction, at commit), not another tenant's, not an API key's use; and
// a plan's change moves the shared version.
func TestTenantVersions(t *testing.T) {
	t.Parallel()
	store := dbtest.New(t)
	admin := tenant.WithActor(context.Background(), &tenant.Actor{Kind: tenant.Admin})
	a, err := store.CreateTenant(admin, tenant.CreateTenant{Name: "Versioned", Domain: "versioned.example.com", PlanID: "starter"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := store.CreateTenant(admin, tenant.CreateTenant{Name: "Other", Domain: "other.example.com", PlanID: "starter"})
	if err != nil {
		t.Fatal(err)
	}
	read := func() *tenant.Tenant {
		t.Helper()
		tn, err := store.Tenant(admin, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if tn.DataVersion == 0 || tn.SharedVersion == 0 {
			t.Fatalf("versions not read: %+v", tn)
		}
		return tn
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := store.QForTest().ExecContext(context.Background(), q, args...); err != nil {
			t.Fatal(err)
		}
	}
	v0 := read()

	exec(`UPDATE tenant_settings SET audit_log_retention_days = audit_log_retention_days + 1 WHERE tenant_id = $1`, b.ID)
	if v := read(); v.DataVersion != v0.DataVersion {
		t.Errorf("another tenant's write changed the version: %d -> %d", v0.DataVersion, v.DataVersion)
	}

	exec(`UPDATE tenant_settings SET audit_log_retention_days = audit_log_retention_days + 1 WHERE tenant_id = $1`, a.ID)
	v1 := read()
	if v1.DataVersion == v0.DataVersion {
		t.Errorf("a settings write left the version at %d", v0.DataVersion)
	}

	// Several rows and tables in one transaction: one change, at commit.
	err = store.InTxForTest(admin, false, func(tx sqlx.ExtContext) error {
		if _, err := tx.ExecContext(admin, `UPDATE tenant_settings SET audit_log_retention_days = 400 WHERE tenant_id = $1`, a.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(admin, `UPDATE tenants SET name = 'Renamed' WHERE id = $1`, a.ID); err != nil {
			return err
		}
		var n int
		// Not yet visible to the transaction itself: the trigger is deferred.
		return sqlx.GetContext(admin, tx, &n, `SELECT count(*) FROM tenant_versions WHERE tenant_id = $1 AND version = pg_current_xact_id()::text::bigint`, a.ID)
	})
	if err != nil {
		t.Fatal(err)
	}
	v2 := read()
	if v2.DataVersion == v1.DataVersion {
		t.Errorf("a transaction writing two tables left the version at %d", v1.DataVersion)
	}

	key, _, err := store.CreateAPIKey(admin, tenant.NewAPIKeyInput{TenantID: a.ID, Name: "used", Permissions: []tenant.Permission{tenant.PermTenantRead}})
	if err != nil {
		t.Fatal(err)
	}
	v3 := read()
	if v3.DataVersion == v2.DataVersion {
		t.Errorf("a new API key left the version at %d", v2.DataVersion)
	}
	exec(`UPDATE api_keys SET last_used_at = now() WHERE id = $1`, key.ID)
	if v := read(); v.DataVersion != v3.DataVersion {
		t.Errorf("recording a key's use changed the version: %d -> %d", v3.DataVersion, v.DataVersion)
	}
	exec(`UPDATE api_keys SET name = 'renamed' WHERE id = $1`, key.ID)
	v4 := read()
	if v4.DataVersion == v3.DataVersion {
		t.Errorf("renaming a key left the version at %d", v3.DataVersion)
	}

	exec(`UPDATE plans SET description = description || ' ' WHERE id = 'starter'`)
	if v := read(); v.SharedVersion == v4.SharedVersion || v.DataVersion != v4.DataVersion {
		t.Errorf("a plan change: shared %d -> %d (want a change), tenant %d -> %d (want none)", v4.SharedVersion, v.SharedVersion, v4.DataVersion, v.DataVersion)
	}

	// The list reads them too.
	page, _, err := store.Tenants(admin, tenant.TenantFilter{}, db.Forward(10, ""))
	if err != nil {
		t.Fatal(err)
	}
	for _, tn := range page {
		if tn.DataVersion == 0 || tn.SharedVersion == 0 {
			t.Errorf("the list read %s without versions", tn.ID)
		}
	}
	_ = db.DefaultAssocCacheBytes
}
