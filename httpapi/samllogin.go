package httpapi

import (
	"crypto/subtle"
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"time"

	"tenantapi/sso"
	"tenantapi/tenant"
)

// SAML 2.0 SP-initiated login (docs/sso.md), one service provider per
// tenant below PUBLIC_URL/auth/saml/{tenant}: GET …/metadata serves the SP
// metadata; GET …/login sends the browser to the IdP's SingleSignOnService
// (HTTP-Redirect binding) with an unsigned AuthnRequest whose RelayState is
// a single-use state kept server-side (db: sso_login_states, the request
// id in its nonce) and in a cookie binding it to this browser; POST …/acs
// takes the state back, verifies the response (sso.Checker.SAMLAssertion),
// accepts each assertion id once (db: saml_assertions_seen) and ends as the
// OIDC callback does (ssoLogin.signIn). Every refusal is a page saying why,
// and no session.

// samlStateCookie binds a started SAML login to its browser. The IdP posts
// the response from its own site: only SameSite=None cookies come with a
// cross-site POST.
const samlStateCookie = "__Host-tenant_saml_state"

// maxSAMLForm bounds the ACS request body (a signed response is a few KiB).
const maxSAMLForm = 1 << 20

func (h *ssoLogin) registerSAML(mux *http.ServeMux) {
	mux.HandleFunc("GET "+sso.SAMLPath+"/{tenant}/metadata", h.samlMetadata)
	mux.HandleFunc("GET "+sso.SAMLPath+"/{tenant}/login", h.samlStart)
	mux.HandleFunc("POST "+sso.SAMLPath+"/{tenant}/acs", h.samlACS)
}

func (h *ssoLogin) samlMetadata(w http.ResponseWriter, r *http.Request) {
	l, err := h.store.SSOLogin(r.Context(), strings.ToLower(r.PathValue("tenant")))
	if err != nil || l.Type == nil || *l.Type != tenant.SSOSAML {
		http.Error(w, "no SAML service provider here", http.StatusNotFound)
		return
	}
	out, err := xml.MarshalIndent(sso.SAMLMetadata(l, h.publicURL), "", "  ")
	if err != nil {
		h.log.ErrorContext(r.Context(), "saml metadata", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(out)
}

func (h *ssoLogin) samlStart(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	returnTo := safeReturnTo(r.URL.Query().Get("return_to"))
	l, ok := h.loginOf(w, r)
	if !ok {
		return
	}
	if *l.Type != tenant.SSOSAML {
		http.Redirect(w, r, tenant.SSOLoginPath+"/"+l.TenantID+"?"+url.Values{"return_to": {returnTo}}.Encode(), http.StatusFound)
		return
	}
	state := sso.NewPending().State // 256 bits, URL-safe
	to, requestID, prob := h.checker.SAMLAuthnRequest(ctx, l, h.publicURL, state)
	if prob != nil {
		h.refuse(w, r, http.StatusBadGateway, "The identity provider cannot be used: "+prob.Error()+".", nil)
		return
	}
	if err := h.store.SaveSSOLoginState(ctx, state, tenant.SSOLoginState{TenantID: l.TenantID, Nonce: requestID, ReturnTo: returnTo}); err != nil {
		h.refuse(w, r, http.StatusInternalServerError, "The sign-in could not start; try again.", err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: samlStateCookie, Value: state, Path: "/", MaxAge: int(tenant.SSOLoginStateTTL / time.Second),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteNoneMode})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, to, http.StatusFound)
}

func (h *ssoLogin) samlACS(w http.ResponseWriter, r *http.Request) {
	ctx := tenant.WithUserAgent(tenant.WithClientIP(r.Context(), clientIP(r, h.trusted)), r.UserAgent())
	r = r.WithContext(ctx)
	// The state cookie is spent whatever happens next.
	http.SetCookie(w, &http.Cookie{Name: samlStateCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteNoneMode})
	r.Body = http.MaxBytesReader(w, r.Body, maxSAMLForm)
	if err := r.ParseForm(); err != nil {
		h.refuse(w, r, http.StatusBadRequest, "The identity provider's answer is not a form of at most 1 MiB.", nil)
		return
	}
	state := r.PostForm.Get("RelayState")
	c, err := r.Cookie(samlStateCookie)
	if state == "" || err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(state)) != 1 {
		h.refuse(w, r, http.StatusBadRequest, "This sign-in was not started in this browser (its RelayState does not match): start again from your organisation's login URL.", nil)
		return
	}
	st, err := h.store.TakeSSOLoginState(ctx, state)
	if err != nil || st.TenantID != strings.ToLower(r.PathValue("tenant")) {
		h.refuse(w, r, http.StatusBadRequest, "This sign-in expired or was already used: start again from your organisation's login URL.", err)
		return
	}
	l, err := h.store.SSOLogin(ctx, st.TenantID)
	if err != nil {
		h.refuse(w, r, http.StatusNotFound, "This organisation no longer exists.", err)
		return
	}
	if refusal := loginRefusal(l); refusal != "" || *l.Type != tenant.SSOSAML {
		h.refuse(w, r, http.StatusForbidden, refusal+" (the configuration changed during the sign-in)", nil)
		return
	}
	id, prob := h.checker.SAMLAssertion(ctx, l, h.publicURL, r, st.Nonce)
	if prob != nil {
		h.refuse(w, r, http.StatusForbidden, "The identity provider's answer was refused: "+prob.Error()+".", nil)
		return
	}
	if len(id.AssertionID) > 256 {
		h.refuse(w, r, http.StatusForbidden, "The identity provider's answer was refused: the assertion's ID is longer than 256 characters.", nil)
		return
	}
	if err := h.store.SAMLAssertionSeen(ctx, l.TenantID, id.AssertionID, id.Expires); err != nil {
		h.refuse(w, r, http.StatusForbidden, "The identity provider's answer was refused: "+publicMessage(err)+".", err)
		return
	}
	h.signIn(w, r, l, id.Email, id.Name, st.ReturnTo)
}
