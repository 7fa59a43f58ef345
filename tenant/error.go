// Package tenant holds the domain of the tenant API: its types, its error
// codes, its permissions and the caller carried in a request's context. It
// imports nothing else of this module, so every other package can use it.
package tenant

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes. Each maps to one GraphQL extensions.code in the error presenter.
const (
	EINVALID         = "invalid"         // BAD_USER_INPUT
	ENOTFOUND        = "not_found"       // NOT_FOUND
	ECONFLICT        = "conflict"        // CONFLICT
	EFORBIDDEN       = "forbidden"       // FORBIDDEN
	EUNAUTHENTICATED = "unauthenticated" // UNAUTHENTICATED
	ERATELIMITED     = "rate_limited"    // RATE_LIMITED
	EUNAVAILABLE     = "unavailable"     // SERVICE_UNAVAILABLE
	EINTERNAL        = "internal"        // INTERNAL_SERVER_ERROR
	// EQUOTA: the monthly quota and the credits are used up (recordUsage).
	EQUOTA = "quota_exceeded" // QUOTA_EXCEEDED
	// EPAYMENT: the account cannot screen (no ACTIVE subscription, no
	// credits left), so usage is refused (recordUsage).
	EPAYMENT = "payment_required" // PAYMENT_REQUIRED
)

// Error is the one error type of the domain. Its Message is safe to show to
// the client; Field names the offending input field for EINVALID.
type Error struct {
	Code    string
	Message string
	Field   string
	// Limit, for EQUOTA, names the limit refused and where the tenant
	// stands (extensions.limit), so a client need not parse the message.
	Limit *LimitHit
}

// LimitHit is the limit an EQUOTA error refused: its name (`users`,
// `interactionsPerMonth`, `policies`, `watchlistSeats`), its value, what
// is used and what the refused request asked for.
type LimitHit struct {
	Name      string `json:"name"`
	Limit     int    `json:"limit"`
	Used      int    `json:"used"`
	Requested int    `json:"requested"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error naming the input field at fault.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound is the error for a missing row and for another tenant's row alike,
// so a caller cannot tell the two apart.
func NotFound(what string) *Error {
	return &Error{Code: ENOTFOUND, Message: what + " not found"}
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, and
// EINTERNAL otherwise.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// Under returns err with its field placed under prefix ("settings." turns
// ipAllowlist into settings.ipAllowlist), for an input nested in another:
// the client sees the path it sent. Errors without a field, or not of this
// package, are returned unchanged. A field already under prefix is kept.
func Under(prefix string, err error) error {
	var e *Error
	if prefix == "" || !errors.As(err, &e) || e.Field == "" || strings.HasPrefix(e.Field, prefix) {
		return err
	}
	c := *e
	c.Field = prefix + e.Field
	if strings.HasPrefix(c.Message, e.Field) {
		c.Message = prefix + c.Message
	}
	return &c
}
