package db_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/pressly/goose/v3"

	"tenantapi/db/dbtest"
	"tenantapi/migrations"
)

// TestEnvironmentMigration: migration 00022 makes the tenants that existed
// before it PRODUCTION, lets a domain have one tenant per environment and
// no more, and its Down refuses while a domain is shared.
func TestEnvironmentMigration(t *testing.T) {
	conn, err := sql.Open("postgres", dbtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	p, err := goose.NewProvider(goose.DialectPostgres, conn, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 21); err != nil {
		t.Fatalf("down to before 00022: %v", err)
	}
	insert := `INSERT INTO tenants (name, domain, plan_id, created_by, modified_by) VALUES ('Old', 'old.example', 'starter', 'test', 'test')`
	if _, err := conn.Exec(insert); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up: %v", err)
	}
	var env string
	if err := conn.QueryRow(`SELECT environment FROM tenants WHERE domain = 'old.example'`).Scan(&env); err != nil || env != "PRODUCTION" {
		t.Fatalf("the existing tenant's environment = %q, %v; want PRODUCTION", env, err)
	}
	add := func(env string) error {
		_, err := conn.Exec(`INSERT INTO tenants (name, domain, environment, plan_id, created_by, modified_by)
			VALUES ('New', 'old.example', $1, 'starter', 'test', 'test')`, env)
		return err
	}
	if err := add("QA"); err != nil {
		t.Fatalf("a QA tenant beside the PRODUCTION one: %v", err)
	}
	if err := add("QA"); err == nil || !strings.Contains(err.Error(), "tenants_domain_environment_key") {
		t.Fatalf("a second QA tenant of the domain: %v, want the unique violation", err)
	}
	if err := add("STAGING"); err == nil || !strings.Contains(err.Error(), "check") {
		t.Fatalf("an unknown environment: %v, want the check violation", err)
	}
	if _, err := p.DownTo(ctx, 21); err == nil {
		t.Fatal("Down succeeded while two tenants share a domain")
	}
}
