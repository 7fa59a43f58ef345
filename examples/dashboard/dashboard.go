// Package dashboard holds the example dashboard's built files (dist/, made
// by `npm run build` in this directory from src/ and ../../schema.graphql;
// see README.md), embedded so that the API server serves them at
// /dashboard/ with no CDN and no Node at run time (httpapi/dashboard.go).
package dashboard

import (
	"embed"
	"io/fs"
)

//go:embed dist/index.html dist/*.js dist/*.css
var dist embed.FS

// Files returns the built dashboard: index.html and the script and
// stylesheet it names, whose names carry their content hash.
func Files() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic("dashboard: " + err.Error()) // dist is a literal directory of the embed
	}
	return sub
}
