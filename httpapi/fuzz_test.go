package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"tenantapi/httpapi"
)

// The request body is the API's widest door: these fuzz targets throw
// arbitrary bytes, and arbitrary GraphQL documents, at the real handler
// over a real database. Whatever arrives, the server must not panic and
// must answer a JSON GraphQL response with a 2xx or 4xx status.
//
//	go test ./httpapi -run '^$' -fuzz '^FuzzRequestBody$' -fuzztime 5m
//	go test ./httpapi -run '^$' -fuzz '^FuzzQueryDocument$' -fuzztime 5m
//
// make test runs their seed corpora; make fuzz runs every target a while.

// fuzzSeedDocuments are valid, invalid and hostile GraphQL documents.
var fuzzSeedDocuments = []string{
	`{ plans { id name limits { users } } }`,
	`{ viewer { kind } __typename }`,
	`query Q($n: Int) { tenants(first: $n) { totalCount } }`,
	`mutation { createTenant(input: {name: "X", domain: "x.example", plan: "starter"}) { tenant { id } } }`,
	`{ me { name plan { name } limits { users } usage { activeUsers } } }`,
	`{ __schema { types { name fields { name type { ofType { name } } } } } }`,
	`{ plans { ` + strings.Repeat("id ", 30) + `} }`,
	`{ plans { ` + repeat("a%d: id", 40) + `} }`,
	`{ plans { id @include(if: true) @skip(if: false) @include(if: true) @skip(if: false) @a @b } }`,
	`{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }`,
	fragmentBomb(12),
	`{ ` + strings.Repeat("a { ", 30) + "b" + strings.Repeat(" }", 30) + ` }`,
	`{ tenants(first: 100) { nodes { invoices(first: 100) { nodes { id } } } } }`,
	`{ tenants(first: 0) { totalCount } }`,
	`{ tenants(first: 99999999999) { totalCount } }`,
	`{ tenant(id: "00000000-0000-0000-0000-000000000000") { name } }`,
	`{ tenants(filter: {search: "\u0000\ud800"}) { totalCount } }`,
	`subscription { x }`,
	`query A { plans { id } } query A { viewer { kind } }`,
	`{`, `}`, ``, `#`, `"""`, `{ plans(id: 1e999999) { id } }`, "\x00\xff\xfe",
}

// FuzzRequestBody posts arbitrary bytes as an application/json body.
func FuzzRequestBody(f *testing.F) {
	for _, q := range fuzzSeedDocuments {
		f.Add(queryBody(q))
	}
	for _, s := range []string{
		``, `null`, `[]`, `[{"query": "{ plans { id } }"}]`, `"{ plans { id } }"`, `{"query": 5}`, `{"query": null}`,
		`{"query": "{ plans { id } }", "variables": []}`, `{"query": "query($n: Int) { tenants(first: $n) { totalCount } }", "variables": {"n": 1e400}}`,
		`{"query": "{ plans { id } }", "operationName": 7}`, `{"query": "{ plans { id } }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": 5}}}`,
		`{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "00"}}}`, `{"query": "{ plans { id } }"} trailing`,
		`{"query": "{ plans { id } }", "query": "{ viewer { kind } }"}`, "{\"query\": \"\xff\"}", `{"query": "` + strings.Repeat(`\\`, 1000) + `"}`,
		strings.Repeat("[", 10000), `{"variables": {"a": ` + strings.Repeat(`{"a": `, 5000) + `1` + strings.Repeat(`}`, 5000) + `}}`,
	} {
		f.Add([]byte(s))
	}
	e := newGuardedEnv(f, quietLogs)
	h := e.srv.Config.Handler
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		checkGraphQLAnswer(t, h, req, body)
	})
}

// FuzzQueryDocument sends arbitrary text as the query of a well-formed
// request, as the operator: the parser, the limits and validation see it.
func FuzzQueryDocument(f *testing.F) {
	for _, q := range fuzzSeedDocuments {
		f.Add(q, "")
	}
	f.Add(`query($f: TenantFilter) { tenants(filter: $f) { totalCount } }`, `{"f": {"search": "acme", "status": ["ACTIVE"]}}`)
	f.Add(`query($n: Int!) { tenants(first: $n) { totalCount } }`, `{"n": "ten"}`)
	e := newGuardedEnv(f, quietLogs)
	h := e.srv.Config.Handler
	f.Fuzz(func(t *testing.T, query, variables string) {
		m := map[string]any{"query": query}
		var vars map[string]any
		if json.Unmarshal([]byte(variables), &vars) == nil {
			m["variables"] = vars
		}
		body, err := json.Marshal(m)
		if err != nil {
			return
		}
		if strings.Contains(query, "mutation") {
			return // the operator would write to the database: the other target covers mutations, anonymously
		}
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+testAdminSecret)
		checkGraphQLAnswer(t, h, req, body)
	})
}

// quietLogs discards the server's logs: a fuzz target may not log through
// its testing.F.
func quietLogs(c *httpapi.Config) { c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil)) }

// checkGraphQLAnswer serves req and checks the answer is a GraphQL
// response: a 2xx or 4xx status, a JSON media type, a JSON object with
// errors or data.
func checkGraphQLAnswer(t *testing.T, h http.Handler, req *http.Request, sent []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req) // a panic fails the target
	if rec.Code >= 500 || rec.Code < 200 {
		t.Fatalf("status %d for %q: %.500s", rec.Code, sent, rec.Body.Bytes())
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "application/graphql-response+json") {
		t.Fatalf("Content-Type %q for %q: %.500s", ct, sent, rec.Body.Bytes())
	}
	var resp struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatalf("not JSON for %q: %v: %.500s", sent, err, rec.Body.Bytes())
	}
	if resp.Data == nil && len(resp.Errors) == 0 {
		t.Fatalf("neither data nor errors for %q: %.500s", sent, rec.Body.Bytes())
	}
	for _, e := range resp.Errors {
		if e.Message == "" {
			t.Fatalf("an error without a message for %q: %.500s", sent, rec.Body.Bytes())
		}
	}
}
