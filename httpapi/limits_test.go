package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"tenantapi/db"
	"tenantapi/db/dbtest"
	"tenantapi/graphiql"
	"tenantapi/httpapi"
	"tenantapi/keyring"
)

// This file checks what protects the server before a request costs
// anything: the query limits (each refused with its own code, before any
// resolver runs or any statement is sent), persisted queries, the
// introspection and suggestion switches, the refusal of cross-site simple
// requests, deadlines and the statement timeout, and panics.

// limitCodes are the extensions.code of every refusal of a document.
var limitCodes = map[string]bool{
	"QUERY_TOO_DEEP": true, "TOO_MANY_ALIASES": true, "TOO_MANY_DIRECTIVES": true, "TOO_MANY_TOKENS": true,
	"TOO_MANY_FIELD_COPIES": true, "QUERY_TOO_COMPLEX": true, "REQUEST_TOO_LARGE": true, "BATCHING_NOT_SUPPORTED": true,
}

// guardedEnv is a server that counts the field resolvers it runs.
type guardedEnv struct {
	*env
	fields *atomic.Int64
}

func newGuardedEnv(t testing.TB, edit func(*httpapi.Config)) *guardedEnv {
	t.Helper()
	var n atomic.Int64
	e := newEnvWith(t, func(c *httpapi.Config) {
		httpapi.SetFieldMiddleware(c, func(ctx context.Context, next graphql.Resolver) (any, error) {
			n.Add(1)
			return next(ctx)
		})
		if edit != nil {
			edit(c)
		}
	})
	return &guardedEnv{env: e, fields: &n}
}

// serve sends req straight to the server's handler (the whole stack, no
// network) and decodes the answer.
func (e *guardedEnv) serve(req *http.Request) *result {
	e.t.Helper()
	rec := httptest.NewRecorder()
	e.srv.Config.Handler.ServeHTTP(rec, req)
	r := &result{Status: rec.Code, Header: rec.Header(), Raw: rec.Body.Bytes()}
	if len(r.Raw) > 0 && r.Raw[0] == '{' {
		if err := json.Unmarshal(r.Raw, r); err != nil {
			e.t.Fatalf("response is not JSON: %v: %.300s", err, r.Raw)
		}
	}
	return r
}

// postBody is a POST of body to /graphql as the operator.
func postBody(t testing.TB, body []byte, accept string) *http.Request {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testAdminSecret)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return req
}

func queryBody(query string) []byte {
	b, _ := json.Marshal(map[string]any{"query": query})
	return b
}

// repeat joins n copies of format (with %d replaced by the index).
func repeat(format string, n int) string {
	var b strings.Builder
	for i := range n {
		if strings.Contains(format, "%d") {
			fmt.Fprintf(&b, format, i)
		} else {
			b.WriteString(format)
		}
		b.WriteByte(' ')
	}
	return b.String()
}

// fragmentBomb is a document whose fragments expand to 2^n copies of a
// field from a few hundred bytes.
func fragmentBomb(n int) string {
	var b strings.Builder
	b.WriteString("{ ...F0 }\n")
	for i := range n {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Query { plans { id } }\n", n)
	return b.String()
}

// hostileDocument is a request built to cost the server as much as
// possible for what it sends, and the code it must be refused with.
type hostileDocument struct {
	name string
	body []byte
	code string
}

func hostileDocuments() []hostileDocument {
	q := func(s string) []byte { return queryBody(s) }
	nested := strings.Repeat("a { ", 1000) + "id" + strings.Repeat(" }", 1000)
	batch, _ := json.Marshal([]map[string]any{{"query": "{ plans { id } }"}, {"query": "{ viewer { kind } }"}})
	tenMB := append([]byte(`{"query": "{ plans { id } }", "variables": {"pad": "`), bytes.Repeat([]byte("x"), 10<<20)...)
	tenMB = append(tenMB, `"}}`...)
	return []hostileDocument{
		{"Aliases1000", q("{ plans { " + repeat("a%d: id", 1000) + "} }"), "TOO_MANY_ALIASES"},
		{"Copies1000", q("{ plans { " + repeat("id", 1000) + "} }"), "TOO_MANY_FIELD_COPIES"},
		{"RootCopies1000", q("{ " + repeat("plans { id }", 1000) + "}"), "TOO_MANY_FIELD_COPIES"},
		{"Directives100000", q("{ plans { id " + strings.Repeat("@a ", 100000) + "} }"), "TOO_MANY_TOKENS"},
		{"CircularFragments", q("{ ...A } fragment A on Query { plans { id } ...B } fragment B on Query { ...A }"), "GRAPHQL_VALIDATION_FAILED"},
		{"FragmentBomb2e40", q(fragmentBomb(40)), "TOO_MANY_FIELD_COPIES"},
		{"Nesting1000", q("{ " + nested + " }"), "QUERY_TOO_DEEP"},
		{"IntrospectionAliases30", q(introspectionAliases(30)), "QUERY_TOO_COMPLEX"},
		{"NestedConnections", q("{ tenants(first: 100) { nodes { invoices(first: 100) { nodes { id number status date dueDate } } } } }"), "QUERY_TOO_COMPLEX"},
		{"BatchedOperations", batch, "BATCHING_NOT_SUPPORTED"},
		{"Body10MB", tenMB, "REQUEST_TOO_LARGE"},
	}
}

// TestHostileDocumentsRefused sends each hostile document as the operator
// and checks it is refused with its code before any resolver runs or any
// statement reaches PostgreSQL. BenchmarkHostileDocuments measures how fast.
func TestHostileDocumentsRefused(t *testing.T) {
	t.Parallel()
	e := newGuardedEnv(t, nil)
	for _, d := range hostileDocuments() {
		t.Run(d.name, func(t *testing.T) { // not parallel: the counters are the server's
			for _, accept := range []string{mediaJSON, mediaGraphQLResponse} {
				fields, statements := e.fields.Load(), e.store.Statements.Load()
				r := e.serve(postBody(t, d.body, accept))
				if r.Code() != d.code {
					t.Fatalf("Accept %s: status %d code %q, want %s: %.400s", accept, r.Status, r.Code(), d.code, r.Raw)
				}
				if hasDataKey(t, r.Raw) {
					t.Errorf("Accept %s: the refusal has a data key: %.300s", accept, r.Raw)
				}
				if n := e.fields.Load() - fields; n != 0 {
					t.Errorf("Accept %s: %d field resolvers ran", accept, n)
				}
				if n := e.store.Statements.Load() - statements; n != 0 {
					t.Errorf("Accept %s: %d SQL statements were sent", accept, n)
				}
				if accept == mediaGraphQLResponse && r.Status < 400 {
					t.Errorf("Accept %s: status %d, want 4xx", accept, r.Status)
				}
				if accept == mediaJSON && r.Status != http.StatusOK && r.Status < 400 {
					t.Errorf("Accept %s: status %d", accept, r.Status)
				}
				if len(r.Raw) > 2000 {
					t.Errorf("Accept %s: a %d-byte answer to a refusal", accept, len(r.Raw))
				}
			}
		})
	}
	// Still serving.
	if r := e.serve(postBody(t, queryBody("{ plans { id } }"), "")); r.Status != 200 || len(r.Errors) > 0 {
		t.Fatalf("after the hostile documents: %d %s", r.Status, r.Raw)
	}
}

// BenchmarkHostileDocuments measures the time to refuse each hostile
// document through the whole handler, as a multiple of the time to answer
// a trivial valid query ({ __typename }) measured in the same run:
//
//	go test ./httpapi -run X -bench BenchmarkHostileDocuments
//
// The x-trivial column is the ratio.
func BenchmarkHostileDocuments(b *testing.B) {
	e := newGuardedEnv(b, nil)
	h := e.srv.Config.Handler
	run := func(body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+testAdminSecret)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	trivial := queryBody("{ __typename }")
	var perTrivial float64 // ns per trivial request, from the last run of TrivialQuery
	b.Run("TrivialQuery", func(b *testing.B) {
		start := time.Now()
		for b.Loop() {
			run(trivial)
		}
		perTrivial = float64(time.Since(start).Nanoseconds()) / float64(b.N)
		b.ReportMetric(1, "x-trivial")
	})
	for _, d := range hostileDocuments() {
		b.Run(d.name, func(b *testing.B) {
			b.SetBytes(int64(len(d.body)))
			start := time.Now()
			for b.Loop() {
				run(d.body)
			}
			b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N)/perTrivial, "x-trivial")
		})
	}
}

// introspectionQuery is GraphiQL 4's introspection query with every
// option on (descriptions, specifiedByURL, repeatable directives, schema
// description, deprecated input values): nine levels of ofType.
var introspectionQuery = httpapi.GraphiQLIntrospectionQuery

// readmeExample is a GraphQL example of the README, with the variables
// given in its trailing "# {...}" comment lines.
type readmeExample struct {
	query string
	vars  map[string]any
}

// TestRealisticQueriesPass runs the dashboard's queries, GraphiQL's
// introspection and every README example against the default limits: none
// may be refused by a limit. It logs each one's depth and cost.
func TestRealisticQueriesPass(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	queries := map[string]readmeExample{
		"everyTenantField":   {query: everyTenantField, vars: map[string]any{"first": 10}},
		"introspection":      {query: introspectionQuery},
		"graphiqlDefault":    {query: graphiql.DefaultQuery},
		"meWithAssociations": {query: `{ me { name plan { name } settings { dataResidency } limits { users } usage { activeUsers } apiKeys { totalCount nodes { id } } } }`},
	}
	// The examples of README.md and docs/ run against the real server in
	// TestDocsExamples (docs_test.go), answers compared: a limit refusing
	// one fails there.
	lim := httpapi.DefaultLimits
	for name, ex := range queries {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			q := ex.query
			depth, cost, err := httpapi.Measure(q, ex.vars)
			if err != nil {
				t.Fatalf("the query is not valid: %v\n%s", err, q)
			}
			t.Logf("depth %d (limit %d), cost %d (limit %d)", depth, lim.MaxDepth, cost, lim.MaxCost)
			for _, token := range []string{"", testAdminSecret} { // anonymous: mutations run no resolver
				if token != "" && strings.HasPrefix(strings.TrimSpace(q), "mutation") {
					continue
				}
				r := e.withT(t).gql(token, q, ex.vars)
				for _, er := range r.Errors {
					if c, _ := er.Extensions["code"].(string); limitCodes[c] || c == "GRAPHQL_VALIDATION_FAILED" || c == "GRAPHQL_PARSE_FAILED" {
						t.Errorf("refused: %s: %s", c, er.Message)
					}
				}
			}
		})
	}
}

// tightLimits are small limits to test each one at its edge.
var tightLimits = httpapi.Limits{MaxDepth: 4, MaxAliases: 2, MaxDirectives: 2, MaxTokens: 60, MaxCost: 500, MaxFieldCopies: 3}

// TestLimitsAtTheirEdges checks each limit lets a document at the limit
// through and refuses one just over it, with its code, the limit in the
// message, HTTP 200 with application/json and 400 with no data with
// application/graphql-response+json, and nothing run.
func TestLimitsAtTheirEdges(t *testing.T) {
	t.Parallel()
	e := newGuardedEnv(t, func(c *httpapi.Config) { c.Limits = tightLimits })
	tests := []struct {
		name, query string
		code        string   // "" = not refused by a limit
		field       string   // extensions.field
		msg         []string // substrings of the message
	}{
		{"OKDepth", `{ tenants { nodes { plan { id } } } }`, "", "", nil},
		{"ErrTooDeep", `{ tenants { nodes { plan { limits { users } } } } }`, "QUERY_TOO_DEEP", "", []string{"4 levels"}},
		{"ErrTooDeepThroughFragment", `{ tenants { ...Page } } fragment Page on TenantConnection { nodes { plan { limits { users } } } }`, "QUERY_TOO_DEEP", "", []string{"4"}},
		{"ErrIntrospectionIsCounted", `{ __schema { queryType { fields { type { ofType { name } } } } } }`, "QUERY_TOO_DEEP", "", []string{"4 levels"}},
		{"OKIntrospectionOfTypeIsNotCounted", `{ __schema { types { ofType { ofType { ofType { name } } } } } }`, "", "", nil},
		{"OKAliases", `{ a: plans { id } b: plans { id } }`, "", "", nil},
		{"ErrTooManyAliases", `{ a: plans { id } b: plans { id } c: plans { id } }`, "TOO_MANY_ALIASES", "", []string{"more than 2 aliases"}},
		{"ErrAliasesThroughFragment", `{ ...P ...P } fragment P on Query { a: plans { id } b: viewer { kind } }`, "TOO_MANY_ALIASES", "", []string{"2"}},
		{"OKDirectives", `{ plans @include(if: true) @skip(if: false) { id } }`, "", "", nil},
		{"ErrTooManyDirectives", `{ plans @include(if: true) @skip(if: false) @include(if: true) { id } }`, "TOO_MANY_DIRECTIVES", "", []string{"3 directives", "at most 2"}},
		{"ErrDirectivesOnFragmentSpread", `{ ...P @include(if: true) @skip(if: false) @skip(if: false) } fragment P on Query { plans { id } }`, "TOO_MANY_DIRECTIVES", "", nil},
		{"OKTokens", `{ plans { id name } }`, "", "", nil},
		{"ErrTooManyTokens", `{ plans { ` + repeat("id", 57) + `} }`, "TOO_MANY_TOKENS", "", []string{"more than 60 tokens"}},
		{"OKCommentsAreFree", "# " + strings.Repeat("comment ", 1000) + "\n{ plans { id } }", "", "", nil},
		{"OKFieldCopies", `{ plans { id id id } }`, "", "", nil},
		{"ErrTooManyFieldCopies", `{ plans { id id id id } }`, "TOO_MANY_FIELD_COPIES", "", []string{`"id"`, "more than 3 times"}},
		{"ErrFieldCopiesMerged", `{ plans { id } plans { id } plans { ...I } } fragment I on Plan { id id }`, "TOO_MANY_FIELD_COPIES", "", []string{`"id"`}},
		{"OKCost", `{ tenants(first: 50) { nodes { id name domain status createdAt } } }`, "", "", nil},                                                            // 50 × (1 + 5)
		{"ErrTooComplex", `{ tenants(first: 100) { nodes { id name domain status createdAt } } }`, "QUERY_TOO_COMPLEX", "", []string{"costs 600", "limit of 500"}}, // 100 × (1 + 5)
		{"ErrTooComplexWithVariables", `query($n: Int) { tenants(first: $n) { nodes { id name domain status createdAt } } }`, "QUERY_TOO_COMPLEX", "", []string{"600"}},
		{"OKDefaultPageSize", `{ tenants { nodes { id name domain status createdAt } } }`, "", "", nil}, // first defaults to 20
		{"ErrPageTooLarge", `{ tenants(first: 101) { totalCount } }`, "BAD_USER_INPUT", "first", []string{"first must be between 1 and 100", "Query.tenants", "101"}},
		{"ErrPageZero", `{ tenants(first: 0) { totalCount } }`, "BAD_USER_INPUT", "first", []string{"between 1 and 100", "got 0"}},
		{"ErrPageNull", `{ tenants(first: null) { totalCount } }`, "BAD_USER_INPUT", "first", []string{"first must be given on Query.tenants"}},
		{"ErrNestedPageTooLarge", `{ tenants(first: 1) { nodes { invoices(first: 1000) { totalCount } } } }`, "BAD_USER_INPUT", "first", []string{"Tenant.invoices", "1000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]any{}
			if strings.Contains(tt.query, "$n") {
				vars["n"] = 100
			}
			body, _ := json.Marshal(map[string]any{"query": tt.query, "variables": vars})
			for _, accept := range []string{mediaJSON, mediaGraphQLResponse} {
				fields := e.fields.Load()
				r := e.serve(postBody(t, body, accept))
				if tt.code == "" {
					for _, er := range r.Errors {
						t.Errorf("Accept %s: unexpected error %v: %s", accept, er.Extensions["code"], er.Message)
					}
					continue
				}
				if r.Code() != tt.code || r.Field() != tt.field {
					t.Fatalf("Accept %s: code %q field %q, want %s %q: %s", accept, r.Code(), r.Field(), tt.code, tt.field, r.Raw)
				}
				for _, m := range tt.msg {
					if !strings.Contains(r.Errors[0].Message, m) {
						t.Errorf("message %q does not contain %q", r.Errors[0].Message, m)
					}
				}
				if n := e.fields.Load() - fields; n != 0 {
					t.Errorf("%d field resolvers ran", n)
				}
				want := http.StatusOK
				if accept == mediaGraphQLResponse {
					want = http.StatusBadRequest
				}
				if r.Status != want || hasDataKey(t, r.Raw) {
					t.Errorf("Accept %s: status %d (want %d): %s", accept, r.Status, want, r.Raw)
				}
			}
		})
	}
}

// TestSimpleRequestsRefused checks the CSRF door is shut: a browser on any
// site can POST text/plain, form and multipart bodies without a preflight,
// so they are refused with 415 before anything runs; a mutation over GET
// answers 405.
func TestSimpleRequestsRefused(t *testing.T) {
	t.Parallel()
	e := newGuardedEnv(t, nil)
	mutation := `mutation { createTenant(input: {name: "Forged", domain: "forged.example", plan: "starter"}) { tenant { id } } }`
	jsonBody := string(queryBody(mutation))
	tests := []struct {
		name, contentType, body string
		status                  int
		code                    string
	}{
		{"ErrTextPlain", "text/plain", jsonBody, 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"ErrTextPlainCharset", "text/plain;charset=UTF-8", jsonBody, 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"ErrForm", "application/x-www-form-urlencoded", "query=" + url.QueryEscape(mutation), 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"ErrMultipart", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n" + jsonBody + "\r\n--x--\r\n", 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"ErrNoContentType", "", jsonBody, 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"ErrGarbageContentType", "json", jsonBody, 415, "UNSUPPORTED_MEDIA_TYPE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			statements := e.store.Statements.Load()
			req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			req.Header.Set("Authorization", "Bearer "+testAdminSecret)
			req.Header.Set("Origin", "https://evil.example")
			r := e.serve(req)
			if r.Status != tt.status || r.Code() != tt.code {
				t.Fatalf("status %d code %q, want %d %s: %s", r.Status, r.Code(), tt.status, tt.code, r.Raw)
			}
			if !strings.Contains(r.Errors[0].Message, "application/json") {
				t.Errorf("message %q does not say what is allowed", r.Errors[0].Message)
			}
			if n := e.store.Statements.Load() - statements; n != 0 {
				t.Errorf("%d statements sent", n)
			}
		})
	}
	t.Run("ErrMutationOverGET", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, graphqlGET(mutation), nil)
		req.Header.Set("Authorization", "Bearer "+testAdminSecret)
		if r := e.serve(req); r.Status != http.StatusMethodNotAllowed || r.Code() != "METHOD_NOT_ALLOWED" {
			t.Fatalf("status %d code %q: %s", r.Status, r.Code(), r.Raw)
		}
	})
	t.Run("OKJSONWithCharset", func(t *testing.T) {
		req := postBody(t, queryBody("{ plans { id } }"), "")
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		if r := e.serve(req); r.Status != 200 || len(r.Errors) > 0 {
			t.Fatalf("status %d: %s", r.Status, r.Raw)
		}
	})
	if n := countMatching(e.env, "forged"); n != 0 {
		t.Fatalf("a forged tenant was created (%d)", n)
	}
}

// persisted is a request body (or GET parameters) in the automatic
// persisted queries protocol.
func persisted(query, hash string) map[string]any {
	m := map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}}
	if query != "" {
		m["query"] = query
	}
	return m
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TestPersistedQueries follows Apollo's protocol over POST and GET: a hash
// alone is unknown until the query is sent once with it; then the hash
// alone runs it. A wrong hash or version is refused, and a document
// refused by the limits is not kept.
func TestPersistedQueries(t *testing.T) {
	t.Parallel()
	e := newGuardedEnv(t, nil)
	post := func(m map[string]any) *result {
		b, _ := json.Marshal(m)
		return e.serve(postBody(t, b, ""))
	}
	get := func(m map[string]any) *result {
		v := url.Values{}
		for k, x := range m {
			if s, ok := x.(string); ok {
				v.Set(k, s)
			} else {
				b, _ := json.Marshal(x)
				v.Set(k, string(b))
			}
		}
		req := httptest.NewRequest(http.MethodGet, "/graphql?"+v.Encode(), nil)
		return e.serve(req)
	}
	wantPlans := func(t *testing.T, r *result) {
		t.Helper()
		if r.Status != 200 || len(r.Errors) > 0 || !bytes.Contains(r.Data, []byte(`"starter"`)) {
			t.Fatalf("status %d: %s", r.Status, r.Raw)
		}
	}
	for _, via := range []struct {
		name string
		send func(map[string]any) *result
	}{{"POST", post}, {"GET", get}} {
		t.Run(via.name, func(t *testing.T) {
			q := "query PersistedVia" + via.name + " { plans { id } }"
			h := sha256Hex(q)
			if r := via.send(persisted("", h)); r.Code() != "PERSISTED_QUERY_NOT_FOUND" || r.Errors[0].Message != "PersistedQueryNotFound" {
				t.Fatalf("unknown hash: %s", r.Raw)
			}
			wantPlans(t, via.send(persisted(q, h)))
			wantPlans(t, via.send(persisted("", h)))
		})
	}
	t.Run("ErrHashMismatch", func(t *testing.T) {
		r := post(persisted("{ plans { id } }", sha256Hex("{ plans { name } }")))
		if r.Code() != "PERSISTED_QUERY_INVALID" || !strings.Contains(r.Errors[0].Message, "hash does not match") {
			t.Fatalf("%s", r.Raw)
		}
	})
	t.Run("ErrVersion", func(t *testing.T) {
		m := persisted("{ plans { id } }", sha256Hex("{ plans { id } }"))
		m["extensions"].(map[string]any)["persistedQuery"].(map[string]any)["version"] = 2
		if r := post(m); r.Code() != "PERSISTED_QUERY_INVALID" {
			t.Fatalf("%s", r.Raw)
		}
	})
	t.Run("ErrHostileNotKept", func(t *testing.T) {
		q := "{ plans { " + repeat("id", 100) + "} }"
		if r := post(persisted(q, sha256Hex(q))); r.Code() != "TOO_MANY_FIELD_COPIES" {
			t.Fatalf("%s", r.Raw)
		}
		if r := post(persisted("", sha256Hex(q))); r.Code() != "PERSISTED_QUERY_NOT_FOUND" {
			t.Fatalf("the refused document was kept: %s", r.Raw)
		}
	})
	t.Run("ErrMutationOverGET", func(t *testing.T) {
		m := `mutation { revokeApiKey(input: {id: "00000000-0000-4000-8000-000000000000"}) { apiKey { id } } }`
		post(persisted(m, sha256Hex(m))) // kept (run as the operator: the key does not exist)
		if r := get(persisted("", sha256Hex(m))); r.Status != http.StatusMethodNotAllowed {
			t.Fatalf("a persisted mutation ran over GET: %d %s", r.Status, r.Raw)
		}
	})
}

// TestIntrospectionAndSuggestionsOff is production mode: introspection is
// refused with its own code (__typename still works), GraphiQL answers 404
// saying why, and no error message suggests schema names.
func TestIntrospectionAndSuggestionsOff(t *testing.T) {
	t.Parallel()
	e := newGuardedEnv(t, func(c *httpapi.Config) { c.Introspection, c.DisableFieldSuggestions = httpapi.IntrospectionOff, true })
	for _, q := range []string{`{ __schema { queryType { name } } }`, `{ __type(name: "Tenant") { name } }`, `{ plans { id } ...F } fragment F on Query { __schema { types { name } } }`} {
		for _, accept := range []string{mediaJSON, mediaGraphQLResponse} {
			r := e.serve(postBody(t, queryBody(q), accept))
			if r.Code() != "INTROSPECTION_DISABLED" || hasDataKey(t, r.Raw) || (accept == mediaGraphQLResponse && r.Status != 400) {
				t.Fatalf("%s (Accept %s): %d %s", q, accept, r.Status, r.Raw)
			}
		}
	}
	if r := e.serve(postBody(t, queryBody(`{ __typename plans { __typename id } }`), "")); len(r.Errors) > 0 {
		t.Fatalf("__typename: %s", r.Raw)
	}
	for _, path := range []string{"/", "/graphiql/assets/graphiql-init.js"} {
		r := e.serve(httptest.NewRequest(http.MethodGet, path, nil))
		if r.Status != http.StatusNotFound || !bytes.Contains(r.Raw, []byte("introspection is disabled")) || bytes.Count(r.Raw, []byte("\n")) != 1 {
			t.Fatalf("GET %s: %d %q", path, r.Status, r.Raw)
		}
	}
	for _, q := range []string{
		`{ plan { id } }`,                                               // unknown field: "plans"
		`{ plans { idd } }`,                                             // unknown field: "id"
		`{ tenants(frist: 2) { totalCount } }`,                          // unknown argument: "first"
		`{ tenants(filter: {status: [ACTIV]}) { totalCount } }`,         // unknown enum value: "ACTIVE"
		`query($f: TenantFiltr) { tenants(filter: $f) { totalCount } }`, // unknown type: "TenantFilter"
		`{ tenants { pageInfo } }`,                                      // a leaf is required
	} {
		r := e.serve(postBody(t, queryBody(q), ""))
		if len(r.Errors) == 0 {
			t.Fatalf("%s: no error", q)
		}
		for _, er := range r.Errors {
			if strings.Contains(er.Message, "Did you mean") || strings.Contains(er.Message, "ACTIVE") || strings.Contains(er.Message, `"first"`) {
				t.Errorf("%s: the error suggests schema names: %s", q, er.Message)
			}
		}
	}
}

// TestIntrospectionOnByDefault: development keeps introspection, GraphiQL
// and suggestions.
func TestIntrospectionOnByDefault(t *testing.T) {
	t.Parallel()
	e := newGuardedEnv(t, nil)
	if r := e.serve(postBody(t, queryBody(introspectionQuery), "")); len(r.Errors) > 0 || !bytes.Contains(r.Data, []byte(`"TenantConnection"`)) {
		t.Fatalf("introspection: %.500s", r.Raw)
	}
	if r := e.serve(postBody(t, queryBody(`{ plan { id } }`), "")); len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, `Did you mean "plans"`) {
		t.Fatalf("no suggestion: %s", r.Raw)
	}
}

// lockPlans holds an exclusive lock on the plans table until the returned
// function is called, so that a query of the plans waits.
func lockPlans(t *testing.T, dbURL string) (release func()) {
	t.Helper()
	conn, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`LOCK TABLE plans IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			_ = tx.Rollback()
			conn.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// waitersOnLock counts the sessions of the database waiting for a lock.
func waitersOnLock(t *testing.T, dbURL string) int {
	t.Helper()
	conn, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int
	if err := conn.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSlowQueryCancelled holds a lock the query of the plans must wait for,
// and checks both guards answer SERVICE_UNAVAILABLE and leave nothing
// running in PostgreSQL: the statement timeout (DB_STATEMENT_TIMEOUT, set
// on each connection by db.Open) and the request deadline
// (REQUEST_TIMEOUT, which cancels the statement through its context).
func TestSlowQueryCancelled(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		statementTimeout time.Duration
		requestTimeout   time.Duration
		msg              string
	}{
		{"StatementTimeout", 200 * time.Millisecond, time.Minute, "the database took too long to answer"},
		// lib/pq reports the statement it cancelled for the context as
		// SQLSTATE 57014, like a statement timeout.
		{"RequestDeadline", 0, 300 * time.Millisecond, "took too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dbURL := dbtest.NewURL(t)
			ring, _ := keyring.Parse(keyring.Generate("test"))
			store, err := db.Open(context.Background(), dbURL, db.Options{MaxOpenConns: 4, Sealer: ring, StatementTimeout: tt.statementTimeout})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { store.Close() })
			srv := httptest.NewServer(httpapi.New(store, httpapi.Config{AdminSecret: testAdminSecret, RequestTimeout: tt.requestTimeout,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
			t.Cleanup(srv.Close)
			e := &env{t: t, srv: srv, store: store}

			if tt.statementTimeout > 0 {
				// The connection string Open uses sets the timeout on every
				// session: a statement that outlives it gets SQLSTATE 57014.
				u, err := db.WithStatementTimeout(dbURL, tt.statementTimeout)
				if err != nil {
					t.Fatal(err)
				}
				raw, err := sql.Open("postgres", u)
				if err != nil {
					t.Fatal(err)
				}
				var setting string
				_, sleepErr := raw.Exec(`SELECT pg_sleep(2)`)
				if err := raw.QueryRow(`SHOW statement_timeout`).Scan(&setting); err != nil || setting != "200ms" || sleepErr == nil || !strings.Contains(fmt.Sprint(sleepErr), "57014") && !strings.Contains(fmt.Sprint(sleepErr), "statement timeout") {
					t.Fatalf("statement_timeout = %q (%v); pg_sleep(2): %v", setting, err, sleepErr)
				}
				raw.Close()
			}
			release := lockPlans(t, dbURL)
			r := e.gql("", `{ plans { id } }`, nil)
			if r.Code() != "SERVICE_UNAVAILABLE" || !strings.Contains(r.Errors[0].Message, tt.msg) {
				t.Fatalf("while the plans are locked: %d %s", r.Status, r.Raw)
			}
			// Nothing is left waiting: PostgreSQL cancelled the statement
			// (lib/pq sends the cancel request when the context ends; give
			// it a moment to arrive).
			deadline := time.Now().Add(5 * time.Second)
			for waitersOnLock(t, dbURL) > 0 {
				if time.Now().After(deadline) {
					t.Fatal("the cancelled statement still waits in PostgreSQL")
				}
				time.Sleep(20 * time.Millisecond)
			}
			release()
			if r := e.gql("", `{ plans { id } }`, nil); len(r.Errors) > 0 {
				t.Fatalf("after the lock: %s", r.Raw)
			}
		})
	}
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestResolverPanic makes the resolver of Query.tenant panic (through the
// test-only field middleware, which runs where a resolver runs): the field
// answers INTERNAL_SERVER_ERROR at its path, the rest of the response
// arrives, a log line has the panic and its stack, and the server keeps
// serving.
func TestResolverPanic(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	e := newGuardedEnv(t, func(c *httpapi.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
		httpapi.SetFieldMiddleware(c, func(ctx context.Context, next graphql.Resolver) (any, error) {
			if fc := graphql.GetFieldContext(ctx); fc.Object == "Query" && fc.Field.Name == "tenant" {
				var m map[string]int
				//lint:ignore SA5000 a real runtime panic is the point
				m["boom"]++
			}
			return next(ctx)
		})
	})
	id := e.createTenant("Panicky", "panicky.example")
	for range 3 {
		r := e.gql(testAdminSecret, `query($id: ID!) { plans { id } tenant(id: $id) { name } }`, map[string]any{"id": id})
		if r.Status != 200 || r.Code() != "INTERNAL_SERVER_ERROR" || r.Errors[0].Message != "internal error" || fmt.Sprint(r.Errors[0].Path) != "[tenant]" {
			t.Fatalf("status %d: %s", r.Status, r.Raw)
		}
		var data struct {
			Plans  []struct{ ID string }
			Tenant *struct{ Name string }
		}
		if err := json.Unmarshal(r.Data, &data); err != nil || len(data.Plans) == 0 || data.Tenant != nil {
			t.Fatalf("data: %s", r.Data)
		}
		if bytes.Contains(r.Raw, []byte("nil map")) || bytes.Contains(r.Raw, []byte("goroutine")) {
			t.Fatalf("the panic leaked to the client: %s", r.Raw)
		}
	}
	if got := logs.String(); strings.Count(got, `"msg":"panic in resolver"`) != 3 || !strings.Contains(got, "assignment to entry in nil map") || !strings.Contains(got, "limits_test.go") {
		t.Fatalf("log lines: %.2000s", got)
	}
	if r := e.gql(testAdminSecret, `{ plans { id } }`, nil); r.Status != 200 || len(r.Errors) > 0 {
		t.Fatalf("after the panics: %s", r.Raw)
	}
}

// TestHTTPPanic checks the guard around the GraphQL endpoint: a panic
// outside gqlgen (in a middleware) answers 500 INTERNAL_SERVER_ERROR in
// GraphQL's shape and logs the stack, instead of a dropped connection.
func TestHTTPPanic(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	h := httpapi.RecoverHTTP(slog.New(slog.NewJSONHandler(&logs, nil)), http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("middleware bug")
	}))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: srv}
	for range 2 {
		r := e.gql("", `{ plans { id } }`, nil)
		if r.Status != http.StatusInternalServerError || r.Code() != "INTERNAL_SERVER_ERROR" || bytes.Contains(r.Raw, []byte("middleware bug")) {
			t.Fatalf("status %d: %s", r.Status, r.Raw)
		}
	}
	if got := logs.String(); strings.Count(got, "panic in HTTP handler") != 2 || !strings.Contains(got, "middleware bug") {
		t.Fatalf("log: %s", got)
	}
}

// TestCostInExtensions: every executed operation reports what it was priced
// at and the limit in extensions.cost (like GitHub's rateLimit { cost }),
// next to the rate budget in extensions.rateLimit.
func TestCostInExtensions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Costed Co", randomDomain())
	r := e.gql(testAdminSecret, `query($id: ID!) { tenant(id: $id) { name apiKeys(first: 10) { nodes { id name } } } }`, map[string]any{"id": id})
	var ext struct {
		Extensions struct {
			Cost struct{ Requested, Limit int }
		}
	}
	if err := json.Unmarshal(r.Raw, &ext); err != nil {
		t.Fatal(err)
	}
	// tenant 1 + name 1 + apiKeys 10 × (nodes 1 + id 1 + name 1) = 32.
	if c := ext.Extensions.Cost; c.Requested != 32 || c.Limit != httpapi.DefaultLimits.MaxCost {
		t.Errorf("extensions.cost = %+v, want requested 32 and the limit %d:\n%s", c, httpapi.DefaultLimits.MaxCost, r.Raw)
	}

	// A document's cost is remembered by its variables: the same document
	// with another page size is priced again, and a refusal stays a
	// refusal when repeated.
	q := `query($id: ID!, $n: Int!) { tenant(id: $id) { name apiKeys(first: $n) { nodes { id name } } } }`
	for _, c := range []struct{ n, want int }{{10, 32}, {3, 11}, {10, 32}, {100, 302}, {3, 11}} {
		r := e.gql(testAdminSecret, q, map[string]any{"id": id, "n": c.n})
		ext.Extensions.Cost.Requested = 0
		if err := json.Unmarshal(r.Raw, &ext); err != nil {
			t.Fatal(err)
		}
		if ext.Extensions.Cost.Requested != c.want {
			t.Errorf("first: %d: cost %d, want %d: %s", c.n, ext.Extensions.Cost.Requested, c.want, r.Raw)
		}
	}
	for _, n := range []int{0, 3, 0} { // a page size refused stays refused
		r := e.gql(testAdminSecret, q, map[string]any{"id": id, "n": n})
		if refused := r.Code() == "BAD_USER_INPUT"; refused != (n == 0) {
			t.Errorf("first: %d: %s", n, r.Raw)
		}
	}
	nested := `query($m: Int!) { tenants(first: 100) { nodes { invoices(first: $m) { nodes { id number status date dueDate } } } } }`
	for _, m := range []int{100, 1, 100} {
		r := e.gql(testAdminSecret, nested, map[string]any{"m": m})
		if refused := r.Code() == "QUERY_TOO_COMPLEX"; refused != (m == 100) || (refused && !bytes.Contains(r.Raw, []byte("costs 60100, over the limit of 50000"))) {
			t.Errorf("invoices(first: %d): %s", m, r.Raw)
		}
	}
}
