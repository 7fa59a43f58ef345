package graphiql

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, target string, header map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func readBody(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	tagRe  = regexp.MustCompile(`(?is)<(script|link)\b[^>]*>`)
	attrRe = regexp.MustCompile(`(?is)\b(src|href|integrity|rel)="([^"]*)"`)
)

type ref struct {
	tag, rel, url, integrity string
}

// pageRefs returns every <script> and <link> tag on the page except the
// empty favicon. It fails the test for inline scripts and for tags without a
// URL or integrity.
func pageRefs(t *testing.T, page string) []ref {
	t.Helper()
	var refs []ref
	for _, m := range tagRe.FindAllStringSubmatch(page, -1) {
		r := ref{tag: strings.ToLower(m[1])}
		for _, a := range attrRe.FindAllStringSubmatch(m[0], -1) {
			switch strings.ToLower(a[1]) {
			case "src", "href":
				r.url = html.UnescapeString(a[2])
			case "integrity":
				r.integrity = html.UnescapeString(a[2])
			case "rel":
				r.rel = strings.ToLower(a[2])
			}
		}
		if r.rel == "icon" {
			// An empty data: favicon stops the browser requesting /favicon.ico.
			if r.url != "data:," {
				t.Errorf("unexpected icon link: %s", m[0])
			}
			continue
		}
		if r.url == "" {
			t.Errorf("tag without src/href (inline script?): %s", m[0])
			continue
		}
		if r.integrity == "" {
			t.Errorf("tag without integrity attribute: %s", m[0])
		}
		refs = append(refs, r)
	}
	return refs
}

func TestPage(t *testing.T) {
	h := Handler("Tenant API", "/graphql")
	resp := get(t, h, "GET", "/", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control = %q", cc)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if csp == "" {
		t.Fatal("no Content-Security-Policy header")
	}
	directives := map[string]string{}
	for _, d := range strings.Split(csp, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		directives[name] = value
	}
	for name, want := range map[string]string{
		"default-src": "'none'",
		"script-src":  "'self'",
		"connect-src": "'self' ws://example.com wss://example.com",
	} {
		if got := directives[name]; got != want {
			t.Errorf("CSP %s = %q, want %q (policy %q)", name, got, want, csp)
		}
	}
	if strings.Contains(csp, "unsafe-") {
		t.Errorf("CSP allows unsafe sources: %q", csp)
	}

	page := string(readBody(t, resp))
	// style-src is 'self' plus a fresh nonce, which the page passes to
	// GraphiQL (for the <style> element its dialogs inject).
	m := regexp.MustCompile(`data-style-nonce="([A-Za-z0-9_-]{22})"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("page lacks data-style-nonce")
	}
	if got, want := directives["style-src"], "'self' 'nonce-"+m[1]+"'"; got != want {
		t.Errorf("CSP style-src = %q, want %q", got, want)
	}
	again := get(t, h, "GET", "/", nil)
	if strings.Contains(again.Header.Get("Content-Security-Policy"), m[1]) {
		t.Error("two responses share a nonce")
	}
	if n := again.ContentLength; n != int64(len(page)) {
		t.Errorf("Content-Length %d, page is %d bytes", n, len(page))
	}

	if !strings.HasPrefix(page, "<!DOCTYPE html>") {
		t.Errorf("page does not start with a doctype: %.80q", page)
	}
	for _, want := range []string{
		"<title>Tenant API</title>",
		`data-endpoint="/graphql"`,
		`id="graphiql"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	// The default query reaches the page intact (html-escaped in an attribute).
	m = regexp.MustCompile(`data-default-query="([^"]*)"`).FindStringSubmatch(page)
	if m == nil || html.UnescapeString(m[1]) != DefaultQuery {
		t.Errorf("data-default-query does not hold DefaultQuery: %q", m)
	}
	if !strings.Contains(DefaultQuery, `{"Authorization": "Bearer tnt_..."}`) {
		t.Error("DefaultQuery lacks the Authorization hint")
	}

	refs := pageRefs(t, page)
	var scripts, styles int
	for _, r := range refs {
		if r.tag == "script" {
			scripts++
		} else {
			styles++
		}
		if strings.Contains(r.url, "//") || !strings.HasPrefix(r.url, AssetPrefix) {
			t.Errorf("%s references a non-local URL %q", r.tag, r.url)
		}
	}
	// React, ReactDOM, GraphiQL, explorer plugin, bootstrap; page CSS,
	// GraphiQL CSS, explorer CSS.
	if scripts != 5 || styles != 3 {
		t.Errorf("page has %d scripts and %d stylesheets, want 5 and 3", scripts, styles)
	}

	for _, r := range refs {
		resp := get(t, h, "GET", r.url, nil)
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", r.url, resp.StatusCode)
			continue
		}
		wantCT := map[string]string{
			"script": "text/javascript; charset=utf-8",
			"link":   "text/css; charset=utf-8",
		}[r.tag]
		if ct := resp.Header.Get("Content-Type"); ct != wantCT {
			t.Errorf("GET %s: Content-Type = %q, want %q", r.url, ct, wantCT)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("GET %s: Cache-Control = %q", r.url, cc)
		}
		if ce := resp.Header.Get("Content-Encoding"); ce != "" {
			t.Errorf("GET %s without Accept-Encoding: Content-Encoding = %q", r.url, ce)
		}
		sum := sha512.Sum384(body)
		if got := "sha384-" + base64.StdEncoding.EncodeToString(sum[:]); got != r.integrity {
			t.Errorf("GET %s: body hash %s, page integrity %s", r.url, got, r.integrity)
		}
		// The URL carries a content hash, so the immutable caching is safe.
		hash := sha256.Sum256(body)
		hexHash := hex.EncodeToString(hash[:])[:12]
		if !strings.Contains(r.url, "."+hexHash+".") {
			t.Errorf("URL %s lacks the content hash %s", r.url, hexHash)
		}
	}
}

// TestVendoredBytes pins the embedded third-party files. Five are the exact
// files gqlgen v0.17.95's playground loads from jsDelivr (same sha256 as its
// SRI attributes). The explorer CSS is the npm package's dist/style.css;
// gqlgen's style.min.css is generated by jsDelivr and is not on npm.
func TestVendoredBytes(t *testing.T) {
	for file, want := range map[string]string{
		fileGraphiQLJS:  "sha256-hnImuor1znlJkD/FOTL3jayfS/xsyNoP04abi8bFJWs=",
		fileGraphiQLCSS: "sha256-MEh+B2NdMSpj9kexQNN3QKc8UzMrCXW/Sx/phcpuyIU=",
		fileReact:       "sha256-S0lp+k7zWUMk2ixteM6HZvu8L9Eh//OVrt+ZfbCpmgY=",
		fileReactDOM:    "sha256-IXWO0ITNDjfnNXIu5POVfqlgYoop36bDzhodR6LW5Pc=",
		fileExplorerJS:  "sha256-UM8sWOS0Xa9yLY85q6Clh0pF4qpxX+TOcJ41flECqBs=",
		fileExplorerCSS: "sha256-aJCaSuI7+t/EWRrLTis8jU9EFTua5/o7fnwxnroxDvE=",
	} {
		data, err := assetFS.ReadFile("assets/" + file)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if got := "sha256-" + base64.StdEncoding.EncodeToString(sum[:]); got != want {
			t.Errorf("%s: %s, want %s", file, got, want)
		}
	}
}

func TestAssetGzip(t *testing.T) {
	h := Handler("Tenant API", "/graphql")
	a := loadAssets().byFile[fileGraphiQLJS]
	resp := get(t, h, "GET", a.url, map[string]string{"Accept-Encoding": "br, gzip"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", a.url, resp.StatusCode)
	}
	if ce := resp.Header.Get("Content-Encoding"); ce != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip", ce)
	}
	if v := resp.Header.Get("Vary"); v != "Accept-Encoding" {
		t.Errorf("Vary = %q", v)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(plain, a.data) {
		t.Error("gunzipped body differs from the asset")
	}

	// q=0 refuses gzip.
	resp = get(t, h, "GET", a.url, map[string]string{"Accept-Encoding": "gzip;q=0, identity"})
	if ce := resp.Header.Get("Content-Encoding"); ce != "" {
		t.Errorf("with gzip;q=0: Content-Encoding = %q", ce)
	}
	if body := readBody(t, resp); !bytes.Equal(body, a.data) {
		t.Error("with gzip;q=0: body differs from the asset")
	}
}

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"":                     false,
		"gzip":                 true,
		"GZIP":                 true,
		"deflate, gzip;q=1.0":  true,
		"gzip;q=0":             false,
		"gzip; q=0.0, *":       false,
		"*":                    true,
		"*;q=0":                false,
		"br":                   false,
		"identity, x-gzip;q=1": true,
	} {
		if got := acceptsGzip([]string{header}); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}

func TestAssetConditional(t *testing.T) {
	h := Handler("Tenant API", "/graphql")
	a := loadAssets().byFile[fileReact]
	resp := get(t, h, "GET", a.url, nil)
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	resp = get(t, h, "GET", a.url, map[string]string{"If-None-Match": etag})
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", resp.StatusCode)
	}
	resp = get(t, h, "HEAD", a.url, nil)
	if resp.StatusCode != http.StatusOK || len(readBody(t, resp)) != 0 {
		t.Errorf("HEAD: status %d, want 200 and no body", resp.StatusCode)
	}
}

func TestNotFound(t *testing.T) {
	h := Handler("Tenant API", "/graphql")
	a := loadAssets().byFile[fileGraphiQLJS]
	for _, p := range []string{
		"/index.html",
		"/graphql",
		"/foo",
		"/graphiql",
		"/graphiql/",
		"/graphiql/assets/",
		"/graphiql/assets/nope.js",
		"/graphiql/assets/" + fileGraphiQLJS, // embedded name without the hash
		a.url + "x",
		a.url + "/",
	} {
		if resp := get(t, h, "GET", p, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, resp.StatusCode)
		}
	}
	if resp := get(t, h, "POST", "/", nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d, want 405", resp.StatusCode)
	}
}

func TestPageEscaping(t *testing.T) {
	h := Handler(`</title><script>alert(1)</script>`, `/graphql"><script>alert(2)</script>`)
	page := string(readBody(t, get(t, h, "GET", "/", nil)))
	if strings.Contains(page, "<script>alert") {
		t.Errorf("title or endpoint not escaped:\n%s", page)
	}
}

func TestAbsoluteEndpointCSP(t *testing.T) {
	h := Handler("Tenant API", "https://api.example.com/graphql")
	resp := get(t, h, "GET", "/", nil)
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "https://api.example.com wss://api.example.com") {
		t.Errorf("CSP lacks the absolute endpoint's origins: %q", csp)
	}
	// A Host header that is not a plain host[:port] is left out of the CSP.
	req := httptest.NewRequest("GET", "/", nil)
	req.Host = "evil; script-src *"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if csp := rec.Header().Get("Content-Security-Policy"); strings.Contains(csp, "evil") {
		t.Errorf("CSP contains the raw Host header: %q", csp)
	}
}

// TestNosniff checks that every response of the handler, whatever its
// status, carries X-Content-Type-Options: nosniff, so that no browser runs
// or styles a response as something other than its declared type.
func TestNosniff(t *testing.T) {
	h := Handler("Tenant API", "/graphql")
	js := loadAssets().byFile[fileGraphiQLJS]
	css := loadAssets().byFile[fileGraphiQLCSS]
	for _, c := range []struct {
		name, method, target string
		header               map[string]string
		status               int
	}{
		{"Page", "GET", "/", nil, http.StatusOK},
		{"PageHEAD", "HEAD", "/", nil, http.StatusOK},
		{"Script", "GET", js.url, nil, http.StatusOK},
		{"ScriptGzip", "GET", js.url, map[string]string{"Accept-Encoding": "gzip"}, http.StatusOK},
		{"Stylesheet", "GET", css.url, nil, http.StatusOK},
		{"AssetNotModified", "GET", js.url, map[string]string{"If-None-Match": `"` + js.digest + `"`}, http.StatusNotModified},
		{"AssetRange", "GET", js.url, map[string]string{"Range": "bytes=0-9"}, http.StatusPartialContent},
		{"AssetBadRange", "GET", js.url, map[string]string{"Range": "bytes=99999999-"}, http.StatusRequestedRangeNotSatisfiable},
		{"UnknownAsset", "GET", AssetPrefix + "nope.js", nil, http.StatusNotFound},
		{"UnknownPath", "GET", "/foo", nil, http.StatusNotFound},
		{"MethodNotAllowed", "POST", "/", nil, http.StatusMethodNotAllowed},
		{"PathCleaningRedirect", "GET", "/graphiql/assets/../", nil, http.StatusTemporaryRedirect},
		{"DoubleSlashRedirect", "GET", "//", nil, http.StatusTemporaryRedirect},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := get(t, h, c.method, c.target, c.header)
			if resp.StatusCode != c.status {
				t.Errorf("%s %s = %d, want %d", c.method, c.target, resp.StatusCode, c.status)
			}
			if got := resp.Header.Values("X-Content-Type-Options"); len(got) != 1 || got[0] != "nosniff" {
				t.Errorf("%s %s (%d): X-Content-Type-Options = %q, want exactly [nosniff]", c.method, c.target, resp.StatusCode, got)
			}
		})
	}
}
