package db

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"tenantapi/tenant"
)

const (
	invoiceRowCols = `i.id, i.tenant_id, i.number, i.status, i.date, i.due_date, i.period_start, i.period_end,
	i.plan_id, i.billing_period, i.amount_cents, i.currency, i.description, i.created_at, i.created_by, i.paid_at, i.voided_at,
	i.kind`
	invoiceCols = invoiceRowCols + `, i.snapshot, false AS snapshot_omitted`
	// invoiceColsLite leaves the snapshot out (tenant.Invoice.SnapshotOmitted):
	// 60% of a row's bytes, a JSON document to decode on every read, and
	// 13% of what the association cache keeps for a dashboard home
	// (docs/benchmarks.md).
	invoiceColsLite = invoiceRowCols + `, 'null'::jsonb AS snapshot, true AS snapshot_omitted`
)

// InvoiceCursor encodes an invoice's position in a tenant's list (newest
// first: by date, then id).
func InvoiceCursor(inv *tenant.Invoice) string {
	return base64.RawURLEncoding.EncodeToString([]byte(inv.Date.String() + ":" + inv.ID))
}

// DecodeInvoiceCursor is the inverse of InvoiceCursor.
func DecodeInvoiceCursor(c string) (tenant.Date, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return tenant.Date{}, "", err
	}
	ds, id, ok := strings.Cut(string(b), ":")
	d, err := tenant.ParseDate("after", ds)
	if !ok || err != nil || !tenant.ValidID(id) {
		return tenant.Date{}, "", errors.New("bad cursor")
	}
	return d, id, nil
}

// invoiceKeys is the order of a tenant's invoices: newest first, by date
// then id.
var invoiceKeys = keyset{alias: "i", cols: []string{"date", "id"}, types: []string{"date", "uuid"}, desc: true,
	decode: func(c string) ([]any, error) {
		d, id, err := DecodeInvoiceCursor(c)
		return []any{d, id}, err
	}}

// InvoicePagesByTenant loads page of each tenant's invoices, newest first
// (by date, then id), in key order (pagesByTenant); with their snapshots
// when withSnapshot (what an invoice prints: lines, totals, parties,
// terms), else without (tenant.Invoice.SnapshotOmitted). It is a loader
// batch.
// Codes: EINVALID (malformed cursor), ENOTFOUND (a tenant the caller may
// not see).
func (s *Store) InvoicePagesByTenant(ctx context.Context, ids []string, page Page, withSnapshot bool) ([]*tenant.InvoicePage, []error) {
	cols := invoiceColsLite
	if withSnapshot {
		cols = invoiceCols
	}
	rows, ends, errs := pagesByTenant(ctx, s, ids, page, list{cols: cols, from: `invoices i`, cond: `i.tenant_id = tn.id`, key: invoiceKeys},
		"invoices", func(inv *tenant.Invoice) string { return inv.TenantID })
	out := make([]*tenant.InvoicePage, len(ids))
	for i, id := range ids {
		if errs[i] == nil {
			out[i] = &tenant.InvoicePage{TenantID: id, Invoices: rows[i], PageEnds: ends[i]}
		}
	}
	return out, errs
}

// InvoiceCountsByTenant counts each tenant's invoices, in key order, in one
// statement. It is a loader batch. Codes: ENOTFOUND (a tenant the caller
// may not see).
func (s *Store) InvoiceCountsByTenant(ctx context.Context, ids []string) ([]int, []error) {
	all, own := scope(ctx)
	type countRow struct {
		TenantID string `db:"tenant_id"`
		N        int    `db:"n"`
	}
	var rows []countRow
	err := s.selectBatch(ctx, &rows, `SELECT k.id AS tenant_id,
		(SELECT count(*) FROM invoices i WHERE i.tenant_id = k.id) AS n
		FROM unnest($1::uuid[]) AS k(id) WHERE ($2 OR k.id = $3)`, pq.Array(validIDs(ids)), all, own)
	return inKeyOrder(ids, rows, err, "invoices", func(r *countRow) (string, int) { return r.TenantID, r.N })
}

// Invoice returns the invoice with id if the caller may see its tenant.
// Codes: ENOTFOUND (missing, malformed or another tenant's invoice).
func (s *Store) Invoice(ctx context.Context, id string) (*tenant.Invoice, error) {
	if !tenant.ValidID(id) {
		return nil, tenant.NotFound("invoice")
	}
	all, own := scope(ctx)
	var inv tenant.Invoice
	err := sqlx.GetContext(ctx, s.q(), &inv, `SELECT `+invoiceCols+` FROM invoices i
		WHERE i.id = $1 AND ($2 OR i.tenant_id = $3)`, id, all, own)
	if err != nil {
		return nil, notFoundAs(err, "invoice")
	}
	return &inv, nil
}

// MarkInvoicePaid records an OPEN invoice as paid now; a PAID one is
// returned unchanged. Codes: ENOTFOUND, ECONFLICT (DRAFT or VOID).
func (s *Store) MarkInvoicePaid(ctx context.Context, id string) (*tenant.Invoice, error) {
	return s.moveInvoice(ctx, id, tenant.InvoicePaid, []tenant.InvoiceStatus{tenant.InvoiceOpen},
		`status = 'PAID', paid_at = $2`, "only an OPEN invoice can be marked paid")
}

// VoidInvoice cancels a DRAFT or OPEN invoice; a VOID one is returned
// unchanged. Codes: ENOTFOUND, ECONFLICT (PAID).
func (s *Store) VoidInvoice(ctx context.Context, id string) (*tenant.Invoice, error) {
	return s.moveInvoice(ctx, id, tenant.InvoiceVoid, []tenant.InvoiceStatus{tenant.InvoiceDraft, tenant.InvoiceOpen},
		`status = 'VOID', voided_at = $2`, "a paid invoice cannot be voided: its payment stands, and this API records no refunds or credit notes")
}

// moveInvoice changes an invoice's status to to when it is in one of from;
// set is the SET clause ($2 is now). why explains a refusal.
func (s *Store) moveInvoice(ctx context.Context, id string, to tenant.InvoiceStatus, from []tenant.InvoiceStatus, set, why string) (*tenant.Invoice, error) {
	if !tenant.ValidID(id) {
		return nil, tenant.NotFound("invoice")
	}
	all, own := scope(ctx)
	var inv tenant.Invoice
	err := s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		if err := sqlx.GetContext(ctx, tx, &inv, `SELECT `+invoiceCols+` FROM invoices i
			WHERE i.id = $1 AND ($2 OR i.tenant_id = $3) FOR UPDATE`, id, all, own); err != nil {
			return notFoundAs(err, "invoice")
		}
		if inv.Status == to {
			return nil
		}
		allowed := false
		for _, f := range from {
			allowed = allowed || inv.Status == f
		}
		if !allowed {
			return tenant.Errorf(tenant.ECONFLICT, "invoice %s is %s: %s", inv.Number, inv.Status, why)
		}
		return sqlx.GetContext(ctx, tx, &inv, `UPDATE invoices AS i SET `+set+` WHERE i.tenant_id = $3 AND i.id = $1 RETURNING `+invoiceCols,
			id, now, inv.TenantID)
	})
	if err != nil {
		return nil, err
	}
	return &inv, nil
}

// insertInvoice gives inv the next number of its tenant and year and
// inserts it, unless the tenant already has an invoice for that month: then
// it returns false. The caller holds the tenant's lock, which makes the
// sequence safe.
func insertInvoice(ctx context.Context, tx sqlx.ExtContext, inv *tenant.Invoice) (bool, error) {
	year := inv.Date.Year()
	var seq int
	if err := sqlx.GetContext(ctx, tx, &seq, `SELECT COALESCE(max(seq), 0) + 1 FROM invoices WHERE tenant_id = $1 AND year = $2`,
		inv.TenantID, year); err != nil {
		return false, err
	}
	inv.Number = tenant.InvoiceNumber(year, seq)
	err := sqlx.GetContext(ctx, tx, &inv.ID, `INSERT INTO invoices
		(tenant_id, number, year, seq, period, status, date, due_date, period_start, period_end, plan_id, billing_period,
		 amount_cents, currency, description, created_at, created_by, paid_at, kind, snapshot)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
		ON CONFLICT (tenant_id, period) WHERE kind = 'SUBSCRIPTION' DO NOTHING RETURNING id`,
		inv.TenantID, inv.Number, year, seq, inv.Period(), inv.Status, inv.Date, inv.DueDate, inv.PeriodStart, inv.PeriodEnd,
		inv.PlanID, inv.BillingPeriod, inv.AmountCents, inv.Currency, inv.Description, inv.CreatedAt, inv.CreatedBy, inv.PaidAt,
		inv.Kind, inv.Snapshot)
	if errors.Is(err, sql.ErrNoRows) {
		inv.Number = ""
		return false, nil
	}
	return err == nil, err
}

// RunBilling invoices a month (`YYYY-MM`, not later than the current
// month) as the caller, on every tenant: it first applies the plan changes
// that are due, then gives each ACTIVE tenant whose subscription is ACTIVE
// or PAST_DUE an OPEN invoice for every billing period starting on or
// before the month's last day that is not invoiced yet (a period starting
// later this month is invoiced in advance; periods missed by earlier runs
// are caught up), on the plan in effect on each period's first day, and
// moves its next billing date on. Running it again for a month creates
// nothing: the next billing dates have moved past it, and a tenant has at
// most one invoice per month (UNIQUE (tenant_id, period)).
// Codes: EINVALID (malformed or future period).
func (s *Store) RunBilling(ctx context.Context, period string) (*tenant.BillingRun, error) {
	start, err := tenant.ParsePeriod("period", period)
	if err != nil {
		return nil, err
	}
	if current := tenant.DateOf(s.Now()).MonthStart(); start.After(current) {
		return nil, tenant.Invalid("period", "period must not be later than the current month (%s), got %s", current.Time().Format("2006-01"), period)
	}
	end := tenant.NewDate(start.Year(), start.Month()+1, 0) // the month's last day
	applied, err := s.ApplyDuePlanChanges(ctx)
	if err != nil {
		return nil, err
	}
	by := tenant.ActorFrom(ctx).ActorID()
	var run tenant.BillingRun
	err = s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		run = tenant.BillingRun{Period: period, PlanChangesApplied: applied}
		var ids []string
		if err := sqlx.SelectContext(ctx, tx, &ids, `SELECT t.id FROM tenants t LEFT JOIN billing_accounts b ON b.tenant_id = t.id
			WHERE t.status = 'ACTIVE' AND COALESCE(b.status, `+defaultStatus+`) IN ('ACTIVE', 'PAST_DUE')
			ORDER BY t.id FOR NO KEY UPDATE OF t`); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		if err := ensureBilling(ctx, tx, ids); err != nil {
			return err
		}
		var rows []billingRow
		if err := sqlx.SelectContext(ctx, tx, &rows, `SELECT `+billingCols+billingFrom+` WHERE t.id = ANY($1::uuid[]) ORDER BY t.id`, pq.Array(ids)); err != nil {
			return err
		}
		for i := range rows {
			b := rows[i].billing()
			made := 0
			next := b.NextBillingDate
			for !next.After(end) {
				ok, err := insertInvoice(ctx, tx, tenant.NewInvoice(b, s.Seller, next, now, by))
				if err != nil {
					return err
				}
				if ok {
					made++
				}
				next = b.PeriodAfter(next)
			}
			if next != b.NextBillingDate {
				if _, err := tx.ExecContext(ctx, `UPDATE billing_accounts SET next_billing_date = $2 WHERE tenant_id = $1`, b.TenantID, next); err != nil {
					return err
				}
			}
			if made == 0 {
				run.Skipped++
			}
			run.Created += made
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &run, nil
}

// sellerKey carries Store.Seller to seedDemoBilling.
type sellerKey struct{}

// seedDemoBilling gives the demo tenant its subscription (professional,
// monthly, ACTIVE, a Visa ending 4242, periods starting on the 15th, the
// next one the first 15th after today) and its three previous monthly
// invoices, PAID. It does nothing once the tenant has invoices.
func seedDemoBilling(ctx context.Context, tx sqlx.ExtContext, tenantID string, now time.Time) error {
	var n int
	if err := sqlx.GetContext(ctx, tx, &n, `SELECT count(*) FROM invoices WHERE tenant_id = $1`, tenantID); err != nil || n > 0 {
		return err
	}
	today := tenant.DateOf(now)
	next := tenant.NewDate(today.Year(), today.Month(), 15)
	if !next.After(today) {
		next = tenant.AddMonthsOnDay(next, 1, 15)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO billing_accounts (tenant_id, status, billing_period, next_billing_date, anchor_day,
		payment_type, payment_brand, payment_last4, billing_email, version, updated_at, updated_by)
		VALUES ($1, 'ACTIVE', 'MONTHLY', $2, 15, 'CREDIT_CARD', 'VISA', '4242', 'billing@acme.fr', 1, $3, 'seed')
		ON CONFLICT (tenant_id) DO NOTHING`, tenantID, next, now); err != nil {
		return err
	}
	b, err := readBilling(ctx, tx, tenantID)
	if err != nil {
		return err
	}
	for k := 3; k >= 1; k-- {
		seller, _ := ctx.Value(sellerKey{}).(tenant.Seller)
		inv := tenant.NewInvoice(b, seller, tenant.AddMonthsOnDay(next, -k, 15), now, "seed")
		paid := inv.Date.Time().Add(2*24*time.Hour + 9*time.Hour)
		if paid.After(now) {
			paid = now
		}
		inv.Status, inv.PaidAt = tenant.InvoicePaid, &paid
		if _, err := insertInvoice(ctx, tx, inv); err != nil {
			return err
		}
	}
	return nil
}
