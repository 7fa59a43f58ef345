package resolvers

import (
	"context"
	"fmt"

	"tenantapi/tenant"
)

// Tenant's one-to-one associations are methods of the model, which gqlgen
// runs inline (tenant/associations.go); every tenant a resolver hands to
// gqlgen carries its request's loaders: prefetch attaches them to the
// tenants of me, tenant(id:) and tenants, and the mutations to the tenant of
// their payload (attached).

// attach makes ts resolve their associations through ctx's loaders.
func (r *Resolver) attach(ctx context.Context, ts ...*tenant.Tenant) {
	a := func(t *tenant.Tenant, field string) (any, error) { return r.association(ctx, t, field) }
	for _, t := range ts {
		if t != nil {
			t.Attach(a)
		}
	}
}

// attached is attach for one tenant, returning it.
func (r *Resolver) attached(ctx context.Context, t *tenant.Tenant) *tenant.Tenant {
	r.attach(ctx, t)
	return t
}

// association loads t's association named field (its GraphQL name).
func (r *Resolver) association(ctx context.Context, t *tenant.Tenant, field string) (any, error) {
	l := loaders(ctx)
	switch field {
	case "plan":
		return l.Plan.Load(ctx, t.PlanID)()
	case "limits":
		p, err := l.Plan.Load(ctx, t.PlanID)()
		if err != nil {
			return nil, err
		}
		return p.Limits(), nil
	case "settings":
		return l.Settings.Load(ctx, t.ID)()
	case "usage":
		return l.Usage.Load(ctx, t.ID)()
	case "sso":
		return l.SSO.Load(ctx, t.ID)()
	case "notificationChannels":
		return l.NotificationChannels.Load(ctx, t.ID)()
	case "keywords":
		return l.Keywords.Load(ctx, t.ID)()
	case "industries":
		return l.Industries.Load(ctx, t.ID)()
	case "riskMatrix":
		return l.RiskMatrix.Load(ctx, t.ID)()
	case "websiteConfig":
		return l.WebsiteConfig.Load(ctx, t.ID)()
	case "watchlist":
		return l.Watchlist.Load(ctx, t.ID)()
	case "billing":
		return l.Billing.Load(ctx, t.ID)()
	case "credits":
		return l.Metering.Credits.Load(ctx, t.ID)()
	case "usageReport":
		return l.Metering.UsageReport.Load(ctx, t.ID)()
	case "accountStatus":
		return r.accountStatus(ctx, t)
	}
	return nil, fmt.Errorf("resolvers: Tenant has no association %q", field)
}
