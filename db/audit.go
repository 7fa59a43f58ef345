package db

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"tenantapi/tenant"
)

// The audit log is written by triggers (migrations/00007_audit.sql): every
// INSERT, UPDATE and DELETE of a configuration table writes an entry in the
// same transaction, with the changed columns before and after, secrets
// redacted. The triggers learn who and why from transaction-local settings
// that inTx sets first thing, in one statement (txContext).

type rowAuditOffKey struct{}

// withRowAuditOff returns ctx for a transaction whose row triggers stay
// silent: a store method that writes many rows of one logical change
// (recordUsage's batch) runs in it and writes one summary with auditEvent.
func withRowAuditOff(ctx context.Context) context.Context {
	return context.WithValue(ctx, rowAuditOffKey{}, true)
}

// txContext is the statement that opens every transaction of inTx: the
// actor, action (GraphQL mutation), request id, client address and clock the
// audit triggers record, whether they record rows at all, and, when the
// request carries an Idempotency-Key, the mark that its work is applied
// (committed or rolled back with everything else). Values are quoted
// literals rather than parameters: with no parameters lib/pq sends the
// statement in one round trip instead of two (prepare, execute).
func txContext(ctx context.Context, now time.Time) string {
	a := tenant.ActorFrom(ctx)
	actor := ""
	if a.Kind != tenant.Anonymous {
		actor = a.ActorID()
	}
	ip := ""
	if addr := tenant.ClientIP(ctx); addr.IsValid() {
		ip = addr.Unmap().String()
	}
	rows := "on"
	if off, _ := ctx.Value(rowAuditOffKey{}).(bool); off {
		rows = "off"
	}
	var b strings.Builder
	if c := idempotencyClaimFrom(ctx); c != nil {
		fmt.Fprintf(&b, `WITH applied AS (INSERT INTO idempotency_applied (claim) VALUES (%s) ON CONFLICT DO NOTHING) `,
			pq.QuoteLiteral(c.Claim))
	}
	fmt.Fprintf(&b, `SELECT set_config('app.actor', %s, true), set_config('app.action', %s, true), `+
		`set_config('app.request_id', %s, true), set_config('app.client_ip', %s, true), `+
		`set_config('app.now', %s, true), set_config('app.audit_rows', '%s', true)`,
		pq.QuoteLiteral(actor), pq.QuoteLiteral(tenant.Action(ctx)), pq.QuoteLiteral(tenant.RequestID(ctx)),
		pq.QuoteLiteral(ip), pq.QuoteLiteral(now.Format(time.RFC3339Nano)), rows)
	return b.String()
}

// AuditValue is one field of an explicit audit entry.
type AuditValue struct {
	Before any `json:"before"`
	After  any `json:"after"`
}

// auditEvent writes one explicit entry (operation EVENT) in tx, with the
// transaction's actor, action, request id, client address and time: for a
// change that row entries would describe badly, such as a usage batch
// (thousands of roll-up rows). Run such a transaction with
// withRowAuditOff(ctx) so this summary is its only entry. targetType is the
// table the change is mostly about; changes maps a field (column name) to
// its values.
func auditEvent(ctx context.Context, tx sqlx.ExtContext, tenantID, targetType, targetID string, changes map[string]AuditValue) error {
	body, err := json.Marshal(changes)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log (tenant_id, at, actor, action, operation, target_type, target_id, changes, request_id, client_ip)
		VALUES ($1, COALESCE(NULLIF(current_setting('app.now', true), '')::timestamptz, now()),
			COALESCE(NULLIF(current_setting('app.actor', true), ''), 'system'),
			COALESCE(NULLIF(current_setting('app.action', true), ''), $2 || '.event'),
			'EVENT', $2, $3, $4::jsonb,
			NULLIF(current_setting('app.request_id', true), ''),
			NULLIF(current_setting('app.client_ip', true), '')::inet)`,
		tenantID, targetType, targetID, string(body))
	return err
}

const auditCols = `a.tenant_id, a.id, a.at, a.actor, a.action, a.operation, a.target_type, a.target_id,
	a.changes, a.request_id, host(a.client_ip) AS client_ip`

// auditWhere is the filter of an audit query as SQL over alias a, with its
// arguments appended to args.
func auditWhere(f tenant.AuditFilter, args []any) (string, []any) {
	var w []string
	if len(f.Actions) > 0 {
		args = append(args, pq.Array(f.Actions))
		w = append(w, fmt.Sprintf(`a.action = ANY($%d)`, len(args)))
	}
	if f.Actor != nil {
		args = append(args, *f.Actor)
		w = append(w, fmt.Sprintf(`a.actor = $%d`, len(args)))
	}
	if f.Since != nil {
		args = append(args, *f.Since)
		w = append(w, fmt.Sprintf(`a.at >= $%d`, len(args)))
	}
	if f.Until != nil {
		args = append(args, *f.Until)
		w = append(w, fmt.Sprintf(`a.at < $%d`, len(args)))
	}
	if len(w) == 0 {
		return "true", args
	}
	return strings.Join(w, " AND "), args
}

// AuditLogByTenant loads one page of each tenant's audit log, newest first
// (by time, then id), for the same query, in key order (pagesByTenant, on
// the (tenant_id, at, id) index). A tenant the caller may not see gets an
// empty page. It is a loader batch. Codes: EINVALID (bad page size, filter
// or cursor), EUNAVAILABLE.
func (s *Store) AuditLogByTenant(ctx context.Context, q tenant.AuditQuery, ids []string) ([]*tenant.AuditPage, []error) {
	out := make([]*tenant.AuditPage, len(ids))
	if err := q.Validate(); err != nil {
		errs := make([]error, len(ids))
		for i := range errs {
			errs[i] = err
		}
		return out, errs
	}
	cond, args := auditWhere(q.Filter, nil)
	rows, ends, errs := pagesByTenant(ctx, s, ids, q.Page, list{cols: auditCols, from: `audit_log a`,
		cond: `a.tenant_id = tn.id AND ` + cond, args: args, key: auditKeys},
		"audit log", func(e *tenant.AuditEntry) string { return e.TenantID })
	for i, id := range ids {
		switch {
		case errs[i] == nil:
			out[i] = &tenant.AuditPage{TenantID: id, Entries: rows[i], PageEnds: ends[i], Query: q}
		case tenant.ErrorCode(errs[i]) == tenant.ENOTFOUND:
			errs[i], out[i] = nil, &tenant.AuditPage{TenantID: id, Entries: []*tenant.AuditEntry{}, Query: q}
		}
	}
	return out, errs
}

// CountAuditByTenant counts each tenant's entries matching f, in key order,
// in one statement. It is a loader batch (totalCount). Codes: EUNAVAILABLE.
func (s *Store) CountAuditByTenant(ctx context.Context, f tenant.AuditFilter, ids []string) ([]int, []error) {
	all, own := scope(ctx)
	cond, args := auditWhere(f, []any{pq.Array(validIDs(ids)), all, own})
	var rows []struct {
		TenantID string `db:"tenant_id"`
		N        int    `db:"n"`
	}
	err := s.selectBatch(ctx, &rows, `SELECT a.tenant_id, count(*) AS n FROM audit_log a
		WHERE a.tenant_id = ANY($1::uuid[]) AND ($2 OR a.tenant_id = $3) AND `+cond+` GROUP BY a.tenant_id`, args...)
	out := make([]int, len(ids))
	errs := make([]error, len(ids))
	if err != nil {
		err = translate(err)
		for i := range errs {
			errs[i] = err
		}
		return out, errs
	}
	n := make(map[string]int, len(rows))
	for _, r := range rows {
		n[r.TenantID] = r.N
	}
	for i, id := range ids {
		out[i] = n[strings.ToLower(id)]
	}
	return out, errs
}

// AuditCursor encodes an entry's position in its log.
func AuditCursor(e *tenant.AuditEntry) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(e.At.UnixMicro(), 10) + ":" + e.ID))
}

// auditKeys is the order of an audit log: newest first, by time then id.
var auditKeys = keyset{alias: "a", cols: []string{"at", "id"}, types: []string{"timestamptz", "bigint"}, desc: true,
	decode: func(c string) ([]any, error) {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil {
			return nil, err
		}
		ts, id, ok := strings.Cut(string(b), ":")
		us, err1 := strconv.ParseInt(ts, 10, 64)
		n, err2 := strconv.ParseInt(id, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, errors.New("bad cursor")
		}
		return []any{time.UnixMicro(us).UTC(), n}, nil
	}}

// PurgeAudit deletes the entries older than their tenant's audit log
// retention (tenant_settings.audit_log_retention_days) and returns how many.
// The immutability trigger checks the same rule row by row, with the same
// clock (the database's), so this is the only deletion it lets through.
// A periodic job calls it (server.go). Codes: EUNAVAILABLE.
func (s *Store) PurgeAudit(ctx context.Context) (int, error) {
	res, err := s.q().ExecContext(ctx, `DELETE FROM audit_log a USING tenant_settings st
		WHERE st.tenant_id = a.tenant_id AND a.at < now() - make_interval(days => st.audit_log_retention_days)`)
	if err != nil {
		return 0, translate(err)
	}
	n, err := res.RowsAffected()
	return int(n), translate(err)
}
