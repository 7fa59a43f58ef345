package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSchemaGate runs the breaking-change gate of make test
// (scripts/schemagate/gate.mjs) on small schemas: an added field passes, a
// removed field fails naming it, and passes once CHANGELOG.md's [Unreleased]
// section lists it (not when only an older version's section does).
func TestSchemaGate(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil || !fileExists("scripts/schemagate/node_modules/graphql/package.json") {
		if os.Getenv("CI") == "true" {
			t.Fatal("node or scripts/schemagate/node_modules is missing (make test installs them)")
		}
		t.Skip("node or scripts/schemagate/node_modules is missing: run make test, which installs them")
	}
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	released := write("released.graphql", "type Query { a: Int b: String }")
	added := write("added.graphql", "type Query { a: Int b: String c: Boolean }")
	removed := write("removed.graphql", "type Query { a: Int }")
	const desc = "Field Query.b was removed."
	none := write("none.md", "# Changelog\n\n## [Unreleased]\n\n### Added\n- c\n")
	listed := write("listed.md", "# Changelog\n\n## [Unreleased]\n\n### Removed\n- "+desc+" Use a instead.\n\n## [0.1.0]\n")
	older := write("older.md", "# Changelog\n\n## [Unreleased]\n\n## [0.1.0]\n\n### Removed\n- "+desc+"\n")
	gate := func(current, changelog string) (string, bool) {
		out, err := exec.Command(node, "scripts/schemagate/gate.mjs", released, current, changelog).CombinedOutput()
		return string(out), err == nil
	}
	for _, c := range []struct {
		name, current, changelog string
		pass                     bool
	}{
		{"OK/added", added, none, true},
		{"ErrRemovedUnlisted", removed, none, false},
		{"OK/removedListed", removed, listed, true},
		{"ErrListedUnderAnOlderVersion", removed, older, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, pass := gate(c.current, c.changelog)
			if pass != c.pass {
				t.Fatalf("passed %v, want %v:\n%s", pass, c.pass, out)
			}
			if c.current == removed && !strings.Contains(out, desc) {
				t.Errorf("the gate does not name the change:\n%s", out)
			}
		})
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// TestDeprecationsHaveRemovalDates: every @deprecated of the published
// schema says what to use instead and when it goes ("Removal:
// YYYY-MM-DD."), the deprecation policy of CHANGELOG.md and docs/README.md.
func TestDeprecationsHaveRemovalDates(t *testing.T) {
	schema, err := os.ReadFile("schema.graphql")
	if err != nil {
		t.Fatal(err)
	}
	deprecated := regexp.MustCompile(`@deprecated(\(reason: "((?:[^"\\]|\\.)*)"\))?`)
	removal := regexp.MustCompile(`Removal: (\d{4}-\d{2}-\d{2})\.`)
	found := deprecated.FindAllStringSubmatch(string(schema), -1)
	for _, m := range found {
		d := removal.FindStringSubmatch(m[2])
		if d == nil {
			t.Errorf("%s: a deprecation needs a reason ending with \"Removal: YYYY-MM-DD.\"", m[0])
			continue
		}
		if _, err := time.Parse(time.DateOnly, d[1]); err != nil {
			t.Errorf("%s: the removal date is not a date: %v", m[0], err)
		}
	}
	t.Logf("%d deprecations, each with its removal date", len(found))
}
