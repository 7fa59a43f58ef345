package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"tenantapi/invoicepdf/pdftest"
	"tenantapi/tenant"
)

// This file checks billing (references 000 and 003): the subscription and
// its defaults, plan changes up and down with the scheduled change and the
// limits moving when it takes effect, every refusal, updateBilling, the
// billing run (idempotent, numbering per tenant and year), invoice pages,
// invoice status changes, the PDF route and who may fetch it, the demo
// data, the permission rows (run by TestPermissions), isolation and the
// statement count of a list selecting billing and invoices.

// billClock is the store's clock in these tests: a fixed instant that a
// test moves while the server runs.
type billClock struct{ ns atomic.Int64 }

func (c *billClock) Now() time.Time  { return time.Unix(0, c.ns.Load()).UTC() }
func (c *billClock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }
func (c *billClock) SetDay(day string) { // midday UTC of day
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		panic(err)
	}
	c.Set(d.Add(12 * time.Hour))
}

// billEnv is a server whose store runs on billClock, with a raw handle on
// its database to seed usage and look behind the API.
type billEnv struct {
	*env
	sql   *sqlx.DB
	clock *billClock
}

// billStart is "today" when a billEnv starts: 10 November 2026, midday UTC.
var billStart = time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)

func newBillEnv(t *testing.T) *billEnv {
	t.Helper()
	clock := &billClock{}
	clock.Set(billStart)
	e := buildEnv(t, envOptions{now: clock.Now})
	return &billEnv{env: e, sql: e.raw(), clock: clock}
}

// tenantOn creates a tenant on plan as the operator and returns its id.
func (b *billEnv) tenantOn(name, plan string) string {
	b.t.Helper()
	var out struct {
		CreateTenant struct{ Tenant struct{ ID string } }
	}
	b.mustGQL(testAdminSecret, `mutation($in: CreateTenantInput!) { createTenant(input: $in) { tenant { id } } }`,
		map[string]any{"in": map[string]any{"name": name, "domain": randomDomain(), "plan": plan}}, &out)
	return out.CreateTenant.Tenant.ID
}

// billingKey creates a key of tenantID that may read and change its billing.
func (b *billEnv) billingKey(tenantID string) (secret, actor string) {
	b.t.Helper()
	s, id := b.createKeyWithID(tenantID, "TENANT_READ", "BILLING_READ", "BILLING_UPDATE")
	return s, "key:" + id
}

// seedUsage records, behind the API, this month's usage of a tenant.
func (b *billEnv) seedUsage(tenantID string, users, policies, interactions int) {
	b.t.Helper()
	month := tenant.DateOf(b.clock.Now()).MonthStart()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO usage_monthly_users (tenant_id, month, user_id) SELECT $1, $2, 'user-' || n FROM generate_series(1, $3) AS n`, []any{tenantID, month, users}},
		{`INSERT INTO usage_counters (tenant_id, policies) VALUES ($1, $2) ON CONFLICT (tenant_id) DO UPDATE SET policies = $2`, []any{tenantID, policies}},
		{`INSERT INTO usage_daily (tenant_id, day, interactions) VALUES ($1, $2, $3)`, []any{tenantID, month.AddDays(2), interactions}},
	} {
		if _, err := b.sql.Exec(q.sql, q.args...); err != nil {
			b.t.Fatal(err)
		}
	}
}

const billingSel = `billing { plan { id } status billingPeriod nextBillingDate amount { amountCents currency formatted }
	paymentMethod { type brand last4 } billingEmail
	scheduledPlanChange { plan { id } effectiveDate amount { amountCents formatted } requestedAt requestedBy }
	version updatedAt updatedBy }`

type billingOut struct {
	Plan            struct{ ID string }
	Status          string
	BillingPeriod   string
	NextBillingDate string
	Amount          struct {
		AmountCents         int64
		Currency, Formatted string
	}
	PaymentMethod *struct {
		Type  string
		Brand *string
		Last4 string
	}
	BillingEmail        *string
	ScheduledPlanChange *struct {
		Plan          struct{ ID string }
		EffectiveDate string
		Amount        struct {
			AmountCents int64
			Formatted   string
		}
		RequestedAt, RequestedBy string
	}
	Version   int
	UpdatedAt string
	UpdatedBy string
}

// state reads, as the operator, what a refused change must leave alone:
// the billing, the plan and limits, the profile's version and the invoices.
func (b *billEnv) state(id string) string {
	b.t.Helper()
	r := b.ask(testAdminSecret, `query($id: ID!) { tenant(id: $id) { version plan { id } limits { users } `+billingSel+`
		invoices(first: 100) { totalCount nodes { id number status paidAt } } } }`, map[string]any{"id": id})
	if len(r.Errors) > 0 {
		b.t.Fatalf("state of %s: %s", id, r.Raw)
	}
	return string(r.Data)
}

// billing reads a tenant's billing as the operator.
func (b *billEnv) billing(id string) billingOut {
	b.t.Helper()
	var out struct{ Tenant struct{ Billing billingOut } }
	b.mustGQL(testAdminSecret, `query($id: ID!) { tenant(id: $id) { `+billingSel+` } }`, map[string]any{"id": id}, &out)
	return out.Tenant.Billing
}

// planOf reads a tenant's plan id and user limit as the operator.
func (b *billEnv) planOf(id string) (string, *int) {
	b.t.Helper()
	var out struct {
		Tenant struct {
			Plan   struct{ ID string }
			Limits struct{ Users *int }
		}
	}
	b.mustGQL(testAdminSecret, `query($id: ID!) { tenant(id: $id) { plan { id } limits { users } } }`, map[string]any{"id": id}, &out)
	return out.Tenant.Plan.ID, out.Tenant.Limits.Users
}

type invoiceOut struct {
	ID, Number, Status, Date, DueDate, PeriodStart, PeriodEnd, Currency, Description, PdfURL string
	Amount                                                                                   struct {
		AmountCents int64
		Formatted   string
	}
	PaidAt *string
}

const invoiceSel = `id number status date dueDate periodStart periodEnd currency description pdfUrl amount { amountCents formatted } paidAt`

// invoices reads all of a tenant's invoices as the operator, newest first.
func (b *billEnv) invoices(id string) []invoiceOut {
	b.t.Helper()
	var out struct {
		Tenant struct {
			Invoices struct {
				TotalCount int
				Nodes      []invoiceOut
			}
		}
	}
	b.mustGQL(testAdminSecret, `query($id: ID!) { tenant(id: $id) { invoices(first: 100) { totalCount nodes { `+invoiceSel+` } } } }`,
		map[string]any{"id": id}, &out)
	if n := len(out.Tenant.Invoices.Nodes); n != out.Tenant.Invoices.TotalCount {
		b.t.Fatalf("totalCount %d, %d nodes", out.Tenant.Invoices.TotalCount, n)
	}
	return out.Tenant.Invoices.Nodes
}

type runOut struct {
	Period                               string
	Created, Skipped, PlanChangesApplied int
}

const qRunBilling = `mutation($in: RunBillingInput!) { runBilling(input: $in) { period created skipped planChangesApplied } }`

// runBilling runs billing for period as the operator.
func (b *billEnv) runBilling(period string) runOut {
	b.t.Helper()
	var out struct{ RunBilling runOut }
	b.mustGQL(testAdminSecret, qRunBilling, map[string]any{"in": map[string]any{"period": period}}, &out)
	return out.RunBilling
}

const (
	qChangePlan = `mutation($in: ChangePlanInput!) { changePlan(input: $in) { plan { id } status effectiveDate scheduled
		amount { amountCents currency formatted } currency
		billing { version nextBillingDate scheduledPlanChange { plan { id } effectiveDate requestedBy } }
		tenant { id plan { id } limits { users apiRequestsPerMinute } } } }`
	qCancelPlanChange = `mutation($in: CancelPlanChangeInput!) { cancelPlanChange(input: $in) {
		cancelledChange { plan { id } effectiveDate } billing { version scheduledPlanChange { plan { id } } } tenant { id } } }`
	qUpdateBilling = `mutation($in: UpdateBillingInput!) { updateBilling(input: $in) { ` + billingSel + ` tenant { id } } }`
	qMarkPaid      = `mutation($in: InvoiceActionInput!) { markInvoicePaid(input: $in) { invoice { id number status paidAt } } }`
	qVoid          = `mutation($in: InvoiceActionInput!) { voidInvoice(input: $in) { invoice { id number status paidAt } } }`
)

type changeOut struct {
	Plan          struct{ ID string }
	Status        string
	EffectiveDate string
	Scheduled     bool
	Amount        struct {
		AmountCents         int64
		Currency, Formatted string
	}
	Currency string
	Billing  struct {
		Version             int
		NextBillingDate     string
		ScheduledPlanChange *struct {
			Plan                       struct{ ID string }
			EffectiveDate, RequestedBy string
		}
	}
	Tenant struct {
		ID     string
		Plan   struct{ ID string }
		Limits struct {
			Users                *int
			APIRequestsPerMinute int `json:"apiRequestsPerMinute"`
		}
	}
}

// changePlan changes a plan with key, failing the test on an error.
func (b *billEnv) changePlan(key string, in map[string]any) changeOut {
	b.t.Helper()
	var out struct{ ChangePlan changeOut }
	b.mustGQL(key, qChangePlan, map[string]any{"in": in}, &out)
	return out.ChangePlan
}

func ptrInt(p *int) string {
	if p == nil {
		return "unlimited"
	}
	return fmt.Sprint(*p)
}

// TestBillingDefaults reads a new tenant's billing: the defaults, never an
// error, and no invoices.
func TestBillingDefaults(t *testing.T) {
	t.Parallel()
	b := newBillEnv(t)
	id := b.tenantOn("Fresh Co", "professional")
	key, _ := b.billingKey(id)
	var out struct {
		Me struct {
			Billing  billingOut
			Invoices struct {
				TotalCount int
				Nodes      []any
				PageInfo   struct {
					HasNextPage bool
					EndCursor   *string
				}
			}
		}
	}
	b.mustGQL(key, `{ me { `+billingSel+` invoices { totalCount nodes { id } pageInfo { hasNextPage endCursor } } } }`, nil, &out)
	got := out.Me.Billing
	if got.Plan.ID != "professional" || got.Status != "ACTIVE" || got.BillingPeriod != "MONTHLY" || got.NextBillingDate != "2026-11-10" ||
		got.Amount.AmountCents != 29900 || got.Amount.Currency != "EUR" || got.Amount.Formatted != "299.00 EUR" ||
		got.PaymentMethod != nil || got.BillingEmail != nil || got.ScheduledPlanChange != nil ||
		got.Version != 0 || got.UpdatedBy != "admin" || got.UpdatedAt != "2026-11-10T12:00:00Z" {
		t.Errorf("billing = %+v, want the defaults", got)
	}
	if inv := out.Me.Invoices; inv.TotalCount != 0 || len(inv.Nodes) != 0 || inv.PageInfo.HasNextPage || inv.PageInfo.EndCursor != nil {
		t.Errorf("invoices = %+v, want none", inv)
	}
	// The plans catalog says the price (the reference gives none for starter).
	var plans struct {
		Plans []struct {
			ID, Description   string
			MonthlyPriceCents int
		}
	}
	b.mustGQL("", `{ plans { id description monthlyPriceCents } }`, nil, &plans)
	if p := plans.Plans[0]; p.ID != "starter" || p.MonthlyPriceCents != 4900 || !strings.Contains(p.Description, "49 EUR a month") {
		t.Errorf("starter = %+v", p)
	}
}

// TestChangePlanUpAndDown walks a tenant through the plans: a downgrade
// waits for the end of the period, shows as scheduled, and moves the plan
// and its limits when its day comes; an upgrade is immediate; a dated
// change is scheduled, replaced, cancelled; the billing run applies a due
// change first and invoices the new plan.
func TestChangePlanUpAndDown(t *testing.T) {
	t.Parallel()
	b := newBillEnv(t)
	id := b.tenantOn("Moving Co", "professional")
	key, actor := b.billingKey(id)
	if run := b.runBilling("2026-11"); run.Created != 1 {
		t.Fatalf("run = %+v, want 1 invoice", run)
	}
	if bl := b.billing(id); bl.NextBillingDate != "2026-12-10" || bl.Version != 0 {
		t.Fatalf("after the run: %+v, want the next period on 2026-12-10", bl)
	}

	// A downgrade without a date: at the end of the current period.
	c := b.changePlan(key, map[string]any{"plan": "starter"})
	if c.Plan.ID != "starter" || !c.Scheduled || c.EffectiveDate != "2026-12-10" || c.Status != "ACTIVE" ||
		c.Amount.AmountCents != 4900 || c.Amount.Formatted != "49.00 EUR" || c.Currency != "EUR" ||
		c.Billing.Version != 1 || c.Billing.ScheduledPlanChange == nil || c.Billing.ScheduledPlanChange.RequestedBy != actor {
		t.Errorf("downgrade = %+v", c)
	}
	if c.Tenant.Plan.ID != "professional" || ptrInt(c.Tenant.Limits.Users) != "50" {
		t.Errorf("the tenant moved before the date: %+v", c.Tenant)
	}
	var me struct{ Me struct{ Billing billingOut } }
	b.mustGQL(key, `{ me { `+billingSel+` } }`, nil, &me)
	if s := me.Me.Billing.ScheduledPlanChange; s == nil || s.Plan.ID != "starter" || s.EffectiveDate != "2026-12-10" ||
		s.Amount.AmountCents != 4900 || s.RequestedBy != actor || s.RequestedAt != "2026-11-10T12:00:00Z" {
		t.Errorf("scheduledPlanChange = %+v", s)
	}

	// The day before, nothing moves; on the day, the ticker applies it.
	b.clock.Set(time.Date(2026, 12, 9, 23, 59, 0, 0, time.UTC))
	if n, err := b.store.ApplyDuePlanChanges(context.Background()); err != nil || n != 0 {
		t.Fatalf("ApplyDuePlanChanges the day before = %d, %v", n, err)
	}
	b.clock.Set(time.Date(2026, 12, 10, 0, 0, 30, 0, time.UTC))
	if n, err := b.store.ApplyDuePlanChanges(context.Background()); err != nil || n != 1 {
		t.Fatalf("ApplyDuePlanChanges = %d, %v; want 1", n, err)
	}
	if plan, users := b.planOf(id); plan != "starter" || ptrInt(users) != "5" {
		t.Errorf("after the change: plan %s, users %s; want starter, 5", plan, ptrInt(users))
	}
	if bl := b.billing(id); bl.ScheduledPlanChange != nil || bl.Version != 2 || bl.UpdatedBy != actor || bl.Plan.ID != "starter" || bl.Amount.AmountCents != 4900 {
		t.Errorf("billing after the change = %+v", bl)
	}
	var prof struct {
		Tenant struct {
			Version    int
			ModifiedBy string
		}
	}
	b.mustGQL(testAdminSecret, `query($id: ID!) { tenant(id: $id) { version modifiedBy } }`, map[string]any{"id": id}, &prof)
	if prof.Tenant.Version != 2 || prof.Tenant.ModifiedBy != actor {
		t.Errorf("tenant profile = %+v, want version 2 modified by %s", prof.Tenant, actor)
	}

	// An upgrade without a date: at once, with the new limits and rate.
	c = b.changePlan(key, map[string]any{"plan": "enterprise"})
	if c.Scheduled || c.EffectiveDate != "2026-12-10" || c.Tenant.Plan.ID != "enterprise" || c.Tenant.Limits.Users != nil ||
		c.Tenant.Limits.APIRequestsPerMinute != 5000 || c.Amount.AmountCents != 299900 || c.Billing.ScheduledPlanChange != nil {
		t.Errorf("upgrade = %+v", c)
	}

	// A dated change is scheduled; a new one replaces it; cancelling drops it.
	c = b.changePlan(key, map[string]any{"plan": "professional", "effectiveDate": "2026-12-20"})
	if !c.Scheduled || c.EffectiveDate != "2026-12-20" || c.Tenant.Plan.ID != "enterprise" {
		t.Errorf("dated downgrade = %+v", c)
	}
	c = b.changePlan(key, map[string]any{"plan": "starter", "effectiveDate": "2026-12-25"})
	if s := c.Billing.ScheduledPlanChange; s == nil || s.Plan.ID != "starter" || s.EffectiveDate != "2026-12-25" {
		t.Errorf("replacing change = %+v", c)
	}
	var cancel struct {
		CancelPlanChange struct {
			CancelledChange *struct {
				Plan          struct{ ID string }
				EffectiveDate string
			}
			Billing struct {
				Version             int
				ScheduledPlanChange *struct{ Plan struct{ ID string } }
			}
		}
	}
	b.mustGQL(key, qCancelPlanChange, map[string]any{"in": map[string]any{}}, &cancel)
	cc := cancel.CancelPlanChange
	if cc.CancelledChange == nil || cc.CancelledChange.Plan.ID != "starter" || cc.CancelledChange.EffectiveDate != "2026-12-25" || cc.Billing.ScheduledPlanChange != nil {
		t.Errorf("cancel = %+v", cc)
	}
	version := cc.Billing.Version
	b.mustGQL(key, qCancelPlanChange, map[string]any{"in": map[string]any{}}, &cancel)
	if cc := cancel.CancelPlanChange; cc.CancelledChange != nil || cc.Billing.Version != version {
		t.Errorf("cancelling again = %+v, want nothing cancelled and version %d", cc, version)
	}
	b.clock.Set(time.Date(2026, 12, 26, 9, 0, 0, 0, time.UTC))
	if n, _ := b.store.ApplyDuePlanChanges(context.Background()); n != 0 {
		t.Errorf("a cancelled change was applied")
	}
	if plan, _ := b.planOf(id); plan != "enterprise" {
		t.Errorf("plan = %s after a cancelled change, want enterprise", plan)
	}

	// December's run bills enterprise; a downgrade then waits for January,
	// and January's run applies it first and bills the new plan.
	if run := b.runBilling("2026-12"); run.Created != 1 {
		t.Fatalf("December run = %+v", run)
	}
	c = b.changePlan(key, map[string]any{"plan": "professional"})
	if !c.Scheduled || c.EffectiveDate != "2027-01-10" {
		t.Errorf("downgrade after December's invoice = %+v", c)
	}
	b.clock.Set(time.Date(2027, 1, 10, 0, 0, 10, 0, time.UTC))
	if run := b.runBilling("2027-01"); run.Created != 1 || run.PlanChangesApplied != 1 {
		t.Errorf("January run = %+v, want 1 invoice after 1 plan change", run)
	}
	if plan, _ := b.planOf(id); plan != "professional" {
		t.Errorf("plan = %s after January's run, want professional", plan)
	}
	var got []string
	for _, inv := range b.invoices(id) {
		got = append(got, fmt.Sprintf("%s %s %d", inv.Number, inv.Date, inv.Amount.AmountCents))
	}
	if want := []string{"INV-2027-001 2027-01-10 29900", "INV-2026-002 2026-12-10 299900", "INV-2026-001 2026-11-10 29900"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("invoices = %v, want %v", got, want)
	}
}

// TestChangePlanNotYetInvoiced: a tenant whose current period was never
// invoiced (its next billing date is today) downgrades at once.
func TestChangePlanNotYetInvoiced(t *testing.T) {
	t.Parallel()
	b := newBillEnv(t)
	id := b.tenantOn("New Co", "professional")
	key, _ := b.billingKey(id)
	c := b.changePlan(key, map[string]any{"plan": "starter"})
	if c.Scheduled || c.EffectiveDate != "2026-11-10" || c.Tenant.Plan.ID != "starter" || ptrInt(c.Tenant.Limits.Users) != "5" {
		t.Errorf("downgrade = %+v, want starter at once", c)
	}
}

// TestChangePlanRefusals: each refusal answers BAD_USER_INPUT (or
// CONFLICT) naming the field, and saves nothing; validateOnly reports the
// outcome and saves nothing.
func TestChangePlanRefusals(t *testing.T) {
	t.Parallel()
	b := newBillEnv(t)
	id := b.tenantOn("Busy Co", "professional")
	key, _ := b.billingKey(id)
	b.seedUsage(id, 12, 9, 20000)
	b.runBilling("2026-11")
	for _, c := range []struct {
		name, code, field string
		in                map[string]any
		msgs              []string
	}{
		{"ErrUnknownPlan", "BAD_USER_INPUT", "plan", map[string]any{"plan": "platinum"},
			[]string{`plan must be one of starter, professional, enterprise, got "platinum"`}},
		{"ErrUnknownPlanValidateOnly", "BAD_USER_INPUT", "plan", map[string]any{"plan": "platinum", "validateOnly": true},
			[]string{`plan must be one of starter, professional, enterprise, got "platinum"`}},
		{"ErrPastDate", "BAD_USER_INPUT", "effectiveDate", map[string]any{"plan": "enterprise", "effectiveDate": "2026-11-09"},
			[]string{"effectiveDate must be today (2026-11-10, UTC) or later, got 2026-11-09"}},
		{"ErrDateDoesNotExist", "BAD_USER_INPUT", "effectiveDate", map[string]any{"plan": "enterprise", "effectiveDate": "2026-02-30"},
			[]string{"effectiveDate", "YYYY-MM-DD"}},
		{"ErrCurrentPlan", "BAD_USER_INPUT", "plan", map[string]any{"plan": "professional"},
			[]string{"the tenant is already on the professional plan"}},
		{"ErrDowngradeBelowUsage", "BAD_USER_INPUT", "plan", map[string]any{"plan": "starter"},
			[]string{"starter allows 5 users; the tenant has 12 active users this month",
				"starter allows 10,000 interactions a month; the tenant has 20,000 interactions this month"}},
		{"ErrDowngradeBelowUsageDated", "BAD_USER_INPUT", "plan", map[string]any{"plan": "starter", "effectiveDate": "2027-01-01"},
			[]string{"starter allows 5 users; the tenant has 12 active users this month"}},
		{"ErrExpectedVersion", "CONFLICT", "expectedVersion", map[string]any{"plan": "enterprise", "expectedVersion": 3},
			[]string{"expected version 3, current version 0"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			be := &billEnv{env: b.env.withT(t), sql: b.sql, clock: b.clock}
			before := be.state(id)
			r := be.ask(key, qChangePlan, map[string]any{"in": c.in})
			if r.Code() != c.code || r.Field() != c.field || len(r.Errors) != 1 {
				t.Fatalf("want one %s on %s, got %s", c.code, c.field, r.Raw)
			}
			for _, m := range c.msgs {
				if !strings.Contains(r.Errors[0].Message, m) {
					t.Errorf("message %q does not contain %q", r.Errors[0].Message, m)
				}
			}
			if after := be.state(id); after != before {
				t.Errorf("a refused change saved something:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
	t.Run("ValidateOnly", func(t *testing.T) {
		be := &billEnv{env: b.env.withT(t), sql: b.sql, clock: b.clock}
		before := be.state(id)
		c := be.changePlan(key, map[string]any{"plan": "enterprise", "validateOnly": true})
		if c.Plan.ID != "enterprise" || c.Scheduled || c.Amount.AmountCents != 299900 || c.Billing.Version != 1 {
			t.Errorf("validateOnly payload = %+v", c)
		}
		c = be.changePlan(key, map[string]any{"plan": "enterprise", "effectiveDate": "2026-12-01", "validateOnly": true})
		if !c.Scheduled || c.Billing.ScheduledPlanChange == nil {
			t.Errorf("validateOnly dated payload = %+v", c)
		}
		if after := be.state(id); after != before {
			t.Errorf("validateOnly saved something:\nbefore %s\nafter  %s", before, after)
		}
	})
	t.Run("OKExpectedVersion", func(t *testing.T) {
		be := &billEnv{env: b.env.withT(t), sql: b.sql, clock: b.clock}
		if c := be.changePlan(key, map[string]any{"plan": "enterprise", "expectedVersion": 0}); c.Billing.Version != 1 {
			t.Errorf("version = %d", c.Billing.Version)
		}
	})
}

// TestUpdateBilling sets the payment method, email and period; refuses bad
// values naming the field, status without TENANT_MANAGE, a stale version;
// validateOnly saves nothing.
func TestUpdateBilling(t *testing.T) {
	t.Parallel()
	b := newBillEnv(t)
	id := b.tenantOn("Paying Co", "enterprise")
	key, actor := b.billingKey(id)
	var out struct{ UpdateBilling struct{ Billing billingOut } }
	b.mustGQL(key, qUpdateBilling, map[string]any{"in": map[string]any{
		"paymentMethod": map[string]any{"type": "CREDIT_CARD", "brand": "VISA", "last4": "4242"},
		"billingEmail":  " Billing@Paying.example ", "billingPeriod": "ANNUAL"}}, &out)
	got := out.UpdateBilling.Billing
	if got.PaymentMethod == nil || got.PaymentMethod.Type != "CREDIT_CARD" || *got.PaymentMethod.Brand != "VISA" || got.PaymentMethod.Last4 != "4242" ||
		*got.BillingEmail != "Billing@Paying.example" || got.BillingPeriod != "ANNUAL" || got.Amount.AmountCents != 2999000 ||
		got.Amount.Formatted != "29,990.00 EUR" || got.Version != 1 || got.UpdatedBy != actor {
		t.Errorf("updateBilling = %+v", got)
	}
	b.mustGQL(key, qUpdateBilling, map[string]any{"in": map[string]any{"paymentMethod": map[string]any{"type": "SEPA_DEBIT", "last4": "0189"}}}, &out)
	if pm := out.UpdateBilling.Billing.PaymentMethod; pm == nil || pm.Brand != nil || pm.Last4 != "0189" || out.UpdateBilling.Billing.Version != 2 {
		t.Errorf("SEPA = %+v", out.UpdateBilling.Billing)
	}
	b.mustGQL(key, qUpdateBilling, map[string]any{"in": map[string]any{}}, &out)
	if out.UpdateBilling.Billing.Version != 2 {
		t.Errorf("an empty update wrote a new version")
	}

	for _, c := range []struct {
		name, code, field, msg string
		in                     map[string]any
	}{
		{"ErrFullCardNumber", "BAD_USER_INPUT", "paymentMethod.last4", "got 16 characters",
			map[string]any{"paymentMethod": map[string]any{"type": "CREDIT_CARD", "brand": "VISA", "last4": "4242424242424242"}}},
		{"ErrLast4", "BAD_USER_INPUT", "paymentMethod.last4", "exactly the last 4 digits",
			map[string]any{"paymentMethod": map[string]any{"type": "CREDIT_CARD", "brand": "VISA", "last4": "424"}}},
		{"ErrCardWithoutBrand", "BAD_USER_INPUT", "paymentMethod.brand", "required for a CREDIT_CARD: one of VISA, MASTERCARD",
			map[string]any{"paymentMethod": map[string]any{"type": "CREDIT_CARD", "last4": "4242"}}},
		{"ErrSepaWithBrand", "BAD_USER_INPUT", "paymentMethod.brand", "cards only",
			map[string]any{"paymentMethod": map[string]any{"type": "SEPA_DEBIT", "brand": "VISA", "last4": "4242"}}},
		{"ErrEmail", "BAD_USER_INPUT", "billingEmail", `billingEmail must be a plain email address such as billing@acme.fr, got "billing at acme"`,
			map[string]any{"billingEmail": "billing at acme"}},
		{"ErrStatusNeedsManage", "FORBIDDEN", "status", "TENANT_MANAGE", map[string]any{"status": "CANCELLED"}},
		{"ErrExpectedVersion", "CONFLICT", "expectedVersion", "expected version 1, current version 2",
			map[string]any{"billingEmail": "new@paying.example", "expectedVersion": 1}},
		{"ErrValidateOnlyBadEmail", "BAD_USER_INPUT", "billingEmail", "plain email address",
			map[string]any{"billingEmail": "nope", "validateOnly": true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			be := &billEnv{env: b.env.withT(t), sql: b.sql, clock: b.clock}
			before := be.state(id)
			r := be.ask(key, qUpdateBilling, map[string]any{"in": c.in})
			if r.Code() != c.code || r.Field() != c.field || len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, c.msg) {
				t.Fatalf("want one %s on %s containing %q, got %s", c.code, c.field, c.msg, r.Raw)
			}
			if strings.Contains(string(r.Raw), "4242424242424242") {
				t.Errorf("the response echoes the card number: %s", r.Raw)
			}
			if after := be.state(id); after != before {
				t.Errorf("a refused update saved something")
			}
		})
	}
	t.Run("ErrBrandNotInEnum", func(t *testing.T) {
		r := b.env.withT(t).ask(key, qUpdateBilling, map[string]any{"in": map[string]any{"paymentMethod": map[string]any{"type": "CREDIT_CARD", "brand": "VISAA", "last4": "4242"}}})
		if len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, "VISAA") {
			t.Fatalf("want one error naming VISAA, got %s", r.Raw)
		}
	})
	t.Run("ValidateOnly", func(t *testing.T) {
		be := &billEnv{env: b.env.withT(t), sql: b.sql, clock: b.clock}
		before := be.state(id)
		be.mustGQL(key, qUpdateBilling, map[string]any{"in": map[string]any{"billingEmail": "dry@paying.example", "validateOnly": true}}, &out)
		if e := out.UpdateBilling.Billing.BillingEmail; e == nil || *e != "dry@paying.example" || out.UpdateBilling.Billing.Version != 3 {
			t.Errorf("validateOnly payload = %+v", out.UpdateBilling.Billing)
		}
		if be.state(id) != before {
			t.Errorf("validateOnly saved something")
		}
	})
	t.Run("StatusByOperator", func(t *testing.T) {
		be := &billEnv{env: b.env.withT(t), sql: b.sql, clock: b.clock}
		be.mustGQL(testAdminSecret, qUpdateBilling, map[string]any{"in": map[string]any{"tenantId": id, "status": "CANCELLED"}}, &out)
		if got := out.UpdateBilling.Billing; got.Status != "CANCELLED" || got.UpdatedBy != "admin" {
			t.Errorf("cancelled = %+v", got)
		}
		// Cancelled: not invoiced. Back to ACTIVE two months later: billing
		// restarts from that day, the months in between are not invoiced.
		be.clock.SetDay("2027-01-05")
		if run := be.runBilling("2027-01"); run.Created != 0 {
			t.Errorf("a cancelled subscription was invoiced: %+v", run)
		}
		be.mustGQL(testAdminSecret, qUpdateBilling, map[string]any{"in": map[string]any{"tenantId": id, "status": "ACTIVE"}}, &out)
		if got := out.UpdateBilling.Billing; got.Status != "ACTIVE" || got.NextBillingDate != "2027-01-05" {
			t.Errorf("reactivated = %+v, want the next billing date today", got)
		}
		if run := be.runBilling("2027-01"); run.Created != 1 {
			t.Errorf("run after reactivation = %+v", run)
		}
		invs := be.invoices(id)
		if len(invs) != 1 || invs[0].Date != "2027-01-05" || invs[0].PeriodEnd != "2028-01-04" || invs[0].Amount.AmountCents != 2999000 ||
			!strings.Contains(invs[0].Description, "Enterprise plan, annual subscription") {
			t.Errorf("invoices = %+v, want one annual invoice from 2027-01-05", invs)
		}
	})
}

// TestBillingRun: one invoice per tenant per period however often billing
// runs; numbers per tenant and year; annual subscriptions billed once a
// year; suspended tenants and cancelled subscriptions not billed; missed
// periods caught up; a period in the future or malformed refused.
func TestBillingRun(t *testing.T) {
	t.Parallel()
	b := newBillEnv(t)
	monthly := b.tenantOn("Monthly Co", "starter")
	annual := b.tenantOn("Annual Co", "enterprise")
	suspended := b.tenantOn("Suspended Co", "professional")
	cancelled := b.tenantOn("Cancelled Co", "professional")
	b.mustGQL(testAdminSecret, qUpdateBilling, map[string]any{"in": map[string]any{"tenantId": annual, "billingPeriod": "ANNUAL"}}, nil)
	b.mustGQL(testAdminSecret, qUpdateTenant, map[string]any{"in": map[string]any{"tenantId": suspended, "status": "SUSPENDED"}}, nil)
	b.mustGQL(testAdminSecret, qUpdateBilling, map[string]any{"in": map[string]any{"tenantId": cancelled, "status": "CANCELLED"}}, nil)

	if run := b.runBilling("2026-11"); run != (runOut{Period: "2026-11", Created: 2, Skipped: 0}) {
		t.Errorf("first run = %+v, want 2 created", run)
	}
	if run := b.runBilling("2026-11"); run != (runOut{Period: "2026-11", Created: 0, Skipped: 2}) {
		t.Errorf("second run = %+v, want nothing new", run)
	}
	inv := b.invoices(monthly)
	if len(inv) != 1 {
		t.Fatalf("monthly tenant has %d invoices after two runs", len(inv))
	}
	want := invoiceOut{ID: inv[0].ID, Number: "INV-2026-001", Status: "OPEN", Date: "2026-11-10", DueDate: "2026-12-10", PeriodStart: "2026-11-10",
		PeriodEnd: "2026-12-09", Currency: "EUR", Description: "Starter plan, monthly subscription, 2026-11-10 to 2026-12-09", PdfURL: "/invoices/" + inv[0].ID + ".pdf"}
	want.Amount.AmountCents, want.Amount.Formatted = 4900, "49.00 EUR"
	if inv[0] != want {
		t.Errorf("invoice = %+v\nwant %+v", inv[0], want)
	}
	if a := b.invoices(annual); len(a) != 1 || a[0].Number != "INV-2026-001" || a[0].Amount.AmountCents != 2999000 || a[0].PeriodEnd != "2027-11-09" {
		t.Errorf("annual invoices = %+v", a)
	}
	if n := len(b.invoices(suspended)) + len(b.invoices(cancelled)); n != 0 {
		t.Errorf("suspended or cancelled tenants got %d invoices", n)
	}

	// December: the monthly tenant only; January: numbering restarts.
	b.clock.SetDay("2026-12-01")
	if run := b.runBilling("2026-12"); run.Created != 1 || run.Skipped != 1 {
		t.Errorf("December run = %+v, want 1 created (monthly), 1 skipped (annual)", run)
	}
	b.clock.SetDay("2027-01-20")
	if run := b.runBilling("2027-01"); run.Created != 1 {
		t.Errorf("January run = %+v", run)
	}
	var numbers []string
	for _, i := range b.invoices(monthly) {
		numbers = append(numbers, i.Number+" "+i.Date)
	}
	if got := strings.Join(numbers, ", "); got != "INV-2027-001 2027-01-10, INV-2026-002 2026-12-10, INV-2026-001 2026-11-10" {
		t.Errorf("monthly invoices = %s", got)
	}

	// A tenant created before runs it missed is caught up, one invoice per
	// period, each numbered in its own year.
	b.clock.SetDay("2026-11-25")
	late := b.tenantOn("Late Co", "professional")
	b.clock.SetDay("2027-02-03")
	if run := b.runBilling("2027-02"); run.Created != 5 {
		t.Errorf("February run = %+v, want 4 for Late Co (Nov to Feb) and 1 for Monthly Co", run)
	}
	numbers = nil
	for _, i := range b.invoices(late) {
		numbers = append(numbers, i.Number+" "+i.Date)
	}
	if got := strings.Join(numbers, ", "); got != "INV-2027-002 2027-02-25, INV-2027-001 2027-01-25, INV-2026-002 2026-12-25, INV-2026-001 2026-11-25" {
		t.Errorf("caught-up invoices = %s", got)
	}

	for _, c := range []struct{ name, period, msg string }{
		{"ErrFuturePeriod", "2027-03", "period must not be later than the current month (2027-02), got 2027-03"},
		{"ErrMalformedPeriod", "2027-2", `period must be a month written YYYY-MM, such as 2026-11, got "2027-2"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := b.env.withT(t).ask(testAdminSecret, qRunBilling, map[string]any{"in": map[string]any{"period": c.period}})
			if r.Code() != "BAD_USER_INPUT" || r.Field() != "period" || !strings.Contains(r.Errors[0].Message, c.msg) {
				t.Errorf("got %s", r.Raw)
			}
		})
	}
}

// TestBillingRunConcurrent: two runs at once still make one invoice per
// tenant and period.
func TestBillingRunConcurrent(t *testing.T) {
	t.Parallel()
	b := newBillEnv(t)
	var ids []string
	for i := range 5 {
		ids = append(ids, b.tenantOn(fmt.Sprintf("Tenant %d", i), "professional"))
	}
	var wg sync.WaitGroup
	var created atomic.Int64
	for range 4 {
		wg.Go(func() {
			run, err := b.store.RunBilling(adminCtx(), "2026-11")
			if err != nil {
				t.Error(err)
				return
			}
			created.Add(int64(run.Created))
		})
	}
	wg.Wait()
	if created.Load() != 5 {
		t.Errorf("%d invoices created by 4 concurrent runs, want 5", created.Load())
	}
	for _, id := range ids {
		if n := len(b.invoices(id)); n != 1 {
			t.Errorf("tenant %s has %d invoices", id, n)
		}
	}
}

// TestInvoicePages: newest first, first/after/totalCount, bad arguments.
func TestInvoicePages(t *testing.T) {
	t.Parallel()
	b := newBillEnv(t)
	id := b.tenantOn("Paged Co", "professional")
	key, _ := b.billingKey(id)
	b.clock.SetDay("2027-03-15")
	if run := b.runBilling("2027-03"); run.Created != 5 {
		t.Fatalf("run = %+v, want 5 invoices (Nov to Mar)", run)
	}
	type page struct {
		Me struct {
			Invoices struct {
				TotalCount int
				Edges      []struct {
					Cursor string
					Node   struct{ Number string }
				}
				Nodes    []struct{ Number string }
				PageInfo struct {
					HasNextPage, HasPreviousPage bool
					StartCursor, EndCursor       *string
				}
			}
		}
	}
	q := `query($first: Int, $after: String) { me { invoices(first: $first, after: $after) { totalCount
		edges { cursor node { number } } nodes { number } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }`
	var all []string
	var after any
	for pageNo := 0; ; pageNo++ {
		var p page
		b.mustGQL(key, q, map[string]any{"first": 2, "after": after}, &p)
		inv := p.Me.Invoices
		if inv.TotalCount != 5 {
			t.Errorf("page %d: totalCount %d", pageNo, inv.TotalCount)
		}
		for i, n := range inv.Nodes {
			all = append(all, n.Number)
			if inv.Edges[i].Node.Number != n.Number {
				t.Errorf("edges and nodes differ")
			}
		}
		if len(inv.Nodes) > 0 && (*inv.PageInfo.StartCursor != inv.Edges[0].Cursor || *inv.PageInfo.EndCursor != inv.Edges[len(inv.Edges)-1].Cursor) {
			t.Errorf("page %d: cursors = %+v", pageNo, inv.PageInfo)
		}
		if !inv.PageInfo.HasNextPage {
			if pageNo != 2 || len(inv.Nodes) != 1 {
				t.Errorf("last page is %d with %d invoices", pageNo, len(inv.Nodes))
			}
			break
		}
		after = *inv.PageInfo.EndCursor
	}
	if got := strings.Join(all, ","); got != "INV-2027-003,INV-2027-002,INV-2027-001,INV-2026-002,INV-2026-001" {
		t.Errorf("invoices in page order = %s", got)
	}
	var p page
	b.mustGQL(key, q, nil, &p)
	if len(p.Me.Invoices.Nodes) != 5 || p.Me.Invoices.PageInfo.HasNextPage {
		t.Errorf("default page (10) = %+v", p.Me.Invoices)
	}
	for _, c := range []struct {
		name  string
		vars  map[string]any
		field string
		msg   string
	}{
		// first may be refused before execution by the server's query
		// limits, or by the resolver: either way naming the argument.
		{"ErrFirstZero", map[string]any{"first": 0}, "first", "first must be between 1 and 100"},
		{"ErrFirstTooLarge", map[string]any{"first": 101}, "first", "first must be between 1 and 100"},
		{"ErrAfterNotACursor", map[string]any{"after": "bm90IGEgY3Vyc29y"}, "after", "after is not a cursor returned by this API"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := b.env.withT(t).ask(key, q, c.vars)
			if r.Code() != "BAD_USER_INPUT" || r.Field() != c.field || len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, c.msg) {
				t.Errorf("got %s", r.Raw)
			}
		})
	}
}

// TestInvoiceStatusChanges: paid and void, idempotent, refusals.
func TestInvoiceStatusChanges(t *testing.T) {
	t.Parallel()
	b := newBillEnv(t)
	id := b.tenantOn("Status Co", "professional")
	b.clock.SetDay("2026-12-12")
	b.runBilling("2026-12")
	inv := b.invoices(id)
	dec, nov := inv[0].ID, inv[1].ID
	status := func(t *testing.T, q, invoice, wantCode, wantStatus string) *result {
		t.Helper()
		r := b.env.withT(t).ask(testAdminSecret, q, map[string]any{"in": map[string]any{"id": invoice}})
		if r.Code() != wantCode {
			t.Fatalf("want %q, got %s", wantCode, r.Raw)
		}
		if wantCode == "" {
			root := "markInvoicePaid"
			if q == qVoid {
				root = "voidInvoice"
			}
			if got := dataAt(t, r, root+".invoice.status"); got != wantStatus {
				t.Errorf("status = %v, want %s", got, wantStatus)
			}
		}
		return r
	}
	t.Run("MarkPaid", func(t *testing.T) {
		r := status(t, qMarkPaid, nov, "", "PAID")
		paidAt := dataAt(t, r, "markInvoicePaid.invoice.paidAt")
		if paidAt != "2026-12-12T12:00:00Z" {
			t.Errorf("paidAt = %v", paidAt)
		}
		b.clock.SetDay("2026-12-13")
		if r := status(t, qMarkPaid, nov, "", "PAID"); dataAt(t, r, "markInvoicePaid.invoice.paidAt") != paidAt {
			t.Errorf("marking a paid invoice again changed paidAt")
		}
		r = status(t, qVoid, nov, "CONFLICT", "")
		if !strings.Contains(r.Errors[0].Message, "invoice INV-2026-001 is PAID: a paid invoice cannot be voided") {
			t.Errorf("message = %q", r.Errors[0].Message)
		}
	})
	t.Run("Void", func(t *testing.T) {
		status(t, qVoid, dec, "", "VOID")
		status(t, qVoid, dec, "", "VOID")
		r := status(t, qMarkPaid, dec, "CONFLICT", "")
		if !strings.Contains(r.Errors[0].Message, "invoice INV-2026-002 is VOID: only an OPEN invoice can be marked paid") {
			t.Errorf("message = %q", r.Errors[0].Message)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		status(t, qMarkPaid, randomUUID(), "NOT_FOUND", "")
		status(t, qVoid, "not-a-uuid", "NOT_FOUND", "")
	})
}

// fetchPDF GETs an invoice's PDF with token ("" for none).
func (b *billEnv) fetchPDF(token, path string) (*http.Response, []byte) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// TestInvoicePDF: the pdfUrl serves a real PDF to a caller allowed to read
// the tenant's billing; every other caller gets 404 (401 without
// credentials), whether or not the invoice exists.
func TestInvoicePDF(t *testing.T) {
	t.Parallel()
	b := newBillEnv(t)
	own := b.tenantOn("PDF Co", "professional")
	other := b.tenantOn("Other Co", "starter")
	b.mustGQL(testAdminSecret, qUpdateBilling, map[string]any{"in": map[string]any{"tenantId": own, "billingEmail": "ap@pdf.example"}}, nil)
	b.runBilling("2026-11")
	inv := b.invoices(own)[0]
	otherInv := b.invoices(other)[0]
	var domain struct{ Tenant struct{ Domain string } }
	b.mustGQL(testAdminSecret, `query($id: ID!) { tenant(id: $id) { domain } }`, map[string]any{"id": own}, &domain)

	reader := b.createKey(own, "BILLING_READ")
	manager := b.createKey(other, "TENANT_MANAGE", "BILLING_READ")
	noBilling := b.createKey(own, "TENANT_READ", "BILLING_UPDATE")
	otherReader := b.createKey(other, "BILLING_READ", "TENANT_READ")

	for _, token := range []string{reader, manager, testAdminSecret} {
		resp, body := b.fetchPDF(token, inv.PdfURL)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("GET %s: %d %s: %.200s", inv.PdfURL, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		if cd := resp.Header.Get("Content-Disposition"); cd != `inline; filename="INV-2026-001.pdf"` {
			t.Errorf("Content-Disposition = %q", cd)
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("Cache-Control = %q", cc)
		}
		pages, text := pdftest.PageText(t, body)
		if pages != 1 {
			t.Errorf("%d pages", pages)
		}
		for _, want := range []string{"Tenant API", "PDF Co", domain.Tenant.Domain, "ap@pdf.example", "Number: INV-2026-001",
			"Date: 2026-11-10", "Due date: 2026-12-10", "Status: OPEN", "299.00 EUR", "Professional plan, monthly subscription"} {
			if !strings.Contains(text, want) {
				t.Errorf("the PDF lacks %q", want)
			}
		}
	}

	for _, c := range []struct {
		name, token, path string
		status            int
	}{
		{"Anonymous/ErrUnauthenticated", "", inv.PdfURL, http.StatusUnauthorized},
		{"BadToken/ErrUnauthenticated", "tnt_notakey", inv.PdfURL, http.StatusUnauthorized},
		{"OtherTenant/ErrNotFound", otherReader, inv.PdfURL, http.StatusNotFound},
		{"NoBillingRead/ErrNotFound", noBilling, inv.PdfURL, http.StatusNotFound},
		{"NoBillingReadOwnMissing/ErrNotFound", noBilling, "/invoices/" + randomUUID() + ".pdf", http.StatusNotFound},
		{"Missing/ErrNotFound", reader, "/invoices/" + randomUUID() + ".pdf", http.StatusNotFound},
		{"Malformed/ErrNotFound", reader, "/invoices/INV-2026-001.pdf", http.StatusNotFound},
		{"NoSuffix/ErrNotFound", reader, "/invoices/" + inv.ID, http.StatusNotFound},
		{"OtherTenantOwnInvoice/OK", otherReader, otherInv.PdfURL, http.StatusOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := (&billEnv{env: b.env.withT(t)}).fetchPDF(c.token, c.path)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %.200s", resp.StatusCode, c.status, body)
			}
			if c.status == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
			if c.status == http.StatusNotFound {
				var e struct {
					Errors []gqlError
				}
				if err := json.Unmarshal(body, &e); err != nil || len(e.Errors) != 1 || e.Errors[0].Extensions["code"] != "NOT_FOUND" || e.Errors[0].Message != "invoice not found" {
					t.Errorf("404 body = %s", body)
				}
			}
		})
	}
	// Another tenant's invoice and a missing one cannot be told apart.
	_, a := b.fetchPDF(otherReader, inv.PdfURL)
	_, m := b.fetchPDF(otherReader, "/invoices/"+randomUUID()+".pdf")
	if !bytes.Equal(a, m) {
		t.Errorf("another tenant's invoice answers %s, a missing one %s", a, m)
	}
}

// TestSeedDemoBilling: the demo tenant gets its subscription and three
// paid invoices, once.
func TestSeedDemoBilling(t *testing.T) {
	t.Parallel()
	b := newBillEnv(t)
	b.clock.Set(time.Date(2026, 11, 23, 13, 0, 0, 0, time.UTC))
	id, key, err := b.store.SeedDemo(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.store.SeedDemo(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	bl := b.billing(id)
	if bl.Plan.ID != "professional" || bl.Status != "ACTIVE" || bl.BillingPeriod != "MONTHLY" || bl.NextBillingDate != "2026-12-15" ||
		bl.PaymentMethod == nil || *bl.PaymentMethod.Brand != "VISA" || bl.PaymentMethod.Last4 != "4242" || bl.Amount.Formatted != "299.00 EUR" {
		t.Errorf("demo billing = %+v", bl)
	}
	var got []string
	for _, inv := range b.invoices(id) {
		got = append(got, inv.Number+" "+inv.Date+" "+inv.Status+" "+inv.Amount.Formatted)
	}
	want := []string{"INV-2026-003 2026-11-15 PAID 299.00 EUR", "INV-2026-002 2026-10-15 PAID 299.00 EUR", "INV-2026-001 2026-09-15 PAID 299.00 EUR"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("demo invoices = %v, want %v", got, want)
	}
	// The demo tenant's next run bills December.
	b.clock.SetDay("2026-12-15")
	if run := b.runBilling("2026-12"); run.Created != 1 {
		t.Errorf("December run = %+v", run)
	}
}

// TestBillingIsolation uses tenant A's key, holding every permission but
// TENANT_MANAGE, on tenant B: each read and change answers exactly like a
// missing id, and B is unchanged; the operator mutations are refused.
func TestBillingIsolation(t *testing.T) {
	t.Parallel()
	b := newBillEnv(t)
	a := b.tenantOn("Alpha", "professional")
	bt := b.tenantOn("Beta", "professional")
	b.runBilling("2026-11")
	bInvoice := b.invoices(bt)[0].ID
	aKey := b.createKey(a, enumNames(tenant.TenantPermissions())...)
	before := b.state(bt)
	for _, c := range []struct {
		name, query string
		vars        func(id string) map[string]any
	}{
		{"Tenant.billing", `query($id: ID!) { tenant(id: $id) { billing { version } } }`, idVar},
		{"Tenant.invoices", `query($id: ID!) { tenant(id: $id) { invoices { totalCount nodes { id } } } }`, idVar},
		{"changePlan", qChangePlan, inputWith(map[string]any{"plan": "enterprise"})},
		{"changePlan/validateOnly", qChangePlan, inputWith(map[string]any{"plan": "enterprise", "validateOnly": true})},
		{"changePlan/expectedVersion", qChangePlan, inputWith(map[string]any{"plan": "enterprise", "expectedVersion": 0})},
		{"cancelPlanChange", qCancelPlanChange, inputWith(map[string]any{})},
		{"updateBilling", qUpdateBilling, inputWith(map[string]any{"billingEmail": "hijack@alpha.example"})},
	} {
		t.Run(c.name+"/ErrNotFound", func(t *testing.T) {
			e := b.env.withT(t)
			got := e.ask(aKey, c.query, c.vars(bt))
			if got.Code() != "NOT_FOUND" || len(got.Errors) != 1 {
				t.Fatalf("B's id: want one NOT_FOUND, got %s", got.Raw)
			}
			sameResponse(t, got, e.ask(aKey, c.query, c.vars(randomUUID())))
		})
	}
	for _, q := range []struct{ name, query string }{{"markInvoicePaid", qMarkPaid}, {"voidInvoice", qVoid}} {
		t.Run(q.name+"/ErrForbidden", func(t *testing.T) {
			r := b.env.withT(t).ask(aKey, q.query, map[string]any{"in": map[string]any{"id": bInvoice}})
			if r.Code() != "FORBIDDEN" || !strings.Contains(r.Errors[0].Message, "TENANT_MANAGE") {
				t.Errorf("got %s", r.Raw)
			}
		})
	}
	t.Run("runBilling/ErrForbidden", func(t *testing.T) {
		r := b.env.withT(t).ask(aKey, qRunBilling, map[string]any{"in": map[string]any{"period": "2026-11"}})
		if r.Code() != "FORBIDDEN" {
			t.Errorf("got %s", r.Raw)
		}
	})
	if after := b.state(bt); after != before {
		t.Errorf("tenant B changed:\nbefore %s\nafter  %s", before, after)
	}
	// A's own billing is reachable with the same key.
	if r := b.ask(aKey, qChangePlan, map[string]any{"in": map[string]any{"plan": "enterprise", "tenantId": a}}); len(r.Errors) > 0 {
		t.Errorf("own tenant: %s", r.Raw)
	}
}

// TestBillingStatementsConstant: a list selecting billing and a page of
// invoices with their totals runs as many statements for 30 tenants as for
// 2: one per association.
func TestBillingStatementsConstant(t *testing.T) {
	t.Parallel()
	// A cursor before every invoice of 10 December 2026: the page after it
	// starts with November's.
	olderThanDec10 := base64.RawURLEncoding.EncodeToString([]byte("2026-12-10:00000000-0000-4000-8000-000000000000"))
	count := func(n int) int64 {
		b := newBillEnv(t)
		for i := range n {
			b.tenantOn(fmt.Sprintf("Tenant %d", i), "professional")
		}
		b.clock.SetDay("2027-02-12") // 4 invoices each
		b.runBilling("2027-02")
		q := `{ tenants(first: 100) { nodes { id
			billing { status plan { id } nextBillingDate amount { amountCents } paymentMethod { last4 } scheduledPlanChange { plan { id } } version }
			invoices(first: 3) { totalCount nodes { number amount { formatted } } edges { cursor } pageInfo { hasNextPage } }
			recent: invoices(first: 3) { nodes { number } }
			older: invoices(first: 1, after: "` + olderThanDec10 + `") { nodes { number } }
		} } }`
		var out struct {
			Tenants struct {
				Nodes []struct {
					Invoices struct {
						TotalCount int
						Nodes      []struct{ Number string }
					}
					Older struct{ Nodes []struct{ Number string } }
				}
			}
		}
		before := b.store.Statements.Load()
		b.mustGQL(testAdminSecret, q, nil, &out)
		got := b.store.Statements.Load() - before
		for _, tn := range out.Tenants.Nodes {
			if tn.Invoices.TotalCount != 4 || len(tn.Invoices.Nodes) != 3 || tn.Invoices.Nodes[0].Number != "INV-2027-002" ||
				len(tn.Older.Nodes) != 1 || tn.Older.Nodes[0].Number != "INV-2026-001" {
				t.Fatalf("tenant's invoices = %+v", tn)
			}
		}
		return got
	}
	small, large := count(2), count(30)
	t.Logf("statements: %d for 2 tenants, %d for 30", small, large)
	// page + billing + invoice pages (first 3; first 1 after) + totals
	if small != large || large > 5 {
		t.Errorf("statements: %d for 2 tenants, %d for 30; want equal and at most 5", small, large)
	}
}

// billingPermissionCases are the permission rows of billing, run by
// TestPermissions.
func billingPermissionCases() []permCase {
	upgrade := func(f *fixture) map[string]any { return f.input(map[string]any{"plan": "enterprise"}) }
	email := func(f *fixture) map[string]any {
		return f.input(map[string]any{"billingEmail": "billing@perm.example"})
	}
	cancelStatus := func(f *fixture) map[string]any { return f.input(map[string]any{"status": "CANCELLED"}) }
	cancel := func(f *fixture) map[string]any { return f.input(map[string]any{}) }
	period := func(*fixture) map[string]any {
		return map[string]any{"in": map[string]any{"period": time.Now().UTC().Format("2006-01")}}
	}
	invoice := func(f *fixture) map[string]any {
		return map[string]any{"in": map[string]any{"id": permInvoices.get(f.target)}}
	}
	billTarget := func(e *env, f *fixture) {
		run, err := e.store.RunBilling(adminCtx(), time.Now().UTC().Format("2006-01"))
		if err != nil {
			e.t.Fatal(err)
		}
		_ = run
		var out struct {
			Tenant struct {
				Invoices struct{ Nodes []struct{ ID string } }
			}
		}
		e.mustGQL(testAdminSecret, `query($id: ID!) { tenant(id: $id) { invoices(first: 1) { nodes { id } } } }`, map[string]any{"id": f.target}, &out)
		if len(out.Tenant.Invoices.Nodes) != 1 {
			e.t.Fatalf("the target has no invoice")
		}
		permInvoices.put(f.target, out.Tenant.Invoices.Nodes[0].ID)
	}
	changed := func(root string) checkFunc {
		return wantAll(wantAt(root+".tenant.id", targetTenant))
	}
	cases := []permCase{
		// changePlan: BILLING_UPDATE, another tenant with TENANT_MANAGE.
		{op: "changePlan", cred: credAnonymous, query: qChangePlan, vars: upgrade, want: "UNAUTHENTICATED", check: targetUnchanged},
		{op: "changePlan", cred: keyWith("USAGE_WRITE"), query: qChangePlan, vars: upgrade, want: "FORBIDDEN", message: "BILLING_UPDATE", check: targetUnchanged},
		{op: "changePlan", cred: keyWith("TENANT_MANAGE", "BILLING_READ"), query: qChangePlan, vars: upgrade, want: "FORBIDDEN", message: "BILLING_UPDATE", check: targetUnchanged},
		{op: "changePlan", cred: keyWith("BILLING_UPDATE", "BILLING_READ", "TENANT_READ"), query: qChangePlan, vars: upgrade,
			check: wantAll(changed("changePlan"), wantAt("changePlan.tenant.plan.id", value("enterprise")), wantAt("changePlan.scheduled", value(false)))},
		{op: "changePlan", cred: keyWith("BILLING_UPDATE", "TENANT_READ"), variant: "payloadBillingNeedsRead", query: qChangePlan, vars: upgrade,
			want: "FORBIDDEN", path: "changePlan.billing", message: "BILLING_READ"},
		{op: "changePlan", cred: keyWith("TENANT_MANAGE", "BILLING_UPDATE", "BILLING_READ", "TENANT_READ"), query: qChangePlan, vars: upgrade,
			check: wantAll(changed("changePlan"), wantAt("changePlan.plan.id", value("enterprise")))},
		{op: "changePlan", cred: credAdmin, query: qChangePlan, vars: upgrade, check: wantAll(changed("changePlan"), wantAt("changePlan.plan.id", value("enterprise")))},
		{op: "changePlan", cred: credAdmin, variant: "noTenantId", query: qChangePlan, want: "BAD_USER_INPUT", field: "tenantId",
			vars: func(*fixture) map[string]any { return map[string]any{"in": map[string]any{"plan": "enterprise"}} }},

		// cancelPlanChange: the same rule.
		{op: "cancelPlanChange", cred: credAnonymous, query: qCancelPlanChange, vars: cancel, want: "UNAUTHENTICATED"},
		{op: "cancelPlanChange", cred: keyWith("USAGE_WRITE"), query: qCancelPlanChange, vars: cancel, want: "FORBIDDEN", message: "BILLING_UPDATE"},
		{op: "cancelPlanChange", cred: keyWith("TENANT_MANAGE", "BILLING_READ"), query: qCancelPlanChange, vars: cancel, want: "FORBIDDEN", message: "BILLING_UPDATE"},
		{op: "cancelPlanChange", cred: keyWith("BILLING_UPDATE", "BILLING_READ"), query: qCancelPlanChange, vars: cancel,
			check: wantAll(changed("cancelPlanChange"), wantAt("cancelPlanChange.cancelledChange", value(nil)))},
		{op: "cancelPlanChange", cred: keyWith("TENANT_MANAGE", "BILLING_UPDATE", "BILLING_READ"), query: qCancelPlanChange, vars: cancel, check: changed("cancelPlanChange")},
		{op: "cancelPlanChange", cred: credAdmin, query: qCancelPlanChange, vars: cancel, check: changed("cancelPlanChange")},

		// updateBilling: BILLING_UPDATE; status also needs TENANT_MANAGE.
		{op: "updateBilling", cred: credAnonymous, query: qUpdateBilling, vars: email, want: "UNAUTHENTICATED"},
		{op: "updateBilling", cred: keyWith("USAGE_WRITE"), query: qUpdateBilling, vars: email, want: "FORBIDDEN", message: "BILLING_UPDATE"},
		{op: "updateBilling", cred: keyWith("TENANT_MANAGE", "BILLING_READ"), query: qUpdateBilling, vars: email, want: "FORBIDDEN", message: "BILLING_UPDATE"},
		{op: "updateBilling", cred: keyWith("BILLING_UPDATE", "BILLING_READ"), query: qUpdateBilling, vars: email,
			check: wantAll(changed("updateBilling"), wantAt("updateBilling.billing.billingEmail", value("billing@perm.example")))},
		{op: "updateBilling", cred: keyWith("BILLING_UPDATE", "BILLING_READ"), variant: "status", query: qUpdateBilling, vars: cancelStatus,
			want: "FORBIDDEN", field: "status", message: "TENANT_MANAGE"},
		{op: "updateBilling", cred: keyWith("TENANT_MANAGE", "BILLING_UPDATE", "BILLING_READ"), query: qUpdateBilling, vars: email,
			check: wantAll(changed("updateBilling"), wantAt("updateBilling.billing.billingEmail", value("billing@perm.example")))},
		{op: "updateBilling", cred: keyWith("TENANT_MANAGE", "BILLING_UPDATE", "BILLING_READ"), variant: "status", query: qUpdateBilling, vars: cancelStatus,
			check: wantAt("updateBilling.billing.status", value("CANCELLED"))},
		{op: "updateBilling", cred: credAdmin, variant: "status", query: qUpdateBilling, vars: cancelStatus, check: wantAt("updateBilling.billing.status", value("CANCELLED"))},

		// runBilling, markInvoicePaid, voidInvoice: TENANT_MANAGE.
		{op: "runBilling", cred: credAnonymous, query: qRunBilling, vars: period, want: "UNAUTHENTICATED"},
		{op: "runBilling", cred: keyWith("BILLING_UPDATE", "BILLING_READ"), query: qRunBilling, vars: period, want: "FORBIDDEN", message: "TENANT_MANAGE"},
		{op: "runBilling", cred: keyWith("TENANT_MANAGE"), query: qRunBilling, vars: period, check: wantNotNull("runBilling.created")},
		{op: "runBilling", cred: credAdmin, query: qRunBilling, vars: period, check: wantNotNull("runBilling.created")},
		{op: "markInvoicePaid", cred: credAnonymous, query: qMarkPaid, vars: invoice, prepare: billTarget, want: "UNAUTHENTICATED"},
		{op: "markInvoicePaid", cred: keyWith("BILLING_UPDATE", "BILLING_READ"), query: qMarkPaid, vars: invoice, prepare: billTarget, want: "FORBIDDEN", message: "TENANT_MANAGE"},
		{op: "markInvoicePaid", cred: keyWith("TENANT_MANAGE"), query: qMarkPaid, vars: invoice, prepare: billTarget, check: wantAt("markInvoicePaid.invoice.status", value("PAID"))},
		{op: "markInvoicePaid", cred: credAdmin, query: qMarkPaid, vars: invoice, prepare: billTarget, check: wantAt("markInvoicePaid.invoice.status", value("PAID"))},
		{op: "voidInvoice", cred: credAnonymous, query: qVoid, vars: invoice, prepare: billTarget, want: "UNAUTHENTICATED"},
		{op: "voidInvoice", cred: keyWith("BILLING_UPDATE", "BILLING_READ"), query: qVoid, vars: invoice, prepare: billTarget, want: "FORBIDDEN", message: "TENANT_MANAGE"},
		{op: "voidInvoice", cred: keyWith("TENANT_MANAGE"), query: qVoid, vars: invoice, prepare: billTarget, check: wantAt("voidInvoice.invoice.status", value("VOID"))},
		{op: "voidInvoice", cred: credAdmin, query: qVoid, vars: invoice, prepare: billTarget, check: wantAt("voidInvoice.invoice.status", value("VOID"))},
	}
	cases = append(cases, tenantFieldCases("billing", "billing { version plan { id } }", "BILLING_READ")...)
	cases = append(cases, tenantFieldCases("invoices", "invoices { totalCount }", "BILLING_READ")...)
	return cases
}

// billingTenantFields are the Tenant fields of this file, for the
// coverage check of the permission table.
var billingTenantFields = []string{"billing", "invoices"}

// permInvoices remembers, per target tenant, the invoice a permission
// case acts on (prepare finds it, vars sends it).
var permInvoices = &invoiceIDs{m: map[string]string{}}

type invoiceIDs struct {
	mu sync.Mutex
	m  map[string]string
}

func (s *invoiceIDs) put(tenantID, id string) { s.mu.Lock(); s.m[tenantID] = id; s.mu.Unlock() }
func (s *invoiceIDs) get(tenantID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[tenantID]
}

// TestInvoiceSnapshotReadWhenSelected: a page of invoices reads their
// snapshots (what an invoice prints) only when its selection prints some of
// them, and every way of selecting one gets it: nodes, edges.node,
// fragments on Invoice and on Node, an alias beside a page that does not
// print it, the admin's list of tenants, and node(id:).
func TestInvoiceSnapshotReadWhenSelected(t *testing.T) {
	t.Parallel()
	b := newBillEnv(t)
	id := b.tenantOn("Printed Co", "professional")
	key, _ := b.billingKey(id)
	b.clock.SetDay("2027-01-15")
	if run := b.runBilling("2027-01"); run.Created != 3 {
		t.Fatalf("run = %+v, want 3 invoices", run)
	}
	const printed = `id number lines { description quantity unitAmount { amountCents } amount { amountCents } }
		subtotal { amountCents } tax { amountCents } taxRateBasisPoints paymentTerms
		seller { name address email } billTo { name address country }`
	one := func(q string, vars map[string]any, path ...string) []json.RawMessage {
		t.Helper()
		r := b.env.ask(key, q, vars)
		if len(r.Errors) > 0 {
			t.Fatalf("%s: %s", q, r.Raw)
		}
		var v any
		if err := json.Unmarshal(r.Raw, &v); err != nil {
			t.Fatal(err)
		}
		v = v.(map[string]any)["data"]
		for _, p := range path {
			v = v.(map[string]any)[p]
		}
		var out []json.RawMessage
		for _, n := range v.([]any) {
			if m, ok := n.(map[string]any); ok && m["node"] != nil {
				n = m["node"]
			}
			raw, _ := json.Marshal(n)
			out = append(out, raw)
		}
		return out
	}
	want := one(`{ me { invoices(first: 3) { nodes { `+printed+` } } } }`, nil, "me", "invoices", "nodes")
	if len(want) != 3 || !bytes.Contains(want[0], []byte(`"description":"Professional plan`)) || !bytes.Contains(want[0], []byte(`"name":"Tenant API Test SAS"`)) {
		t.Fatalf("full page: %s", want)
	}
	same := func(name string, got []json.RawMessage) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: %d invoices, want %d", name, len(got), len(want))
			return
		}
		for i := range got {
			var v any // the same key order as want's
			_ = json.Unmarshal(got[i], &v)
			got[i], _ = json.Marshal(v)
			if !bytes.Equal(got[i], want[i]) {
				t.Errorf("%s: invoice %d\n got %s\nwant %s", name, i, got[i], want[i])
			}
		}
	}
	same("edges.node", one(`{ me { invoices(first: 3) { edges { node { `+printed+` } } } } }`, nil, "me", "invoices", "edges"))
	same("fragment on Invoice", one(`{ me { invoices(first: 3) { nodes { ... on Invoice { `+printed+` } } } } }`, nil, "me", "invoices", "nodes"))
	same("fragment on Node", one(`query { me { invoices(first: 3) { nodes { ...N } } } } fragment N on Node { ... on Invoice { `+printed+` } }`, nil, "me", "invoices", "nodes"))
	same("alias beside a page without it", one(`{ me { a: invoices(first: 3) { nodes { number amount { amountCents } } } b: invoices(first: 3) { nodes { `+printed+` } } } }`, nil, "me", "b", "nodes"))
	same("a page without it, then one with it", one(`{ me { a: invoices(first: 3) { nodes { number } } invoices(first: 3) { edges { node { `+printed+` } } } } }`, nil, "me", "invoices", "edges"))
	var nodes []json.RawMessage
	for _, raw := range want {
		var inv struct{ ID string }
		_ = json.Unmarshal(raw, &inv)
		nodes = append(nodes, one(`query($id: ID!) { nodes(ids: [$id]) { ... on Invoice { `+printed+` } } }`, map[string]any{"id": inv.ID}, "nodes")...)
	}
	same("node(id:)", nodes)

	// The admin's list of tenants, with and without them.
	r := b.env.ask(testAdminSecret, `{ tenants(first: 100) { nodes { id lite: invoices(first: 3) { nodes { number } } invoices(first: 3) { nodes { `+printed+` } } } } }`, nil)
	var list struct {
		Data struct {
			Tenants struct {
				Nodes []struct {
					ID       string
					Invoices struct{ Nodes []json.RawMessage }
					Lite     struct{ Nodes []struct{ Number string } }
				}
			}
		}
	}
	if err := json.Unmarshal(r.Raw, &list); err != nil || len(r.Errors) > 0 {
		t.Fatalf("%v: %s", err, r.Raw)
	}
	found := false
	for _, n := range list.Data.Tenants.Nodes {
		if n.ID == id {
			found = true
			same("tenants list", n.Invoices.Nodes)
			if len(n.Lite.Nodes) != 3 || n.Lite.Nodes[0].Number == "" {
				t.Errorf("lite page: %+v", n.Lite.Nodes)
			}
		}
	}
	if !found {
		t.Fatalf("tenant not in the list: %s", r.Raw)
	}
}
