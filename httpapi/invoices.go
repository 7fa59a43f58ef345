package httpapi

import (
	"bytes"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"tenantapi/db"
	"tenantapi/invoicepdf"
	"tenantapi/tenant"
)

// invoicePDF serves GET /invoices/{id}.pdf, the invoices' pdfUrl, behind
// the same authentication as /graphql. Without credentials it answers 401.
// An invoice the caller may not read answers 404 exactly like a missing
// one: another tenant's (the SQL carries the caller's scope), and any
// invoice for a key without BILLING_READ, so that a key cannot even learn
// which invoice ids exist.
func invoicePDF(store *db.Store, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		a := tenant.ActorFrom(ctx)
		if a.Kind == tenant.Anonymous {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tenant-api"`)
			writeError(w, r, http.StatusUnauthorized, tenant.Errorf(tenant.EUNAUTHENTICATED, "authentication required: send Authorization: Bearer <API key or admin secret>"))
			return
		}
		id, ok := strings.CutSuffix(r.PathValue("file"), ".pdf")
		if !ok || !a.Has(tenant.PermBillingRead) {
			writeError(w, r, http.StatusNotFound, tenant.NotFound("invoice"))
			return
		}
		inv, err := store.Invoice(ctx, strings.ToLower(id))
		var t *tenant.Tenant
		if err == nil {
			t, err = store.Tenant(ctx, inv.TenantID)
		}
		var billing []*tenant.Billing
		var errs []error
		if err == nil {
			billing, errs = store.BillingByTenant(ctx, []string{inv.TenantID})
			err = errs[0]
		}
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
		doc := invoicepdf.Document{Seller: invoicepdf.DefaultSeller, Invoice: inv, TenantName: t.Name, TenantDomain: t.Domain}
		if e := billing[0].BillingEmail; e != nil {
			doc.BillingEmail = *e
		}
		var buf bytes.Buffer
		if err := invoicepdf.Render(&buf, doc, invoicepdf.Options{}); err != nil {
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
		_, _ = w.Write(buf.Bytes())
	})
}
