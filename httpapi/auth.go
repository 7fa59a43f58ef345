package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/netip"
	"strings"

	"tenantapi/db"
	"tenantapi/tenant"
)

// authenticator resolves the credentials of a request to an actor.
type authenticator struct {
	store       *db.Store
	adminDigest []byte         // SHA-256 of ADMIN_SECRET; nil when unset
	trusted     []netip.Prefix // proxies whose X-Forwarded-For is believed
	failures    *authFailures  // failed authentications per address (authfail.go); nil = unlimited
}

func newAuthenticator(store *db.Store, adminSecret string, trusted []netip.Prefix) *authenticator {
	a := &authenticator{store: store, trusted: trusted}
	if adminSecret != "" {
		d := sha256.Sum256([]byte(adminSecret))
		a.adminDigest = d[:]
	}
	return a
}

// actor resolves an Authorization header value from the client address in
// ctx. No header is an anonymous caller; a credential that authenticates
// is its actor whatever the address did before; one that does not is an
// error, and an *authRefused (429) once the address has spent its
// failed-authentication budget (authfail.go).
func (a *authenticator) actor(ctx context.Context, header string) (*tenant.Actor, error) {
	if header == "" {
		return &tenant.Actor{Kind: tenant.Anonymous}, nil
	}
	ip := tenant.ClientIP(ctx)
	refusal, refusing := a.failures.refusing(ip)
	actor, err := a.credential(ctx, header, refusing)
	if err == nil || tenant.ErrorCode(err) != tenant.EUNAUTHENTICATED {
		return actor, err
	}
	if refusing {
		// Already refused: not charged again, so the refusal ends when
		// the limiter said it would.
		return nil, &authRefused{refusal}
	}
	if d := a.failures.failed(ctx, ip); d != nil && !d.Allowed {
		return nil, &authRefused{*d}
	}
	return nil, err
}

// credential resolves a non-empty Authorization header value. The admin
// secret and the shape of a key are checked without the database; only a
// well-formed key is looked up, and, when its address is past its
// failed-authentication budget (refused), through the few lookups such
// addresses may run at once (authFailures.lookup).
func (a *authenticator) credential(ctx context.Context, header string, refused bool) (*tenant.Actor, error) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return nil, tenant.Errorf(tenant.EUNAUTHENTICATED, "the Authorization header must be \"Bearer <API key or admin secret>\"")
	}
	token = strings.TrimSpace(token)
	if strings.HasPrefix(token, tenant.SessionPrefix) {
		if !tenant.WellFormedSession(token) {
			return nil, tenant.Errorf(tenant.EUNAUTHENTICATED, "malformed session token: sessions are %q followed by 46 letters and digits, with a checksum", tenant.SessionPrefix)
		}
		if refused {
			release, err := a.failures.lookup(ctx)
			if err != nil {
				return nil, err
			}
			defer release()
		}
		return a.store.AuthenticateSession(ctx, token)
	}
	if a.adminDigest != nil {
		// Compare digests, so the comparison takes the same time whatever
		// the token's length and content.
		d := sha256.Sum256([]byte(token))
		if subtle.ConstantTimeCompare(d[:], a.adminDigest) == 1 {
			return &tenant.Actor{Kind: tenant.Admin}, nil
		}
	}
	if !tenant.WellFormedKey(token) {
		if a.adminDigest != nil && !strings.HasPrefix(token, tenant.KeyPrefix) {
			// Likely a mistyped admin secret: say so, not only "malformed key".
			return nil, tenant.Errorf(tenant.EUNAUTHENTICATED, "the token is neither the admin secret nor an API key (keys are %q followed by 46 letters and digits, with a checksum)", tenant.KeyPrefix)
		}
		return nil, tenant.Errorf(tenant.EUNAUTHENTICATED, "malformed API key: keys are %q followed by 46 letters and digits, with a checksum", tenant.KeyPrefix)
	}
	if refused {
		release, err := a.failures.lookup(ctx)
		if err != nil {
			return nil, err
		}
		defer release()
	}
	return a.store.Authenticate(ctx, token)
}

// middleware authenticates each request once, before any GraphQL work: a
// credential that does not authenticate answers 401 (403 for a suspended
// tenant) without running anything.
func (a *authenticator) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := clientIP(r, a.trusted)
		ctx := tenant.WithUserAgent(tenant.WithClientIP(r.Context(), ip), r.UserAgent())
		if r.Method == http.MethodPost {
			ctx = tenant.WithSessionCookie(ctx, cookieSetter{w}) // login, logout (login.go)
		}
		header := r.Header.Get("Authorization")
		var err error
		fromCookie := false
		if header == "" {
			header, err = cookieCredential(r, false)
			fromCookie = header != ""
		}
		var actor *tenant.Actor
		if err == nil {
			actor, err = a.actor(ctx, header)
		}
		if refused, ok := errors.AsType[*authRefused](err); ok {
			writeFailedAuthLimited(w, r, refused.d)
			return
		}
		if err == nil && !actor.AllowsIP(ip) {
			err = tenant.Errorf(tenant.EFORBIDDEN, "requests from %s are not allowed by this tenant's IP allowlist", ip)
		}
		if err != nil {
			status := http.StatusUnauthorized
			switch tenant.ErrorCode(err) {
			case tenant.EFORBIDDEN:
				status = http.StatusForbidden
			case tenant.EUNAUTHENTICATED:
				w.Header().Set("WWW-Authenticate", `Bearer realm="tenant-api"`)
				if fromCookie {
					// A session that ended (idle, revoked, logged out
					// elsewhere): the browser drops the cookie, so its
					// next request, a new login say, runs without it.
					cookieSetter{w}.ClearSession()
				}
			case tenant.EUNAVAILABLE:
				status = http.StatusServiceUnavailable
			default:
				status = http.StatusInternalServerError
			}
			writeError(w, r, status, err)
			return
		}
		if info := requestInfoFrom(r.Context()); info != nil {
			info.actor = actor
		}
		next.ServeHTTP(w, r.WithContext(tenant.WithActor(ctx, actor)))
	})
}

// clientIP is the caller's address: the connection's peer, or, when the
// peer is a trusted proxy, the nearest untrusted address of
// X-Forwarded-For read from the right (a client can prepend anything, but
// cannot forge what our proxies append).
func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	ip := ap.Addr().Unmap()
	if !tenant.AllowlistPermits(trusted, ip) {
		return ip
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return ip // a malformed hop: trust nothing further left
		}
		ip = hop.Unmap()
		if !tenant.AllowlistPermits(trusted, ip) {
			return ip
		}
	}
	return ip
}
