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

// APIKeyLoaders batch Tenant.apiKeys for one operation, as InvoiceLoaders
// do invoices: one page loader per distinct (page, includeRevoked),
// keyed by tenant id, and one loader of the totals per includeRevoked.
type APIKeyLoaders struct {
	store *db.Store
	wait  time.Duration

	mu     sync.Mutex
	pages  map[apiKeyArgs]*dataloader.Loader[string, *tenant.APIKeyPage]
	counts map[bool]*dataloader.Loader[string, int]
}

type apiKeyArgs struct {
	page           db.Page
	includeRevoked bool
}

// NewAPIKeyLoaders builds the API key loaders of one operation.
func NewAPIKeyLoaders(store *db.Store, wait time.Duration) *APIKeyLoaders {
	return &APIKeyLoaders{store: store, wait: wait,
		pages:  map[apiKeyArgs]*dataloader.Loader[string, *tenant.APIKeyPage]{},
		counts: map[bool]*dataloader.Loader[string, int]{}}
}

// Page returns the page loader for k, creating it on first use.
func (l *APIKeyLoaders) Page(k apiKeyArgs) *dataloader.Loader[string, *tenant.APIKeyPage] {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p := l.pages[k]; p != nil {
		return p
	}
	p := newLoader(l.pageBatch(k), l.wait)
	l.pages[k] = p
	return p
}

// Count returns the totals loader for includeRevoked, creating it on first use.
func (l *APIKeyLoaders) Count(includeRevoked bool) *dataloader.Loader[string, int] {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c := l.counts[includeRevoked]; c != nil {
		return c
	}
	c := newLoader(l.countBatch(includeRevoked), l.wait)
	l.counts[includeRevoked] = c
	return c
}

func (l *APIKeyLoaders) pageBatch(k apiKeyArgs) func(context.Context, []string) ([]*tenant.APIKeyPage, []error) {
	return func(ctx context.Context, ids []string) ([]*tenant.APIKeyPage, []error) {
		return l.store.APIKeyPagesByTenant(ctx, ids, k.page, k.includeRevoked)
	}
}

func (l *APIKeyLoaders) countBatch(includeRevoked bool) func(context.Context, []string) ([]int, []error) {
	return func(ctx context.Context, ids []string) ([]int, []error) {
		return l.store.APIKeyCountsByTenant(ctx, ids, includeRevoked)
	}
}

// apiKeyConnection turns a page into the GraphQL connection.
func apiKeyConnection(p *tenant.APIKeyPage) *graph.APIKeyConnection {
	c := &graph.APIKeyConnection{Nodes: p.Keys, Edges: make([]*graph.APIKeyEdge, len(p.Keys)),
		PageInfo: pageInfoOf(p.Keys, p.PageEnds, db.APIKeyCursor)}
	for i, k := range p.Keys {
		c.Edges[i] = &graph.APIKeyEdge{Cursor: db.APIKeyCursor(k), Node: k}
	}
	return c
}

// primeAPIKeys is prefetch for Tenant.apiKeys over a page of tenants: one
// statement per distinct set of arguments selected, plus one for the
// totals per includeRevoked when totalCount is selected.
func primeAPIKeys(ctx context.Context, p *prefetchRun) {
	wg, l, ids := p.wg, p.l.APIKeys, p.ids
	op := graphql.GetOperationContext(ctx)
	seen := map[apiKeyArgs]bool{}
	counted := map[bool]bool{}
	for _, f := range selectedTenantSubfields(ctx, "apiKeys") {
		var k apiKeyArgs
		var err error
		if !tenantArgs(ctx, f, func(cr *graph.ComplexityRoot) {
			cr.Tenant.APIKeys = func(_ int, first *int, after *string, last *int, before *string, includeRevoked *bool) int {
				k.includeRevoked = deref(includeRevoked)
				k.page, err = apiKeyPages.window(connArgs{First: first, After: after, Last: last, Before: before}, f.Arguments, op.Variables)
				return 0
			}
		}) || err != nil {
			continue // the resolver reports it
		}
		for _, g := range graphql.CollectFields(op, f.Selections, []string{"ApiKeyConnection"}) {
			switch {
			case g.Name == "totalCount" && !counted[k.includeRevoked]:
				counted[k.includeRevoked] = true
				loader, batch := l.Count(k.includeRevoked), l.countBatch(k.includeRevoked)
				wg.Go(func() { prime(ctx, loader, ids, batch) })
			case g.Name != "totalCount" && g.Name != "__typename" && !seen[k]:
				seen[k] = true
				loader, batch := l.Page(k), l.pageBatch(k)
				wg.Go(func() { prime(ctx, loader, ids, batch) })
			}
		}
	}
}
