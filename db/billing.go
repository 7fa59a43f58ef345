package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"tenantapi/tenant"
)

// A tenant's subscription lives in billing_accounts. A tenant without a row
// (one that never changed its billing) reads as the defaults below, and the
// row is written with exactly those values (ensureBilling) before the first
// change or billing run touches it, so reading before and after shows the
// same thing. Every write locks the tenant row first (lockTenant, or FOR NO
// KEY UPDATE in the batch jobs), which serializes the billing of a tenant.

// The defaults of a tenant without a billing row, as SQL over tenants t.
const (
	defaultStatus    = `'ACTIVE'`
	defaultPeriod    = `'MONTHLY'`
	defaultNextDate  = `(t.created_at AT TIME ZONE 'UTC')::date`
	defaultAnchorDay = `extract(day FROM t.created_at AT TIME ZONE 'UTC')::int`
)

// billingFrom joins a tenant to its plan, its billing row and the plan of
// its scheduled change.
const billingFrom = ` FROM tenants t JOIN plans p ON p.id = t.plan_id
	LEFT JOIN billing_accounts b ON b.tenant_id = t.id
	LEFT JOIN plans sp ON sp.id = b.scheduled_plan_id`

var billingCols = `t.id AS tenant_id,
	COALESCE(b.status, ` + defaultStatus + `) AS status,
	COALESCE(b.billing_period, ` + defaultPeriod + `) AS billing_period,
	COALESCE(b.next_billing_date, ` + defaultNextDate + `) AS next_billing_date,
	COALESCE(b.anchor_day, ` + defaultAnchorDay + `) AS anchor_day,
	b.payment_type, b.payment_brand, b.payment_last4,
	COALESCE(b.billing_email, t.owner_email) AS billing_email,
	b.scheduled_effective_date, b.scheduled_requested_at, b.scheduled_requested_by,
	COALESCE(b.version, 0) AS version, COALESCE(b.updated_at, t.created_at) AS updated_at,
	COALESCE(b.updated_by, t.created_by) AS updated_by,
	t.name AS tenant_name, t.domain AS tenant_domain, b.billing_name,
	COALESCE(b.billing_address, '{}') AS billing_address, b.tax_country, b.tax_id,
	COALESCE(b.tax_rate_bp, 0) AS tax_rate_bp, COALESCE(b.payment_terms, 'MONTH') AS payment_terms, ` +
	planColsAs("p", "plan", false) + ", " + planColsAs("sp", "sched", true)

// planColsAs selects the plan columns of alias as the nested struct prefix
// (sqlx's `prefix.column`); nullable coalesces the non-null columns for a
// LEFT JOINed plan that may be missing (its id then reads "").
func planColsAs(alias, prefix string, nullable bool) string {
	cols := []struct{ name, zero string }{
		{"id", "''"}, {"name", "''"}, {"description", "''"}, {"users", ""}, {"policies", ""},
		{"interactions_per_month", ""}, {"api_requests_per_minute", "0"}, {"monthly_price_cents", "0"},
		{"currency", "''"}, {"rank", "0"},
	}
	out := make([]string, len(cols))
	for i, c := range cols {
		expr := alias + "." + c.name
		if nullable && c.zero != "" {
			expr = "COALESCE(" + expr + ", " + c.zero + ")"
		}
		out[i] = fmt.Sprintf(`%s AS "%s.%s"`, expr, prefix, c.name)
	}
	return strings.Join(out, ", ")
}

type billingRow struct {
	TenantID        string               `db:"tenant_id"`
	Status          tenant.BillingStatus `db:"status"`
	BillingPeriod   tenant.BillingPeriod `db:"billing_period"`
	NextBillingDate tenant.Date          `db:"next_billing_date"`
	AnchorDay       int                  `db:"anchor_day"`
	PaymentType     *string              `db:"payment_type"`
	PaymentBrand    *string              `db:"payment_brand"`
	PaymentLast4    *string              `db:"payment_last4"`
	BillingEmail    *string              `db:"billing_email"`
	SchedDate       *tenant.Date         `db:"scheduled_effective_date"`
	SchedAt         *time.Time           `db:"scheduled_requested_at"`
	SchedBy         *string              `db:"scheduled_requested_by"`
	Version         int                  `db:"version"`
	UpdatedAt       time.Time            `db:"updated_at"`
	UpdatedBy       string               `db:"updated_by"`
	TenantName      string               `db:"tenant_name"`
	TenantDomain    string               `db:"tenant_domain"`
	BillingName     *string              `db:"billing_name"`
	BillingAddress  pq.StringArray       `db:"billing_address"`
	TaxCountry      *string              `db:"tax_country"`
	TaxID           *string              `db:"tax_id"`
	TaxRateBP       int                  `db:"tax_rate_bp"`
	PaymentTerms    tenant.PaymentTerms  `db:"payment_terms"`
	Plan            tenant.Plan          `db:"plan"`
	Sched           tenant.Plan          `db:"sched"`
}

func (r *billingRow) billing() *tenant.Billing {
	plan := r.Plan
	b := &tenant.Billing{
		TenantID: r.TenantID, Plan: &plan, Status: r.Status, BillingPeriod: r.BillingPeriod,
		NextBillingDate: r.NextBillingDate, AnchorDay: r.AnchorDay, BillingEmail: r.BillingEmail,
		Version: r.Version, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy,
		TenantName: r.TenantName, TenantDomain: r.TenantDomain, BillingName: r.BillingName,
		BillingAddress: append([]string{}, r.BillingAddress...), PaymentTerms: r.PaymentTerms,
		Tax: tenant.TaxProfile{RateBP: r.TaxRateBP},
	}
	if r.TaxCountry != nil {
		b.Tax.Country = *r.TaxCountry
	}
	if r.TaxID != nil {
		b.Tax.TaxID = *r.TaxID
	}
	if r.PaymentType != nil && r.PaymentLast4 != nil {
		pm := &tenant.PaymentMethod{Type: tenant.PaymentMethodType(*r.PaymentType), Last4: *r.PaymentLast4}
		if r.PaymentBrand != nil {
			brand := tenant.CardBrand(*r.PaymentBrand)
			pm.Brand = &brand
		}
		b.PaymentMethod = pm
	}
	if r.Sched.ID != "" && r.SchedDate != nil && r.SchedAt != nil && r.SchedBy != nil {
		sched := r.Sched
		b.ScheduledPlanChange = &tenant.ScheduledPlanChange{Plan: &sched, EffectiveDate: *r.SchedDate,
			RequestedAt: *r.SchedAt, RequestedBy: *r.SchedBy, BillingPeriod: r.BillingPeriod}
	}
	return b
}

// BillingByTenant loads each tenant's subscription, in key order, in one
// statement; a tenant that never changed it gets the defaults. It is a
// loader batch, and the subscription status and period the account status
// summary needs. Codes: ENOTFOUND (a tenant the caller may not see).
func (s *Store) BillingByTenant(ctx context.Context, ids []string) ([]*tenant.Billing, []error) {
	all, own := scope(ctx)
	var rows []billingRow
	err := s.selectBatch(ctx, &rows, `SELECT `+billingCols+billingFrom+`
		WHERE t.id = ANY($1::uuid[]) AND ($2 OR t.id = $3)`, pq.Array(validIDs(ids)), all, own)
	return inKeyOrder(ids, rows, err, "billing", func(r *billingRow) (string, *tenant.Billing) { return r.TenantID, r.billing() })
}

// readBilling reads one tenant's subscription inside a transaction that
// has locked the tenant.
func readBilling(ctx context.Context, tx sqlx.ExtContext, tenantID string) (*tenant.Billing, error) {
	var r billingRow
	if err := sqlx.GetContext(ctx, tx, &r, `SELECT `+billingCols+billingFrom+` WHERE t.id = $1`, tenantID); err != nil {
		return nil, notFoundAs(err, "tenant")
	}
	return r.billing(), nil
}

// ensureBilling writes the default billing row of each tenant that has
// none, with the values a read shows for it (version 0).
func ensureBilling(ctx context.Context, tx sqlx.ExtContext, ids []string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO billing_accounts
		(tenant_id, status, billing_period, next_billing_date, anchor_day, billing_email, version, updated_at, updated_by)
		SELECT t.id, `+defaultStatus+`, `+defaultPeriod+`, `+defaultNextDate+`, `+defaultAnchorDay+`, t.owner_email, 0, t.created_at, t.created_by
		FROM tenants t WHERE t.id = ANY($1::uuid[])
		ON CONFLICT (tenant_id) DO NOTHING`, pq.Array(ids))
	return err
}

// planCatalog reads every plan, smallest first.
func planCatalog(ctx context.Context, tx sqlx.ExtContext) ([]*tenant.Plan, error) {
	var out []*tenant.Plan
	err := sqlx.SelectContext(ctx, tx, &out, `SELECT `+planCols+` FROM plans ORDER BY rank`)
	return out, err
}

// ChangePlan moves a tenant to another plan as the caller: an upgrade at
// once (or on in.EffectiveDate), a downgrade at the end of the current
// period (or on in.EffectiveDate). A change dated today takes effect in
// this transaction: tenants.plan_id changes, so limits follow at once;
// a later one is scheduled and applied by ApplyDuePlanChanges. A new
// change replaces one already scheduled. With in.ValidateOnly it runs every
// check and saves nothing.
// Codes: EINVALID (unknown plan, past date, current plan, downgrade below
// this month's usage), ENOTFOUND, ECONFLICT (version mismatch, deleted
// tenant).
func (s *Store) ChangePlan(ctx context.Context, tenantID string, in tenant.PlanChangeInput) (*tenant.PlanChange, error) {
	if err := in.Normalize(tenant.DateOf(s.Now())); err != nil {
		return nil, err
	}
	// This month's usage, for a downgrade: read before the transaction (a
	// read of the usage store on its own connection); a tenant the caller
	// may not see is reported by lockTenant below.
	usage, usageErrs := s.UsageByTenant(ctx, []string{tenantID})
	by := tenant.ActorFrom(ctx).ActorID()
	var out *tenant.PlanChange
	err := s.inTxDry(ctx, in.ValidateOnly, func(tx sqlx.ExtContext, now time.Time) error {
		today := tenant.DateOf(now)
		if _, err := lockTenant(ctx, tx, tenantID, false); err != nil {
			return err
		}
		plans, err := planCatalog(ctx, tx)
		if err != nil {
			return err
		}
		var target *tenant.Plan
		ids := make([]string, len(plans))
		for i, p := range plans {
			ids[i] = p.ID
			if p.ID == in.PlanID {
				target = p
			}
		}
		if target == nil {
			return tenant.Invalid("plan", "plan must be one of %s, got %q", strings.Join(ids, ", "), in.PlanID)
		}
		cur, err := readBilling(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		if err := checkVersion("expectedVersion", in.ExpectedVersion, cur.Version); err != nil {
			return err
		}
		if target.ID == cur.Plan.ID {
			return tenant.Invalid("plan", "the tenant is already on the %s plan; to drop a scheduled change, use cancelPlanChange", target.ID)
		}
		downgrade := target.Rank < cur.Plan.Rank
		if downgrade {
			if usageErrs[0] != nil {
				return usageErrs[0]
			}
			if err := tenant.CheckDowngrade(target, usage[0]); err != nil {
				return err
			}
		}
		effective := today
		switch {
		case in.EffectiveDate != nil:
			effective = *in.EffectiveDate
		case downgrade && cur.NextBillingDate.After(today):
			effective = cur.NextBillingDate
		}
		if err := ensureBilling(ctx, tx, []string{tenantID}); err != nil {
			return err
		}
		// An upgrade inside an invoiced period is charged for the rest of
		// that period when it takes effect: now when it is dated today,
		// otherwise by ApplyDuePlanChanges on its day (previewed here);
		// anything else is charged by the billing run.
		var prorated *tenant.Invoice
		if !downgrade {
			if prorated, err = s.prorate(ctx, tx, cur, target, effective, now, by); err != nil {
				return err
			}
		}
		preview := s.changePreview(cur, target, effective, prorated)
		change := map[string]any{"tenantId": tenantID, "previousPlanId": cur.Plan.ID, "planId": target.ID,
			"effectiveDate": effective.String(), "requestedAt": now, "requestedBy": by}
		if effective.After(today) {
			_, err = tx.ExecContext(ctx, `UPDATE billing_accounts SET scheduled_plan_id = $2, scheduled_effective_date = $3,
				scheduled_requested_at = $4, scheduled_requested_by = $5, version = version + 1, updated_at = $4, updated_by = $5
				WHERE tenant_id = $1`, tenantID, target.ID, effective, now, by)
			if err == nil {
				err = emitEvent(ctx, tx, tenantID, tenant.TypePlanChangeScheduled, tenantID, change, "billing_accounts.update")
			}
		} else {
			err = movePlanNow(ctx, tx, tenantID, target.ID, now, by)
			if err == nil && prorated != nil {
				_, err = insertInvoice(ctx, tx, prorated)
			}
			if err == nil {
				err = emitEvent(ctx, tx, tenantID, tenant.TypePlanChangeApplied, tenantID, change, "tenants.update")
			}
		}
		if err != nil {
			return err
		}
		b, err := readBilling(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		out = &tenant.PlanChange{Plan: target, EffectiveDate: effective, Scheduled: effective.After(today), Billing: b,
			Preview: preview}
		if !in.ValidateOnly && !out.Scheduled {
			out.Invoice = prorated
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// prorate is the invoice an upgrade of cur to p on day issues: the
// prorated difference for the rest of the invoiced period covering day,
// or nil when no invoiced period covers it (the billing run then invoices
// the new plan).
func (s *Store) prorate(ctx context.Context, tx sqlx.ExtContext, cur *tenant.Billing, p *tenant.Plan, day tenant.Date, now time.Time, by string) (*tenant.Invoice, error) {
	period, ok, err := invoicedPeriod(ctx, tx, cur.TenantID, day)
	if err != nil || !ok {
		return nil, err
	}
	return tenant.Proration(cur, s.Seller, p, period, day, now, by), nil
}

// invoicedPeriod finds the subscription period invoiced (and not void)
// that covers day: the period an upgrade that day is prorated over.
func invoicedPeriod(ctx context.Context, tx sqlx.ExtContext, tenantID string, day tenant.Date) (tenant.CurrentPeriod, bool, error) {
	var p struct {
		Start tenant.Date `db:"period_start"`
		End   tenant.Date `db:"period_end"`
	}
	err := sqlx.GetContext(ctx, tx, &p, `SELECT period_start, period_end FROM invoices
		WHERE tenant_id = $1 AND kind = 'SUBSCRIPTION' AND status <> 'VOID' AND period_start <= $2 AND period_end >= $2
		ORDER BY period_start DESC LIMIT 1`, tenantID, day)
	if errors.Is(err, sql.ErrNoRows) {
		return tenant.CurrentPeriod{}, false, nil
	}
	return tenant.CurrentPeriod{Start: p.Start, End: p.End}, err == nil, err
}

// changePreview is what a change to p charges: the prorated invoice when
// there is one, otherwise the first period invoiced on p (the first
// billing date on or after effective).
func (s *Store) changePreview(cur *tenant.Billing, p *tenant.Plan, effective tenant.Date, prorated *tenant.Invoice) *tenant.InvoiceSnapshot {
	if prorated != nil {
		snap := prorated.Snapshot
		return &snap
	}
	d := cur.NextBillingDate
	for d.Before(effective) {
		d = cur.PeriodAfter(d)
	}
	snap := cur.Snapshot(s.Seller, []tenant.InvoiceLine{cur.PeriodLine(p, d)})
	return &snap
}

// movePlanNow puts a tenant on planID at once and drops any scheduled
// change: the tenant's profile and its billing each get a new version.
func movePlanNow(ctx context.Context, tx sqlx.ExtContext, tenantID, planID string, now time.Time, by string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE tenants SET plan_id = $2, modified_at = $3, modified_by = $4, version = version + 1
		WHERE id = $1`, tenantID, planID, now, by); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE billing_accounts SET scheduled_plan_id = NULL, scheduled_effective_date = NULL,
		scheduled_requested_at = NULL, scheduled_requested_by = NULL, version = version + 1, updated_at = $2, updated_by = $3
		WHERE tenant_id = $1`, tenantID, now, by)
	return err
}

// CancelPlanChange drops a tenant's scheduled plan change as the caller
// and returns the subscription and the change cancelled (nil when none was
// scheduled: then nothing is written).
// Codes: ENOTFOUND, ECONFLICT (version mismatch, deleted tenant).
func (s *Store) CancelPlanChange(ctx context.Context, tenantID string, expectedVersion *int) (*tenant.Billing, *tenant.ScheduledPlanChange, error) {
	by := tenant.ActorFrom(ctx).ActorID()
	var b *tenant.Billing
	var cancelled *tenant.ScheduledPlanChange
	err := s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		if _, err := lockTenant(ctx, tx, tenantID, false); err != nil {
			return err
		}
		cur, err := readBilling(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		if err := checkVersion("expectedVersion", expectedVersion, cur.Version); err != nil {
			return err
		}
		if cur.ScheduledPlanChange == nil {
			b = cur
			return nil
		}
		cancelled = cur.ScheduledPlanChange
		if _, err := tx.ExecContext(ctx, `UPDATE billing_accounts SET scheduled_plan_id = NULL, scheduled_effective_date = NULL,
			scheduled_requested_at = NULL, scheduled_requested_by = NULL, version = version + 1, updated_at = $2, updated_by = $3
			WHERE tenant_id = $1`, tenantID, now, by); err != nil {
			return err
		}
		b, err = readBilling(ctx, tx, tenantID)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return b, cancelled, nil
}

// UpdateBilling applies p to a tenant's billing configuration as the
// caller. A subscription moving back to ACTIVE or PAST_DUE whose next
// billing date has passed restarts from today (the time in between is not
// invoiced). With p.ValidateOnly it runs every check and saves nothing.
// Codes: EINVALID, ENOTFOUND, ECONFLICT (version mismatch, deleted
// tenant), EFORBIDDEN (status without tenant:manage).
func (s *Store) UpdateBilling(ctx context.Context, tenantID string, p tenant.BillingPatch) (*tenant.Billing, error) {
	if err := p.Normalize(); err != nil {
		return nil, err
	}
	var out *tenant.Billing
	err := s.inTxDry(ctx, p.ValidateOnly, func(tx sqlx.ExtContext, now time.Time) error {
		var err error
		out, err = updateBilling(ctx, tx, now, tenantID, &p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// updateBilling applies the normalized p to a tenant's billing
// configuration inside the caller's transaction.
func updateBilling(ctx context.Context, tx sqlx.ExtContext, now time.Time, tenantID string, p *tenant.BillingPatch) (*tenant.Billing, error) {
	actor := tenant.ActorFrom(ctx)
	if _, err := lockTenant(ctx, tx, tenantID, false); err != nil {
		return nil, err
	}
	cur, err := readBilling(ctx, tx, tenantID)
	if err != nil {
		return nil, err
	}
	if err := checkVersion("expectedVersion", p.ExpectedVersion, cur.Version); err != nil {
		return nil, err
	}
	if p.Status != nil && *p.Status != cur.Status && !actor.Has(tenant.PermTenantManage) {
		return nil, &tenant.Error{Code: tenant.EFORBIDDEN, Field: "status", Message: "changing a subscription's status needs the TENANT_MANAGE permission"}
	}
	if p.Empty() {
		return cur, nil // nothing to change: no write, no new version
	}
	next, anchor := cur.NextBillingDate, cur.AnchorDay
	if today := tenant.DateOf(now); p.Status != nil && p.Status.Billable() && !cur.Status.Billable() && next.Before(today) {
		next, anchor = today, today.Day()
	}
	var pmType, pmBrand, pmLast4 *string
	if pm := p.PaymentMethod; pm != nil {
		t := string(pm.Type)
		pmType, pmLast4 = &t, &pm.Last4
		if pm.Brand != nil {
			b := string(*pm.Brand)
			pmBrand = &b
		}
	}
	var addr any // nil: unchanged
	if p.BillingAddress != nil {
		addr = pq.StringArray(p.BillingAddress)
	}
	var tax tenant.TaxProfile
	if p.Tax != nil {
		tax = *p.Tax
	}
	if err := ensureBilling(ctx, tx, []string{tenantID}); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE billing_accounts SET
		status = COALESCE($2, status), billing_period = COALESCE($3, billing_period),
		payment_type = CASE WHEN $4::bool THEN $5 ELSE payment_type END,
		payment_brand = CASE WHEN $4::bool THEN $6 ELSE payment_brand END,
		payment_last4 = CASE WHEN $4::bool THEN $7 ELSE payment_last4 END,
		billing_email = COALESCE($8, billing_email), next_billing_date = $9, anchor_day = $10,
		version = version + 1, updated_at = $11, updated_by = $12,
		billing_name = CASE WHEN $13::text IS NULL THEN billing_name ELSE NULLIF($13, '') END,
		billing_address = COALESCE($14, billing_address),
		tax_country = CASE WHEN $15::bool THEN NULLIF($16, '') ELSE tax_country END,
		tax_id = CASE WHEN $15::bool THEN NULLIF($17, '') ELSE tax_id END,
		tax_rate_bp = CASE WHEN $15::bool THEN $18 ELSE tax_rate_bp END,
		payment_terms = COALESCE($19, payment_terms)
		WHERE tenant_id = $1`,
		tenantID, p.Status, p.BillingPeriod, p.PaymentMethod != nil, pmType, pmBrand, pmLast4,
		p.BillingEmail, next, anchor, now, actor.ActorID(),
		p.BillingName, addr, p.Tax != nil, tax.Country, tax.TaxID, tax.RateBP, p.PaymentTerms); err != nil {
		return nil, err
	}
	return readBilling(ctx, tx, tenantID)
}

// ApplyDuePlanChanges applies every scheduled plan change whose effective
// date has come (UTC): the tenant moves to the new plan (its limits and API
// rate follow) and the change is cleared. The server calls it every minute
// and the billing run calls it first; between a change's midnight and the
// next tick, reads still show the old plan. It runs as the system, on every
// tenant; each change is recorded as made by whoever requested it.
// It returns how many changes it applied.
func (s *Store) ApplyDuePlanChanges(ctx context.Context) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		var ids []string
		if err := sqlx.SelectContext(ctx, tx, &ids, `SELECT t.id FROM tenants t JOIN billing_accounts b ON b.tenant_id = t.id
			WHERE b.scheduled_plan_id IS NOT NULL AND b.scheduled_effective_date <= $1
			ORDER BY t.id FOR NO KEY UPDATE OF t`, tenant.DateOf(now)); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		// An upgrade inside an invoiced period is charged for the rest of it,
		// as one made at once would be (read before the plans move).
		today := tenant.DateOf(now)
		var prorated []*tenant.Invoice
		for _, id := range ids {
			cur, err := readBilling(ctx, tx, id)
			if err != nil {
				return err
			}
			if c := cur.ScheduledPlanChange; c != nil && c.Plan.Rank > cur.Plan.Rank {
				inv, err := s.prorate(ctx, tx, cur, c.Plan, today, now, c.RequestedBy)
				if err != nil {
					return err
				}
				if inv != nil {
					prorated = append(prorated, inv)
				}
			}
		}
		// Each change applied also writes plan_change.applied, with the plan
		// left (read before the updates: the CTEs share one snapshot).
		if err := sqlx.GetContext(ctx, tx, &n, `WITH due AS (
				SELECT b.tenant_id, b.scheduled_plan_id, b.scheduled_requested_by, b.scheduled_requested_at,
					b.scheduled_effective_date, t.plan_id AS previous_plan_id
				FROM billing_accounts b JOIN tenants t ON t.id = b.tenant_id
				WHERE b.tenant_id = ANY($1::uuid[]) AND b.scheduled_effective_date <= $2
			), moved AS (
				UPDATE tenants t SET plan_id = due.scheduled_plan_id, modified_at = $3, modified_by = due.scheduled_requested_by,
					version = t.version + 1
				FROM due WHERE t.id = due.tenant_id RETURNING t.id
			), cleared AS (
				UPDATE billing_accounts b SET scheduled_plan_id = NULL, scheduled_effective_date = NULL,
					scheduled_requested_at = NULL, scheduled_requested_by = NULL, version = b.version + 1,
					updated_at = $3, updated_by = due.scheduled_requested_by
				FROM due WHERE b.tenant_id = due.tenant_id RETURNING b.tenant_id
			)
			SELECT count(emit_event(due.tenant_id, $4, due.tenant_id::text, jsonb_build_object(
					'tenantId', due.tenant_id, 'previousPlanId', due.previous_plan_id, 'planId', due.scheduled_plan_id,
					'effectiveDate', due.scheduled_effective_date, 'requestedAt', due.scheduled_requested_at,
					'requestedBy', due.scheduled_requested_by), 'billing_accounts.update'))
			FROM due JOIN cleared ON cleared.tenant_id = due.tenant_id`, pq.Array(ids), today, now, tenant.TypePlanChangeApplied); err != nil {
			return err
		}
		for _, inv := range prorated {
			if _, err := insertInvoice(ctx, tx, inv); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}
