package invoicepdf_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"tenantapi/invoicepdf"
	"tenantapi/invoicepdf/pdftest"
	"tenantapi/tenant"
)

func testInvoice() *tenant.Invoice {
	paid := time.Date(2026, 11, 17, 9, 0, 0, 0, time.UTC)
	return &tenant.Invoice{
		ID: "6f1c1e7e-3c2a-4a57-9a39-0d6c2f0f3b11", TenantID: "00000000-0000-4000-8000-000000000001", Number: "INV-2026-003",
		Status: tenant.InvoicePaid, Date: tenant.NewDate(2026, 11, 15), DueDate: tenant.NewDate(2026, 12, 15),
		PeriodStart: tenant.NewDate(2026, 11, 15), PeriodEnd: tenant.NewDate(2026, 12, 14), PlanID: "professional",
		BillingPeriod: tenant.Monthly, AmountCents: 29900, Currency: "EUR",
		Description: "Professional plan, monthly subscription, 2026-11-15 to 2026-12-14",
		CreatedAt:   time.Date(2026, 11, 15, 0, 5, 0, 0, time.UTC), CreatedBy: "admin", PaidAt: &paid,
		Snapshot: tenant.InvoiceSnapshot{
			Seller: tenant.Seller{Name: "Tenant API SAS", Address: []string{"1 Example Street", "75001 Paris, France"}, TaxID: "FR00123456789"},
			BillTo: tenant.InvoiceParty{Name: "ACME Corporation", Domain: "acme.fr", Email: "billing@acme.fr"},
			Lines: []tenant.InvoiceLine{{Description: "Professional plan, monthly subscription, 2026-11-15 to 2026-12-14",
				PeriodStart: tenant.NewDate(2026, 11, 15), PeriodEnd: tenant.NewDate(2026, 12, 14), Quantity: 1,
				UnitAmountCents: 29900, AmountCents: 29900, Currency: "EUR"}},
			SubtotalCents: 29900, Currency: "EUR", PaymentTerms: tenant.TermsMonth,
		},
	}
}

func render(t *testing.T, d *tenant.Invoice, o invoicepdf.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := invoicepdf.Render(&buf, d, o); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestRender checks the PDF is valid, one page, and shows the seller, the
// customer, the number, the dates, the line and the amount.
func TestRender(t *testing.T) {
	d := testInvoice()
	d.Snapshot.BillTo.Name = "Société Générale d'Exemple"
	for _, o := range []invoicepdf.Options{{}, {Uncompressed: true}} {
		pdf := render(t, d, o)
		pages, text := pdftest.PageText(t, pdf)
		if pages != 1 {
			t.Errorf("%d pages, want 1", pages)
		}
		for _, want := range []string{"Tenant API SAS", "VAT ID FR00123456789", "INVOICE", "Number: INV-2026-003", "Date: 2026-11-15", "Due date: 2026-12-15",
			"Status: PAID", "Société Générale d'Exemple", "acme.fr", "billing@acme.fr", "Professional plan, monthly subscription",
			"299.00 EUR", "Amount (EUR)", "Subtotal", "Tax (0.00%)", "0.00 EUR", "Paid on 2026-11-17"} {
			if !strings.Contains(text, want) {
				t.Errorf("compressed=%v: page text lacks %q:\n%s", !o.Uncompressed, want, text)
			}
		}
		if o.Uncompressed && !bytes.Contains(pdf, pdftest.UTF16Escaped("Due date: 2026-12-15")) {
			t.Errorf("uncompressed output does not show the due date in the file")
		}
		// (The due date, unlike the number, is only on the page, not in the title.)
		if !o.Uncompressed && bytes.Contains(pdf, pdftest.UTF16Escaped("Due date: 2026-12-15")) {
			t.Errorf("the default output is not compressed")
		}
		for _, want := range []string{"/FontFile2", "/ToUnicode", "/Subtype /Type0"} { // embedded, searchable, Unicode
			if !bytes.Contains(pdf, []byte(want)) {
				t.Errorf("compressed=%v: the PDF has no %s", !o.Uncompressed, want)
			}
		}
	}
}

// TestRenderDeterministic: the same invoice renders to the same bytes.
func TestRenderDeterministic(t *testing.T) {
	d := testInvoice()
	if a, b := render(t, d, invoicepdf.Options{}), render(t, d, invoicepdf.Options{}); !bytes.Equal(a, b) {
		t.Error("two renderings of one invoice differ")
	}
}

// TestRenderUnicode prints Latin beyond Windows-1252, Greek and Cyrillic
// as written, characters the fonts lack (CJK) as "?", and the rest of the
// document normally.
func TestRenderUnicode(t *testing.T) {
	inv := testInvoice()
	inv.Status, inv.PaidAt = tenant.InvoiceOpen, nil
	for name, want := range map[string]string{
		"Łódź Spółka z o.o.":  "Łódź Spółka z o.o.",
		"ООО Ромашка":         "ООО Ромашка",
		"Αθήνα Α.Ε.":          "Αθήνα Α.Ε.",
		"İstanbul Şirketi":    "İstanbul Şirketi",
		"株式会社 Example":        "???? Example",
		"Société Générale €5": "Société Générale €5",
	} {
		inv.Snapshot.BillTo.Name = name
		_, text := pdftest.PageText(t, render(t, inv, invoicepdf.Options{}))
		if !strings.Contains(text, "\n"+want+"\n") {
			t.Errorf("page text lacks the name %q as %q:\n%s", name, want, text)
		}
		if !strings.Contains(text, "Payment due by 2026-12-15") {
			t.Errorf("%s: page text lacks the due date line", name)
		}
	}
}
