package httpapi

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"tenantapi/db"
	"tenantapi/invoicepdf"
	"tenantapi/signedurl"
	"tenantapi/tenant"
)

// invoicePDF serves GET /invoices/{id}.pdf, the invoices' pdfUrl, behind
// the same authentication as /graphql, and their signedPdfUrl without it.
//
// With `signature` in the query the link itself is the credential: a valid,
// unexpired signature over this path (signedurl, keyed by linkKey) serves
// the PDF to anyone who holds it; a tampered one answers 403 FORBIDDEN and
// an expired one 403 too, saying to read signedPdfUrl again.
//
// Otherwise, without credentials it answers 401. An invoice the caller may
// not read answers 404 exactly like a missing one: another tenant's (the
// SQL carries the caller's scope), and any invoice for a key without
// BILLING_READ, so that a key cannot even learn which invoice ids exist.
//
// The PDF renders the invoice's snapshot, frozen at issue: the tenant's
// current name or billing profile play no part.
func invoicePDF(store *db.Store, linkKey []byte, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		a := tenant.ActorFrom(ctx)
		id, ok := strings.CutSuffix(r.PathValue("file"), ".pdf")
		if q := r.URL.Query(); q.Has("signature") {
			err := signedurl.Verify(linkKey, r.URL.Path, q, store.Now())
			switch {
			case errors.Is(err, signedurl.ErrExpired):
				writeError(w, r, http.StatusForbidden, tenant.Errorf(tenant.EFORBIDDEN, "this invoice link has expired: read the invoice's signedPdfUrl again for a new one"))
				return
			case err != nil:
				writeError(w, r, http.StatusForbidden, tenant.Errorf(tenant.EFORBIDDEN, "this invoice link's signature is not valid"))
				return
			}
			// The signature names this invoice's path: read it as the system.
			ctx = tenant.WithActor(ctx, &tenant.Actor{Kind: tenant.Admin})
		} else {
			if a.Kind == tenant.Anonymous {
				w.Header().Set("WWW-Authenticate", `Bearer realm="tenant-api"`)
				writeError(w, r, http.StatusUnauthorized, tenant.Errorf(tenant.EUNAUTHENTICATED, "authentication required: send Authorization: Bearer <API key or admin secret>, or open the invoice's signedPdfUrl"))
				return
			}
			if !a.Has(tenant.PermBillingRead) {
				ok = false
			}
		}
		if !ok {
			writeError(w, r, http.StatusNotFound, tenant.NotFound("invoice"))
			return
		}
		inv, err := store.Invoice(ctx, strings.ToLower(id))
		if err != nil {
			status := http.StatusInternalServerError
			switch tenant.ErrorCode(err) {
			case tenant.ENOTFOUND:
				status = http.StatusNotFound
			case tenant.EUNAVAILABLE:
				status = http.StatusServiceUnavailable
			default:
				log.ErrorContext(ctx, "invoice pdf", "request_id", tenant.RequestID(ctx), "err", err)
			}
			writeError(w, r, status, err)
			return
		}
		var buf bytes.Buffer
		if err := invoicepdf.Render(&buf, inv, invoicepdf.Options{}); err != nil {
			log.ErrorContext(ctx, "invoice pdf", "request_id", tenant.RequestID(ctx), "err", err)
			writeError(w, r, http.StatusInternalServerError, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/pdf")
		h.Set("Content-Disposition", `inline; filename="`+inv.Number+`.pdf"`)
		h.Set("Content-Length", strconv.Itoa(buf.Len()))
		h.Set("Cache-Control", "private, no-store") // the status changes (PAID, VOID); never in shared caches
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer") // a signed link never leaks through a Referer
		_, _ = w.Write(buf.Bytes())
	})
}
