package resolvers

import (
	"context"
	"encoding/json"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/graph-gophers/dataloader/v7"
	"github.com/vektah/gqlparser/v2/ast"

	"tenantapi/db"
	"tenantapi/graph"
	"tenantapi/tenant"
)

// ActionMiddleware names the mutation being run in the context of each root
// mutation field, so the audit entries its transaction writes record it
// (tenant.WithAction, read by db's inTx). Install it with AroundRootFields.
func ActionMiddleware(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	if oc := graphql.GetOperationContext(ctx); oc != nil && oc.Operation != nil && oc.Operation.Operation == ast.Mutation {
		if rf := graphql.GetRootFieldContext(ctx); rf != nil && rf.Field.Field != nil {
			ctx = tenant.WithAction(ctx, rf.Field.Name)
		}
	}
	return next(ctx)
}

// AuditLoaders batch Tenant.auditLog. It takes arguments, so the loaders
// are keyed by tenant and query: one batch runs one statement per distinct
// query, and a list asks the same of every tenant (one statement for the
// pages, one for totalCount).
type AuditLoaders struct {
	Pages  *dataloader.Loader[auditKey, *tenant.AuditPage]
	Counts *dataloader.Loader[auditKey, int]
}

// auditKey is one tenant's log for one query (the query's JSON: AuditQuery
// holds slices, so it is not comparable itself).
type auditKey struct {
	TenantID string
	Query    string
}

// NewAuditLoaders builds a fresh set of audit loaders over store.
func NewAuditLoaders(store *db.Store, wait time.Duration) *AuditLoaders {
	return &AuditLoaders{
		Pages: newGroupedLoader(func(ctx context.Context, q tenant.AuditQuery, ids []string) ([]*tenant.AuditPage, []error) {
			return store.AuditLogByTenant(ctx, q, ids)
		}, wait),
		Counts: newGroupedLoader(func(ctx context.Context, q tenant.AuditQuery, ids []string) ([]int, []error) {
			return store.CountAuditByTenant(ctx, q.Filter, ids)
		}, wait),
	}
}

// newGroupedLoader is a loader whose batch runs batch once per distinct
// query among its keys.
func newGroupedLoader[V any](batch func(context.Context, tenant.AuditQuery, []string) ([]V, []error), wait time.Duration) *dataloader.Loader[auditKey, V] {
	fn := func(ctx context.Context, keys []auditKey) []*dataloader.Result[V] {
		out := make([]*dataloader.Result[V], len(keys))
		groups := map[string][]int{}
		var order []string
		for i, k := range keys {
			if _, ok := groups[k.Query]; !ok {
				order = append(order, k.Query)
			}
			groups[k.Query] = append(groups[k.Query], i)
		}
		for _, qs := range order {
			idx := groups[qs]
			var q tenant.AuditQuery
			if err := json.Unmarshal([]byte(qs), &q); err != nil {
				for _, i := range idx {
					out[i] = &dataloader.Result[V]{Error: err}
				}
				continue
			}
			ids := make([]string, len(idx))
			for j, i := range idx {
				ids[j] = keys[i].TenantID
			}
			vals, errs := batch(ctx, q, ids)
			for j, i := range idx {
				out[i] = &dataloader.Result[V]{Data: vals[j], Error: errs[j]}
			}
		}
		return out
	}
	return dataloader.NewBatchedLoader(fn, dataloader.WithWait[auditKey, V](wait), dataloader.WithBatchCapacity[auditKey, V](1000), dataloader.WithInputCapacity[auditKey, V](loaderInputCapacity))
}

// auditQuery turns a page and the filter of Tenant.auditLog into a
// validated query.
func auditQuery(page db.Page, f *graph.AuditFilter) (tenant.AuditQuery, error) {
	q := tenant.AuditQuery{Page: page}
	if f != nil {
		q.Filter = tenant.AuditFilter{Actions: f.Action, Actor: f.Actor, Since: utc(f.Since), Until: utc(f.Until)}
	}
	return q, q.Validate()
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// countQuery is the key of a page's totalCount: the filter alone.
func countQuery(q tenant.AuditQuery) tenant.AuditQuery {
	return tenant.AuditQuery{Filter: q.Filter}
}

// primeAudit is prefetch for Tenant.auditLog over a page of tenants: one
// statement per distinct set of arguments for the pages, and one for their
// totalCount when it is selected.
func primeAudit(ctx context.Context, p *prefetchRun) {
	wg, store, l, ids := p.wg, p.store, p.l.Audit, p.ids
	for _, sel := range selectedAuditQueries(ctx) {
		wg.Go(func() {
			pages, errs := store.AuditLogByTenant(ctx, sel.query, ids)
			for i, id := range ids {
				if errs[i] == nil {
					l.Pages.Prime(ctx, auditKey{id, sel.query.Key()}, pages[i])
				}
			}
		})
		if sel.total {
			wg.Go(func() {
				counts, errs := store.CountAuditByTenant(ctx, sel.query.Filter, ids)
				for i, id := range ids {
					if errs[i] == nil {
						l.Counts.Prime(ctx, auditKey{id, countQuery(sel.query).Key()}, counts[i])
					}
				}
			})
		}
	}
}

type auditSelection struct {
	query tenant.AuditQuery
	total bool // totalCount is selected
}

// selectedAuditQueries returns the valid, distinct arguments of the
// Tenant.auditLog fields selected under a TenantConnection (nodes and
// edges.node). Invalid arguments are left to the resolver to refuse.
func selectedAuditQueries(ctx context.Context) []auditSelection {
	op := graphql.GetOperationContext(ctx)
	seen := map[string]int{}
	var out []auditSelection
	for _, f := range selectedTenantSubfields(ctx, "auditLog") {
		var q tenant.AuditQuery
		var err error
		if !tenantArgs(ctx, f, func(cr *graph.ComplexityRoot) {
			cr.Tenant.AuditLog = func(_ int, first *int, after *string, last *int, before *string, filter *graph.AuditFilter) int {
				var page db.Page
				if page, err = auditPages.window(connArgs{First: first, After: after, Last: last, Before: before}, f.Arguments, op.Variables); err == nil {
					q, err = auditQuery(page, filter)
				}
				return 0
			}
		}) || err != nil {
			continue // the resolver reports it
		}
		total := false
		for _, c := range graphql.CollectFields(op, f.Selections, []string{"AuditLogConnection"}) {
			total = total || c.Name == "totalCount"
		}
		if i, dup := seen[q.Key()]; dup {
			out[i].total = out[i].total || total
			continue
		}
		seen[q.Key()] = len(out)
		out = append(out, auditSelection{query: q, total: total})
	}
	return out
}
