package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"tenantapi/tenant"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// The response side of /graphql (transport.go): one media-type decision
// (responseMediaType) for every answer, executed or refused; one writer of
// refusals (writeErrors, and writeRefusal and writeError over it) for every
// stage that answers before anything ran (guard.go, auth.go, ratelimit.go,
// idempotency.go, transport.go); and writeResponse, which copies the data
// gqlgen's executor has already encoded as compact JSON into the body as it
// is. Passing the whole
// response through encoding/json again (as gqlgen's transports do)
// validates, compacts and HTML-escapes the data a second time: 4 % of the
// CPU of a list of 100 tenants and a copy of the body (docs/benchmarks.md).

const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// responseMediaType chooses the response's media type from Accept, as
// gqlgen's transports do: application/json unless the client asks for
// application/graphql-response+json first (or for neither).
func responseMediaType(r *http.Request) string {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return mediaJSON
	}
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "*/*", "application/*", mediaJSON:
			return mediaJSON
		case mediaGraphQLResponse:
			return mediaGraphQLResponse
		}
	}
	return mediaGraphQLResponse
}

// writeErrors answers a request that nothing ran for: errs in GraphQL's
// response shape with no data key (the spec's rule for a request that did
// not execute), ext as its extensions, in the media type responseMediaType
// chooses, like every other answer of the endpoint.
func writeErrors(w http.ResponseWriter, r *http.Request, status int, errs gqlerror.List, ext map[string]any) {
	body := map[string]any{"errors": errs}
	if len(ext) > 0 {
		body["extensions"] = ext
	}
	b, err := json.Marshal(body)
	if err != nil {
		b = []byte(`{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", responseMediaType(r))
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeRefusal is writeErrors of one error with its extensions.code: a
// request refused before GraphQL read it (413, 415, 405, a bad body or
// Idempotency-Key).
func writeRefusal(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	writeErrors(w, r, status, gqlerror.List{{Message: msg, Extensions: map[string]any{"code": code}}}, nil)
}

// writeError is writeRefusal of a domain error: its safe message and code;
// any other error is "internal error" (the caller logs the cause).
func writeError(w http.ResponseWriter, r *http.Request, status int, err error) {
	msg, code := "internal error", extensionCode[tenant.EINTERNAL]
	if te, ok := errors.AsType[*tenant.Error](err); ok {
		msg, code = te.Message, extensionCode[te.Code]
	}
	writeRefusal(w, r, status, code, msg)
}

// writeResponse writes resp as encoding/json would, members in the same
// order (errors, data, extensions), but with resp.Data written as it is.
// Incremental-delivery members (label, path, hasNext) never occur on this
// transport; such a response is encoded whole, as gqlgen does.
func writeResponse(w io.Writer, resp *graphql.Response) {
	if resp.Label != "" || resp.Path != nil || resp.HasNext != nil {
		b, err := json.Marshal(resp)
		if err != nil {
			panic(fmt.Errorf("unable to marshal %s: %w", string(resp.Data), err))
		}
		_, _ = w.Write(b)
		return
	}
	var errs, ext []byte
	var err error
	if len(resp.Errors) > 0 {
		if errs, err = json.Marshal(resp.Errors); err != nil {
			panic(fmt.Errorf("unable to marshal the errors of a response: %w", err))
		}
	}
	if len(resp.Extensions) > 0 {
		if ext, err = json.Marshal(resp.Extensions); err != nil {
			panic(fmt.Errorf("unable to marshal the extensions of a response: %w", err))
		}
	}
	// Three writes, so the data is never copied: the opening members, the
	// data, the closing ones.
	head := make([]byte, 0, len(errs)+32)
	head = append(head, '{')
	if errs != nil {
		head = append(append(append(head, `"errors":`...), errs...), ',')
	}
	head = append(head, `"data":`...)
	tail := make([]byte, 0, len(ext)+16)
	if ext != nil {
		tail = append(append(tail, `,"extensions":`...), ext...)
	}
	tail = append(tail, '}')
	data := []byte(resp.Data)
	if len(data) == 0 {
		data = []byte("null")
	}
	for _, b := range [][]byte{head, data, tail} {
		if _, err := w.Write(b); err != nil {
			return // the client is gone
		}
	}
}
