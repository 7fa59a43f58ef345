package httpapi_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"tenantapi/tenant"
)

// This file checks who may call what: every root field, every mutation and
// every permission-gated Tenant field against anonymous callers, keys with
// and without the needed permission, TENANT_MANAGE keys and the admin secret.
// It also checks the Permission enum and that the schema documents itself.

// credential is who sends a request: nobody, the admin secret, or an API key
// of the fixture's own tenant holding perms (GraphQL enum names).
type credential struct {
	label string
	admin bool
	perms []string
}

var (
	credAnonymous = credential{label: "anonymous"}
	credAdmin     = credential{label: "admin", admin: true}
)

func keyWith(perms ...string) credential {
	return credential{label: strings.Join(perms, "+"), perms: perms}
}

// reachesAll reports whether the credential may act on any tenant.
func (c credential) reachesAll() bool {
	return c.admin || slices.Contains(c.perms, "TENANT_MANAGE")
}

// fixture is the world of one case: two tenants, a spare key in each (to
// revoke) and the case's credential.
type fixture struct {
	own, other       string // tenant ids; a credential's key belongs to own
	ownKey, otherKey string // ids of a spare key of each tenant
	token            string // the credential's bearer token, "" for anonymous
	target           string // what the case acts on: other when the credential reaches all tenants, else own
}

func newFixture(e *env, c credential) *fixture {
	e.t.Helper()
	f := &fixture{own: e.createTenant("Own Co", randomDomain()), other: e.createTenant("Other Co", randomDomain())}
	_, f.ownKey = e.createKeyWithID(f.own, "TENANT_READ")
	_, f.otherKey = e.createKeyWithID(f.other, "TENANT_READ")
	f.target = f.own
	if c.reachesAll() {
		f.target = f.other
	}
	switch {
	case c.admin:
		f.token = testAdminSecret
	case len(c.perms) > 0:
		f.token = e.createKey(f.own, c.perms...)
	}
	return f
}

// targetKey is the spare key of the tenant the case acts on.
func (f *fixture) targetKey() string {
	if f.target == f.own {
		return f.ownKey
	}
	return f.otherKey
}

// input returns a mutation input acting on f.target: tenantId is left out
// for the caller's own tenant, so that the default is what is exercised.
func (f *fixture) input(fields map[string]any) map[string]any {
	if f.target != f.own {
		fields["tenantId"] = f.target
	}
	return map[string]any{"in": fields}
}

// withT returns e reporting to t, for use in subtests.
func (e *env) withT(t testing.TB) *env { return &env{t: t, srv: e.srv, store: e.store, url: e.url} }

// createKeyWithID is createKey that also returns the new key's id (and
// names the key briefly, so that it can hold every permission).
func (e *env) createKeyWithID(tenantID string, perms ...string) (secret, id string) {
	e.t.Helper()
	return e.createNamedKey(tenantID, "spare key", perms...)
}

// createNamedKey creates an API key named name for tenantID as the
// operator, holding perms, and returns its secret and id.
func (e *env) createNamedKey(tenantID, name string, perms ...string) (secret, id string) {
	e.t.Helper()
	var out struct {
		CreateApiKey struct {
			Secret string
			ApiKey struct{ ID string }
		}
	}
	e.mustGQL(testAdminSecret, `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret apiKey { id } } }`,
		map[string]any{"in": map[string]any{"tenantId": tenantID, "name": name, "permissions": perms}}, &out)
	return out.CreateApiKey.Secret, out.CreateApiKey.ApiKey.ID
}

// ask is gql that also checks the response leaks no database driver text.
func (e *env) ask(token, query string, vars map[string]any) *result {
	e.t.Helper()
	r := e.gql(token, query, vars)
	assertNoDriverText(e.t, r)
	return r
}

// driverText is what would betray a database error passed to the client.
var driverText = []string{"pq:", "sql", "sqlstate", "violates", "constraint"}

func assertNoDriverText(t testing.TB, r *result) {
	t.Helper()
	for _, e := range r.Errors {
		m := strings.ToLower(e.Message)
		for _, s := range driverText {
			if strings.Contains(m, s) {
				t.Errorf("error message %q contains driver text %q", e.Message, s)
			}
		}
	}
}

// dataAt returns the value at path ("me.apiKeys.0.id") in the response's
// data, or nil when any step is missing or null.
func dataAt(t testing.TB, r *result, path string) any {
	t.Helper()
	var v any
	if len(r.Data) > 0 {
		if err := json.Unmarshal(r.Data, &v); err != nil {
			t.Fatalf("data is not JSON: %v: %s", err, r.Data)
		}
	}
	for _, step := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[step]
		case []any:
			var i int
			if _, err := fmt.Sscan(step, &i); err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randomDomain() string { return "t" + randomHex(6) + ".example" }

// randomUUID is a version 4 UUID no row has.
func randomUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// enumNames is the GraphQL enum names of perms.
func enumNames(perms []tenant.Permission) []string {
	out := make([]string, len(perms))
	for i, p := range perms {
		out[i] = p.EnumName()
	}
	return out
}

// The operations of the permission table. Variables come from the fixture.
const (
	qMe             = `{ me { id name } }`
	qTenant         = `query($id: ID!) { tenant(id: $id) { id name } }`
	qNodeTenant     = `query($id: ID!) { node(id: $id) { id ... on Tenant { name } } }`
	qNodesTenant    = `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Tenant { name } } }`
	qTenants        = `{ tenants(first: 100) { totalCount nodes { id } } }`
	qPlans          = `{ plans { id name } }`
	qViewer         = `{ viewer { kind apiKeyId tenantId permissions } }`
	qCreateTenant   = `mutation($in: CreateTenantInput!) { createTenant(input: $in) { tenant { id status } } }`
	qUpdateTenant   = `mutation($in: UpdateTenantInput!) { updateTenant(input: $in) { tenant { id name status } } }`
	qUpdateSettings = `mutation($in: UpdateTenantSettingsInput!) { updateTenantSettings(input: $in) { tenant { id } settings { auditLogRetentionDays } } }`
	qDeleteTenant   = `mutation($in: DeleteTenantInput!) { deleteTenant(input: $in) { tenant { id status } restorableUntil } }`
	qRestoreTenant  = `mutation($in: RestoreTenantInput!) { restoreTenant(input: $in) { tenant { id status } } }`
	qCreateAPIKey   = `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret apiKey { id permissions } } }`
	qRevokeAPIKey   = `mutation($in: RevokeApiKeyInput!) { revokeApiKey(input: $in) { apiKey { id status } } }`
)

type varsFunc func(f *fixture) map[string]any

func noVars(*fixture) map[string]any { return nil }

func targetIDVar(f *fixture) map[string]any { return map[string]any{"id": f.target} }

func targetIDsVar(f *fixture) map[string]any { return map[string]any{"ids": []string{f.target}} }

func newTenantInput(*fixture) map[string]any {
	return map[string]any{"in": map[string]any{"name": "New Co", "domain": randomDomain()}}
}

func renameInput(f *fixture) map[string]any { return f.input(map[string]any{"name": "Renamed Co"}) }

func suspendInput(f *fixture) map[string]any { return f.input(map[string]any{"status": "SUSPENDED"}) }

func retentionInput(f *fixture) map[string]any {
	return f.input(map[string]any{"auditLogRetentionDays": 400})
}

func deleteInput(f *fixture) map[string]any { return f.input(map[string]any{}) }

// restoreOther restores the other tenant, which prepare deleted: a key's own
// tenant cannot be deleted without its key ceasing to work.
func restoreOther(f *fixture) map[string]any {
	return map[string]any{"in": map[string]any{"tenantId": f.other}}
}

func deleteOther(e *env, f *fixture) {
	e.mustGQL(testAdminSecret, qDeleteTenant, map[string]any{"in": map[string]any{"tenantId": f.other}}, nil)
}

func newKeyInput(perms ...string) varsFunc {
	return func(f *fixture) map[string]any {
		return f.input(map[string]any{"name": "made by the case", "permissions": perms})
	}
}

func revokeTargetKey(f *fixture) map[string]any {
	return map[string]any{"in": map[string]any{"id": f.targetKey()}}
}

// checkFunc asserts what a case's response (or the database after it) shows.
type checkFunc func(t *testing.T, e *env, f *fixture, r *result)

// wantAt checks that the value at path is what want returns.
func wantAt(path string, want func(f *fixture) any) checkFunc {
	return func(t *testing.T, _ *env, f *fixture, r *result) {
		t.Helper()
		if got, w := dataAt(t, r, path), want(f); !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %v, want %v", path, got, w)
		}
	}
}

// wantNotNull checks that the value at path is not null.
func wantNotNull(path string) checkFunc {
	return func(t *testing.T, _ *env, _ *fixture, r *result) {
		t.Helper()
		if dataAt(t, r, path) == nil {
			t.Errorf("%s is null: %s", path, r.Raw)
		}
	}
}

func ownTenant(f *fixture) any    { return f.own }
func targetTenant(f *fixture) any { return f.target }

func value(v any) func(*fixture) any { return func(*fixture) any { return v } }

func wantAll(checks ...checkFunc) checkFunc {
	return func(t *testing.T, e *env, f *fixture, r *result) {
		t.Helper()
		for _, c := range checks {
			c(t, e, f, r)
		}
	}
}

// targetUnchanged checks, as the admin, that the target tenant is still
// ACTIVE at version 1: the refused mutation saved nothing.
func targetUnchanged(t *testing.T, e *env, f *fixture, _ *result) {
	t.Helper()
	var out struct {
		Tenant struct {
			Status  string
			Version int
		}
	}
	e.mustGQL(testAdminSecret, `query($id: ID!) { tenant(id: $id) { status version } }`, map[string]any{"id": f.target}, &out)
	if out.Tenant.Status != "ACTIVE" || out.Tenant.Version != 1 {
		t.Errorf("target tenant changed by a refused mutation: %+v", out.Tenant)
	}
}

// newKeyWorksFor checks that the created key authenticates for the target.
func newKeyWorksFor(t *testing.T, e *env, f *fixture, r *result) {
	t.Helper()
	secret, _ := dataAt(t, r, "createApiKey.secret").(string)
	var out struct{ Viewer struct{ TenantID string } }
	e.mustGQL(secret, `{ viewer { tenantId } }`, nil, &out)
	if out.Viewer.TenantID != f.target {
		t.Errorf("the new key belongs to %s, want %s", out.Viewer.TenantID, f.target)
	}
}

// wantOnly checks that the list at path holds exactly the ids want returns.
func wantOnly(path string, want func(f *fixture) []string) checkFunc {
	return func(t *testing.T, _ *env, f *fixture, r *result) {
		t.Helper()
		var got []string
		items, _ := dataAt(t, r, path).([]any)
		for _, it := range items {
			m, _ := it.(map[string]any)
			id, _ := m["id"].(string)
			got = append(got, id)
		}
		if w := want(f); !slices.Equal(got, w) {
			t.Errorf("%s lists %v, want %v", path, got, w)
		}
	}
}

// wantListed checks that the list at path holds an object whose id is want's.
func wantListed(path string, want func(f *fixture) any) checkFunc {
	return func(t *testing.T, _ *env, f *fixture, r *result) {
		t.Helper()
		items, _ := dataAt(t, r, path).([]any)
		for _, it := range items {
			if m, _ := it.(map[string]any); m["id"] == want(f) {
				return
			}
		}
		t.Errorf("%s = %v does not include %v", path, items, want(f))
	}
}

// permCase is one row of the permission table.
type permCase struct {
	op      string // the schema field under test: "me", "Tenant.apiKeys"
	variant string // distinguishes cases of one op and credential
	cred    credential
	query   string
	vars    varsFunc
	prepare func(e *env, f *fixture) // runs before the query, as the admin
	want    string                   // "" for OK, else the extensions.code
	path    string                   // where the error lands; default the root field
	field   string                   // the expected extensions.field
	message string                   // a substring the error message must contain
	check   checkFunc
}

func (c permCase) name() string {
	parts := []string{c.op, c.cred.label}
	if c.variant != "" {
		parts = append(parts, c.variant)
	}
	outcome := "OK"
	if c.want != "" {
		outcome = "Err" + codeCamel(c.want)
	}
	return strings.Join(append(parts, outcome), "/")
}

// codeCamel turns NOT_FOUND into NotFound.
func codeCamel(code string) string {
	var b strings.Builder
	for _, w := range strings.Split(strings.ToLower(code), "_") {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

// errPath is where the error must land: path, the root field by default.
func (c permCase) errPath() string {
	if c.path != "" {
		return c.path
	}
	return c.op
}

// pathString writes an error path as dataAt reads it: "me.apiKeys".
func pathString(path []any) string {
	parts := make([]string, len(path))
	for i, p := range path {
		parts[i] = fmt.Sprint(p)
	}
	return strings.Join(parts, ".")
}

// run builds the case's fixture, sends its operation and checks the outcome:
// data without errors, or exactly one error with the expected code, path,
// field and message, and null data at that path.
func (c permCase) run(t *testing.T, e *env) {
	t.Helper()
	f := newFixture(e, c.cred)
	if c.prepare != nil {
		c.prepare(e, f)
	}
	vars := noVars
	if c.vars != nil {
		vars = c.vars
	}
	r := e.ask(f.token, c.query, vars(f))
	if r.Status != http.StatusOK {
		t.Fatalf("HTTP status %d, want 200: %s", r.Status, r.Raw)
	}
	if c.want == "" && len(r.Errors) > 0 {
		t.Fatalf("unexpected errors: %s", r.Raw)
	}
	if c.want != "" {
		if len(r.Errors) != 1 || r.Code() != c.want {
			t.Fatalf("want exactly one %s error, got %s", c.want, r.Raw)
		}
		if got := pathString(r.Errors[0].Path); got != c.errPath() {
			t.Errorf("error path = %s, want %s", got, c.errPath())
		}
		if r.Field() != c.field {
			t.Errorf("extensions.field = %q, want %q", r.Field(), c.field)
		}
		if !strings.Contains(r.Errors[0].Message, c.message) {
			t.Errorf("message %q does not contain %q", r.Errors[0].Message, c.message)
		}
		if v := dataAt(t, r, c.errPath()); v != nil {
			t.Errorf("data.%s = %v, want null", c.errPath(), v)
		}
	}
	if c.check != nil {
		c.check(t, e, f, r)
	}
}

// tenantFieldCases covers a permission-gated Tenant field: anonymous and
// permission-less callers cannot reach a tenant at all; a key reaching a
// tenant without the field's permission gets FORBIDDEN at the field only.
func tenantFieldCases(field, sel, perm string) []permCase {
	op := "Tenant." + field
	viaTenant := `query($id: ID!) { tenant(id: $id) { id ` + sel + ` } }`
	viaMe := `{ me { id name ` + sel + ` } }`
	path := "tenant." + field
	reader := keyWith("TENANT_MANAGE", "TENANT_READ")
	if perm != "TENANT_READ" {
		reader = keyWith("TENANT_MANAGE", "TENANT_READ", perm)
	}
	cases := []permCase{
		{op: op, cred: credAnonymous, query: viaTenant, vars: targetIDVar, want: "UNAUTHENTICATED", path: "tenant"},
		{op: op, cred: keyWith("USAGE_WRITE"), query: viaTenant, vars: targetIDVar, want: "FORBIDDEN", path: "tenant"},
		{op: op, cred: reader, query: viaTenant, vars: targetIDVar,
			check: wantAll(wantAt("tenant.id", targetTenant), wantNotNull(path))},
		{op: op, cred: credAdmin, query: viaTenant, vars: targetIDVar,
			check: wantAll(wantAt("tenant.id", targetTenant), wantNotNull(path))},
	}
	if perm == "TENANT_READ" {
		// Reach the tenant through updateTenant, which needs TENANT_UPDATE only.
		return append(cases,
			permCase{op: op, cred: keyWith("TENANT_UPDATE"), query: `mutation { updateTenant(input: {name: "Renamed Co"}) { tenant { id ` + sel + ` } } }`,
				want: "FORBIDDEN", path: "updateTenant.tenant." + field, message: "TENANT_READ",
				check: wantAt("updateTenant.tenant.id", ownTenant)},
			permCase{op: op, cred: keyWith("TENANT_READ"), query: viaMe, check: wantAll(wantAt("me.id", ownTenant), wantNotNull("me."+field))},
		)
	}
	return append(cases,
		permCase{op: op, cred: keyWith("TENANT_READ"), query: viaMe, want: "FORBIDDEN", path: "me." + field, message: perm,
			check: wantAt("me.name", value("Own Co"))},
		permCase{op: op, cred: keyWith("TENANT_READ", perm), query: viaMe, check: wantAt("me.id", ownTenant)},
	)
}

func permissionCases() []permCase {
	cases := []permCase{
		// me: the key's own tenant.
		{op: "me", cred: credAnonymous, query: qMe, want: "UNAUTHENTICATED"},
		{op: "me", cred: keyWith("USAGE_WRITE"), query: qMe, want: "FORBIDDEN", message: "TENANT_READ"},
		{op: "me", cred: keyWith("TENANT_MANAGE"), query: qMe, want: "FORBIDDEN", message: "TENANT_READ"},
		{op: "me", cred: keyWith("TENANT_READ"), query: qMe, check: wantAt("me.id", ownTenant)},
		{op: "me", cred: keyWith("TENANT_MANAGE", "TENANT_READ"), query: qMe, check: wantAt("me.id", ownTenant)},
		{op: "me", cred: credAdmin, query: qMe, want: "FORBIDDEN", message: "tenant(id:)"},

		// tenant(id:): own tenant with TENANT_READ, any with TENANT_MANAGE too.
		{op: "tenant", cred: credAnonymous, query: qTenant, vars: targetIDVar, want: "UNAUTHENTICATED"},
		{op: "tenant", cred: keyWith("USAGE_WRITE"), query: qTenant, vars: targetIDVar, want: "FORBIDDEN", message: "TENANT_READ"},
		{op: "tenant", cred: keyWith("TENANT_MANAGE"), query: qTenant, vars: targetIDVar, want: "FORBIDDEN", message: "TENANT_READ"},
		{op: "tenant", cred: keyWith("TENANT_READ"), query: qTenant, vars: targetIDVar, check: wantAt("tenant.id", ownTenant)},
		{op: "tenant", cred: keyWith("TENANT_READ"), variant: "otherTenant", query: qTenant, want: "NOT_FOUND",
			vars: func(f *fixture) map[string]any { return map[string]any{"id": f.other} }},
		{op: "tenant", cred: keyWith("TENANT_MANAGE", "TENANT_READ"), query: qTenant, vars: targetIDVar, check: wantAt("tenant.id", targetTenant)},
		{op: "tenant", cred: credAdmin, query: qTenant, vars: targetIDVar, check: wantAt("tenant.id", targetTenant)},

		// tenants: TENANT_MANAGE only.
		{op: "tenants", cred: credAnonymous, query: qTenants, want: "UNAUTHENTICATED"},
		{op: "tenants", cred: keyWith("USAGE_WRITE"), query: qTenants, want: "FORBIDDEN", message: "TENANT_MANAGE"},
		{op: "tenants", cred: keyWith("TENANT_READ"), query: qTenants, want: "FORBIDDEN", message: "TENANT_MANAGE"},
		{op: "tenants", cred: keyWith("TENANT_MANAGE"), query: qTenants,
			check: wantAll(wantListed("tenants.nodes", ownTenant), wantListed("tenants.nodes", targetTenant))},
		{op: "tenants", cred: credAdmin, query: qTenants,
			check: wantAll(wantListed("tenants.nodes", ownTenant), wantListed("tenants.nodes", targetTenant))},

		// node and nodes: what tenant(id:) needs, for a tenant; another
		// tenant's id is null (not NOT_FOUND: nothing tells it exists).
		{op: "node", cred: credAnonymous, query: qNodeTenant, vars: targetIDVar, want: "UNAUTHENTICATED"},
		{op: "node", cred: keyWith("USAGE_WRITE"), query: qNodeTenant, vars: targetIDVar, want: "FORBIDDEN", message: "TENANT_READ"},
		{op: "node", cred: keyWith("TENANT_MANAGE"), query: qNodeTenant, vars: targetIDVar, want: "FORBIDDEN", message: "TENANT_READ"},
		{op: "node", cred: keyWith("TENANT_READ"), query: qNodeTenant, vars: targetIDVar, check: wantAt("node.id", ownTenant)},
		{op: "node", cred: keyWith("TENANT_READ"), variant: "otherTenant", query: qNodeTenant,
			vars: func(f *fixture) map[string]any { return map[string]any{"id": f.other} }, check: wantAt("node", value(nil))},
		{op: "node", cred: keyWith("TENANT_MANAGE", "TENANT_READ"), query: qNodeTenant, vars: targetIDVar, check: wantAt("node.id", targetTenant)},
		{op: "node", cred: credAdmin, query: qNodeTenant, vars: targetIDVar, check: wantAt("node.id", targetTenant)},
		{op: "node", cred: credAnonymous, variant: "plan", query: qNodeTenant, vars: func(*fixture) map[string]any { return map[string]any{"id": "starter"} },
			check: wantAt("node.id", value("starter"))},
		{op: "nodes", cred: credAnonymous, query: qNodesTenant, vars: targetIDsVar, want: "UNAUTHENTICATED"},
		{op: "nodes", cred: keyWith("USAGE_WRITE"), query: qNodesTenant, vars: targetIDsVar, want: "FORBIDDEN", message: "TENANT_READ", path: "nodes.0"},
		{op: "nodes", cred: keyWith("TENANT_READ"), query: qNodesTenant, vars: targetIDsVar, check: wantAt("nodes.0.id", ownTenant)},
		{op: "nodes", cred: keyWith("TENANT_READ"), variant: "otherTenant", query: qNodesTenant,
			vars: func(f *fixture) map[string]any { return map[string]any{"ids": []string{f.other}} }, check: wantAt("nodes.0", value(nil))},
		{op: "nodes", cred: credAdmin, query: qNodesTenant, vars: targetIDsVar, check: wantAt("nodes.0.id", targetTenant)},

		// plans and viewer: no credentials needed.
		{op: "plans", cred: credAnonymous, query: qPlans, check: wantAt("plans.0.id", value("starter"))},
		{op: "plans", cred: keyWith("USAGE_WRITE"), query: qPlans, check: wantAt("plans.2.id", value("enterprise"))},
		{op: "plans", cred: credAdmin, query: qPlans, check: wantAt("plans.1.id", value("professional"))},
		{op: "viewer", cred: credAnonymous, query: qViewer,
			check: wantAll(wantAt("viewer.kind", value("ANONYMOUS")), wantAt("viewer.tenantId", value(nil)), wantAt("viewer.permissions", value([]any{})))},
		{op: "viewer", cred: keyWith("USAGE_WRITE"), query: qViewer,
			check: wantAll(wantAt("viewer.kind", value("API_KEY")), wantAt("viewer.tenantId", ownTenant), wantAt("viewer.permissions", value([]any{"USAGE_WRITE"})))},
		{op: "viewer", cred: credAdmin, query: qViewer,
			check: wantAll(wantAt("viewer.kind", value("ADMIN")), wantAt("viewer.tenantId", value(nil)), wantAt("viewer.permissions.0", value("TENANT_MANAGE")))},

		// createTenant: TENANT_MANAGE only.
		{op: "createTenant", cred: credAnonymous, query: qCreateTenant, vars: newTenantInput, want: "UNAUTHENTICATED"},
		{op: "createTenant", cred: keyWith("USAGE_WRITE"), query: qCreateTenant, vars: newTenantInput, want: "FORBIDDEN", message: "TENANT_MANAGE"},
		{op: "createTenant", cred: keyWith("TENANT_READ"), query: qCreateTenant, vars: newTenantInput, want: "FORBIDDEN", message: "TENANT_MANAGE"},
		{op: "createTenant", cred: keyWith("TENANT_MANAGE"), query: qCreateTenant, vars: newTenantInput, check: wantAt("createTenant.tenant.status", value("ACTIVE"))},
		{op: "createTenant", cred: credAdmin, query: qCreateTenant, vars: newTenantInput, check: wantAt("createTenant.tenant.status", value("ACTIVE"))},

		// updateTenant: TENANT_UPDATE; status also needs TENANT_MANAGE.
		{op: "updateTenant", cred: credAnonymous, query: qUpdateTenant, vars: renameInput, want: "UNAUTHENTICATED", check: targetUnchanged},
		{op: "updateTenant", cred: keyWith("USAGE_WRITE"), query: qUpdateTenant, vars: renameInput, want: "FORBIDDEN", message: "TENANT_UPDATE", check: targetUnchanged},
		{op: "updateTenant", cred: keyWith("TENANT_MANAGE"), query: qUpdateTenant, vars: renameInput, want: "FORBIDDEN", message: "TENANT_UPDATE", check: targetUnchanged},
		{op: "updateTenant", cred: keyWith("TENANT_UPDATE"), query: qUpdateTenant, vars: renameInput,
			check: wantAll(wantAt("updateTenant.tenant.id", ownTenant), wantAt("updateTenant.tenant.name", value("Renamed Co")))},
		{op: "updateTenant", cred: keyWith("TENANT_UPDATE"), variant: "status", query: qUpdateTenant, vars: suspendInput,
			want: "FORBIDDEN", field: "status", message: "TENANT_MANAGE", check: targetUnchanged},
		{op: "updateTenant", cred: keyWith("TENANT_MANAGE", "TENANT_UPDATE"), query: qUpdateTenant, vars: renameInput,
			check: wantAll(wantAt("updateTenant.tenant.id", targetTenant), wantAt("updateTenant.tenant.name", value("Renamed Co")))},
		{op: "updateTenant", cred: keyWith("TENANT_MANAGE", "TENANT_UPDATE"), variant: "status", query: qUpdateTenant, vars: suspendInput,
			check: wantAll(wantAt("updateTenant.tenant.id", targetTenant), wantAt("updateTenant.tenant.status", value("SUSPENDED")))},
		{op: "updateTenant", cred: credAdmin, query: qUpdateTenant, vars: renameInput,
			check: wantAll(wantAt("updateTenant.tenant.id", targetTenant), wantAt("updateTenant.tenant.name", value("Renamed Co")))},
		{op: "updateTenant", cred: credAdmin, variant: "status", query: qUpdateTenant, vars: suspendInput,
			check: wantAt("updateTenant.tenant.status", value("SUSPENDED"))},
		{op: "updateTenant", cred: credAdmin, variant: "noTenantId", query: qUpdateTenant, want: "BAD_USER_INPUT", field: "tenantId",
			vars: func(*fixture) map[string]any { return map[string]any{"in": map[string]any{"name": "Renamed Co"}} }},

		// updateTenantSettings: TENANT_UPDATE, another tenant with TENANT_MANAGE.
		{op: "updateTenantSettings", cred: credAnonymous, query: qUpdateSettings, vars: retentionInput, want: "UNAUTHENTICATED"},
		{op: "updateTenantSettings", cred: keyWith("USAGE_WRITE"), query: qUpdateSettings, vars: retentionInput, want: "FORBIDDEN", message: "TENANT_UPDATE"},
		{op: "updateTenantSettings", cred: keyWith("TENANT_MANAGE"), query: qUpdateSettings, vars: retentionInput, want: "FORBIDDEN", message: "TENANT_UPDATE"},
		{op: "updateTenantSettings", cred: keyWith("TENANT_UPDATE", "TENANT_READ"), query: qUpdateSettings, vars: retentionInput,
			check: wantAll(wantAt("updateTenantSettings.tenant.id", ownTenant), wantAt("updateTenantSettings.settings.auditLogRetentionDays", value(400.0)))},
		{op: "updateTenantSettings", cred: keyWith("TENANT_UPDATE"), variant: "payloadSettingsNeedRead", query: qUpdateSettings, vars: retentionInput,
			want: "FORBIDDEN", message: "TENANT_READ", path: "updateTenantSettings.settings"},
		{op: "updateTenantSettings", cred: keyWith("TENANT_MANAGE", "TENANT_UPDATE", "TENANT_READ"), query: qUpdateSettings, vars: retentionInput,
			check: wantAll(wantAt("updateTenantSettings.tenant.id", targetTenant), wantAt("updateTenantSettings.settings.auditLogRetentionDays", value(400.0)))},
		{op: "updateTenantSettings", cred: credAdmin, query: qUpdateSettings, vars: retentionInput,
			check: wantAll(wantAt("updateTenantSettings.tenant.id", targetTenant), wantAt("updateTenantSettings.settings.auditLogRetentionDays", value(400.0)))},

		// deleteTenant: TENANT_DELETE, another tenant with TENANT_MANAGE.
		{op: "deleteTenant", cred: credAnonymous, query: qDeleteTenant, vars: deleteInput, want: "UNAUTHENTICATED", check: targetUnchanged},
		{op: "deleteTenant", cred: keyWith("USAGE_WRITE"), query: qDeleteTenant, vars: deleteInput, want: "FORBIDDEN", message: "TENANT_DELETE", check: targetUnchanged},
		{op: "deleteTenant", cred: keyWith("TENANT_MANAGE"), query: qDeleteTenant, vars: deleteInput, want: "FORBIDDEN", message: "TENANT_DELETE", check: targetUnchanged},
		{op: "deleteTenant", cred: keyWith("TENANT_DELETE"), query: qDeleteTenant, vars: deleteInput,
			check: wantAll(wantAt("deleteTenant.tenant.id", ownTenant), wantAt("deleteTenant.tenant.status", value("DELETED")))},
		{op: "deleteTenant", cred: keyWith("TENANT_MANAGE", "TENANT_DELETE"), query: qDeleteTenant, vars: deleteInput,
			check: wantAll(wantAt("deleteTenant.tenant.id", targetTenant), wantAt("deleteTenant.tenant.status", value("DELETED")))},
		{op: "deleteTenant", cred: credAdmin, query: qDeleteTenant, vars: deleteInput,
			check: wantAll(wantAt("deleteTenant.tenant.id", targetTenant), wantAt("deleteTenant.tenant.status", value("DELETED")))},

		// restoreTenant: TENANT_MANAGE only.
		{op: "restoreTenant", cred: credAnonymous, query: qRestoreTenant, vars: restoreOther, prepare: deleteOther, want: "UNAUTHENTICATED"},
		{op: "restoreTenant", cred: keyWith("USAGE_WRITE"), query: qRestoreTenant, vars: restoreOther, prepare: deleteOther, want: "FORBIDDEN", message: "TENANT_MANAGE"},
		{op: "restoreTenant", cred: keyWith("TENANT_READ", "TENANT_UPDATE", "TENANT_DELETE"), query: qRestoreTenant, vars: restoreOther, prepare: deleteOther, want: "FORBIDDEN", message: "TENANT_MANAGE"},
		{op: "restoreTenant", cred: keyWith("TENANT_MANAGE"), query: qRestoreTenant, vars: restoreOther, prepare: deleteOther,
			check: wantAll(wantAt("restoreTenant.tenant.id", targetTenant), wantAt("restoreTenant.tenant.status", value("ACTIVE")))},
		{op: "restoreTenant", cred: credAdmin, query: qRestoreTenant, vars: restoreOther, prepare: deleteOther,
			check: wantAll(wantAt("restoreTenant.tenant.id", targetTenant), wantAt("restoreTenant.tenant.status", value("ACTIVE")))},

		// createApiKey: API_KEYS_WRITE, and only permissions the creator holds.
		{op: "createApiKey", cred: credAnonymous, query: qCreateAPIKey, vars: newKeyInput("USAGE_WRITE"), want: "UNAUTHENTICATED"},
		{op: "createApiKey", cred: keyWith("USAGE_WRITE"), query: qCreateAPIKey, vars: newKeyInput("USAGE_WRITE"), want: "FORBIDDEN", message: "API_KEYS_WRITE"},
		{op: "createApiKey", cred: keyWith("TENANT_MANAGE"), query: qCreateAPIKey, vars: newKeyInput("TENANT_MANAGE"), want: "FORBIDDEN", message: "API_KEYS_WRITE"},
		{op: "createApiKey", cred: keyWith("API_KEYS_WRITE"), query: qCreateAPIKey, vars: newKeyInput("API_KEYS_WRITE"),
			check: wantAll(wantAt("createApiKey.apiKey.permissions", value([]any{"API_KEYS_WRITE"})), newKeyWorksFor)},
		{op: "createApiKey", cred: keyWith("API_KEYS_WRITE"), variant: "grantUnheld", query: qCreateAPIKey, vars: newKeyInput("TENANT_READ"),
			want: "FORBIDDEN", field: "permissions", message: "TENANT_READ"},
		{op: "createApiKey", cred: keyWith("API_KEYS_WRITE", "TENANT_READ"), variant: "grantHeld", query: qCreateAPIKey, vars: newKeyInput("TENANT_READ"),
			check: wantAll(wantAt("createApiKey.apiKey.permissions", value([]any{"TENANT_READ"})), newKeyWorksFor)},
		{op: "createApiKey", cred: keyWith("TENANT_MANAGE", "API_KEYS_WRITE"), query: qCreateAPIKey, vars: newKeyInput("API_KEYS_WRITE"), check: newKeyWorksFor},
		{op: "createApiKey", cred: credAdmin, query: qCreateAPIKey, vars: newKeyInput("TENANT_READ", "USAGE_WRITE"), check: newKeyWorksFor},

		// revokeApiKey: API_KEYS_WRITE, another tenant's key with TENANT_MANAGE.
		{op: "revokeApiKey", cred: credAnonymous, query: qRevokeAPIKey, vars: revokeTargetKey, want: "UNAUTHENTICATED"},
		{op: "revokeApiKey", cred: keyWith("USAGE_WRITE"), query: qRevokeAPIKey, vars: revokeTargetKey, want: "FORBIDDEN", message: "API_KEYS_WRITE"},
		{op: "revokeApiKey", cred: keyWith("TENANT_MANAGE"), query: qRevokeAPIKey, vars: revokeTargetKey, want: "FORBIDDEN", message: "API_KEYS_WRITE"},
		{op: "revokeApiKey", cred: keyWith("API_KEYS_WRITE"), query: qRevokeAPIKey, vars: revokeTargetKey,
			check: wantAll(wantAt("revokeApiKey.apiKey.id", func(f *fixture) any { return f.ownKey }), wantAt("revokeApiKey.apiKey.status", value("REVOKED")))},
		{op: "revokeApiKey", cred: keyWith("TENANT_MANAGE", "API_KEYS_WRITE"), query: qRevokeAPIKey, vars: revokeTargetKey,
			check: wantAll(wantAt("revokeApiKey.apiKey.id", func(f *fixture) any { return f.otherKey }), wantAt("revokeApiKey.apiKey.status", value("REVOKED")))},
		{op: "revokeApiKey", cred: credAdmin, query: qRevokeAPIKey, vars: revokeTargetKey,
			check: wantAll(wantAt("revokeApiKey.apiKey.id", func(f *fixture) any { return f.otherKey }), wantAt("revokeApiKey.apiKey.status", value("REVOKED")))},
	}
	cases = append(cases, tenantFieldCases("plan", "plan { id }", "TENANT_READ")...)
	cases = append(cases, tenantFieldCases("settings", "settings { version }", "TENANT_READ")...)
	cases = append(cases, tenantFieldCases("limits", "limits { apiRequestsPerMinute }", "TENANT_READ")...)
	cases = append(cases, tenantFieldCases("usage", "usage { activeUsers }", "TENANT_READ")...)
	cases = append(cases, tenantFieldCases("apiKeys", "apiKeys { nodes { id } }", "API_KEYS_READ")...)
	cases = append(cases, ssoPermissionCases()...) // sso_test.go
	cases = append(cases, notificationPermissionCases()...)
	cases = append(cases, screeningPermissionCases()...)
	cases = append(cases, billingPermissionCases()...)
	cases = append(cases, usagePermissionCases()...)    // usage_test.go
	cases = append(cases, auditPermissionCases()...)    // audit_test.go
	cases = append(cases, eventPermissionCases()...)    // events_test.go
	cases = append(cases, emailPermissionCases()...)    // email_test.go
	cases = append(cases, deliveryPermissionCases()...) // delivery_test.go
	cases = append(cases, replayPermissionCases()...)   // thresholds_test.go
	cases = append(cases, memberPermissionCases()...)   // members_test.go
	return cases
}

// apiKeysListCases check that apiKeys lists exactly the reached tenant's keys.
func apiKeysListCases() []permCase {
	q := `query($id: ID!) { tenant(id: $id) { id apiKeys(first: 100, includeRevoked: true) { nodes { id } } } }`
	return []permCase{
		{op: "Tenant.apiKeys", variant: "listsTargetKeys", cred: keyWith("TENANT_MANAGE", "TENANT_READ", "API_KEYS_READ"), query: q, vars: targetIDVar,
			check: wantOnly("tenant.apiKeys.nodes", func(f *fixture) []string { return []string{f.otherKey} })},
		{op: "Tenant.apiKeys", variant: "listsTargetKeys", cred: credAdmin, query: q, vars: targetIDVar,
			check: wantOnly("tenant.apiKeys.nodes", func(f *fixture) []string { return []string{f.otherKey} })},
	}
}

// TestPermissions runs the permission table: every root field, mutation and
// permission-gated Tenant field against each kind of credential.
func TestPermissions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := append(permissionCases(), apiKeysListCases()...)
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name()] {
			t.Fatalf("duplicate case name %s", c.name())
		}
		seen[c.name()] = true
		if c.want == "" && c.check == nil {
			t.Fatalf("case %s succeeds but checks nothing", c.name())
		}
		t.Run(c.name(), func(t *testing.T) {
			t.Parallel()
			c.run(t, e.withT(t))
		})
	}
}

// TestPermissionsCoverSchema checks the table names every root field and
// mutation of the schema, so a new one cannot go untested.
func TestPermissionsCoverSchema(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var out struct {
		Query    struct{ Fields []struct{ Name string } } `json:"query"`
		Mutation struct{ Fields []struct{ Name string } } `json:"mutation"`
		Tenant   struct {
			Fields []struct{ Name string }
		} `json:"tenant"`
	}
	e.mustGQL("", `{ query: __type(name: "Query") { fields { name } } mutation: __type(name: "Mutation") { fields { name } }
		tenant: __type(name: "Tenant") { fields { name } } }`, nil, &out)
	covered := map[string]bool{}
	for _, c := range permissionCases() {
		covered[c.op] = true
	}
	var fields []string
	for _, f := range out.Query.Fields {
		fields = append(fields, f.Name)
	}
	for _, f := range out.Mutation.Fields {
		fields = append(fields, f.Name)
	}
	for _, f := range slices.Concat([]string{"plan", "settings", "limits", "usage", "apiKeys", "notificationChannels", "sso", "auditLog", "events", "webhookDeliveries", "members"}, screeningTenantFields, usageTenantFields, billingTenantFields) {
		fields = append(fields, "Tenant."+f)
	}
	for _, f := range fields {
		if !covered[f] {
			t.Errorf("the permission table has no case for %s", f)
		}
	}
}

// TestPermissionEnum checks the GraphQL Permission enum is exactly
// tenant.AllPermissions, in order, each description giving the string form.
func TestPermissionEnum(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var out struct {
		Type struct {
			EnumValues []struct{ Name, Description string }
		} `json:"__type"`
	}
	e.mustGQL("", `{ __type(name: "Permission") { enumValues { name description } } }`, nil, &out)
	var got []string
	for _, v := range out.Type.EnumValues {
		got = append(got, v.Name)
	}
	if want := enumNames(tenant.AllPermissions); !slices.Equal(got, want) {
		t.Fatalf("Permission enum = %v\nwant tenant.AllPermissions = %v", got, want)
	}
	for i, v := range out.Type.EnumValues {
		p := tenant.AllPermissions[i]
		if form := "`" + string(p) + "`"; !strings.Contains(v.Description, form) {
			t.Errorf("description of %s = %q, want it to contain %s", v.Name, v.Description, form)
		}
		if back, ok := tenant.PermissionFromEnum(v.Name); !ok || back != p {
			t.Errorf("PermissionFromEnum(%s) = %q, %v; want %q", v.Name, back, ok, p)
		}
	}
}

// TestSchemaIsDocumented checks every type, field, argument, input field and
// enum value of the schema has a description: the schema is the reference.
func TestSchemaIsDocumented(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	type described struct{ Name, Description string }
	var out struct {
		Schema struct {
			Types []struct {
				described
				Kind   string
				Fields []struct {
					described
					Args []described
				}
				InputFields []described
				EnumValues  []described
			}
			Directives []struct {
				described
				Args []described
			}
		} `json:"__schema"`
	}
	e.mustGQL("", `{ __schema { types { kind name description
		fields { name description args { name description } }
		inputFields { name description }
		enumValues { name description } }
		directives { name description args { name description } } } }`, nil, &out)
	builtin := map[string]bool{"String": true, "Int": true, "Float": true, "Boolean": true, "ID": true}
	missing := func(what string, d described) {
		if strings.TrimSpace(d.Description) == "" {
			t.Errorf("%s has no description", what)
		}
	}
	n := 0
	for _, ty := range out.Schema.Types {
		if strings.HasPrefix(ty.Name, "__") || builtin[ty.Name] {
			continue
		}
		n++
		missing(ty.Kind+" "+ty.Name, ty.described)
		for _, f := range ty.Fields {
			missing(ty.Name+"."+f.Name, f.described)
			for _, a := range f.Args {
				missing(ty.Name+"."+f.Name+"("+a.Name+":)", a)
			}
		}
		for _, f := range ty.InputFields {
			missing(ty.Name+"."+f.Name, f)
		}
		for _, v := range ty.EnumValues {
			missing(ty.Name+"."+v.Name, v)
		}
	}
	for _, d := range out.Schema.Directives {
		missing("@"+d.Name, d.described)
		for _, a := range d.Args {
			missing("@"+d.Name+"("+a.Name+":)", a)
		}
	}
	if n < 20 {
		t.Fatalf("introspection returned only %d schema types", n)
	}
}
