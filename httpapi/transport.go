package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"tenantapi/tenant"
)

// One guarded pipeline for every transport (docs/limits.md: One pipeline for
// every transport). GET, POST, POST with Accept: text/event-stream (SSE) and
// each websocket message are read by the same code: one body limit
// (Config.MaxBodyBytes, checked on the declared Content-Length before a
// byte is read), one decoder of the request's JSON that never echoes what
// it could not read, and then gqlgen's executor with the same document
// limits, cost, extensions and error presenter. gqlgen's own GET, POST and
// SSE transports are not used: its SSE transport read bodies without a
// limit and echoed malformed ones into the response and the log.
//
// The statuses follow the GraphQL-over-HTTP spec, including its SHOULDs:
//   - a body that is not a JSON object of a request, or a GET whose
//     variables do not decode, answers 400 BAD_REQUEST naming what is wrong;
//   - with Accept: application/json, a document that fails to parse or
//     validate answers 200 with errors, with
//     application/graphql-response+json 400; either way with no data key;
//   - a mutation over GET answers 405 with Allow: POST.

// Request refusal codes, in extensions.code.
const (
	codeBadRequest       = "BAD_REQUEST"
	codeRequestTooLarge  = "REQUEST_TOO_LARGE"
	codeMethodNotAllowed = "METHOD_NOT_ALLOWED"
)

// requestError is a request refused before GraphQL saw it.
type requestError struct {
	status int
	code   string
	msg    string
}

func badRequest(format string, args ...any) *requestError {
	return &requestError{http.StatusBadRequest, codeBadRequest, fmt.Sprintf(format, args...)}
}

// graphqlTransport is the HTTP transport of /graphql: GET, POST and SSE.
type graphqlTransport struct {
	maxBody int64 // the body limit, in bytes
	// auth and recheck check the credential of a subscription over SSE
	// again every recheck, as the websocket transport does.
	auth    *authenticator
	recheck time.Duration
	// ending closes at shutdown: SSE subscriptions then end with their
	// complete event (lifecycle.go).
	ending <-chan struct{}
}

var _ graphql.Transport = graphqlTransport{}

func (graphqlTransport) Supports(r *http.Request) bool {
	return r.Header.Get("Upgrade") == "" && (r.Method == http.MethodGet || r.Method == http.MethodPost)
}

func (t graphqlTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	params, rerr := t.read(r)
	if rerr != nil {
		writeRefusal(w, r, rerr.status, rerr.code, rerr.msg)
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	ctx := r.Context()
	rc, opErr := exec.CreateOperationContext(ctx, params)
	if opErr != nil {
		status := http.StatusOK
		if responseMediaType(r) == mediaGraphQLResponse && errcode.GetErrorKind(opErr) == errcode.KindProtocol {
			status = http.StatusBadRequest
		}
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, rc), opErr)
		// Nothing ran: the spec wants no data entry at all.
		writeErrors(w, r, status, resp.Errors, resp.Extensions)
		return
	}
	if r.Method == http.MethodGet && rc.Operation != nil && rc.Operation.Operation != ast.Query {
		w.Header().Set("Allow", http.MethodPost)
		writeRefusal(w, r, http.StatusMethodNotAllowed, codeMethodNotAllowed,
			"mutations and subscriptions must be sent with POST; GET serves queries only")
		return
	}
	if r.Method == http.MethodPost && containsMedia(r.Header.Get("Accept"), "text/event-stream") {
		t.serveEventStream(w, r, exec, rc)
		return
	}
	w.Header().Set("Content-Type", responseMediaType(r))
	responses, ctx := exec.DispatchOperation(ctx, rc)
	resp := responses(ctx)
	if r.Method == http.MethodGet && len(resp.Errors) == 0 {
		writeConditional(w, r, resp)
		return
	}
	writeResponse(w, resp)
}

// writeConditional answers a GET query with an ETag, the digest of the
// response it would send, and 304 Not Modified without a body when the
// client's If-None-Match already names it. A dashboard polling a
// persisted query then downloads nothing while its data is unchanged; the
// server still runs the query, which is what makes the tag exact
// whatever the data depends on (the clock included), and which costs one
// statement, the credential's, while the tenant's version has not moved
// (the association cache answers the rest: db/assoccache.go). The tag is
// private (per credential) and must be revalidated each time.
func writeConditional(w http.ResponseWriter, r *http.Request, resp *graphql.Response) {
	var body bytes.Buffer
	writeResponse(&body, resp)
	sum := sha256.Sum256(body.Bytes())
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "private, no-cache")
	h.Add("Vary", "Authorization, Cookie")
	if etagMatches(r.Header.Values("If-None-Match"), etag) {
		h.Del("Content-Type")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(body.Bytes())
}

// etagMatches reports whether an If-None-Match header names etag (weak
// comparison, RFC 9110 13.1.2) or is "*".
func etagMatches(headers []string, etag string) bool {
	for _, h := range headers {
		for _, t := range strings.Split(h, ",") {
			t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
			if t == etag || t == "*" {
				return true
			}
		}
	}
	return false
}

// read decodes the request's parameters: from the URL for GET, from the
// body for POST.
func (t graphqlTransport) read(r *http.Request) (*graphql.RawParams, *requestError) {
	if r.Method == http.MethodGet {
		return readGET(r, t.maxBody)
	}
	body, rerr := readBody(r, t.maxBody)
	if rerr != nil {
		return nil, rerr
	}
	return decodeParams(body)
}

// readBody reads a request body under the limit. protect has already
// refused a declared Content-Length over it; a body that grows past it
// while being read is refused the same way.
func readBody(r *http.Request, limit int64) ([]byte, *requestError) {
	if r.Body == nil {
		return nil, badRequest("the request has no body; send {\"query\": ...} as JSON")
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, tooLarge(limit)
		}
		return nil, badRequest("the request body could not be read")
	}
	return body, nil
}

func tooLarge(limit int64) *requestError {
	return &requestError{http.StatusRequestEntityTooLarge, codeRequestTooLarge,
		fmt.Sprintf("the request is larger than the limit of %d bytes", limit)}
}

// decodeParams decodes the JSON object of one GraphQL request (a POST body,
// an SSE request, a websocket subscribe payload). Errors say what is wrong
// and where, never what was sent.
func decodeParams(body []byte) (*graphql.RawParams, *requestError) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		return nil, &requestError{http.StatusBadRequest, codeBatching,
			`batching is not supported: the body is a JSON array; send one operation per request, as a JSON object {"query": ..., "variables": {...}}`}
	}
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, badRequest(`the request body must be a JSON object of the form {"query": ..., "variables": {...}, "operationName": ...}`)
	}
	var p graphql.RawParams
	if err := decodeJSON(body, &p); err != nil {
		return nil, badRequest(`the request body is not a JSON object of the form {"query": ..., "variables": {...}, "operationName": ...}: %s`, describeJSONError(err))
	}
	if p.Query == "" && p.Extensions["persistedQuery"] == nil {
		return nil, badRequest(`the request has no "query": send {"query": "{ ... }"} (or a persisted query's hash in extensions.persistedQuery)`)
	}
	return &p, nil
}

// readGET decodes the query string of a GET request: query, operationName,
// and variables and extensions as JSON.
func readGET(r *http.Request, limit int64) (*graphql.RawParams, *requestError) {
	if int64(len(r.URL.RawQuery)) > limit {
		return nil, tooLarge(limit)
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, badRequest("the query string could not be decoded: %s", describeURLError(err))
	}
	p := &graphql.RawParams{Query: q.Get("query"), OperationName: q.Get("operationName")}
	for _, f := range []struct {
		name string
		dst  *map[string]any
	}{{"variables", &p.Variables}, {"extensions", &p.Extensions}} {
		v := q.Get(f.name)
		if v == "" {
			continue
		}
		if err := decodeJSON([]byte(v), f.dst); err != nil {
			return nil, badRequest("%s must be a JSON object: %s", f.name, describeJSONError(err))
		}
	}
	if p.Query == "" && p.Extensions["persistedQuery"] == nil {
		return nil, badRequest("the request has no query: send ?query={...}")
	}
	return p, nil
}

// decodeJSON decodes exactly one JSON value into v: numbers stay
// json.Number (so the schema's scalars decide what they accept), and
// anything after the value but white space is an error.
func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errTrailingData{dec.InputOffset()}
	}
	return nil
}

type errTrailingData struct{ offset int64 }

func (e errTrailingData) Error() string {
	return fmt.Sprintf("data follows the JSON value at byte %d", e.offset)
}

// describeJSONError says where and how JSON failed to decode without
// quoting the input: a syntax error's offset, a type mismatch's field.
func describeJSONError(err error) string {
	if s, ok := errors.AsType[*json.SyntaxError](err); ok {
		return "invalid JSON at byte " + strconv.FormatInt(s.Offset, 10)
	}
	if t, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		if t.Field != "" {
			return fmt.Sprintf("%q must be a JSON %s, not %s", t.Field, jsonKind(t.Type.Kind().String()), t.Value)
		}
		return "expected a JSON object, not " + t.Value
	}
	if t, ok := errors.AsType[errTrailingData](err); ok {
		return t.Error()
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "the JSON ends too early"
	}
	return "invalid JSON"
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "map", "struct":
		return "object"
	}
	return "value of another type"
}

// describeURLError names a query-string decoding failure without quoting
// more than a short prefix of the offending text.
func describeURLError(err error) string {
	var esc url.EscapeError
	if errors.As(err, &esc) {
		return "invalid percent-escape " + strconv.Quote(truncate(string(esc), 8))
	}
	return "invalid query string"
}

// truncate cuts s to at most n runes, marking the cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

// serveEventStream answers an operation over Server-Sent Events (the
// GraphQL-over-SSE "distinct connections" mode): a next event per
// response, then complete. A subscription's credential is checked again
// every recheck interval, as over a websocket: once it no longer holds, a
// last next event carries the UNAUTHENTICATED (a key revoked or expired)
// or FORBIDDEN (a tenant suspended, an address off the allowlist) error and the
// stream ends.
func (t graphqlTransport) serveEventStream(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, rc *graphql.OperationContext) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flush := func() { _ = http.NewResponseController(w).Flush() }
	flush()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	var mu sync.Mutex // one writer at a time: the operation's responses, the recheck's refusal
	write := func(resp *graphql.Response) bool {
		mu.Lock()
		defer mu.Unlock()
		var b bytes.Buffer
		b.WriteString("event: next\ndata: ")
		writeResponse(&b, resp)
		b.WriteString("\n\n")
		if _, err := w.Write(b.Bytes()); err != nil {
			return false // the client is gone
		}
		flush()
		return true
	}
	refused := make(chan struct{})
	if rc.Operation != nil && rc.Operation.Operation == ast.Subscription && t.auth != nil {
		stopWatch := make(chan struct{})
		defer close(stopWatch)
		go t.watchSSE(ctx, r, stopWatch, func(err error) {
			code := "FORBIDDEN"
			msg := "Forbidden"
			if te, ok := errors.AsType[*tenant.Error](err); ok {
				msg = te.Message
				if te.Code == tenant.EUNAUTHENTICATED {
					code = "UNAUTHENTICATED"
				}
			}
			write(&graphql.Response{Errors: gqlerror.List{codedError(msg, code)}})
			close(refused)
			cancel()
		})
	}
	if rc.Operation != nil && rc.Operation.Operation == ast.Subscription {
		// At shutdown the subscription ends as if it had finished: the
		// stream closes with complete. A query or mutation over SSE runs
		// to its end, like any request in flight.
		go func(done <-chan struct{}) {
			select {
			case <-t.ending:
				cancel()
			case <-done:
			}
		}(ctx.Done())
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	for {
		resp := responses(ctx)
		if resp == nil {
			break
		}
		select {
		case <-refused:
			return
		default:
		}
		if !write(resp) {
			return
		}
	}
	select {
	case <-refused:
		return
	default:
	}
	mu.Lock()
	defer mu.Unlock()
	_, _ = io.WriteString(w, "event: complete\ndata:\n\n")
	flush()
}

// watchSSE checks the credential of r again every recheck interval until
// stop closes or ctx ends, and calls refuse once it no longer holds. A
// database that cannot answer is not taken as a revocation.
func (t graphqlTransport) watchSSE(ctx context.Context, r *http.Request, stop <-chan struct{}, refuse func(error)) {
	tick := time.NewTicker(t.recheck)
	defer tick.Stop()
	header := r.Header.Get("Authorization")
	for {
		select {
		case <-ctx.Done():
			return
		case <-stop:
			return
		case <-tick.C:
		}
		actor, err := t.auth.recheck(ctx, header)
		if err == nil {
			err = allowlisted(ctx, actor)
		}
		switch tenant.ErrorCode(err) {
		case tenant.EUNAUTHENTICATED, tenant.EFORBIDDEN:
			refuse(err)
			return
		}
	}
}
