// Package resolvers implements the GraphQL schema: thin resolvers that turn
// arguments into Store calls, the per-operation dataloaders, the
// @hasPermission directive and the error presenter, all wired by NewSchema,
// which the server and the tests share.
package resolvers

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"tenantapi/db"
	"tenantapi/graph"
	"tenantapi/tenant"
)

// Resolver is the root resolver; it holds the application's dependencies.
type Resolver struct {
	Store *db.Store
}

// Options tune the schema.
type Options struct {
	// LoaderWait is how long a dataloader collects keys before it runs its
	// batch. Measured: see README (Batched loads).
	LoaderWait time.Duration
}

// NewSchema builds the executable schema with its directive wired. The
// server and the tests both build it here, so tests exercise exactly what
// production runs.
func NewSchema(store *db.Store) graphql.ExecutableSchema {
	cfg := graph.Config{Resolvers: &Resolver{Store: store}}
	cfg.Directives.HasPermission = HasPermission
	return graph.NewExecutableSchema(cfg)
}

// HasPermission implements @hasPermission: it runs the field only when the
// caller holds perm.
func HasPermission(ctx context.Context, _ any, next graphql.Resolver, perm tenant.Permission) (any, error) {
	a := tenant.ActorFrom(ctx)
	if a.Kind == tenant.Anonymous {
		return nil, tenant.Errorf(tenant.EUNAUTHENTICATED, "authentication required: send Authorization: Bearer <API key or admin secret>")
	}
	if !a.Has(perm) {
		return nil, tenant.Errorf(tenant.EFORBIDDEN, "this needs the %s permission (%s), which the API key does not hold", perm.EnumName(), perm)
	}
	return next(ctx)
}
