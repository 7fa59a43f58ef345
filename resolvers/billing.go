package resolvers

import (
	"context"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/graph-gophers/dataloader/v7"

	"tenantapi/db"
	"tenantapi/graph"
	"tenantapi/tenant"
)

// InvoiceLoaders batch Tenant.invoices for one operation. A nested
// connection's arguments are the same for every tenant of a list, so there
// is one page loader per distinct page (first, after, last, before,
// offset) and reading of the snapshot (invoicePageKey), keyed by tenant
// id, and one loader of the totals (which do not depend on the arguments).
type InvoiceLoaders struct {
	store *db.Store
	wait  time.Duration

	mu    sync.Mutex
	pages map[invoicePageKey]*dataloader.Loader[string, *tenant.InvoicePage]

	Counts *dataloader.Loader[string, int]
}

// NewInvoiceLoaders builds the invoice loaders of one operation.
func NewInvoiceLoaders(store *db.Store, wait time.Duration) *InvoiceLoaders {
	return &InvoiceLoaders{store: store, wait: wait, pages: map[invoicePageKey]*dataloader.Loader[string, *tenant.InvoicePage]{},
		Counts: newLoader(store.InvoiceCountsByTenant, wait)}
}

// invoicePageKey is a page of invoices and whether their snapshots are
// read (invoiceSnapshotSelected).
type invoicePageKey struct {
	db.Page
	withSnapshot bool
}

// Page returns the page loader for k, creating it on first use.
func (l *InvoiceLoaders) Page(k invoicePageKey) *dataloader.Loader[string, *tenant.InvoicePage] {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p := l.pages[k]; p != nil {
		return p
	}
	p := newLoader(l.pageBatch(k), l.wait)
	l.pages[k] = p
	return p
}

func (l *InvoiceLoaders) pageBatch(k invoicePageKey) func(context.Context, []string) ([]*tenant.InvoicePage, []error) {
	return func(ctx context.Context, ids []string) ([]*tenant.InvoicePage, []error) {
		return l.store.InvoicePagesByTenant(ctx, ids, k.Page, k.withSnapshot)
	}
}

// invoicePageOf is the key of page for the Tenant.invoices field being
// resolved.
func invoicePageOf(ctx context.Context, page db.Page) invoicePageKey {
	return invoicePageKey{Page: page, withSnapshot: invoiceSnapshotSelected(graphql.GetOperationContext(ctx), graphql.GetFieldContext(ctx).Field)}
}

// invoiceFieldsWithoutSnapshot are the Invoice fields that print nothing of
// its snapshot. A connection selecting only these reads its invoices
// without it (db.InvoicePagesByTenant): a dashboard's or a list's recent
// invoices. Any other field, including one added later, reads it.
var invoiceFieldsWithoutSnapshot = map[string]bool{"__typename": true, "id": true, "number": true, "status": true,
	"kind": true, "date": true, "dueDate": true, "amount": true, "currency": true, "description": true,
	"periodStart": true, "periodEnd": true, "pdfUrl": true, "signedPdfUrl": true, "paidAt": true, "createdAt": true}

// invoiceSnapshotSelected reports whether f, a selected Tenant.invoices
// field, selects an Invoice field that prints its snapshot, through nodes
// or edges.node, fragments and aliases included.
func invoiceSnapshotSelected(op *graphql.OperationContext, f graphql.CollectedField) bool {
	for _, h := range connectionNodeFields(op, f.Selections, "Invoice") {
		if !invoiceFieldsWithoutSnapshot[h.Name] {
			return true
		}
	}
	return false
}

// MaxInvoiceOffset bounds Tenant.invoices' offset: PostgreSQL reads the
// rows it skips, so a deeper page is read by cursor.
const MaxInvoiceOffset = 10000

// invoiceConnection turns a page into the GraphQL connection.
func invoiceConnection(p *tenant.InvoicePage) *graph.InvoiceConnection {
	c := &graph.InvoiceConnection{Nodes: p.Invoices, Edges: make([]*graph.InvoiceEdge, len(p.Invoices)),
		PageInfo: pageInfoOf(p.Invoices, p.PageEnds, db.InvoiceCursor)}
	for i, inv := range p.Invoices {
		c.Edges[i] = &graph.InvoiceEdge{Cursor: db.InvoiceCursor(inv), Node: inv}
	}
	return c
}

// selectsField reports whether the current field's selection includes name
// (on an object of type typ).
func selectsField(ctx context.Context, typ, name string) bool {
	for _, f := range graphql.CollectFieldsCtx(ctx, []string{typ}) {
		if f.Name == name {
			return true
		}
	}
	return false
}

// primeInvoices is prefetch for Tenant.invoices over a page of tenants:
// one statement per distinct page selected, plus one for the
// totals when totalCount is.
func primeInvoices(ctx context.Context, p *prefetchRun) {
	wg, l, ids := p.wg, p.l, p.ids
	op := graphql.GetOperationContext(ctx)
	seen := map[invoicePageKey]bool{}
	counts := false
	for _, f := range selectedTenantSubfields(ctx, "invoices") {
		k := invoicePageKey{withSnapshot: invoiceSnapshotSelected(op, f)}
		var err error
		if !tenantArgs(ctx, f, func(cr *graph.ComplexityRoot) {
			cr.Tenant.Invoices = func(_ int, first *int, after *string, last *int, before *string, offset *int) int {
				k.Page, err = invoicePages.window(connArgs{First: first, After: after, Last: last, Before: before, Offset: offset}, f.Arguments, op.Variables)
				return 0
			}
		}) || err != nil {
			continue // the resolver reports it
		}
		for _, g := range graphql.CollectFields(op, f.Selections, []string{"InvoiceConnection"}) {
			if g.Name == "totalCount" {
				counts = true
			} else if !seen[k] {
				seen[k] = true
				loader := l.Invoices.Page(k)
				batch := l.Invoices.pageBatch(k)
				wg.Go(func() { prime(ctx, loader, ids, batch) })
			}
		}
	}
	if counts {
		wg.Go(func() { prime(ctx, l.Invoices.Counts, ids, p.store.InvoiceCountsByTenant) })
	}
}

// primeBillingAfterWrite replaces the operation's cached billing of a
// tenant with what a mutation returned, so the payload's tenant { billing }
// shows it too.
func primeBillingAfterWrite(ctx context.Context, b *tenant.Billing) {
	if b != nil {
		loaderOf[*tenant.Billing](loaders(ctx), "billing").Clear(ctx, b.TenantID).Prime(ctx, b.TenantID, b)
	}
}

// InvoiceLinkTTL is how long an Invoice.signedPdfUrl opens the PDF.
const InvoiceLinkTTL = 10 * time.Minute

// billingUsage is Billing.usage: the month's usage u beside plan's limits
// (the reference's billing usage block).
func billingUsage(u *tenant.Usage, plan *tenant.Plan) *graph.BillingUsage {
	l := plan.Limits()
	return &graph.BillingUsage{ActiveUsers: u.ActiveUsers, Interactions: u.InteractionsThisMonth,
		LimitUsers: l.Users, LimitInteractions: l.InteractionsPerMonth}
}
