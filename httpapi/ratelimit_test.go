package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"tenantapi/httpapi"
	"tenantapi/ratelimit"
	"tenantapi/tenant"
)

// rlClock is the rate limiter's clock in these tests: it moves only when
// told, so budgets never refill behind a test's back.
type rlClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *rlClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *rlClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// rateEnv is a server with the in-process limiter on a test clock, behind a
// trusted proxy (the test client) so anonymous requests can claim client
// addresses, with anonymous callers allowed anonymous requests a minute.
func rateEnv(t *testing.T, anonymous int) (*env, *rlClock) { return limitEnv(t, anonymous, 0) }

// limitEnv is a server with an in-process limiter on the test's clock,
// anonymous requests and failedAuth failed authentications a minute per
// client address (0 = unlimited), trusting loopback's X-Forwarded-For.
func limitEnv(t *testing.T, anonymous, failedAuth int) (*env, *rlClock) {
	clk := &rlClock{now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	e := newEnvWith(t, func(c *httpapi.Config) {
		c.RateLimiter = ratelimit.NewMemory(ratelimit.MemoryOptions{Now: clk.Now})
		c.AnonymousPerMinute = anonymous
		c.FailedAuthPerMinute = failedAuth
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
		httpapi.SetClock(c, clk.Now)
	})
	return e, clk
}

// tenantOnPlan creates a tenant on plan as the operator and returns its id.
func (e *env) tenantOnPlan(name, domain, plan string) string {
	e.t.Helper()
	var out struct {
		CreateTenant struct{ Tenant struct{ ID string } }
	}
	e.mustGQL(testAdminSecret, `mutation($in: CreateTenantInput!) { createTenant(input: $in) { tenant { id } } }`,
		map[string]any{"in": map[string]any{"name": name, "domain": domain, "plan": plan}}, &out)
	return out.CreateTenant.Tenant.ID
}

// post sends a GraphQL request to base from the client address xff ("" for
// the connection's own) with token ("" for none).
func (e *env) post(base, xff, token, query string) *result {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	return e.do(req)
}

// rateLimitExt is a response's extensions.rateLimit.
type rateLimitExt struct {
	Limit             int  `json:"limit"`
	Remaining         int  `json:"remaining"`
	ResetSeconds      int  `json:"resetSeconds"`
	RetryAfterSeconds *int `json:"retryAfterSeconds"`
}

func rateLimitOf(t testing.TB, r *result) *rateLimitExt {
	t.Helper()
	var body struct {
		Extensions struct {
			RateLimit *rateLimitExt `json:"rateLimit"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal(r.Raw, &body); err != nil {
		t.Fatalf("response is not JSON: %s", r.Raw)
	}
	return body.Extensions.RateLimit
}

// wantAllowed checks an allowed response reports remaining of limit in
// its headers and its extensions.
func wantAllowed(t testing.TB, r *result, policy string, limit, remaining int) {
	t.Helper()
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("status %d, want 200: %s", r.Status, r.Raw)
	}
	if got, want := r.Header.Get("RateLimit-Policy"), fmt.Sprintf(`%q;q=%d;w=60`, policy, limit); got != want {
		t.Fatalf("RateLimit-Policy = %q, want %q", got, want)
	}
	if got, want := r.Header.Get("RateLimit"), fmt.Sprintf(`%q;r=%d;t=`, policy, remaining); !strings.HasPrefix(got, want) {
		t.Fatalf("RateLimit = %q, want %q…", got, want)
	}
	if r.Header.Get("Retry-After") != "" {
		t.Fatalf("Retry-After on an allowed response: %q", r.Header.Get("Retry-After"))
	}
	ext := rateLimitOf(t, r)
	if ext == nil || ext.Limit != limit || ext.Remaining != remaining || ext.ResetSeconds < 1 || ext.ResetSeconds > 60 || ext.RetryAfterSeconds != nil {
		t.Fatalf("extensions.rateLimit = %+v, want limit %d, remaining %d, resetSeconds 1–60: %s", ext, limit, remaining, r.Raw)
	}
}

// wantRefused checks a 429: Retry-After, the headers, RATE_LIMITED with
// message, no data key (nothing ran).
func wantRefused(t testing.TB, r *result, policy string, limit int, retryAfter, message string) {
	t.Helper()
	if r.Status != http.StatusTooManyRequests || r.Code() != "RATE_LIMITED" {
		t.Fatalf("status %d, code %q, want 429 RATE_LIMITED: %s", r.Status, r.Code(), r.Raw)
	}
	if got := r.Header.Get("Retry-After"); got != retryAfter {
		t.Fatalf("Retry-After = %q, want %q", got, retryAfter)
	}
	if got, want := r.Header.Get("RateLimit-Policy"), fmt.Sprintf(`%q;q=%d;w=60`, policy, limit); got != want {
		t.Fatalf("RateLimit-Policy = %q, want %q", got, want)
	}
	if got, want := r.Header.Get("RateLimit"), fmt.Sprintf(`%q;r=0;t=60`, policy); got != want {
		t.Fatalf("RateLimit = %q, want %q", got, want)
	}
	if !strings.Contains(r.Errors[0].Message, message) {
		t.Fatalf("message %q, want it to contain %q", r.Errors[0].Message, message)
	}
	if bytes.Contains(r.Raw, []byte(`"data"`)) {
		t.Fatalf("a refused request has a data key: %s", r.Raw)
	}
	ext := rateLimitOf(t, r)
	if ext == nil || ext.Limit != limit || ext.Remaining != 0 || ext.ResetSeconds != 60 || ext.RetryAfterSeconds == nil || fmt.Sprint(*ext.RetryAfterSeconds) != retryAfter {
		t.Fatalf("extensions.rateLimit = %+v, want limit %d, remaining 0, resetSeconds 60, retryAfterSeconds %s", ext, limit, retryAfter)
	}
}

const qViewerKind = `{ viewer { kind } }`

// TestRateLimitPerTenant exhausts a starter tenant's 100 requests a minute
// through two of its keys: the 101st answers 429 and runs nothing, another
// tenant is unaffected, the operator is not limited, and a request comes
// back 0.6 s later.
func TestRateLimitPerTenant(t *testing.T) {
	t.Parallel()
	e, clk := rateEnv(t, 0)
	a := e.tenantOnPlan("Small Co", "small.example.com", "starter")
	keys := []string{e.createKey(a, "TENANT_READ", "TENANT_UPDATE"), e.createKey(a, "TENANT_READ")}
	b := e.tenantOnPlan("Other Co", "other.example.com", "starter")
	keyB := e.createKey(b, "TENANT_READ")

	for i := range 100 {
		wantAllowed(t, e.post(e.srv.URL, "", keys[i%2], qViewerKind), "tenant", 100, 99-i)
	}

	t.Run("ErrRateLimited", func(t *testing.T) {
		r := e.post(e.srv.URL, "", keys[0], `mutation { updateTenant(input: {name: "Renamed"}) { tenant { name } } }`)
		wantRefused(t, r, "tenant", 100, "1", "this tenant's plan allows 100 API requests a minute, shared by all its keys; retry in 1 s")
		wantRefused(t, e.post(e.srv.URL, "", keys[1], qViewerKind), "tenant", 100, "1", "retry in 1 s")
	})
	t.Run("ErrNothingRan", func(t *testing.T) {
		var out struct{ Tenant struct{ Name string } }
		e.mustGQL(testAdminSecret, `query($id: ID!) { tenant(id: $id) { name } }`, map[string]any{"id": a}, &out)
		if out.Tenant.Name != "Small Co" {
			t.Fatalf("the refused mutation ran: name is %q", out.Tenant.Name)
		}
	})
	t.Run("OKOtherTenant", func(t *testing.T) {
		wantAllowed(t, e.post(e.srv.URL, "", keyB, qViewerKind), "tenant", 100, 99)
	})
	t.Run("OKAdminUnlimited", func(t *testing.T) {
		r := e.post(e.srv.URL, "", testAdminSecret, qViewerKind)
		if r.Status != http.StatusOK || r.Header.Get("RateLimit") != "" || rateLimitOf(t, r) != nil {
			t.Fatalf("admin: status %d, RateLimit %q, want 200 without a budget: %s", r.Status, r.Header.Get("RateLimit"), r.Raw)
		}
	})
	t.Run("OKRefilled", func(t *testing.T) {
		clk.Advance(600 * time.Millisecond) // one request's share of the minute
		wantAllowed(t, e.post(e.srv.URL, "", keys[0], qViewerKind), "tenant", 100, 0)
		wantRefused(t, e.post(e.srv.URL, "", keys[0], qViewerKind), "tenant", 100, "1", "retry in 1 s")
	})
	t.Run("OKMetrics", func(t *testing.T) {
		if m := scrape(t, e.srv.URL); !strings.Contains(m, `ratelimit_refusals_total{policy="tenant"} 3`+"\n") {
			t.Fatalf("/metrics does not count the 3 refusals:\n%s", grepLines(m, "ratelimit_"))
		}
	})
}

// scrape returns the server's /metrics.
func scrape(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestRateLimitPlanChange: the budget is the tenant's current plan's, read
// at each request: an upgrade applies to the next request.
func TestRateLimitPlanChange(t *testing.T) {
	t.Parallel()
	e, _ := rateEnv(t, 0)
	id := e.tenantOnPlan("Growing Co", "growing.example.com", "starter")
	key := e.createKey(id, "TENANT_READ")
	for i := range 100 {
		wantAllowed(t, e.post(e.srv.URL, "", key, qViewerKind), "tenant", 100, 99-i)
	}
	wantRefused(t, e.post(e.srv.URL, "", key, qViewerKind), "tenant", 100, "1", "100 API requests a minute")

	e.mustGQL(testAdminSecret, `mutation($id: ID!) { changePlan(input: {tenantId: $id, plan: "professional"}) { tenant { plan { id } } } }`,
		map[string]any{"id": id}, nil)
	// 100 of 100 used the whole minute; the same minute at 1,000 a minute
	// is still used: GCRA keeps the part of the window consumed. A tenant
	// that used 50 of 100 would have had about 500 of 1,000 left.
	wantRefused(t, e.post(e.srv.URL, "", key, qViewerKind), "tenant", 1000, "1", "1000 API requests a minute")
}

// TestRateLimitPlanChangeHalfUsed: half of a starter budget used, the
// upgrade leaves half of the professional one.
func TestRateLimitPlanChangeHalfUsed(t *testing.T) {
	t.Parallel()
	e, _ := rateEnv(t, 0)
	id := e.tenantOnPlan("Half Co", "half.example.com", "starter")
	key := e.createKey(id, "TENANT_READ")
	for i := range 50 {
		wantAllowed(t, e.post(e.srv.URL, "", key, qViewerKind), "tenant", 100, 99-i)
	}
	e.mustGQL(testAdminSecret, `mutation($id: ID!) { changePlan(input: {tenantId: $id, plan: "enterprise"}) { tenant { plan { id } } } }`,
		map[string]any{"id": id}, nil)
	wantAllowed(t, e.post(e.srv.URL, "", key, qViewerKind), "tenant", 5000, 2499)
}

// TestRateLimitAnonymous: requests without credentials are limited per
// client address (an IPv6 address with its /64), apart from any tenant's.
func TestRateLimitAnonymous(t *testing.T) {
	t.Parallel()
	e, _ := rateEnv(t, 3)
	id := e.tenantOnPlan("Keyed Co", "keyed.example.com", "starter")
	key := e.createKey(id, "TENANT_READ")
	const q = `{ plans { id } }`
	for i := range 3 {
		wantAllowed(t, e.post(e.srv.URL, "203.0.113.7", "", q), "anonymous", 3, 2-i)
	}
	wantRefused(t, e.post(e.srv.URL, "203.0.113.7", "", q), "anonymous", 3, "20",
		"requests without credentials are limited to 3 a minute per client address; retry in 20 s, or authenticate with an API key")
	t.Run("OKOtherAddress", func(t *testing.T) {
		wantAllowed(t, e.post(e.srv.URL, "203.0.113.8", "", q), "anonymous", 3, 2)
	})
	t.Run("OKKeyFromSameAddress", func(t *testing.T) {
		wantAllowed(t, e.post(e.srv.URL, "203.0.113.7", key, q), "tenant", 100, 99)
	})
	t.Run("ErrSameIPv6Slash64", func(t *testing.T) {
		for i := range 3 {
			wantAllowed(t, e.post(e.srv.URL, fmt.Sprintf("2001:db8:1:2::%x", i+1), "", q), "anonymous", 3, 2-i)
		}
		wantRefused(t, e.post(e.srv.URL, "2001:db8:1:2:ffff::9", "", q), "anonymous", 3, "20", "3 a minute per client address")
		wantAllowed(t, e.post(e.srv.URL, "2001:db8:1:3::1", "", q), "anonymous", 3, 2)
	})
	t.Run("OKUnlimited", func(t *testing.T) {
		e, _ := rateEnv(t, 0)
		for range 5 {
			r := e.post(e.srv.URL, "203.0.113.7", "", q)
			if r.Status != http.StatusOK || r.Header.Get("RateLimit") != "" {
				t.Fatalf("anonymous without a budget: status %d, RateLimit %q: %s", r.Status, r.Header.Get("RateLimit"), r.Raw)
			}
		}
	})
}

// TestRateLimitWebsocket: a websocket's opening pays for its first
// operation; each further operation on the connection is charged too.
func TestRateLimitWebsocket(t *testing.T) {
	t.Parallel()
	e, _ := rateEnv(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws := e.dialWS(t, ctx, http.Header{"X-Forwarded-For": {"198.51.100.4"}}, `{}`)
	for i := 1; i <= 4; i++ {
		payload := ws.operation(fmt.Sprint(i), "{ viewer { kind } }")
		r := &result{Status: http.StatusOK, Raw: payload}
		if err := json.Unmarshal(payload, r); err != nil {
			t.Fatal(err)
		}
		ext := rateLimitOf(t, r)
		if i <= 3 {
			// The opening paid for operation 1 (2 left); 2 and 3 pay their own.
			if len(r.Errors) > 0 || ext == nil || ext.Remaining != 3-i {
				t.Fatalf("operation %d: %s, want data with %d remaining", i, payload, 3-i)
			}
			continue
		}
		// gqlgen's websocket payloads always carry a data key: null here.
		if r.Code() != "RATE_LIMITED" || ext == nil || ext.Remaining != 0 || string(r.Data) != "null" {
			t.Fatalf("operation 4: %s, want RATE_LIMITED with null data", payload)
		}
	}
}

// redisTestURL is the Redis of the tests (scripts/test.sh sets it), or skips.
func redisTestURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("TEST_REDIS_URL")
	if u == "" {
		t.Skip("TEST_REDIS_URL is unset: scripts/test.sh sets it when a Redis answers on 127.0.0.1:6379 or redis-server is installed (apt-get install redis-server)")
	}
	return u
}

// TestRateLimitSharedRedis runs two API instances, each with its own Redis
// client, over one database and one Redis: they share each budget.
func TestRateLimitSharedRedis(t *testing.T) {
	t.Parallel()
	url := redisTestURL(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "test:" + t.Name() + ":" + hex.EncodeToString(b[:]) + ":" // this test's budgets alone
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	open := func() ratelimit.Limiter {
		r, err := ratelimit.OpenRedis(url, ratelimit.RedisOptions{Prefix: prefix, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		if err := r.Ping(context.Background()); err != nil {
			t.Fatalf("Redis at TEST_REDIS_URL does not answer: %v", err)
		}
		return r
	}
	proxies := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	e := newEnvWith(t, func(c *httpapi.Config) {
		c.RateLimiter, c.AnonymousPerMinute, c.TrustedProxies = open(), 4, proxies
	})
	second := httptest.NewServer(httpapi.New(e.store, httpapi.Config{AdminSecret: testAdminSecret, Logger: quiet,
		RateLimiter: open(), AnonymousPerMinute: 4, TrustedProxies: proxies}))
	t.Cleanup(second.Close)
	instances := []string{e.srv.URL, second.URL}

	t.Run("OKAnonymousShared", func(t *testing.T) {
		// 4 a minute: one comes back every 15 s, so real time does not matter.
		const q = `{ plans { id } }`
		for i := range 4 {
			wantAllowed(t, e.post(instances[i%2], "192.0.2.44", "", q), "anonymous", 4, 3-i)
		}
		for _, base := range instances {
			r := e.post(base, "192.0.2.44", "", q)
			if r.Status != http.StatusTooManyRequests || r.Code() != "RATE_LIMITED" {
				t.Fatalf("5th request: status %d: %s, want 429 from both instances", r.Status, r.Raw)
			}
		}
	})
	t.Run("OKTenantShared", func(t *testing.T) {
		id := e.tenantOnPlan("Shared Co", "shared.example.com", "starter")
		key := e.createKey(id, "TENANT_READ")
		var last *rateLimitExt
		for i := range 10 {
			r := e.post(instances[i%2], "", key, qViewerKind)
			if r.Status != http.StatusOK {
				t.Fatalf("request %d: status %d: %s", i+1, r.Status, r.Raw)
			}
			last = rateLimitOf(t, r)
		}
		// Shared: 90 left (a request comes back every 0.6 s of real time,
		// so allow a few); two budgets of their own would show 95.
		if last == nil || last.Limit != 100 || last.Remaining > 93 {
			t.Fatalf("after 10 requests over two instances: %+v, want about 90 left of one shared 100", last)
		}
	})
}

// TestRateLimitRedisDown: with Redis unreachable, requests are still
// served: limited by the in-process fallback (production's wiring), or,
// without one, let through unlimited with a logged warning.
func TestRateLimitRedisDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "redis://" + ln.Addr().String() + "/0"
	ln.Close() // nothing listens there any more: connections are refused
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		name     string
		fallback ratelimit.Limiter
	}{
		{"OKFallback", ratelimit.NewMemory(ratelimit.MemoryOptions{})},
		{"OKFailOpen", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ratelimit.OpenRedis(dead, ratelimit.RedisOptions{Fallback: tc.fallback, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			e := newEnvWith(t, func(c *httpapi.Config) { c.RateLimiter = r })
			id := e.tenantOnPlan("Resilient Co", "resilient.example.com", "starter")
			key := e.createKey(id, "TENANT_READ")
			res := e.post(e.srv.URL, "", key, qViewerKind)
			if tc.fallback != nil {
				wantAllowed(t, res, "tenant", 100, 99)
			} else if res.Status != http.StatusOK || res.Header.Get("RateLimit") != "" {
				t.Fatalf("status %d, RateLimit %q: want 200 without a budget: %s", res.Status, res.Header.Get("RateLimit"), res.Raw)
			}
			if r.Failures() == 0 {
				t.Fatal("the Redis failure was not counted")
			}
			if m := scrape(t, e.srv.URL); !strings.Contains(m, "ratelimit_redis_failures_total 1\n") {
				t.Fatalf("/metrics does not count the Redis failure:\n%s", grepLines(m, "ratelimit_"))
			}
		})
	}
}

// TestFailedAuthenticationThrottled: an address's failed authentications
// are limited (RATE_LIMIT_FAILED_AUTH_PER_MINUTE, 3 here). The one past the
// budget answers 429, and so does every credential from that address that
// does not authenticate (a malformed one without any statement), until the
// budget allows a request again; the refusals are not charged again, so
// they end when Retry-After said. Other addresses, and the same address
// without credentials, are untouched. (Valid credentials from the refused
// address: TestValidCredentialsPassFailedAuthBudget.)
func TestFailedAuthenticationThrottled(t *testing.T) {
	t.Parallel()
	e, clk := limitEnv(t, 0, 3)
	key := e.createKey(e.tenantOnPlan("Guarded", randomDomain(), "enterprise"), "TENANT_READ")
	unknown := tenant.NewAPIKey() // well formed, never issued: it reaches the lookup
	const attacker, neighbour = "203.0.113.66", "198.51.100.7"
	const message = "too many failed authentications from this address"
	for i := 1; i <= 3; i++ {
		if r := e.post(e.srv.URL, attacker, unknown, qViewerKind); r.Status != http.StatusUnauthorized || r.Code() != "UNAUTHENTICATED" {
			t.Fatalf("failure %d: status %d %s, want 401 UNAUTHENTICATED", i, r.Status, r.Raw)
		}
	}
	wantRefused(t, e.post(e.srv.URL, attacker, unknown, qViewerKind), "failed_auth", 3, "20", message)

	e.store.WaitBackground()
	before := e.store.Statements.Load()
	wantRefused(t, e.post(e.srv.URL, attacker, "tnt_malformed", qViewerKind), "failed_auth", 3, "20", message)
	wantRefused(t, e.post(e.srv.URL, attacker, "wrong-admin-secret-0123456789abcdef", qViewerKind), "failed_auth", 3, "20", message)
	if n := e.store.Statements.Load() - before; n != 0 {
		t.Errorf("%d statements for malformed credentials from the refused address, want 0: no lookup", n)
	}
	wantRefused(t, e.post(e.srv.URL, attacker, unknown, qViewerKind), "failed_auth", 3, "20", message)
	if r := e.post(e.srv.URL, neighbour, key, qViewerKind); r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Errorf("the key from another address: %d %s, want 200", r.Status, r.Raw)
	}
	if r := e.post(e.srv.URL, neighbour, unknown, qViewerKind); r.Status != http.StatusUnauthorized {
		t.Errorf("a failure from another address: status %d, want 401 (its own budget)", r.Status)
	}
	if r := e.post(e.srv.URL, attacker, "", qViewerKind); r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Errorf("no credentials from the refused address: %d %s, want 200 (the anonymous budget is another)", r.Status, r.Raw)
	}

	clk.Advance(20 * time.Second) // the budget allows one request again
	if r := e.post(e.srv.URL, attacker, unknown, qViewerKind); r.Status != http.StatusUnauthorized {
		t.Errorf("one more failure after Retry-After: status %d, want 401 (the budget had one request back)", r.Status)
	}
	if r := e.post(e.srv.URL, attacker, unknown, qViewerKind); r.Status != http.StatusTooManyRequests {
		t.Errorf("the failure after that: status %d, want 429", r.Status)
	}
}

// TestInvoicePDFRateLimited: GET /invoices/{file} is charged to the
// caller's budget like /graphql.
func TestInvoicePDFRateLimited(t *testing.T) {
	t.Parallel()
	e, _ := rateEnv(t, 2)
	var codes []int
	for range 3 {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/invoices/00000000-0000-4000-8000-000000000000.pdf", nil)
		req.Header.Set("X-Forwarded-For", "203.0.113.80")
		codes = append(codes, e.do(req).Status)
	}
	if codes[2] != http.StatusTooManyRequests {
		t.Fatalf("anonymous PDF requests answered %v, want the third refused with 429 (budget 2 a minute)", codes)
	}
}

// TestFailedAuthenticationOverWebsocket: a key that fails in a websocket's
// connection_init is charged like one over HTTP; once the budget is spent
// the address's failing credentials are refused on either, its valid ones
// still pass.
func TestFailedAuthenticationOverWebsocket(t *testing.T) {
	t.Parallel()
	e, _ := limitEnv(t, 0, 2)
	key := e.createKey(e.tenantOnPlan("Guarded WS", randomDomain(), "enterprise"), "TENANT_READ")
	const addr = "203.0.113.67"
	unknown := tenant.NewAPIKey()
	for i := 1; i <= 3; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.srv.URL, "http")+"/graphql",
			&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: http.Header{"X-Forwarded-For": {addr}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := wsjson.Write(ctx, conn, wsMsg{Type: "connection_init", Payload: json.RawMessage(`{"Authorization": "Bearer ` + unknown + `"}`)}); err != nil {
			t.Fatal(err)
		}
		var reply wsMsg
		if err := wsjson.Read(ctx, conn, &reply); err == nil {
			t.Fatalf("connection_init %d with an unknown key: %+v, want the connection closed", i, reply)
		}
		conn.CloseNow()
		cancel()
	}
	wantRefused(t, e.post(e.srv.URL, addr, unknown, qViewerKind), "failed_auth", 2, "30", "too many failed authentications")
	if r := e.post(e.srv.URL, addr, key, qViewerKind); r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("a valid key from the refused address: %d %s, want 200", r.Status, r.Raw)
	}
}
