package tenant

import (
	"fmt"
	"io"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// BillingStatus is the state of a tenant's subscription (the screening
// reference's subscription.status).
type BillingStatus string

// Subscription states. The billing run invoices ACTIVE and PAST_DUE
// subscriptions (a customer who has not paid yet still owes each period);
// CANCELLED and NONE are not invoiced.
const (
	BillingActive    BillingStatus = "ACTIVE"
	BillingPastDue   BillingStatus = "PAST_DUE"
	BillingCancelled BillingStatus = "CANCELLED"
	BillingNone      BillingStatus = "NONE"
)

// Billable reports whether the billing run invoices a subscription in s.
func (s BillingStatus) Billable() bool { return s == BillingActive || s == BillingPastDue }

// BillingPeriod is how often a subscription is invoiced.
type BillingPeriod string

// Billing periods.
const (
	Monthly BillingPeriod = "MONTHLY"
	Annual  BillingPeriod = "ANNUAL"
)

// AnnualPriceMonths is what a year costs, in months of the monthly price:
// an annual subscription is 10 × the monthly price (two months free).
const AnnualPriceMonths = 10

// PaymentMethodType is the kind of a payment method.
type PaymentMethodType string

// Payment method types.
const (
	CreditCard PaymentMethodType = "CREDIT_CARD"
	SEPADebit  PaymentMethodType = "SEPA_DEBIT"
)

// CardBrand is a card network.
type CardBrand string

// CardBrands are the card networks accepted, in the schema's order.
var CardBrands = []CardBrand{"VISA", "MASTERCARD", "AMEX", "DISCOVER", "JCB", "DINERS", "UNIONPAY", "CARTES_BANCAIRES"}

// InvoiceStatus is the state of an invoice.
type InvoiceStatus string

// Invoice states: the billing run creates OPEN invoices; an operator marks
// them PAID or VOID. DRAFT is an invoice not issued yet.
const (
	InvoiceDraft InvoiceStatus = "DRAFT"
	InvoiceOpen  InvoiceStatus = "OPEN"
	InvoicePaid  InvoiceStatus = "PAID"
	InvoiceVoid  InvoiceStatus = "VOID"
)

// InvoiceDueDays is how long after its date an invoice is due.
const InvoiceDueDays = 30

// Money is an exact amount: minor units (cents) of an ISO 4217 currency.
// Every currency of the catalog has two decimals.
type Money struct {
	AmountCents int64
	Currency    string
}

// Formatted is the amount for people: `2,999.00 EUR`.
func (m Money) Formatted() string {
	neg := m.AmountCents < 0
	c := m.AmountCents
	if neg {
		c = -c
	}
	s := groupThousands(c/100) + fmt.Sprintf(".%02d", c%100) + " " + m.Currency
	if neg {
		return "-" + s
	}
	return s
}

// groupThousands writes n with a comma every three digits: 1,000,000.
func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// PlanPrice is what plan costs for one billing period.
func PlanPrice(p *Plan, period BillingPeriod) Money {
	m := Money{AmountCents: p.MonthlyPriceCents, Currency: p.Currency}
	if period == Annual {
		m.AmountCents *= AnnualPriceMonths
	}
	return m
}

// PaymentMethod describes how a tenant pays, never with the card or
// account number: its type, card brand and last four digits only.
type PaymentMethod struct {
	Type  PaymentMethodType
	Brand *CardBrand // cards only
	Last4 string
}

// ScheduledPlanChange is a plan change waiting for its effective date.
type ScheduledPlanChange struct {
	Plan          *Plan
	EffectiveDate Date
	RequestedAt   time.Time
	RequestedBy   string
	BillingPeriod BillingPeriod // of the subscription, for Amount
}

// Amount is what a billing period costs on the new plan.
func (c *ScheduledPlanChange) Amount() Money { return PlanPrice(c.Plan, c.BillingPeriod) }

// Billing is a tenant's subscription. A tenant that never changed it reads
// as the defaults: ACTIVE, MONTHLY, next billing date its creation day,
// billing email its owner's, version 0.
type Billing struct {
	TenantID        string
	Plan            *Plan
	Status          BillingStatus
	BillingPeriod   BillingPeriod
	NextBillingDate Date // start of the next period not invoiced yet
	AnchorDay       int  // day of the month periods start on (clamped to the month's end)
	PaymentMethod   *PaymentMethod
	BillingEmail    *string
	// ScheduledPlanChange is nil when no change waits.
	ScheduledPlanChange *ScheduledPlanChange
	Version             int
	UpdatedAt           time.Time
	UpdatedBy           string
}

// Amount is what one billing period costs on the current plan.
func (b *Billing) Amount() Money { return PlanPrice(b.Plan, b.BillingPeriod) }

// PeriodAfter is the start of the period that follows one starting on d.
func (b *Billing) PeriodAfter(d Date) Date {
	months := 1
	if b.BillingPeriod == Annual {
		months = 12
	}
	return AddMonthsOnDay(d, months, b.AnchorDay)
}

// PlanOn is the plan in effect on day d: the scheduled plan from its
// effective date, the current plan before.
func (b *Billing) PlanOn(d Date) *Plan {
	if c := b.ScheduledPlanChange; c != nil && !d.Before(c.EffectiveDate) {
		return c.Plan
	}
	return b.Plan
}

// AddMonthsOnDay returns the day `day` of the month n months after d's,
// clamped to that month's end: a subscription anchored on the 31st is
// invoiced on 28 (or 29) February, then on 31 March again.
func AddMonthsOnDay(d Date, n, day int) Date {
	first := NewDate(d.Year(), d.Month()+time.Month(n), 1)
	last := NewDate(first.Year(), first.Month()+1, 0).Day() // day 0 of the next month
	return NewDate(first.Year(), first.Month(), min(day, last))
}

// NewInvoice is the OPEN invoice of the billing period of b starting on
// date, on the plan in effect that day. Number, ID and sequence are the
// store's.
func NewInvoice(b *Billing, date Date, now time.Time, by string) *Invoice {
	p := b.PlanOn(date)
	end := b.PeriodAfter(date).AddDays(-1)
	price := PlanPrice(p, b.BillingPeriod)
	what := "monthly"
	if b.BillingPeriod == Annual {
		what = "annual"
	}
	return &Invoice{
		TenantID: b.TenantID, Status: InvoiceOpen, Date: date, DueDate: date.AddDays(InvoiceDueDays),
		PeriodStart: date, PeriodEnd: end, PlanID: p.ID, BillingPeriod: b.BillingPeriod,
		AmountCents: price.AmountCents, Currency: price.Currency,
		Description: fmt.Sprintf("%s plan, %s subscription, %s to %s", p.Name, what, date, end),
		CreatedAt:   now, CreatedBy: by,
	}
}

// PlanChangeInput is a request to change a tenant's plan.
type PlanChangeInput struct {
	PlanID string
	// EffectiveDate, when set, is the day the change takes effect (today
	// or later, UTC). Unset: an upgrade at once, a downgrade at the end of
	// the current period.
	EffectiveDate   *Date
	ExpectedVersion *int
	ValidateOnly    bool
}

// Normalize trims the plan id and refuses a date before today (UTC).
func (in *PlanChangeInput) Normalize(today Date) error {
	in.PlanID = strings.TrimSpace(in.PlanID)
	if in.EffectiveDate != nil && in.EffectiveDate.Before(today) {
		return Invalid("effectiveDate", "effectiveDate must be today (%s, UTC) or later, got %s", today, *in.EffectiveDate)
	}
	return nil
}

// PlanChange is the outcome of a plan change: the reference's response
// (plan, status, effective date, amount) and the subscription after it.
type PlanChange struct {
	Plan          *Plan
	EffectiveDate Date
	Scheduled     bool // false when it took effect at once
	Billing       *Billing
}

// CheckDowngrade refuses a plan whose limits are below what the tenant
// uses this month, naming each limit and the usage.
func CheckDowngrade(p *Plan, u *Usage) error {
	var why []string
	if p.Users != nil && u.ActiveUsers > *p.Users {
		why = append(why, fmt.Sprintf("%s allows %s users; the tenant has %s active users this month", p.ID, groupThousands(int64(*p.Users)), groupThousands(int64(u.ActiveUsers))))
	}
	if p.Policies != nil && u.Policies > *p.Policies {
		why = append(why, fmt.Sprintf("%s allows %s policies; the tenant has %s policies", p.ID, groupThousands(int64(*p.Policies)), groupThousands(int64(u.Policies))))
	}
	if p.InteractionsPerMonth != nil && u.InteractionsThisMonth > *p.InteractionsPerMonth {
		why = append(why, fmt.Sprintf("%s allows %s interactions a month; the tenant has %s interactions this month", p.ID,
			groupThousands(int64(*p.InteractionsPerMonth)), groupThousands(int64(u.InteractionsThisMonth))))
	}
	if len(why) == 0 {
		return nil
	}
	return Invalid("plan", "cannot move to the %s plan, its limits are below this month's usage: %s", p.ID, strings.Join(why, "; "))
}

// BillingPatch changes a tenant's billing configuration; nil fields are
// left alone.
type BillingPatch struct {
	Status          *BillingStatus // needs tenant:manage
	BillingPeriod   *BillingPeriod
	PaymentMethod   *PaymentMethod
	BillingEmail    *string
	ExpectedVersion *int
	ValidateOnly    bool
}

// Empty reports whether the patch changes nothing.
func (p *BillingPatch) Empty() bool {
	return p.Status == nil && p.BillingPeriod == nil && p.PaymentMethod == nil && p.BillingEmail == nil
}

var last4RE = regexp.MustCompile(`^[0-9]{4}$`)

// Normalize validates the patch in place.
func (p *BillingPatch) Normalize() error {
	if pm := p.PaymentMethod; pm != nil {
		pm.Last4 = strings.TrimSpace(pm.Last4)
		if !last4RE.MatchString(pm.Last4) {
			// Never echo the value: it may be a whole card number.
			return Invalid("paymentMethod.last4", "paymentMethod.last4 must be exactly the last 4 digits of the card or account (such as 4242), got %d characters; never send a full card number", len([]rune(pm.Last4)))
		}
		switch pm.Type {
		case CreditCard:
			if pm.Brand == nil {
				return Invalid("paymentMethod.brand", "paymentMethod.brand is required for a CREDIT_CARD: one of %s", brandList())
			}
		case SEPADebit:
			if pm.Brand != nil {
				return Invalid("paymentMethod.brand", "paymentMethod.brand applies to cards only; leave it out for SEPA_DEBIT")
			}
		}
	}
	if p.BillingEmail != nil {
		a, err := mail.ParseAddress(strings.TrimSpace(*p.BillingEmail))
		if err != nil || a.Name != "" || len(a.Address) > 254 || !strings.Contains(a.Address[strings.LastIndexByte(a.Address, '@')+1:], ".") {
			return Invalid("billingEmail", "billingEmail must be a plain email address such as billing@acme.fr, got %q", *p.BillingEmail)
		}
		p.BillingEmail = &a.Address
	}
	return nil
}

func brandList() string {
	s := make([]string, len(CardBrands))
	for i, b := range CardBrands {
		s[i] = string(b)
	}
	return strings.Join(s, ", ")
}

// Invoice is a bill for one billing period of a tenant's subscription.
type Invoice struct {
	ID            string        `db:"id"`
	TenantID      string        `db:"tenant_id"`
	Number        string        `db:"number"`
	Status        InvoiceStatus `db:"status"`
	Date          Date          `db:"date"`
	DueDate       Date          `db:"due_date"`
	PeriodStart   Date          `db:"period_start"`
	PeriodEnd     Date          `db:"period_end"`
	PlanID        string        `db:"plan_id"`
	BillingPeriod BillingPeriod `db:"billing_period"`
	AmountCents   int64         `db:"amount_cents"`
	Currency      string        `db:"currency"`
	Description   string        `db:"description"`
	CreatedAt     time.Time     `db:"created_at"`
	CreatedBy     string        `db:"created_by"`
	PaidAt        *time.Time    `db:"paid_at"`
	VoidedAt      *time.Time    `db:"voided_at"`
}

// Amount is the invoice's total.
func (i *Invoice) Amount() Money { return Money{AmountCents: i.AmountCents, Currency: i.Currency} }

// PDFURL is where the invoice's PDF is served, relative to the API's base
// URL (the server does not trust the Host header to build absolute URLs).
func (i *Invoice) PDFURL() string { return "/invoices/" + i.ID + ".pdf" }

// Period is the calendar month (YYYY-MM) of the invoice date: a tenant has
// at most one invoice per month.
func (i *Invoice) Period() string { return i.Date.Time().Format("2006-01") }

// InvoiceNumber formats a tenant's seq-th invoice of year: INV-2026-003.
func InvoiceNumber(year, seq int) string { return fmt.Sprintf("INV-%d-%03d", year, seq) }

// InvoicePage is one page of a tenant's invoices, newest first.
type InvoicePage struct {
	TenantID    string
	Invoices    []*Invoice
	HasNextPage bool
}

// BillingRun is the outcome of a billing run for a period.
type BillingRun struct {
	Period  string // YYYY-MM
	Created int    // invoices created
	Skipped int    // billable tenants that got no new invoice (already invoiced, or not due)
	// PlanChangesApplied counts the scheduled plan changes the run applied
	// before invoicing.
	PlanChangesApplied int
}

var periodRE = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)

// ParsePeriod parses a billing period `YYYY-MM` into its first day.
func ParsePeriod(field, s string) (Date, error) {
	if !periodRE.MatchString(s) {
		return Date{}, Invalid(field, "%s must be a month written YYYY-MM, such as 2026-11, got %q", field, s)
	}
	y, _ := strconv.Atoi(s[:4])
	m, _ := strconv.Atoi(s[5:])
	return NewDate(y, time.Month(m), 1), nil
}

// GraphQL enums.

func unmarshalEnum[T ~string](v any, field string, allowed ...T) (T, error) {
	s, _ := v.(string)
	for _, a := range allowed {
		if string(a) == s {
			return a, nil
		}
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return "", Invalid(field, "%s must be one of %s, got %q", field, strings.Join(names, ", "), s)
}

func marshalEnum[T ~string](w io.Writer, v T) { _, _ = io.WriteString(w, strconv.Quote(string(v))) }

// UnmarshalGQL decodes the GraphQL enum BillingStatus.
func (s *BillingStatus) UnmarshalGQL(v any) (err error) {
	*s, err = unmarshalEnum(v, "status", BillingActive, BillingPastDue, BillingCancelled, BillingNone)
	return err
}

// MarshalGQL encodes the GraphQL enum BillingStatus.
func (s BillingStatus) MarshalGQL(w io.Writer) { marshalEnum(w, s) }

// UnmarshalGQL decodes the GraphQL enum BillingPeriod.
func (p *BillingPeriod) UnmarshalGQL(v any) (err error) {
	*p, err = unmarshalEnum(v, "billingPeriod", Monthly, Annual)
	return err
}

// MarshalGQL encodes the GraphQL enum BillingPeriod.
func (p BillingPeriod) MarshalGQL(w io.Writer) { marshalEnum(w, p) }

// UnmarshalGQL decodes the GraphQL enum PaymentMethodType.
func (t *PaymentMethodType) UnmarshalGQL(v any) (err error) {
	*t, err = unmarshalEnum(v, "paymentMethod.type", CreditCard, SEPADebit)
	return err
}

// MarshalGQL encodes the GraphQL enum PaymentMethodType.
func (t PaymentMethodType) MarshalGQL(w io.Writer) { marshalEnum(w, t) }

// UnmarshalGQL decodes the GraphQL enum CardBrand.
func (b *CardBrand) UnmarshalGQL(v any) (err error) {
	*b, err = unmarshalEnum(v, "paymentMethod.brand", CardBrands...)
	return err
}

// MarshalGQL encodes the GraphQL enum CardBrand.
func (b CardBrand) MarshalGQL(w io.Writer) { marshalEnum(w, b) }

// UnmarshalGQL decodes the GraphQL enum InvoiceStatus.
func (s *InvoiceStatus) UnmarshalGQL(v any) (err error) {
	*s, err = unmarshalEnum(v, "status", InvoiceDraft, InvoiceOpen, InvoicePaid, InvoiceVoid)
	return err
}

// MarshalGQL encodes the GraphQL enum InvoiceStatus.
func (s InvoiceStatus) MarshalGQL(w io.Writer) { marshalEnum(w, s) }
