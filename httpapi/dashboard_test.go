package httpapi_test

import (
	"crypto/sha512"
	"encoding/base64"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"tenantapi/httpapi"
)

// get GETs path of e's server, following no redirect.
func (e *env) get(path string) (*http.Response, []byte) {
	e.t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(e.srv.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, body
}

// TestDashboardServed: the example dashboard is served at /dashboard/ from
// the binary, under a CSP that allows this origin's scripts, styles, fetch
// and websocket only and no inline code; its page loads only its own
// assets, with integrity digests that match what is served; assets are
// immutable; nothing else is served below it; and with introspection off,
// when neither GraphiQL nor the sign-in page is served, neither is the
// dashboard.
func TestDashboardServed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	resp, _ := e.get("/dashboard")
	if resp.StatusCode/100 != 3 || resp.Header.Get("Location") != httpapi.DashboardPath {
		t.Errorf("/dashboard: %d to %q, want a redirect to %s", resp.StatusCode, resp.Header.Get("Location"), httpapi.DashboardPath)
	}
	resp, body := e.get(httpapi.DashboardPath)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("%s: %d %s", httpapi.DashboardPath, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("page Cache-Control = %q, want no-cache", cc)
	}
	host := strings.TrimPrefix(e.srv.URL, "http://")
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self';", "style-src 'self';",
		"connect-src 'self' ws://" + host + " wss://" + host + ";", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q allows unsafe code", csp)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("page headers: %v", resp.Header)
	}

	page := string(body)
	if strings.Contains(page, " style=") || strings.Contains(page, "<style") || regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]`).MatchString(page) {
		t.Error("inline code or style on the page")
	}
	tags := regexp.MustCompile(`(?is)<(?:script|link)\b[^>]*>`).FindAllString(page, -1)
	attr := func(tag, name string) string {
		m := regexp.MustCompile(`\b` + name + `="([^"]*)"`).FindStringSubmatch(tag)
		if m == nil {
			return ""
		}
		return m[1]
	}
	var served []string
	for _, tag := range tags {
		if attr(tag, "rel") == "icon" {
			continue
		}
		ref := attr(tag, "src") + attr(tag, "href")
		if !regexp.MustCompile(`^dashboard-[A-Z0-9]+\.(js|css)$`).MatchString(ref) {
			t.Errorf("tag %s loads %q, want one of the dashboard's hashed assets", tag, ref)
			continue
		}
		served = append(served, ref)
		r, data := e.get(httpapi.DashboardPath + ref)
		if r.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", ref, r.StatusCode)
			continue
		}
		sum := sha512.Sum384(data)
		if want := "sha384-" + base64.StdEncoding.EncodeToString(sum[:]); attr(tag, "integrity") != want {
			t.Errorf("%s: integrity %q, the served bytes are %s", ref, attr(tag, "integrity"), want)
		}
		if cc := r.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q", ref, cc)
		}
		if ct, ext := r.Header.Get("Content-Type"), ref[strings.LastIndex(ref, "."):]; ext == ".js" && ct != "text/javascript; charset=utf-8" || ext == ".css" && ct != "text/css; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", ref, ct)
		}
	}
	if len(served) != 2 {
		t.Fatalf("the page loads %q, want its script and stylesheet: %q", served, tags)
	}

	for _, p := range []string{"index.html", "SOURCES.sha256", "nope.js", "dist/index.html", "x/" + served[0]} {
		if r, _ := e.get(httpapi.DashboardPath + p); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s%s: %d, want 404", httpapi.DashboardPath, p, r.StatusCode)
		}
	}

	off := newEnvWith(t, func(c *httpapi.Config) { c.Introspection = httpapi.IntrospectionOff })
	if r, _ := off.get(httpapi.DashboardPath); r.StatusCode != http.StatusNotFound {
		t.Errorf("with introspection off, %s: %d, want 404", httpapi.DashboardPath, r.StatusCode)
	}
}
