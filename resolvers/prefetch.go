package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/graph-gophers/dataloader/v7"
	"github.com/vektah/gqlparser/v2/ast"

	"tenantapi/db"
	"tenantapi/node"
	"tenantapi/tenant"
)

// A tenant, or a page of tenants, knows every key its nested fields will ask
// for, so it loads every selected association for all of them at once and
// primes the loaders with the results: one statement whatever the page size
// and the number of associations (db.Combiner), without depending on the
// loaders' wait window. Associations the caller may not read are skipped
// (their directive refuses them anyway).

// selectedTenants returns the Tenant fields selected under the current
// field: a Tenant (me, tenant), a Node (node, nodes: its fragments on
// Tenant) or a TenantConnection, through nodes and edges.node; aliases
// included.
func selectedTenants(ctx context.Context) []graphql.CollectedField {
	fc := graphql.GetFieldContext(ctx)
	if fc.Field.Definition != nil {
		switch fc.Field.Definition.Type.Name() {
		case "Tenant":
			return graphql.CollectFieldsCtx(ctx, []string{"Tenant"}) // me, tenant(id:)
		case "Node":
			return graphql.CollectFieldsCtx(ctx, []string{"Tenant", "Node"}) // node(id:), nodes(ids:)
		}
	}
	return connectionNodeFields(graphql.GetOperationContext(ctx), fc.Field.Selections, "Tenant")
}

// connectionNodeFields returns the fields selected on the nodes of a
// connection whose selection set is sel (a TenantConnection for node type
// Tenant), through nodes and edges.node, fragments (on the type or on
// Node) and aliases included.
func connectionNodeFields(op *graphql.OperationContext, sel ast.SelectionSet, node string) []graphql.CollectedField {
	var out []graphql.CollectedField
	for _, f := range graphql.CollectFields(op, sel, []string{node + "Connection"}) {
		switch f.Name {
		case "nodes":
			out = append(out, graphql.CollectFields(op, f.Selections, []string{node, "Node"})...)
		case "edges":
			for _, e := range graphql.CollectFields(op, f.Selections, []string{node + "Edge"}) {
				if e.Name == "node" {
					out = append(out, graphql.CollectFields(op, e.Selections, []string{node, "Node"})...)
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

// prefetchRun is what a row's prime needs: the batches' group, the store,
// the request's loaders and the tenants.
type prefetchRun struct {
	wg    group
	store *db.Store
	l     *Loaders
	ts    []*tenant.Tenant
	ids   []string // the tenants' ids, in order
}

// keys returns the distinct keys of the tenants, in order of first use.
func (p *prefetchRun) keys(key func(*tenant.Tenant) string) []string {
	seen := make(map[string]bool, len(p.ts))
	out := make([]string, 0, len(p.ts))
	for _, t := range p.ts {
		if k := key(t); !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// prefetch loads the associations of ts selected in fields that the caller
// may read (their @hasPermission), with the parts they need, and primes
// the loaders, all of them in one statement (db.Combiner). Rows that share
// a loader (plan and limits) or a part (accountStatus's) load once.
func (r *Resolver) prefetch(ctx context.Context, ts []*tenant.Tenant, fields map[string]bool) {
	if len(ts) == 0 {
		return
	}
	a := tenant.ActorFrom(ctx)
	var rows []*association
	added := map[*association]bool{}
	var add func(*association)
	add = func(row *association) {
		if row.base != "" {
			row = associationByField[row.base]
		}
		if added[row] {
			return
		}
		added[row] = true
		rows = append(rows, row)
		for _, n := range row.needs {
			add(associationByField[n])
		}
	}
	for _, row := range associations {
		if !row.part && fields[row.field] && a.Has(r.perms[row.field]) {
			add(row)
		}
	}
	if len(rows) == 0 {
		return
	}
	if op := graphql.GetOperationContext(ctx); op.Operation != nil && op.Operation.Operation == ast.Query {
		// A query's batches may come from the association cache, kept
		// under the versions read with its tenants (db/assoccache.go); a
		// mutation's tenant may have been read before its own write.
		ctx = db.WithTenantVersions(ctx, ts)
	}
	wg, ctx := r.Store.Combine(ctx)
	p := &prefetchRun{wg: wg, store: r.Store, l: loaders(ctx), ts: ts, ids: make([]string, len(ts))}
	for i, t := range ts {
		p.ids[i] = t.ID
	}
	for _, row := range rows {
		if row.prime != nil {
			row.prime(ctx, p)
		}
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

// tenantNode loads tenant id and the associations selected under the
// current field (me, tenant), and returns its view.
func (r *Resolver) tenantNode(ctx context.Context, id string) (*node.Tenant, error) {
	t, err := r.Store.Tenant(ctx, id)
	if err != nil {
		return nil, err
	}
	return r.prefetchedNode(ctx, t), nil
}

// prefetchedNode loads the associations of t selected under the current
// field and returns t's view.
func (r *Resolver) prefetchedNode(ctx context.Context, t *tenant.Tenant) *node.Tenant {
	r.prefetch(ctx, []*tenant.Tenant{t}, selectedTenantFields(ctx))
	return newTenantNode(ctx, t)
}
