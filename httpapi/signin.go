package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"

	"tenantapi/db"
	"tenantapi/tenant"
)

// The sign-in page (graphiql.SignInHandler at /signin, docs/members.md:
// The sign-in page) asks GET /auth/methods?email=<address> how the address
// signs in, then shows a password field or a "Continue with SSO" button,
// and an environment to choose: a domain has up to one tenant per
// environment. The answer comes from the tenants whose domain is the
// address's domain, never from their members: every address of a domain
// gets the same answer. It lists every environment, whether or not the
// domain has a tenant there, and an environment where it has none gets
// the answer of a tenant without SSO (password only), so the endpoint
// tells nothing about who is a member, nor whether a domain has a tenant
// in an environment unless its SSO is on (which its login URL tells
// anyway). The top level answers for ?environment= (default PRODUCTION),
// as the endpoint did before environments existed. Requests without
// credentials are charged to the anonymous budget of their address, as
// GraphQL requests are.

// signInMethods serves GET /auth/methods.
type signInMethods struct {
	store     *db.Store
	loginBase string // SsoConfig.loginUrl's base
	cfg       Config
}

func newSignInMethods(store *db.Store, cfg Config, limiter *rateLimiter) http.Handler {
	base := cfg.SSOLoginBase
	if base == "" {
		base = publicURL(cfg) + tenant.SSOLoginPath
	}
	h := &signInMethods{store: store, loginBase: base, cfg: cfg}
	limited := limiter.middleware(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := tenant.WithClientIP(r.Context(), clientIP(r, cfg.TrustedProxies))
		limited.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (h *signInMethods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	email := strings.TrimSpace(r.URL.Query().Get("email"))
	at := strings.LastIndexByte(email, '@')
	if at < 1 || at == len(email)-1 || len(email) > 320 {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "email must be an address such as ana@acme.fr"})
		return
	}
	env, err := tenant.ParseEnvironment("environment", r.URL.Query().Get("environment"))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": publicMessage(err)})
		return
	}
	logins, err := h.store.SSOLoginsByDomain(r.Context(), email[at+1:])
	if err != nil {
		h.cfg.Logger.ErrorContext(r.Context(), "sign-in methods", "err", err)
		w.WriteHeader(http.StatusInternalServerError)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "internal error; try again"})
		return
	}
	_ = json.NewEncoder(w).Encode(tenant.SignInMethodsOf(logins, env, h.loginBase))
}

// linkBase is where the members' emails link to (the account pages of
// graphiql/account.go, below PUBLIC_URL), or "" when this deployment serves
// no pages (INTROSPECTION=off): the emails then carry only the token and
// the mutation that takes it.
func linkBase(cfg Config) string {
	if cfg.Introspection == IntrospectionOff {
		return ""
	}
	return publicURL(cfg)
}
