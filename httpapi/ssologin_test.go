package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"tenantapi/sso/ssotest"
	"tenantapi/tenant"
)

// secureJar is a cookie jar that treats the loopback test server as the
// secure origin a browser sees in http://localhost, so it keeps and sends
// the __Host- cookies (Secure) the server sets.
type secureJar struct{ *cookiejar.Jar }

func asHTTPS(u *url.URL) *url.URL {
	c := *u
	if c.Scheme == "http" {
		c.Scheme = "https"
	}
	return &c
}

func (j secureJar) SetCookies(u *url.URL, cs []*http.Cookie) { j.Jar.SetCookies(asHTTPS(u), cs) }
func (j secureJar) Cookies(u *url.URL) []*http.Cookie        { return j.Jar.Cookies(asHTTPS(u)) }

// browser is a client with a cookie jar that trusts the IdP's certificate
// and stops at the redirect back to the server's own pages (GraphiQL).
type browser struct {
	t      *testing.T
	s      *ssoEnv
	client *http.Client
	jar    secureJar
	// stopAtCallback stops before the IdP's redirect reaches the callback,
	// to alter it.
	stopAtCallback bool
}

func (s *ssoEnv) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, s: s, jar: secureJar{jar}}
	b.client = &http.Client{Jar: b.jar, Transport: s.idp.Server.Client().Transport, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), s.srv.URL) && !strings.HasPrefix(req.URL.Path, "/auth/") {
			return http.ErrUseLastResponse // back home with a session: stop here
		}
		if b.stopAtCallback && strings.HasPrefix(req.URL.String(), s.srv.URL+"/auth/sso/callback") {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

func (b *browser) get(u string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.client.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// session is the session cookie the browser holds, "" for none.
func (b *browser) session() string {
	u, _ := url.Parse(b.s.srv.URL)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == "__Host-tenant_session" {
			return c.Value
		}
	}
	return ""
}

// signIn runs the whole flow from the tenant's login URL.
func (b *browser) signIn(tenantID, returnTo string) (*http.Response, string) {
	b.t.Helper()
	return b.get(b.s.srv.URL + "/auth/sso/" + tenantID + "?return_to=" + url.QueryEscape(returnTo))
}

// viewer asks who the session cookie signs in, as GraphiQL does.
func (b *browser) viewer() map[string]any {
	b.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": `{ viewer { kind member { email role status lastLoginMethod } session { method } } }`})
	req, _ := http.NewRequest(http.MethodPost, b.s.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Requested-With", "graphiql")
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data struct{ Viewer map[string]any }
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		b.t.Fatalf("viewer: %v: %s", err, raw)
	}
	return out.Data.Viewer
}

// ssoTenant creates a tenant with OIDC SSO against the loopback IdP, as
// the operator, with extra enableSso input (defaultRole, enforced).
func (s *ssoEnv) ssoTenant(t *testing.T, extra map[string]any) (id, domain string) {
	domain = randomDomain()
	return s.ssoTenantIn(t, domain, "", extra), domain
}

// ssoTenantIn is ssoTenant with the given domain, in environment ("" for
// the default, PRODUCTION).
func (s *ssoEnv) ssoTenantIn(t *testing.T, domain, environment string, extra map[string]any) (id string) {
	id = s.createTenantIn("SSO Login Co", domain, environment)
	in := map[string]any{"tenantId": id, "provider": s.oidc(ssotest.ClientSecret)}
	for k, v := range extra {
		in[k] = v
	}
	s.must(testAdminSecret, qEnableSSO, ssoIn(in))
	return id
}

// TestSSOLoginOIDC runs the authorization code flow with PKCE against the
// loopback IdP in a cookie-holding client: the first login creates the
// member with the configured default role; the session cookie then signs
// GraphQL requests in; the next login finds the same member.
func TestSSOLoginOIDC(t *testing.T) {
	t.Parallel()
	s := newSSOEnv(t)
	id, domain := s.ssoTenant(t, map[string]any{"defaultRole": "DEVELOPER"})
	r := s.must(testAdminSecret, qTenantSSO+``, map[string]any{"id": id})
	if got := dataAt(t, r, "tenant.sso.loginUrl"); got != s.srv.URL+"/auth/sso/"+id {
		t.Fatalf("loginUrl = %v, want below the deployment's PUBLIC_URL %s", got, s.srv.URL)
	}
	s.idp.SetUser("Ana@"+domain, "Ana Example")
	b := s.browser(t)
	resp, body := b.signIn(id, "/?tab=docs")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/?tab=docs" {
		t.Fatalf("sign-in ended with %d Location %q: %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	auth := s.idp.LastAuthorization()
	if auth.Get("code_challenge_method") != "S256" || auth.Get("redirect_uri") != s.srv.URL+"/auth/sso/callback" || auth.Get("client_id") != "acme-portal" {
		t.Errorf("authorization request = %v, want S256 PKCE, this deployment's callback and the client id", auth)
	}
	if b.session() == "" {
		t.Fatal("no session cookie after the sign-in")
	}
	v := b.viewer()
	m, _ := v["member"].(map[string]any)
	if v["kind"] != "MEMBER" || m["email"] != "ana@"+domain || m["role"] != "DEVELOPER" || m["status"] != "ACTIVE" || m["lastLoginMethod"] != "SSO" {
		t.Fatalf("viewer = %v, want the new member ana@%s, DEVELOPER, ACTIVE, signed in by SSO", v, domain)
	}
	// The state cookie was spent.
	for _, c := range b.jar.Cookies(asHTTPS(mustURL(s.srv.URL))) {
		if c.Name == "__Host-tenant_sso_state" {
			t.Errorf("the state cookie outlived the sign-in")
		}
	}
	// A second sign-in finds the same member.
	b2 := s.browser(t)
	if resp, body := b2.signIn(id, "https://evil.example/"); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/" {
		t.Fatalf("second sign-in: %d %q (an off-site return_to must become /): %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	var n int
	if err := s.env.raw().Get(&n, `SELECT count(*) FROM members WHERE tenant_id = $1 AND email = $2`, id, "ana@"+domain); err != nil || n != 1 {
		t.Fatalf("members ana@ = %d, %v; want 1", n, err)
	}
}

func mustURL(s string) *url.URL { u, _ := url.Parse(s); return u }

// TestSSOLoginRefused: every refusal is a page with its reason, and no
// session.
func TestSSOLoginRefused(t *testing.T) {
	t.Parallel()
	s := newSSOEnv(t)
	id, domain := s.ssoTenant(t, nil)
	cases := []struct {
		name   string
		setup  func()
		email  string
		status int
		reason string
	}{
		{"ErrTamperedIDToken", func() { s.idp.TamperIDToken(true, false) }, "", http.StatusForbidden, "signature does not verify"},
		{"ErrForeignSigningKey", func() { s.idp.TamperIDToken(false, true) }, "", http.StatusForbidden, "signature does not verify"},
		{"ErrWrongAudience", func() { s.idp.Adjust(func(c map[string]any) { c["aud"] = "another-app" }) }, "", http.StatusForbidden, "not meant for this application"},
		{"ErrWrongNonce", func() { s.idp.Adjust(func(c map[string]any) { c["nonce"] = "replayed" }) }, "", http.StatusForbidden, "nonce does not match"},
		{"ErrWrongIssuer", func() { s.idp.Adjust(func(c map[string]any) { c["iss"] = "https://other.example" }) }, "", http.StatusForbidden, "another issuer"},
		{"ErrExpiredIDToken", func() {
			s.idp.Adjust(func(c map[string]any) {
				c["iat"], c["exp"] = time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
			})
		}, "", http.StatusForbidden, "ID token expired"},
		{"ErrEmailNotVerified", func() { s.idp.Adjust(func(c map[string]any) { c["email_verified"] = false }) }, "", http.StatusForbidden, "not verified"},
		{"ErrNoEmail", func() { s.idp.Adjust(func(c map[string]any) { delete(c, "email") }) }, "", http.StatusForbidden, "no email claim"},
		{"ErrForeignDomain", nil, "eve@elsewhere.example", http.StatusForbidden, "is not in this organisation"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The IdP is shared: the cases run one after another.
			s.idp.Adjust(nil)
			s.idp.TamperIDToken(false, false)
			email := tc.email
			if email == "" {
				email = "bob@" + domain
			}
			s.idp.SetUser(email, "Bob")
			if tc.setup != nil {
				tc.setup()
			}
			b := s.browser(t)
			resp, body := b.signIn(id, "/")
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.reason) || resp.Header.Get("Content-Security-Policy") == "" {
				t.Fatalf("got %d %s, want %d with %q", resp.StatusCode, body, tc.status, tc.reason)
			}
			if b.session() != "" {
				t.Fatal("a refused sign-in left a session cookie")
			}
		})
	}
	s.idp.Adjust(nil)
	s.idp.TamperIDToken(false, false)
	var n int
	if err := s.env.raw().Get(&n, `SELECT count(*) FROM sessions WHERE tenant_id = $1`, id); err != nil || n != 0 {
		t.Fatalf("sessions after refusals = %d, %v; want 0", n, err)
	}

	t.Run("ErrStateMismatch", func(t *testing.T) {
		s.idp.SetUser("bob@"+domain, "Bob")
		b := s.browser(t)
		b.stopAtCallback = true
		resp, _ := b.signIn(id, "/")
		cb, err := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || err != nil {
			t.Fatalf("IdP answered %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		q := cb.Query()
		q.Set("state", "forged-"+q.Get("state"))
		cb.RawQuery = q.Encode()
		b.stopAtCallback = false
		resp, body := b.get(cb.String())
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "state does not match") || b.session() != "" {
			t.Fatalf("forged state: %d %s", resp.StatusCode, body)
		}
		// The right state in another browser (no state cookie): refused too.
		q.Set("state", strings.TrimPrefix(q.Get("state"), "forged-"))
		cb.RawQuery = q.Encode()
		other := s.browser(t)
		if resp, body := other.get(cb.String()); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "state does not match") {
			t.Fatalf("callback in another browser: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("ErrDeactivatedMember", func(t *testing.T) {
		s.idp.SetUser("carl@"+domain, "Carl")
		if resp, body := s.browser(t).signIn(id, "/"); resp.StatusCode != http.StatusFound {
			t.Fatalf("first sign-in: %d %s", resp.StatusCode, body)
		}
		if _, err := s.env.raw().Exec(`UPDATE members SET status = 'DEACTIVATED', deactivated_at = now() WHERE tenant_id = $1 AND email = $2`, id, "carl@"+domain); err != nil {
			t.Fatal(err)
		}
		b := s.browser(t)
		resp, body := b.signIn(id, "/")
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "deactivated") || b.session() != "" {
			t.Fatalf("deactivated member: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("ErrSSODisabled", func(t *testing.T) {
		s.must(testAdminSecret, qDisableSSO, ssoIn(map[string]any{"tenantId": id}))
		defer s.must(testAdminSecret, qEnableSSO, ssoIn(map[string]any{"tenantId": id}))
		resp, body := s.browser(t).signIn(id, "/")
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "not enabled") {
			t.Fatalf("disabled SSO: %d %s", resp.StatusCode, body)
		}
	})
}

// TestSSOEnforcement: while SSO is ACTIVE and enforced, the right password
// is refused with a pointer to the SSO login; disabling SSO restores
// password login.
func TestSSOEnforcement(t *testing.T) {
	t.Parallel()
	s := newSSOEnv(t)
	id, domain := s.ssoTenant(t, map[string]any{"enforced": true})
	const password = "correct horse battery staple"
	owner := "dana@" + domain
	if _, err := s.env.raw().Exec(`INSERT INTO members (tenant_id, email, role, status, password_hash, created_at, created_by)
		VALUES ($1, $2, 'ADMIN', 'ACTIVE', $3, now(), 'test')`, id, owner, tenant.HashPassword(password)); err != nil {
		t.Fatal(err)
	}
	login := func() *result {
		return s.gql("", `mutation($in: LoginInput!) { login(input: $in) { token } }`, map[string]any{"in": map[string]any{"email": owner, "password": password, "tenant": id}})
	}
	// Enforced but not tested yet (CONFIGURED): passwords still work.
	if r := login(); len(r.Errors) != 0 {
		t.Fatalf("login before testSso: %s", r.Raw)
	}
	s.must(testAdminSecret, qTestSSO, ssoIn(map[string]any{"tenantId": id}))
	r := login()
	if r.Code() != "FORBIDDEN" || !strings.Contains(r.Errors[0].Message, "single sign-on only") || !strings.Contains(r.Errors[0].Message, "/auth/sso/"+id) {
		t.Fatalf("login while SSO is enforced: %s", r.Raw)
	}
	if r := s.gql("", `mutation($in: LoginInput!) { login(input: $in) { token } }`, map[string]any{"in": map[string]any{"email": owner, "password": "wrong password!!", "tenant": id}}); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("a wrong password while enforced must say only UNAUTHENTICATED: %s", r.Raw)
	}
	s.must(testAdminSecret, qDisableSSO, ssoIn(map[string]any{"tenantId": id}))
	if r := login(); len(r.Errors) != 0 {
		t.Fatalf("login after disableSso: %s", r.Raw)
	}
	// Not enforced: both work.
	s.must(testAdminSecret, qEnableSSO, ssoIn(map[string]any{"tenantId": id, "enforced": false}))
	s.must(testAdminSecret, qTestSSO, ssoIn(map[string]any{"tenantId": id}))
	if r := login(); len(r.Errors) != 0 {
		t.Fatalf("login with SSO not enforced: %s", r.Raw)
	}
}

// TestSSODefaultRole: OWNER is never a default role.
func TestSSODefaultRole(t *testing.T) {
	t.Parallel()
	s := newSSOEnv(t)
	id := s.createTenant("Role Co", randomDomain())
	r := s.gql(testAdminSecret, qEnableSSO, ssoIn(map[string]any{"tenantId": id, "provider": s.oidc(ssotest.ClientSecret), "defaultRole": "OWNER"}))
	if r.Code() != "BAD_USER_INPUT" || r.Field() != "defaultRole" {
		t.Fatalf("defaultRole OWNER: %s", r.Raw)
	}
}
