package httpapi

import (
	"context"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"tenantapi/ratelimit"
	"tenantapi/tenant"
)

// Failed authentications (docs/limits.md: Rate limits). A credential that does not
// authenticate (an unknown, revoked or expired key, a wrong admin secret)
// is charged to its client address's failed-authentication budget,
// Config.FailedAuthPerMinute. Once that is spent the failing request
// answers 429 instead of 401, and so does every credential from that
// address that does not authenticate, until the budget allows one request
// again: guessing keys gets slow. A credential that authenticates is never
// refused here: behind a shared NAT or a partner's platform, one broken
// client must not lock out everyone else at that address.
//
// What guessing still costs the server: the admin secret is compared in
// constant time without the database, and a malformed key (wrong length,
// alphabet or checksum) is refused without it too, so only a well-formed
// key is looked up: one indexed SELECT by its SHA-256, no write, the same
// statement every request with a key runs before its tenant's budget is
// checked. The lookups of addresses past their budget also share
// maxPenaltyLookups database connections at a time, waiting for one under
// the request's deadline, so a flood of made-up keys from refused
// addresses cannot take the connection pool from other tenants. The budget
// is shared through the limiter (Redis when configured); the refusal in
// force is this instance's memory of the limiter's last answer.

const policyFailedAuth = "failed_auth"

// maxPenaltyLookups is how many key lookups addresses past their
// failed-authentication budget may run at once, all such addresses
// together: a small part of the pool (DB_MAX_CONNS, 20 by default).
const maxPenaltyLookups = 4

// maxPenalties bounds the addresses remembered as refused; past it a
// refused address is still charged (and refused on its next failure), only
// not refused before its lookup.
const maxPenalties = 100_000

// authFailures is the failed-authentication budget; nil charges nothing.
type authFailures struct {
	limiter   ratelimit.Limiter
	perMinute int
	now       func() time.Time

	mu      sync.Mutex
	refused map[string]penalty // addressKey -> the refusal in force

	lookups chan struct{} // slots of the lookups of refused addresses (maxPenaltyLookups)
}

type penalty struct {
	until    time.Time
	decision ratelimit.Decision
}

func newAuthFailures(cfg Config) *authFailures {
	if cfg.RateLimiter == nil || cfg.FailedAuthPerMinute < 1 {
		return nil
	}
	now := time.Now
	if cfg.testNow != nil {
		now = cfg.testNow
	}
	return &authFailures{limiter: cfg.RateLimiter, perMinute: cfg.FailedAuthPerMinute, now: now, refused: map[string]penalty{},
		lookups: make(chan struct{}, maxPenaltyLookups)}
}

// lookup waits for one of the slots of the key lookups of refused
// addresses and returns its release; if ctx ends first, the key could not
// be checked in time: EUNAVAILABLE (503), never a refusal of the key.
func (f *authFailures) lookup(ctx context.Context) (release func(), err error) {
	if f == nil {
		return func() {}, nil
	}
	select {
	case f.lookups <- struct{}{}:
		return func() { <-f.lookups }, nil
	case <-ctx.Done():
		return nil, tenant.Errorf(tenant.EUNAVAILABLE, "this credential could not be checked in time: many failed authentications from this address are being checked; try again")
	}
}

// refusing returns the refusal in force for ip, if any.
func (f *authFailures) refusing(ip netip.Addr) (ratelimit.Decision, bool) {
	if f == nil {
		return ratelimit.Decision{}, false
	}
	key := addressKey(ip)
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.refused[key]
	if !ok {
		return ratelimit.Decision{}, false
	}
	now := f.now()
	if !now.Before(p.until) {
		delete(f.refused, key)
		return ratelimit.Decision{}, false
	}
	d := p.decision
	d.RetryAfter = p.until.Sub(now)
	return d, true
}

// failed charges one failed authentication from ip and returns the
// limiter's decision; nil when nothing was charged (no budget, or the
// limiter failed: its outage must not lock anyone out).
func (f *authFailures) failed(ctx context.Context, ip netip.Addr) *ratelimit.Decision {
	if f == nil {
		return nil
	}
	key := addressKey(ip)
	d, err := f.limiter.Allow(ctx, "authfail:"+key, f.perMinute)
	if err != nil {
		return nil
	}
	if !d.Allowed {
		f.mu.Lock()
		if len(f.refused) >= maxPenalties {
			f.pruneLocked()
		}
		if len(f.refused) < maxPenalties {
			f.refused[key] = penalty{until: f.now().Add(d.RetryAfter), decision: d}
		}
		f.mu.Unlock()
	}
	return &d
}

// pruneLocked drops the refusals that have ended.
func (f *authFailures) pruneLocked() {
	now := f.now()
	for k, p := range f.refused {
		if !now.Before(p.until) {
			delete(f.refused, k)
		}
	}
}

// authRefused is the error of a credential refused for its address's
// failed authentications; it is a RATE_LIMITED tenant.Error, and carries the
// limiter's decision for the 429's headers.
type authRefused struct{ d ratelimit.Decision }

func (e *authRefused) Error() string { return rateLimitedMessage(policyFailedAuth, e.d) }

func (e *authRefused) Unwrap() error { return tenant.Errorf(tenant.ERATELIMITED, "%s", e.Error()) }

// writeFailedAuthLimited answers 429 for a refused address.
func writeFailedAuthLimited(w http.ResponseWriter, r *http.Request, d ratelimit.Decision) {
	setRateLimitHeaders(w.Header(), policyFailedAuth, d)
	countRateLimited(r.Context(), policyFailedAuth)
	writeRateLimited(w, r, policyFailedAuth, d)
}
