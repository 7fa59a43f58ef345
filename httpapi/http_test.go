package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"tenantapi/httpapi"
	"tenantapi/ratelimit"
)

// This file checks the HTTP face of the API: the GraphQL-over-HTTP status
// codes and media types, GET and POST, body limits, health checks, GraphiQL,
// CORS and request ids.

const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// newHTTPRequest builds a request to the test server; body "" sends none.
func newHTTPRequest(t testing.TB, e *env, method, path, body string, header map[string]string) *http.Request {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return req
}

// hasDataKey reports whether the JSON object body has a "data" entry.
func hasDataKey(t testing.TB, body []byte) bool {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, body)
	}
	_, ok := m["data"]
	return ok
}

func gqlBody(query string) string {
	b, _ := json.Marshal(map[string]any{"query": query})
	return string(b)
}

// graphqlGET is the path of a GET request for query.
func graphqlGET(query string) string { return "/graphql?query=" + url.QueryEscape(query) }

func TestGraphQLOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const (
		syntaxError = `{ plans { id `
		unknownFld  = `{ plans { id nonsense } }`
		valid       = `{ plans { id } }`
		mutation    = `mutation { revokeApiKey(input: {id: "00000000-0000-0000-0000-000000000000"}) { apiKey { id } } }`
	)
	tests := []struct {
		name        string
		method      string
		path        string
		body        string
		accept      string // "" sends no Accept header
		status      int
		code        string // extensions.code of the first error; "" means no errors
		contentType string // "" means not checked
		noData      bool   // the body must have no "data" key
		header      map[string]string
	}{
		{name: "ParseErrorJSON", method: "POST", body: gqlBody(syntaxError), accept: mediaJSON, status: 200, code: "GRAPHQL_PARSE_FAILED", contentType: mediaJSON, noData: true},
		{name: "ValidationErrorJSON", method: "POST", body: gqlBody(unknownFld), accept: mediaJSON, status: 200, code: "GRAPHQL_VALIDATION_FAILED", contentType: mediaJSON, noData: true},
		{name: "ParseErrorNoAccept", method: "POST", body: gqlBody(syntaxError), status: 200, code: "GRAPHQL_PARSE_FAILED", noData: true},
		{name: "GetValidationErrorJSON", method: "GET", path: graphqlGET(unknownFld), accept: mediaJSON, status: 200, code: "GRAPHQL_VALIDATION_FAILED", noData: true},
		{name: "ParseErrorGraphQLResponse", method: "POST", body: gqlBody(syntaxError), accept: mediaGraphQLResponse, status: 400, code: "GRAPHQL_PARSE_FAILED", contentType: mediaGraphQLResponse, noData: true},
		{name: "ValidationErrorGraphQLResponse", method: "POST", body: gqlBody(unknownFld), accept: mediaGraphQLResponse, status: 400, code: "GRAPHQL_VALIDATION_FAILED", contentType: mediaGraphQLResponse, noData: true},
		{name: "ValidGraphQLResponse", method: "POST", body: gqlBody(valid), accept: mediaGraphQLResponse, status: 200, contentType: mediaGraphQLResponse},
		{name: "ValidJSON", method: "POST", body: gqlBody(valid), accept: mediaJSON, status: 200, contentType: mediaJSON},
		{name: "GetQuery", method: "GET", path: graphqlGET(`{plans{id}}`), status: 200},
		{name: "GetQueryGraphQLResponse", method: "GET", path: graphqlGET(valid), accept: mediaGraphQLResponse, status: 200, contentType: mediaGraphQLResponse},
		{name: "GetParseErrorGraphQLResponse", method: "GET", path: graphqlGET(syntaxError), accept: mediaGraphQLResponse, status: 400, code: "GRAPHQL_PARSE_FAILED", noData: true},
		{name: "GetMutation", method: "GET", path: graphqlGET(mutation), accept: mediaJSON, status: 405, code: "METHOD_NOT_ALLOWED", noData: true, header: map[string]string{"Allow": "POST"}},
		{name: "GetMutationGraphQLResponse", method: "GET", path: graphqlGET(mutation), accept: mediaGraphQLResponse, status: 405, noData: true, header: map[string]string{"Allow": "POST"}},
		{name: "InvalidJSON", method: "POST", body: `{"query": "{ plans { id } }"`, accept: mediaJSON, status: 400, code: "BAD_REQUEST", noData: true},
		{name: "InvalidJSONGraphQLResponse", method: "POST", body: `not json at all`, accept: mediaGraphQLResponse, status: 400, noData: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := tt.path
			if path == "" {
				path = "/graphql"
			}
			h := map[string]string{}
			if tt.accept != "" {
				h["Accept"] = tt.accept
			}
			r := e.withT(t).do(newHTTPRequest(t, e, tt.method, path, tt.body, h))
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.status, r.Raw)
			}
			if tt.code == "" && tt.status == 200 {
				if len(r.Errors) != 0 || !bytes.Contains(r.Data, []byte(`"starter"`)) {
					t.Errorf("want the plans without errors: %s", r.Raw)
				}
			} else if tt.code != "" && r.Code() != tt.code {
				t.Errorf("code %q, want %q: %s", r.Code(), tt.code, r.Raw)
			}
			if tt.status >= 400 && (len(r.Errors) == 0 || r.Errors[0].Message == "") {
				t.Errorf("an error status without an error message: %s", r.Raw)
			}
			if ct := r.Header.Get("Content-Type"); tt.contentType != "" && !strings.HasPrefix(ct, tt.contentType) {
				t.Errorf("Content-Type %q, want %s", ct, tt.contentType)
			}
			if tt.noData && hasDataKey(t, r.Raw) {
				t.Errorf("the body has a data key: %s", r.Raw)
			}
			for k, v := range tt.header {
				if got := r.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// padded is a valid query of about n bytes: a long comment, then plans.
	padded := func(n int) string { return gqlBody("# " + strings.Repeat("a", n) + "\n{ plans { id } }") }
	big := padded(1<<20 + 1024)
	for _, accept := range []string{mediaJSON, mediaGraphQLResponse} {
		resp, err := http.DefaultClient.Do(newHTTPRequest(t, e, http.MethodPost, "/graphql", big, map[string]string{"Accept": accept}))
		if err != nil {
			t.Logf("Accept %s: the server closed the connection on the oversized body: %v", accept, err)
			continue
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("Accept %s: a %d-byte body answered %d, want 4xx (413): %.300s", accept, len(big), resp.StatusCode, raw)
		}
		if bytes.Contains(raw, []byte(`"starter"`)) {
			t.Errorf("Accept %s: the oversized request was executed", accept)
		}
	}
	// Still serving, and a body under the limit works.
	r := e.do(newHTTPRequest(t, e, http.MethodPost, "/graphql", padded(1<<19), nil))
	if r.Status != http.StatusOK || len(r.Errors) != 0 || !bytes.Contains(r.Data, []byte(`"starter"`)) {
		t.Fatalf("after the oversized body: status %d: %.300s", r.Status, r.Raw)
	}
}

func TestHealthAndGraphiQL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		path, contentType string
		body              []string
	}{
		{"/healthz", "text/plain", []string{"ok"}},
		{"/readyz", "text/plain", []string{"ready"}},
		{"/", "text/html", []string{"<html", "GraphiQL", "/graphql"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			r := e.withT(t).do(newHTTPRequest(t, e, http.MethodGet, tt.path, "", map[string]string{"Accept": "text/html"}))
			if r.Status != http.StatusOK {
				t.Fatalf("status %d: %.300s", r.Status, r.Raw)
			}
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.contentType) {
				t.Errorf("Content-Type %q, want %s", ct, tt.contentType)
			}
			for _, s := range tt.body {
				if !bytes.Contains(r.Raw, []byte(s)) {
					t.Errorf("body does not contain %q: %.300s", s, r.Raw)
				}
			}
		})
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const allowed, evil = "https://app.example.com", "https://evil.example"
	preflight := func(origin string) map[string]string {
		return map[string]string{"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}
	}
	tests := []struct {
		name, method, body string
		header             map[string]string
		allowOrigin        string // want Access-Control-Allow-Origin; "" means absent
	}{
		{"PreflightAllowed", http.MethodOptions, "", preflight(allowed), allowed},
		{"PreflightEvil", http.MethodOptions, "", preflight(evil), ""},
		{"PostAllowed", http.MethodPost, gqlBody(`{ plans { id } }`), map[string]string{"Origin": allowed}, allowed},
		{"PostEvil", http.MethodPost, gqlBody(`{ plans { id } }`), map[string]string{"Origin": evil}, ""},
		{"PreflightAllowedLookalike", http.MethodOptions, "", preflight("https://app.example.com.evil.example"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := e.withT(t).do(newHTTPRequest(t, e, tt.method, "/graphql", tt.body, tt.header))
			if got := r.Header.Get("Access-Control-Allow-Origin"); got != tt.allowOrigin {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tt.allowOrigin)
			}
			if got := r.Header.Values("Access-Control-Allow-Credentials"); len(got) != 0 {
				t.Errorf("Access-Control-Allow-Credentials = %q, want none", got)
			}
			if tt.method == http.MethodOptions && tt.allowOrigin != "" {
				if r.Status >= 300 {
					t.Errorf("preflight status %d", r.Status)
				}
				if m := r.Header.Get("Access-Control-Allow-Methods"); !strings.Contains(m, "POST") {
					t.Errorf("Access-Control-Allow-Methods = %q", m)
				}
				if h := strings.ToLower(r.Header.Get("Access-Control-Allow-Headers")); !strings.Contains(h, "authorization") || !strings.Contains(h, "content-type") {
					t.Errorf("Access-Control-Allow-Headers = %q", h)
				}
			}
			if tt.method == http.MethodPost && tt.allowOrigin != "" {
				if x := r.Header.Get("Access-Control-Expose-Headers"); !strings.Contains(strings.ToLower(x), "x-request-id") {
					t.Errorf("Access-Control-Expose-Headers = %q, want X-Request-Id", x)
				}
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	generated := regexp.MustCompile(`^[0-9a-f]{16}$`)
	requests := []struct {
		name, method, path, body string
		header                   map[string]string
	}{
		{"Healthz", http.MethodGet, "/healthz", "", nil},
		{"Readyz", http.MethodGet, "/readyz", "", nil},
		{"GraphiQL", http.MethodGet, "/", "", nil},
		{"Query", http.MethodPost, "/graphql", gqlBody(`{ plans { id } }`), nil},
		{"ParseError", http.MethodPost, "/graphql", gqlBody(`{`), nil},
		{"InvalidJSON", http.MethodPost, "/graphql", `{`, nil},
		{"Unauthenticated", http.MethodPost, "/graphql", gqlBody(`{ viewer { kind } }`), map[string]string{"Authorization": "Basic x"}},
		{"GetMutation", http.MethodGet, graphqlGET(`mutation { revokeApiKey(input: {id: "x"}) { apiKey { id } } }`), "", nil},
		{"Preflight", http.MethodOptions, "/graphql", "", map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"}},
		{"NotFound", http.MethodGet, "/graphiql/assets/nope.js", "", nil},
	}
	t.Run("Generated", func(t *testing.T) {
		seen := map[string]string{}
		for _, rq := range requests {
			r := e.withT(t).do(newHTTPRequest(t, e, rq.method, rq.path, rq.body, rq.header))
			id := r.Header.Get("X-Request-Id")
			if !generated.MatchString(id) {
				t.Errorf("%s (status %d): X-Request-Id = %q, want 16 hex digits", rq.name, r.Status, id)
			}
			if other, ok := seen[id]; ok {
				t.Errorf("%s and %s share request id %s", rq.name, other, id)
			}
			seen[id] = rq.name
		}
	})
	tests := []struct {
		name, sent string
		echoed     bool
	}{
		{"Sane", "req-42.abc_DEF", true},
		{"Max64", strings.Repeat("r", 64), true},
		{"TooLong", strings.Repeat("r", 65), false},
		{"Space", "has space", false},
		{"Slash", "a/b", false},
		{"Quote", `a"b`, false},
		{"NonASCII", "réq", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, rq := range requests[:4] {
				h := map[string]string{"X-Request-Id": tt.sent}
				r := e.withT(t).do(newHTTPRequest(t, e, rq.method, rq.path, rq.body, h))
				got := r.Header.Get("X-Request-Id")
				if tt.echoed && got != tt.sent {
					t.Errorf("%s: X-Request-Id = %q, want the client's %q", rq.name, got, tt.sent)
				}
				if !tt.echoed && !generated.MatchString(got) {
					t.Errorf("%s: X-Request-Id = %q for the client's %q, want a fresh id", rq.name, got, tt.sent)
				}
			}
		})
	}
}

// TestOneMediaTypeForEveryAnswer: a client that accepts both media types,
// graphql-response+json first, gets the media type of a normal answer from
// every stage that can refuse the request before anything runs (the guard's
// 413 and 415, authentication's 401 and its 429, the rate limiter's 429,
// the Idempotency-Key check, the transport's 400 and 405, the document's
// 400), each with its status and code unchanged.
func TestOneMediaTypeForEveryAnswer(t *testing.T) {
	t.Parallel()
	frozen := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { return frozen } // no budget refills during the test
	e := newEnvWith(t, func(c *httpapi.Config) {
		c.MaxBodyBytes = 2048
		c.RateLimiter = ratelimit.NewMemory(ratelimit.MemoryOptions{Now: now})
		c.AnonymousPerMinute, c.FailedAuthPerMinute = 1, 1
		httpapi.SetClock(c, now)
	})
	const accept = mediaGraphQLResponse + ", " + mediaJSON
	const valid = `{ plans { id } }`
	admin := map[string]string{"Authorization": "Bearer " + testAdminSecret}
	with := func(h map[string]string, kv ...string) map[string]string {
		out := map[string]string{"Accept": accept}
		for k, v := range h {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	// In order: the budgets of one credential-less address and of its failed
	// authentications are one request each.
	steps := []struct {
		name, method, path, body string
		header                   map[string]string
		status                   int
		code                     string // "" means no errors
	}{
		{"OK", "POST", "/graphql", gqlBody(valid), with(admin), 200, ""},
		{"OKAnonymous", "POST", "/graphql", gqlBody(valid), with(nil), 200, ""},
		{"RateLimited429", "POST", "/graphql", gqlBody(valid), with(nil), 429, "RATE_LIMITED"},
		{"Unauthenticated401", "POST", "/graphql", gqlBody(valid), with(nil, "Authorization", "Bearer not-a-key"), 401, "UNAUTHENTICATED"},
		{"FailedAuth429", "POST", "/graphql", gqlBody(valid), with(nil, "Authorization", "Bearer not-a-key"), 429, "RATE_LIMITED"},
		{"TooLarge413", "POST", "/graphql", gqlBody("# " + strings.Repeat("a", 4096) + "\n" + valid), with(admin), 413, "REQUEST_TOO_LARGE"},
		{"UnsupportedMediaType415", "POST", "/graphql", gqlBody(valid), with(admin, "Content-Type", "text/plain"), 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"BadBody400", "POST", "/graphql", `not json at all`, with(admin), 400, "BAD_REQUEST"},
		{"BadIdempotencyKey400", "POST", "/graphql", gqlBody(valid), with(admin, "Idempotency-Key", strings.Repeat("k", 256)), 400, "BAD_USER_INPUT"},
		{"MutationOverGET405", "GET", graphqlGET(`mutation { revokeApiKey(input: {id: "00000000-0000-0000-0000-000000000000"}) { apiKey { id } } }`), "", with(admin), 405, "METHOD_NOT_ALLOWED"},
		{"ParseError400", "POST", "/graphql", gqlBody(`{ plans { id `), with(admin), 400, "GRAPHQL_PARSE_FAILED"},
	}
	var normal string
	for _, s := range steps {
		r := e.withT(t).do(newHTTPRequest(t, e, s.method, s.path, s.body, s.header))
		if r.Status != s.status || r.Code() != s.code {
			t.Errorf("%s: status %d code %q, want %d %q: %.300s", s.name, r.Status, r.Code(), s.status, s.code, r.Raw)
		}
		ct := r.Header.Get("Content-Type")
		if normal == "" {
			normal = ct
			if !strings.HasPrefix(ct, mediaGraphQLResponse) {
				t.Fatalf("%s: Content-Type %q, want %s (listed first in Accept)", s.name, ct, mediaGraphQLResponse)
			}
		}
		if ct != normal {
			t.Errorf("%s: Content-Type %q, want %q as for a normal answer", s.name, ct, normal)
		}
		if s.status >= 400 && hasDataKey(t, r.Raw) {
			t.Errorf("%s: the refusal has a data key: %.300s", s.name, r.Raw)
		}
	}
}
