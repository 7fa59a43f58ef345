package httpapi_test

import (
	"net/http"
	"testing"

	"tenantapi/httpapi"
)

// TestCORSOrigins: CORS_ALLOWED_ORIGINS unset means no cross-origin access
// (rs/cors alone would answer "*"), a listed origin is echoed and nothing
// else is, and "*" allows every origin only when configured.
func TestCORSOrigins(t *testing.T) {
	t.Parallel()
	const allowed, evil = "https://app.example.com", "https://evil.example"
	requests := []struct {
		name, method, path, body string
		header                   map[string]string
	}{
		{"Preflight", http.MethodOptions, "/graphql", "", nil},
		{"GET", http.MethodGet, graphqlGET(`{ plans { id } }`), "", nil},
		{"POST", http.MethodPost, "/graphql", gqlBody(`{ plans { id } }`), nil},
		{"PreflightRoot", http.MethodOptions, "/", "", nil},
	}
	tests := []struct {
		name    string
		origins []string
		origin  string
		want    string // Access-Control-Allow-Origin; "" means absent
	}{
		{"UnsetEvil", nil, evil, ""},
		{"UnsetListedElsewhere", nil, allowed, ""},
		{"ConfiguredEchoed", []string{allowed}, allowed, allowed},
		{"ConfiguredEvil", []string{allowed}, evil, ""},
		{"StarConfigured", []string{"*"}, evil, "*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnvWith(t, func(c *httpapi.Config) { c.AllowedOrigins = tt.origins })
			for _, rq := range requests {
				h := map[string]string{"Origin": tt.origin}
				if rq.method == http.MethodOptions {
					h["Access-Control-Request-Method"] = "POST"
					h["Access-Control-Request-Headers"] = "authorization, content-type"
				}
				r := e.withT(t).do(newHTTPRequest(t, e, rq.method, rq.path, rq.body, h))
				if got := r.Header.Get("Access-Control-Allow-Origin"); got != tt.want {
					t.Errorf("%s from %s: Access-Control-Allow-Origin = %q, want %q", rq.name, tt.origin, got, tt.want)
				}
				if tt.want == "" {
					for _, name := range []string{"Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Expose-Headers"} {
						if v := r.Header.Get(name); v != "" {
							t.Errorf("%s from %s: %s = %q, want none", rq.name, tt.origin, name, v)
						}
					}
				}
				if rq.method != http.MethodOptions && r.Status != http.StatusOK {
					t.Errorf("%s from %s: status %d (the request itself is served; only the browser withholds the answer): %.300s", rq.name, tt.origin, r.Status, r.Raw)
				}
			}
		})
	}
}
