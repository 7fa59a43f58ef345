package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"tenantapi/tenant"
)

func (c Config) requestTimeout() time.Duration {
	if c.RequestTimeout > 0 {
		return c.RequestTimeout
	}
	return DefaultRequestTimeout
}

// operationDeadline gives an operation that has no deadline yet (one over
// a websocket: HTTP requests get theirs in protect) the request timeout.
func operationDeadline(d time.Duration) graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if _, ok := ctx.Deadline(); ok {
			return next(ctx)
		}
		if op := graphql.GetOperationContext(ctx).Operation; op != nil && op.Operation == ast.Subscription {
			return next(ctx)
		}
		ctx, cancel := context.WithTimeout(ctx, d)
		h := next(ctx)
		return func(ctx context.Context) *graphql.Response {
			r := h(ctx)
			if r == nil { // the end of the operation's responses
				cancel()
			}
			return r
		}
	}
}

// protect wraps the GraphQL endpoint: panics outside resolvers become a 500
// and a log line; a POST that is not application/json is refused with 415
// (text/plain, form and multipart bodies are what a browser sends cross-site
// without a CORS preflight, so refusing them closes that CSRF door); and
// every other request gets the request deadline (a websocket's operations
// and those over SSE get theirs one by one in operationDeadline, which
// leaves subscriptions without one).
func protect(next http.Handler, cfg Config) http.Handler {
	timeout := cfg.requestTimeout()
	return recoverHTTP(cfg.Logger, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > cfg.MaxBodyBytes {
			// Refused before a byte is read, whatever the transport.
			writeRefusal(w, r, http.StatusRequestEntityTooLarge, codeRequestTooLarge,
				fmt.Sprintf("the request is larger than the limit of %d bytes", cfg.MaxBodyBytes))
			return
		}
		if r.Body != nil {
			// Every reader downstream (Idempotency-Key, the transports) is
			// held to the same limit.
			r.Body = http.MaxBytesReader(w, r.Body, cfg.MaxBodyBytes)
		}
		if r.Method == http.MethodPost {
			if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
				writeRefusal(w, r, http.StatusUnsupportedMediaType, codeMediaType,
					"POST requests must have Content-Type: application/json; text/plain, form and multipart bodies are refused (a browser can send them from any site)")
				return
			}
		}
		if r.Method == http.MethodPost && containsMedia(r.Header.Get("Accept"), "text/event-stream") {
			// A subscription over SSE runs for as long as its credential
			// holds (transport.go); its queries and mutations get the
			// request deadline one by one in operationDeadline.
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	}))
}

// recoverHTTP turns a panic of next (outside gqlgen, which recovers its
// own) into a 500 INTERNAL_SERVER_ERROR and a log line with the stack.
func recoverHTTP(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
			log.ErrorContext(r.Context(), "panic in HTTP handler", "request_id", tenant.RequestID(r.Context()), "panic", p, "stack", string(debug.Stack()))
			writeError(w, r, http.StatusInternalServerError, nil)
		}()
		next.ServeHTTP(w, r)
	})
}
