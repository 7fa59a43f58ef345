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
	// Who invoices are made out to: BillingName (the tenant's name when
	// unset) and BillingAddress, the tax profile and the payment terms.
	BillingName    *string
	BillingAddress []string
	Tax            TaxProfile
	PaymentTerms   PaymentTerms
	// TenantName and TenantDomain are the tenant's, printed on invoices.
	TenantName, TenantDomain string
	Version                  int
	UpdatedAt                time.Time
	UpdatedBy                string
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

// BillTo is the customer as an invoice issued now prints it.
func (b *Billing) BillTo() InvoiceParty {
	p := InvoiceParty{Name: b.TenantName, Address: b.BillingAddress, Country: b.Tax.Country, TaxID: b.Tax.TaxID, Domain: b.TenantDomain}
	if b.BillingName != nil {
		p.Name = *b.BillingName
	}
	if p.Address == nil {
		p.Address = []string{}
	}
	if b.BillingEmail != nil {
		p.Email = *b.BillingEmail
	}
	return p
}

// Snapshot freezes what an invoice of b issued now prints: seller,
// customer, lines, tax at the tenant's rate and payment terms.
func (b *Billing) Snapshot(seller Seller, lines []InvoiceLine) InvoiceSnapshot {
	if seller.Address == nil {
		seller.Address = []string{}
	}
	s := InvoiceSnapshot{Seller: seller, BillTo: b.BillTo(), Lines: lines, TaxRateBP: b.Tax.RateBP,
		Currency: b.Plan.Currency, PaymentTerms: b.Terms()}
	if len(lines) > 0 {
		s.Currency = lines[0].Currency
	}
	s.Sum()
	return s
}

// Terms are the subscription's payment terms (MONTH by default).
func (b *Billing) Terms() PaymentTerms {
	if b.PaymentTerms == "" {
		return TermsMonth
	}
	return b.PaymentTerms
}

// PeriodLine is the invoice line of one billing period of plan p starting
// on date.
func (b *Billing) PeriodLine(p *Plan, date Date) InvoiceLine {
	end := b.PeriodAfter(date).AddDays(-1)
	price := PlanPrice(p, b.BillingPeriod)
	what := "monthly"
	if b.BillingPeriod == Annual {
		what = "annual"
	}
	return InvoiceLine{Description: fmt.Sprintf("%s plan, %s subscription, %s to %s", p.Name, what, date, end),
		PeriodStart: date, PeriodEnd: end, Quantity: 1, UnitAmountCents: price.AmountCents, AmountCents: price.AmountCents,
		Currency: price.Currency}
}

// NewInvoice is the OPEN invoice of the billing period of b starting on
// date, on the plan in effect that day, issued by seller. Number, ID and
// sequence are the store's.
func NewInvoice(b *Billing, seller Seller, date Date, now time.Time, by string) *Invoice {
	p := b.PlanOn(date)
	line := b.PeriodLine(p, date)
	return issue(b, seller, InvoiceSubscription, date, line.PeriodStart, line.PeriodEnd, p.ID, line.Description, []InvoiceLine{line}, now, by)
}

// issue builds an OPEN invoice of lines dated date.
func issue(b *Billing, seller Seller, kind InvoiceKind, date, start, end Date, planID, description string, lines []InvoiceLine, now time.Time, by string) *Invoice {
	snap := b.Snapshot(seller, lines)
	return &Invoice{
		TenantID: b.TenantID, Kind: kind, Status: InvoiceOpen, Date: date, DueDate: snap.PaymentTerms.DueDate(date),
		PeriodStart: start, PeriodEnd: end, PlanID: planID, BillingPeriod: b.BillingPeriod,
		AmountCents: snap.TotalCents(), Currency: snap.Currency, Description: description, Snapshot: snap,
		CreatedAt: now, CreatedBy: by,
	}
}

// CurrentPeriod is the invoiced billing period covering a day: its first
// and last days (inclusive) and the plan it was last billed on.
type CurrentPeriod struct {
	Start, End Date
}

// Proration is the invoice an upgrade from b's current plan to p on day
// today issues when today falls inside the invoiced period cur: a credit
// for the unused days of the old plan and a charge for the new plan's
// remaining days (today to the period's end, inclusive), each the period's
// price × remaining days / the period's days, rounded to the cent.
func Proration(b *Billing, seller Seller, p *Plan, cur CurrentPeriod, today Date, now time.Time, by string) *Invoice {
	days := cur.Start.DaysUntil(cur.End) + 1
	left := today.DaysUntil(cur.End) + 1
	share := func(cents int64) int64 { return (cents*int64(left)*2 + int64(days)) / (int64(days) * 2) }
	oldPrice, newPrice := PlanPrice(b.Plan, b.BillingPeriod), PlanPrice(p, b.BillingPeriod)
	credit, charge := share(oldPrice.AmountCents), share(newPrice.AmountCents)
	lines := []InvoiceLine{
		{Description: fmt.Sprintf("Unused time on the %s plan, %s to %s (%d of %d days)", b.Plan.Name, today, cur.End, left, days),
			PeriodStart: today, PeriodEnd: cur.End, Quantity: 1, UnitAmountCents: -credit, AmountCents: -credit, Currency: oldPrice.Currency},
		{Description: fmt.Sprintf("Remaining time on the %s plan, %s to %s (%d of %d days)", p.Name, today, cur.End, left, days),
			PeriodStart: today, PeriodEnd: cur.End, Quantity: 1, UnitAmountCents: charge, AmountCents: charge, Currency: newPrice.Currency},
	}
	desc := fmt.Sprintf("Upgrade from the %s plan to the %s plan, prorated %s to %s", b.Plan.Name, p.Name, today, cur.End)
	return issue(b, seller, InvoiceProration, today, today, cur.End, p.ID, desc, lines, now, by)
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
	// Invoice is the prorated invoice the change issued (an upgrade at
	// once inside an invoiced period), or nil; under ValidateOnly it is
	// what would be issued, without id or number.
	Invoice *Invoice
	// Preview is what the change charges: Invoice's snapshot when it
	// issues one, otherwise the first period invoiced on the new plan.
	Preview *InvoiceSnapshot
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
	BillingName     *string
	BillingAddress  []string // nil: unchanged
	Tax             *TaxProfile
	PaymentTerms    *PaymentTerms
	ExpectedVersion *int
	ValidateOnly    bool
}

// Empty reports whether the patch changes nothing.
func (p *BillingPatch) Empty() bool {
	return p.Status == nil && p.BillingPeriod == nil && p.PaymentMethod == nil && p.BillingEmail == nil &&
		p.BillingName == nil && p.BillingAddress == nil && p.Tax == nil && p.PaymentTerms == nil
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
	if p.BillingName != nil {
		n := strings.TrimSpace(*p.BillingName)
		if len([]rune(n)) > 200 || strings.ContainsAny(n, "\r\n") {
			return Invalid("billingName", "billingName must be one line of at most 200 characters")
		}
		p.BillingName = &n
	}
	if p.BillingAddress != nil {
		a, err := normalizeAddress("billingAddress", p.BillingAddress)
		if err != nil {
			return err
		}
		p.BillingAddress = a
	}
	if p.Tax != nil {
		if err := p.Tax.Normalize(); err != nil {
			return err
		}
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
	Kind          InvoiceKind   `db:"kind"`
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
	// Snapshot is everything the invoice prints, frozen at issue.
	Snapshot InvoiceSnapshot `db:"snapshot"`
	// SnapshotOmitted marks an invoice read without its snapshot, for a
	// page whose selection prints nothing of it (db.InvoicePagesByTenant):
	// reading the snapshot of one is a bug, and panics.
	SnapshotOmitted bool `db:"snapshot_omitted"`
}

// snapshot is the invoice's snapshot, which must have been read.
func (i *Invoice) snapshot() *InvoiceSnapshot {
	if i.SnapshotOmitted {
		panic("tenant: the snapshot of invoice " + i.ID + " was not read (a page read for fields that print nothing of it)")
	}
	return &i.Snapshot
}

// Lines are the invoice's lines.
func (i *Invoice) Lines() []InvoiceLine { return i.snapshot().Lines }

// Subtotal is the total of the lines before tax.
func (i *Invoice) Subtotal() Money { return Money{i.snapshot().SubtotalCents, i.Currency} }

// Tax is the tax line's amount.
func (i *Invoice) Tax() Money { return Money{i.snapshot().TaxCents, i.Currency} }

// TaxRateBasisPoints is the tax rate printed (2000 = 20.00%).
func (i *Invoice) TaxRateBasisPoints() int { return i.snapshot().TaxRateBP }

// PaymentTerms are the terms the invoice was issued under.
func (i *Invoice) PaymentTerms() PaymentTerms { return i.snapshot().PaymentTerms }

// BillTo is the customer as printed at issue.
func (i *Invoice) BillTo() *InvoiceParty { return &i.snapshot().BillTo }

// Seller is the issuer as printed at issue.
func (i *Invoice) Seller() *InvoiceParty {
	s := i.snapshot().Seller
	return &InvoiceParty{Name: s.Name, Address: s.Address, Email: s.Email, TaxID: s.TaxID}
}

// Amount is the invoice's total.
func (i *Invoice) Amount() Money { return Money{AmountCents: i.AmountCents, Currency: i.Currency} }

// PDFPath is where the invoice's PDF is served, relative to the API's
// base URL (the server does not trust the Host header to build absolute
// URLs: Invoice.pdfUrl puts PUBLIC_BASE_URL in front).
func (i *Invoice) PDFPath() string { return "/invoices/" + i.ID + ".pdf" }

// Period is the calendar month (YYYY-MM) of the invoice date: a tenant has
// at most one invoice per month.
func (i *Invoice) Period() string { return i.Date.Time().Format("2006-01") }

// InvoiceNumber formats a tenant's seq-th invoice of year: INV-2026-003.
func InvoiceNumber(year, seq int) string { return fmt.Sprintf("INV-%d-%03d", year, seq) }

// InvoicePage is one page of a tenant's invoices, newest first.
type InvoicePage struct {
	TenantID string
	Invoices []*Invoice
	PageEnds
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
