package resolvers

import (
	"context"

	"tenantapi/db"
	"tenantapi/tenant"
)

// accountStatus composes the summary from the loaders the other fields use:
// every part is requested before any is awaited, so the parts load in one
// batch each (and share batches with billing, usage, credits, watchlist).
func (r *Resolver) accountStatus(ctx context.Context, t *tenant.Tenant) (*tenant.AccountStatus, error) {
	l := loaders(ctx)
	billing := l.Billing.Load(ctx, t.ID)
	plan := l.Plan.Load(ctx, t.PlanID)
	quota := l.Quota.Load(ctx, t.ID)
	usage := l.Usage.Load(ctx, t.ID)
	credits := l.Metering.Credits.Load(ctx, t.ID)
	watchlist := l.Watchlist.Load(ctx, t.ID)
	b, err := billing()
	if err != nil {
		return nil, err
	}
	p, err := plan()
	if err != nil {
		return nil, err
	}
	q, err := quota()
	if err != nil {
		return nil, err
	}
	u, err := usage()
	if err != nil {
		return nil, err
	}
	c, err := credits()
	if err != nil {
		return nil, err
	}
	w, err := watchlist()
	if err != nil {
		return nil, err
	}
	return tenant.NewAccountStatus(b, p, q, u, c, w), nil
}

// primeAccount loads, for a list, the parts of accountStatus that no other
// selected field primes already.
func primeAccount(ctx context.Context, wg group, store *db.Store, l *Loaders, a *tenant.Actor, ids, planIDs []string, fields map[string]bool) {
	if !fields["accountStatus"] || !a.Has(tenant.PermBillingRead) {
		return
	}
	readable := a.Has(tenant.PermTenantRead)
	if !fields["billing"] {
		wg.Go(func() { prime(ctx, l.Billing, ids, store.BillingByTenant) })
	}
	if !(readable && (fields["plan"] || fields["limits"])) {
		wg.Go(func() { prime(ctx, l.Plan, planIDs, store.PlansByID) })
	}
	if !(readable && fields["usage"]) {
		wg.Go(func() { prime(ctx, l.Usage, ids, store.UsageByTenant) })
	}
	if !fields["credits"] {
		wg.Go(func() { prime(ctx, l.Metering.Credits, ids, store.CreditsByTenant) })
	}
	if !(readable && fields["watchlist"]) {
		wg.Go(func() { prime(ctx, l.Watchlist, ids, store.WatchlistByTenant) })
	}
	wg.Go(func() { prime(ctx, l.Quota, ids, store.QuotaByTenant) })
}
