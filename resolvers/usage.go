package resolvers

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/graph-gophers/dataloader/v7"
	"github.com/vektah/gqlparser/v2/ast"

	"tenantapi/db"
	"tenantapi/graph"
	"tenantapi/tenant"
)

// UsageLoaders batch Tenant.stats (credits and the usage report are rows
// of the association table). Stats take arguments, so their loader is keyed
// by tenant and query; one batch runs one statement per distinct query (a list asks the
// same of every tenant: one statement).
type UsageLoaders struct {
	Stats *dataloader.Loader[statsKey, *tenant.Stats]
}

// statsKey is one tenant's stats for one set of arguments.
type statsKey struct {
	TenantID string
	Query    tenant.StatsQuery
}

// NewUsageLoaders builds a fresh set of usage loaders over store.
func NewUsageLoaders(store *db.Store, wait time.Duration) *UsageLoaders {
	stats := func(ctx context.Context, keys []statsKey) []*dataloader.Result[*tenant.Stats] {
		out := make([]*dataloader.Result[*tenant.Stats], len(keys))
		groups := map[tenant.StatsQuery][]int{}
		var order []tenant.StatsQuery
		for i, k := range keys {
			if _, ok := groups[k.Query]; !ok {
				order = append(order, k.Query)
			}
			groups[k.Query] = append(groups[k.Query], i)
		}
		for _, q := range order {
			idx := groups[q]
			ids := make([]string, len(idx))
			for j, i := range idx {
				ids[j] = keys[i].TenantID
			}
			vals, errs := store.StatsByTenant(ctx, q, ids)
			for j, i := range idx {
				out[i] = &dataloader.Result[*tenant.Stats]{Data: vals[j], Error: errs[j]}
			}
		}
		return out
	}
	return &UsageLoaders{
		Stats: dataloader.NewBatchedLoader(stats, dataloader.WithWait[statsKey, *tenant.Stats](wait),
			dataloader.WithBatchCapacity[statsKey, *tenant.Stats](1000), dataloader.WithInputCapacity[statsKey, *tenant.Stats](loaderInputCapacity)),
	}
}

// wantsDistinct reports whether a stats selection asks for the distinct
// users or platforms (StatsQuery.Distinct).
func wantsDistinct(op *graphql.OperationContext, sel ast.SelectionSet) bool {
	for _, f := range graphql.CollectFields(op, sel, []string{"Stats"}) {
		if f.Name != "summary" {
			continue
		}
		for _, g := range graphql.CollectFields(op, f.Selections, []string{"StatsSummary"}) {
			if g.Name == "uniqueUsers" || g.Name == "uniquePlatforms" {
				return true
			}
		}
	}
	return false
}

// statsQuery turns the arguments of Tenant.stats into a validated query,
// with the defaults of the schema: endDate today (UTC), or startDate when
// that is later; startDate the first day of endDate's month.
func statsQuery(start, end *tenant.DateOrTime, g *tenant.Granularity, now time.Time) (tenant.StatsQuery, error) {
	q := tenant.StatsQuery{Granularity: deref(g)}
	switch {
	case end != nil:
		q.End = end.Date
	case start != nil && start.Date.After(tenant.DateOf(now)):
		q.End = start.Date
	default:
		q.End = tenant.DateOf(now)
	}
	if start != nil {
		q.Start = start.Date
	} else {
		q.Start = q.End.MonthStart()
	}
	return q, q.Validate()
}

// primeStats is prefetch for Tenant.stats over a page of tenants: one
// statement per distinct set of arguments (aliases may ask for several
// periods).
func primeStats(ctx context.Context, p *prefetchRun) {
	l, ids := p.l.Metering, p.ids
	for _, q := range selectedStatsQueries(ctx, p.store.Now()) {
		p.wg.Go(func() {
			vals, errs := p.store.StatsByTenant(ctx, q, ids)
			for i, id := range ids {
				if errs[i] == nil {
					l.Stats.Prime(ctx, statsKey{id, q}, vals[i])
				}
			}
		})
	}
}

// selectedStatsQueries returns the valid, distinct arguments of the
// Tenant.stats fields selected under a TenantConnection (nodes and
// edges.node). Invalid arguments are left to the resolver to refuse.
func selectedStatsQueries(ctx context.Context, now time.Time) []tenant.StatsQuery {
	op := graphql.GetOperationContext(ctx)
	seen := map[tenant.StatsQuery]bool{}
	var out []tenant.StatsQuery
	for _, f := range selectedTenantSubfields(ctx, "stats") {
		var q tenant.StatsQuery
		var err error
		if !tenantArgs(ctx, f, func(cr *graph.ComplexityRoot) {
			cr.Tenant.Stats = func(_ int, start, end *tenant.DateOrTime, g *tenant.Granularity) int {
				q, err = statsQuery(start, end, g, now)
				return 0
			}
		}) || err != nil {
			continue // the resolver reports it
		}
		q.Distinct = wantsDistinct(op, f.Selections)
		if seen[q] {
			continue
		}
		seen[q] = true
		out = append(out, q)
	}
	return out
}
