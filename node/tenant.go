// Package node holds the request-bound views that gqlgen binds GraphQL
// objects to when their fields load more than the domain row holds.
//
// GraphQL's Tenant is a Tenant of this package: the domain row
// (tenant.Tenant, a plain row) plus the request's loaders, built by every
// resolver that returns a tenant (resolvers: newTenantNode). The view lives
// outside resolvers because the generated code (graph) imports it and
// resolvers imports graph; it knows the loaders only as a Source.
package node

import (
	"context"
	"errors"

	"tenantapi/tenant"
)

// Source resolves the association named field (its GraphQL name) of t: the
// request's loaders, driven by the association table (resolvers).
type Source interface {
	Association(ctx context.Context, t *tenant.Tenant, field string) (any, error)
}

// Tenant is a tenant as one GraphQL field of one request sees it. Its
// one-to-one associations are methods without a context, so gqlgen resolves
// them inline, in the goroutine that marshals the tenant, instead of
// starting a goroutine for each (docs/benchmarks.md: about a fifth of a
// list's CPU). Each field that returns a tenant builds its own view, so
// aliased fields share nothing but the read-only row.
type Tenant struct {
	*tenant.Tenant

	ctx context.Context // the request (and field) that built the view
	src Source
}

// New returns the view of t for the request of ctx, resolving associations
// through src.
func New(ctx context.Context, t *tenant.Tenant, src Source) *Tenant {
	if t == nil {
		return nil
	}
	return &Tenant{Tenant: t, ctx: ctx, src: src}
}

// errNoSource means a view was built as a literal instead of with New: a
// bug, reported as an internal error.
var errNoSource = errors.New("node: associations read from a Tenant not built with node.New")

func get[V any](n *Tenant, field string) (V, error) {
	var zero V
	if n.src == nil {
		return zero, errNoSource
	}
	v, err := n.src.Association(n.ctx, n.Tenant, field)
	if err != nil {
		return zero, err
	}
	out, _ := v.(V) // a nil result is the zero V
	return out, nil
}

// The one-to-one associations: each a row of the association table
// (resolvers/associations.go), whose field name it passes.

func (n *Tenant) Plan() (*tenant.Plan, error)         { return get[*tenant.Plan](n, "plan") }
func (n *Tenant) Settings() (*tenant.Settings, error) { return get[*tenant.Settings](n, "settings") }
func (n *Tenant) Limits() (*tenant.Limits, error)     { return get[*tenant.Limits](n, "limits") }
func (n *Tenant) Usage() (*tenant.Usage, error)       { return get[*tenant.Usage](n, "usage") }
func (n *Tenant) Sso() (*tenant.SSOConfig, error)     { return get[*tenant.SSOConfig](n, "sso") }
func (n *Tenant) NotificationChannels() (*tenant.NotificationChannels, error) {
	return get[*tenant.NotificationChannels](n, "notificationChannels")
}
func (n *Tenant) Keywords() (*tenant.KeywordList, error) {
	return get[*tenant.KeywordList](n, "keywords")
}
func (n *Tenant) Industries() (*tenant.IndustryConfig, error) {
	return get[*tenant.IndustryConfig](n, "industries")
}
func (n *Tenant) RiskMatrix() (*tenant.RiskMatrix, error) {
	return get[*tenant.RiskMatrix](n, "riskMatrix")
}
func (n *Tenant) WebsiteConfig() (*tenant.WebsiteConfig, error) {
	return get[*tenant.WebsiteConfig](n, "websiteConfig")
}
func (n *Tenant) Watchlist() (*tenant.WatchlistSeats, error) {
	return get[*tenant.WatchlistSeats](n, "watchlist")
}
func (n *Tenant) Billing() (*tenant.Billing, error) { return get[*tenant.Billing](n, "billing") }
func (n *Tenant) Credits() (*tenant.Credits, error) { return get[*tenant.Credits](n, "credits") }
func (n *Tenant) UsageReport() (*tenant.UsageReport, error) {
	return get[*tenant.UsageReport](n, "usageReport")
}
func (n *Tenant) AccountStatus() (*tenant.AccountStatus, error) {
	return get[*tenant.AccountStatus](n, "accountStatus")
}
