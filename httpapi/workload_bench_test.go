package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tenantapi/bench"
	"tenantapi/db"
	"tenantapi/httpapi"
	"tenantapi/keyring"
)

// benchWorkloadTenants is the size of the dataset of the workload
// benchmarks: enough for a page of 100 and a pool of homes.
const benchWorkloadTenants = 300

// benchWorkloads seeds (once; kept between runs, rebuilt when the
// migrations change) a small copy of `make bench`'s dataset in the database
// tenantapi_bench_go of TEST_DATABASE_URL's cluster and returns the real
// handler over it with the admin secret, the seeded tenants and the
// workloads of docs/benchmarks.md (every optional feature on).
func benchWorkloads(b *testing.B) (http.Handler, string, []bench.Tenant) {
	b.Helper()
	adminURL := os.Getenv("TEST_DATABASE_URL")
	if adminURL == "" {
		b.Skip("TEST_DATABASE_URL is unset")
	}
	dir := filepath.Join("..", ".data", "bench-go")
	ctx := context.Background()
	o := bench.SeedOptions{AdminURL: adminURL, Database: "tenantapi_bench_go", Tenants: benchWorkloadTenants, Dir: dir}
	if _, err := bench.Seed(ctx, o); err != nil {
		b.Fatal(err)
	}
	spec, err := os.ReadFile(bench.EncryptionKeyFile(dir))
	if err != nil {
		b.Fatal(err)
	}
	ring, err := keyring.Parse(strings.TrimSpace(string(spec)))
	if err != nil {
		b.Fatal(err)
	}
	url, err := bench.WithDatabase(adminURL, o.Database)
	if err != nil {
		b.Fatal(err)
	}
	store, err := db.Open(ctx, url, db.Options{MaxOpenConns: 8, Sealer: ring})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	pool, err := bench.ReadTenants(bench.KeysFile(dir), "professional", "enterprise")
	if err != nil {
		b.Fatal(err)
	}
	const secret = "bench-admin-secret-0123456789abcdef"
	h := httpapi.New(store, httpapi.Config{AdminSecret: secret, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return h, secret, pool
}

// serveWorkload sends w's requests to h in turn, in b's loop, and fails on
// anything but a 200 without errors.
func serveWorkload(b *testing.B, h http.Handler, w bench.Workload) {
	b.Helper()
	var seq int64
	do := func() *httptest.ResponseRecorder {
		r := w.Next(0, seq)
		seq++
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(r.Body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+r.Bearer)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	// Warm up (the association cache, gqlgen's query cache) and check.
	for range 3 {
		rec := do()
		if rec.Code != 200 || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
			b.Fatalf("status %d: %.500s", rec.Code, rec.Body.String())
		}
		if w.Check != nil {
			if msg := w.Check(rec.Body.Bytes()); msg != "" {
				b.Fatalf("check: %s", msg)
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if rec := do(); rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkWorkloadList is `make bench`'s workload 2, the admin list of
// 100 tenants with their associations, through the real handler (no
// network) over a seeded database: the Go side's cost per list, to profile
// (-cpuprofile, -memprofile) and compare with benchstat.
func BenchmarkWorkloadList(b *testing.B) {
	h, secret, _ := benchWorkloads(b)
	f := bench.Features{Billing: true, Invoices: true, Stats: true, Credits: true, AccountStatus: true}
	ours, _ := bench.ListWorkloads(secret, f, bench.NewDates(time.Now()))
	serveWorkload(b, h, ours)
}

// BenchmarkWorkloadHome is workload 1, the dashboard home (`me` with every
// association) of the seeded tenants in turn, with their own keys.
func BenchmarkWorkloadHome(b *testing.B) {
	h, _, pool := benchWorkloads(b)
	f := bench.Features{Billing: true, Invoices: true, Stats: true, Credits: true, AccountStatus: true}
	ours, _ := bench.HomeWorkloads(pool, f, bench.NewDates(time.Now()))
	serveWorkload(b, h, ours)
}
