package httpapi_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// This file checks input validation through the real server: every refused
// input answers BAD_USER_INPUT (or CONFLICT) naming the field and the rule,
// and saves nothing; the boundary values are accepted; allowlists are stored
// canonical; and the tenants list pages and filters correctly.

// The mutations of the validation tables. Each aliases its payload as "out"
// so a case can read the affected tenant's id whatever the mutation.
const (
	docCreateTenant   = `mutation($in: CreateTenantInput!) { out: createTenant(input: $in) { tenant { id } } }`
	docUpdateTenant   = `mutation($in: UpdateTenantInput!) { out: updateTenant(input: $in) { tenant { id } } }`
	docUpdateSettings = `mutation($in: UpdateTenantSettingsInput!) { out: updateTenantSettings(input: $in) { tenant { id } } }`
	docDeleteTenant   = `mutation($in: DeleteTenantInput!) { out: deleteTenant(input: $in) { tenant { id } } }`
	docCreateKey      = `mutation($in: CreateApiKeyInput!) { out: createApiKey(input: $in) { apiKey { id } } }`
)

// savedTenantQuery reads back everything a mutation could have changed.
const savedTenantQuery = `query($id: ID!) { tenant(id: $id) {
	id name domain status version modifiedAt modifiedBy deletedAt owner { id email } plan { id }
	settings { dataResidency encryptionEnabled auditLogRetentionDays ssoEnabled ipAllowlist deduplicateTokens version updatedAt updatedBy }
	apiKeys(first: 100, includeRevoked: true) { nodes { id name status } }
} }`

// savedTenant is the decoded savedTenantQuery.
type savedTenant struct {
	ID, Name, Domain, Status string
	Version                  int
	Owner                    *struct{ ID, Email *string }
	Plan                     struct{ ID string }
	Settings                 struct {
		DataResidency         string
		EncryptionEnabled     bool
		AuditLogRetentionDays int
		IPAllowlist           []string
		Version               int
	}
	ApiKeys struct {
		Nodes []struct{ ID, Name, Status string }
	}
}

// readSaved reads tenant id back with the admin secret: its raw JSON (to
// compare byte for byte) and its decoded form.
func readSaved(e *env, id string) (string, savedTenant) {
	e.t.Helper()
	var out struct{ Tenant *savedTenant }
	r := e.gql(testAdminSecret, savedTenantQuery, map[string]any{"id": id})
	r.Decode(e.t, &out)
	if out.Tenant == nil {
		e.t.Fatalf("tenant %s not found", id)
	}
	return string(r.Data), *out.Tenant
}

// uniqueToken is a random lower-case word unique to one case.
func uniqueToken() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return "v" + hex.EncodeToString(b[:])
}

// countMatching counts the tenants of every status whose name or domain
// contains search.
func countMatching(e *env, search string) int {
	e.t.Helper()
	var out struct{ Tenants struct{ TotalCount int } }
	e.mustGQL(testAdminSecret, `query($f: TenantFilter) { tenants(filter: $f) { totalCount } }`,
		map[string]any{"f": map[string]any{"search": search, "status": []string{"ACTIVE", "SUSPENDED", "DELETED"}}}, &out)
	return out.Tenants.TotalCount
}

// caseInput completes a case's input: "{tok}" in a string value becomes
// tok; createTenant gets a name and domain holding tok unless the case sets
// them; every other mutation targets id.
func caseInput(doc string, in map[string]any, id, tok string) map[string]any {
	out := maps.Clone(in)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range out {
		if s, ok := v.(string); ok {
			out[k] = strings.ReplaceAll(s, "{tok}", tok)
		}
	}
	if doc == docCreateTenant {
		if _, ok := out["name"]; !ok {
			out["name"] = "Case " + tok
		}
		if _, ok := out["domain"]; !ok {
			out["domain"] = tok + ".example"
		}
		return out
	}
	if _, ok := out["tenantId"]; !ok {
		out["tenantId"] = id
	}
	return out
}

// manyAddresses returns n distinct IPv4 addresses.
func manyAddresses(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("10.%d.%d.1", i/256, i%256)
	}
	return out
}

// takenDomain belongs to a tenant of every validation env.
const takenDomain = "taken.example"

func TestValidationRefusesBadInput(t *testing.T) {
	t.Parallel()
	base := newEnv(t)
	base.createTenant("Taken", takenDomain)
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	const bad, conflict = "BAD_USER_INPUT", "CONFLICT"
	tests := []struct {
		name  string
		doc   string
		in    map[string]any
		code  string
		field string
		msg   []string // each must appear in the message
	}{
		// Names.
		{"ErrNameEmpty", docCreateTenant, map[string]any{"name": ""}, bad, "name", []string{"name", "1 to 200", "got 0"}},
		{"ErrNameWhitespace", docCreateTenant, map[string]any{"name": " \u00a0 "}, bad, "name", []string{"name", "1 to 200", "got 0"}},
		{"ErrNameTooLong", docCreateTenant, map[string]any{"name": strings.Repeat("n", 201)}, bad, "name", []string{"name", "1 to 200", "201"}},
		{"ErrNameEmptyOnUpdate", docUpdateTenant, map[string]any{"name": "  "}, bad, "name", []string{"name", "1 to 200"}},
		{"ErrNameTooLongOnUpdate", docUpdateTenant, map[string]any{"name": strings.Repeat("n", 201)}, bad, "name", []string{"name", "1 to 200", "201"}},
		// Domains.
		{"ErrDomainSpaces", docCreateTenant, map[string]any{"domain": "not a domain"}, bad, "domain", []string{"domain", "hostname", "not a domain"}},
		{"ErrDomainLeadingHyphen", docCreateTenant, map[string]any{"domain": "-bad.com"}, bad, "domain", []string{"domain", "hostname", "-bad.com"}},
		{"ErrDomainSingleLabel", docCreateTenant, map[string]any{"domain": "localhost"}, bad, "domain", []string{"domain", "hostname", "localhost"}},
		{"ErrDomainIPAddress", docCreateTenant, map[string]any{"domain": "1.2.3.4"}, bad, "domain", []string{"domain", "hostname", "1.2.3.4"}},
		{"ErrDomainTooLong", docCreateTenant, map[string]any{"domain": strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 62)},
			bad, "domain", []string{"domain", "253"}},
		{"ErrDomainInvalidOnUpdate", docUpdateTenant, map[string]any{"domain": "localhost"}, bad, "domain", []string{"domain", "hostname"}},
		{"ErrDomainTakenOnCreate", docCreateTenant, map[string]any{"domain": "TAKEN.Example."}, conflict, "domain", []string{takenDomain, "already registered"}},
		{"ErrDomainTakenOnUpdate", docUpdateTenant, map[string]any{"domain": takenDomain}, conflict, "domain", []string{takenDomain, "already registered"}},
		// Plan.
		{"ErrPlanUnknown", docCreateTenant, map[string]any{"plan": "platinum"}, bad, "plan", []string{"plan", "starter, professional, enterprise", "platinum"}},
		// Owner.
		{"ErrOwnerEmailInvalid", docCreateTenant, map[string]any{"ownerEmail": "not-an-email"}, bad, "ownerEmail", []string{"ownerEmail", "email", "not-an-email"}},
		{"ErrOwnerEmailWithName", docCreateTenant, map[string]any{"ownerEmail": "Ops <ops@acme.fr>"}, bad, "ownerEmail", []string{"ownerEmail", "email"}},
		{"ErrOwnerIDNotUUID", docCreateTenant, map[string]any{"ownerId": "user-42"}, bad, "ownerId", []string{"ownerId", "UUID", "user-42"}},
		// Retention.
		{"ErrRetentionTooShort", docUpdateSettings, map[string]any{"auditLogRetentionDays": 89}, bad, "auditLogRetentionDays", []string{"auditLogRetentionDays", "90", "2555", "89"}},
		{"ErrRetentionTooLong", docUpdateSettings, map[string]any{"auditLogRetentionDays": 2556}, bad, "auditLogRetentionDays", []string{"auditLogRetentionDays", "90", "2555", "2556"}},
		{"ErrRetentionTooShortOnCreate", docCreateTenant, map[string]any{"settings": map[string]any{"auditLogRetentionDays": 89}},
			bad, "settings.auditLogRetentionDays", []string{"auditLogRetentionDays", "90", "2555"}},
		{"ErrRetentionTooLongOnCreate", docCreateTenant, map[string]any{"settings": map[string]any{"auditLogRetentionDays": 2556}},
			bad, "settings.auditLogRetentionDays", []string{"auditLogRetentionDays", "90", "2555"}},
		// Data residency.
		{"ErrDataResidencyFixed", docUpdateSettings, map[string]any{"dataResidency": "US", "auditLogRetentionDays": 400}, bad, "dataResidency", []string{"dataResidency", "fixed", "EU"}},
		// Allowlist.
		{"ErrAllowlistBadIPv4", docUpdateSettings, map[string]any{"ipAllowlist": []string{"10.0.0.1", "300.1.1.1"}}, bad, "ipAllowlist[1]", []string{"ipAllowlist[1]", "300.1.1.1", "CIDR"}},
		{"ErrAllowlistBadBits", docUpdateSettings, map[string]any{"ipAllowlist": []string{"10.0.0.1", "10.0.0.0/33"}}, bad, "ipAllowlist[1]", []string{"ipAllowlist[1]", "10.0.0.0/33"}},
		{"ErrAllowlistText", docUpdateSettings, map[string]any{"ipAllowlist": []string{"10.0.0.1", "abc"}}, bad, "ipAllowlist[1]", []string{"ipAllowlist[1]", `"abc"`}},
		{"ErrAllowlistTooMany", docUpdateSettings, map[string]any{"ipAllowlist": manyAddresses(101)}, bad, "ipAllowlist", []string{"ipAllowlist", "100", "101"}},
		{"ErrAllowlistBadOnCreate", docCreateTenant, map[string]any{"settings": map[string]any{"ipAllowlist": []string{"abc"}}}, bad, "settings.ipAllowlist[0]", []string{"ipAllowlist[0]", "abc"}},
		// API keys.
		{"ErrKeyNameEmpty", docCreateKey, map[string]any{"name": "", "permissions": []string{"TENANT_READ"}}, bad, "name", []string{"name", "1 to 100"}},
		{"ErrKeyNameWhitespace", docCreateKey, map[string]any{"name": "   ", "permissions": []string{"TENANT_READ"}}, bad, "name", []string{"name", "1 to 100"}},
		{"ErrKeyNameTooLong", docCreateKey, map[string]any{"name": strings.Repeat("k", 101), "permissions": []string{"TENANT_READ"}}, bad, "name", []string{"name", "1 to 100", "101"}},
		{"ErrKeyNoPermissions", docCreateKey, map[string]any{"name": "ci", "permissions": []string{}}, bad, "permissions", []string{"permissions", "at least one"}},
		{"ErrKeyExpiresInPast", docCreateKey, map[string]any{"name": "ci", "permissions": []string{"TENANT_READ"}, "expiresAt": past}, bad, "expiresAt", []string{"expiresAt", "future", past}},
		// Versions.
		{"ErrVersionMismatchUpdateTenant", docUpdateTenant, map[string]any{"name": "Changed", "expectedVersion": 5}, conflict, "expectedVersion", []string{"expected version 5", "current version 1"}},
		{"ErrVersionMismatchUpdateSettings", docUpdateSettings, map[string]any{"auditLogRetentionDays": 400, "expectedVersion": 5}, conflict, "expectedVersion", []string{"expected version 5", "current version 1"}},
		{"ErrVersionMismatchDeleteTenant", docDeleteTenant, map[string]any{"expectedVersion": 2}, conflict, "expectedVersion", []string{"expected version 2", "current version 1"}},
		// Status.
		{"ErrStatusDeleted", docUpdateTenant, map[string]any{"status": "DELETED"}, bad, "status", []string{"status", "DELETED", "deleteTenant"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := base.withT(t)
			tok := uniqueToken() // names what the case creates; the subject has its own
			id := e.createTenant("Subject", uniqueToken()+".example")
			before, _ := readSaved(e, id)

			r := e.gql(testAdminSecret, tt.doc, map[string]any{"in": caseInput(tt.doc, tt.in, id, tok)})
			if r.Status != http.StatusOK || len(r.Errors) != 1 {
				t.Fatalf("status %d, want 200 with one error: %s", r.Status, r.Raw)
			}
			if r.Code() != tt.code || r.Field() != tt.field {
				t.Errorf("code %q field %q, want %q %q: %s", r.Code(), r.Field(), tt.code, tt.field, r.Raw)
			}
			for _, m := range tt.msg {
				if !strings.Contains(r.Errors[0].Message, m) {
					t.Errorf("message %q does not contain %q", r.Errors[0].Message, m)
				}
			}
			if string(r.Data) != "null" {
				t.Errorf("data = %s, want null", r.Data)
			}

			if after, _ := readSaved(e, id); after != before {
				t.Errorf("the tenant changed:\nbefore %s\nafter  %s", before, after)
			}
			if tt.doc == docCreateTenant {
				if n := countMatching(e, tok); n != 0 {
					t.Errorf("a refused createTenant left %d tenant(s) behind", n)
				}
			}
		})
	}
}

func TestValidationAcceptsBoundaries(t *testing.T) {
	t.Parallel()
	base := newEnv(t)
	const ownerID = "0b5c7d3e-9a41-4f6e-8d2c-1f3a5b7c9e0d"
	tests := []struct {
		name  string
		doc   string
		in    map[string]any
		check func(t *testing.T, tok string, s savedTenant)
	}{
		{"Name200", docUpdateTenant, map[string]any{"name": strings.Repeat("n", 200)}, func(t *testing.T, _ string, s savedTenant) {
			if s.Name != strings.Repeat("n", 200) || s.Version != 2 {
				t.Errorf("name %q version %d", s.Name, s.Version)
			}
		}},
		{"NameTrimmed", docUpdateTenant, map[string]any{"name": "  Trimmed Co \u00a0"}, func(t *testing.T, _ string, s savedTenant) {
			if s.Name != "Trimmed Co" {
				t.Errorf("name %q, want %q", s.Name, "Trimmed Co")
			}
		}},
		{"DomainLowerCased", docUpdateTenant, map[string]any{"domain": "NEW-{tok}.Example."}, func(t *testing.T, tok string, s savedTenant) {
			if s.Domain != "new-"+tok+".example" {
				t.Errorf("domain %q, want new-%s.example", s.Domain, tok)
			}
		}},
		{"Retention90", docUpdateSettings, map[string]any{"auditLogRetentionDays": 90}, func(t *testing.T, _ string, s savedTenant) {
			if s.Settings.AuditLogRetentionDays != 90 || s.Settings.Version != 2 {
				t.Errorf("settings %+v", s.Settings)
			}
		}},
		{"Retention2555", docUpdateSettings, map[string]any{"auditLogRetentionDays": 2555}, func(t *testing.T, _ string, s savedTenant) {
			if s.Settings.AuditLogRetentionDays != 2555 {
				t.Errorf("settings %+v", s.Settings)
			}
		}},
		{"SameDataResidency", docUpdateSettings, map[string]any{"dataResidency": "EU", "auditLogRetentionDays": 400}, func(t *testing.T, _ string, s savedTenant) {
			if s.Settings.DataResidency != "EU" || s.Settings.AuditLogRetentionDays != 400 {
				t.Errorf("settings %+v", s.Settings)
			}
		}},
		{"VersionMatchUpdateTenant", docUpdateTenant, map[string]any{"name": "Versioned", "expectedVersion": 1}, func(t *testing.T, _ string, s savedTenant) {
			if s.Name != "Versioned" || s.Version != 2 {
				t.Errorf("name %q version %d, want Versioned 2", s.Name, s.Version)
			}
		}},
		{"VersionMatchUpdateSettings", docUpdateSettings, map[string]any{"auditLogRetentionDays": 500, "expectedVersion": 1}, func(t *testing.T, _ string, s savedTenant) {
			if s.Settings.AuditLogRetentionDays != 500 || s.Settings.Version != 2 {
				t.Errorf("settings %+v, want retention 500 version 2", s.Settings)
			}
		}},
		{"VersionMatchDeleteTenant", docDeleteTenant, map[string]any{"expectedVersion": 1}, func(t *testing.T, _ string, s savedTenant) {
			if s.Status != "DELETED" || s.Version != 2 {
				t.Errorf("status %s version %d, want DELETED 2", s.Status, s.Version)
			}
		}},
		{"CreateDefaults", docCreateTenant, nil, func(t *testing.T, tok string, s savedTenant) {
			if s.Name != "Case "+tok || s.Domain != tok+".example" || s.Status != "ACTIVE" || s.Version != 1 || s.Plan.ID != "starter" ||
				s.Owner != nil || s.Settings.DataResidency != "EU" || !s.Settings.EncryptionEnabled ||
				s.Settings.AuditLogRetentionDays != 365 || len(s.Settings.IPAllowlist) != 0 || s.Settings.Version != 1 {
				t.Errorf("created %+v", s)
			}
		}},
		{"CreateEverything", docCreateTenant, map[string]any{
			"name": strings.Repeat("c", 200), "plan": "enterprise", "dataResidency": "US", "ownerId": ownerID, "ownerEmail": "Ops@Acme.fr",
			"settings": map[string]any{"auditLogRetentionDays": 2555, "encryptionEnabled": false, "ipAllowlist": []string{"203.0.113.7/24", "203.0.113.0/24"}},
		}, func(t *testing.T, _ string, s savedTenant) {
			if s.Name != strings.Repeat("c", 200) || s.Plan.ID != "enterprise" || s.Settings.DataResidency != "US" ||
				s.Settings.AuditLogRetentionDays != 2555 || s.Settings.EncryptionEnabled ||
				!slices.Equal(s.Settings.IPAllowlist, []string{"203.0.113.0/24"}) {
				t.Errorf("created %+v", s)
			}
			if s.Owner == nil || s.Owner.ID == nil || *s.Owner.ID != ownerID || s.Owner.Email == nil || *s.Owner.Email != "Ops@Acme.fr" {
				t.Errorf("owner %+v", s.Owner)
			}
		}},
		{"CreateRetention90", docCreateTenant, map[string]any{"settings": map[string]any{"auditLogRetentionDays": 90}}, func(t *testing.T, _ string, s savedTenant) {
			if s.Settings.AuditLogRetentionDays != 90 {
				t.Errorf("settings %+v", s.Settings)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := base.withT(t)
			tok := uniqueToken()
			id := e.createTenant("Subject "+tok, "subject-"+tok+".example")
			in := caseInput(tt.doc, tt.in, id, tok)
			var out struct {
				Out struct{ Tenant struct{ ID string } }
			}
			e.mustGQL(testAdminSecret, tt.doc, map[string]any{"in": in}, &out)
			if tt.doc != docCreateTenant && out.Out.Tenant.ID != id {
				t.Fatalf("the mutation answered tenant %q, want %q", out.Out.Tenant.ID, id)
			}
			_, s := readSaved(e, out.Out.Tenant.ID)
			tt.check(t, tok, s)
		})
	}
}

func TestAllowlistCanonicalized(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Allow", "allow.example")
	const doc = `mutation($in: UpdateTenantSettingsInput!) { updateTenantSettings(input: $in) { settings { ipAllowlist version } } }`
	set := func(t *testing.T, list []string) []string {
		t.Helper()
		in := map[string]any{"tenantId": id, "encryptionEnabled": true}
		if list != nil {
			in["ipAllowlist"] = list
		}
		var out struct {
			UpdateTenantSettings struct {
				Settings struct{ IPAllowlist []string }
			}
		}
		e.withT(t).mustGQL(testAdminSecret, doc, map[string]any{"in": in}, &out)
		got := out.UpdateTenantSettings.Settings.IPAllowlist
		if _, saved := readSaved(e.withT(t), id); !slices.Equal(saved.Settings.IPAllowlist, got) {
			t.Errorf("saved %q, mutation answered %q", saved.Settings.IPAllowlist, got)
		}
		return got
	}
	steps := []struct {
		name string
		in   []string // nil: leave the list out of the input
		want []string
	}{
		{"Canonical", []string{
			"203.0.113.7/24", "198.51.100.5", "::ffff:192.0.2.1", "2001:DB8::/32",
			"198.51.100.5/32", "203.0.113.0/24", " 10.0.0.1 ", "2001:db8::1/48", "::ffff:192.0.2.1/128",
		}, []string{"203.0.113.0/24", "198.51.100.5/32", "192.0.2.1/32", "2001:db8::/32", "10.0.0.1/32", "2001:db8::/48"}},
		{"LeftOutUnchanged", nil, []string{"203.0.113.0/24", "198.51.100.5/32", "192.0.2.1/32", "2001:db8::/32", "10.0.0.1/32", "2001:db8::/48"}},
		{"Max100", manyAddresses(100), func() []string {
			l := manyAddresses(100)
			for i := range l {
				l[i] += "/32"
			}
			return l
		}()},
		{"EmptyClears", []string{}, []string{}},
		{"SingleIPv6", []string{"2001:DB8:0:0:0:0:0:1"}, []string{"2001:db8::1/128"}},
		// An IPv4-compatible IPv6 address: canonical text per RFC 5952 (and
		// tenant.NormalizeAllowlist) is ::102:304.
		{"IPv4CompatibleIPv6", []string{"::1.2.3.4"}, []string{"::102:304/128"}},
	}
	for _, st := range steps { // in order: each step starts from the previous one's list
		t.Run(st.name, func(t *testing.T) {
			if got := set(t, st.in); got == nil || !slices.Equal(got, st.want) {
				t.Errorf("ipAllowlist = %q, want %q", got, st.want)
			}
		})
	}
}

func TestTenantsArgumentsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createTenant("Listed", "listed.example")
	tests := []struct {
		name  string
		vars  map[string]any
		field string
		msg   []string
	}{
		{"ErrFirstZero", map[string]any{"first": 0}, "first", []string{"first", "1 and 100", "0"}},
		{"ErrFirstNegative", map[string]any{"first": -1}, "first", []string{"first", "1 and 100"}},
		{"ErrFirstTooLarge", map[string]any{"first": 101}, "first", []string{"first", "1 and 100", "101"}},
		{"ErrAfterGarbage", map[string]any{"after": "not a cursor!"}, "after", []string{"after", "cursor"}},
		{"ErrAfterBase64NotCursor", map[string]any{"after": "aGVsbG8"}, "after", []string{"after", "cursor"}},
		{"ErrAfterBadID", map[string]any{"after": "MTIzOm5vdC1hLXV1aWQ"}, "after", []string{"after", "cursor"}}, // "123:not-a-uuid"
		{"ErrSearchTooLong", map[string]any{"filter": map[string]any{"search": strings.Repeat("s", 101)}}, "filter.search", []string{"search", "100"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := e.withT(t).gql(testAdminSecret, `query($first: Int, $after: String, $filter: TenantFilter) {
				tenants(first: $first, after: $after, filter: $filter) { totalCount nodes { id } } }`, tt.vars)
			if r.Status != http.StatusOK || r.Code() != "BAD_USER_INPUT" || r.Field() != tt.field {
				t.Fatalf("status %d code %q field %q, want 200 BAD_USER_INPUT %q: %s", r.Status, r.Code(), r.Field(), tt.field, r.Raw)
			}
			for _, m := range tt.msg {
				if !strings.Contains(r.Errors[0].Message, m) {
					t.Errorf("message %q does not contain %q", r.Errors[0].Message, m)
				}
			}
		})
	}
	// The boundaries are accepted.
	for _, first := range []int{1, 100} {
		var out struct {
			Tenants struct{ Nodes []struct{ ID string } }
		}
		e.mustGQL(testAdminSecret, `query($first: Int) { tenants(first: $first) { nodes { id } } }`, map[string]any{"first": first}, &out)
		if len(out.Tenants.Nodes) != 1 {
			t.Errorf("first: %d listed %d tenants, want 1", first, len(out.Tenants.Nodes))
		}
	}
}

// tenantsPage is one decoded page of the tenants list.
type tenantsPage struct {
	Edges []struct {
		Cursor string
		Node   struct{ ID, Name string }
	}
	Nodes    []struct{ ID, Name string }
	PageInfo struct {
		HasNextPage, HasPreviousPage bool
		StartCursor, EndCursor       *string
	}
	TotalCount int
}

const tenantsPageQuery = `query($first: Int, $after: String, $filter: TenantFilter) {
	tenants(first: $first, after: $after, filter: $filter) {
		edges { cursor node { id name } } nodes { id name }
		pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount } }`

func listTenants(e *env, first int, after *string, filter map[string]any) tenantsPage {
	e.t.Helper()
	var out struct{ Tenants tenantsPage }
	vars := map[string]any{"first": first, "filter": filter}
	if after != nil {
		vars["after"] = *after
	}
	e.mustGQL(testAdminSecret, tenantsPageQuery, vars, &out)
	return out.Tenants
}

// listNames lists every tenant matching filter, one page at a time, and
// returns their names in order.
func listNames(e *env, filter map[string]any) []string {
	e.t.Helper()
	var names []string
	p := listTenants(e, 100, nil, filter)
	for _, n := range p.Nodes {
		names = append(names, n.Name)
	}
	if p.TotalCount != len(names) || p.PageInfo.HasNextPage {
		e.t.Errorf("filter %v: totalCount %d hasNextPage %v for %d tenants", filter, p.TotalCount, p.PageInfo.HasNextPage, len(names))
	}
	return names
}

func TestTenantsPaginationAndFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	created := []struct{ name, domain, plan string }{
		{"Acme Corp", "acme-corp.example", "starter"},
		{"100% Organic", "organic.example", "professional"},
		{"1000 Organic", "thousand.example", "professional"},
		{"Under_Score", "underscore.example", "enterprise"},
		{"UnderXScore Ltd", "underxscore.example", "enterprise"},
	}
	ids := map[string]string{}
	var newestFirst []string
	for _, c := range created {
		var out struct {
			CreateTenant struct{ Tenant struct{ ID string } }
		}
		e.mustGQL(testAdminSecret, `mutation($in: CreateTenantInput!) { createTenant(input: $in) { tenant { id } } }`,
			map[string]any{"in": map[string]any{"name": c.name, "domain": c.domain, "plan": c.plan}}, &out)
		ids[c.name] = out.CreateTenant.Tenant.ID
		newestFirst = append([]string{c.name}, newestFirst...)
	}

	t.Run("PagesOfTwo", func(t *testing.T) {
		e := e.withT(t)
		var names []string
		seen := map[string]bool{}
		var after *string
		wantSizes, wantMore := []int{2, 2, 1}, []bool{true, true, false}
		for page := 0; ; page++ {
			if page == len(wantSizes) {
				t.Fatalf("more than %d pages", page)
			}
			p := listTenants(e, 2, after, nil)
			if len(p.Nodes) != wantSizes[page] || len(p.Edges) != len(p.Nodes) || p.PageInfo.HasNextPage != wantMore[page] ||
				p.PageInfo.HasPreviousPage != (page > 0) || p.TotalCount != 5 {
				t.Fatalf("page %d: %d nodes, %d edges, hasNextPage %v, hasPreviousPage %v, totalCount %d", page,
					len(p.Nodes), len(p.Edges), p.PageInfo.HasNextPage, p.PageInfo.HasPreviousPage, p.TotalCount)
			}
			for i, edge := range p.Edges {
				if edge.Node != p.Nodes[i] {
					t.Errorf("page %d: edge %d is %v, node %v", page, i, edge.Node, p.Nodes[i])
				}
				if seen[edge.Node.ID] {
					t.Errorf("page %d repeats %s", page, edge.Node.Name)
				}
				seen[edge.Node.ID] = true
				names = append(names, edge.Node.Name)
			}
			if p.PageInfo.StartCursor == nil || *p.PageInfo.StartCursor != p.Edges[0].Cursor ||
				p.PageInfo.EndCursor == nil || *p.PageInfo.EndCursor != p.Edges[len(p.Edges)-1].Cursor {
				t.Fatalf("page %d: start/end cursors %v %v do not match the edges", page, p.PageInfo.StartCursor, p.PageInfo.EndCursor)
			}
			if !p.PageInfo.HasNextPage {
				break
			}
			after = p.PageInfo.EndCursor
		}
		if !slices.Equal(names, newestFirst) {
			t.Errorf("paged order %q, want newest first %q", names, newestFirst)
		}
		// After the last tenant: an empty page with null cursors.
		last := listTenants(e, 2, after, nil)
		last = listTenants(e, 2, last.PageInfo.EndCursor, nil)
		if len(last.Nodes) != 0 || last.PageInfo.HasNextPage || last.PageInfo.StartCursor != nil || last.PageInfo.EndCursor != nil {
			t.Errorf("page past the end = %+v", last)
		}
	})

	t.Run("Filters", func(t *testing.T) {
		e := e.withT(t)
		e.mustGQL(testAdminSecret, `mutation($in: UpdateTenantInput!) { updateTenant(input: $in) { tenant { id } } }`,
			map[string]any{"in": map[string]any{"tenantId": ids["Under_Score"], "status": "SUSPENDED"}}, nil)
		e.mustGQL(testAdminSecret, `mutation($in: DeleteTenantInput!) { deleteTenant(input: $in) { tenant { id } } }`,
			map[string]any{"in": map[string]any{"tenantId": ids["1000 Organic"]}}, nil)
		tests := []struct {
			name   string
			filter map[string]any
			want   []string // newest first
		}{
			{"DefaultHidesDeleted", nil, []string{"UnderXScore Ltd", "Under_Score", "100% Organic", "Acme Corp"}},
			{"StatusSuspended", map[string]any{"status": []string{"SUSPENDED"}}, []string{"Under_Score"}},
			{"StatusDeleted", map[string]any{"status": []string{"DELETED"}}, []string{"1000 Organic"}},
			{"StatusActiveOrDeleted", map[string]any{"status": []string{"ACTIVE", "DELETED"}}, []string{"UnderXScore Ltd", "1000 Organic", "100% Organic", "Acme Corp"}},
			{"PlanEnterprise", map[string]any{"plan": []string{"enterprise"}}, []string{"UnderXScore Ltd", "Under_Score"}},
			{"PlanStarterOrProfessional", map[string]any{"plan": []string{"starter", "professional"}}, []string{"100% Organic", "Acme Corp"}},
			{"PlanUnknown", map[string]any{"plan": []string{"platinum"}}, nil},
			{"PlanAndStatus", map[string]any{"plan": []string{"professional"}, "status": []string{"DELETED"}}, []string{"1000 Organic"}},
			{"SearchNameCaseInsensitive", map[string]any{"search": "aCME"}, []string{"Acme Corp"}},
			{"SearchDomainCaseInsensitive", map[string]any{"search": "THOUSAND.EX", "status": []string{"DELETED"}}, []string{"1000 Organic"}},
			{"SearchDomainOnly", map[string]any{"search": "corp.example"}, []string{"Acme Corp"}},
			{"SearchPercentIsLiteral", map[string]any{"search": "100%", "status": []string{"ACTIVE", "DELETED"}}, []string{"100% Organic"}},
			{"SearchUnderscoreIsLiteral", map[string]any{"search": "r_s"}, []string{"Under_Score"}},
			{"SearchBackslashIsLiteral", map[string]any{"search": `\`}, nil},
			{"SearchTrimmed", map[string]any{"search": "  organic  ", "status": []string{"ACTIVE", "DELETED"}}, []string{"1000 Organic", "100% Organic"}},
			{"SearchNoMatch", map[string]any{"search": "zzz"}, nil},
			{"SearchAndPlan", map[string]any{"search": "score", "plan": []string{"enterprise"}, "status": []string{"ACTIVE"}}, []string{"UnderXScore Ltd"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if got := listNames(e.withT(t), tt.filter); !slices.Equal(got, tt.want) {
					t.Errorf("filter %v lists %q, want %q", tt.filter, got, tt.want)
				}
			})
		}
		// Paging keeps the filter.
		p := listTenants(e, 1, nil, map[string]any{"plan": []string{"enterprise"}})
		p2 := listTenants(e, 1, p.PageInfo.EndCursor, map[string]any{"plan": []string{"enterprise"}})
		if len(p.Nodes) != 1 || len(p2.Nodes) != 1 || p.Nodes[0].Name != "UnderXScore Ltd" || p2.Nodes[0].Name != "Under_Score" ||
			!p.PageInfo.HasNextPage || p2.PageInfo.HasNextPage || p.TotalCount != 2 || p2.TotalCount != 2 {
			raw, _ := json.Marshal([]tenantsPage{p, p2})
			t.Errorf("filtered pages = %s", raw)
		}
	})
}
