package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"tenantapi/db/dbtest"
	"tenantapi/keyring"
)

// The examples of the documentation are tests (docs/README.md says how to
// write one). An example is a ```sh block holding one curl command followed
// by a ```json block holding its answer:
//
//	```sh
//	curl -s localhost:8080/graphql -H 'Content-Type: application/json' \
//	  -H "Authorization: Bearer $API_KEY" -d '{"query": "{ me { name } }"}'
//	```
//	```json
//	{"data": {"me": {"name": "ACME Corporation"}}}
//	```
//
// TestDocsExamples starts the real server (run, as `make run` does, with the
// demo tenant seeded) once per page, runs the page's commands in order with
// the real curl, and compares each answer with the one written:
//   - "…" matches any value, and inside a string any text ("tnt_…");
//   - "$NAME" (capitals) takes the value it meets first and must meet it
//     again afterwards; later commands may use $NAME, replaced by that value;
//   - $API_KEY is the demo tenant's key (every tenant permission),
//     $DEMO_PASSWORD its owner's (it@acme.fr) and $ADMIN_SECRET the
//     operator's, as `make run` prints them;
//   - the response's top-level "extensions" (the rate limit's budget) is
//     compared only when the written answer has one.

var (
	exampleBlock = regexp.MustCompile("(?s)```(?:sh|bash)\n(curl .*?)```\n+```json\n(.*?)```")
	docVariable  = regexp.MustCompile(`\$\{?([A-Z][A-Z0-9_]*)\}?`)
	captureValue = regexp.MustCompile(`^\$([A-Z][A-Z0-9_]*)$`) // a written answer's "$NAME"
)

// docExample is one command and its written answer.
type docExample struct {
	line    int // of the command, in its page
	command string
	answer  string
}

func docExamples(t *testing.T, page string) []docExample {
	t.Helper()
	raw, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	var out []docExample
	for _, m := range exampleBlock.FindAllSubmatchIndex(raw, -1) {
		out = append(out, docExample{
			line:    1 + bytes.Count(raw[:m[2]], []byte("\n")),
			command: string(raw[m[2]:m[3]]),
			answer:  string(raw[m[4]:m[5]]),
		})
	}
	return out
}

// noExamples are the pages that are not about the API's behaviour.
var noExamples = map[string]bool{"architecture.md": true, "benchmarks.md": true, "configuration.md": true, "scaling.md": true}

func TestDocsExamples(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("curl is needed to run the documentation's examples")
		}
		t.Skip("curl is not installed: the documentation's examples are not checked (apt-get install curl)")
	}
	pages, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	pages = append([]string{"README.md"}, pages...)
	total := 0
	for _, page := range pages {
		examples := docExamples(t, page)
		if len(examples) == 0 {
			if !noExamples[filepath.Base(page)] {
				t.Errorf("%s has no example: every reference page shows its area with curl examples (docs/README.md)", page)
			}
			continue
		}
		total += len(examples)
		t.Run(page, func(t *testing.T) {
			base, vars := startDocsServer(t)
			for _, ex := range examples {
				cmd := docVariable.ReplaceAllStringFunc(ex.command, func(v string) string {
					name := docVariable.FindStringSubmatch(v)[1]
					if val, ok := vars[name]; ok {
						return val
					}
					return v
				})
				cmd = strings.ReplaceAll(cmd, "localhost:8080", strings.TrimPrefix(base, "http://"))
				out, err := exec.Command("bash", "-c", cmd).Output()
				if err != nil {
					t.Fatalf("%s:%d: the command failed: %v\n%s", page, ex.line, err, ex.command)
				}
				var want, got any
				if err := decodeNumbers(ex.answer, &want); err != nil {
					t.Fatalf("%s:%d: the written answer is not JSON: %v", page, ex.line, err)
				}
				if err := decodeNumbers(string(out), &got); err != nil {
					t.Fatalf("%s:%d: the answer is not JSON: %v\n%s", page, ex.line, err, out)
				}
				if w, ok := want.(map[string]any); ok {
					if g, ok := got.(map[string]any); ok && w["extensions"] == nil {
						delete(g, "extensions")
					}
				}
				if where := matchAnswer(want, got, "", vars); where != "" {
					t.Errorf("%s:%d: the answer differs at %s\ncommand: %s\nwritten: %s\nactual:  %s", page, ex.line, where, ex.command, strings.TrimSpace(ex.answer), out)
				}
			}
		})
	}
	t.Logf("%d examples in %d pages", total, len(pages))
}

func decodeNumbers(s string, v any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	return dec.Decode(v)
}

// matchAnswer compares a written answer with the actual one and returns
// the path of the first difference, or "" when they match.
func matchAnswer(want, got any, path string, vars map[string]string) string {
	at := path
	if at == "" {
		at = "the top"
	}
	switch w := want.(type) {
	case string:
		if w == "…" {
			return ""
		}
		if m := captureValue.FindStringSubmatch(w); m != nil {
			val := scalarText(got)
			if prev, ok := vars[m[1]]; ok && prev != val {
				return fmt.Sprintf("%s (%s was %q, now %q)", at, w, prev, val)
			}
			vars[m[1]] = val
			return ""
		}
		g, ok := got.(string)
		if !ok || !globMatch(w, g) {
			return at
		}
		return ""
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return at
		}
		keys := make([]string, 0, len(w)+len(g))
		for k := range w {
			keys = append(keys, k)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			wv, inWant := w[k]
			gv, inGot := g[k]
			if !inWant || !inGot {
				return path + "." + k
			}
			if d := matchAnswer(wv, gv, path+"."+k, vars); d != "" {
				return d
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return at
		}
		for i := range w {
			if d := matchAnswer(w[i], g[i], fmt.Sprintf("%s[%d]", path, i), vars); d != "" {
				return d
			}
		}
		return ""
	case json.Number:
		if g, ok := got.(json.Number); !ok || g.String() != w.String() {
			return at
		}
		return ""
	default:
		if fmt.Sprint(want) != fmt.Sprint(got) {
			return at
		}
		return ""
	}
}

// globMatch reports whether s matches pattern, where "…" stands for any
// text.
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "…")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

func scalarText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// docsAdminSecret is the operator's secret of the documentation's server.
const docsAdminSecret = "docs-admin-secret-0123456789abcdef0123"

// startDocsServer runs the real server on a fresh database with the demo
// tenant seeded, as `make run` does, and stops it when the test ends. It
// returns the base URL and the variables the examples may use.
func startDocsServer(t *testing.T) (string, map[string]string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	keyFile := filepath.Join(t.TempDir(), "demo-api-key")
	t.Setenv("DATABASE_URL", dbtest.NewURL(t))
	t.Setenv("PORT", strconv.Itoa(port))
	t.Setenv("LOG_LEVEL", "error")
	t.Setenv("ADMIN_SECRET", docsAdminSecret)
	t.Setenv("ENCRYPTION_KEY", keyring.Generate("docs"))
	// As `make run` (scripts/run.sh) sets them.
	t.Setenv("PUBLIC_BASE_URL", "http://localhost:8080")
	t.Setenv("SELLER_NAME", "Tenant API Demo SAS")
	t.Setenv("SELLER_ADDRESS", "12 rue de la Paix; 75002 Paris; France")
	t.Setenv("SELLER_EMAIL", "billing@tenantapi.example")
	t.Setenv("SELLER_TAX_ID", "FR00123456789")
	t.Setenv("SHUTDOWN_DRAIN", "0") // stopped by SIGTERM at the end: no balancer to drain
	done := make(chan error, 1)
	go func() { done <- run([]string{"serve", "-seed-demo", "-demo-key-file", keyFile}) }()
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-done:
			t.Fatalf("the server stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not start: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(syscall.Getpid(), syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("the server did not stop")
		}
	})
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := os.ReadFile(filepath.Join(filepath.Dir(keyFile), "demo-password"))
	if err != nil {
		t.Fatal(err)
	}
	return base, map[string]string{"API_KEY": strings.TrimSpace(string(key)), "ADMIN_SECRET": docsAdminSecret,
		"DEMO_PASSWORD": strings.TrimSpace(string(pw))}
}

// TestDocsLinks: every relative link of README.md and docs/*.md reaches a
// file that exists and, with a #fragment, one of its headings.
func TestDocsLinks(t *testing.T) {
	pages, _ := filepath.Glob("docs/*.md")
	pages = append(pages, "README.md")
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, page := range pages {
		raw, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(raw), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, frag, _ := strings.Cut(target, "#")
			path := page
			if file != "" {
				path = filepath.Join(filepath.Dir(page), file)
			}
			body, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("%s: link %s: %v", page, target, err)
				continue
			}
			if frag != "" && !hasAnchor(string(body), frag) {
				t.Errorf("%s: link %s: %s has no heading #%s", page, target, path, frag)
			}
		}
	}
}

// hasAnchor reports whether markdown has a heading whose GitHub anchor is
// frag.
func hasAnchor(markdown, frag string) bool {
	for _, line := range strings.Split(markdown, "\n") {
		h := strings.TrimLeft(line, "#")
		if len(h) == len(line) || !strings.HasPrefix(h, " ") {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(h)) {
			switch {
			case r == ' ' || r == '-':
				b.WriteRune('-')
			case r == '_' || ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') || r > 127:
				b.WriteRune(r)
			}
		}
		if b.String() == frag {
			return true
		}
	}
	return false
}
