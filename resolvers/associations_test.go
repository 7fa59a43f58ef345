package resolvers

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"tenantapi/graph"
	"tenantapi/node"
	"tenantapi/tenant"
)

// schemaAST is the executable schema's AST, as NewSchema reads it.
func schemaAST() *ast.Schema {
	return graph.NewExecutableSchema(graph.Config{}).Schema()
}

// TestAssociationTableMatchesSchema: every row of the association table is
// a Tenant field with a @hasPermission, every guarded Tenant field is a row,
// and the permissions read are the schema's.
func TestAssociationTableMatchesSchema(t *testing.T) {
	perms, err := associationPermissions(schemaAST())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]tenant.Permission{
		"plan": tenant.PermTenantRead, "limits": tenant.PermTenantRead, "settings": tenant.PermTenantRead,
		"usage": tenant.PermTenantRead, "watchlist": tenant.PermTenantRead, "apiKeys": tenant.PermAPIKeysRead,
		"members": tenant.PermMembersRead,
		"sso":     tenant.PermSSORead, "notificationChannels": tenant.PermNotificationChannelsRead,
		"keywords": tenant.PermKeywordsRead, "industries": tenant.PermIndustriesRead, "industryDecision": tenant.PermIndustriesRead,
		"riskMatrix":    tenant.PermRiskMatrixRead,
		"websiteConfig": tenant.PermWebsiteConfigRead, "billing": tenant.PermBillingRead, "invoices": tenant.PermBillingRead,
		"credits": tenant.PermBillingRead, "accountStatus": tenant.PermBillingRead, "usageReport": tenant.PermReportRead,
		"stats": tenant.PermReportRead, "auditLog": tenant.PermAuditRead, "events": tenant.PermEventsRead,
		"webhookDeliveries": tenant.PermNotificationChannelsRead,
	}
	if !reflect.DeepEqual(perms, want) {
		t.Errorf("permissions read from the schema:\n got %v\nwant %v", perms, want)
	}
}

// withTenantFields returns a copy of s whose Tenant type has the fields
// edit returns.
func withTenantFields(s *ast.Schema, edit func(ast.FieldList) ast.FieldList) *ast.Schema {
	c := *s
	c.Types = make(map[string]*ast.Definition, len(s.Types))
	for k, v := range s.Types {
		c.Types[k] = v
	}
	def := *s.Types["Tenant"]
	def.Fields = edit(append(ast.FieldList(nil), def.Fields...))
	c.Types["Tenant"] = &def
	return &c
}

// TestAssociationTableDisagreements: the start-up check refuses a row whose
// field lost its @hasPermission, and a guarded field without a row.
func TestAssociationTableDisagreements(t *testing.T) {
	s := schemaAST()
	cases := map[string]struct {
		edit func(ast.FieldList) ast.FieldList
		want string
	}{
		"ErrRowWithoutDirective": {
			edit: func(fs ast.FieldList) ast.FieldList {
				for i, f := range fs {
					if f.Name == "settings" {
						bare := *f
						bare.Directives = nil
						fs[i] = &bare
					}
				}
				return fs
			},
			want: "Tenant.settings has a row but no @hasPermission",
		},
		"ErrGuardedFieldWithoutRow": {
			edit: func(fs ast.FieldList) ast.FieldList {
				extra := *fs.ForName("settings")
				extra.Name = "deliveries"
				return append(fs, &extra)
			},
			want: "Tenant.deliveries has @hasPermission but no row in resolvers/associations.go",
		},
		"ErrRowWithoutField": {
			edit: func(fs ast.FieldList) ast.FieldList {
				var out ast.FieldList
				for _, f := range fs {
					if f.Name != "usageReport" {
						out = append(out, f)
					}
				}
				return out
			},
			want: `row "usageReport" is no field of Tenant`,
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := associationPermissions(withTenantFields(s, c.edit))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// TestInlineAssociationsAreNodeMethods: every row resolved inline is a
// method of node.Tenant without a context (so gqlgen runs it without a
// goroutine), and every such method is a row.
func TestInlineAssociationsAreNodeMethods(t *testing.T) {
	nt, rt := reflect.TypeFor[*node.Tenant](), reflect.TypeFor[*tenant.Tenant]()
	ctxType := reflect.TypeFor[context.Context]()
	methods := map[string]bool{}
	for m := range nt.Methods() {
		if _, promoted := rt.MethodByName(m.Name); promoted || m.Name == "Association" {
			continue
		}
		methods[m.Name] = true
		for i := range m.Type.NumIn() {
			if m.Type.In(i) == ctxType {
				t.Errorf("node.Tenant.%s takes a context: gqlgen would start a goroutine for it", m.Name)
			}
		}
	}
	for _, a := range associations {
		name := strings.ToUpper(a.field[:1]) + a.field[1:]
		inline := a.resolve != nil && !a.part
		if inline != methods[name] {
			t.Errorf("row %q: resolved inline %v, node.Tenant method %s %v", a.field, inline, name, methods[name])
		}
		delete(methods, name)
	}
	for m := range methods {
		t.Errorf("node.Tenant.%s has no row in the association table", m)
	}
}

// TestNodeWithoutSource: a view built as a literal reports an internal
// error rather than panicking.
func TestNodeWithoutSource(t *testing.T) {
	n := &node.Tenant{Tenant: &tenant.Tenant{ID: "t"}}
	if _, err := n.Plan(); err == nil || !strings.Contains(err.Error(), "not built with node.New") {
		t.Fatalf("got %v", err)
	}
}
