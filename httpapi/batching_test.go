package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"tenantapi/httpapi"
	"tenantapi/tenant"
)

// everyTenantField selects every nested association of Tenant, through both
// nodes and edges, as a dashboard's admin list would, for a page of $first
// tenants. Each list field costs its maximum (ipAllowlist 100 entries,
// keywords 500, ...), so a page of 100 costs more than QUERY_MAX_COST
// allows: statementsFor raises it, TestRealisticQueriesPass asks for 10.
const everyTenantField = `query($first: Int!) {
  tenants(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id name plan { id name } limits { users } } }
    nodes {
      id name domain status owner { email } createdAt version
      plan { id name limits { users policies } }
      settings { dataResidency ipAllowlist auditLogRetentionDays }
      limits { users policies interactionsPerMonth apiRequestsPerMinute }
      usage { activeUsers policies interactionsThisMonth }
      apiKeys(first: 5, includeRevoked: true) { totalCount nodes { id prefix status permissions } }
      keywords { items version } industries { allowed { code name } blocked { code } version }
      riskMatrix { weights { check weight } version } websiteConfig { enabledChecks timeoutSeconds version }
      watchlist { availableSeats activeSubjects remainingSeats version }
      sso { enabled type status clientId loginUrl lastTestResult version }
      notificationChannels { emails webhookUrl events webhookSecretHint previousWebhookSecretExpiresAt version updatedBy }
      credits { granted used remaining expiresAt grants { id used remaining } }
      stats(startDate: "2026-11-01", endDate: "2026-11-30", granularity: WEEKLY) { period { start } summary { totalInteractions uniqueUsers uniquePlatforms } trends { date interactions } }
      usageReport { tokenReport { includedMonthlyActiveTokens monthlyActiveTokens metricsByType { type count lastCreatedAt } } }
      billing { plan { id } status nextBillingDate amount { amountCents formatted } paymentMethod { last4 } scheduledPlanChange { plan { id } effectiveDate } version }
      invoices(first: 3) { totalCount nodes { number } }
      accountStatus { requiresPayment canDoScreening subscription { status remaining { interactions users } } credits { remaining } watchlist { remainingSeats } }
      auditLog(first: 5, filter: {action: ["createApiKey"]}) { totalCount edges { cursor node { id action changes { field after } } } pageInfo { hasNextPage } }
    }
  }
}`

// statementsFor seeds n tenants with two API keys each and returns how many
// SQL statements the admin list query with every nested field runs.
func statementsFor(t *testing.T, n int) int64 {
	e := newEnvWith(t, func(c *httpapi.Config) { c.Limits.MaxCost = 1 << 30 })
	ctx := tenant.WithActor(context.Background(), &tenant.Actor{Kind: tenant.Admin})
	plans := []string{"starter", "professional", "enterprise"}
	for i := range n {
		tn, err := e.store.CreateTenant(ctx, tenant.CreateTenant{Name: fmt.Sprintf("Tenant %d", i), Domain: fmt.Sprintf("t%d.example.com", i), PlanID: plans[i%3]})
		if err != nil {
			t.Fatal(err)
		}
		for k := range 2 {
			if _, _, err := e.store.CreateAPIKey(ctx, tenant.NewAPIKeyInput{TenantID: tn.ID, Name: fmt.Sprintf("key %d", k), Permissions: []tenant.Permission{tenant.PermTenantRead}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var out struct {
		Tenants struct {
			TotalCount int
			Nodes      []struct{ APIKeys struct{ Nodes []any } }
		}
	}
	before := e.store.Statements.Load()
	e.mustGQL(testAdminSecret, everyTenantField, map[string]any{"first": 100}, &out)
	got := e.store.Statements.Load() - before
	if out.Tenants.TotalCount != n || len(out.Tenants.Nodes) != n || len(out.Tenants.Nodes[0].APIKeys.Nodes) != 2 {
		t.Fatalf("got %d of %d tenants (%d keys on the first)", len(out.Tenants.Nodes), out.Tenants.TotalCount, len(out.Tenants.Nodes[0].APIKeys.Nodes))
	}
	return got
}

// TestStatementsConstantInListSize proves the nested associations are
// batched and combined: the list of 100 tenants runs as many statements as
// the list of 2, and its 21 associations run as one statement.
func TestStatementsConstantInListSize(t *testing.T) {
	t.Parallel()
	// page + totalCount + settings + plans (plan and limits) + usage
	// + apiKeys (page) + apiKeys (totalCount)
	// + sso
	// + keywords + industries + riskMatrix + websiteConfig + watchlist
	// + notificationChannels
	// + credits + stats + usageReport
	// + billing + invoices (page) + invoices (totalCount)
	// + auditLog (page) + auditLog (totalCount)
	// + the quota of accountStatus (its other parts share the loaders above):
	// all of them one combined statement (db.Combiner).
	const want = 3 // page, totalCount, the associations
	small, large := statementsFor(t, 2), statementsFor(t, 100)
	t.Logf("statements: %d for 2 tenants, %d for 100 tenants", small, large)
	if small != large {
		t.Errorf("statements grow with the list: %d for 2 tenants, %d for 100", small, large)
	}
	if large > want {
		t.Errorf("%d statements for the list and its associations, want %d: some association runs outside the combined statement", large, want)
	}
}

// TestStatementsForMe counts the dashboard's `me` query with a tenant key:
// the key lookup (which reads the tenant too), then one statement for every
// association.
func TestStatementsForMe(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Counted", "counted.example.com")
	key := e.createKey(id, "TENANT_READ", "API_KEYS_READ", "BILLING_READ", "REPORT_READ")
	e.mustGQL(key, `{ viewer { kind } }`, nil, nil)
	e.store.WaitBackground() // the first use writes lastUsedAt in the background
	before := e.store.Statements.Load()
	e.mustGQL(key, `query($from: DateOrTime!, $to: DateOrTime!) { me { name plan { name } settings { dataResidency } limits { users } usage { activeUsers } apiKeys { nodes { id } }
		billing { status } invoices(first: 5) { totalCount nodes { number } } stats(startDate: $from, endDate: $to) { summary { totalInteractions } }
		accountStatus { requiresPayment credits { remaining } watchlist { remainingSeats } } } }`,
		map[string]any{"from": "2026-01-01", "to": "2026-01-30"}, nil)
	got := e.store.Statements.Load() - before
	t.Logf("statements for me with every association: %d", got)
	if got > 2 {
		t.Errorf("me ran %d statements, want at most 2 (key lookup with the tenant, associations)", got)
	}
}

// TestStatementsForCoercedArguments: the prefetch decodes a field's
// arguments as the executor does (the generated unmarshalers), so arguments
// written in any form GraphQL accepts -- a single value for a list, a
// variable -- prime the loaders the resolver reads, and run in the one
// combined statement instead of again, alone.
func TestStatementsForCoercedArguments(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Coerced", "coerced.example.com")
	key := e.createKey(id, "TENANT_READ", "AUDIT_READ", "API_KEYS_READ")
	e.mustGQL(key, `{ viewer { kind } }`, nil, nil)
	e.store.WaitBackground() // the first use writes lastUsedAt in the background
	var out struct {
		Me struct {
			AuditLog struct{ TotalCount int }
			APIKeys  struct{ Nodes []struct{ ID string } }
		}
	}
	before := e.store.Statements.Load()
	e.mustGQL(key, `query($n: Int) { me { auditLog(first: 5, filter: {action: "createApiKey"}) { totalCount nodes { id } } apiKeys(first: $n) { nodes { id } } } }`,
		map[string]any{"n": 3}, &out)
	got := e.store.Statements.Load() - before
	if out.Me.AuditLog.TotalCount != 1 || len(out.Me.APIKeys.Nodes) != 1 {
		t.Fatalf("got %d createApiKey entries and %d keys, want 1 and 1", out.Me.AuditLog.TotalCount, len(out.Me.APIKeys.Nodes))
	}
	if got > 2 {
		t.Errorf("me ran %d statements, want at most 2 (key lookup with the tenant, associations): a prefetch decoded the arguments differently from the resolver", got)
	}
}

// TestMeOverWebsocketIsCurrent: `me` answers from the tenant read with the
// key within one HTTP request, never from a read as old as a websocket
// connection: a rename made after the connection opened shows on it.
func TestMeOverWebsocketIsCurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Before", "before.example.com")
	key := e.createKey(id, "TENANT_READ", "TENANT_UPDATE")
	for _, viaHeader := range []bool{true, false} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var header http.Header
		initPayload := fmt.Sprintf(`{"Authorization": "Bearer %s"}`, key)
		if viaHeader {
			header, initPayload = http.Header{"Authorization": {"Bearer " + key}}, `{}`
		}
		ws := e.dialWS(t, ctx, header, initPayload)
		name := func(opID string) string {
			var r struct {
				Data struct{ Me struct{ Name string } }
			}
			if err := json.Unmarshal(ws.operation(opID, `{ me { name } }`), &r); err != nil {
				t.Fatal(err)
			}
			return r.Data.Me.Name
		}
		before := name("1")
		renamed := fmt.Sprintf("Renamed %v", viaHeader)
		e.mustGQL(key, `mutation($n: String) { updateTenant(input: {name: $n}) { tenant { name } } }`, map[string]any{"n": renamed}, nil)
		if after := name("2"); after != renamed {
			t.Errorf("header auth %v: me on the open connection says %q (then %q), want %q", viaHeader, after, before, renamed)
		}
	}
}
