package dashboard_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"tenantapi/examples/dashboard"
)

const rebuild = "run `npm ci && npm run build` in examples/dashboard (its README.md) and commit src/generated/ and dist/"

// TestDashboardBuildCurrent fails when the committed build no longer
// matches its inputs: the published schema.graphql (changed by `make
// generate`), the operations, the sources or the pinned packages. build.mjs
// records the digest of each input in dist/SOURCES.sha256; this compares
// them with the files as they are, so it needs no Node. (With Node,
// scripts/check-generated.sh also rebuilds and compares the output.)
func TestDashboardBuildCurrent(t *testing.T) {
	f, err := os.Open("dist/SOURCES.sha256")
	if err != nil {
		t.Fatalf("%v: %s", err, rebuild)
	}
	defer f.Close()
	var listed []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("dist/SOURCES.sha256: malformed line %q", sc.Text())
		}
		listed = append(listed, name)
		data, err := os.ReadFile(filepath.FromSlash(name))
		if err != nil {
			t.Errorf("%s, an input of the build, is gone: %s", name, rebuild)
			continue
		}
		if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s changed since the dashboard was built: %s", name, rebuild)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	// A source added since the build is an input the build did not see.
	err = filepath.WalkDir("src", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !slices.Contains(listed, filepath.ToSlash(p)) {
			t.Errorf("%s is newer than the build: %s", p, rebuild)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDashboardFiles: what the server embeds is the page and the two assets
// it names, nothing else of dist/.
func TestDashboardFiles(t *testing.T) {
	var names []string
	err := fs.WalkDir(dashboard.Files(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	page, err := fs.ReadFile(dashboard.Files(), "index.html")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 3 {
		t.Errorf("embedded files %q, want index.html, a script and a stylesheet", names)
	}
	for _, n := range names {
		if n != "index.html" && !strings.Contains(string(page), `"`+n+`"`) {
			t.Errorf("%s is embedded but index.html does not load it: a stale file in dist/? %s", n, rebuild)
		}
	}
}
