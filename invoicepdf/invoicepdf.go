// Package invoicepdf renders an invoice as a one-page A4 PDF with
// github.com/go-pdf/fpdf. It depends on tenant only.
//
// Text is set in the Go fonts (golang.org/x/image/font/gofont), embedded
// as Unicode TrueType subsets: Latin (all of Europe's alphabets), Greek and
// Cyrillic, so tenant names such as "Łódź Sp. z o.o." or "ООО Ромашка"
// print as written. A character the fonts lack (CJK, for one) prints as
// "?".
package invoicepdf

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"

	"tenantapi/tenant"
)

// fontFamily is the embedded fonts' name in the PDF.
const fontFamily = "Go"

// embeddedFonts are the parsed fonts, to ask which characters they have
// (a *sfnt.Font is safe for concurrent use, each caller with its own
// sfnt.Buffer).
var embeddedFonts = sync.OnceValue(func() []*sfnt.Font {
	var fonts []*sfnt.Font
	for _, ttf := range [][]byte{goregular.TTF, gobold.TTF} {
		f, err := sfnt.Parse(ttf)
		if err != nil {
			panic("invoicepdf: the embedded Go font does not parse: " + err.Error())
		}
		fonts = append(fonts, f)
	}
	return fonts
})

// printable returns s with every character both embedded fonts lack as "?".
func printable(s string) string {
	var buf sfnt.Buffer
	fonts := embeddedFonts()
	return strings.Map(func(r rune) rune {
		for _, f := range fonts {
			if i, err := f.GlyphIndex(&buf, r); err != nil || i == 0 {
				return '?'
			}
		}
		return r
	}, s)
}

// Options tune the output.
type Options struct {
	// Uncompressed leaves the page content readable in the file (tests,
	// debugging); by default it is Flate-compressed.
	Uncompressed bool
}

// Render writes inv as a PDF to w. Everything printed comes from the
// invoice's row and its snapshot, frozen when it was issued (seller,
// customer, lines, tax): renaming the tenant later changes nothing. The
// output depends only on inv: the PDF's creation date is its issue time,
// so the same invoice renders the same bytes every time (its status and
// payment date are printed, so marking it paid or void changes them).
func Render(w io.Writer, inv *tenant.Invoice, o Options) error {
	snap := &inv.Snapshot
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(!o.Uncompressed)
	pdf.SetCatalogSort(true) // fonts and resources in a stable order: same invoice, same bytes
	pdf.SetCreationDate(inv.CreatedAt.UTC())
	pdf.SetModificationDate(inv.CreatedAt.UTC())
	pdf.SetTitle("Invoice "+inv.Number, true)
	pdf.SetAuthor(snap.Seller.Name, true)
	pdf.SetCreator("tenantapi", true)
	pdf.SetProducer("tenantapi", true)
	pdf.SetMargins(20, 20, 20)
	pdf.SetAutoPageBreak(false, 20)
	pdf.AddUTF8FontFromBytes(fontFamily, "", goregular.TTF)
	pdf.AddUTF8FontFromBytes(fontFamily, "B", gobold.TTF)
	pdf.AddPage()
	tr := printable
	text := func(style string, size float64, w, h float64, s, align string) {
		pdf.SetFont(fontFamily, style, size)
		pdf.CellFormat(w, h, tr(s), "", 1, align, false, 0, "")
	}

	// Seller, top left; the invoice's identity, top right.
	top := pdf.GetY()
	text("B", 16, 100, 8, snap.Seller.Name, "L")
	for _, l := range snap.Seller.Address {
		text("", 10, 100, 5, l, "L")
	}
	if snap.Seller.Email != "" {
		text("", 10, 100, 5, snap.Seller.Email, "L")
	}
	if snap.Seller.TaxID != "" {
		text("", 10, 100, 5, "VAT ID "+snap.Seller.TaxID, "L")
	}
	left := pdf.GetY()
	pdf.SetXY(110, top)
	text("B", 20, 80, 10, "INVOICE", "R")
	for _, kv := range [][2]string{
		{"Number", inv.Number},
		{"Date", inv.Date.String()},
		{"Due date", inv.DueDate.String()},
		{"Status", string(inv.Status)},
	} {
		pdf.SetX(110)
		text("", 10, 80, 5, kv[0]+": "+kv[1], "R")
	}
	pdf.SetY(max(left, pdf.GetY()) + 12)

	// Bill to.
	b := snap.BillTo
	text("B", 11, 0, 6, "Bill to", "L")
	text("", 10, 0, 5, b.Name, "L")
	for _, l := range b.Address {
		text("", 10, 0, 5, l, "L")
	}
	for _, l := range []string{b.Country, b.Domain, b.Email} {
		if l != "" {
			text("", 10, 0, 5, l, "L")
		}
	}
	if b.TaxID != "" {
		text("", 10, 0, 5, "VAT ID "+b.TaxID, "L")
	}
	pdf.Ln(10)

	// The lines.
	cur := inv.Currency
	pdf.SetFont(fontFamily, "B", 10)
	pdf.SetFillColor(235, 235, 235)
	pdf.CellFormat(100, 8, "Description", "B", 0, "L", true, 0, "")
	pdf.CellFormat(15, 8, "Qty", "B", 0, "R", true, 0, "")
	pdf.CellFormat(27, 8, "Unit price", "B", 0, "R", true, 0, "")
	pdf.CellFormat(28, 8, tr("Amount ("+cur+")"), "B", 1, "R", true, 0, "")
	pdf.SetFont(fontFamily, "", 10)
	for _, l := range snap.Lines {
		y := pdf.GetY()
		pdf.MultiCell(100, 6, tr(l.Description), "", "L", false)
		end := pdf.GetY()
		pdf.SetXY(120, y)
		pdf.CellFormat(15, 6, fmt.Sprint(l.Quantity), "", 0, "R", false, 0, "")
		pdf.CellFormat(27, 6, tr(l.UnitAmount().Formatted()), "", 0, "R", false, 0, "")
		pdf.CellFormat(28, 6, tr(l.Amount().Formatted()), "", 1, "R", false, 0, "")
		pdf.SetY(end + 1)
	}
	pdf.Line(20, pdf.GetY(), 190, pdf.GetY())
	pdf.Ln(3)
	total := func(style, label string, m tenant.Money) {
		pdf.SetFont(fontFamily, style, 10)
		pdf.CellFormat(142, 7, tr(label), "", 0, "R", false, 0, "")
		pdf.CellFormat(28, 7, tr(m.Formatted()), "", 1, "R", false, 0, "")
	}
	total("", "Subtotal", inv.Subtotal())
	total("", fmt.Sprintf("Tax (%d.%02d%%)", snap.TaxRateBP/100, snap.TaxRateBP%100), inv.Tax())
	total("B", "Total", inv.Amount())
	pdf.Ln(8)

	// Terms and status.
	pdf.SetFont(fontFamily, "", 9)
	note := fmt.Sprintf("Billing period %s to %s. Payment due by %s.", inv.PeriodStart, inv.PeriodEnd, inv.DueDate)
	switch {
	case inv.Status == tenant.InvoicePaid && inv.PaidAt != nil:
		note = fmt.Sprintf("Billing period %s to %s. Paid on %s. Thank you.", inv.PeriodStart, inv.PeriodEnd, inv.PaidAt.UTC().Format(time.DateOnly))
	case inv.Status == tenant.InvoiceVoid:
		note = fmt.Sprintf("Billing period %s to %s. This invoice is void: nothing is owed.", inv.PeriodStart, inv.PeriodEnd)
	}
	pdf.MultiCell(0, 5, tr(note), "", "L", false)
	return pdf.Output(w)
}
