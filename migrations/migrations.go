// Package migrations embeds the numbered SQL migrations that goose applies
// at start-up and in tests.
package migrations

import "embed"

// FS holds every *.sql migration of this directory.
//
//go:embed *.sql
var FS embed.FS
