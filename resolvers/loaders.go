package resolvers

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/graph-gophers/dataloader/v7"

	"tenantapi/db"
)

// Loaders batch the nested associations of Tenant: each runs one `= ANY($1)`
// statement for every key requested in its wait window. They are built per
// operation (never shared across requests, tenants or subscription events),
// and their batches use the operation's context, so the SQL carries the
// caller's tenant scope.
type Loaders struct {
	// one holds the loader of each one-to-one row of the association
	// table (resolvers/associations.go), by field: loaderOf reads it.
	one map[string]any

	APIKeys  *APIKeyLoaders  // resolvers/apikey.go: apiKeys pages and totalCount
	Invoices *InvoiceLoaders // resolvers/billing.go
	Metering *UsageLoaders   // resolvers/usage.go: stats
	Audit    *AuditLoaders   // resolvers/audit.go: auditLog pages and totalCount
}

// NewLoaders builds a fresh set of loaders over store.
func NewLoaders(store *db.Store, wait time.Duration) *Loaders {
	l := &Loaders{
		one:      make(map[string]any, len(associations)),
		APIKeys:  NewAPIKeyLoaders(store, wait),
		Invoices: NewInvoiceLoaders(store, wait),
		Metering: NewUsageLoaders(store, wait),
		Audit:    NewAuditLoaders(store, wait),
	}
	for _, a := range associations {
		if a.newLoader != nil {
			l.one[a.field] = a.newLoader(store, wait)
		}
	}
	return l
}

// loaderInputCapacity sizes each loader's request channel. The library's
// default (1,000 slots per loader, ~20 loaders per operation) was 12% of a
// dashboard request's allocations (docs/benchmarks.md); lists prime their
// loaders directly, so a loader rarely sees more than a handful of loads at
// once, and a full channel only makes a sender wait for the batcher.
const loaderInputCapacity = 16

func newLoader[V any](batch func(context.Context, []string) ([]V, []error), wait time.Duration) *dataloader.Loader[string, V] {
	fn := func(ctx context.Context, keys []string) []*dataloader.Result[V] {
		vals, errs := batch(ctx, keys)
		out := make([]*dataloader.Result[V], len(keys))
		for i := range keys {
			out[i] = &dataloader.Result[V]{Data: vals[i], Error: errs[i]}
		}
		return out
	}
	return dataloader.NewBatchedLoader(fn, dataloader.WithWait[string, V](wait), dataloader.WithBatchCapacity[string, V](1000), dataloader.WithInputCapacity[string, V](loaderInputCapacity))
}

type loadersKey struct{}

// LoaderMiddleware returns a gqlgen operation interceptor that gives each
// operation its own loaders.
func LoaderMiddleware(store *db.Store, wait time.Duration) graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		ctx = context.WithValue(ctx, loaderFactoryKey{}, func() *Loaders { return NewLoaders(store, wait) })
		return next(context.WithValue(ctx, loadersKey{}, NewLoaders(store, wait)))
	}
}

type loaderFactoryKey struct{}

// withFreshLoaders returns ctx with loaders of its own: a subscription
// builds them for each event it sends, so no cached row outlives the event.
func withFreshLoaders(ctx context.Context) context.Context {
	f, _ := ctx.Value(loaderFactoryKey{}).(func() *Loaders)
	if f == nil {
		panic("resolvers: no loaders in context; install LoaderMiddleware")
	}
	return context.WithValue(ctx, loadersKey{}, f())
}

func loaders(ctx context.Context) *Loaders {
	l, _ := ctx.Value(loadersKey{}).(*Loaders)
	if l == nil {
		panic("resolvers: no loaders in context; install LoaderMiddleware")
	}
	return l
}
