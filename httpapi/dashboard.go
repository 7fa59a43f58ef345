package httpapi

import (
	"bytes"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"tenantapi/examples/dashboard"
	"tenantapi/graphiql"
)

// DashboardPath is where the example dashboard (examples/dashboard) is
// served, beside the sign-in page it sends people to.
const DashboardPath = "/dashboard/"

// dashboardHandler serves the example dashboard from the binary: its page
// at DashboardPath and the script and stylesheet the page names, whose file
// names carry a content hash, below it. Anything else below it is 404.
//
// The page runs under a Content-Security-Policy as strict as GraphiQL's:
// scripts and styles from this origin only (the page loads them with
// Subresource Integrity) and no inline code; it connects to this origin
// only, with fetch (POST /graphql, authenticated by the session cookie)
// and a websocket (the tenantEvents subscription). Its links to invoice PDFs
// are navigations, which CSP does not restrict; they stay on this origin.
func dashboardHandler() http.Handler {
	files := dashboard.Files()
	page, err := fs.ReadFile(files, "index.html")
	if err != nil {
		panic("httpapi: the dashboard has no index.html: " + err.Error())
	}
	// Embedded files have no modification time: a fixed one lets
	// http.ServeContent answer If-Modified-Since; assets are immutable.
	modTime := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		name := strings.TrimPrefix(r.URL.Path, DashboardPath)
		if name == "" {
			h.Set("Content-Type", "text/html; charset=utf-8")
			h.Set("Cache-Control", "no-cache")
			h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
				"connect-src "+graphiql.SelfConnectSources(r)+"; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
			h.Set("Referrer-Policy", "no-referrer")
			http.ServeContent(w, r, "index.html", modTime, bytes.NewReader(page))
			return
		}
		contentType := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}[path.Ext(name)]
		data, err := fs.ReadFile(files, name)
		if contentType == "" || strings.Contains(name, "/") || err != nil {
			http.NotFound(w, r)
			return
		}
		h.Set("Content-Type", contentType)
		h.Set("Cache-Control", "public, max-age=31536000, immutable") // the name changes with the content
		http.ServeContent(w, r, name, modTime, bytes.NewReader(data))
	})
}
