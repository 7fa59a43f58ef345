package resolvers

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/graph-gophers/dataloader/v7"
	"github.com/vektah/gqlparser/v2/ast"

	"tenantapi/db"
	"tenantapi/graph"
	"tenantapi/node"
	"tenantapi/tenant"
)

// The associations of Tenant, declared once: each row names the GraphQL
// field, the key it loads by and the db batch that loads it. The table
// builds the request's loaders (NewLoaders), resolves the fields inline
// (node.Tenant's methods call Loaders.Association), prefetches a tenant's
// or a page's selected fields in one statement (prefetch) and composes
// accountStatus from its parts' loaders. A field's permission is not
// repeated here: it is the field's @hasPermission, read from the executable
// schema at start-up (associationPermissions).
//
// Adding an association: its field in schema/*.graphqls (with
// @hasPermission), its batch in db/ (keys in, results and errors in key
// order) and a row below; then `make generate` writes, for a field without
// arguments, its method on node.Tenant (node/associations_gen.go: gqlgen
// resolves methods without a context inline).
var associations = []*association{
	one("plan", planID, (*db.Store).PlansByID),
	derived("limits", "plan", (*tenant.Plan).Limits),
	one("settings", tenantID, (*db.Store).SettingsByTenant),
	one("usage", tenantID, (*db.Store).UsageByTenant),
	paged("apiKeys", primeAPIKeys),
	one("sso", tenantID, (*db.Store).SSOByTenant),
	one("notificationChannels", tenantID, (*db.Store).NotificationChannelsByTenant),
	one("keywords", tenantID, (*db.Store).KeywordsByTenant),
	one("industries", tenantID, (*db.Store).IndustriesByTenant),
	paged("industryDecision", nil), // decided in memory from the industries loader
	one("riskMatrix", tenantID, (*db.Store).RiskMatricesByTenant),
	one("websiteConfig", tenantID, (*db.Store).WebsiteConfigsByTenant),
	one("watchlist", tenantID, (*db.Store).WatchlistByTenant),
	one("billing", tenantID, (*db.Store).BillingByTenant),
	paged("invoices", primeInvoices),
	one("credits", tenantID, (*db.Store).CreditsByTenant),
	one("usageReport", tenantID, (*db.Store).UsageReportsByTenant),
	paged("stats", primeStats),
	paged("auditLog", primeAudit),
	paged("events", nil),            // one statement per tenant: the log is read one tenant at a time
	paged("webhookDeliveries", nil), // two statements per tenant (deliveries, their attempts), like events
	paged("members", nil),           // two statements per tenant (the page, its count), like events
	composite("accountStatus", accountStatus, "billing", "plan", "quota", "usage", "credits", "watchlist"),
	part(one("quota", tenantID, (*db.Store).QuotaByTenant)), // accountStatus
}

// association is a row of the table. A field with arguments decodes them
// with tenantArgs (the generated unmarshalers) for its prefetch.
type association struct {
	field string // Tenant's GraphQL field (or, for a part, the row's name)
	part  bool   // loaded only for another row (needs), not a GraphQL field
	base  string // a derived row reads this row's loader
	needs []string
	// goType is the Go type of the field's value, for the generated
	// method on node.Tenant (nil for a field with arguments).
	goType reflect.Type

	// key is what a one-to-one row's loader is keyed by (tenant or plan id).
	key func(*tenant.Tenant) string
	// newLoader builds the row's loader of one request (nil: the row has
	// none of its own).
	newLoader func(store *db.Store, wait time.Duration) any
	// resolve loads the field of one tenant, inline (nil: a resolver with
	// arguments, which uses its own loaders).
	resolve func(ctx context.Context, l *Loaders, t *tenant.Tenant) (any, error)
	// prime loads the field for every tenant of a prefetch and primes the
	// loaders (nil: nothing of its own to load).
	prime func(ctx context.Context, p *prefetchRun)
}

func tenantID(t *tenant.Tenant) string { return t.ID }
func planID(t *tenant.Tenant) string   { return t.PlanID }

// one is a one-to-one association loaded by key with batch (results and
// errors in key order).
func one[V any](field string, key func(*tenant.Tenant) string, batch func(*db.Store, context.Context, []string) ([]V, []error)) *association {
	bound := func(s *db.Store) func(context.Context, []string) ([]V, []error) {
		return func(ctx context.Context, keys []string) ([]V, []error) { return batch(s, ctx, keys) }
	}
	return &association{
		field:     field,
		goType:    reflect.TypeFor[V](),
		key:       key,
		newLoader: func(s *db.Store, wait time.Duration) any { return newLoader(bound(s), wait) },
		resolve: func(ctx context.Context, l *Loaders, t *tenant.Tenant) (any, error) {
			return loaderOf[V](l, field).Load(ctx, key(t))()
		},
		prime: func(ctx context.Context, p *prefetchRun) {
			loader, keys, fn := loaderOf[V](p.l, field), p.keys(key), bound(p.store)
			p.wg.Go(func() { prime(ctx, loader, keys, fn) })
		},
	}
}

// derived is a field computed from another row's value (limits from the
// plan): it shares that row's loader, and its prefetch.
func derived[B, V any](field, base string, f func(B) V) *association {
	return &association{field: field, base: base, goType: reflect.TypeFor[V](),
		resolve: func(ctx context.Context, l *Loaders, t *tenant.Tenant) (any, error) {
			b, err := associationByField[base].resolve(ctx, l, t)
			if err != nil {
				return nil, err
			}
			bv, _ := b.(B)
			return f(bv), nil
		}}
}

// paged is a field with arguments: its own resolver and loaders; prime is
// its prefetch for the arguments selected.
func paged(field string, prime func(context.Context, *prefetchRun)) *association {
	return &association{field: field, prime: prime}
}

// composite is a field composed from other rows (needs), which a prefetch
// of it primes.
func composite[V any](field string, resolve func(context.Context, *Loaders, *tenant.Tenant) (V, error), needs ...string) *association {
	return &association{field: field, needs: needs, goType: reflect.TypeFor[V](),
		resolve: func(ctx context.Context, l *Loaders, t *tenant.Tenant) (any, error) { return resolve(ctx, l, t) }}
}

// part marks a row that is no GraphQL field, only another row's need.
func part(a *association) *association {
	a.part = true
	return a
}

// associationByField indexes the table (built in init: the rows' closures
// refer to it).
var associationByField map[string]*association

func init() {
	associationByField = make(map[string]*association, len(associations))
	for _, a := range associations {
		associationByField[a.field] = a
	}
}

// loaderOf returns the request's loader of the one-to-one row field.
func loaderOf[V any](l *Loaders, field string) *dataloader.Loader[string, V] {
	return l.one[field].(*dataloader.Loader[string, V])
}

// load starts loading the one-to-one row field of t and returns its
// thunk: a composite requests all its parts before awaiting any, so they
// share batches.
func load[V any](ctx context.Context, l *Loaders, t *tenant.Tenant, field string) func() (V, error) {
	return loaderOf[V](l, field).Load(ctx, associationByField[field].key(t))
}

// Association resolves t's association named field for node.Tenant.
func (l *Loaders) Association(ctx context.Context, t *tenant.Tenant, field string) (any, error) {
	a := associationByField[field]
	if a == nil || a.part || a.resolve == nil {
		return nil, fmt.Errorf("resolvers: Tenant has no inline association %q", field)
	}
	return a.resolve(ctx, l, t)
}

// tenantArgs decodes the arguments of f, a selected Tenant field, as the
// executor will: with the generated unmarshalers (and the strict scalars),
// reached through the schema's complexity function of that field, which
// capture sets to receive them. False: they do not decode (the field's
// resolver reports why).
func tenantArgs(ctx context.Context, f graphql.CollectedField, capture func(*graph.ComplexityRoot)) bool {
	var cr graph.ComplexityRoot
	capture(&cr)
	es := graph.NewExecutableSchema(graph.Config{Complexity: cr})
	_, ok := es.Complexity(ctx, "Tenant", f.Name, 0, f.ArgumentMap(graphql.GetOperationContext(ctx).Variables))
	return ok
}

// newTenantNode is the view of t that GraphQL's Tenant binds to, for the
// field being resolved: every resolver returning a tenant builds one.
func newTenantNode(ctx context.Context, t *tenant.Tenant) *node.Tenant {
	return node.New(ctx, t, loaders(ctx))
}

// newTenantNodes is newTenantNode for a list.
func newTenantNodes(ctx context.Context, ts []*tenant.Tenant) []*node.Tenant {
	l := loaders(ctx)
	out := make([]*node.Tenant, len(ts))
	for i, t := range ts {
		out[i] = node.New(ctx, t, l)
	}
	return out
}

// associationPermissions reads, from the executable schema, the
// @hasPermission of every row's field, and checks that the table and the
// schema agree: every row but the parts is a field of Tenant with a
// @hasPermission, and every Tenant field with one is a row.
func associationPermissions(s *ast.Schema) (map[string]tenant.Permission, error) {
	def := s.Types["Tenant"]
	if def == nil {
		return nil, fmt.Errorf("resolvers: the schema has no Tenant type")
	}
	var problems []string
	perms := map[string]tenant.Permission{}
	for _, a := range associations {
		f := def.Fields.ForName(a.field)
		switch {
		case a.part && f != nil:
			problems = append(problems, fmt.Sprintf("row %q is a part but Tenant has a field of that name", a.field))
		case a.part:
		case f == nil:
			problems = append(problems, fmt.Sprintf("row %q is no field of Tenant", a.field))
		default:
			p, err := fieldPermission(f)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			perms[a.field] = p
		}
	}
	for _, f := range def.Fields {
		if f.Directives.ForName("hasPermission") != nil && associationByField[f.Name] == nil {
			problems = append(problems, fmt.Sprintf("Tenant.%s has @hasPermission but no row in resolvers/associations.go", f.Name))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("resolvers: the association table disagrees with the schema: %s", strings.Join(problems, "; "))
	}
	return perms, nil
}

// fieldPermission is the permission of f's @hasPermission.
func fieldPermission(f *ast.FieldDefinition) (tenant.Permission, error) {
	d := f.Directives.ForName("hasPermission")
	if d == nil {
		return "", fmt.Errorf("field Tenant.%s has a row but no @hasPermission", f.Name)
	}
	arg := d.Arguments.ForName("perm")
	if arg == nil || arg.Value == nil {
		return "", fmt.Errorf("field Tenant.%s: @hasPermission without perm", f.Name)
	}
	p, ok := tenant.PermissionFromEnum(arg.Value.Raw)
	if !ok {
		return "", fmt.Errorf("field Tenant.%s: @hasPermission(perm: %s) names no permission", f.Name, arg.Value.Raw)
	}
	return p, nil
}
