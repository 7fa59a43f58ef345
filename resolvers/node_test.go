package resolvers

import (
	"reflect"
	"slices"
	"testing"

	"tenantapi/db"
	"tenantapi/tenant"
)

// TestNodeTableMatchesSchema: node(id:) needs, for each type implementing
// Node, the permission of the field that usually reaches it, read from the
// schema; and db.NodeRefs finds ids of exactly those types (the plans
// aside, which are the catalog's).
func TestNodeTableMatchesSchema(t *testing.T) {
	s := schemaAST()
	perms, err := nodePermissions(s)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]tenant.Permission{
		"Tenant": tenant.PermTenantRead, "Plan": "", "ApiKey": tenant.PermAPIKeysRead, "Invoice": tenant.PermBillingRead,
		"CreditGrant": tenant.PermBillingRead, "Event": tenant.PermEventsRead, "WebhookDelivery": tenant.PermNotificationChannelsRead,
		"Member": tenant.PermMembersRead, "Session": "",
	}
	if !reflect.DeepEqual(perms, want) {
		t.Errorf("permissions read from the schema:\n got %v\nwant %v", perms, want)
	}
	var implementors []string
	for _, d := range s.GetPossibleTypes(s.Types["Node"]) {
		implementors = append(implementors, d.Name)
	}
	found := append(db.NodeTypes(), "Plan")
	slices.Sort(implementors)
	slices.Sort(found)
	if !slices.Equal(implementors, found) {
		t.Errorf("types implementing Node %v, types db.NodeRefs finds (and Plan) %v", implementors, found)
	}
}
