package httpapi

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
)

// The response side of the HTTP transport (transport.go): the media type
// and writeResponse, which copies the data gqlgen's executor has already
// encoded as compact JSON into the body as it is. Passing the whole
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
