package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"tenantapi/buildinfo"
	"testing"

	"github.com/99designs/gqlgen/graphql"

	"tenantapi/httpapi"
	"tenantapi/ratelimit"
)

// This file checks /metrics: requests by operation and outcome, latency
// histograms, the database pool, rate-limit refusals, bounded labels and a
// registry of its own per server.

// scrapeMetrics returns the server's /metrics page.
func scrapeMetrics(t testing.TB, e *guardedEnv) string {
	t.Helper()
	r := e.serve(httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	return string(r.Raw)
}

// sample returns the value of the series with exactly these labels
// (name{labels} value), or -1 when it is absent.
func sample(page, series string) float64 {
	for _, line := range strings.Split(page, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	e := newGuardedEnv(t, func(c *httpapi.Config) {
		// Stand in for the rate limiter: count a refusal where viewer runs.
		httpapi.SetFieldMiddleware(c, func(ctx context.Context, next graphql.Resolver) (any, error) {
			if fc := graphql.GetFieldContext(ctx); fc.Object == "Query" && fc.Field.Name == "viewer" {
				httpapi.CountRateLimited(ctx, "tenant")
			}
			return next(ctx)
		})
	})
	send := func(query, contentType, token string) {
		req := postBody(t, queryBody(query), "")
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		req.Header.Del("Authorization")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		e.serve(req)
	}
	send(`query Plans { plans { id } }`, "", "")
	send(`query Plans { plans { name } }`, "", "")
	send(`query Viewer { viewer { kind } }`, "", "")
	send(`query Me { me { name } }`, "", "")                                          // UNAUTHENTICATED at me
	send(`query Broken { plans { nope } }`, "", "")                                   // validation: no operation yet
	send(`{ plans { `+repeat("a%d: id", 31)+`} }`, "", "")                            // a limit
	send(`{ plans { id } }`, "text/plain", "")                                        // 415
	send(`{ plans { id } }`, "", "tnt_notakeyatall")                                  // 401
	send(`query Tenants { tenants(first: 500) { totalCount } }`, "", testAdminSecret) // page size
	page := scrapeMetrics(t, e)

	for series, want := range map[string]float64{
		`graphql_requests_total{operation="Plans",outcome="ok"}`:                            2,
		`graphql_requests_total{operation="Viewer",outcome="ok"}`:                           1,
		`graphql_requests_total{operation="Me",outcome="UNAUTHENTICATED"}`:                  1,
		`graphql_requests_total{operation="anonymous",outcome="GRAPHQL_VALIDATION_FAILED"}`: 1,
		`graphql_requests_total{operation="anonymous",outcome="TOO_MANY_ALIASES"}`:          1,
		`graphql_requests_total{operation="anonymous",outcome="UNSUPPORTED_MEDIA_TYPE"}`:    1,
		`graphql_requests_total{operation="anonymous",outcome="UNAUTHENTICATED"}`:           1,
		`graphql_requests_total{operation="Tenants",outcome="BAD_USER_INPUT"}`:              1,
		`graphql_request_duration_seconds_count{operation="Plans"}`:                         2,
		`ratelimit_refusals_total{policy="tenant"}`:                                         1,
		`go_sql_max_open_connections{db_name="tenantapi"}`:                                  -2, // present
		`go_sql_open_connections{db_name="tenantapi"}`:                                      -2,
		`go_sql_in_use_connections{db_name="tenantapi"}`:                                    -2,
		`go_sql_wait_count_total{db_name="tenantapi"}`:                                      -2,
	} {
		got := sample(page, series)
		if (want == -2 && got < 0) || (want != -2 && got != want) {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	bi := buildinfo.Get()
	if want := fmt.Sprintf(`tenantapi_build_info{commit=%q,goversion=%q,version=%q} 1`, bi.Commit, bi.GoVersion, bi.Version); !strings.Contains(page, want) {
		t.Errorf("/metrics lacks %s", want)
	}
	for _, s := range []string{"# TYPE graphql_request_duration_seconds histogram", `graphql_request_duration_seconds_bucket{operation="Plans",le="0.1"}`, "go_goroutines ", "process_resident_memory_bytes "} {
		if !strings.Contains(page, s) {
			t.Errorf("/metrics lacks %s", s)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", page)
	}

	// Each server has its own registry.
	other := newGuardedEnv(t, nil)
	if got := sample(scrapeMetrics(t, other), `graphql_requests_total{operation="Plans",outcome="ok"}`); got != -1 {
		t.Errorf("a new server reports %v Plans requests", got)
	}
}

// TestMetricsRateLimited: a request the rate limiter refuses counts as
// RATE_LIMITED.
func TestMetricsRateLimited(t *testing.T) {
	t.Parallel()
	e := newGuardedEnv(t, func(c *httpapi.Config) {
		c.RateLimiter, c.AnonymousPerMinute = ratelimit.NewMemory(ratelimit.MemoryOptions{}), 1
	})
	for range 2 {
		req := postBody(t, queryBody(`query Plans { plans { id } }`), "")
		req.Header.Del("Authorization")
		e.serve(req)
	}
	page := scrapeMetrics(t, e)
	if got := sample(page, `graphql_requests_total{operation="Plans",outcome="ok"}`); got != 1 {
		t.Errorf("ok = %v, want 1", got)
	}
	if got := sample(page, `graphql_requests_total{operation="anonymous",outcome="RATE_LIMITED"}`); got != 1 {
		t.Errorf("RATE_LIMITED = %v, want 1:\n%s", got, page)
	}
}

// TestMetricsOperationNamesBounded: clients choose operation names, so only
// the first 100 get their own series.
func TestMetricsOperationNamesBounded(t *testing.T) {
	t.Parallel()
	e := newGuardedEnv(t, nil)
	for i := range 105 {
		e.serve(postBody(t, queryBody(fmt.Sprintf("query Op%d { __typename }", i)), ""))
	}
	e.serve(postBody(t, queryBody("query "+strings.Repeat("L", 80)+" { __typename }"), ""))
	page := scrapeMetrics(t, e)
	names := map[string]bool{}
	for _, m := range regexp.MustCompile(`graphql_requests_total\{operation="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		names[m[1]] = true
	}
	if len(names) != 102 || !names["other"] || !names["anonymous"] {
		t.Fatalf("%d operation labels (want 100 names, other and anonymous): %v", len(names), names)
	}
	if got := sample(page, `graphql_requests_total{operation="other",outcome="ok"}`); got != 5 {
		t.Errorf("other = %v, want 5", got)
	}
}
