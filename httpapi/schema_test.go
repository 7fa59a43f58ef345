package httpapi_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// publicFields need no credentials; every other root field and mutation, and
// every field of Tenant beyond its basic profile, must carry @hasPermission.
var publicFields = map[string]bool{"Query.plans": true, "Query.viewer": true,
	// People (docs/members.md): the caller proves who they are with a
	// password or an emailed token, or acts on their own session; the
	// store checks the rest (transferOwnership: the owner or the operator;
	// revokeSession: your own, or MEMBERS_WRITE).
	"Mutation.login": true, "Mutation.acceptInvitation": true, "Mutation.requestPasswordReset": true,
	"Mutation.resetPassword": true, "Mutation.logout": true, "Mutation.changePassword": true,
	"Mutation.revokeSession": true, "Mutation.transferOwnership": true,
	// Relay's node(id:): a plan needs no credentials; for anything else the
	// resolver applies the @hasPermission of the field that usually reaches
	// the object's type (resolvers/node.go, read from this schema).
	"Query.node": true, "Query.nodes": true,
}

// tenantProfile is what any caller who can see a tenant sees.
var tenantProfile = map[string]bool{
	"id": true, "name": true, "domain": true, "environment": true, "owner": true, "status": true, "createdAt": true,
	"createdBy": true, "modifiedAt": true, "modifiedBy": true, "deletedAt": true, "version": true,
}

// schemaFiles parses schema/*.graphqls, as gqlgen reads them.
func schemaFiles(t *testing.T) *ast.Schema {
	t.Helper()
	files, err := filepath.Glob("../schema/*.graphqls")
	if err != nil || len(files) == 0 {
		t.Fatalf("schema files: %v", err)
	}
	var sources []*ast.Source
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, &ast.Source{Name: f, Input: string(b)})
	}
	schema, gerr := gqlparser.LoadSchema(sources...)
	if gerr != nil {
		t.Fatalf("schema: %v", gerr)
	}
	return schema
}

// TestEveryFieldIsGated reads the schema files and checks the directive is
// present where it must be, so a new field cannot ship without a permission.
func TestEveryFieldIsGated(t *testing.T) {
	schema := schemaFiles(t)
	check := func(typ string, skip func(string) bool) {
		def := schema.Types[typ]
		if def == nil {
			t.Fatalf("no type %s", typ)
		}
		for _, f := range def.Fields {
			if skip(f.Name) || publicFields[typ+"."+f.Name] {
				continue
			}
			if f.Directives.ForName("hasPermission") == nil {
				t.Errorf("%s.%s has no @hasPermission", typ, f.Name)
			}
		}
	}
	none := func(name string) bool { return len(name) > 1 && name[:2] == "__" }
	check("Query", none)
	check("Mutation", none)
	check("Tenant", func(name string) bool { return tenantProfile[name] })
}
