package tenant

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func intp(n int) *int { return &n }

var (
	testStarter      = &Plan{ID: "starter", Name: "Starter", Users: intp(5), Policies: intp(20), InteractionsPerMonth: intp(10000), MonthlyPriceCents: 4900, Currency: "EUR", Rank: 1}
	testProfessional = &Plan{ID: "professional", Name: "Professional", Users: intp(50), Policies: intp(100), InteractionsPerMonth: intp(1000000), MonthlyPriceCents: 29900, Currency: "EUR", Rank: 2}
	testEnterprise   = &Plan{ID: "enterprise", Name: "Enterprise", MonthlyPriceCents: 299900, Currency: "EUR", Rank: 3}
)

func TestMoneyFormatted(t *testing.T) {
	for _, c := range []struct {
		cents int64
		want  string
	}{
		{0, "0.00 EUR"}, {5, "0.05 EUR"}, {4900, "49.00 EUR"}, {29900, "299.00 EUR"}, {299900, "2,999.00 EUR"},
		{2999000, "29,990.00 EUR"}, {123456789, "1,234,567.89 EUR"}, {-150, "-1.50 EUR"},
	} {
		if got := (Money{AmountCents: c.cents, Currency: "EUR"}).Formatted(); got != c.want {
			t.Errorf("Formatted(%d) = %q, want %q", c.cents, got, c.want)
		}
	}
}

func TestPlanPrice(t *testing.T) {
	if got := PlanPrice(testProfessional, Monthly); got != (Money{29900, "EUR"}) {
		t.Errorf("monthly = %+v", got)
	}
	if got := PlanPrice(testEnterprise, Annual); got != (Money{2999000, "EUR"}) {
		t.Errorf("annual = %+v, want 10 × the monthly price", got)
	}
}

func TestAddMonthsOnDay(t *testing.T) {
	d := func(s string) Date {
		x, err := ParseDate("d", s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	for _, c := range []struct {
		from      string
		n, day    int
		want      string
		situation string
	}{
		{"2026-01-31", 1, 31, "2026-02-28", "clamped to February's end"},
		{"2026-02-28", 1, 31, "2026-03-31", "back on the anchor day"},
		{"2028-01-31", 1, 31, "2028-02-29", "leap year"},
		{"2026-11-15", 1, 15, "2026-12-15", "plain"},
		{"2026-12-15", 1, 15, "2027-01-15", "year end"},
		{"2026-11-15", -3, 15, "2026-08-15", "backwards"},
		{"2028-02-29", 12, 29, "2029-02-28", "a year from a leap day"},
	} {
		if got := AddMonthsOnDay(d(c.from), c.n, c.day).String(); got != c.want {
			t.Errorf("%s: AddMonthsOnDay(%s, %d, %d) = %s, want %s", c.situation, c.from, c.n, c.day, got, c.want)
		}
	}
}

func TestNewInvoice(t *testing.T) {
	now := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	b := &Billing{TenantID: "t", Plan: testProfessional, BillingPeriod: Monthly, AnchorDay: 31,
		ScheduledPlanChange: &ScheduledPlanChange{Plan: testStarter, EffectiveDate: NewDate(2027, 2, 28)}}
	inv := NewInvoice(b, Seller{Name: "S"}, NewDate(2027, 1, 31), now, "admin")
	if inv.PeriodEnd.String() != "2027-02-27" || inv.DueDate.String() != "2027-02-28" || inv.PlanID != "professional" ||
		inv.AmountCents != 29900 || inv.Status != InvoiceOpen || inv.Period() != "2027-01" {
		t.Errorf("January invoice = %+v", inv)
	}
	if want := "Professional plan, monthly subscription, 2027-01-31 to 2027-02-27"; inv.Description != want {
		t.Errorf("description = %q, want %q", inv.Description, want)
	}
	// The scheduled downgrade is in effect on 28 February: that period bills it.
	if inv := NewInvoice(b, Seller{Name: "S"}, NewDate(2027, 2, 28), now, "admin"); inv.PlanID != "starter" || inv.AmountCents != 4900 || inv.PeriodEnd.String() != "2027-03-30" {
		t.Errorf("February invoice = %+v", inv)
	}
	b.BillingPeriod = Annual
	if inv := NewInvoice(b, Seller{Name: "S"}, NewDate(2026, 11, 30), now, "admin"); inv.PeriodEnd.String() != "2027-11-29" || inv.AmountCents != 299000 ||
		!strings.Contains(inv.Description, "annual subscription") {
		t.Errorf("annual invoice = %+v", inv)
	}
}

func TestInvoiceNumber(t *testing.T) {
	for seq, want := range map[int]string{1: "INV-2026-001", 12: "INV-2026-012", 999: "INV-2026-999", 1000: "INV-2026-1000"} {
		if got := InvoiceNumber(2026, seq); got != want {
			t.Errorf("InvoiceNumber(2026, %d) = %s, want %s", seq, got, want)
		}
	}
}

func TestCheckDowngrade(t *testing.T) {
	if err := CheckDowngrade(testStarter, &Usage{ActiveUsers: 5, Policies: 20, InteractionsThisMonth: 10000}); err != nil {
		t.Errorf("usage at the limits: %v", err)
	}
	if err := CheckDowngrade(testEnterprise, &Usage{ActiveUsers: 1e6}); err != nil {
		t.Errorf("unlimited plan: %v", err)
	}
	err := CheckDowngrade(testStarter, &Usage{ActiveUsers: 12, Policies: 8, InteractionsThisMonth: 234567})
	e, ok := err.(*Error)
	if !ok || e.Code != EINVALID || e.Field != "plan" {
		t.Fatalf("err = %#v, want EINVALID on plan", err)
	}
	for _, want := range []string{"starter allows 5 users; the tenant has 12 active users this month",
		"starter allows 10,000 interactions a month; the tenant has 234,567 interactions this month"} {
		if !strings.Contains(e.Message, want) {
			t.Errorf("message %q does not contain %q", e.Message, want)
		}
	}
	if strings.Contains(e.Message, "policies") {
		t.Errorf("message %q names policies, which are within the limit", e.Message)
	}
}

func TestBillingPatchNormalize(t *testing.T) {
	visa := CardBrand("VISA")
	str := func(s string) *string { return &s }
	for _, c := range []struct {
		name  string
		patch BillingPatch
		field string
		msg   string
	}{
		{"OK", BillingPatch{PaymentMethod: &PaymentMethod{Type: CreditCard, Brand: &visa, Last4: " 4242 "}, BillingEmail: str(" billing@acme.fr ")}, "", ""},
		{"OKSepa", BillingPatch{PaymentMethod: &PaymentMethod{Type: SEPADebit, Last4: "0189"}}, "", ""},
		{"ErrFullCardNumber", BillingPatch{PaymentMethod: &PaymentMethod{Type: CreditCard, Brand: &visa, Last4: "4242424242424242"}}, "paymentMethod.last4", "got 16 characters"},
		{"ErrLast4Letters", BillingPatch{PaymentMethod: &PaymentMethod{Type: CreditCard, Brand: &visa, Last4: "42a2"}}, "paymentMethod.last4", "exactly the last 4 digits"},
		{"ErrCardWithoutBrand", BillingPatch{PaymentMethod: &PaymentMethod{Type: CreditCard, Last4: "4242"}}, "paymentMethod.brand", "required for a CREDIT_CARD"},
		{"ErrSepaWithBrand", BillingPatch{PaymentMethod: &PaymentMethod{Type: SEPADebit, Brand: &visa, Last4: "4242"}}, "paymentMethod.brand", "cards only"},
		{"ErrEmail", BillingPatch{BillingEmail: str("not an email")}, "billingEmail", "plain email address"},
		{"ErrEmailWithName", BillingPatch{BillingEmail: str("Billing <billing@acme.fr>")}, "billingEmail", "plain email address"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.patch.Normalize()
			if c.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			e, ok := err.(*Error)
			if !ok || e.Code != EINVALID || e.Field != c.field || !strings.Contains(e.Message, c.msg) {
				t.Fatalf("err = %#v, want EINVALID on %s containing %q", err, c.field, c.msg)
			}
			if strings.Contains(e.Message, "4242424242424242") {
				t.Errorf("the message echoes a card number: %q", e.Message)
			}
		})
	}
	p := BillingPatch{PaymentMethod: &PaymentMethod{Type: CreditCard, Brand: &visa, Last4: " 4242 "}, BillingEmail: str(" billing@acme.fr ")}
	if err := p.Normalize(); err != nil || p.PaymentMethod.Last4 != "4242" || *p.BillingEmail != "billing@acme.fr" {
		t.Errorf("normalized = %+v, %v", p, err)
	}
}

func TestParsePeriod(t *testing.T) {
	if d, err := ParsePeriod("period", "2026-11"); err != nil || d.String() != "2026-11-01" {
		t.Errorf("ParsePeriod(2026-11) = %s, %v", d, err)
	}
	for _, s := range []string{"2026-13", "2026-1", "26-11", "2026-11-01", "", "2026-00"} {
		if _, err := ParsePeriod("period", s); err == nil || err.(*Error).Field != "period" {
			t.Errorf("ParsePeriod(%q) = %v, want EINVALID on period", s, err)
		}
	}
}

func TestPlanChangeInputNormalize(t *testing.T) {
	today := NewDate(2026, 11, 20)
	past := NewDate(2026, 11, 19)
	in := PlanChangeInput{PlanID: " starter ", EffectiveDate: &past}
	err := in.Normalize(today)
	if e, ok := err.(*Error); !ok || e.Field != "effectiveDate" || !strings.Contains(e.Message, "today (2026-11-20, UTC) or later, got 2026-11-19") {
		t.Fatalf("err = %v", err)
	}
	in.EffectiveDate = &today
	if err := in.Normalize(today); err != nil || in.PlanID != "starter" {
		t.Errorf("today: %v, plan %q", err, in.PlanID)
	}
}

// TestDueDates: MONTH is one calendar month (clamped to the month's end),
// the NET terms a number of days.
func TestDueDates(t *testing.T) {
	d := func(s string) Date { v, _ := ParseDate("d", s); return v }
	for _, c := range []struct {
		terms     PaymentTerms
		from, due string
	}{
		{TermsMonth, "2026-03-15", "2026-04-15"}, // the reference's
		{TermsMonth, "2027-01-31", "2027-02-28"},
		{TermsMonth, "2026-12-31", "2027-01-31"},
		{"", "2026-03-15", "2026-04-15"},
		{TermsNet30, "2026-03-15", "2026-04-14"},
		{TermsNet15, "2026-03-15", "2026-03-30"},
		{TermsNet60, "2026-03-15", "2026-05-14"},
		{TermsDueOnReceipt, "2026-03-15", "2026-03-15"},
	} {
		if got := c.terms.DueDate(d(c.from)).String(); got != c.due {
			t.Errorf("%s from %s: due %s, want %s", c.terms, c.from, got, c.due)
		}
	}
}

// TestProration: an upgrade on day 11 of a 30-day period credits 20/30 of
// the old price and charges 20/30 of the new one; tax applies to the
// difference.
func TestProration(t *testing.T) {
	now := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	b := &Billing{TenantID: "t", Plan: testProfessional, BillingPeriod: Monthly, AnchorDay: 14, Tax: TaxProfile{RateBP: 2000},
		TenantName: "ACME", PaymentTerms: TermsMonth}
	ent := &Plan{ID: "enterprise", Name: "Enterprise", MonthlyPriceCents: 299900, Currency: "EUR", Rank: 3}
	inv := Proration(b, Seller{Name: "S"}, ent, CurrentPeriod{Start: NewDate(2026, 11, 14), End: NewDate(2026, 12, 13)}, NewDate(2026, 11, 24), now, "me")
	l := inv.Lines()
	if len(l) != 2 || l[0].AmountCents != -19933 || l[1].AmountCents != 199933 {
		t.Fatalf("lines = %+v", l)
	}
	if inv.Snapshot.SubtotalCents != 180000 || inv.Snapshot.TaxCents != 36000 || inv.AmountCents != 216000 || inv.Kind != InvoiceProration ||
		inv.DueDate.String() != "2026-12-24" || inv.PeriodEnd.String() != "2026-12-13" {
		t.Errorf("invoice = %+v", inv)
	}
}

func TestTaxProfileNormalize(t *testing.T) {
	for _, c := range []struct {
		in    TaxProfile
		field string
	}{
		{TaxProfile{Country: "fr", TaxID: "fr40303265045", RateBP: 2000}, ""},
		{TaxProfile{Country: "FRA"}, "tax.country"},
		{TaxProfile{TaxID: "x"}, "tax.taxId"},
		{TaxProfile{RateBP: -1}, "tax.rateBasisPoints"},
		{TaxProfile{RateBP: 5001}, "tax.rateBasisPoints"},
	} {
		p := c.in
		err := p.Normalize()
		var e *Error
		if got := ""; err != nil {
			if !errors.As(err, &e) {
				t.Fatalf("%+v: %v", c.in, err)
			}
			got = e.Field
			if got != c.field {
				t.Errorf("%+v: field %q, want %q", c.in, got, c.field)
			}
		} else if c.field != "" {
			t.Errorf("%+v: accepted, want %s refused", c.in, c.field)
		}
	}
}
