package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/graph-gophers/dataloader/v7"

	"tenantapi/tenant"
)

// A tenant, or a page of tenants, knows every key its nested fields will ask
// for, so it loads every selected association for all of them at once and
// primes the loaders with the results: one statement whatever the page size
// and the number of associations (db.Combiner), without depending on the
// loaders' wait window. Associations the caller may not read are skipped
// (their directive refuses them anyway).

// selectedTenants returns the Tenant fields selected under the current
// field: a Tenant (me, tenant) or a TenantConnection, through nodes and
// edges.node; aliases included.
func selectedTenants(ctx context.Context) []graphql.CollectedField {
	if fc := graphql.GetFieldContext(ctx); fc != nil && fc.Field.Definition != nil && fc.Field.Definition.Type.Name() == "Tenant" {
		return graphql.CollectFieldsCtx(ctx, []string{"Tenant"}) // me, tenant(id:)
	}
	op := graphql.GetOperationContext(ctx)
	var out []graphql.CollectedField
	for _, f := range graphql.CollectFieldsCtx(ctx, []string{"TenantConnection"}) {
		switch f.Name {
		case "nodes":
			out = append(out, graphql.CollectFields(op, f.Selections, []string{"Tenant"})...)
		case "edges":
			for _, e := range graphql.CollectFields(op, f.Selections, []string{"TenantEdge"}) {
				if e.Name == "node" {
					out = append(out, graphql.CollectFields(op, e.Selections, []string{"Tenant"})...)
				}
			}
		}
	}
	return out
}

// selectedTenantFields returns the names of the Tenant fields selected
// under the current field (selectedTenants).
func selectedTenantFields(ctx context.Context) map[string]bool {
	out := map[string]bool{}
	for _, f := range selectedTenants(ctx) {
		out[f.Name] = true
	}
	return out
}

// selectedTenantSubfields returns the selections of the Tenant field name
// under the current field, aliases included (each with its own arguments).
func selectedTenantSubfields(ctx context.Context, name string) []graphql.CollectedField {
	var out []graphql.CollectedField
	for _, f := range selectedTenants(ctx) {
		if f.Name == name {
			out = append(out, f)
		}
	}
	return out
}

// group starts the batches of a prefetch (a db.Combiner).
type group interface{ Go(func()) }

// prefetch attaches the request's loaders to ts, loads their selected
// associations and primes the loaders, all of them in one statement
// (db.Combiner).
func (r *Resolver) prefetch(ctx context.Context, ts []*tenant.Tenant, fields map[string]bool) {
	r.attach(ctx, ts...)
	if len(ts) == 0 {
		return
	}
	l, a := loaders(ctx), tenant.ActorFrom(ctx)
	wg, ctx := r.Store.Combine(ctx)
	ids := make([]string, len(ts))
	planSet := map[string]bool{}
	var planIDs []string
	for i, t := range ts {
		ids[i] = t.ID
		if !planSet[t.PlanID] {
			planSet[t.PlanID] = true
			planIDs = append(planIDs, t.PlanID)
		}
	}
	readable := a.Has(tenant.PermTenantRead)
	if readable && fields["settings"] {
		wg.Go(func() { prime(ctx, l.Settings, ids, r.Store.SettingsByTenant) })
	}
	if readable && (fields["plan"] || fields["limits"]) {
		wg.Go(func() { prime(ctx, l.Plan, planIDs, r.Store.PlansByID) })
	}
	if readable && fields["usage"] {
		wg.Go(func() { prime(ctx, l.Usage, ids, r.Store.UsageByTenant) })
	}
	if fields["apiKeys"] {
		primeAPIKeys(ctx, wg, l.APIKeys, a, ids)
	}
	if a.Has(tenant.PermSSORead) && fields["sso"] {
		wg.Go(func() { prime(ctx, l.SSO, ids, r.Store.SSOByTenant) })
	}
	if a.Has(tenant.PermNotificationChannelsRead) && fields["notificationChannels"] {
		wg.Go(func() { prime(ctx, l.NotificationChannels, ids, r.Store.NotificationChannelsByTenant) })
	}
	primeScreening(ctx, wg, r.Store, l, a, ids, fields)
	primeBilling(ctx, wg, r.Store, l, a, ids, fields)
	primeUsage(ctx, wg, r.Store, l.Metering, a, ids, fields)
	primeAccount(ctx, wg, r.Store, l, a, ids, planIDs, fields)
	if fields["auditLog"] {
		primeAudit(ctx, wg, r.Store, l.Audit, a, ids)
	}
	wg.Wait()
}

// prime runs batch for keys and stores each successful result in the
// loader; failed keys are left for the loader to retry and report.
func prime[V any](ctx context.Context, loader *dataloader.Loader[string, V], keys []string, batch func(context.Context, []string) ([]V, []error)) {
	vals, errs := batch(ctx, keys)
	for i, k := range keys {
		if errs[i] == nil {
			loader.Prime(ctx, k, vals[i])
		}
	}
}

// tenantWithAssociations loads tenant id and the associations selected
// under the current field (me, tenant).
func (r *Resolver) tenantWithAssociations(ctx context.Context, id string) (*tenant.Tenant, error) {
	t, err := r.Store.Tenant(ctx, id)
	if err != nil {
		return nil, err
	}
	return r.withAssociations(ctx, t), nil
}

// withAssociations loads the associations of t selected under the current
// field and returns t.
func (r *Resolver) withAssociations(ctx context.Context, t *tenant.Tenant) *tenant.Tenant {
	r.prefetch(ctx, []*tenant.Tenant{t}, selectedTenantFields(ctx))
	return t
}
