package resolvers

import (
	"context"

	"tenantapi/tenant"
)

// accountStatus composes the summary from the loaders the other fields use
// (its row's needs in resolvers/associations.go): every part is requested
// before any is awaited, so the parts load in one batch each (and share
// batches with billing, usage, credits, watchlist).
func accountStatus(ctx context.Context, l *Loaders, t *tenant.Tenant) (*tenant.AccountStatus, error) {
	billing := load[*tenant.Billing](ctx, l, t, "billing")
	plan := load[*tenant.Plan](ctx, l, t, "plan")
	quota := load[*tenant.Quota](ctx, l, t, "quota")
	usage := load[*tenant.Usage](ctx, l, t, "usage")
	credits := load[*tenant.Credits](ctx, l, t, "credits")
	watchlist := load[*tenant.WatchlistSeats](ctx, l, t, "watchlist")
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
	return tenant.NewAccountStatus(t.Status, b, p, q, u, c, w), nil
}
