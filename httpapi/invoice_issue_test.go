package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"tenantapi/httpapi"
	"tenantapi/invoicepdf/pdftest"
)

// Issue 15 §2: invoices frozen at issue, with lines, tax, the configured
// seller and payment terms; prorated upgrades and their preview; absolute
// and signed PDF links; an honest refusal to void a paid invoice.

const invoiceFull = `id number kind status date dueDate paymentTerms pdfUrl
	lines { description periodStart periodEnd quantity unitAmount { amountCents } amount { amountCents } }
	subtotal { amountCents } taxRateBasisPoints tax { amountCents } amount { amountCents formatted }
	seller { name address email taxId country domain } billTo { name address email country taxId domain }`

type lineOut struct {
	Description, PeriodStart, PeriodEnd string
	Quantity                            int
	UnitAmount, Amount                  struct{ AmountCents int64 }
}

type partyOut struct {
	Name                          string
	Address                       []string
	Email, Country, TaxID, Domain *string
}

type fullInvoice struct {
	ID, Number, Kind, Status, Date, DueDate, PaymentTerms, PdfURL string
	Lines                                                         []lineOut
	Subtotal, Tax                                                 struct{ AmountCents int64 }
	TaxRateBasisPoints                                            int
	Amount                                                        struct {
		AmountCents int64
		Formatted   string
	}
	Seller, BillTo partyOut
}

func (b *billEnv) fullInvoices(id string) []fullInvoice {
	b.t.Helper()
	var out struct {
		Tenant struct{ Invoices struct{ Nodes []fullInvoice } }
	}
	b.mustGQL(testAdminSecret, `query($id: ID!) { tenant(id: $id) { invoices(first: 100) { nodes { `+invoiceFull+` } } } }`,
		map[string]any{"id": id}, &out)
	return out.Tenant.Invoices.Nodes
}

func ostr(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// TestInvoiceFrozenAtIssue: an invoice prints the seller, the bill-to and
// the tax as they were when it was issued. Renaming the tenant and changing
// its billing profile afterwards leaves a PAID invoice's fields and PDF
// byte for byte the same; the next invoice prints the new profile.
func TestInvoiceFrozenAtIssue(t *testing.T) {
	t.Parallel()
	b := newBillEnv(t)
	id := b.tenantOn("Frozen Widgets SARL", "starter")
	key, _ := b.billingKey(id)
	b.mustGQL(key, qUpdateBilling, map[string]any{"in": map[string]any{
		"billingEmail": "ap@frozen.example", "billingAddress": []string{" 3 quai des Brumes ", "", "69002 Lyon"},
		"tax": map[string]any{"country": "fr", "taxId": "fr40303265045", "rateBasisPoints": 2000}, "paymentTerms": "MONTH"}}, nil)
	b.runBilling("2026-11")
	invs := b.fullInvoices(id)
	if len(invs) != 1 {
		t.Fatalf("%d invoices", len(invs))
	}
	inv := invs[0]
	if inv.Kind != "SUBSCRIPTION" || inv.Date != "2026-11-10" || inv.DueDate != "2026-12-10" || inv.PaymentTerms != "MONTH" ||
		inv.Subtotal.AmountCents != 4900 || inv.TaxRateBasisPoints != 2000 || inv.Tax.AmountCents != 980 || inv.Amount.AmountCents != 5880 {
		t.Errorf("invoice = %+v", inv)
	}
	if l := inv.Lines; len(l) != 1 || l[0].Quantity != 1 || l[0].UnitAmount.AmountCents != 4900 || l[0].Amount.AmountCents != 4900 ||
		l[0].PeriodStart != "2026-11-10" || l[0].PeriodEnd != "2026-12-09" || !strings.HasPrefix(l[0].Description, "Starter plan, monthly") {
		t.Errorf("lines = %+v", l)
	}
	if s := inv.Seller; s.Name != testSeller.Name || strings.Join(s.Address, "|") != "12 rue de la Paix|75002 Paris|France" ||
		ostr(s.TaxID) != "FR00123456789" || ostr(s.Email) != testSeller.Email || s.Domain != nil {
		t.Errorf("seller = %+v", s)
	}
	if p := inv.BillTo; p.Name != "Frozen Widgets SARL" || strings.Join(p.Address, "|") != "3 quai des Brumes|69002 Lyon" ||
		ostr(p.Email) != "ap@frozen.example" || ostr(p.Country) != "FR" || ostr(p.TaxID) != "FR40303265045" || p.Domain == nil {
		t.Errorf("billTo = %+v", p)
	}
	b.mustGQL(testAdminSecret, qMarkPaid, map[string]any{"in": map[string]any{"id": inv.ID}}, nil)

	reader := b.createKey(id, "BILLING_READ")
	resp, before := b.fetchPDF(reader, inv.PdfURL)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", inv.PdfURL, resp.StatusCode, before)
	}
	_, text := pdftest.PageText(t, before)
	for _, want := range []string{"Tenant API Test SAS", "VAT ID FR00123456789", "Frozen Widgets SARL", "3 quai des Brumes", "VAT ID FR40303265045",
		"Subtotal", "49.00 EUR", "Tax (20.00%)", "9.80 EUR", "58.80 EUR", "Due date: 2026-12-10", "Status: PAID"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF lacks %q:\n%s", want, text)
		}
	}
	paidFields := b.fullInvoices(id)[0]

	// Rename the tenant, change every part of its billing profile.
	b.mustGQL(testAdminSecret, `mutation($in: UpdateTenantInput!) { updateTenant(input: $in) { tenant { name } } }`,
		map[string]any{"in": map[string]any{"tenantId": id, "name": "Renamed Holdings Ltd", "domain": randomDomain()}}, nil)
	b.mustGQL(key, qUpdateBilling, map[string]any{"in": map[string]any{"billingEmail": "new@renamed.example", "billingName": "Renamed Holdings Ltd (billing)",
		"billingAddress": []string{"1 New Road"}, "tax": map[string]any{"country": "GB", "rateBasisPoints": 0}, "paymentTerms": "NET_30"}}, nil)

	_, after := b.fetchPDF(reader, inv.PdfURL)
	if !bytes.Equal(before, after) {
		_, t2 := pdftest.PageText(t, after)
		t.Errorf("the PAID invoice's PDF changed after renaming the tenant:\n%s", t2)
	}
	if _, again := b.fetchPDF(reader, inv.PdfURL); !bytes.Equal(after, again) {
		t.Error("two downloads of one invoice differ")
	}
	if got := b.fullInvoices(id)[0]; !jsonEqual(t, got, paidFields) {
		t.Errorf("the invoice's fields changed: %+v, was %+v", got, paidFields)
	}

	// The next invoice is issued with the new profile and terms.
	b.clock.SetDay("2026-12-01")
	b.runBilling("2026-12")
	next := b.fullInvoices(id)[0]
	if next.BillTo.Name != "Renamed Holdings Ltd (billing)" || ostr(next.BillTo.Country) != "GB" || next.BillTo.TaxID != nil ||
		next.Tax.AmountCents != 0 || next.DueDate != "2027-01-09" || next.PaymentTerms != "NET_30" {
		t.Errorf("December invoice = %+v", next)
	}
}

func jsonEqual(t *testing.T, a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// TestBillingProfileRefusals: the new billing inputs are validated, naming
// the field.
func TestBillingProfileRefusals(t *testing.T) {
	t.Parallel()
	b := newBillEnv(t)
	id := b.tenantOn("Refusals SA", "starter")
	key, _ := b.billingKey(id)
	for _, c := range []struct {
		name  string
		in    map[string]any
		field string
		msg   string
	}{
		{"ErrCountry", map[string]any{"tax": map[string]any{"country": "France"}}, "tax.country", "ISO 3166-1 alpha-2"},
		{"ErrTaxID", map[string]any{"tax": map[string]any{"taxId": "FR/1"}}, "tax.taxId", "3 to 32 letters"},
		{"ErrRateNegative", map[string]any{"tax": map[string]any{"rateBasisPoints": -1}}, "tax.rateBasisPoints", "0 to 5000"},
		{"ErrRateTooHigh", map[string]any{"tax": map[string]any{"rateBasisPoints": 5001}}, "tax.rateBasisPoints", "0 to 5000"},
		{"ErrAddressLines", map[string]any{"billingAddress": []string{"1", "2", "3", "4", "5", "6", "7"}}, "billingAddress", "at most 6 lines"},
		{"ErrName", map[string]any{"billingName": strings.Repeat("x", 201)}, "billingName", "at most 200"},
		{"ErrTerms", map[string]any{"paymentTerms": "NET_7"}, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := b.gql(key, qUpdateBilling, map[string]any{"in": c.in})
			if c.field == "" {
				if len(r.Errors) == 0 {
					t.Fatal("accepted")
				}
				return
			}
			if r.Code() != "BAD_USER_INPUT" || r.Field() != c.field || !strings.Contains(r.Errors[0].Message, c.msg) {
				t.Errorf("got %s %s %q, want BAD_USER_INPUT %s %q", r.Code(), r.Field(), r.Errors[0].Message, c.field, c.msg)
			}
		})
	}
}

const qChangePlanPreview = `mutation($in: ChangePlanInput!) { changePlan(input: $in) { plan { id } effectiveDate scheduled
	invoice { ` + invoiceFull + ` }
	preview { lines { description periodStart periodEnd quantity unitAmount { amountCents } amount { amountCents } }
		subtotal { amountCents } taxRateBasisPoints tax { amountCents } total { amountCents formatted } } } }`

type previewOut struct {
	Plan          struct{ ID string }
	EffectiveDate string
	Scheduled     bool
	Invoice       *fullInvoice
	Preview       struct {
		Lines              []lineOut
		Subtotal, Tax      struct{ AmountCents int64 }
		TaxRateBasisPoints int
		Total              struct {
			AmountCents int64
			Formatted   string
		}
	}
}

// TestProratedUpgrade: an upgrade on day 11 of a 30-day invoiced period
// issues at once an invoice crediting 20 days of the old plan and charging
// 20 days of the new one (tax on top); validateOnly previews exactly those
// lines and issues nothing. The downgrade back waits for the period's end,
// and the next period bills the smaller plan.
func TestProratedUpgrade(t *testing.T) {
	t.Parallel()
	b := newBillEnv(t)
	id := b.tenantOn("Prorata GmbH", "starter")
	key, _ := b.billingKey(id)
	b.mustGQL(key, qUpdateBilling, map[string]any{"in": map[string]any{"tax": map[string]any{"country": "DE", "rateBasisPoints": 1900}}}, nil)
	b.runBilling("2026-11") // 2026-11-10 to 2026-12-09, 30 days
	b.clock.SetDay("2026-11-20")

	change := func(in map[string]any) previewOut {
		t.Helper()
		var out struct{ ChangePlan previewOut }
		b.mustGQL(key, qChangePlanPreview, map[string]any{"in": in}, &out)
		return out.ChangePlan
	}
	dry := change(map[string]any{"plan": "professional", "validateOnly": true})
	wantLines := []lineOut{
		{Description: "Unused time on the Starter plan, 2026-11-20 to 2026-12-09 (20 of 30 days)", PeriodStart: "2026-11-20", PeriodEnd: "2026-12-09", Quantity: 1},
		{Description: "Remaining time on the Professional plan, 2026-11-20 to 2026-12-09 (20 of 30 days)", PeriodStart: "2026-11-20", PeriodEnd: "2026-12-09", Quantity: 1},
	}
	wantLines[0].UnitAmount.AmountCents, wantLines[0].Amount.AmountCents = -3267, -3267 // 4900 × 20/30
	wantLines[1].UnitAmount.AmountCents, wantLines[1].Amount.AmountCents = 19933, 19933 // 29900 × 20/30
	if dry.Invoice != nil || dry.Scheduled || !jsonEqual(t, dry.Preview.Lines, wantLines) || dry.Preview.Subtotal.AmountCents != 16666 ||
		dry.Preview.TaxRateBasisPoints != 1900 || dry.Preview.Tax.AmountCents != 3167 || dry.Preview.Total.AmountCents != 19833 ||
		dry.Preview.Total.Formatted != "198.33 EUR" {
		t.Errorf("preview = %+v", dry)
	}
	if n := len(b.fullInvoices(id)); n != 1 {
		t.Fatalf("validateOnly issued an invoice: %d invoices", n)
	}
	if plan, _ := b.planOf(id); plan != "starter" {
		t.Fatalf("validateOnly changed the plan to %s", plan)
	}

	up := change(map[string]any{"plan": "professional"})
	inv := up.Invoice
	if inv == nil || inv.Kind != "PRORATION" || inv.Number != "INV-2026-002" || inv.Status != "OPEN" || inv.Date != "2026-11-20" ||
		inv.DueDate != "2026-12-20" || inv.Amount.AmountCents != 19833 || !jsonEqual(t, inv.Lines, wantLines) {
		t.Fatalf("upgrade invoice = %+v", inv)
	}
	if all := b.fullInvoices(id); len(all) != 2 || all[0].ID != inv.ID {
		t.Errorf("invoices = %+v", all)
	}
	reader := b.createKey(id, "BILLING_READ")
	resp, pdf := b.fetchPDF(reader, inv.PdfURL)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", inv.PdfURL, resp.StatusCode)
	}
	if _, text := pdftest.PageText(t, pdf); !strings.Contains(text, "-32.67 EUR") || !strings.Contains(text, "199.33 EUR") || !strings.Contains(text, "198.33 EUR") {
		t.Errorf("the PDF lacks the prorated lines:\n%s", text)
	}

	// The downgrade back is scheduled for the period's end and charges
	// nothing now; its preview is the first period on starter.
	down := change(map[string]any{"plan": "starter"})
	if !down.Scheduled || down.EffectiveDate != "2026-12-10" || down.Invoice != nil || len(down.Preview.Lines) != 1 ||
		down.Preview.Lines[0].PeriodStart != "2026-12-10" || down.Preview.Subtotal.AmountCents != 4900 || down.Preview.Total.AmountCents != 5831 {
		t.Errorf("downgrade = %+v", down)
	}
	b.clock.SetDay("2026-12-10")
	b.runBilling("2026-12")
	if all := b.fullInvoices(id); len(all) != 3 || all[0].Kind != "SUBSCRIPTION" || all[0].Amount.AmountCents != 5831 || all[0].Date != "2026-12-10" {
		t.Errorf("December = %+v", all[0])
	}
}

// TestScheduledUpgradeProrated: an upgrade dated later inside an invoiced
// period previews the prorated invoice from its day and issues nothing
// then; on its day, applying it issues exactly that invoice. A scheduled upgrade cannot run a period on the
// bigger plan for the smaller price.
func TestScheduledUpgradeProrated(t *testing.T) {
	t.Parallel()
	b := newBillEnv(t)
	id := b.tenantOn("Later Upgrade AG", "starter")
	key, _ := b.billingKey(id)
	b.runBilling("2026-11") // 2026-11-10 to 2026-12-09, 30 days

	var out struct{ ChangePlan previewOut }
	b.mustGQL(key, qChangePlanPreview, map[string]any{"in": map[string]any{"plan": "professional", "effectiveDate": "2026-11-30"}}, &out)
	c := out.ChangePlan
	wantLines := []lineOut{
		{Description: "Unused time on the Starter plan, 2026-11-30 to 2026-12-09 (10 of 30 days)", PeriodStart: "2026-11-30", PeriodEnd: "2026-12-09", Quantity: 1},
		{Description: "Remaining time on the Professional plan, 2026-11-30 to 2026-12-09 (10 of 30 days)", PeriodStart: "2026-11-30", PeriodEnd: "2026-12-09", Quantity: 1},
	}
	wantLines[0].UnitAmount.AmountCents, wantLines[0].Amount.AmountCents = -1633, -1633 // 4900 × 10/30
	wantLines[1].UnitAmount.AmountCents, wantLines[1].Amount.AmountCents = 9967, 9967   // 29900 × 10/30
	if !c.Scheduled || c.EffectiveDate != "2026-11-30" || c.Invoice != nil || !jsonEqual(t, c.Preview.Lines, wantLines) ||
		c.Preview.Total.AmountCents != 8334 {
		t.Fatalf("scheduled upgrade = %+v", c)
	}
	if n := len(b.fullInvoices(id)); n != 1 {
		t.Fatalf("scheduling issued an invoice: %d invoices", n)
	}

	b.clock.SetDay("2026-11-30")
	if n, err := b.store.ApplyDuePlanChanges(context.Background()); err != nil || n != 1 {
		t.Fatalf("ApplyDuePlanChanges = %d, %v", n, err)
	}
	all := b.fullInvoices(id)
	if len(all) != 2 {
		t.Fatalf("invoices after the upgrade = %+v", all)
	}
	if inv := all[0]; inv.Kind != "PRORATION" || inv.Date != "2026-11-30" || inv.Amount.AmountCents != 8334 ||
		!jsonEqual(t, inv.Lines, wantLines) {
		t.Errorf("prorated invoice = %+v", inv)
	}
	if plan, _ := b.planOf(id); plan != "professional" {
		t.Errorf("plan = %s, want professional", plan)
	}
	// Applying again changes nothing.
	if n, _ := b.store.ApplyDuePlanChanges(context.Background()); n != 0 || len(b.fullInvoices(id)) != 2 {
		t.Errorf("a second pass applied %d changes", n)
	}
}

// TestInvoiceLinks: pdfUrl is absolute below PUBLIC_BASE_URL; signedPdfUrl
// opens the PDF without credentials for 10 minutes, and a link altered in
// any part, or expired, answers 403.
func TestInvoiceLinks(t *testing.T) {
	t.Parallel()
	clock := &billClock{}
	clock.Set(billStart)
	e := buildEnv(t, envOptions{now: clock.Now, config: func(c *httpapi.Config) { c.PublicBaseURL = "https://billing.example.com/" }})
	b := &billEnv{env: e, sql: e.raw(), clock: clock}
	id := b.tenantOn("Links Inc", "starter")
	other := b.tenantOn("Other Links Inc", "starter")
	b.runBilling("2026-11")
	reader := b.createKey(id, "TENANT_READ", "BILLING_READ")
	var out struct {
		Me struct {
			Invoices struct {
				Nodes []struct{ ID, PdfURL, SignedPdfURL string }
			}
		}
	}
	b.mustGQL(reader, `{ me { invoices { nodes { id pdfUrl signedPdfUrl } } } }`, nil, &out)
	inv := out.Me.Invoices.Nodes[0]
	if want := "https://billing.example.com/invoices/" + inv.ID + ".pdf"; inv.PdfURL != want {
		t.Errorf("pdfUrl = %q, want %q", inv.PdfURL, want)
	}
	u, err := url.Parse(inv.SignedPdfURL)
	if err != nil || u.Host != "billing.example.com" || u.Path != "/invoices/"+inv.ID+".pdf" ||
		u.Query().Get("expires") != "1794312600" /* 2026-11-10 12:10 UTC */ || u.Query().Get("signature") == "" {
		t.Fatalf("signedPdfUrl = %q", inv.SignedPdfURL)
	}
	local := u.RequestURI()
	otherInv := b.invoices(other)[0]

	resp, body := b.fetchPDF("", local)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" || resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("GET %s without credentials: %d %.200s", local, resp.StatusCode, body)
	}
	if _, text := pdftest.PageText(t, body); !strings.Contains(text, "Links Inc") {
		t.Errorf("the PDF is not the invoice's:\n%s", text)
	}
	q := u.Query()
	sig := q.Get("signature")
	flip := []byte(sig)
	flip[0] ^= 1
	for _, c := range []struct{ name, path string }{
		{"ErrSignatureAltered", u.Path + "?expires=" + q.Get("expires") + "&signature=" + string(flip)},
		{"ErrExpiresAltered", u.Path + "?expires=1894229800&signature=" + sig},
		{"ErrOtherInvoice", "/invoices/" + otherInv.ID + ".pdf?expires=" + q.Get("expires") + "&signature=" + sig},
		{"ErrNoSignatureValue", u.Path + "?expires=" + q.Get("expires") + "&signature="},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := b.fetchPDF("", c.path)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), `"FORBIDDEN"`) || !strings.Contains(string(body), "signature is not valid") {
				t.Errorf("GET %s: %d %s", c.path, resp.StatusCode, body)
			}
		})
	}
	clock.Set(billStart.Add(9*time.Minute + 59*time.Second))
	if resp, _ := b.fetchPDF("", local); resp.StatusCode != http.StatusOK {
		t.Errorf("at 9:59 the link answers %d", resp.StatusCode)
	}
	clock.Set(billStart.Add(10 * time.Minute))
	if resp, body := b.fetchPDF("", local); resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "expired") {
		t.Errorf("at 10:00 the link answers %d %s", resp.StatusCode, body)
	}
	// Without a signature the route still wants credentials.
	if resp, _ := b.fetchPDF("", u.Path); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned, anonymous: %d", resp.StatusCode)
	}
}

// TestVoidPaidInvoice: the refusal names no mutation that does not exist.
func TestVoidPaidInvoice(t *testing.T) {
	t.Parallel()
	b := newBillEnv(t)
	id := b.tenantOn("Void Co", "starter")
	b.runBilling("2026-11")
	inv := b.invoices(id)[0]
	b.mustGQL(testAdminSecret, qMarkPaid, map[string]any{"in": map[string]any{"id": inv.ID}}, nil)
	r := b.gql(testAdminSecret, qVoid, map[string]any{"in": map[string]any{"id": inv.ID}})
	if r.Code() != "CONFLICT" || r.Errors[0].Message != "invoice INV-2026-001 is PAID: a paid invoice cannot be voided: its payment stands, and this API records no refunds or credit notes" {
		t.Errorf("got %s %q", r.Code(), r.Errors[0].Message)
	}
}
