package db

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"tenantapi/tenant"
)

// Every connection pages the same way, here: keyset paging on the list's
// order (its key), in either direction, with the page info right both
// ways. A list says what it reads (its columns, table, condition and
// key); this file writes the SQL that seeks
// past the cursor, reads in the right direction and finds whether items
// lie on the near side of the cursor; window trims and orders what was
// read.

// Page is the window of a connection to read (tenant.Page).
type Page = tenant.Page

// Forward is the Page of first items after cursor ("" from the start).
func Forward(first int, cursor string) Page { return Page{Size: first, Cursor: cursor} }

// keyset is the order of a paged list: columns of alias that are unique
// together (the last one is unique alone within the list), ascending, or
// descending when desc (newest first). A cursor holds an item's values of
// them; types are their SQL types, for the cursor's parameters. A list's
// select list includes the columns under their own names.
type keyset struct {
	alias string
	cols  []string
	types []string
	desc  bool
	// decode turns a cursor this API returned into the key's values.
	decode func(string) ([]any, error)
}

// cursor decodes p's cursor: nil for none; EINVALID naming after or before
// for one this API did not return.
func (k keyset) cursor(p Page) ([]any, error) {
	if p.Cursor == "" {
		return nil, nil
	}
	v, err := k.decode(p.Cursor)
	if err != nil || len(v) != len(k.cols) {
		f := p.CursorField()
		return nil, tenant.Invalid(f, "%s is not a cursor returned by this API", f)
	}
	return v, nil
}

// valid reports whether c could be a cursor of the list.
func (k keyset) valid(c string) error {
	_, err := k.decode(c)
	return err
}

// ValidInvoiceCursor reports whether c could be a cursor of invoices (the
// resolvers refuse the others before anything runs, as do the Valid*Cursor
// below for their lists).
func ValidInvoiceCursor(c string) error { return invoiceKeys.valid(c) }

// ValidAPIKeyCursor reports whether c could be a cursor of API keys.
func ValidAPIKeyCursor(c string) error { return apiKeyKeys.valid(c) }

// ValidAuditCursor reports whether c could be a cursor of an audit log.
func ValidAuditCursor(c string) error { return auditKeys.valid(c) }

// ValidIDCursor reports whether c could be a cursor of events or webhook
// deliveries (their id, a UUIDv7).
func ValidIDCursor(c string) error { return eventKeys.valid(c) }

// ValidMemberCursor reports whether c could be a cursor of members.
func ValidMemberCursor(c string) error { return memberKeys.valid(c) }

// ValidTenantCursor reports whether c could be a cursor of the tenants list.
func ValidTenantCursor(c string) error { return tenantKeys.valid(c) }

// ahead reports whether p is read in the key's own order (forwards on an
// ascending key, backwards on a descending one).
func (k keyset) ahead(p Page) bool { return k.desc == p.Backward }

// order is the ORDER BY list that reads p, on the columns of alias.
func (k keyset) order(p Page, alias string) string {
	dir := " DESC"
	if k.ahead(p) {
		dir = " ASC"
	}
	parts := make([]string, len(k.cols))
	for i, c := range k.cols {
		parts[i] = alias + "." + c + dir
	}
	return strings.Join(parts, ", ")
}

// compare is the condition `(key) op (cursor)`, its values appended to
// args as parameters; "true" without a cursor.
func (k keyset) compare(op string, cur []any, args *[]any) string {
	if cur == nil {
		return "true"
	}
	cols := make([]string, len(k.cols))
	params := make([]string, len(k.cols))
	for i, c := range k.cols {
		*args = append(*args, cur[i])
		cols[i] = k.alias + "." + c
		params[i] = fmt.Sprintf("$%d::%s", len(*args), k.types[i])
	}
	return "(" + strings.Join(cols, ", ") + ") " + op + " (" + strings.Join(params, ", ") + ")"
}

// seek is the condition that keeps the items past p's cursor in its
// reading direction.
func (k keyset) seek(p Page, cur []any, args *[]any) string {
	if k.ahead(p) {
		return k.compare(">", cur, args)
	}
	return k.compare("<", cur, args)
}

// near is the condition that keeps the items on the near side of p's
// cursor, the cursor's own item included: those before a page read
// forwards, after a page read backwards.
func (k keyset) near(p Page, cur []any, args *[]any) string {
	if k.ahead(p) {
		return k.compare("<=", cur, args)
	}
	return k.compare(">=", cur, args)
}

// limit is `LIMIT $n OFFSET $m` for p: one item more than the page, to
// tell whether more follow.
func limit(p Page, args *[]any) string {
	*args = append(*args, p.Size+1, p.Offset)
	return fmt.Sprintf(" LIMIT $%d OFFSET $%d", len(*args)-1, len(*args))
}

// hasNear reports whether p can have items on its near side at all: only a
// page that starts at a cursor or skips some by offset.
func hasNear(p Page) bool { return p.Cursor != "" || p.Offset > 0 }

// window turns the items read for p (at most Size+1, in reading order)
// into the page, in list order, with its ends; near says whether items lie
// on the near side of its cursor.
func window[T any](items []T, p Page, near bool) ([]T, tenant.PageEnds) {
	more := len(items) > p.Size
	if more {
		items = items[:p.Size]
	}
	if p.Backward {
		reverse(items)
		return items, tenant.PageEnds{HasPreviousPage: more, HasNextPage: near}
	}
	return items, tenant.PageEnds{HasPreviousPage: near, HasNextPage: more}
}

// reverse reverses s in place (a backward page is read in reverse order).
func reverse[T any](s []T) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

// list is a paged list: the rows of from (which names key.alias) where
// cond holds (over args: $1, $2...), ordered by key.
type list struct {
	cols string // the select list, over from's aliases
	from string
	cond string
	args []any
	key  keyset
	// noCache keeps the rows out of the association cache: they show
	// what the tenant versions ignore (an API key's lastUsedAt).
	noCache bool
}

// selectRows reads rows of l through the association cache unless
// l.noCache (selectOrdered, selectOrderedUncached).
func (l list) selectRows(ctx context.Context, s *Store, dest any, order, query string, args ...any) error {
	if l.noCache {
		return s.selectOrderedUncached(ctx, dest, order, query, args...)
	}
	return s.selectOrdered(ctx, dest, order, query, args...)
}

// read is the SELECT of p's rows past cur (Size+1 of them, in reading
// order), its parameters appended to args (which starts with l.args).
func (l list) read(p Page, cur []any, args *[]any) string {
	return `SELECT ` + l.cols + ` FROM ` + l.from + ` WHERE ` + l.cond + ` AND ` + l.key.seek(p, cur, args) +
		` ORDER BY ` + l.key.order(p, l.key.alias) + limit(p, args)
}

// exists is the condition that rows lie on the near side of p's cursor,
// its parameters appended to args (which starts with l.args).
func (l list) exists(p Page, cur []any, args *[]any) string {
	return `EXISTS (SELECT 1 FROM ` + l.from + ` WHERE ` + l.cond + ` AND ` + l.key.near(p, cur, args) + `)`
}

// pagesByTenant reads page p of each tenant's list l (whose cond refers to
// the tenant as tn.id), in one statement whatever the number of tenants (a
// LATERAL subquery per tenant that stops after Size+1 rows on the key's
// index), plus one for the page info's other end when the page starts at a
// cursor or an offset. It returns each tenant's rows in list order and its
// ends, in key order; a tenant without rows gets an empty page. tenantOf
// gives a row's tenant id. Codes: EINVALID (a cursor this API did not
// return, on after or before), ENOTFOUND (a tenant the caller may not see,
// named what).
func pagesByTenant[R any](ctx context.Context, s *Store, ids []string, p Page, l list, what string, tenantOf func(*R) string) ([][]*R, []tenant.PageEnds, []error) {
	rowsOut := make([][]*R, len(ids))
	ends := make([]tenant.PageEnds, len(ids))
	errs := make([]error, len(ids))
	fail := func(err error) ([][]*R, []tenant.PageEnds, []error) {
		for i := range errs {
			errs[i] = translate(err)
		}
		return rowsOut, ends, errs
	}
	cur, err := l.key.cursor(p)
	if err != nil {
		return fail(err)
	}
	all, own := scope(ctx)
	// The list's own parameters come first ($1...), the tenants and the
	// caller's scope after them.
	n := len(l.args)
	from := fmt.Sprintf(`unnest($%d::uuid[]) AS tn(id)`, n+1)
	scoped := fmt.Sprintf(`($%d OR tn.id = $%d)`, n+2, n+3)
	base := append(append([]any{}, l.args...), pq.Array(validIDs(ids)), all, own)
	args := append([]any{}, base...)
	var rows []R
	if err := l.selectRows(ctx, s, &rows, `x.tenant_id, `+l.key.order(p, "x"), `SELECT x.* FROM `+from+`
		CROSS JOIN LATERAL (`+l.read(p, cur, &args)+`) AS x WHERE `+scoped, args...); err != nil {
		return fail(err)
	}
	near := map[string]bool{}
	if hasNear(p) {
		args = append([]any{}, base...)
		var hit []string
		if err := s.selectBatch(ctx, &hit, `SELECT tn.id FROM `+from+` WHERE `+scoped+` AND `+l.exists(p, cur, &args), args...); err != nil {
			return fail(err)
		}
		for _, id := range hit {
			near[strings.ToLower(id)] = true
		}
	}
	read := map[string][]*R{}
	for i := range rows {
		t := strings.ToLower(tenantOf(&rows[i]))
		read[t] = append(read[t], &rows[i])
	}
	ownID, _ := own.(string)
	for i, id := range ids {
		if !tenant.ValidID(id) || !(all || strings.EqualFold(id, ownID)) {
			errs[i] = tenant.NotFound(what)
			continue
		}
		key := strings.ToLower(id)
		rowsOut[i], ends[i] = window(read[key], p, near[key])
		if rowsOut[i] == nil {
			rowsOut[i] = []*R{}
		}
	}
	return rowsOut, ends, errs
}

// pageOf reads page p of a list that is not a tenant's (the tenants
// themselves), in one statement, plus one for the page info's other end
// when the page starts at a cursor or an offset. Codes: EINVALID (a cursor
// this API did not return).
func pageOf[R any](ctx context.Context, s *Store, p Page, l list) ([]*R, tenant.PageEnds, error) {
	cur, err := l.key.cursor(p)
	if err != nil {
		return nil, tenant.PageEnds{}, err
	}
	args := append([]any{}, l.args...)
	var rows []R
	if err := l.selectRows(ctx, s, &rows, l.key.order(p, "x"), `SELECT x.* FROM (`+l.read(p, cur, &args)+`) AS x`, args...); err != nil {
		return nil, tenant.PageEnds{}, translate(err)
	}
	near := false
	if hasNear(p) {
		args = append([]any{}, l.args...)
		if err := sqlx.GetContext(ctx, s.q(), &near, `SELECT `+l.exists(p, cur, &args), args...); err != nil {
			return nil, tenant.PageEnds{}, translate(err)
		}
	}
	out := make([]*R, len(rows))
	for i := range rows {
		out[i] = &rows[i]
	}
	out, ends := window(out, p, near)
	return out, ends, nil
}
