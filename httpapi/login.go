package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"tenantapi/ratelimit"
	"tenantapi/tenant"
)

// Password logins (docs/members.md: Throttling). Every attempt, right or
// wrong, is charged before the password is checked to two budgets: the
// account (address and tenant) from this client address,
// Config.LoginPerMinute, and this client address across all accounts, six
// times that. Past either, the attempt is refused with RATE_LIMITED and
// the password is not even verified, so guessing gets slow, while the
// same account from any other address is not affected: an attacker cannot
// lock a member out. argon2id makes each guess cost the server ~50 ms of
// one core, which the address budget bounds too.

// loginGuard implements tenant.LoginGuard over the rate limiter.
type loginGuard struct {
	limiter   ratelimit.Limiter
	perMinute int
}

func newLoginGuard(cfg Config) tenant.LoginGuard {
	if cfg.RateLimiter == nil || cfg.LoginPerMinute < 1 {
		return nil
	}
	return &loginGuard{limiter: cfg.RateLimiter, perMinute: cfg.LoginPerMinute}
}

// Attempt charges an attempt on account from the client address of ctx.
// A limiter that fails lets the attempt through: its outage must not lock
// anyone out.
func (g *loginGuard) Attempt(ctx context.Context, account string) error {
	ip := addressKey(tenant.ClientIP(ctx))
	for _, b := range []struct {
		key string
		n   int
	}{{"login:" + ip + ":" + strings.ToLower(account), g.perMinute}, {"login_ip:" + ip, 6 * g.perMinute}} {
		d, err := g.limiter.Allow(ctx, b.key, b.n)
		if err != nil || d.Allowed {
			continue
		}
		return tenant.Errorf(tenant.ERATELIMITED, "too many sign-in attempts from this address: try again in %d seconds", int(d.RetryAfter.Round(time.Second)/time.Second)+1)
	}
	return nil
}

// The session cookie (docs/authentication.md: Sessions). "__Host-" makes
// browsers accept it only Secure, for this host alone and path "/".
// Browsers treat http://localhost as secure, so `make run` works too.
const sessionCookie = "__Host-tenant_session"

// cookieSetter sets and clears the session cookie of one response.
type cookieSetter struct{ w http.ResponseWriter }

func (c cookieSetter) SetSession(token string, expires time.Time) {
	http.SetCookie(c.w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", Expires: expires.UTC(),
		MaxAge: max(1, int(time.Until(expires)/time.Second)), HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
}

func (c cookieSetter) ClearSession() {
	http.SetCookie(c.w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
}

// cookieCredential returns the Authorization value of the request's
// session cookie ("" when there is none) after the CSRF defence: a
// browser sends the cookie with requests that other sites make it send,
// so a request authenticated by it must come from this origin. It is
// refused (EFORBIDDEN) when its Origin is another origin, when
// Sec-Fetch-Site says it is cross-site, or, for anything but GET and HEAD
// (which run no mutation), when it lacks the X-Requested-With header,
// which no form can send and no other origin's script can send without a
// CORS preflight that this server never grants with credentials. A
// websocket handshake always carries Origin, which must be this origin.
func cookieCredential(r *http.Request, websocket bool) (string, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return "", nil
	}
	refuse := func(why string) (string, error) {
		return "", tenant.Errorf(tenant.EFORBIDDEN, "cross-site request refused: %s (requests authenticated by the session cookie must come from this origin; other origins send the session as Authorization: Bearer)", why)
	}
	origin := r.Header.Get("Origin")
	if origin != "" {
		_, host, ok := cutScheme(origin)
		if !ok || !strings.EqualFold(host, r.Host) {
			return refuse(fmt.Sprintf("Origin %q is not this server's", truncate(origin, 100)))
		}
	} else if websocket {
		return refuse("a websocket handshake without Origin")
	}
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "none":
	default:
		return refuse("Sec-Fetch-Site is " + truncate(site, 20))
	}
	if !websocket && r.Method != http.MethodGet && r.Method != http.MethodHead && r.Header.Get("X-Requested-With") == "" {
		return refuse("the X-Requested-With header is missing")
	}
	return "Bearer " + c.Value, nil
}
