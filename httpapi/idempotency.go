package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"tenantapi/db"
	"tenantapi/tenant"
)

// idempotency honours the Idempotency-Key header on mutations sent by POST
// (draft-ietf-httpapi-idempotency-key-header): the first request with a key
// runs and its response is stored, sealed, for 24 hours; the same key with
// the same request (query, operation name and variables) replays that
// response without running anything; the same key with another request is
// refused (422 IDEMPOTENCY_KEY_REUSED), and so is a duplicate that arrives
// while the first still runs (409 CONFLICT, Retry-After: 1). Keys belong
// to the credential: the admin secret and each API key have their own.
//
// A request that failed without doing anything, for a reason a retry may
// cure (SERVICE_UNAVAILABLE, RATE_LIMITED, INTERNAL_SERVER_ERROR, any 5xx or
// 429), is not stored: the key is released so the retry runs. Whether the
// work was done is not guessed from the response: the mutation's own
// transaction marks the key applied (db.WithIdempotencyClaim), so a request
// whose commit went through but whose response was lost with the database
// connection is never run a second time.
type idempotency struct {
	store   *db.Store
	maxBody int64
	log     *slog.Logger
}

// maxIdempotencyKey is the longest key accepted.
const maxIdempotencyKey = 255

// validIdempotencyKey reports whether k is 1 to 255 printable ASCII
// characters.
func validIdempotencyKey(k string) bool {
	if k == "" || len(k) > maxIdempotencyKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

func (m *idempotency) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, sent := r.Header["Idempotency-Key"]
		if r.Method != http.MethodPost || !sent || containsMedia(r.Header.Get("Accept"), "text/event-stream") {
			next.ServeHTTP(w, r)
			return
		}
		if len(key) != 1 || !validIdempotencyKey(key[0]) {
			writeRefusal(w, r, http.StatusBadRequest, "BAD_USER_INPUT",
				"the Idempotency-Key header must be sent once, with 1 to 255 printable ASCII characters (a UUID is a good key)")
			return
		}
		actor := tenant.ActorFrom(r.Context())
		if actor.Kind == tenant.Anonymous {
			next.ServeHTTP(w, r) // nothing runs without credentials anyway
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, m.maxBody+1))
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
		if err != nil || int64(len(body)) > m.maxBody {
			next.ServeHTTP(w, r) // the transport answers the oversized or broken body
			return
		}
		hash, mutation := mutationHash(body)
		if !mutation {
			next.ServeHTTP(w, r) // queries are safe to repeat; unparsable documents get their error
			return
		}
		ctx := r.Context()
		rec, err := m.store.ClaimIdempotencyKey(ctx, actor.ActorID(), key[0], hash)
		if err != nil {
			status := http.StatusInternalServerError
			if tenant.ErrorCode(err) == tenant.EUNAVAILABLE {
				status = http.StatusServiceUnavailable
			} else {
				m.log.ErrorContext(ctx, "idempotency key claim failed", "request_id", tenant.RequestID(ctx), "err", err)
			}
			writeError(w, r, status, err)
			return
		}
		switch rec.Outcome {
		case db.IdempotencyReplay:
			w.Header().Set("Content-Type", rec.ContentType)
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(rec.Status)
			_, _ = w.Write(rec.Body)
		case db.IdempotencyReused:
			writeRefusal(w, r, http.StatusUnprocessableEntity, "IDEMPOTENCY_KEY_REUSED",
				"this Idempotency-Key was already used with a different request (query, operation name or variables) in the last 24 hours; use a new key for a new request")
		case db.IdempotencyInProgress:
			w.Header().Set("Retry-After", "1")
			writeRefusal(w, r, http.StatusConflict, "CONFLICT",
				"a request with this Idempotency-Key is still in progress; retry in a moment to get its response")
		case db.IdempotencyLost:
			writeRefusal(w, r, http.StatusConflict, "CONFLICT",
				"the request with this Idempotency-Key was applied, but its response was lost when the database connection failed; read the current state instead of retrying")
		case db.IdempotencyClaimed:
			cw := &captureWriter{header: http.Header{}, status: http.StatusOK}
			next.ServeHTTP(cw, r.WithContext(db.WithIdempotencyClaim(ctx, rec.Claim)))
			m.finish(ctx, rec.Claim, cw)
			for k, v := range cw.header {
				w.Header()[k] = v
			}
			w.WriteHeader(cw.status)
			_, _ = w.Write(cw.body.Bytes())
		}
	})
}

// finish stores the response of a claimed request, or releases the key when
// the request failed transiently and did not apply anything. It runs even if
// the client went away, with a deadline of its own.
func (m *idempotency) finish(ctx context.Context, c *db.IdempotencyClaim, cw *captureWriter) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if transientFailure(cw.status, cw.body.Bytes()) {
		released, err := m.store.ReleaseIdempotencyKey(ctx, c)
		if err != nil {
			// The claim stays RUNNING: a retry gets CONFLICT until
			// db.IdempotencyLease passes, then takes it over.
			m.log.WarnContext(ctx, "releasing an idempotency key failed", "request_id", tenant.RequestID(ctx), "err", err)
			return
		}
		if released {
			return
		}
		// The work was applied after all (say, a later field failed): its
		// response is the one to replay.
	}
	if err := m.store.CompleteIdempotencyKey(ctx, c, cw.status, cw.header.Get("Content-Type"), cw.body.Bytes()); err != nil {
		m.log.WarnContext(ctx, "storing an idempotent response failed", "request_id", tenant.RequestID(ctx), "err", err)
	}
}

// transientFailure reports whether a response says the request could not be
// served for a reason a retry may cure.
func transientFailure(status int, body []byte) bool {
	if status >= 500 || status == http.StatusTooManyRequests {
		return true
	}
	var resp struct {
		Errors []struct {
			Extensions struct {
				Code string `json:"code"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &resp) != nil {
		return false
	}
	for _, e := range resp.Errors {
		switch e.Extensions.Code {
		case "SERVICE_UNAVAILABLE", "RATE_LIMITED", "INTERNAL_SERVER_ERROR":
			return true
		}
	}
	return false
}

// mutationParseTokens bounds the parse of a document here; longer documents
// are left to the executor (and its limits) without idempotency.
const mutationParseTokens = 15000

// mutationHash reports whether body is a GraphQL request for a mutation and
// returns the SHA-256 of what identifies it: the document, the operation
// name and the variables in a canonical form (object keys sorted), so the
// same request hashes the same however its JSON was spaced or ordered.
func mutationHash(body []byte) ([]byte, bool) {
	var req struct {
		Query         string         `json:"query"`
		OperationName string         `json:"operationName"`
		Variables     map[string]any `json:"variables"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(&req) != nil || req.Query == "" {
		return nil, false // not JSON, or a persisted query sent by hash alone: cannot tell
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: req.Query}, mutationParseTokens)
	if err != nil {
		return nil, false
	}
	var op *ast.OperationDefinition
	if req.OperationName != "" {
		op = doc.Operations.ForName(req.OperationName)
	} else if len(doc.Operations) == 1 {
		op = doc.Operations[0]
	}
	if op == nil || op.Operation != ast.Mutation {
		return nil, false
	}
	canon, err := json.Marshal([]any{req.Query, req.OperationName, req.Variables})
	if err != nil {
		return nil, false
	}
	sum := sha256.Sum256(canon)
	return sum[:], true
}

// captureWriter buffers a response so it can be stored before it is sent.
type captureWriter struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (c *captureWriter) Header() http.Header { return c.header }

func (c *captureWriter) WriteHeader(status int) {
	if !c.wrote {
		c.status, c.wrote = status, true
	}
}

func (c *captureWriter) Write(b []byte) (int, error) {
	c.wrote = true
	return c.body.Write(b)
}
