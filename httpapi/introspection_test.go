package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"tenantapi/httpapi"
)

// deepSchema is a deep __schema selection: every type with its fields,
// their arguments and types, input fields, enum values, interfaces and
// possible types, and every directive.
const deepSchema = `__schema { types { name kind description
  fields(includeDeprecated: true) { name description isDeprecated deprecationReason
    args { name description defaultValue type { name kind ofType { name kind ofType { name kind ofType { name kind } } } } }
    type { name kind ofType { name kind ofType { name kind ofType { name kind } } } } }
  inputFields { name description defaultValue type { name kind ofType { name kind ofType { name kind ofType { name kind } } } } }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  interfaces { name kind } possibleTypes { name kind } }
  directives { name description locations args { name description type { name kind ofType { name kind } } } } }`

// introspectionAliases is n aliases of deepSchema in one document: the
// review's 19 KB document, which answered 5.8 MB for free.
func introspectionAliases(n int) string {
	var b strings.Builder
	b.WriteString("{ ")
	for i := range n {
		fmt.Fprintf(&b, "s%d: %s\n", i, deepSchema)
	}
	b.WriteString("}")
	return b.String()
}

// TestIntrospectionIsPaid: introspection counts in the cost and depth
// limits. Thirty aliases of a deep __schema selection are refused with
// QUERY_TOO_COMPLEX before anything runs (anonymous or not), as are
// aliased __type selections; GraphiQL's own schema query and one deep
// __schema pass the default limits; introspection's nesting counts in
// QUERY_MAX_DEPTH (ofType excepted).
func TestIntrospectionIsPaid(t *testing.T) {
	t.Parallel()
	e := newGuardedEnv(t, nil)
	hostile := introspectionAliases(30)
	t.Logf("hostile document: %d bytes", len(hostile))
	_, graphiQLCost, err := httpapi.Measure(httpapi.GraphiQLIntrospectionQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, deepCost, err := httpapi.Measure("{ "+deepSchema+" }", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cost: GraphiQL's schema query %d, one deep __schema %d, limit %d", graphiQLCost, deepCost, httpapi.DefaultLimits.MaxCost)
	if deepCost*8 <= httpapi.DefaultLimits.MaxCost {
		t.Fatalf("one deep __schema costs %d: the cases below want 8 of them over the limit", deepCost)
	}
	if graphiQLCost < 1000 || graphiQLCost > httpapi.DefaultLimits.MaxCost {
		t.Errorf("GraphiQL's schema query costs %d: want the count of its answer's fields, within the default limit %d", graphiQLCost, httpapi.DefaultLimits.MaxCost)
	}

	// Every mutation with its input types' fields and their enum values.
	const typeSelection = `__type(name: "Mutation") { name description fields { name description isDeprecated deprecationReason
	  args { name description type { name kind ofType { name kind inputFields { name description defaultValue
	    type { name kind enumValues { name description } ofType { name kind enumValues { name description } ofType { name kind ofType { name kind } } } } } } } }
	  type { name kind ofType { name kind ofType { name kind ofType { name kind } } } } } }`
	_, typeCost, err := httpapi.Measure("{ "+typeSelection+" }", nil)
	if err != nil {
		t.Fatal(err)
	}
	// 30 of them are counted as 30 × what they answer, not 30 × what they
	// select (what gqlgen's walker counted): refused under a limit of 20,000.
	typeAliases := "{ " + repeat("t%d: "+typeSelection, 30) + "}"
	if typeCost*30 <= 20000 || typeCost > httpapi.DefaultLimits.MaxCost/2 {
		t.Fatalf("one __type(name: \"Mutation\") selection costs %d: want 30 of them over 20000, 2 within the default limit", typeCost)
	}
	limit20k := newGuardedEnv(t, func(c *httpapi.Config) { c.Limits = httpapi.Limits{MaxCost: 20000} })
	for _, c := range []struct {
		name, token, query string
		e                  *guardedEnv
		limit              int
	}{
		{"SchemaAliasesAnonymous", "", hostile, e, 50000},
		{"SchemaAliasesOperator", testAdminSecret, hostile, e, 50000},
		{"SchemaInFragments", "", "{ ...A ...B } fragment A on Query { " + repeat("a%d: "+deepSchema, 4) + " } fragment B on Query { " + repeat("b%d: "+deepSchema, 4) + " }", e, 50000},
		{"TypeAliases", "", typeAliases, limit20k, 20000},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := c.e
			fields, statements := e.fields.Load(), e.store.Statements.Load()
			req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(queryBody(c.query)))
			req.Header.Set("Content-Type", "application/json")
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			r := e.serve(req)
			if r.Code() != "QUERY_TOO_COMPLEX" || hasDataKey(t, r.Raw) {
				t.Fatalf("status %d code %q, want QUERY_TOO_COMPLEX and no data: %.400s", r.Status, r.Code(), r.Raw)
			}
			msg := r.Errors[0].Message
			for _, want := range []string{fmt.Sprintf("costs over the limit of %d", c.limit), "introspection costs one per field of its answer", fmt.Sprintf("GraphiQL's schema query costs %d", graphiQLCost)} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q, want it to contain %q", msg, want)
				}
			}
			if len(r.Raw) > 2000 {
				t.Errorf("a %d-byte refusal", len(r.Raw))
			}
			if n := e.fields.Load() - fields; n != 0 {
				t.Errorf("%d field resolvers ran", n)
			}
			if n := e.store.Statements.Load() - statements; n != 0 {
				t.Errorf("%d SQL statements were sent", n)
			}
		})
	}

	for name, q := range map[string]string{"GraphiQL": httpapi.GraphiQLIntrospectionQuery, "DeepSchema": "{ " + deepSchema + " }",
		"Type": `{ __type(name: "Tenant") { name fields { name type { name kind ofType { name kind } } } } }`, "TwoTypes": "{ a: " + typeSelection + " b: " + typeSelection + " }"} {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(queryBody(q)))
		req.Header.Set("Content-Type", "application/json")
		if r := e.serve(req); r.Status != http.StatusOK || len(r.Errors) > 0 || !bytes.Contains(r.Data, []byte(`"fields":[{"name":`)) {
			t.Errorf("%s, anonymous: status %d: %.400s", name, r.Status, r.Raw)
		}
	}

	// Depth: introspection's levels count in QUERY_MAX_DEPTH, ofType does not.
	tight := newGuardedEnv(t, func(c *httpapi.Config) { c.Limits = httpapi.Limits{MaxDepth: 4} })
	for _, c := range []struct {
		name, query, code string
	}{
		{"Depth5", `{ __schema { types { fields { args { name } } } } }`, "QUERY_TOO_DEEP"},
		{"Depth4", `{ __schema { types { fields { name } } } }`, ""},
		{"Depth4OfType", `{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }`, "QUERY_TOO_DEEP"},
		{"Depth3OfType", `{ __schema { types { interfaces { ofType { ofType { ofType { name } } } } } } }`, ""},
		{"OfType25", `{ __schema { types { ` + strings.Repeat("ofType { ", 25) + "name" + strings.Repeat(" }", 25) + ` } } }`, "QUERY_TOO_DEEP"},
	} {
		r := tight.serve(postBody(t, queryBody(c.query), ""))
		if r.Code() != c.code || (c.code == "" && r.Status != http.StatusOK) {
			t.Errorf("%s: status %d code %q, want %q: %.300s", c.name, r.Status, r.Code(), c.code, r.Raw)
		}
	}
}

// TestIntrospectionForAuthenticated: with IntrospectionAuthenticated
// (INTROSPECTION=authenticated, the production setting) an anonymous
// caller's __schema or __type is refused with INTROSPECTION_DISABLED and a
// message saying to authenticate, over POST, GET and a persisted-query
// hash, while an API key's and the operator's pass; __typename stays open;
// GraphiQL's page still loads (it sends the headers the user types).
func TestIntrospectionForAuthenticated(t *testing.T) {
	t.Parallel()
	e := newGuardedEnv(t, func(c *httpapi.Config) { c.Introspection = httpapi.IntrospectionAuthenticated })
	key := e.createKey(e.createTenant("Typed Client Co", randomDomain()), "TENANT_READ")
	send := func(method, token string, params map[string]any) *result {
		var req *http.Request
		if method == http.MethodGet {
			v := url.Values{}
			for k, x := range params {
				if s, ok := x.(string); ok {
					v.Set(k, s)
				} else {
					b, _ := json.Marshal(x)
					v.Set(k, string(b))
				}
			}
			req = httptest.NewRequest(http.MethodGet, "/graphql?"+v.Encode(), nil)
		} else {
			b, _ := json.Marshal(params)
			req = httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return e.serve(req)
	}
	wantRefused := func(t *testing.T, what string, r *result) {
		t.Helper()
		if r.Code() != "INTROSPECTION_DISABLED" || hasDataKey(t, r.Raw) {
			t.Fatalf("%s: status %d code %q, want INTROSPECTION_DISABLED and no data: %.400s", what, r.Status, r.Code(), r.Raw)
		}
		if msg := r.Errors[0].Message; !strings.Contains(msg, "introspection needs credentials") || !strings.Contains(msg, "Authorization: Bearer") {
			t.Fatalf("%s: message %q, want it to say to authenticate", what, msg)
		}
	}
	queries := map[string]string{
		"GraphiQL": httpapi.GraphiQLIntrospectionQuery,
		"Type":     `{ __type(name: "Tenant") { name } }`,
		"Fragment": `{ plans { id } ...F } fragment F on Query { __schema { queryType { name } } }`,
	}
	for name, q := range queries {
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			fields := e.fields.Load()
			wantRefused(t, name+" anonymous "+method, send(method, "", map[string]any{"query": q}))
			if n := e.fields.Load() - fields; n != 0 {
				t.Errorf("%s anonymous %s: %d field resolvers ran", name, method, n)
			}
			for who, token := range map[string]string{"API key": key, "operator": testAdminSecret} {
				if r := send(method, token, map[string]any{"query": q}); r.Status != http.StatusOK || len(r.Errors) > 0 || !bytes.Contains(r.Data, []byte(`"name"`)) {
					t.Errorf("%s with the %s over %s: status %d: %.300s", name, who, method, r.Status, r.Raw)
				}
			}
		}
	}
	// A persisted query stored by an authenticated caller is not a way in.
	q := `{ __schema { types { name } } }`
	if r := send(http.MethodPost, key, persisted(q, sha256Hex(q))); r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("persisting the query with the API key: %d %s", r.Status, r.Raw)
	}
	wantRefused(t, "persisted hash anonymous", send(http.MethodPost, "", persisted("", sha256Hex(q))))
	wantRefused(t, "persisted hash anonymous over GET", send(http.MethodGet, "", persisted("", sha256Hex(q))))
	if r := send(http.MethodPost, key, persisted("", sha256Hex(q))); r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Errorf("the persisted hash with the API key: %d %s", r.Status, r.Raw)
	}
	// The same document just passed for an authenticated caller: the
	// document cache must not let it through for an anonymous one.
	wantRefused(t, "cached document anonymous", send(http.MethodPost, "", map[string]any{"query": q}))

	if r := send(http.MethodPost, "", map[string]any{"query": `{ __typename plans { __typename id } }`}); r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Errorf("__typename anonymous: %d %s", r.Status, r.Raw)
	}
	for _, path := range []string{"/"} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Accept", "text/html")
		if r := e.serve(req); r.Status != http.StatusOK || !bytes.Contains(r.Raw, []byte("graphiql")) {
			t.Errorf("GET %s: %d %.300s", path, r.Status, r.Raw)
		}
	}
}
