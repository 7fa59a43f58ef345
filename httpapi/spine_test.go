package httpapi_test

import (
	"testing"
)

// TestDoneWhen walks the acceptance path: the operator creates a
// tenant and a key, and that key's `me` is the new tenant.
func TestDoneWhen(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Initech", "initech.com")
	key := e.createKey(id, "TENANT_READ", "API_KEYS_READ")
	var out struct {
		Me struct {
			ID     string
			Name   string
			Plan   struct{ Name string }
			Limits struct {
				Users                *int
				APIRequestsPerMinute int `json:"apiRequestsPerMinute"`
			}
			Usage struct{ ActiveUsers int }
		}
	}
	e.mustGQL(key, `{ me { id name plan { name } limits { users apiRequestsPerMinute } usage { activeUsers } } }`, nil, &out)
	if out.Me.ID != id || out.Me.Name != "Initech" || out.Me.Plan.Name != "Professional" ||
		out.Me.Limits.Users == nil || *out.Me.Limits.Users != 50 || out.Me.Limits.APIRequestsPerMinute != 1000 || out.Me.Usage.ActiveUsers != 0 {
		t.Fatalf("me = %+v", out.Me)
	}
}

// TestPayloadTenantAssociations: the tenant every mutation payload returns
// resolves its associations (methods of node.Tenant, the view with the
// request's loaders that each resolver builds: resolvers/associations.go),
// as me does.
func TestPayloadTenantAssociations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const assoc = `tenant { id owner { email } plan { id } limits { users } settings { version } usage { activeUsers } sso { status }
		notificationChannels { version } keywords { version } industries { version } riskMatrix { version } websiteConfig { version }
		watchlist { availableSeats } billing { status } credits { remaining } usageReport { tokenReport { includedMonthlyActiveTokens } } accountStatus { canDoScreening } }`
	r := e.ask(testAdminSecret, `mutation($in: CreateTenantInput!) { createTenant(input: $in) { `+assoc+` } }`,
		map[string]any{"in": map[string]any{"name": "Payload Co", "domain": "payload-" + randomDomain(), "plan": "starter"}})
	if len(r.Errors) > 0 {
		t.Fatalf("createTenant: %s", r.Raw)
	}
	id, _ := dataAt(t, r, "createTenant.tenant.id").(string)
	for name, m := range map[string]string{
		"updateTenant":               `mutation($id: ID!) { updateTenant(input: {tenantId: $id, name: "Payload Co 2"}) { ` + assoc + ` } }`,
		"updateTenantSettings":       `mutation($id: ID) { updateTenantSettings(input: {tenantId: $id, auditLogRetentionDays: 120}) { ` + assoc + ` } }`,
		"updateBilling":              `mutation($id: ID) { updateBilling(input: {tenantId: $id, billingEmail: "ap@payload.example"}) { ` + assoc + ` } }`,
		"updateNotificationChannels": `mutation($id: ID) { updateNotificationChannels(input: {tenantId: $id, emails: ["ops@payload.example"]}) { ` + assoc + ` } }`,
	} {
		r := e.ask(testAdminSecret, m, map[string]any{"id": id})
		if len(r.Errors) > 0 {
			t.Errorf("%s: %s", name, r.Raw)
			continue
		}
		for _, f := range []string{"plan.id", "limits.users", "settings.version", "usage.activeUsers", "sso.status", "billing.status", "accountStatus.canDoScreening", "watchlist.availableSeats"} {
			if dataAt(t, r, name+".tenant."+f) == nil {
				t.Errorf("%s: tenant.%s is null: %s", name, f, r.Raw)
			}
		}
	}
	// The other payloads, in an order they can run in: each tenant's plan
	// resolves, and nothing answers an internal error (an unattached
	// tenant). A deleted tenant's associations may be out of reach.
	for _, m := range []struct{ name, query string }{
		{"changePlan", `mutation($id: ID) { changePlan(input: {tenantId: $id, plan: "professional"}) { ` + assoc + ` } }`},
		{"changePlan", `mutation($id: ID) { changePlan(input: {tenantId: $id, plan: "starter"}) { ` + assoc + ` } }`},
		{"cancelPlanChange", `mutation($id: ID) { cancelPlanChange(input: {tenantId: $id}) { ` + assoc + ` } }`},
		{"updateNotificationChannels", `mutation($id: ID) { updateNotificationChannels(input: {tenantId: $id, webhookUrl: "https://hooks.example.com/tenant"}) { ` + assoc + ` } }`},
		{"rotateWebhookSecret", `mutation($id: ID) { rotateWebhookSecret(input: {tenantId: $id}) { ` + assoc + ` } }`},
		{"deleteTenant", `mutation($id: ID) { deleteTenant(input: {tenantId: $id}) { ` + assoc + ` } }`},
		{"restoreTenant", `mutation($id: ID!) { restoreTenant(input: {tenantId: $id}) { ` + assoc + ` } }`},
	} {
		r := e.ask(testAdminSecret, m.query, map[string]any{"id": id})
		for _, err := range r.Errors {
			if err.Extensions["code"] == "INTERNAL_SERVER_ERROR" {
				t.Errorf("%s: %s", m.name, r.Raw)
				break
			}
		}
		if m.name != "deleteTenant" && dataAt(t, r, m.name+".tenant.plan.id") == nil {
			t.Errorf("%s: tenant.plan is null: %s", m.name, r.Raw)
		}
	}
}

// TestAliasedMe: root fields run concurrently, and each me resolves its
// associations from its own copy of the tenant read with the key, as each
// tenant(id:) and tenants from its own read (run with -race, as make test
// does).
func TestAliasedMe(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Alias Co", randomDomain())
	key := e.createKey(id, "TENANT_READ", "BILLING_READ")
	r := e.ask(key, `{ a: me { name plan { id } settings { version } } b: me { name plan { id } billing { status } } c: me { limits { users } } }`, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("errors: %s", r.Raw)
	}
	for _, p := range []string{"a.plan.id", "b.plan.id", "a.settings.version", "b.billing.status", "c.limits.users"} {
		if dataAt(t, r, p) == nil {
			t.Errorf("%s is null: %s", p, r.Raw)
		}
	}
	// The same for the operator's tenant(id:) and tenants.
	r = e.ask(testAdminSecret, `query($id: ID!) { a: tenant(id: $id) { plan { id } } b: tenant(id: $id) { settings { version } }
		c: tenants(first: 5) { nodes { plan { id } } } d: tenants(first: 5) { nodes { usage { activeUsers } } } }`, map[string]any{"id": id})
	if len(r.Errors) > 0 || dataAt(t, r, "a.plan.id") == nil || dataAt(t, r, "b.settings.version") == nil || dataAt(t, r, "c.nodes.0.plan.id") == nil {
		t.Fatalf("operator: %s", r.Raw)
	}
}
