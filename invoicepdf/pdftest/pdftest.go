// Package pdftest reads back the PDFs of package invoicepdf in tests: it
// validates them with pdfcpu and returns the text a page shows. Only tests
// import it (pdfcpu stays out of the product's binary).
package pdftest

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

func init() { model.ConfigPath = "disable" } // pdfcpu: no configuration directory

// PageText validates the PDF with pdfcpu and returns its page count and
// the text its first page shows: each string the content stream draws
// (Tj), unescaped and decoded from UTF-16BE (how text in an embedded
// Unicode font is written), one per line.
func PageText(t testing.TB, pdf []byte) (int, string) {
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
	var lines []string
	for _, m := range tjString.FindAllSubmatch(content, -1) {
		lines = append(lines, decodeUTF16(t, unescapePDF(m[1])))
	}
	return ctx.PageCount, strings.Join(lines, "\n")
}

// tjString matches a literal string shown with Tj.
var tjString = regexp.MustCompile(`\(((?:[^\\()]|\\.)*)\)\s*Tj`)

// unescapePDF undoes a PDF literal string's backslash escapes.
func unescapePDF(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+1 < len(b) {
			i++
			switch b[i] {
			case 'r':
				out = append(out, '\r')
			case 'n':
				out = append(out, '\n')
			default:
				out = append(out, b[i])
			}
			continue
		}
		out = append(out, b[i])
	}
	return out
}

func decodeUTF16(t testing.TB, b []byte) string {
	t.Helper()
	if len(b)%2 != 0 {
		t.Fatalf("a shown string of odd length %d is not UTF-16BE: %q", len(b), b)
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	return string(utf16.Decode(u))
}

// UTF16Escaped is s as the file holds it in an uncompressed content stream.
func UTF16Escaped(s string) []byte {
	var out []byte
	for _, u := range utf16.Encode([]rune(s)) {
		for _, c := range []byte{byte(u >> 8), byte(u)} {
			if c == '\\' || c == '(' || c == ')' {
				out = append(out, '\\')
			}
			out = append(out, c)
		}
	}
	return out
}
