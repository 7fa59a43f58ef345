package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"tenantapi/db/dbtest"
	"tenantapi/httpapi"
	"tenantapi/tenant"
)

// BenchmarkMe measures the dashboard's `me` query with every association,
// through the real HTTP stack and PostgreSQL, for several loader wait
// windows. Compare runs with benchstat; the ratio between windows is what
// chose the default (README: Batched loads).
func BenchmarkMe(b *testing.B) {
	store := dbtest.New(b)
	ctx := tenant.WithActor(context.Background(), &tenant.Actor{Kind: tenant.Admin})
	tn, err := store.CreateTenant(ctx, tenant.CreateTenant{Name: "Bench", Domain: "bench.example.com", PlanID: "professional"})
	if err != nil {
		b.Fatal(err)
	}
	_, key, err := store.CreateAPIKey(ctx, tenant.NewAPIKeyInput{TenantID: tn.ID, Name: "bench", Permissions: tenant.TenantPermissions()})
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"query":"{ me { name plan { name } settings { dataResidency } limits { users } usage { activeUsers } apiKeys { nodes { id } } } }"}`)
	for _, wait := range []time.Duration{0, 100 * time.Microsecond, 500 * time.Microsecond, time.Millisecond, 2 * time.Millisecond} {
		b.Run(fmt.Sprintf("wait=%s", wait), func(b *testing.B) {
			srv := httptest.NewServer(httpapi.New(store, httpapi.Config{LoaderWait: wait, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
			defer srv.Close()
			start := store.Statements.Load()
			b.ResetTimer()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
			b.ReportMetric(float64(store.Statements.Load()-start)/float64(b.N), "stmts/op")
		})
	}
}
