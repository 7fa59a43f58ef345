package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestGraphQLOverHTTPAudit runs graphql-http's server audits (the GraphQL
// over HTTP draft's checks, scripts/httpaudit) against the real server,
// with the demo API key and anonymously: every audit must be ok, notices
// and warnings included.
func TestGraphQLOverHTTPAudit(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil || !fileExists("scripts/httpaudit/node_modules/graphql-http/package.json") {
		if os.Getenv("CI") == "true" {
			t.Fatal("node or scripts/httpaudit/node_modules is missing (make test installs them)")
		}
		t.Skip("node or scripts/httpaudit/node_modules is missing: run make test, which installs them")
	}
	// The audit sends 61 requests in a burst: more than the anonymous
	// rate limit allows a minute.
	t.Setenv("RATE_LIMIT_ANONYMOUS_PER_MINUTE", "0")
	base, vars := startDocsServer(t)
	for _, c := range []struct{ name, key string }{{"APIKey", vars["API_KEY"]}, {"Anonymous", ""}} {
		t.Run(c.name, func(t *testing.T) {
			out, err := exec.Command(node, "scripts/httpaudit/audit.mjs", base+"/graphql", c.key).CombinedOutput()
			if err != nil {
				t.Fatalf("the audit is not all ok (%v):\n%s", err, out)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			t.Log(lines[len(lines)-1])
		})
	}
}
