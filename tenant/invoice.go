package tenant

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// An issued invoice never changes: everything it prints (seller, bill-to,
// lines, tax, currency; its dates are columns of its own) is copied into
// its snapshot when it is issued, and the PDF and the GraphQL fields read
// the snapshot, never the tenant's current profile.

// Seller is who issues the invoices: the operator's legal entity, from
// configuration (SELLER_NAME, SELLER_ADDRESS, SELLER_EMAIL, SELLER_TAX_ID).
type Seller struct {
	Name    string   `json:"name"`
	Address []string `json:"address"` // lines
	Email   string   `json:"email,omitempty"`
	TaxID   string   `json:"taxId,omitempty"`
}

// InvoiceParty is a party printed on an invoice: the seller or the
// customer billed.
type InvoiceParty struct {
	Name    string   `json:"name"`
	Address []string `json:"address"`
	Email   string   `json:"email,omitempty"`
	Country string   `json:"country,omitempty"` // ISO 3166-1 alpha-2
	TaxID   string   `json:"taxId,omitempty"`
	Domain  string   `json:"domain,omitempty"` // the tenant's domain (customer only)
}

// InvoiceKind says why an invoice was issued.
type InvoiceKind string

// Invoice kinds: a billing period of the subscription (the billing run;
// at most one per tenant per month), or the prorated difference of an
// upgrade in the middle of a period (changePlan).
const (
	InvoiceSubscription InvoiceKind = "SUBSCRIPTION"
	InvoiceProration    InvoiceKind = "PRORATION"
)

// InvoiceLine is one line of an invoice. AmountCents is Quantity ×
// UnitAmountCents for a plain line; a prorated line has quantity 1 and its
// prorated amount as unit amount. A credit is negative.
type InvoiceLine struct {
	Description     string `json:"description"`
	PeriodStart     Date   `json:"periodStart"`
	PeriodEnd       Date   `json:"periodEnd"` // inclusive
	Quantity        int    `json:"quantity"`
	UnitAmountCents int64  `json:"unitAmountCents"`
	AmountCents     int64  `json:"amountCents"`
	Currency        string `json:"currency"`
}

// UnitAmount is the line's unit price.
func (l *InvoiceLine) UnitAmount() Money { return Money{l.UnitAmountCents, l.Currency} }

// Amount is the line's total.
func (l *InvoiceLine) Amount() Money { return Money{l.AmountCents, l.Currency} }

// InvoiceSnapshot is everything an invoice prints, frozen when it is
// issued (stored as jsonb in invoices.snapshot).
type InvoiceSnapshot struct {
	Seller        Seller        `json:"seller"`
	BillTo        InvoiceParty  `json:"billTo"`
	Lines         []InvoiceLine `json:"lines"`
	SubtotalCents int64         `json:"subtotalCents"`
	// TaxRateBP is the tax rate in basis points (2000 = 20.00%).
	TaxRateBP    int          `json:"taxRateBasisPoints"`
	TaxCents     int64        `json:"taxCents"`
	Currency     string       `json:"currency"`
	PaymentTerms PaymentTerms `json:"paymentTerms"`
}

// Value stores the snapshot as JSON text (a []byte would go out as a
// binary parameter, which jsonb reads in its own binary format).
func (s InvoiceSnapshot) Value() (driver.Value, error) {
	b, err := json.Marshal(s)
	return string(b), err
}

// Scan reads the snapshot from JSON.
func (s *InvoiceSnapshot) Scan(src any) error {
	switch v := src.(type) {
	case []byte:
		return json.Unmarshal(v, s)
	case string:
		return json.Unmarshal([]byte(v), s)
	case nil:
		return errors.New("invoice without a snapshot")
	}
	return fmt.Errorf("invoice snapshot: cannot scan %T", src)
}

// Sum totals lines into the snapshot: subtotal, tax at rateBP (rounded half
// away from zero to the cent) and currency.
func (s *InvoiceSnapshot) Sum() {
	s.SubtotalCents = 0
	for _, l := range s.Lines {
		s.SubtotalCents += l.AmountCents
	}
	s.TaxCents = TaxOf(s.SubtotalCents, s.TaxRateBP)
}

// TaxOf is amount × rateBP / 10,000, rounded half away from zero.
func TaxOf(amount int64, rateBP int) int64 {
	p := amount * int64(rateBP)
	if p < 0 {
		return -((-p + 5000) / 10000)
	}
	return (p + 5000) / 10000
}

// TotalCents is the subtotal plus the tax.
func (s *InvoiceSnapshot) TotalCents() int64 { return s.SubtotalCents + s.TaxCents }

// Subtotal is the lines' total before tax.
func (s *InvoiceSnapshot) Subtotal() Money { return Money{s.SubtotalCents, s.Currency} }

// Tax is the tax on the subtotal.
func (s *InvoiceSnapshot) Tax() Money { return Money{s.TaxCents, s.Currency} }

// Total is what is owed: subtotal plus tax.
func (s *InvoiceSnapshot) Total() Money { return Money{s.TotalCents(), s.Currency} }

// TaxRateBasisPoints is the tax rate (2000 = 20.00%).
func (s *InvoiceSnapshot) TaxRateBasisPoints() int { return s.TaxRateBP }

// MarshalText writes a date as YYYY-MM-DD (JSON, snapshots).
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a date written YYYY-MM-DD.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate("date", string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// PaymentTerms say when an invoice is due after its date.
type PaymentTerms string

// Payment terms. MONTH, the default, is the reference's: due one calendar
// month after the invoice date (15 March is due 15 April; 31 January on
// 28 or 29 February).
const (
	TermsMonth        PaymentTerms = "MONTH"
	TermsNet15        PaymentTerms = "NET_15"
	TermsNet30        PaymentTerms = "NET_30"
	TermsNet60        PaymentTerms = "NET_60"
	TermsDueOnReceipt PaymentTerms = "DUE_ON_RECEIPT"
)

// DueDate is when an invoice dated d is due under t.
func (t PaymentTerms) DueDate(d Date) Date {
	switch t {
	case TermsNet15:
		return d.AddDays(15)
	case TermsNet30:
		return d.AddDays(30)
	case TermsNet60:
		return d.AddDays(60)
	case TermsDueOnReceipt:
		return d
	}
	return AddMonthsOnDay(d, 1, d.Day())
}

// UnmarshalGQL decodes the GraphQL enum PaymentTerms.
func (t *PaymentTerms) UnmarshalGQL(v any) (err error) {
	*t, err = unmarshalEnum(v, "paymentTerms", TermsMonth, TermsNet15, TermsNet30, TermsNet60, TermsDueOnReceipt)
	return err
}

// MarshalGQL encodes the GraphQL enum PaymentTerms.
func (t PaymentTerms) MarshalGQL(w io.Writer) { marshalEnum(w, t) }

// UnmarshalGQL decodes the GraphQL enum InvoiceKind.
func (k *InvoiceKind) UnmarshalGQL(v any) (err error) {
	*k, err = unmarshalEnum(v, "kind", InvoiceSubscription, InvoiceProration)
	return err
}

// MarshalGQL encodes the GraphQL enum InvoiceKind.
func (k InvoiceKind) MarshalGQL(w io.Writer) { marshalEnum(w, k) }

// MaxTaxRateBP is the highest tax rate accepted, in basis points (50%).
const MaxTaxRateBP = 5000

// TaxProfile is how a tenant is taxed: its country, its tax id (a VAT
// number) and the rate its invoices carry, zero by default. The operator
// decides the rate (reverse charge, local VAT): the API does not compute it.
type TaxProfile struct {
	Country string // ISO 3166-1 alpha-2, "" when unknown
	TaxID   string // "" when none
	RateBP  int    // basis points: 2000 = 20.00%
}

var (
	countryRE = regexp.MustCompile(`^[A-Z]{2}$`)
	taxIDRE   = regexp.MustCompile(`^[A-Z0-9][A-Z0-9 .\-]{1,30}[A-Z0-9]$`)
)

// Normalize validates a tax profile in place: country two letters
// (upper-cased), tax id 3–32 letters, digits, spaces, dots or dashes
// (upper-cased), rate 0 to MaxTaxRateBP.
func (p *TaxProfile) Normalize() error {
	p.Country = strings.ToUpper(strings.TrimSpace(p.Country))
	p.TaxID = strings.ToUpper(strings.TrimSpace(p.TaxID))
	if p.Country != "" && !countryRE.MatchString(p.Country) {
		return Invalid("tax.country", "tax.country must be an ISO 3166-1 alpha-2 code such as FR, got %q", p.Country)
	}
	if p.TaxID != "" && !taxIDRE.MatchString(p.TaxID) {
		return Invalid("tax.taxId", "tax.taxId must be 3 to 32 letters, digits, spaces, dots or dashes (such as FR40303265045), got %d characters", len([]rune(p.TaxID)))
	}
	if p.RateBP < 0 || p.RateBP > MaxTaxRateBP {
		return Invalid("tax.rateBasisPoints", "tax.rateBasisPoints must be 0 to %d (2000 = 20.00%%), got %d", MaxTaxRateBP, p.RateBP)
	}
	return nil
}

// MaxInvoiceLines bounds an invoice's lines (for the query cost model):
// a subscription invoice has 1, a prorated one 2.
const MaxInvoiceLines = 2

// MaxAddressLines bounds a billing address (and SELLER_ADDRESS).
const MaxAddressLines = 6

// normalizeAddress trims each line, drops empty ones, and refuses more
// than MaxAddressLines lines or a line over 100 characters.
func normalizeAddress(field string, lines []string) ([]string, error) {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if len([]rune(l)) > 100 || strings.ContainsAny(l, "\r\n") {
			return nil, Invalid(field, "%s lines must be one line of at most 100 characters each", field)
		}
		out = append(out, l)
	}
	if len(out) > MaxAddressLines {
		return nil, Invalid(field, "%s has at most %d lines, got %d", field, MaxAddressLines, len(out))
	}
	return out, nil
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// CountryOrNil is Country, nil when unknown (GraphQL null).
func (p TaxProfile) CountryOrNil() *string { return nilIfEmpty(p.Country) }

// TaxIDOrNil is TaxID, nil when none (GraphQL null).
func (p TaxProfile) TaxIDOrNil() *string { return nilIfEmpty(p.TaxID) }

// EmailOrNil is Email, nil when none (GraphQL null).
func (p *InvoiceParty) EmailOrNil() *string { return nilIfEmpty(p.Email) }

// CountryOrNil is Country, nil when none (GraphQL null).
func (p *InvoiceParty) CountryOrNil() *string { return nilIfEmpty(p.Country) }

// TaxIDOrNil is TaxID, nil when none (GraphQL null).
func (p *InvoiceParty) TaxIDOrNil() *string { return nilIfEmpty(p.TaxID) }

// DomainOrNil is Domain, nil when none (GraphQL null).
func (p *InvoiceParty) DomainOrNil() *string { return nilIfEmpty(p.Domain) }
