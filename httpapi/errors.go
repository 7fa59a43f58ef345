package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime/debug"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"tenantapi/tenant"
)

// extensionCode maps domain error codes to GraphQL extensions.code.
var extensionCode = map[string]string{
	tenant.EINVALID:         "BAD_USER_INPUT",
	tenant.ENOTFOUND:        "NOT_FOUND",
	tenant.ECONFLICT:        "CONFLICT",
	tenant.EFORBIDDEN:       "FORBIDDEN",
	tenant.EUNAUTHENTICATED: "UNAUTHENTICATED",
	tenant.ERATELIMITED:     "RATE_LIMITED",
	tenant.EUNAVAILABLE:     "SERVICE_UNAVAILABLE",
	tenant.EINTERNAL:        "INTERNAL_SERVER_ERROR",
	tenant.EQUOTA:           "QUOTA_EXCEEDED",
	tenant.EPAYMENT:         "PAYMENT_REQUIRED",
}

// presentError is the one error presenter: a domain error keeps its safe
// message and gets its extensions.code (and extensions.field for input
// errors); gqlgen's own parse and validation errors pass unchanged; anything
// else is logged with its cause and shown as "internal error".
func presentError(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		out := present(log, ctx, err)
		out.Message = shortenValues(out.Message)
		return out
	}
}

// present maps err to what the client sees (see presentError).
func present(log *slog.Logger, ctx context.Context, err error) *gqlerror.Error {
	if te, ok := errors.AsType[*tenant.Error](err); ok {
		out := &gqlerror.Error{Message: te.Message, Path: graphql.GetPath(ctx), Extensions: map[string]any{"code": extensionCode[te.Code]}}
		if g, ok := errors.AsType[*gqlerror.Error](err); ok {
			out.Path, out.Locations = g.Path, g.Locations
		}
		if te.Field != "" {
			out.Extensions["field"] = te.Field
		} else if f := inputField(ctx, err); f != "" && te.Code == tenant.EINVALID {
			// A scalar that failed to parse (Date) does not know its
			// argument's name: take it from the input path.
			out.Message, out.Extensions["field"] = f+" "+te.Message, f
		}
		if te.Limit != nil {
			out.Extensions["limit"] = te.Limit
		}
		if te.Code == tenant.EINTERNAL {
			log.ErrorContext(ctx, "internal error", "request_id", tenant.RequestID(ctx), "err", err)
		}
		return out
	}
	if g, ok := errors.AsType[*gqlerror.Error](err); ok && g.Unwrap() == nil {
		return g // gqlgen's own message: parse, validation, coercion
	}
	if f := inputField(ctx, err); f != "" {
		// A built-in scalar that failed to parse (Time): the client's input.
		g, _ := errors.AsType[*gqlerror.Error](err)
		return &gqlerror.Error{Message: f + " is not valid: " + g.Message, Path: graphql.GetPath(ctx), Locations: g.Locations,
			Extensions: map[string]any{"code": extensionCode[tenant.EINVALID], "field": f}}
	}
	path := graphql.GetPath(ctx)
	if g, ok := errors.AsType[*gqlerror.Error](err); ok {
		path = g.Path
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &gqlerror.Error{Message: "the request took too long and was cancelled", Path: path, Extensions: map[string]any{"code": "SERVICE_UNAVAILABLE"}}
	}
	log.ErrorContext(ctx, "internal error", "request_id", tenant.RequestID(ctx), "path", path.String(), "err", err)
	return &gqlerror.Error{Message: "internal error", Path: path, Extensions: map[string]any{"code": "INTERNAL_SERVER_ERROR"}}
}

// maxQuotedValue is the longest quoted value an error message repeats;
// a longer one is cut to its first maxQuotedValue characters and "…".
const maxQuotedValue = 48

// maxMessage bounds a whole error message, in bytes.
const maxMessage = 1024

var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// shortenValues cuts the values an error message quotes (gqlgen's coercion
// errors repeat the client's value: a 1 MB string would come back as a
// 1 MB message) and the message itself.
func shortenValues(msg string) string {
	if len(msg) <= maxQuotedValue+2 {
		return msg
	}
	msg = quoted.ReplaceAllStringFunc(msg, func(q string) string {
		inner := q[1 : len(q)-1]
		if utf8.RuneCountInString(inner) <= maxQuotedValue {
			return q
		}
		return `"` + strings.TrimRight(truncate(inner, maxQuotedValue), "\\") + `"`
	})
	if len(msg) > maxMessage {
		msg = truncateBytes(msg, maxMessage-len("…")) + "…"
	}
	return msg
}

// recoverPanic turns a resolver panic into INTERNAL_SERVER_ERROR for that
// field and a log line with the stack; the server keeps serving.
func recoverPanic(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in resolver", "request_id", tenant.RequestID(ctx), "panic", p, "stack", string(debug.Stack()))
		return &tenant.Error{Code: tenant.EINTERNAL, Message: "internal error"}
	}
}

// inputField names the argument or input field an argument-coercion error
// points at ("startDate", "events[3].occurredAt"), or "" for any other
// error. gqlgen reports such errors with the field's path extended by the
// input path; a leading "input" (every mutation's one argument) is dropped,
// as in the fields of tenant.Invalid.
func inputField(ctx context.Context, err error) string {
	g, ok := errors.AsType[*gqlerror.Error](err)
	if !ok {
		return ""
	}
	base := graphql.GetPath(ctx)
	if len(g.Path) <= len(base) {
		return ""
	}
	for i, p := range base {
		if g.Path[i] != p {
			return ""
		}
	}
	rest := g.Path[len(base):]
	if n, ok := rest[0].(ast.PathName); ok && n == "input" && len(rest) > 1 {
		rest = rest[1:]
	}
	var b strings.Builder
	for _, p := range rest {
		switch p := p.(type) {
		case ast.PathName:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(string(p))
		case ast.PathIndex:
			fmt.Fprintf(&b, "[%d]", int(p))
		}
	}
	return b.String()
}
