package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"tenantapi/tenant"
)

// methods asks GET /auth/methods how email signs in.
func (e *env) methods(email string) (int, map[string]any) {
	e.t.Helper()
	return e.methodsIn(email, "")
}

// methodsIn asks GET /auth/methods how email signs in, with
// ?environment=environment unless it is "".
func (e *env) methodsIn(email, environment string) (int, map[string]any) {
	e.t.Helper()
	q := url.Values{"email": {email}}
	if environment != "" {
		q.Set("environment", environment)
	}
	resp, err := http.Get(e.srv.URL + "/auth/methods?" + q.Encode())
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		e.t.Fatalf("/auth/methods: %v: %s", err, raw)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		e.t.Errorf("/auth/methods Cache-Control = %q, want no-store", cc)
	}
	return resp.StatusCode, out
}

// signInAnswer is the whole answer of /auth/methods: per environment the
// methods of per (password only for an environment per leaves out), in
// the schema's order, and those of top at the top level.
func signInAnswer(top string, per map[string]map[string]any) map[string]any {
	entry := func(env string) map[string]any {
		e := map[string]any{"environment": env, "sso": nil, "password": true}
		for k, v := range per[env] {
			e[k] = v
		}
		return e
	}
	var list []any
	for _, env := range []string{"DEVELOPMENT", "QA", "PRODUCTION"} {
		list = append(list, entry(env))
	}
	out := entry(top)
	out["environments"] = list
	return out
}

// addPasswordMember inserts an ACTIVE member with testPassword.
func addPasswordMember(t *testing.T, e *env, tenantID, email, role string) {
	t.Helper()
	if _, err := e.raw().Exec(`INSERT INTO members (tenant_id, email, role, status, password_hash, created_at, created_by)
		VALUES ($1, $2, $3, 'ACTIVE', $4, now(), 'test')`, tenantID, email, role, tenant.HashPassword(testPassword)); err != nil {
		t.Fatal(err)
	}
}

// TestSignInMethods: the sign-in page's question is answered from the
// domain's tenant alone: a member and a stranger of one domain get the
// same answer, an unknown domain gets a tenant without SSO's, SSO shows
// its login URL, and enforced ACTIVE SSO turns the password off.
func TestSignInMethods(t *testing.T) {
	t.Parallel()
	s := newSSOEnv(t)
	plainDomain := randomDomain()
	plain := s.createTenant("Plain Co", plainDomain)
	addPasswordMember(t, s.env, plain, "ana@"+plainDomain, "ADMIN")
	ssoID, ssoDomain := s.ssoTenant(t, nil)
	addPasswordMember(t, s.env, ssoID, "bo@"+ssoDomain, "ADMIN")
	enfID, enfDomain := s.ssoTenant(t, map[string]any{"enforced": true})
	s.must(testAdminSecret, qTestSSO, ssoIn(map[string]any{"tenantId": enfID}))

	passwordOnly := map[string]any{"sso": nil, "password": true}
	loginURL := func(id string) string { return s.srv.URL + "/auth/sso/" + id }
	for _, c := range []struct {
		name, email string
		want        map[string]any
	}{
		{"PlainMember", "ana@" + plainDomain, passwordOnly},
		{"PlainStranger", "nobody@" + plainDomain, passwordOnly},
		{"PlainUpperCase", "ANA@" + strings.ToUpper(plainDomain), passwordOnly},
		{"UnknownDomain", "ana@" + randomDomain(), passwordOnly},
		{"SSOMember", "bo@" + ssoDomain, map[string]any{"sso": loginURL(ssoID), "password": true}},
		{"SSOStranger", "someone@" + ssoDomain, map[string]any{"sso": loginURL(ssoID), "password": true}},
		{"SSOEnforced", "anyone@" + enfDomain, map[string]any{"sso": loginURL(enfID), "password": false}},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, got := s.withT(t).methods(c.email)
			want := signInAnswer("PRODUCTION", map[string]map[string]any{"PRODUCTION": c.want})
			if status != http.StatusOK || !equalJSON(got, want) {
				t.Fatalf("%s: %d %v, want %v", c.email, status, got, want)
			}
		})
	}
	t.Run("ErrMalformed", func(t *testing.T) {
		for _, email := range []string{"", "ana", "ana@", "@acme.fr"} {
			if status, got := s.withT(t).methods(email); status != http.StatusBadRequest || got["error"] == nil {
				t.Errorf("%q: %d %v, want 400 with an error", email, status, got)
			}
		}
	})
	t.Run("SuspendedLooksUnknown", func(t *testing.T) {
		s.must(testAdminSecret, `mutation($t: ID!) { updateTenant(input: {tenantId: $t, status: SUSPENDED}) { tenant { status } } }`, map[string]any{"t": ssoID})
		want := signInAnswer("PRODUCTION", nil)
		if status, got := s.withT(t).methods("bo@" + ssoDomain); status != http.StatusOK || !equalJSON(got, want) {
			t.Fatalf("%d %v, want %v", status, got, want)
		}
	})
}

// TestSignInPage: the page loads only this origin's files with integrity,
// has no inline script or style, and carries the strict CSP.
func TestSignInPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, err := http.Get(e.srv.URL + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("/signin: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self';", "style-src 'self';", "connect-src 'self';", "form-action 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q allows unsafe code", csp)
	}
	page := string(body)
	for _, m := range regexp.MustCompile(`(?is)<(script|link|style)\b[^>]*>`).FindAllString(page, -1) {
		if strings.Contains(m, `rel="icon"`) {
			continue
		}
		if !strings.Contains(m, `integrity="sha384-`) || !regexp.MustCompile(`(src|href)="/graphiql/assets/`).MatchString(m) {
			t.Errorf("tag %s is not an embedded asset with integrity", m)
		}
	}
	if strings.Contains(page, " style=") || strings.Contains(page, "<style") {
		t.Error("inline style on the page")
	}
	for _, ref := range regexp.MustCompile(`(?:src|href)="(/graphiql/assets/[^"]+)"`).FindAllStringSubmatch(page, -1) {
		r, err := http.Get(e.srv.URL + ref[1])
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", ref[1], r.StatusCode)
		}
	}
}

// TestStaleSessionCookieCleared: a session cookie that no longer signs in
// is refused (401) and cleared by that answer, so the browser's next
// request, a new login, runs without it.
func TestStaleSessionCookieCleared(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", strings.NewReader(`{"query":"{ viewer { kind } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Requested-With", "fetch")
	req.Header.Set("Cookie", "__Host-tenant_session="+tenant.NewSessionToken())
	r := e.do(req)
	if r.Status != http.StatusUnauthorized || !strings.Contains(r.Header.Get("Set-Cookie"), "__Host-tenant_session=;") || !strings.Contains(r.Header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("stale cookie: %d %v %s", r.Status, r.Header, r.Raw)
	}
	// A refused Authorization header clears nothing: the cookie is not
	// what failed.
	r = e.gql(tenant.NewSessionToken(), `{ viewer { kind } }`, nil)
	if r.Status != http.StatusUnauthorized || r.Header.Get("Set-Cookie") != "" {
		t.Fatalf("stale bearer: %d %v", r.Status, r.Header)
	}
}

// TestAccountPages: the invitation and password-reset emails link to pages
// this server serves below PUBLIC_URL, the token in the URL's fragment
// (never sent to a server); the pages load only this origin's files under
// the sign-in page's CSP. (TestSignInBrowser accepts an invitation through
// its page in Chromium.)
func TestAccountPages(t *testing.T) {
	t.Parallel()
	p := newPeopleEnv(t, envOptions{})
	domain := randomDomain()
	id := p.createTenant("Pages Co", domain)
	email := "ana@" + domain
	addPasswordMember(t, p.env, id, email, "VIEWER")
	p.mustGQL("", `mutation($e: String!) { requestPasswordReset(input: {email: $e}) { accepted } }`, map[string]any{"e": email}, nil)
	tok := p.box.token(t, email, "trs_")
	if link := p.srv.URL + "/reset-password#token=" + tok; !strings.Contains(p.box.last(t, email).Text, link) {
		t.Errorf("the reset email does not link to %s:\n%s", link, p.box.last(t, email).Text)
	}
	for _, path := range []string{"/accept-invitation", "/reset-password"} {
		resp, err := http.Get(p.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if resp.StatusCode != http.StatusOK || !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "form-action 'none'") ||
			strings.Contains(string(body), "<script>") || !strings.Contains(string(body), `id="password"`) {
			t.Errorf("%s: %d, CSP %q:\n%s", path, resp.StatusCode, csp, body)
		}
	}
}
