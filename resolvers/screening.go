package resolvers

import (
	"context"

	"tenantapi/db"
	"tenantapi/graph"
	"tenantapi/tenant"
)

// primeScreening is prefetch for the screening configuration fields of a
// page of tenants: one statement per selected field the caller may read.
func primeScreening(ctx context.Context, wg group, store *db.Store, l *Loaders, a *tenant.Actor, ids []string, fields map[string]bool) {
	if a.Has(tenant.PermKeywordsRead) && fields["keywords"] {
		wg.Go(func() { prime(ctx, l.Keywords, ids, store.KeywordsByTenant) })
	}
	if a.Has(tenant.PermIndustriesRead) && fields["industries"] {
		wg.Go(func() { prime(ctx, l.Industries, ids, store.IndustriesByTenant) })
	}
	if a.Has(tenant.PermRiskMatrixRead) && fields["riskMatrix"] {
		wg.Go(func() { prime(ctx, l.RiskMatrix, ids, store.RiskMatricesByTenant) })
	}
	if a.Has(tenant.PermWebsiteConfigRead) && fields["websiteConfig"] {
		wg.Go(func() { prime(ctx, l.WebsiteConfig, ids, store.WebsiteConfigsByTenant) })
	}
	if a.Has(tenant.PermTenantRead) && fields["watchlist"] {
		wg.Go(func() { prime(ctx, l.Watchlist, ids, store.WatchlistByTenant) })
	}
}

// validateOnly reads an optional validateOnly argument (default false).
func validateOnly(b *bool) bool { return b != nil && *b }

// riskWeightInputs turns the GraphQL weights into the domain's.
func riskWeightInputs(ws []*graph.RiskWeightInput) []tenant.RiskWeightInput {
	out := make([]tenant.RiskWeightInput, len(ws))
	for i, w := range ws {
		out[i] = tenant.RiskWeightInput{Check: w.Check, Weight: w.Weight}
	}
	return out
}
