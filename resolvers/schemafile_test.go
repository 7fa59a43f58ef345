package resolvers

import (
	"bytes"
	"os"
	"testing"

	"github.com/vektah/gqlparser/v2/formatter"
)

// publishedSchema is the whole SDL the server executes, printed: the
// contract partners generate clients from and the breaking-change gate
// (scripts/schema-gate.mjs) compares with the last released one.
const publishedSchema = "../schema.graphql"

// TestPublishedSchemaCurrent keeps schema.graphql equal to the executable
// schema printed (directives included, built-ins left out): `make generate`
// (this test with -update) rewrites it.
func TestPublishedSchemaCurrent(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("# The Tenant API's schema, printed from schema/*.graphqls by `make generate`\n# (resolvers/schemafile_test.go). DO NOT EDIT: change schema/ instead.\n\n")
	formatter.NewFormatter(&b, formatter.WithIndent("  ")).FormatSchema(NewSchema(nil, Deps{}).Schema())
	want := b.Bytes()
	if *updateNode {
		if err := os.WriteFile(publishedSchema, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(publishedSchema)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s is not the executable schema printed (err %v): run make generate", publishedSchema, err)
	}
}
