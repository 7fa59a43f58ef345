package invoicepdf_test

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"tenantapi/invoicepdf"
	"tenantapi/tenant"
)

func init() { model.ConfigPath = "disable" } // pdfcpu: no configuration directory

func testInvoice() *tenant.Invoice {
	paid := time.Date(2026, 11, 17, 9, 0, 0, 0, time.UTC)
	return &tenant.Invoice{
		ID: "6f1c1e7e-3c2a-4a57-9a39-0d6c2f0f3b11", TenantID: "00000000-0000-4000-8000-000000000001", Number: "INV-2026-003",
		Status: tenant.InvoicePaid, Date: tenant.NewDate(2026, 11, 15), DueDate: tenant.NewDate(2026, 12, 15),
		PeriodStart: tenant.NewDate(2026, 11, 15), PeriodEnd: tenant.NewDate(2026, 12, 14), PlanID: "professional",
		BillingPeriod: tenant.Monthly, AmountCents: 29900, Currency: "EUR",
		Description: "Professional plan, monthly subscription, 2026-11-15 to 2026-12-14",
		CreatedAt:   time.Date(2026, 11, 15, 0, 5, 0, 0, time.UTC), CreatedBy: "admin", PaidAt: &paid,
	}
}

// pageText validates the PDF with pdfcpu and returns its page count and
// the decoded content stream of its first page.
func pageText(t *testing.T, pdf []byte) (int, string) {
	t.Helper()
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) || !bytes.Contains(pdf[max(0, len(pdf)-32):], []byte("%%EOF")) {
		t.Fatalf("not a PDF file: starts %q", pdf[:min(len(pdf), 16)])
	}
	ctx, err := api.ReadAndValidate(bytes.NewReader(pdf), model.NewDefaultConfiguration())
	if err != nil {
		t.Fatalf("pdfcpu: %v", err)
	}
	r, err := pdfcpu.ExtractPageContent(ctx, 1)
	if err != nil {
		t.Fatalf("pdfcpu: page content: %v", err)
	}
	content, _ := io.ReadAll(r)
	return ctx.PageCount, string(content)
}

func render(t *testing.T, d invoicepdf.Document, o invoicepdf.Options) []byte {
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
	d := invoicepdf.Document{Seller: invoicepdf.DefaultSeller, Invoice: testInvoice(), TenantName: "Société Générale d'Exemple",
		TenantDomain: "acme.fr", BillingEmail: "billing@acme.fr"}
	for _, o := range []invoicepdf.Options{{}, {Uncompressed: true}} {
		pdf := render(t, d, o)
		pages, text := pageText(t, pdf)
		if pages != 1 {
			t.Errorf("%d pages, want 1", pages)
		}
		for _, want := range []string{"(Tenant API)", "(INVOICE)", "(Number: INV-2026-003)", "(Date: 2026-11-15)", "(Due date: 2026-12-15)",
			"(Status: PAID)", "(acme.fr)", "(billing@acme.fr)", "(Professional plan, monthly subscription, 2026-11-15 to 2026-12-14)",
			"(299.00 EUR)", "(Amount \\(EUR\\))", "Paid on 2026-11-17"} {
			if !strings.Contains(text, want) {
				t.Errorf("compressed=%v: page content lacks %q", !o.Uncompressed, want)
			}
		}
		if !strings.Contains(text, "Soci\xe9t\xe9 G\xe9n\xe9rale") { // Windows-1252
			t.Errorf("the tenant name is not in the page in Windows-1252")
		}
		if o.Uncompressed && !bytes.Contains(pdf, []byte("(Number: INV-2026-003)")) {
			t.Errorf("uncompressed output does not show the number in the file")
		}
		if !o.Uncompressed && bytes.Contains(pdf, []byte("INV-2026-003) Tj")) {
			t.Errorf("the default output is not compressed")
		}
	}
}

// TestRenderDeterministic: the same invoice renders to the same bytes.
func TestRenderDeterministic(t *testing.T) {
	d := invoicepdf.Document{Seller: invoicepdf.DefaultSeller, Invoice: testInvoice(), TenantName: "ACME Corporation", TenantDomain: "acme.fr"}
	if a, b := render(t, d, invoicepdf.Options{}), render(t, d, invoicepdf.Options{}); !bytes.Equal(a, b) {
		t.Error("two renderings of one invoice differ")
	}
}

// TestRenderOutsideWindows1252 prints characters the core fonts lack as
// "?", and the rest of the document normally.
func TestRenderOutsideWindows1252(t *testing.T) {
	inv := testInvoice()
	inv.Status, inv.PaidAt = tenant.InvoiceOpen, nil
	d := invoicepdf.Document{Seller: invoicepdf.DefaultSeller, Invoice: inv, TenantName: "ООО Ромашка 株式会社", TenantDomain: "example.ru"}
	_, text := pageText(t, render(t, d, invoicepdf.Options{}))
	if !strings.Contains(text, "(??? ??????? ????)") {
		t.Errorf("page content lacks the name as question marks")
	}
	if !strings.Contains(text, "Payment due by 2026-12-15") {
		t.Errorf("page content lacks the due date line")
	}
}
