package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
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
}

// presentError is the one error presenter: a domain error keeps its safe
// message and gets its extensions.code (and extensions.field for input
// errors); gqlgen's own parse and validation errors pass unchanged; anything
// else is logged with its cause and shown as "internal error".
func presentError(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		if te, ok := errors.AsType[*tenant.Error](err); ok {
			out := &gqlerror.Error{Message: te.Message, Path: graphql.GetPath(ctx), Extensions: map[string]any{"code": extensionCode[te.Code]}}
			if g, ok := errors.AsType[*gqlerror.Error](err); ok {
				out.Path, out.Locations = g.Path, g.Locations
			}
			if te.Field != "" {
				out.Extensions["field"] = te.Field
			}
			if te.Code == tenant.EINTERNAL {
				log.ErrorContext(ctx, "internal error", "request_id", tenant.RequestID(ctx), "err", err)
			}
			return out
		}
		if g, ok := errors.AsType[*gqlerror.Error](err); ok && g.Unwrap() == nil {
			return g // gqlgen's own message: parse, validation, coercion
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
}

// recoverPanic turns a resolver panic into INTERNAL_SERVER_ERROR for that
// field and a log line with the stack; the server keeps serving.
func recoverPanic(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in resolver", "request_id", tenant.RequestID(ctx), "panic", p, "stack", string(debug.Stack()))
		return &tenant.Error{Code: tenant.EINTERNAL, Message: "internal error"}
	}
}
