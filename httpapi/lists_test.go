package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"tenantapi/httpapi"
	"tenantapi/resolvers"
	"tenantapi/tenant"
)

// This file checks that nothing a tenant stores makes a response grow
// without bound: the cap of active API keys, the apiKeys connection, the
// cost of every list field, and the bounds written lists are held to.

// createKeyAs runs createApiKey with token and returns the response.
func createKeyAs(e *env, token string, in map[string]any) *result {
	e.t.Helper()
	return e.gql(token, `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret apiKey { id expiresAt } } }`, map[string]any{"in": in})
}

// activeKeys counts tenantID's keys in the database that are neither
// revoked nor expired.
func activeKeys(e *env, tenantID string) int {
	e.t.Helper()
	var n int
	if err := e.raw().Get(&n, `SELECT count(*) FROM api_keys WHERE tenant_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`, tenantID); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func wantCode(t *testing.T, r *result, code, field, msg string) {
	t.Helper()
	if r.Code() != code || r.Field() != field || len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, msg) {
		t.Fatalf("want %s on %q with a message containing %q, got %s", code, field, msg, r.Raw)
	}
}

// TestAPIKeyActiveCap: createApiKey past API_KEYS_MAX_ACTIVE is refused
// with CONFLICT naming the limit and saves nothing; a revoked or expired key
// frees its place.
func TestAPIKeyActiveCap(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, func(c *httpapi.Config) { c.MaxActiveAPIKeys = 3 })
	id := e.createTenant("Capped", "capped.example")
	in := func(name string) map[string]any {
		return map[string]any{"tenantId": id, "name": name, "permissions": []string{"TENANT_READ"}}
	}
	var ids []string
	t.Run("OK", func(t *testing.T) {
		for i := range 3 {
			var out struct {
				CreateApiKey struct{ ApiKey struct{ ID string } }
			}
			e.withT(t).mustGQL(testAdminSecret, `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { apiKey { id } } }`,
				map[string]any{"in": in(fmt.Sprintf("key %d", i))}, &out)
			ids = append(ids, out.CreateApiKey.ApiKey.ID)
		}
	})
	t.Run("ErrPastCap", func(t *testing.T) {
		e := e.withT(t)
		r := createKeyAs(e, testAdminSecret, in("one too many"))
		wantCode(t, r, "CONFLICT", "", "already has 3 active API keys, the most allowed")
		if n := activeKeys(e, id); n != 3 {
			t.Errorf("%d active keys after the refusal, want 3", n)
		}
		var total int
		if err := e.raw().Get(&total, `SELECT count(*) FROM api_keys WHERE tenant_id = $1`, id); err != nil || total != 3 {
			t.Errorf("%d keys stored (err %v), want 3: the refused key was saved", total, err)
		}
	})
	t.Run("RevokedFreesAPlace", func(t *testing.T) {
		e := e.withT(t)
		e.mustGQL(testAdminSecret, `mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { status } } }`, map[string]any{"id": ids[0]}, nil)
		e.mustGQL(testAdminSecret, `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret } }`, map[string]any{"in": in("replacement")}, nil)
		wantCode(t, createKeyAs(e, testAdminSecret, in("again too many")), "CONFLICT", "", "3 active API keys")
	})
	t.Run("ExpiredFreesAPlace", func(t *testing.T) {
		e := e.withT(t)
		if _, err := e.raw().Exec(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, ids[1]); err != nil {
			t.Fatal(err)
		}
		e.mustGQL(testAdminSecret, `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret } }`, map[string]any{"in": in("after expiry")}, nil)
		if n := activeKeys(e, id); n != 3 {
			t.Errorf("%d active keys, want 3", n)
		}
	})
}

// TestAPIKeyActiveCapDefault: without API_KEYS_MAX_ACTIVE the cap is 50.
func TestAPIKeyActiveCapDefault(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Default cap", "default-cap.example")
	ctx := tenant.WithActor(context.Background(), &tenant.Actor{Kind: tenant.Admin})
	for i := range tenant.DefaultMaxActiveAPIKeys {
		if _, _, err := e.store.CreateAPIKey(ctx, tenant.NewAPIKeyInput{TenantID: id, Name: fmt.Sprintf("k%d", i), Permissions: []tenant.Permission{tenant.PermTenantRead}}); err != nil {
			t.Fatalf("key %d: %v", i+1, err)
		}
	}
	r := createKeyAs(e, testAdminSecret, map[string]any{"tenantId": id, "name": "51st", "permissions": []string{"TENANT_READ"}})
	wantCode(t, r, "CONFLICT", "", "already has 50 active API keys")
}

// TestAPIKeyActiveCapConcurrent: creations racing at the last free place
// are counted one after another (the tenant's row is locked): exactly one
// succeeds.
func TestAPIKeyActiveCapConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, func(c *httpapi.Config) { c.MaxActiveAPIKeys = 5 })
	id := e.createTenant("Racing", "racing.example")
	for range 4 {
		e.createKey(id, "TENANT_READ")
	}
	const n = 8
	results := make([]*result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", strings.NewReader(fmt.Sprintf(
				`{"query":"mutation { createApiKey(input: {tenantId: \"%s\", name: \"racer %d\", permissions: [TENANT_READ]}) { secret } }"}`, id, i)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+testAdminSecret)
			results[i] = e.do(req)
		})
	}
	close(start)
	wg.Wait()
	ok, refused := 0, 0
	for _, r := range results {
		switch {
		case len(r.Errors) == 0:
			ok++
		case r.Code() == "CONFLICT" && strings.Contains(r.Errors[0].Message, "5 active API keys"):
			refused++
		default:
			t.Errorf("unexpected answer: %s", r.Raw)
		}
	}
	if ok != 1 || refused != n-1 {
		t.Errorf("%d created and %d refused, want 1 and %d", ok, refused, n-1)
	}
	if got := activeKeys(e, id); got != 5 {
		t.Errorf("%d active keys, want 5", got)
	}
}

// TestAPIKeyCannotOutliveCreator: a key that expires creates only keys
// that expire at or before it; the admin secret and keys without expiry
// are unrestricted.
func TestAPIKeyCannotOutliveCreator(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Short-lived", "short-lived.example")
	creatorExpiry := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	perms := []string{"TENANT_READ", "API_KEYS_WRITE"}
	_, expiring, _ := newKey(e, id, map[string]any{"name": "expires in an hour", "permissions": perms, "expiresAt": creatorExpiry.Format(time.RFC3339)})
	_, forever, _ := newKey(e, id, map[string]any{"name": "never expires", "permissions": perms})
	limit := creatorExpiry.Format(time.RFC3339)
	in := func(expires *time.Time) map[string]any {
		m := map[string]any{"name": "child", "permissions": []string{"TENANT_READ"}}
		if expires != nil {
			m["expiresAt"] = expires.Format(time.RFC3339Nano)
		}
		return m
	}
	at := func(d time.Duration) *time.Time { t := creatorExpiry.Add(d); return &t }
	tests := []struct {
		name    string
		token   string
		expires *time.Time
		msg     string // "" = created
	}{
		{"ErrNoExpiry", expiring, nil, "expiresAt is required: the API key creating this key expires at " + limit},
		{"ErrLaterExpiry", expiring, at(time.Second), "expiresAt must be at or before " + limit},
		{"ErrMuchLater", expiring, at(365 * 24 * time.Hour), "a key cannot outlive its creator"},
		{"OKSameExpiry", expiring, at(0), ""},
		{"OKEarlier", expiring, at(-30 * time.Minute), ""},
		{"OKCreatorNeverExpires", forever, nil, ""},
		{"OKCreatorNeverExpiresLater", forever, at(24 * time.Hour), ""},
		{"OKAdmin", testAdminSecret, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.withT(t)
			m := in(tt.expires)
			if tt.token == testAdminSecret {
				m["tenantId"] = id
			}
			var before int
			if err := e.raw().Get(&before, `SELECT count(*) FROM api_keys WHERE tenant_id = $1`, id); err != nil {
				t.Fatal(err)
			}
			r := createKeyAs(e, tt.token, m)
			if tt.msg != "" {
				wantCode(t, r, "BAD_USER_INPUT", "expiresAt", tt.msg)
				var after int
				if err := e.raw().Get(&after, `SELECT count(*) FROM api_keys WHERE tenant_id = $1`, id); err != nil || after != before {
					t.Errorf("%d keys before, %d after a refusal (err %v)", before, after, err)
				}
				return
			}
			var out struct {
				CreateApiKey struct {
					ApiKey struct{ ExpiresAt *time.Time }
				}
			}
			r.Decode(t, &out)
			got := out.CreateApiKey.ApiKey.ExpiresAt
			if (got == nil) != (tt.expires == nil) || (got != nil && !got.Equal(*tt.expires)) {
				t.Errorf("expiresAt = %v, want %v", got, tt.expires)
			}
		})
	}
}

// apiKeyPage is one page of Tenant.apiKeys as decoded.
type apiKeyPage struct {
	TotalCount int
	Edges      []struct {
		Cursor string
		Node   struct{ ID, Name, Status string }
	}
	PageInfo struct {
		HasNextPage bool
		EndCursor   *string
	}
}

// TestAPIKeysConnection pages through a tenant's keys, newest first, with
// and without the revoked ones, and refuses bad page arguments.
func TestAPIKeysConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Paged", "paged.example")
	var created []string // oldest first
	for i := range 7 {
		_, _, k := newKey(e, id, map[string]any{"name": fmt.Sprintf("key %d", i), "permissions": []string{"TENANT_READ"}})
		created = append(created, k.ID)
	}
	for _, k := range created[1:3] {
		e.mustGQL(testAdminSecret, `mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { status } } }`, map[string]any{"id": k}, nil)
	}
	reader := e.createKey(id, "TENANT_READ", "API_KEYS_READ") // the newest, an eighth key
	walk := func(t *testing.T, includeRevoked bool) (ids []string, total int) {
		var after *string
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("more than 10 pages of 3")
			}
			var out struct{ Me struct{ ApiKeys apiKeyPage } }
			e.withT(t).mustGQL(reader, `query($after: String, $rev: Boolean) { me { apiKeys(first: 3, after: $after, includeRevoked: $rev) {
				totalCount edges { cursor node { id name status } } pageInfo { hasNextPage endCursor } } } }`,
				map[string]any{"after": after, "rev": includeRevoked}, &out)
			p := out.Me.ApiKeys
			if len(p.Edges) > 3 {
				t.Fatalf("a page of %d keys, first: 3", len(p.Edges))
			}
			total = p.TotalCount
			for _, ed := range p.Edges {
				ids = append(ids, ed.Node.ID)
			}
			if !p.PageInfo.HasNextPage {
				return ids, total
			}
			if p.PageInfo.EndCursor == nil || *p.PageInfo.EndCursor != p.Edges[len(p.Edges)-1].Cursor {
				t.Fatalf("endCursor %v is not the last edge's cursor", p.PageInfo.EndCursor)
			}
			after = p.PageInfo.EndCursor
		}
	}
	var readerID string
	var v struct{ Viewer viewerInfo }
	e.mustGQL(reader, viewerQuery, nil, &v)
	readerID = v.Viewer.APIKeyID
	newestFirst := func(skip map[string]bool) []string {
		out := []string{readerID}
		for i := len(created) - 1; i >= 0; i-- {
			if !skip[created[i]] {
				out = append(out, created[i])
			}
		}
		return out
	}
	t.Run("Active", func(t *testing.T) {
		ids, total := walk(t, false)
		want := newestFirst(map[string]bool{created[1]: true, created[2]: true})
		if strings.Join(ids, ",") != strings.Join(want, ",") || total != len(want) {
			t.Errorf("pages hold %v (totalCount %d), want %v (%d)", ids, total, want, len(want))
		}
	})
	t.Run("IncludeRevoked", func(t *testing.T) {
		ids, total := walk(t, true)
		want := newestFirst(nil)
		if strings.Join(ids, ",") != strings.Join(want, ",") || total != 8 {
			t.Errorf("pages hold %v (totalCount %d), want %v (8)", ids, total, want)
		}
	})
	t.Run("ErrBadCursor", func(t *testing.T) {
		r := e.withT(t).gql(reader, `{ me { apiKeys(first: 3, after: "bm90IGEgY3Vyc29y") { totalCount } } }`, nil)
		wantCode(t, r, "BAD_USER_INPUT", "after", "after is not a cursor returned by this API")
	})
	t.Run("ErrPageTooLarge", func(t *testing.T) {
		r := e.withT(t).gql(reader, `{ me { apiKeys(first: 101) { totalCount } } }`, nil)
		wantCode(t, r, "BAD_USER_INPUT", "first", "first must be between 1 and 100 (the page size of Tenant.apiKeys), got 101")
	})
}

// TestAliasedAPIKeysRefusedByCost: the 30 aliased `me { apiKeys }` that
// returned 12.7 MB are refused before anything runs: each page of 100
// keys costs 100 × what a key selects, its permissions counted at their
// maximum.
func TestAliasedAPIKeysRefusedByCost(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Aliased", "aliased.example")
	key := e.createKey(id, "TENANT_READ", "API_KEYS_READ")
	e.mustGQL(key, viewerQuery, nil, nil) // its first use writes lastUsedAt
	one := `me { apiKeys(first: 100, includeRevoked: true) { nodes { id name prefix permissions status createdAt createdBy expiresAt lastUsedAt revokedAt } } }`
	var b strings.Builder
	b.WriteString("{")
	for i := range 30 {
		fmt.Fprintf(&b, " a%d: %s", i, one)
	}
	b.WriteString(" }")
	_, cost, err := httpapi.Measure(b.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	e.store.WaitBackground()
	before := e.store.Statements.Load()
	r := e.gql(key, b.String(), nil)
	if r.Code() != "QUERY_TOO_COMPLEX" || !strings.Contains(r.Errors[0].Message, fmt.Sprintf("the query costs %d, over the limit of 50000", cost)) {
		t.Fatalf("want QUERY_TOO_COMPLEX naming the cost %d, got %s", cost, r.Raw)
	}
	e.store.WaitBackground()
	if n := e.store.Statements.Load() - before; n > 1 { // the key lookup
		t.Errorf("%d statements ran for a refused document", n)
	}
	// One page is fine: 100 keys × (nodes + 9 fields + 26 permissions) ≈ 3,700.
	e.mustGQL(key, "{ "+one+" }", nil, nil)
}

// TestEveryListFieldBounded walks the schema: every list field (but a
// connection's edges and nodes, bounded by its page size) has a bound in
// the cost model, and no bound names a field that does not exist.
func TestEveryListFieldBounded(t *testing.T) {
	schema := resolvers.NewSchema(nil, resolvers.Deps{}).Schema()
	seen := map[string]bool{}
	for _, typ := range schema.Types {
		if typ.BuiltIn || typ.Kind != ast.Object || strings.HasPrefix(typ.Name, "__") {
			continue
		}
		for _, f := range typ.Fields {
			if f.Type.Elem == nil || strings.HasPrefix(f.Name, "__") {
				continue
			}
			name := typ.Name + "." + f.Name
			seen[name] = true
			if strings.HasSuffix(typ.Name, "Connection") && (f.Name == "edges" || f.Name == "nodes") {
				continue
			}
			if n, ok := httpapi.ListBounds[name]; !ok || n < 1 {
				t.Errorf("%s returns a list with no bound in the cost model (listBounds): bound it on write and add it, or make it a connection", name)
			}
		}
	}
	for name := range httpapi.ListBounds {
		if !seen[name] {
			t.Errorf("listBounds names %s, which is not a list field of the schema", name)
		}
	}
}

// TestListFieldCost: a list field costs its bound times what each item
// selects, at least 1.
func TestListFieldCost(t *testing.T) {
	tests := []struct {
		name, query string
		want        int
	}{
		// me 1 + settings 1 + ipAllowlist 100
		{"ScalarList", `{ me { settings { ipAllowlist } } }`, 1 + 1 + tenant.MaxAllowlistEntries},
		// me 1 + keywords 1 + items 500 + version 1
		{"Keywords", `{ me { keywords { items version } } }`, 1 + 1 + tenant.MaxKeywords + 1},
		// me 1 + riskMatrix 1 + weights (checks × 2)
		{"ObjectList", `{ me { riskMatrix { weights { check weight } } } }`, 1 + 1 + len(tenant.WebChecks)*2},
		// me 1 + apiKeys: 20 (default first) × (nodes 1 + id 1 + permissions 26)
		{"ListInConnection", `{ me { apiKeys { nodes { id permissions } } } }`, 1 + 20*(1+1+len(tenant.AllPermissions))},
		{"Catalog", `{ plans { id } }`, tenant.MaxPlans * 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, cost, err := httpapi.Measure(tt.query, nil)
			if err != nil {
				t.Fatal(err)
			}
			if cost != tt.want {
				t.Errorf("cost %d, want %d", cost, tt.want)
			}
		})
	}
}

// TestListBoundsEnforcedOnWrite: the lists that grow with what a tenant
// records are held to their bound when written, atomically: credit grants
// and distinct token types; the catalogs and audit changes are within
// theirs.
func TestListBoundsEnforcedOnWrite(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Bounded", "bounded.example")
	t.Run("ErrTooManyCreditGrants", func(t *testing.T) {
		e := e.withT(t)
		if _, err := e.raw().Exec(`INSERT INTO credit_grants (tenant_id, amount, reason, created_at, created_by)
			SELECT $1, 1, 'bulk', now(), 'test' FROM generate_series(1, $2)`, id, tenant.MaxCreditGrants); err != nil {
			t.Fatal(err)
		}
		r := e.gql(testAdminSecret, `mutation($id: ID!) { grantCredits(input: {tenantId: $id, amount: 10, reason: "one more"}) { credits { granted } } }`, map[string]any{"id": id})
		wantCode(t, r, "CONFLICT", "", fmt.Sprintf("already has %d credit grants, the most allowed", tenant.MaxCreditGrants))
		var n int
		if err := e.raw().Get(&n, `SELECT count(*) FROM credit_grants WHERE tenant_id = $1`, id); err != nil || n != tenant.MaxCreditGrants {
			t.Errorf("%d grants (err %v), want %d", n, err, tenant.MaxCreditGrants)
		}
	})
	t.Run("ErrTooManyTokenTypes", func(t *testing.T) {
		e := e.withT(t)
		key := e.createKey(id, "USAGE_WRITE")
		now := time.Now().UTC().Format(time.RFC3339)
		batch := func(prefix string, from, n int) []map[string]any {
			var ev []map[string]any
			for i := from; i < from+n; i++ {
				ev = append(ev, map[string]any{"id": fmt.Sprintf("%s-%d", prefix, i), "occurredAt": now, "userId": "u", "platform": "chatgpt",
					"outcome": "LOGGED", "riskLevel": "LOW", "tokenType": fmt.Sprintf("type%d", i)})
			}
			return ev
		}
		q := `mutation($ev: [UsageEventInput!]!) { recordUsage(input: {events: $ev}) { accepted } }`
		e.mustGQL(key, q, map[string]any{"ev": batch("a", 0, tenant.MaxTokenTypes)}, nil)
		// Types already recorded are still accepted; one new type is not.
		e.mustGQL(key, q, map[string]any{"ev": batch("b", 0, 3)}, nil)
		r := e.gql(key, q, map[string]any{"ev": batch("c", tenant.MaxTokenTypes-1, 2)})
		wantCode(t, r, "BAD_USER_INPUT", "events", fmt.Sprintf("at most %d distinct token types (tokenType); this batch would bring it to %d", tenant.MaxTokenTypes, tenant.MaxTokenTypes+1))
		var types, events int
		if err := e.raw().Get(&types, `SELECT count(*) FROM usage_token_types WHERE tenant_id = $1`, id); err != nil || types != tenant.MaxTokenTypes {
			t.Errorf("%d token types (err %v), want %d", types, err, tenant.MaxTokenTypes)
		}
		if err := e.raw().Get(&events, `SELECT count(*) FROM usage_events WHERE tenant_id = $1 AND event_id LIKE 'c-%'`, id); err != nil || events != 0 {
			t.Errorf("%d events of the refused batch saved (err %v)", events, err)
		}
	})
	t.Run("CatalogsAndAuditWithinBounds", func(t *testing.T) {
		e := e.withT(t)
		var plans, widest int
		if err := e.raw().Get(&plans, `SELECT count(*) FROM plans`); err != nil || plans > tenant.MaxPlans {
			t.Errorf("%d plans (err %v), MaxPlans is %d", plans, err, tenant.MaxPlans)
		}
		if err := e.raw().Get(&widest, `SELECT max(n) FROM (SELECT count(*) AS n FROM pg_trigger tg
			JOIN pg_attribute a ON a.attrelid = tg.tgrelid AND a.attnum > 0 AND NOT a.attisdropped
			WHERE tg.tgname = 'audit' GROUP BY tg.tgrelid) w`); err != nil || widest == 0 || widest > tenant.MaxAuditChanges {
			t.Errorf("the widest audited table has %d columns (err %v), MaxAuditChanges is %d", widest, err, tenant.MaxAuditChanges)
		}
	})
}
