package db

import (
	"context"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"tenantapi/tenant"
)

// node(id:) finds an object by its id alone: the ids are the rows' own
// UUIDs, not re-encoded with their type, so an id does not say which table
// holds it. NodeRefs asks every table at once (one UNION ALL, each branch an
// index lookup by id, confined to the caller's scope), then Nodes reads the
// rows found, one statement per type, with the columns the type's usual
// field reads. docs/architecture.md (Global object identification) has the
// measured cost.

// NodeRef is where an id was found: the GraphQL type of its object and the
// tenant it belongs to.
type NodeRef struct {
	ID       string `db:"id"`
	Type     string `db:"type"`
	TenantID string `db:"tenant_id"`
}

// nodeTables are the tables whose rows are Nodes, by GraphQL type, with the
// column holding their tenant. Sessions are a branch of their own: only
// their member's (nodeRefsQuery).
var nodeTables = []struct{ typ, table, tenantCol string }{
	{"Tenant", "tenants", "id"},
	{"ApiKey", "api_keys", "tenant_id"},
	{"Invoice", "invoices", "tenant_id"},
	{"CreditGrant", "credit_grants", "tenant_id"},
	{"Event", "events", "tenant_id"},
	{"WebhookDelivery", "webhook_deliveries", "tenant_id"},
	{"Member", "members", "tenant_id"},
}

// NodeTypes are the GraphQL types NodeRefs finds ids of (the plans aside:
// their ids are no UUIDs, and the catalog is PlansByID's).
func NodeTypes() []string {
	out := make([]string, 0, len(nodeTables)+1)
	for _, t := range nodeTables {
		out = append(out, t.typ)
	}
	return append(out, "Session")
}

// nodeRefsQuery is the UNION ALL of NodeRefs, for a caller confined to its
// tenant (scoped) or reaching every tenant: $1 the ids, $2 the caller's
// own tenant, $3 its member (sessions are their member's only; NULL for a
// caller that is no member). Two shapes rather than one with
// `($all OR tenant_id = $own)`: each then has one plan that serves every
// call, which PostgreSQL keeps for the prepared statement, where the OR
// had it plan the eight branches again at each call (a millisecond, ten
// times the execution: docs/architecture.md).
func nodeRefsQuery(scoped, one bool) string {
	match := `x.id = ANY($1::uuid[])`
	if one {
		match = `x.id = $1::uuid`
	}
	var b strings.Builder
	for _, t := range nodeTables {
		b.WriteString(`SELECT '` + t.typ + `' AS type, x.id, x.` + t.tenantCol + ` AS tenant_id FROM ` + t.table + ` x WHERE ` + match)
		if scoped {
			b.WriteString(` AND x.` + t.tenantCol + ` = $2`)
		}
		b.WriteString("\n\t\tUNION ALL ")
	}
	b.WriteString(`SELECT 'Session', x.id, x.tenant_id FROM sessions x WHERE ` + match + ` AND x.tenant_id = $2 AND x.member_id = $3`)
	return b.String()
}

// nodeRefsQueries are nodeRefsQuery's shapes, by [scoped][one id]: one id
// (node) is compared with =, which lets PostgreSQL keep a generic plan;
// with ANY it plans each call for the array it is given.
var nodeRefsQueries = [2][2]string{
	{nodeRefsQuery(false, false), nodeRefsQuery(false, true)},
	{nodeRefsQuery(true, false), nodeRefsQuery(true, true)},
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// NodeRefs finds, in one statement, the objects of ids (UUIDs; others are
// skipped) that the caller's scope reaches: its own tenant's, or any
// tenant's with tenant:manage; a session only when it is the calling
// member's. An id found nowhere in scope is absent from the answer, whether
// it exists elsewhere or not. Ids are answered lower-case.
func (s *Store) NodeRefs(ctx context.Context, ids []string) ([]NodeRef, error) {
	valid := validIDs(ids)
	if len(valid) == 0 {
		return nil, nil
	}
	all, own := scope(ctx)
	var member any
	if a := tenant.ActorFrom(ctx); a.Kind == tenant.MemberActor {
		member = a.MemberID
	}
	var match any = pq.Array(valid)
	if len(valid) == 1 {
		match = valid[0]
	}
	var refs []NodeRef
	if err := sqlx.SelectContext(ctx, s.q(), &refs, nodeRefsQueries[b2i(!all)][b2i(len(valid) == 1)], match, own, member); err != nil {
		return nil, translate(err)
	}
	return refs, nil
}

// Nodes reads the objects refs name (from NodeRefs), one statement per
// type present, each as the field that usually reaches it reads it: an
// invoice as Tenant.invoices, a delivery with its attempts, a session as
// viewer.sessions (only while open). Each query keeps the caller's scope.
// The answer is by id, lower-case; an object gone since NodeRefs is absent.
func (s *Store) Nodes(ctx context.Context, refs []NodeRef) (map[string]tenant.Node, error) {
	byType := map[string][]string{}
	for _, r := range refs {
		byType[r.Type] = append(byType[r.Type], r.ID)
	}
	out := make(map[string]tenant.Node, len(refs))
	all, own := scope(ctx)
	for typ, ids := range byType {
		if err := s.nodesOf(ctx, typ, pq.Array(ids), all, own, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// nodesOf reads the objects of one type into out.
func (s *Store) nodesOf(ctx context.Context, typ string, ids any, all bool, own any, out map[string]tenant.Node) error {
	put := func(n tenant.Node) { out[strings.ToLower(n.NodeID())] = n }
	args := []any{ids, all, own}
	switch typ {
	case "Tenant":
		return selectEach(ctx, s, `SELECT `+tenantCols+` FROM tenants t WHERE t.id = ANY($1::uuid[]) AND ($2 OR t.id = $3)`, args,
			func(r *tenant.Tenant) { put(r) })
	case "ApiKey":
		return selectEach(ctx, s, `SELECT `+apiKeyCols+` FROM api_keys k WHERE k.id = ANY($1::uuid[]) AND ($2 OR k.tenant_id = $3)`, args,
			func(r apiKeyRow) { put(r.record()) })
	case "Invoice":
		return selectEach(ctx, s, `SELECT `+invoiceCols+` FROM invoices i WHERE i.id = ANY($1::uuid[]) AND ($2 OR i.tenant_id = $3)`, args,
			func(r *tenant.Invoice) { put(r) })
	case "CreditGrant":
		now := s.Now().UTC()
		return selectEach(ctx, s, `SELECT `+grantCols+` FROM credit_grants WHERE id = ANY($1::uuid[]) AND ($2 OR tenant_id = $3)`, args,
			func(r *tenant.CreditGrant) { r.Settle(now); put(r) })
	case "Event":
		return selectEach(ctx, s, `SELECT `+eventCols+` FROM events e WHERE e.id = ANY($1::uuid[]) AND ($2 OR e.tenant_id = $3)`, args,
			func(r *tenant.Event) { put(r) })
	case "WebhookDelivery":
		var rows []*tenant.WebhookDelivery
		if err := selectEach(ctx, s, `SELECT `+deliveryCols+`
			FROM webhook_deliveries d JOIN events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
			WHERE d.id = ANY($1::uuid[]) AND ($2 OR d.tenant_id = $3)`, args,
			func(r *tenant.WebhookDelivery) { rows = append(rows, r) }); err != nil {
			return err
		}
		for _, r := range rows {
			put(r)
		}
		return s.attachAttempts(ctx, rows)
	case "Member":
		return selectEach(ctx, s, `SELECT `+memberCols+` FROM members m WHERE m.id = ANY($1::uuid[]) AND ($2 OR m.tenant_id = $3)`, args,
			func(r *tenant.Member) { put(r) })
	case "Session":
		a := tenant.ActorFrom(ctx)
		if a.Kind != tenant.MemberActor {
			return nil
		}
		now := s.Now()
		var rows []*tenant.Session
		if err := selectEach(ctx, s, `SELECT `+sessionCols+` FROM sessions se
			WHERE se.id = ANY($1::uuid[]) AND se.tenant_id = $2 AND se.member_id = $3 AND se.revoked_at IS NULL AND se.expires_at > $4`,
			[]any{ids, a.TenantID, a.MemberID, now}, func(r *tenant.Session) { rows = append(rows, r) }); err != nil {
			return err
		}
		for _, r := range s.liveSessions(rows, now) {
			put(r)
		}
	}
	return nil
}

// selectEach runs query and hands each row, as an R, to each.
func selectEach[R any](ctx context.Context, s *Store, query string, args []any, each func(R)) error {
	var rows []R
	if err := sqlx.SelectContext(ctx, s.q(), &rows, query, args...); err != nil {
		return translate(err)
	}
	for _, r := range rows {
		each(r)
	}
	return nil
}
