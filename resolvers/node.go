package resolvers

import (
	"context"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"tenantapi/tenant"
)

// Relay's global object identification: node(id:) and nodes(ids:) find an
// object by its own id (no type is encoded in it), in two statements
// whatever the number of ids: db.NodeRefs finds where each id is, within
// the caller's scope, and db.Nodes reads the objects the caller may read.
//
// nodeReach names, for each type implementing Node, the field that usually
// reaches it: node(id:) needs that field's @hasPermission, read from the
// executable schema at start-up (nodePermissions), so the two cannot
// drift. A Session is only its member's (db.NodeRefs); a Plan is the
// public catalog's.
var nodeReach = map[string]string{
	"Tenant":          "Query.tenant",
	"Plan":            "Query.plans",
	"ApiKey":          "Tenant.apiKeys",
	"Invoice":         "Tenant.invoices",
	"CreditGrant":     "Tenant.credits",
	"Event":           "Tenant.events",
	"WebhookDelivery": "Tenant.webhookDeliveries",
	"Member":          "Tenant.members",
	"Session":         "Viewer.sessions",
}

// nodePermissions reads the permission node(id:) needs for each Node type
// ("" for none) from the @hasPermission of the field nodeReach names, and
// checks that nodeReach covers exactly the schema's implementations of Node.
func nodePermissions(s *ast.Schema) (map[string]tenant.Permission, error) {
	iface := s.Types["Node"]
	if iface == nil {
		return nil, fmt.Errorf("resolvers: the schema has no Node interface")
	}
	var problems []string
	perms := map[string]tenant.Permission{}
	implements := map[string]bool{}
	for _, def := range s.GetPossibleTypes(iface) {
		implements[def.Name] = true
		reach, ok := nodeReach[def.Name]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s implements Node but has no row in nodeReach", def.Name))
			continue
		}
		typ, field, _ := strings.Cut(reach, ".")
		var f *ast.FieldDefinition
		if t := s.Types[typ]; t != nil {
			f = t.Fields.ForName(field)
		}
		switch {
		case f == nil:
			problems = append(problems, fmt.Sprintf("nodeReach: %s is no field of the schema", reach))
		case f.Directives.ForName("hasPermission") == nil:
			perms[def.Name] = ""
		default:
			p, err := fieldPermission(f)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			perms[def.Name] = p
		}
	}
	for name := range nodeReach {
		if !implements[name] {
			problems = append(problems, fmt.Sprintf("nodeReach has %s, which does not implement Node", name))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("resolvers: the node table disagrees with the schema: %s", strings.Join(problems, "; "))
	}
	return perms, nil
}

// findNodes resolves ids, in their order: an object, nil (an id found
// nowhere in the caller's scope, whether it exists elsewhere or not), or
// that position's error (FORBIDDEN: the caller's own object, of a type it
// may not read). The error returned fails them all: a malformed id
// (BAD_USER_INPUT naming field(i)), a UUID without credentials
// (UNAUTHENTICATED), a failed read.
func (r *Resolver) findNodes(ctx context.Context, ids []string, field func(int) string) ([]tenant.Node, []error, error) {
	a := tenant.ActorFrom(ctx)
	out, errs := make([]tenant.Node, len(ids)), make([]error, len(ids))
	var uuids, planIDs []string
	for _, id := range ids {
		if tenant.ValidID(id) {
			uuids = append(uuids, id)
		} else {
			planIDs = append(planIDs, id)
		}
	}
	plans := map[string]*tenant.Plan{}
	if len(planIDs) > 0 {
		ps, perrs := r.Store.PlansByID(ctx, planIDs)
		for i, id := range planIDs {
			if perrs[i] == nil {
				plans[id] = ps[i]
			} else if tenant.ErrorCode(perrs[i]) != tenant.ENOTFOUND {
				return nil, nil, perrs[i]
			}
		}
	}
	for i, id := range ids {
		if !tenant.ValidID(id) && plans[id] == nil {
			return nil, nil, tenant.Invalid(field(i), "%s is no id of this API: ids are UUIDs (`7c9e6679-7425-40de-944b-e07fc1f90ae7`), or a plan's id (`starter`, as `plans` lists them)", field(i))
		}
	}
	if len(uuids) > 0 && a.Kind == tenant.Anonymous {
		return nil, nil, tenant.Errorf(tenant.EUNAUTHENTICATED, "authentication required: send Authorization: Bearer <API key or admin secret>")
	}
	refs, err := r.Store.NodeRefs(ctx, uuids)
	if err != nil {
		return nil, nil, err
	}
	readable := refs[:0:0]
	refused := map[string]error{}
	for _, ref := range refs {
		if p := r.nodePerms[ref.Type]; p != "" && !a.Has(p) {
			refused[ref.ID] = forbidden(a, p)
			continue
		}
		readable = append(readable, ref)
	}
	objs, err := r.Store.Nodes(ctx, readable)
	if err != nil {
		return nil, nil, err
	}
	var tenants []*tenant.Tenant
	for i, id := range ids {
		key := strings.ToLower(id)
		switch n := objs[key].(type) {
		case nil:
			if p := plans[id]; p != nil {
				out[i] = p
			}
			errs[i] = refused[key]
		case *tenant.Tenant:
			tenants = append(tenants, n)
			out[i] = newTenantNode(ctx, n)
		default:
			out[i] = n
		}
	}
	r.prefetch(ctx, tenants, selectedTenantFields(ctx))
	return out, errs, nil
}

// nodesIn answers nodes(ids:): findNodes, with each position's error
// reported at its index of the list (nodes[3]) and that position null.
func (r *Resolver) nodesIn(ctx context.Context, ids []string) ([]tenant.Node, error) {
	if len(ids) > tenant.MaxNodeIDs {
		return nil, tenant.Invalid("ids", "ids holds at most %d ids, got %d", tenant.MaxNodeIDs, len(ids))
	}
	out, errs, err := r.findNodes(ctx, ids, func(i int) string { return fmt.Sprintf("ids[%d]", i) })
	if err != nil {
		return nil, err
	}
	fc := graphql.GetFieldContext(ctx)
	for i, e := range errs {
		if e != nil {
			at := i
			graphql.AddError(graphql.WithFieldContext(ctx, &graphql.FieldContext{Parent: fc, Index: &at}), e)
		}
	}
	return out, nil
}

// nodeAt answers node(id:): findNodes of one id.
func (r *Resolver) nodeAt(ctx context.Context, id string) (tenant.Node, error) {
	out, errs, err := r.findNodes(ctx, []string{id}, func(int) string { return "id" })
	if err != nil {
		return nil, err
	}
	return out[0], errs[0]
}
