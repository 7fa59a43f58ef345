package tenant

import "errors"

// A tenant's one-to-one associations (its plan, settings, usage, billing,
// screening configuration, …) are methods of Tenant without a context, so
// gqlgen resolves them inline, in the goroutine that marshals their tenant,
// instead of starting a goroutine for each (docs/benchmarks.md: about a
// fifth of a list's CPU). What they return comes from the request that
// produced the tenant: the resolvers attach its loaders (Tenant.Attach)
// to every tenant they hand to gqlgen. Fields with arguments (apiKeys,
// invoices, stats, auditLog) stay resolvers.

// Associations resolves the association named field (its GraphQL name) of
// t within one request.
type Associations func(t *Tenant, field string) (any, error)

// Attach makes a resolve t's associations. The resolvers call it before
// returning t; a Tenant is never shared between requests.
func (t *Tenant) Attach(a Associations) { t.assoc = a }

// errNotAttached means a resolver returned a tenant without attaching its
// request's loaders: a bug, reported as an internal error.
var errNotAttached = errors.New("tenant: associations read from a tenant no request attached")

func association[V any](t *Tenant, field string) (V, error) {
	var zero V
	if t.assoc == nil {
		return zero, errNotAttached
	}
	v, err := t.assoc(t, field)
	if err != nil {
		return zero, err
	}
	out, _ := v.(V) // a nil result is the zero V
	return out, nil
}

// Owner is the tenant's owner, or nil when none is recorded.
func (t *Tenant) Owner() *Owner {
	if t.OwnerID == nil && t.OwnerEmail == nil {
		return nil
	}
	return &Owner{ID: t.OwnerID, Email: t.OwnerEmail}
}

// The one-to-one associations, each resolved by the attached loaders.

func (t *Tenant) Plan() (*Plan, error)         { return association[*Plan](t, "plan") }
func (t *Tenant) Settings() (*Settings, error) { return association[*Settings](t, "settings") }
func (t *Tenant) Limits() (*Limits, error)     { return association[*Limits](t, "limits") }
func (t *Tenant) Usage() (*Usage, error)       { return association[*Usage](t, "usage") }
func (t *Tenant) Sso() (*SSOConfig, error)     { return association[*SSOConfig](t, "sso") }
func (t *Tenant) NotificationChannels() (*NotificationChannels, error) {
	return association[*NotificationChannels](t, "notificationChannels")
}
func (t *Tenant) Keywords() (*KeywordList, error) { return association[*KeywordList](t, "keywords") }
func (t *Tenant) Industries() (*IndustryConfig, error) {
	return association[*IndustryConfig](t, "industries")
}
func (t *Tenant) RiskMatrix() (*RiskMatrix, error) { return association[*RiskMatrix](t, "riskMatrix") }
func (t *Tenant) WebsiteConfig() (*WebsiteConfig, error) {
	return association[*WebsiteConfig](t, "websiteConfig")
}
func (t *Tenant) Watchlist() (*WatchlistSeats, error) {
	return association[*WatchlistSeats](t, "watchlist")
}
func (t *Tenant) Billing() (*Billing, error) { return association[*Billing](t, "billing") }
func (t *Tenant) Credits() (*Credits, error) { return association[*Credits](t, "credits") }
func (t *Tenant) UsageReport() (*UsageReport, error) {
	return association[*UsageReport](t, "usageReport")
}
func (t *Tenant) AccountStatus() (*AccountStatus, error) {
	return association[*AccountStatus](t, "accountStatus")
}
