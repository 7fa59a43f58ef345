package httpapi_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"tenantapi/httpapi"
)

// lockedBuffer is a log destination safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// guardEnv is a server with a 4 KiB body limit whose logs are kept.
func guardEnv(t *testing.T) (*env, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	e := newEnvWith(t, func(c *httpapi.Config) {
		c.MaxBodyBytes = 4096
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	return e, logs
}

const sseAccept = "text/event-stream"

// TestBodyLimitEveryTransport: POST, SSE and GET share REQUEST_MAX_BYTES:
// over it answers 413 REQUEST_TOO_LARGE, whether the length is declared or
// the body is streamed without one. SSE skipped the limit before (one
// anonymous 200 MiB request took the server from 37 MB to 665 MB).
func TestBodyLimitEveryTransport(t *testing.T) {
	t.Parallel()
	e, _ := guardEnv(t)
	big := gqlBody("{ __typename }" + strings.Repeat(" ", 8192))
	tests := []struct {
		name    string
		req     func() *http.Request
		chunked bool
	}{
		{"POST", func() *http.Request { return newHTTPRequest(t, e, http.MethodPost, "/graphql", big, nil) }, false},
		{"POSTChunked", func() *http.Request { return newHTTPRequest(t, e, http.MethodPost, "/graphql", big, nil) }, true},
		{"SSE", func() *http.Request {
			return newHTTPRequest(t, e, http.MethodPost, "/graphql", big, map[string]string{"Accept": sseAccept})
		}, false},
		{"SSEChunked", func() *http.Request {
			return newHTTPRequest(t, e, http.MethodPost, "/graphql", big, map[string]string{"Accept": sseAccept})
		}, true},
		{"GET", func() *http.Request {
			return newHTTPRequest(t, e, http.MethodGet, graphqlGET("{ __typename }"+strings.Repeat(" ", 8192)), "", nil)
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req()
			if tc.chunked {
				req.ContentLength = -1 // no Content-Length: the server finds out while reading
				body, _ := io.ReadAll(req.Body)
				req.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body)))
			}
			r := e.do(req)
			if r.Status != http.StatusRequestEntityTooLarge || r.Code() != "REQUEST_TOO_LARGE" || !strings.Contains(r.Errors[0].Message, "4096 bytes") {
				t.Fatalf("status %d: %s; want 413 REQUEST_TOO_LARGE naming the limit", r.Status, r.Raw)
			}
		})
	}
}

// TestDeclaredLengthRefusedAtOnce: a Content-Length over the limit is
// answered 413 before the body is sent (the client here never sends it).
func TestDeclaredLengthRefusedAtOnce(t *testing.T) {
	t.Parallel()
	e, _ := guardEnv(t)
	u, _ := url.Parse(e.srv.URL)
	for _, accept := range []string{"application/json", sseAccept} {
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAccept: %s\r\nContent-Length: %d\r\n\r\n", u.Host, accept, 200<<20)
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("Accept %s: no answer before the body was sent: %v", accept, err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "REQUEST_TOO_LARGE") {
			t.Fatalf("Accept %s: %d %s; want 413 REQUEST_TOO_LARGE", accept, resp.StatusCode, body)
		}
	}
}

// TestMalformedBodyNotEchoed: a body that is not a request is refused with
// 400 BAD_REQUEST saying where it fails, on POST and SSE alike, and
// neither the response nor any log line repeats it (an enableSso client
// secret reached the log through the SSE transport before).
func TestMalformedBodyNotEchoed(t *testing.T) {
	t.Parallel()
	e, logs := guardEnv(t)
	const secret = "CLIENT-SECRET-do-not-log"
	bodies := map[string]string{
		"ErrSyntax":        `{"query": "mutation { enableSso(input: {clientSecret: \"` + secret + `\"}) { x } }", `,
		"ErrQueryNotText":  `{"query": 5, "variables": {"s": "` + secret + `"}}`,
		"ErrTrailingData":  `{"query": "{ __typename }"} {"s": "` + secret + `"}`,
		"ErrTwoObjects":    `{"query": "{ __typename }"}{"query": "` + secret + `"}`,
		"ErrNotAnObject":   `"` + secret + `"`,
		"ErrVariablesList": `{"query": "{ __typename }", "variables": ["` + secret + `"]}`,
	}
	for name, body := range bodies {
		for _, accept := range []string{"application/json", "application/graphql-response+json", sseAccept} {
			t.Run(name+"/"+accept, func(t *testing.T) {
				r := e.do(newHTTPRequest(t, e, http.MethodPost, "/graphql", body, map[string]string{"Accept": accept}))
				if r.Status != http.StatusBadRequest || r.Code() != "BAD_REQUEST" {
					t.Fatalf("status %d: %s; want 400 BAD_REQUEST", r.Status, r.Raw)
				}
				if strings.Contains(string(r.Raw), secret) {
					t.Fatalf("the response echoes the body: %s", r.Raw)
				}
				if hasDataKey(t, r.Raw) {
					t.Fatalf("a refused request has a data key: %s", r.Raw)
				}
			})
		}
	}
	if strings.Contains(logs.String(), secret) {
		t.Fatalf("a log line repeats a request body:\n%s", logs.String())
	}
}

// TestMissingQuery: a JSON object without a query ({"qeury": …}, the
// GraphQL-over-HTTP draft's example of a request that is not well-formed)
// is a bad request: 400, a JSON body with an errors array whose code is
// BAD_REQUEST (of the ErrorCode enum) and no data key, in the media type
// the client accepts: application/json for a client that accepts only that
// (and for */* or no Accept), application/graphql-response+json for one
// that asks for it, as the draft requires a server to respect Accept.
func TestMissingQuery(t *testing.T) {
	t.Parallel()
	e, _ := guardEnv(t)
	for _, c := range []struct{ accept, want string }{
		{"application/json", "application/json"},
		{"application/json; charset=utf-8", "application/json"},
		{"*/*", "application/json"},
		{"", "application/json"},
		{"application/graphql-response+json", "application/graphql-response+json"},
		{"application/graphql-response+json, application/json;q=0.9", "application/graphql-response+json"},
	} {
		for _, body := range []string{`{"qeury": "{ __typename }"}`, `{}`, `{"query": null}`, `{"query": ""}`, `{"variables": {}}`} {
			h := map[string]string{}
			if c.accept != "" {
				h["Accept"] = c.accept
			}
			r := e.do(newHTTPRequest(t, e, http.MethodPost, "/graphql", body, h))
			if r.Status != http.StatusBadRequest || r.Code() != "BAD_REQUEST" || !strings.Contains(r.Errors[0].Message, `"query"`) {
				t.Fatalf("Accept %q, body %s: status %d: %s; want 400 BAD_REQUEST naming query", c.accept, body, r.Status, r.Raw)
			}
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != c.want {
				t.Errorf("Accept %q, body %s: Content-Type %q, want %s", c.accept, body, r.Header.Get("Content-Type"), c.want)
			}
			if hasDataKey(t, r.Raw) {
				t.Errorf("Accept %q, body %s: a refused request has a data key: %s", c.accept, body, r.Raw)
			}
		}
	}
}

// TestGETUndecodableParameters: GET's variables and extensions that are not
// JSON objects answer 400 with extensions.code, naming the parameter.
func TestGETUndecodableParameters(t *testing.T) {
	t.Parallel()
	e, _ := guardEnv(t)
	for _, param := range []string{"variables", "extensions"} {
		for _, value := range []string{"{not json", `["a"]`, `{"a": 1} trailing`} {
			path := graphqlGET("{ __typename }") + "&" + param + "=" + url.QueryEscape(value)
			r := e.do(newHTTPRequest(t, e, http.MethodGet, path, "", nil))
			if r.Status != http.StatusBadRequest || r.Code() != "BAD_REQUEST" || !strings.HasPrefix(r.Errors[0].Message, param) {
				t.Fatalf("%s=%s: status %d: %s; want 400 BAD_REQUEST naming %s", param, value, r.Status, r.Raw, param)
			}
		}
	}
	r := e.do(newHTTPRequest(t, e, http.MethodGet, "/graphql?query=%zz", "", nil))
	if r.Status != http.StatusBadRequest || r.Code() != "BAD_REQUEST" {
		t.Fatalf("a broken escape: status %d: %s; want 400 BAD_REQUEST", r.Status, r.Raw)
	}
}

// TestLongValuesCutInErrors: a value that an error names is cut to a short
// prefix: a 100 KB enum value is not sent back.
func TestLongValuesCutInErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	long := strings.Repeat("A", 100_000)
	r := e.gql(testAdminSecret, `query($p: Permission!) { viewer { kind } }`, map[string]any{"p": long})
	if len(r.Errors) == 0 || len(r.Raw) > 2048 {
		t.Fatalf("%d bytes: %.300s; want a short error", len(r.Raw), r.Raw)
	}
	r = e.gql(testAdminSecret, `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret } }`,
		map[string]any{"in": map[string]any{"name": "k", "permissions": []string{long}}})
	if len(r.Errors) == 0 || len(r.Raw) > 2048 || r.Code() == "" {
		t.Fatalf("%d bytes: %.300s; want a short coded error", len(r.Raw), r.Raw)
	}
}

// TestSSE: an operation over Server-Sent Events answers a next event with
// the response, then complete.
func TestSSE(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	req := newHTTPRequest(t, e, http.MethodPost, "/graphql", gqlBody("{ viewer { kind } }"), map[string]string{"Accept": sseAccept, "Authorization": "Bearer " + testAdminSecret})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	want := "event: next\ndata: {\"data\":{\"viewer\":{\"kind\":\"ADMIN\"}},\"extensions\":{\"cost\":{\"limit\":50000,\"requested\":2}}}\n\nevent: complete\ndata:\n\n"
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != sseAccept || string(body) != want {
		t.Fatalf("%d %s: %q; want %q", resp.StatusCode, resp.Header.Get("Content-Type"), body, want)
	}
}

// TestNoSniff: every response says X-Content-Type-Options: nosniff.
func TestNoSniff(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, path := range []string{"/graphql?query=%7B__typename%7D", "/graphql", "/healthz", "/readyz", "/metrics", "/", "/nothing-here"} {
		resp, err := http.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options %q, want nosniff", path, got)
		}
	}
}
