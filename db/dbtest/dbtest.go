// Package dbtest gives each test a fresh, migrated PostgreSQL database.
//
// TEST_DATABASE_URL must name a superuser connection (make test sets it).
// The migrations are applied once per schema version into a template
// database; each test then gets a copy (CREATE DATABASE ... TEMPLATE), which
// takes milliseconds, and drops it in t.Cleanup. Tests may run in parallel.
//
// When TEST_DATABASE_URL goes through a pooler in transaction mode
// (TestPgBouncer), TEST_DATABASE_DIRECT_URL names the server behind it:
// databases are created and dropped there (the template's advisory lock is
// a session's), tests connect through the pooler, and what needs a session
// of its own (LISTEN) asks Direct for its URL, as DATABASE_DIRECT_URL does
// in production. DB_PREPARED_STATEMENTS=false then makes Options, and so
// every store of the tests, send statements unprepared.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	_ "github.com/lib/pq" // the postgres driver

	"tenantapi/db"
	"tenantapi/migrations"
)

// AdminURL returns TEST_DATABASE_URL, failing the test when it is unset.
func AdminURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		t.Fatal("TEST_DATABASE_URL is not set: run `make test`, which finds or starts a PostgreSQL, or set it to a superuser URL such as postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	}
	return u
}

// directAdminURL is TEST_DATABASE_DIRECT_URL, else TEST_DATABASE_URL.
func directAdminURL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("TEST_DATABASE_DIRECT_URL"); u != "" {
		return u
	}
	return AdminURL(t)
}

// Direct returns the URL of the test database at dbURL without the pooler
// of TEST_DATABASE_URL, if any: for a session of its own (LISTEN).
func Direct(t testing.TB, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	return WithDatabase(t, directAdminURL(t), u.Path[1:])
}

// Options returns o as the tests' environment asks: with NoPrepare when
// DB_PREPARED_STATEMENTS=false (the tests run through PgBouncer).
func Options(o db.Options) db.Options {
	if os.Getenv("DB_PREPARED_STATEMENTS") == "false" {
		o.NoPrepare = true
	}
	return o
}

// WithDatabase returns url with its database name replaced.
func WithDatabase(t testing.TB, rawURL, name string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// template creates (once per process, guarded across processes by an
// advisory lock) the migrated template database for this schema version.
func template(t testing.TB, admin *sql.DB, adminURL string) string {
	templateOnce.Do(func() {
		h := sha256.New()
		_ = fs.WalkDir(migrations.FS, ".", func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				b, _ := fs.ReadFile(migrations.FS, p)
				h.Write([]byte(p))
				h.Write(b)
			}
			return nil
		})
		templateName = "tenantapi_tmpl_" + hex.EncodeToString(h.Sum(nil))[:12]
		ctx := context.Background()
		conn, err := admin.Conn(ctx)
		if err != nil {
			templateErr = err
			return
		}
		defer conn.Close()
		if _, err = conn.ExecContext(ctx, `SELECT pg_advisory_lock(774411)`); err != nil {
			templateErr = err
			return
		}
		defer conn.ExecContext(ctx, `SELECT pg_advisory_unlock(774411)`) //nolint:errcheck
		var exists bool
		if err = conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)`, templateName).Scan(&exists); err != nil || exists {
			templateErr = err
			return
		}
		_, _ = conn.ExecContext(ctx, `DROP DATABASE IF EXISTS `+templateName)
		if _, err = conn.ExecContext(ctx, `CREATE DATABASE `+templateName); err != nil {
			templateErr = err
			return
		}
		store, err := db.Open(ctx, WithDatabase(t, adminURL, templateName), db.Options{MaxOpenConns: 2})
		if err != nil {
			templateErr = err
			return
		}
		_, err = store.Migrate(ctx)
		store.Close()
		if err != nil {
			templateErr = err
			return
		}
		_, templateErr = conn.ExecContext(ctx, `ALTER DATABASE `+templateName+` WITH is_template = true`)
	})
	if templateErr != nil {
		t.Fatalf("dbtest: preparing the template database: %v", templateErr)
	}
	return templateName
}

// NewURL creates a fresh migrated database, dropped when the test ends, and
// returns its URL.
func NewURL(t testing.TB) string {
	t.Helper()
	adminURL, directURL := AdminURL(t), directAdminURL(t)
	admin, err := sql.Open("postgres", directURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	tmpl := template(t, admin, directURL)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "tenantapi_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, tmpl)); err != nil {
		t.Fatalf("dbtest: create database: %v", err)
	}
	t.Cleanup(func() {
		if os.Getenv("TEST_DATABASE_DIRECT_URL") != "" {
			// Through a pooler, let the statements still running (a worker
			// cancelled at the test's end) finish before FORCE ends their
			// sessions: PgBouncer 1.18 exits when a session it is cancelling
			// is terminated (docs/scaling.md).
			for range 100 {
				var active int
				if err := admin.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND state <> 'idle'`, name).Scan(&active); err != nil || active == 0 {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		if _, err := admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`); err != nil {
			t.Logf("dbtest: drop database %s: %v", name, err)
		}
	})
	return WithDatabase(t, adminURL, name)
}

// New returns a Store over a fresh migrated database, closed and dropped
// when the test ends.
func New(t testing.TB) *db.Store {
	t.Helper()
	store, err := db.Open(context.Background(), NewURL(t), Options(db.Options{MaxOpenConns: 10}))
	if err != nil {
		t.Fatalf("dbtest: open: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}
