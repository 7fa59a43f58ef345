// Package graphiql serves a GraphiQL IDE whose JavaScript and CSS are
// embedded in the binary, so the page works without internet access.
//
// The page matches gqlgen's graphql/playground page (GraphiQL 4.1.2,
// React 18.2.0, the explorer plugin 4.0.6), with these differences: the
// assets come from /graphiql/assets/ instead of a CDN; the bootstrap code and
// page styles are embedded files, not inline, so the Content-Security-Policy
// can use script-src 'self' and style-src 'self' (plus a nonce); the page
// keeps nothing a user typed or received in the browser's storage (editors,
// tabs, history and responses live in memory: they can hold an API key or the
// admin secret), only GraphiQL's UI preferences; and the editor starts with
// DefaultQuery. The sign-in page that leads to it (SignInHandler,
// signin.go) is served from the same embedded assets.
package graphiql

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AssetPrefix is the URL path prefix under which the embedded assets are
// served.
const AssetPrefix = "/graphiql/assets/"

// DefaultQuery is the query shown in the editor each time the page loads
// (tabs are not saved across loads).
const DefaultQuery = `# Welcome to the Tenant API. Sign in (top right) to run queries as
# yourself, or add an API key in the Headers pane below:
#   {"Authorization": "Bearer tnt_..."}
{
  me {
    name
    plan { name }
    limits { users apiRequestsPerMinute }
    usage { activeUsers }
  }
}
`

//go:embed assets/*.js assets/*.css
var assetFS embed.FS

// Embedded file names, in assets/. Third-party files carry their upstream
// version in the name; see assets/THIRD_PARTY_NOTICES.md.
const (
	fileReact       = "react-18.2.0.production.min.js"
	fileReactDOM    = "react-dom-18.2.0.production.min.js"
	fileGraphiQLJS  = "graphiql-4.1.2.min.js"
	fileGraphiQLCSS = "graphiql-4.1.2.min.css"
	fileExplorerJS  = "plugin-explorer-4.0.6.umd.js"
	fileExplorerCSS = "plugin-explorer-4.0.6.css"
	filePageCSS     = "graphiql-page.css"
	fileInitJS      = "graphiql-init.js"
)

// asset is one embedded file, held in memory with a precompressed copy.
type asset struct {
	url         string // AssetPrefix + name with a content hash, e.g. /graphiql/assets/graphiql-4.1.2.min.867226ba8af5.js
	contentType string
	integrity   string // SRI value: "sha384-" + base64(sha384(data))
	digest      string // first 12 hex digits of sha256(data), used in url and ETag
	data        []byte
	gz          []byte // gzip of data; nil when compression does not help
	modTime     time.Time
}

type assetSet struct {
	byFile map[string]*asset // embedded file name -> asset
	byURL  map[string]*asset // served URL path -> asset
}

// assetRef is how a page loads an embedded file: its hashed URL and its
// integrity digest.
func assetRef(file string) pageRef {
	a := loadAssets().byFile[file]
	if a == nil {
		panic("graphiql: missing embedded asset " + file)
	}
	return pageRef{URL: a.url, Integrity: a.integrity}
}

// loadAssets reads, hashes and gzips the embedded files. It runs once, on
// the first call to Handler, so programs that import the package without
// serving GraphiQL pay nothing.
var loadAssets = sync.OnceValue(func() *assetSet {
	entries, err := assetFS.ReadDir("assets")
	if err != nil {
		panic("graphiql: reading embedded assets: " + err.Error())
	}
	// Embedded files have no modification time. Use a fixed one so that
	// http.ServeContent sends Last-Modified and honours If-Modified-Since.
	modTime := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	set := &assetSet{byFile: map[string]*asset{}, byURL: map[string]*asset{}}
	for _, e := range entries {
		name := e.Name()
		data, err := assetFS.ReadFile("assets/" + name)
		if err != nil {
			panic("graphiql: reading embedded asset: " + err.Error())
		}
		sum := sha256.Sum256(data)
		digest := hex.EncodeToString(sum[:])[:12]
		sri := sha512.Sum384(data)
		ext := path.Ext(name)
		a := &asset{
			// The content hash in the URL makes the long, immutable
			// Cache-Control safe: changed bytes get a new URL.
			url:         AssetPrefix + strings.TrimSuffix(name, ext) + "." + digest + ext,
			contentType: contentTypes[ext],
			integrity:   "sha384-" + base64.StdEncoding.EncodeToString(sri[:]),
			digest:      digest,
			data:        data,
			gz:          gzipBytes(data),
			modTime:     modTime,
		}
		if a.contentType == "" {
			panic("graphiql: no content type for embedded asset " + name)
		}
		set.byFile[name] = a
		set.byURL[a.url] = a
	}
	return set
})

var contentTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
}

// gzipBytes compresses data at the best level. It returns nil when the result
// would not save at least 10%.
func gzipBytes(data []byte) []byte {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		panic(err)
	}
	if _, err := zw.Write(data); err != nil {
		panic(err)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	if buf.Len() > len(data)*9/10 {
		return nil
	}
	return buf.Bytes()
}

func (a *asset) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	data, etag := a.data, `"`+a.digest+`"`
	if a.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Values("Accept-Encoding")) {
			// The gzip copy is a different representation: own ETag.
			data, etag = a.gz, `"`+a.digest+`-gzip"`
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", a.modTime, bytes.NewReader(data))
}

// acceptsGzip reports whether the Accept-Encoding header values allow gzip
// (an explicit "gzip" or "*" whose q-value is not zero).
func acceptsGzip(values []string) bool {
	gzipQ, starQ := -1.0, -1.0
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(part, ";")
			q := 1.0
			for _, p := range strings.Split(params, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
						q = f
					}
				}
			}
			switch coding = strings.ToLower(strings.TrimSpace(coding)); coding {
			case "gzip", "x-gzip":
				gzipQ = q
			case "*":
				starQ = q
			}
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return starQ > 0
}

var page = template.Must(template.New("graphiql").Parse(`<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{.Title}}</title>
    <link rel="icon" href="data:,">
{{- range .Styles}}
    <link rel="stylesheet" href="{{.URL}}" integrity="{{.Integrity}}" crossorigin="anonymous">
{{- end}}
{{- range .HeadScripts}}
    <script src="{{.URL}}" integrity="{{.Integrity}}" crossorigin="anonymous"></script>
{{- end}}
  </head>
  <body>
    <div id="graphiql" data-endpoint="{{.Endpoint}}" data-signin="{{.SignIn}}" data-default-query="{{.DefaultQuery}}" data-style-nonce="{{.StyleNonce}}">
      <div class="loading">Loading…</div>
    </div>
    <noscript>GraphiQL needs JavaScript.</noscript>
{{- range .BodyScripts}}
    <script src="{{.URL}}" integrity="{{.Integrity}}" crossorigin="anonymous"></script>
{{- end}}
  </body>
</html>
`))

type pageRef struct {
	URL       string
	Integrity string
}

type pageData struct {
	Title        string
	Endpoint     string
	SignIn       string
	DefaultQuery string
	StyleNonce   string
	Styles       []pageRef
	HeadScripts  []pageRef
	BodyScripts  []pageRef
}

// noncePlaceholder marks where each response's style nonce goes in the
// pre-rendered page. It contains nothing html/template would escape.
const noncePlaceholder = "GRAPHIQL-STYLE-NONCE"

// Handler serves the GraphiQL page at "/" (exactly) and the embedded assets
// under "/graphiql/assets/<name>". Every other path gets 404. endpoint is the
// GraphQL endpoint: normally a path such as "/graphql"; an absolute http(s)
// URL is allowed and is then added to the page's connect-src.
//
// The page is rendered once, here, except for a per-response nonce. Assets
// are served from memory with a one-year immutable Cache-Control (their URLs
// contain a content hash), and gzip-compressed when the client accepts it.
// Every response carries X-Content-Type-Options: nosniff.
func Handler(title, endpoint string) http.Handler {
	set := loadAssets()
	ref := assetRef
	var buf bytes.Buffer
	err := page.Execute(&buf, pageData{
		Title:        title,
		Endpoint:     endpoint,
		SignIn:       SignInPath,
		DefaultQuery: DefaultQuery,
		StyleNonce:   noncePlaceholder,
		// Same load order as gqlgen's page: React in <head>, GraphiQL and
		// the explorer plugin at the end of <body>, then the bootstrap.
		Styles:      []pageRef{ref(filePageCSS), ref(fileGraphiQLCSS), ref(fileExplorerCSS)},
		HeadScripts: []pageRef{ref(fileReact), ref(fileReactDOM)},
		BodyScripts: []pageRef{ref(fileGraphiQLJS), ref(fileExplorerJS), ref(fileInitJS)},
	})
	if err != nil {
		panic("graphiql: rendering page: " + err.Error())
	}
	head, tail, ok := bytes.Cut(buf.Bytes(), []byte(noncePlaceholder))
	if !ok || bytes.Contains(tail, []byte(noncePlaceholder)) {
		panic("graphiql: page must contain the nonce placeholder exactly once")
	}
	p := &pageHandler{head: head, tail: tail, extraConnect: endpointOrigins(endpoint)}

	mux := http.NewServeMux()
	mux.Handle("GET /{$}", p)
	mux.HandleFunc("GET "+AssetPrefix+"{name}", func(w http.ResponseWriter, r *http.Request) {
		a := set.byURL[r.URL.Path]
		if a == nil {
			http.NotFound(w, r)
			return
		}
		a.ServeHTTP(w, r)
	})
	// Every response gets nosniff, whatever answers it: the page, an asset,
	// a 304, or the mux's own 404, 405 and path-cleaning redirects.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		mux.ServeHTTP(w, r)
	})
}

type pageHandler struct {
	head, tail   []byte // the rendered page before and after the nonce
	extraConnect string // origins of an absolute endpoint, with a leading space
}

func (p *pageHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	nonce := newNonce()
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Security-Policy", p.csp(r, nonce))
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Length", strconv.Itoa(len(p.head)+len(nonce)+len(p.tail)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(p.head)
		io.WriteString(w, nonce)
		w.Write(p.tail)
	}
}

// newNonce returns 128 random bits, base64url-encoded.
func newNonce() string {
	var b [16]byte
	rand.Read(b[:]) // never returns an error
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// csp builds the page's Content-Security-Policy. Scripts and stylesheets
// come only from this origin, with no inline code. The one exception is the
// <style> element that GraphiQL's dialogs inject (react-remove-scroll), which
// is allowed by a per-response nonce: graphiql-init.js hands the nonce to it
// through the __webpack_nonce__ global. Images and fonts also allow data:
// URIs, which graphiql.min.css uses for its fonts and icons.
//
// GraphiQL talks to the endpoint with fetch and, for subscriptions, a
// WebSocket: see SelfConnectSources.
func (p *pageHandler) csp(r *http.Request, nonce string) string {
	connect := SelfConnectSources(r) + p.extraConnect
	return "default-src 'none'; " +
		"script-src 'self'; " +
		"style-src 'self' 'nonce-" + nonce + "'; " +
		"img-src 'self' data:; " +
		"font-src 'self' data:; " +
		"connect-src " + connect + "; " +
		"base-uri 'none'; " +
		"form-action 'none'; " +
		"frame-ancestors 'none'"
}

// SelfConnectSources is the connect-src of a page that talks to its own
// origin with fetch and a WebSocket: 'self', which CSP Level 3 lets match
// ws: and wss: on the same host, and those two origins spelled out for older
// browsers, from the request's Host header when it is a plain host[:port].
func SelfConnectSources(r *http.Request) string {
	if !validHost(r.Host) {
		return "'self'"
	}
	return "'self' ws://" + r.Host + " wss://" + r.Host
}

// validHost reports whether host is a host name or IPv4 address with an
// optional port, so it is safe to put in a CSP source list. (IPv6 literals
// are not valid CSP host sources; for those the policy relies on 'self'.)
func validHost(host string) bool {
	if host == "" || len(host) > 255 {
		return false
	}
	for _, c := range host {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.', c == '-', c == ':':
		default:
			return false
		}
	}
	return true
}

// endpointOrigins returns " https://host wss://host" (or the http/ws pair)
// when endpoint is an absolute http(s) URL, and "" otherwise.
func endpointOrigins(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || !validHost(u.Host) {
		return ""
	}
	switch u.Scheme {
	case "https":
		return fmt.Sprintf(" https://%s wss://%s", u.Host, u.Host)
	case "http":
		return fmt.Sprintf(" http://%s ws://%s", u.Host, u.Host)
	}
	return ""
}
