package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"tenantapi/ratelimit"
	"tenantapi/tenant"
)

// Rate limits (docs/limits.md: Rate limits). Each request to /graphql is charged,
// after authentication and before anything else runs, to one budget:
//   - an API key's: its tenant's, shared by all the tenant's keys, of its
//     plan's apiRequestsPerMinute, read with the key at each request (a plan
//     change applies to the next request);
//   - no credentials: the client address's (an IPv6 address's /64), of
//     Config.AnonymousPerMinute, when not 0;
//   - the admin secret: none. It is the operator's, used by provisioning
//     and support tooling; limiting it would only get in their way.
//
// A websocket connection's opening is charged like any request and pays for
// its first operation; every further operation on it is charged on its own.
//
// The headers follow draft-ietf-httpapi-ratelimit-headers-10 (the syntax of
// the current draft since -08): a Structured Fields list item per policy,
//
//	RateLimit-Policy: "tenant";q=100;w=60   (quota q requests per window w seconds)
//	RateLimit: "tenant";r=99;t=1             (r remaining now, t seconds until the quota is whole again)
//
// and, on a refusal, HTTP 429 with Retry-After (seconds until one request is
// allowed again).

// Policy names in the RateLimit fields.
const (
	policyTenant    = "tenant"
	policyAnonymous = "anonymous"
)

// rateLimiter charges requests to budgets; nil charges nothing.
type rateLimiter struct {
	limiter   ratelimit.Limiter
	anonymous int // requests a minute per client address without credentials; 0 = unlimited
	log       *slog.Logger
}

func newRateLimiter(cfg Config) *rateLimiter {
	if cfg.RateLimiter == nil {
		return nil
	}
	return &rateLimiter{limiter: cfg.RateLimiter, anonymous: cfg.AnonymousPerMinute, log: cfg.Logger}
}

// register adds to reg, when the limiter is the Redis one, the count of its
// failed round trips (each answered by the in-process fallback):
// ratelimit_redis_failures_total.
func (rl *rateLimiter) register(reg prometheus.Registerer) {
	if rl == nil {
		return
	}
	if r, ok := rl.limiter.(interface{ Failures() uint64 }); ok {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "ratelimit_redis_failures_total",
			Help: "Rate-limit decisions Redis failed to make (unreachable, timeout); the in-process limiter answered them.",
		}, func() float64 { return float64(r.Failures()) }))
	}
}

// budget is the key and size a request is charged to; perMinute 0 charges
// nothing.
type budget struct {
	policy    string
	key       string
	perMinute int
}

func (rl *rateLimiter) budget(ctx context.Context) budget {
	a := tenant.ActorFrom(ctx)
	switch a.Kind {
	case tenant.APIKey, tenant.MemberActor:
		return budget{policyTenant, "tenant:" + a.TenantID, a.RequestsPerMinute}
	case tenant.Anonymous:
		return budget{policyAnonymous, "ip:" + addressKey(tenant.ClientIP(ctx)), rl.anonymous}
	}
	return budget{}
}

// addressKey groups addresses the way providers hand them out: an IPv4
// address alone, an IPv6 address with its /64, which one client usually
// owns whole.
func addressKey(ip netip.Addr) string {
	switch {
	case !ip.IsValid():
		return "unknown"
	case ip.Is6():
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// charge is the budget a request paid for, carried in its context so the
// operation it pays for is not charged again and its response can report
// the budget. decision is nil when nothing was charged (no budget applies,
// or the limiter failed).
type charge struct {
	used     atomic.Bool // the operation the request paid for has started
	policy   string
	decision *ratelimit.Decision
}

type chargeKey struct{}

func chargeFrom(ctx context.Context) *charge {
	c, _ := ctx.Value(chargeKey{}).(*charge)
	return c
}

// allow charges one request; a nil decision means nothing was charged.
// When the limiter fails (Redis down without fallback), the request goes
// through: an outage of the limiter must not become an outage of the API.
func (rl *rateLimiter) allow(ctx context.Context) (*charge, error) {
	b := rl.budget(ctx)
	c := &charge{policy: b.policy}
	if b.perMinute < 1 {
		return c, nil
	}
	d, err := rl.limiter.Allow(ctx, b.key, b.perMinute)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		rl.log.WarnContext(ctx, "rate limiter failed: request let through", "request_id", tenant.RequestID(ctx), "err", err)
		return c, nil
	}
	c.decision = &d
	return c, nil
}

// middleware charges each request before GraphQL reads it; a refused one
// answers 429 and nothing runs.
func (rl *rateLimiter) middleware(next http.Handler) http.Handler {
	if rl == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		c, err := rl.allow(r.Context())
		if err != nil {
			return // the client went away
		}
		if d := c.decision; d != nil {
			setRateLimitHeaders(w.Header(), c.policy, *d)
			if !d.Allowed {
				countRateLimited(r.Context(), c.policy)
				writeRateLimited(w, r, c.policy, *d)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), chargeKey{}, c)))
	})
}

// aroundOperations lets the operation its HTTP request paid for run, and
// charges any further one (operations over one websocket connection).
func (rl *rateLimiter) aroundOperations(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if c := chargeFrom(ctx); c != nil && c.used.CompareAndSwap(false, true) {
		return next(ctx)
	}
	c, err := rl.allow(ctx)
	if err != nil {
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{Message: "the request was cancelled", Extensions: map[string]any{"code": "SERVICE_UNAVAILABLE"}}}})
	}
	c.used.Store(true)
	if d := c.decision; d != nil && !d.Allowed {
		countRateLimited(ctx, c.policy)
		return graphql.OneShot(&graphql.Response{
			Errors:     gqlerror.List{{Message: rateLimitedMessage(c.policy, *d), Extensions: map[string]any{"code": extensionCode[tenant.ERATELIMITED]}}},
			Extensions: map[string]any{"rateLimit": rateLimitExtension(*d)},
		})
	}
	return next(context.WithValue(ctx, chargeKey{}, c))
}

// aroundResponses reports the budget in the response's extensions.rateLimit.
func aroundResponses(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil {
		return nil
	}
	if c := chargeFrom(ctx); c != nil && c.decision != nil {
		if resp.Extensions == nil {
			resp.Extensions = map[string]any{}
		}
		resp.Extensions["rateLimit"] = rateLimitExtension(*c.decision)
	}
	return resp
}

// rateLimitExtension is extensions.rateLimit: the budget (limit requests a
// minute), what is left of it, and the seconds until it is whole again;
// on a refusal also the seconds until a request is allowed.
func rateLimitExtension(d ratelimit.Decision) map[string]any {
	ext := map[string]any{"limit": d.Limit, "remaining": d.Remaining, "resetSeconds": ceilSeconds(d.ResetAfter)}
	if !d.Allowed {
		ext["retryAfterSeconds"] = retryAfterSeconds(d)
	}
	return ext
}

func setRateLimitHeaders(h http.Header, policy string, d ratelimit.Decision) {
	h.Set("RateLimit-Policy", fmt.Sprintf("%q;q=%d;w=%d", policy, d.Limit, int(d.Window/time.Second)))
	h.Set("RateLimit", fmt.Sprintf("%q;r=%d;t=%d", policy, d.Remaining, ceilSeconds(d.ResetAfter)))
	if !d.Allowed {
		h.Set("Retry-After", strconv.Itoa(retryAfterSeconds(d)))
	}
}

// ceilSeconds rounds up: a client waiting that long is never early.
func ceilSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}

// retryAfterSeconds is Retry-After: at least 1, as 0 would invite a
// client to hammer.
func retryAfterSeconds(d ratelimit.Decision) int {
	return max(1, ceilSeconds(d.RetryAfter))
}

func rateLimitedMessage(policy string, d ratelimit.Decision) string {
	if policy == policyFailedAuth {
		return fmt.Sprintf("too many failed authentications from this address (%d a minute are allowed); credentials that do not authenticate are refused for %d s (a valid one is still accepted)",
			d.Limit, retryAfterSeconds(d))
	}
	if policy == policyAnonymous {
		return fmt.Sprintf("rate limit exceeded: requests without credentials are limited to %d a minute per client address; retry in %d s, or authenticate with an API key",
			d.Limit, retryAfterSeconds(d))
	}
	return fmt.Sprintf("rate limit exceeded: this tenant's plan allows %d API requests a minute, shared by all its keys; retry in %d s",
		d.Limit, retryAfterSeconds(d))
}

// writeRateLimited answers 429 in GraphQL's response shape, without a data
// key: nothing ran.
func writeRateLimited(w http.ResponseWriter, r *http.Request, policy string, d ratelimit.Decision) {
	writeErrors(w, r, http.StatusTooManyRequests,
		gqlerror.List{{Message: rateLimitedMessage(policy, d), Extensions: map[string]any{"code": extensionCode[tenant.ERATELIMITED]}}},
		map[string]any{"rateLimit": rateLimitExtension(d)})
}
