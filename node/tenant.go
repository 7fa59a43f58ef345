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
