package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
)

// specTransport wraps gqlgen's GET and POST transports to follow the
// GraphQL-over-HTTP spec where gqlgen v0.17.95 differs from it:
//   - with Accept: application/json, a document that fails to parse or
//     validate answers 200 with errors (gqlgen: 422);
//   - such failures have no "data" key (gqlgen writes "data": null), and
//     with application/graphql-response+json answer 4xx;
//   - a mutation over GET answers 405 with Allow: POST (gqlgen: 406).
type specTransport struct {
	graphql.Transport
	maxBody int64 // request body limit in bytes
}

func (t specTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	// Read the body here, under the limit, so an oversized one is refused
	// with 413 (gqlgen would answer 200 with its own read error).
	if r.Body != nil && r.Method == http.MethodPost {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, t.maxBody))
		if err != nil {
			status, msg, code := http.StatusBadRequest, "the request body could not be read", "BAD_REQUEST"
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				status, msg, code = http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than the limit of %d bytes", t.maxBody), "REQUEST_TOO_LARGE"
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write(errorBody(msg, code))
			return
		}
		if refuseBatch(w, r, body) { // limits.go
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	sw := &specWriter{ResponseWriter: w}
	t.Transport.Do(sw, r, exec)
	sw.finish()
}

// specWriter holds back error responses so their status and body can be
// corrected; successful responses stream through untouched.
type specWriter struct {
	http.ResponseWriter
	status int
	buf    *bytes.Buffer
}

func (w *specWriter) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	w.status = code
	if code >= 400 {
		w.buf = new(bytes.Buffer)
		return // decided in finish
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *specWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.buf != nil {
		return w.buf.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

func (w *specWriter) finish() {
	if w.buf == nil {
		return
	}
	h := w.ResponseWriter.Header()
	status := w.status
	body := w.buf.Bytes()
	graphqlResponse := h.Get("Content-Type") == "application/graphql-response+json"
	switch {
	case status == http.StatusNotAcceptable && bytes.Contains(body, []byte("GET requests only allow query operations")):
		status = http.StatusMethodNotAllowed
		h.Set("Allow", "POST")
		body = errorBody("mutations and subscriptions must be sent with POST; GET serves queries only", "METHOD_NOT_ALLOWED")
	case status == http.StatusBadRequest && bytes.Contains(body, []byte("json request body could not be decoded")):
		body = errorBody("the request body is not a JSON object of the form {\"query\": ..., \"variables\": {...}, \"operationName\": ...}", "BAD_REQUEST")
	case status == http.StatusUnprocessableEntity && !graphqlResponse:
		status = http.StatusOK
	case status == http.StatusUnprocessableEntity:
		status = http.StatusBadRequest
	}
	// Every response held back here failed before execution (parse,
	// validation, method, body): the spec wants no "data" entry, whatever
	// the status.
	body = dropData(body)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.ResponseWriter.WriteHeader(status)
	_, _ = w.ResponseWriter.Write(body)
}

// dropData removes the "data" key from a response that never executed: the
// spec says such a response has no data entry at all.
func dropData(body []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	if _, ok := m["data"]; !ok {
		return body
	}
	delete(m, "data")
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return out
}

func errorBody(msg, code string) []byte {
	b, _ := json.Marshal(map[string]any{"errors": []any{map[string]any{"message": msg, "extensions": map[string]any{"code": code}}}})
	return b
}
