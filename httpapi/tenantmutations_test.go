package httpapi_test

import (
	"strings"
	"testing"
)

// The tenant mutations that carry several parts at once (issue 15 §3):
// updateTenant with settings (reference 000's PUT /me/settings),
// createTenant with the full configuration (reference 003), and the dry
// runs of createTenant, createApiKey, deleteTenant and grantCredits.

const updateTenantWithSettings = `mutation($in: UpdateTenantInput!) { updateTenant(input: $in) {
	dryRun tenant { name domain version } settings { auditLogRetentionDays ipAllowlist dataResidency version } } }`

type tenantAndSettings struct {
	Name, Domain string
	Version      int
	Settings     struct {
		AuditLogRetentionDays int
		IPAllowlist           []string
		DataResidency         string
		Version               int
	}
}

// readTenantAndSettings reads what is saved, through the API.
func (e *env) readTenantAndSettings(id string) tenantAndSettings {
	e.t.Helper()
	var out struct{ Tenant tenantAndSettings }
	e.mustGQL(testAdminSecret, `query($id: ID!) { tenant(id: $id) { name domain version settings { auditLogRetentionDays ipAllowlist dataResidency version } } }`,
		map[string]any{"id": id}, &out)
	return out.Tenant
}

func TestUpdateTenantWithSettings(t *testing.T) {
	e := newEnv(t)
	id := e.createTenant("Acme", "acme.fr")
	e.createTenant("Other", "other.fr")
	key := e.createKey(id, "TENANT_READ", "TENANT_UPDATE")
	before := e.readTenantAndSettings(id)

	t.Run("OK", func(t *testing.T) {
		var out struct {
			UpdateTenant struct {
				DryRun bool
				Tenant struct {
					Name    string
					Version int
				}
				Settings struct {
					AuditLogRetentionDays int
					IPAllowlist           []string
					Version               int
				}
			}
		}
		e.mustGQL(key, updateTenantWithSettings, map[string]any{"in": map[string]any{
			"name": "ACME Corporation", "expectedVersion": before.Version,
			"settings": map[string]any{"dataResidency": "EU", "auditLogRetentionDays": 2555, "ipAllowlist": []string{"203.0.113.7/24", "127.0.0.0/8"}},
		}}, &out)
		u := out.UpdateTenant
		if u.DryRun || u.Tenant.Name != "ACME Corporation" || u.Tenant.Version != before.Version+1 ||
			u.Settings.AuditLogRetentionDays != 2555 || u.Settings.Version != before.Settings.Version+1 ||
			strings.Join(u.Settings.IPAllowlist, ",") != "203.0.113.0/24,127.0.0.0/8" {
			t.Fatalf("payload %+v (before %+v)", u, before)
		}
		saved := e.readTenantAndSettings(id)
		if saved.Name != "ACME Corporation" || saved.Version != before.Version+1 || saved.Settings.AuditLogRetentionDays != 2555 {
			t.Fatalf("saved %+v", saved)
		}
		before = saved
	})

	refused := []struct {
		name, code, field, msg string
		in                     map[string]any
	}{
		{"ErrRetentionTooShort", "BAD_USER_INPUT", "settings.auditLogRetentionDays", "settings.auditLogRetentionDays must be between 90 and 2555 days, got 30",
			map[string]any{"name": "Renamed", "settings": map[string]any{"auditLogRetentionDays": 30}}},
		{"ErrAllowlistEntry", "BAD_USER_INPUT", "settings.ipAllowlist[0]", "is not an IPv4/IPv6 address",
			map[string]any{"name": "Renamed", "settings": map[string]any{"ipAllowlist": []string{"not-an-address"}}}},
		{"ErrResidencyChange", "BAD_USER_INPUT", "settings.dataResidency", "settings.dataResidency is fixed after tenant creation",
			map[string]any{"name": "Renamed", "settings": map[string]any{"dataResidency": "US", "auditLogRetentionDays": 400}}},
		{"ErrNameEmpty", "BAD_USER_INPUT", "name", "",
			map[string]any{"name": " ", "settings": map[string]any{"auditLogRetentionDays": 400}}},
		{"ErrStaleVersion", "CONFLICT", "expectedVersion", "expected version 1",
			map[string]any{"name": "Renamed", "expectedVersion": 1, "settings": map[string]any{"auditLogRetentionDays": 400}}},
		// The settings are written before the profile: a domain refused by
		// the database after that write must take the settings back with it.
		{"ErrDomainTakenAfterSettings", "CONFLICT", "domain", "domain other.fr is already registered",
			map[string]any{"domain": "other.fr", "settings": map[string]any{"auditLogRetentionDays": 400}}},
		{"ErrLockout", "BAD_USER_INPUT", "settings.ipAllowlist", "does not include your own address",
			map[string]any{"name": "Renamed", "settings": map[string]any{"ipAllowlist": []string{"192.0.2.0/24"}}}},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			r := e.gql(key, updateTenantWithSettings, map[string]any{"in": c.in})
			if r.Code() != c.code || r.Field() != c.field || !strings.Contains(r.Errors[0].Message, c.msg) {
				t.Fatalf("want %s on %s (%q), got %s", c.code, c.field, c.msg, r.Raw)
			}
			if after := e.readTenantAndSettings(id); !sameTenantAndSettings(after, before) {
				t.Fatalf("something was saved: before %+v, after %+v", before, after)
			}
		})
	}

	t.Run("ValidateOnly", func(t *testing.T) {
		var out struct {
			UpdateTenant struct {
				DryRun   bool
				Tenant   struct{ Name string }
				Settings struct{ AuditLogRetentionDays int }
			}
		}
		e.mustGQL(key, updateTenantWithSettings, map[string]any{"in": map[string]any{
			"name": "Dry", "validateOnly": true, "settings": map[string]any{"auditLogRetentionDays": 90},
		}}, &out)
		if u := out.UpdateTenant; !u.DryRun || u.Tenant.Name != "Dry" || u.Settings.AuditLogRetentionDays != 90 {
			t.Fatalf("payload %+v", u)
		}
		if after := e.readTenantAndSettings(id); !sameTenantAndSettings(after, before) {
			t.Fatalf("a dry run saved: before %+v, after %+v", before, after)
		}
	})

	t.Run("SettingsOnlyBumpsTenantVersion", func(t *testing.T) {
		e.mustGQL(key, updateTenantWithSettings, map[string]any{"in": map[string]any{
			"expectedVersion": before.Version, "settings": map[string]any{"auditLogRetentionDays": 730},
		}}, nil)
		after := e.readTenantAndSettings(id)
		if after.Version != before.Version+1 || after.Settings.Version != before.Settings.Version+1 || after.Name != before.Name {
			t.Fatalf("before %+v, after %+v", before, after)
		}
	})
}

func sameTenantAndSettings(a, b tenantAndSettings) bool {
	return a.Name == b.Name && a.Domain == b.Domain && a.Version == b.Version &&
		a.Settings.AuditLogRetentionDays == b.Settings.AuditLogRetentionDays && a.Settings.Version == b.Settings.Version &&
		strings.Join(a.Settings.IPAllowlist, ",") == strings.Join(b.Settings.IPAllowlist, ",")
}

// TestEveryValidateOnlyPayloadSaysDryRun reads the schema: a mutation whose
// input has validateOnly answers a payload with dryRun: Boolean!.
func TestEveryValidateOnlyPayloadSaysDryRun(t *testing.T) {
	schema := schemaFiles(t)
	n := 0
	for _, m := range schema.Mutation.Fields {
		in := m.Arguments.ForName("input")
		if in == nil || schema.Types[in.Type.Name()].Fields.ForName("validateOnly") == nil {
			continue
		}
		n++
		f := schema.Types[m.Type.Name()].Fields.ForName("dryRun")
		if f == nil || f.Type.String() != "Boolean!" {
			t.Errorf("%s has validateOnly but its payload %s has no dryRun: Boolean!", m.Name, m.Type.Name())
		}
	}
	if n < 16 {
		t.Fatalf("only %d mutations with validateOnly found", n)
	}
}

func TestDryRunsCreateNothing(t *testing.T) {
	e := newEnv(t)
	id := e.createTenant("Acme", "acme.fr")
	count := func(table string) int {
		var n int
		if err := e.raw().Get(&n, `SELECT count(*) FROM `+table); err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("CreateTenant", func(t *testing.T) {
		tenants := count("tenants")
		var out struct {
			CreateTenant struct {
				DryRun bool
				Tenant *struct{ ID string }
			}
		}
		e.mustGQL(testAdminSecret, `mutation($in: CreateTenantInput!) { createTenant(input: $in) { dryRun tenant { id } } }`,
			map[string]any{"in": map[string]any{"name": "Dry", "domain": "dry.fr", "validateOnly": true}}, &out)
		if !out.CreateTenant.DryRun || out.CreateTenant.Tenant != nil || count("tenants") != tenants {
			t.Fatalf("payload %+v, tenants %d -> %d", out.CreateTenant, tenants, count("tenants"))
		}
		// The same errors as a real creation: the domain is taken.
		r := e.gql(testAdminSecret, `mutation($in: CreateTenantInput!) { createTenant(input: $in) { dryRun } }`,
			map[string]any{"in": map[string]any{"name": "Dup", "domain": "acme.fr", "validateOnly": true}})
		if r.Code() != "CONFLICT" || r.Field() != "domain" {
			t.Fatalf("want CONFLICT on domain, got %s", r.Raw)
		}
	})

	t.Run("CreateApiKey", func(t *testing.T) {
		keys := count("api_keys")
		var out struct {
			CreateApiKey struct {
				DryRun bool
				Secret *string
				ApiKey *struct{ ID string }
			}
		}
		e.mustGQL(testAdminSecret, `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { dryRun secret apiKey { id } } }`,
			map[string]any{"in": map[string]any{"tenantId": id, "name": "dry", "permissions": []string{"TENANT_READ"}, "validateOnly": true}}, &out)
		if c := out.CreateApiKey; !c.DryRun || c.Secret != nil || c.ApiKey != nil || count("api_keys") != keys {
			t.Fatalf("payload %+v, keys %d -> %d", c, keys, count("api_keys"))
		}
		r := e.gql(testAdminSecret, `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { dryRun } }`,
			map[string]any{"in": map[string]any{"tenantId": id, "name": " ", "permissions": []string{"TENANT_READ"}, "validateOnly": true}})
		if r.Code() != "BAD_USER_INPUT" || r.Field() != "name" {
			t.Fatalf("want BAD_USER_INPUT on name, got %s", r.Raw)
		}
	})

	t.Run("DeleteTenant", func(t *testing.T) {
		key := e.createKey(id, "TENANT_READ")
		var out struct {
			DeleteTenant struct {
				DryRun bool
				Tenant struct {
					ID, Status string
				}
				RestorableUntil string
			}
		}
		e.mustGQL(testAdminSecret, `mutation($in: DeleteTenantInput!) { deleteTenant(input: $in) { dryRun restorableUntil tenant { id status } } }`,
			map[string]any{"in": map[string]any{"tenantId": id, "validateOnly": true}}, &out)
		if d := out.DeleteTenant; !d.DryRun || d.Tenant.ID != id || d.Tenant.Status != "DELETED" || d.RestorableUntil == "" {
			t.Fatalf("payload %+v", d)
		}
		if s := e.readTenantAndSettings(id); s.Version != 1 {
			t.Fatalf("a dry run changed the tenant: %+v", s)
		}
		// Its keys keep working.
		e.mustGQL(key, `query($id: ID!) { tenant(id: $id) { status } }`, map[string]any{"id": id}, nil)
		r := e.gql(testAdminSecret, `mutation($in: DeleteTenantInput!) { deleteTenant(input: $in) { dryRun } }`,
			map[string]any{"in": map[string]any{"tenantId": id, "expectedVersion": 7, "validateOnly": true}})
		if r.Code() != "CONFLICT" || r.Field() != "expectedVersion" {
			t.Fatalf("want CONFLICT on expectedVersion, got %s", r.Raw)
		}
	})

	t.Run("GrantCredits", func(t *testing.T) {
		grants := count("credit_grants")
		var out struct {
			GrantCredits struct {
				DryRun  bool
				Grant   *struct{ ID string }
				Credits struct {
					Granted int
					Grants  []struct{ ID string }
				}
			}
		}
		e.mustGQL(testAdminSecret, `mutation($in: GrantCreditsInput!) { grantCredits(input: $in) { dryRun grant { id } credits { granted grants { id } } } }`,
			map[string]any{"in": map[string]any{"tenantId": id, "amount": 500, "reason": "trial", "validateOnly": true}}, &out)
		g := out.GrantCredits
		if !g.DryRun || g.Grant != nil || g.Credits.Granted != 500 || len(g.Credits.Grants) != 0 || count("credit_grants") != grants {
			t.Fatalf("payload %+v, grants %d -> %d", g, grants, count("credit_grants"))
		}
	})
}

const createTenantFull = `mutation($in: CreateTenantInput!) { createTenant(input: $in) { dryRun webhookSecret tenant {
	id name settings { auditLogRetentionDays }
	notificationChannels { emails webhookUrl events webhookSecretHint }
	keywords { items } industries { blocked { code } } riskMatrix { weights { check weight } }
	websiteConfig { timeoutSeconds passThreshold reviewThreshold }
	billing { billingPeriod billingEmail } } } }`

// fullConfig is a createTenant input with every part of reference 003.
func fullConfig(domain string) map[string]any {
	return map[string]any{
		"name": "Full Co", "domain": domain, "plan": "professional",
		"settings":             map[string]any{"auditLogRetentionDays": 730},
		"notificationChannels": map[string]any{"emails": []string{"ops@full.example"}, "webhookUrl": "https://hooks.example.com/in", "events": []string{"RISK_ALERT"}},
		"keywords":             map[string]any{"keywords": []string{"casino", "crypto"}},
		"industries":           map[string]any{"allowed": []string{}, "blocked": []string{"11"}},
		"riskMatrix":           map[string]any{"weights": []map[string]any{{"check": "DOMAIN_AGE", "weight": 0.6}, {"check": "SSL_CERTIFICATE", "weight": 0.4}}},
		"websiteConfig":        map[string]any{"timeoutSeconds": 20, "passThreshold": 80, "reviewThreshold": 50},
		"billing":              map[string]any{"billingPeriod": "ANNUAL", "billingEmail": "billing@full.example"},
	}
}

func TestCreateTenantWithFullConfiguration(t *testing.T) {
	e := newEnv(t)
	e.createTenant("Taken", "taken.fr")
	tenants := func() int {
		var n int
		if err := e.raw().Get(&n, `SELECT count(*) FROM tenants`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := tenants()

	with := func(part string, v any) map[string]any {
		in := fullConfig("refused.fr")
		in[part] = v
		return in
	}
	refused := []struct {
		name, code, field string
		in                map[string]any
	}{
		{"ErrRiskMatrixSum", "BAD_USER_INPUT", "riskMatrix.weights",
			with("riskMatrix", map[string]any{"weights": []map[string]any{{"check": "DOMAIN_AGE", "weight": 0.5}}})},
		{"ErrKeyword", "BAD_USER_INPUT", "keywords.keywords[1]", with("keywords", map[string]any{"keywords": []string{"ok", " "}})},
		{"ErrIndustryInBoth", "BAD_USER_INPUT", "industries.blocked[0]",
			with("industries", map[string]any{"allowed": []string{"22"}, "blocked": []string{"22"}})},
		{"ErrWebsiteThresholds", "BAD_USER_INPUT", "websiteConfig.reviewThreshold",
			with("websiteConfig", map[string]any{"passThreshold": 40, "reviewThreshold": 60})},
		{"ErrBillingEmail", "BAD_USER_INPUT", "billing.billingEmail", with("billing", map[string]any{"billingEmail": "not an email"})},
		{"ErrWebhookURL", "BAD_USER_INPUT", "notificationChannels.webhookUrl",
			with("notificationChannels", map[string]any{"webhookUrl": "http://plain.example.com"})},
		{"ErrSettings", "BAD_USER_INPUT", "settings.auditLogRetentionDays", with("settings", map[string]any{"auditLogRetentionDays": 5})},
		{"ErrNestedTenantId", "BAD_USER_INPUT", "keywords.tenantId",
			with("keywords", map[string]any{"tenantId": "00000000-0000-0000-0000-000000000001", "keywords": []string{"x"}})},
		{"ErrNestedExpectedVersion", "BAD_USER_INPUT", "riskMatrix.expectedVersion",
			with("riskMatrix", map[string]any{"expectedVersion": 0, "weights": []map[string]any{{"check": "DOMAIN_AGE", "weight": 1}}})},
		{"ErrNestedValidateOnly", "BAD_USER_INPUT", "billing.validateOnly", with("billing", map[string]any{"validateOnly": true})},
		{"ErrDomainTaken", "CONFLICT", "domain", with("domain", "taken.fr")},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			r := e.gql(testAdminSecret, createTenantFull, map[string]any{"in": c.in})
			if r.Code() != c.code || r.Field() != c.field {
				t.Fatalf("want %s on %s, got %s", c.code, c.field, r.Raw)
			}
			if n := tenants(); n != before {
				t.Fatalf("tenants %d -> %d: something was created", before, n)
			}
		})
	}

	t.Run("ValidateOnly", func(t *testing.T) {
		in := fullConfig("dry.fr")
		in["validateOnly"] = true
		var out struct {
			CreateTenant struct {
				DryRun        bool
				WebhookSecret *string
				Tenant        *struct{ ID string }
			}
		}
		e.mustGQL(testAdminSecret, createTenantFull, map[string]any{"in": in}, &out)
		if c := out.CreateTenant; !c.DryRun || c.WebhookSecret != nil || c.Tenant != nil || tenants() != before {
			t.Fatalf("payload %+v", c)
		}
	})

	t.Run("OK", func(t *testing.T) {
		var out struct {
			CreateTenant struct {
				DryRun        bool
				WebhookSecret *string
				Tenant        struct {
					ID                   string
					Settings             struct{ AuditLogRetentionDays int }
					NotificationChannels struct {
						Emails            []string
						WebhookURL        string
						Events            []string
						WebhookSecretHint string
					}
					Keywords   struct{ Items []string }
					Industries struct{ Blocked []struct{ Code string } }
					RiskMatrix struct {
						Weights []struct {
							Check  string
							Weight float64
						}
					}
					WebsiteConfig struct{ TimeoutSeconds, PassThreshold, ReviewThreshold int }
					Billing       struct{ BillingPeriod, BillingEmail string }
				}
			}
		}
		e.mustGQL(testAdminSecret, createTenantFull, map[string]any{"in": fullConfig("full.fr")}, &out)
		c := out.CreateTenant
		tn := c.Tenant
		if c.DryRun || c.WebhookSecret == nil || !strings.HasPrefix(*c.WebhookSecret, "whsec_") || tenants() != before+1 {
			t.Fatalf("payload %+v", c)
		}
		if tn.Settings.AuditLogRetentionDays != 730 || strings.Join(tn.NotificationChannels.Emails, ",") != "ops@full.example" ||
			tn.NotificationChannels.WebhookURL != "https://hooks.example.com/in" || strings.Join(tn.NotificationChannels.Events, ",") != "RISK_ALERT" ||
			tn.NotificationChannels.WebhookSecretHint == "" ||
			strings.Join(tn.Keywords.Items, ",") != "casino,crypto" || len(tn.Industries.Blocked) != 1 ||
			tn.Industries.Blocked[0].Code != "11" ||
			len(tn.RiskMatrix.Weights) != 2 || tn.RiskMatrix.Weights[0].Weight != 0.6 ||
			tn.WebsiteConfig.TimeoutSeconds != 20 || tn.WebsiteConfig.ReviewThreshold != 50 ||
			tn.Billing.BillingPeriod != "ANNUAL" || tn.Billing.BillingEmail != "billing@full.example" {
			t.Fatalf("saved %+v", tn)
		}
	})
}
