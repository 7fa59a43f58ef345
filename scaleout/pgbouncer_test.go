package scaleout_test

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"tenantapi/db/dbtest"
	"tenantapi/keyring"
)

// bouncedHTTPTests are the httpapi tests TestPgBouncer runs through
// PgBouncer: tenant isolation, API keys, members and sessions, billing,
// usage and quotas under concurrency, Idempotency-Key, optimistic
// concurrency, the event log, the audit log, paging, dry runs. Left out:
// the tests whose statements are cancelled, on purpose
// (TestSlowQueryCancelled) or by stopping a delivery worker or a live hub
// mid-statement at their end (TestDeliver*, TestLive*): PgBouncer 1.18,
// Debian 12's, exits when a cancel request races the end of its statement
// (docs/scaling.md); TestInstancesShareState covers live events and
// deliveries through PgBouncer with real instances. Left out too: the tests
// that kill the database's connections (TestDatabase*), and what does not
// touch the database differently (documents, transports, fuzzing,
// browsers).
var bouncedHTTPTests = []string{
	"TestIsolationForeignIDs", "TestIsolationOwnTenantStillWorks", "TestAPIKeyLifecycle", "TestAPIKeyActiveCapConcurrent",
	"TestMemberIsolation", "TestInvitations", "TestSessionsEnd", "TestSessionExpiry",
	"TestBillingRun", "TestBillingRunConcurrent", "TestChangePlanUpAndDown", "TestInvoiceFrozenAtIssue",
	"TestRecordUsageIdempotent", "TestQuotaConcurrent", "TestUsersLimitConcurrent", "TestReserveCapacityConcurrent",
	"TestIdempotencyKey", "TestConcurrentUpdatesOneWins", "TestEventsWrittenWithTheChange",
	"TestAuditLogEntries", "TestAuditCoversMutations", "TestTenantsPaginationAndFilters",
	"TestScreeningUpdates", "TestNotificationChannelsUpdate", "TestDryRunsCreateNothing",
}

// TestPgBouncer puts PgBouncer in transaction mode in front of the test
// server and runs through it: the migrations (`tenantapi migrate` on an
// empty database), then the db package's tests and bouncedHTTPTests, each
// in a `go test` of its own whose TEST_DATABASE_URL is PgBouncer
// (DB_PREPARED_STATEMENTS=false; databases are created, and LISTEN opened,
// on TEST_DATABASE_DIRECT_URL: db/dbtest). PgBouncer must still be running
// at the end, and its SHOW STATS must count the transactions.
func TestPgBouncer(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the PgBouncer run re-runs the db tests and part of httpapi's")
	}
	if os.Getenv("TEST_DATABASE_DIRECT_URL") != "" {
		t.Skip("already running through a pooler")
	}
	direct := dbtest.AdminURL(t)
	b := startPgBouncer(t, direct)
	bounced := withHostPort(t, direct, b.addr)

	t.Run("Migrate", func(t *testing.T) {
		admin, err := sql.Open("postgres", direct)
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close()
		name := fmt.Sprintf("tenantapi_bounced_%d", os.Getpid())
		if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
			t.Fatal(err)
		}
		defer admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`) //nolint:errcheck
		cmd := exec.Command(binary(t), "migrate")
		cmd.Env = append(os.Environ(), "DATABASE_URL="+dbtest.WithDatabase(t, bounced, name),
			"DB_PREPARED_STATEMENTS=false", "DB_STATEMENT_TIMEOUT=0", "LOG_LEVEL=warn", "ENCRYPTION_KEY="+keyring.Generate("migrate"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("tenantapi migrate through PgBouncer: %v\n%s", err, out)
		}
		migrated, err := sql.Open("postgres", dbtest.WithDatabase(t, direct, name))
		if err != nil {
			t.Fatal(err)
		}
		defer migrated.Close()
		var tables int
		if err := migrated.QueryRow(`SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = 'tenants'`).Scan(&tables); err != nil || tables != 1 {
			t.Fatalf("after migrate through PgBouncer: tenants table %d, %v", tables, err)
		}
	})

	env := append(os.Environ(), "TEST_DATABASE_URL="+bounced, "TEST_DATABASE_DIRECT_URL="+direct, "DB_PREPARED_STATEMENTS=false")
	for _, run := range []struct{ name, pkg, pattern string }{
		{"db", "tenantapi/db", ""},
		{"httpapi", "tenantapi/httpapi", "^(" + strings.Join(bouncedHTTPTests, "|") + ")$"},
	} {
		t.Run(run.name, func(t *testing.T) {
			args := []string{"test", "-count=1", run.pkg}
			if run.pattern != "" {
				args = append(args, "-run", run.pattern)
			}
			cmd := exec.Command("go", args...)
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("go %s through PgBouncer: %v\n%s", strings.Join(args, " "), err, tail(string(out), 80))
			}
			t.Logf("through PgBouncer: %s", strings.TrimSpace(tail(string(out), 1)))
			b.alive(t)
		})
	}
	xacts, queries := b.stats(t)
	t.Logf("PgBouncer passed on %d transactions, %d queries", xacts, queries)
	if xacts == 0 {
		t.Fatal("no transaction went through PgBouncer")
	}
}
