package db_test

import (
	"context"
	"testing"

	"tenantapi/db/dbtest"
	"tenantapi/keyring"
	"tenantapi/tenant"
)

// TestSeedDemoIdempotent runs the demo seed twice, as two `make run`s would:
// the same tenant, the same key, and nothing duplicated.
func TestSeedDemoIdempotent(t *testing.T) {
	store := dbtest.New(t)
	ring, _ := keyring.Parse(keyring.Generate("t"))
	store.Sealer = ring
	ctx := context.Background()
	id1, key1, err := store.SeedDemo(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	// A QA tenant of the demo's domain (one per environment) is not the
	// demo tenant: the second run still finds the PRODUCTION one.
	qa, err := store.CreateTenant(tenant.WithActor(ctx, &tenant.Actor{Kind: tenant.Admin}),
		tenant.CreateTenant{Name: "ACME QA", Domain: "acme.fr", Environment: tenant.EnvQA})
	if err != nil || qa.Environment != tenant.EnvQA {
		t.Fatalf("a QA tenant of acme.fr: %+v, %v", qa, err)
	}
	id2, key2, err := store.SeedDemo(ctx, key1)
	if err != nil {
		t.Fatal(err)
	}
	if id1 != id2 || key1 != key2 {
		t.Fatalf("second run: tenant %s→%s, key changed %v", id1, id2, key1 != key2)
	}
	actor, err := store.Authenticate(ctx, key1)
	if err != nil || actor.TenantID != id1 || len(actor.Permissions) != len(tenant.TenantPermissions()) {
		t.Fatalf("demo key: %+v, %v", actor, err)
	}
	admin := tenant.WithActor(ctx, &tenant.Actor{Kind: tenant.Admin})
	tn, err := store.Tenant(admin, id1)
	if err != nil || tn.Name != "ACME Corporation" || tn.Domain != "acme.fr" || tn.Environment != tenant.EnvProduction || tn.PlanID != "professional" {
		t.Fatalf("demo tenant: %+v, %v", tn, err)
	}
	usage, errs := store.UsageByTenant(admin, []string{id1})
	if errs[0] != nil || usage[0].ActiveUsers != 12 || usage[0].InteractionsThisMonth == 0 {
		t.Fatalf("demo usage: %+v, %v", usage[0], errs[0])
	}
	// A lost key file gets a new key; the tenant stays.
	id3, key3, err := store.SeedDemo(ctx, "")
	if err != nil || id3 != id1 || key3 == key1 {
		t.Fatalf("third run without the key: %s %v %v", id3, key3 == key1, err)
	}
}
