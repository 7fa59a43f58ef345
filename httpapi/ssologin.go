package httpapi

import (
	"crypto/subtle"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"tenantapi/db"
	"tenantapi/egress"
	"tenantapi/sso"
	"tenantapi/tenant"
)

// SSO login served by this deployment (docs/sso.md). GET
// /auth/sso/{tenant} starts the OIDC authorization code flow with PKCE;
// the state, nonce and verifier are kept server-side (db:
// sso_login_states, single use, tenant.SSOLoginStateTTL), and the state
// also in a short-lived HttpOnly cookie that binds the login to the
// browser that started it. GET /auth/sso/callback redeems the code,
// verifies the ID token (sso.Checker.Exchange), checks the address is in
// the tenant's domain, finds or creates the member (just-in-time
// provisioning) and opens a session in the session cookie. Every refusal
// is a page saying why, and no session.

// stateCookie binds a started login to its browser ("__Host-": Secure,
// this host, path /). SameSite=Lax: the identity provider's redirect back
// is a top-level GET from another site, which Lax lets through.
const stateCookie = "__Host-tenant_sso_state"

type ssoLogin struct {
	store      *db.Store
	checker    *sso.Checker
	publicURL  string
	maxMembers int
	trusted    []netip.Prefix
	log        *slog.Logger
}

func newSSOLogin(store *db.Store, cfg Config) *ssoLogin {
	eg := cfg.Egress
	if eg == nil {
		eg = egress.New(egress.Options{})
	}
	return &ssoLogin{store: store, checker: &sso.Checker{Egress: eg, Now: store.Now}, publicURL: publicURL(cfg),
		maxMembers: cfg.MaxMembers, trusted: cfg.TrustedProxies, log: cfg.Logger}
}

func publicURL(cfg Config) string {
	if cfg.PublicURL == "" {
		return tenant.DefaultPublicURL
	}
	return strings.TrimSuffix(cfg.PublicURL, "/")
}

func (h *ssoLogin) register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+tenant.SSOLoginPath+"/callback", h.callback)
	mux.HandleFunc("GET "+tenant.SSOLoginPath+"/{tenant}", h.start)
	h.registerSAML(mux) // samllogin.go
}

func (h *ssoLogin) callbackURL() string { return h.publicURL + tenant.SSOLoginPath + "/callback" }

// loginOf is the SSO login of the request's {tenant}, or false after
// refusing it: an unknown tenant, or one whose SSO cannot sign anyone in.
func (h *ssoLogin) loginOf(w http.ResponseWriter, r *http.Request) (*tenant.SSOLogin, bool) {
	tenantID := strings.ToLower(r.PathValue("tenant"))
	l, err := h.store.SSOLogin(r.Context(), tenantID)
	if err != nil {
		h.refuse(w, r, http.StatusNotFound, "There is no organisation "+truncate(tenantID, 60)+" here.", err)
		return nil, false
	}
	if refusal := loginRefusal(l); refusal != "" {
		h.refuse(w, r, http.StatusForbidden, refusal, nil)
		return nil, false
	}
	return l, true
}

func (h *ssoLogin) start(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	l, ok := h.loginOf(w, r)
	if !ok {
		return
	}
	if *l.Type == tenant.SSOSAML {
		http.Redirect(w, r, "/auth/saml/"+l.TenantID+"/login?"+url.Values{"return_to": {safeReturnTo(r.URL.Query().Get("return_to"))}}.Encode(), http.StatusFound)
		return
	}
	p := sso.NewPending()
	to, prob := h.checker.AuthCodeURL(ctx, h.checker.ClientFor(l, h.callbackURL()), p)
	if prob != nil {
		h.refuse(w, r, http.StatusBadGateway, "The identity provider cannot be reached: "+prob.Error(), nil)
		return
	}
	if err := h.store.SaveSSOLoginState(ctx, p.State, tenant.SSOLoginState{TenantID: l.TenantID, Nonce: p.Nonce, Verifier: p.Verifier,
		ReturnTo: safeReturnTo(r.URL.Query().Get("return_to"))}); err != nil {
		h.refuse(w, r, http.StatusInternalServerError, "The sign-in could not start; try again.", err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: p.State, Path: "/", MaxAge: int(tenant.SSOLoginStateTTL / time.Second),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, to, http.StatusFound)
}

// loginRefusal is why a tenant's SSO cannot sign anyone in, or "".
func loginRefusal(l *tenant.SSOLogin) string {
	switch {
	case l.TenantStatus == tenant.StatusSuspended:
		return "This organisation is suspended; contact support."
	case l.Type == nil || !l.Enabled:
		return "Single sign-on is not enabled for this organisation: sign in with your email and password."
	}
	return ""
}

func (h *ssoLogin) callback(w http.ResponseWriter, r *http.Request) {
	ctx := tenant.WithUserAgent(tenant.WithClientIP(r.Context(), clientIP(r, h.trusted)), r.UserAgent())
	q := r.URL.Query()
	// The state cookie is spent whatever happens next.
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	if e := q.Get("error"); e != "" {
		msg := "The identity provider refused the sign-in: " + truncate(e, 100)
		if d := q.Get("error_description"); d != "" {
			msg += " (" + truncate(d, 300) + ")"
		}
		h.refuse(w, r, http.StatusForbidden, msg, nil)
		return
	}
	state, code := q.Get("state"), q.Get("code")
	c, err := r.Cookie(stateCookie)
	if state == "" || code == "" || err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(state)) != 1 {
		h.refuse(w, r, http.StatusBadRequest, "This sign-in was not started in this browser (its state does not match): start again from your organisation's login URL.", nil)
		return
	}
	st, err := h.store.TakeSSOLoginState(ctx, state)
	if err != nil {
		h.refuse(w, r, http.StatusBadRequest, "This sign-in expired or was already used: start again from your organisation's login URL.", err)
		return
	}
	l, err := h.store.SSOLogin(ctx, st.TenantID)
	if err != nil {
		h.refuse(w, r, http.StatusNotFound, "This organisation no longer exists.", err)
		return
	}
	if refusal := loginRefusal(l); refusal != "" || *l.Type == tenant.SSOSAML {
		h.refuse(w, r, http.StatusForbidden, refusal+" (the configuration changed during the sign-in)", nil)
		return
	}
	id, prob := h.checker.Exchange(ctx, h.checker.ClientFor(l, h.callbackURL()), sso.Pending{State: state, Nonce: st.Nonce, Verifier: st.Verifier}, code)
	if prob != nil {
		h.refuse(w, r, http.StatusForbidden, "The identity provider's answer was refused: "+prob.Error()+".", nil)
		return
	}
	h.signIn(w, r.WithContext(ctx), l, id.Email, id.Name, st.ReturnTo)
}

// signIn ends every SSO login: the address must be in the tenant's
// domain; the member is found or created; the session goes into the
// cookie and the browser to returnTo.
func (h *ssoLogin) signIn(w http.ResponseWriter, r *http.Request, l *tenant.SSOLogin, email, name, returnTo string) {
	ctx := r.Context()
	email = strings.ToLower(strings.TrimSpace(email))
	at := strings.LastIndexByte(email, '@')
	if at < 0 || !strings.EqualFold(email[at+1:], l.Domain) {
		h.refuse(w, r, http.StatusForbidden, "The address "+truncate(email, 100)+" is not in this organisation's domain ("+l.Domain+"): only addresses @"+l.Domain+" sign in here.", nil)
		return
	}
	memberID, created, err := h.store.SSOSignIn(ctx, l.TenantID, email, name, h.maxMembers)
	if err != nil {
		h.refuse(w, r, http.StatusForbidden, "You cannot sign in: "+publicMessage(err), err)
		return
	}
	se, token, err := h.store.CreateSession(ctx, memberID, tenant.LoginSSO)
	if err != nil {
		h.refuse(w, r, http.StatusForbidden, "You cannot sign in: "+publicMessage(err), err)
		return
	}
	h.log.InfoContext(ctx, "sso sign-in", "tenant", l.TenantID, "member", memberID, "created", created)
	cookieSetter{w}.SetSession(token, se.ExpiresAt)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, returnTo, http.StatusFound)
}

// publicMessage is the message of a domain error, or a generic one.
func publicMessage(err error) string {
	var te *tenant.Error
	if errors.As(err, &te) && te.Code != tenant.EINTERNAL {
		return te.Message
	}
	return "an internal error occurred; try again"
}

// safeReturnTo keeps a same-origin path ("/..." but not "//..." nor
// "/\...", which browsers read as another host); anything else is "/".
func safeReturnTo(s string) string {
	if s == "" || len(s) > 1024 || s[0] != '/' || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") || strings.ContainsAny(s, "\r\n\t") {
		return "/"
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return s
}

var refusalPage = template.Must(template.New("refusal").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in refused</title></head>
<body><h1>Sign-in refused</h1><p id="reason">{{.}}</p><p><a href="/">Back</a></p></body></html>
`))

// refuse answers a refused sign-in with a page saying why (and logs the
// cause of an internal error).
func (h *ssoLogin) refuse(w http.ResponseWriter, r *http.Request, status int, reason string, cause error) {
	if cause != nil && tenant.ErrorCode(cause) == tenant.EINTERNAL {
		h.log.ErrorContext(r.Context(), "sso sign-in failed", "err", cause)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = refusalPage.Execute(w, reason)
}
