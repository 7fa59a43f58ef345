package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"tenantapi/db"
	"tenantapi/graph"
	"tenantapi/tenant"
)

// pageInfoOf is the PageInfo of a page read in either direction: its first
// and last items' cursors, whether items precede it and whether more
// follow.
func pageInfoOf[T any](items []T, ends tenant.PageEnds, cursor func(T) string) *graph.PageInfo {
	pi := &graph.PageInfo{HasNextPage: ends.HasNextPage, HasPreviousPage: ends.HasPreviousPage}
	if n := len(items); n > 0 {
		start, end := cursor(items[0]), cursor(items[n-1])
		pi.StartCursor, pi.EndCursor = &start, &end
	}
	return pi
}

// connArgs are a connection's paging arguments as received (nil: not
// given). A connection without last/before/offset leaves them nil.
type connArgs struct {
	First, Last   *int
	After, Before *string
	Offset        *int
	// FirstGiven: the client sent first (rather than leaving it to its
	// schema default), which last excludes. See argGiven.
	FirstGiven bool
}

// pageWindow checks a connection's arguments and returns the page to
// read: forwards, first items (def when not given, 1 to max) after a
// cursor or skipping offset items (0 to maxOffset); or backwards, the last
// items (1 to max) before a cursor, or at the end of the list. valid says
// whether a string is a cursor this API returned. Refused (EINVALID, on
// the argument at fault): a size or offset out of range, an unknown
// cursor, and arguments of both directions at once (first with last,
// after with last or before, offset with last or after).
func pageWindow(a connArgs, def, max, maxOffset int, valid func(string) error) (db.Page, error) {
	after, before := deref(a.After), deref(a.Before)
	cursor := func(field, c string) error {
		if c != "" && valid(c) != nil {
			return tenant.Invalid(field, "%s is not a cursor returned by this API", field)
		}
		return nil
	}
	if a.Last != nil {
		n := *a.Last
		switch {
		case a.FirstGiven:
			return db.Page{}, tenant.Invalid("last", "first and last cannot be combined: first pages forwards, last backwards")
		case after != "":
			return db.Page{}, tenant.Invalid("after", "after cannot be combined with last: the page before a cursor is last with before")
		case a.Offset != nil && *a.Offset != 0:
			return db.Page{}, tenant.Invalid("offset", "offset counts from the start of the list: it cannot be combined with last")
		case n < 1 || n > max:
			return db.Page{}, tenant.Invalid("last", "last must be between 1 and %d, got %d", max, n)
		}
		if err := cursor("before", before); err != nil {
			return db.Page{}, err
		}
		return db.Page{Size: n, Cursor: before, Backward: true}, nil
	}
	n := def
	if a.First != nil {
		n = *a.First
	}
	if before != "" {
		return db.Page{}, tenant.Invalid("before", "before goes with last (the last items before a cursor), not with first")
	}
	if n < 1 || n > max {
		return db.Page{}, tenant.Invalid("first", "first must be between 1 and %d, got %d", max, n)
	}
	off := 0
	if a.Offset != nil {
		off = *a.Offset
		switch {
		case off < 0 || off > maxOffset:
			return db.Page{}, tenant.Invalid("offset", "offset must be between 0 and %d, got %d; page further with after", maxOffset, off)
		case off > 0 && after != "":
			return db.Page{}, tenant.Invalid("offset", "offset and after cannot be combined: page by one or the other")
		}
	}
	if err := cursor("after", after); err != nil {
		return db.Page{}, err
	}
	return db.Page{Size: n, Cursor: after, Offset: off}, nil
}

// pageRules are a connection's paging rules: its default and largest
// page, its deepest offset (0 for a connection without offset), and what
// a cursor of its looks like.
type pageRules struct {
	def, max, maxOffset int
	valid               func(string) error
}

// The connections' paging rules. Their largest page is httpapi's
// MaxPageSize: pageSizes refuses the others before anything runs.
var (
	invoicePages  = pageRules{def: 10, max: 100, maxOffset: MaxInvoiceOffset, valid: db.ValidInvoiceCursor}
	apiKeyPages   = pageRules{def: 20, max: 100, valid: db.ValidAPIKeyCursor}
	auditPages    = pageRules{def: 20, max: tenant.MaxAuditPage, valid: db.ValidAuditCursor}
	eventPages    = pageRules{def: 20, max: tenant.MaxEventPage, valid: db.ValidIDCursor}
	deliveryPages = pageRules{def: 20, max: tenant.MaxDeliveryPage, valid: db.ValidIDCursor}
	memberPages   = pageRules{def: 20, max: 100, valid: db.ValidMemberCursor}
	tenantPages   = pageRules{def: 20, max: 100, valid: db.ValidTenantCursor}
)

// window checks a connection field's paging arguments a, given as args
// (with the operation's vars: they tell a sent first from its default),
// and returns the page to read (pageWindow).
func (r pageRules) window(a connArgs, args ast.ArgumentList, vars map[string]any) (db.Page, error) {
	a.FirstGiven = argGiven(args, vars, "first")
	return pageWindow(a, r.def, r.max, r.maxOffset, r.valid)
}

// of is window for the field being resolved.
func (r pageRules) of(ctx context.Context, a connArgs) (db.Page, error) {
	return r.window(a, graphql.GetFieldContext(ctx).Field.Arguments, graphql.GetOperationContext(ctx).Variables)
}

// argGiven reports whether a field's argument name was sent, as a literal
// or as a variable with a value, rather than left to its schema default
// (which the executor fills in, so the resolver cannot tell them apart).
func argGiven(args ast.ArgumentList, vars map[string]any, name string) bool {
	a := args.ForName(name)
	switch {
	case a == nil || a.Value == nil:
		return false
	case a.Value.Kind == ast.Variable:
		v, ok := vars[a.Value.Raw]
		return ok && v != nil
	default:
		return a.Value.Kind != ast.NullValue
	}
}
