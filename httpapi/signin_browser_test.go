package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// signInReport is what graphiql/browsertest/signin.mjs prints.
type signInReport struct {
	scriptRun
	SSOOffered      *bool    `json:"ssoOffered"`
	Environments    []string `json:"environments"`
	DefaultEnv      string   `json:"defaultEnvironment"`
	PasswordOffered *bool    `json:"passwordOffered"`
	LandedAt        string   `json:"landedAt"`
	SessionStatus   string   `json:"sessionStatus"`
	Response        string   `json:"response"`
	DocumentCookie  string   `json:"documentCookie"`
	Cookies         []struct {
		Name     string `json:"name"`
		HTTPOnly bool   `json:"httpOnly"`
	} `json:"cookies"`
	CookiesAfterSignOut []string `json:"cookiesAfterSignOut"`
}

// runSignIn drives signin.mjs: Chromium signs in at /signin as email (with
// password, or through SSO when password is "") and runs the viewer query
// in GraphiQL.
func runSignIn(t *testing.T, node, srvURL, email, password string) signInReport {
	t.Helper()
	return runSignInFrom(t, node, srvURL, "", email, password, "")
}

// runSignInFrom is runSignIn starting at start (an emailed invitation link)
// instead of /signin when start is not "", choosing environment in the
// page's list when it is not "".
func runSignInFrom(t *testing.T, node, srvURL, start, email, password, environment string) signInReport {
	t.Helper()
	var rep signInReport
	runBrowserScript(t, node, "signin.mjs", &rep,
		"SIGNIN_URL="+srvURL+"/signin",
		"EMAIL="+email,
		"PASSWORD="+password,
		"QUERY={ viewer { member { email role } } }",
		"EXPECT="+email,
		"START_URL="+start,
		"ENVIRONMENT="+environment,
	)
	t.Logf("steps: %q", rep.Steps)
	return rep
}

// checkSignedIn asserts what every browser sign-in must show: GraphiQL at
// "/" says who is signed in and runs the viewer query as that member with
// the session cookie, which the page's script cannot read; no console
// error, no request off loopback; signing out drops the cookie.
func checkSignedIn(t *testing.T, rep signInReport, srvURL, email, role string) {
	t.Helper()
	if rep.LandedAt != srvURL+"/" {
		t.Errorf("landed at %q, want GraphiQL at %s/", rep.LandedAt, srvURL)
	}
	if want := email + " · " + role; rep.SessionStatus != want {
		t.Errorf("GraphiQL's session status = %q, want %q", rep.SessionStatus, want)
	}
	var resp struct {
		Data struct {
			Viewer struct {
				Member *struct{ Email, Role string }
			}
		}
		Errors []any
	}
	if err := json.Unmarshal([]byte(rep.Response), &resp); err != nil || len(resp.Errors) > 0 || resp.Data.Viewer.Member == nil ||
		resp.Data.Viewer.Member.Email != email || resp.Data.Viewer.Member.Role != role {
		t.Errorf("GraphiQL's response = %s, want the member %s (%s)", rep.Response, email, role)
	}
	if strings.Contains(rep.DocumentCookie, "tenant_session") {
		t.Errorf("the session cookie is readable by scripts: %q", rep.DocumentCookie)
	}
	held := false
	for _, c := range rep.Cookies {
		if c.Name == "__Host-tenant_session" {
			held = true
			if !c.HTTPOnly {
				t.Error("the session cookie is not HttpOnly")
			}
		}
	}
	if !held {
		t.Errorf("the browser holds no session cookie: %+v", rep.Cookies)
	}
	for _, c := range rep.CookiesAfterSignOut {
		if c == "__Host-tenant_session" {
			t.Error("the session cookie survived signing out")
		}
	}
	rep.checkClean(t)
}

// TestSignInBrowser: in a real headless Chromium, a person signs in at
// /signin with a password, and another through the OIDC flow against the
// loopback test identity provider (Continue with SSO, found by the email's
// domain); both land in GraphiQL holding the session and run
// { viewer { member { email role } } } without pasting a key. Where the
// domain has a tenant per environment, the person chooses the environment
// in the page's list, by password (QA) or through SSO (DEVELOPMENT).
func TestSignInBrowser(t *testing.T) {
	node := needBrowser(t)
	s := newSSOEnv(t)

	t.Run("Password", func(t *testing.T) {
		domain := randomDomain()
		id := s.createTenant("Browser Password Co", domain)
		email := "ana@" + domain
		addPasswordMember(t, s.env, id, email, "ADMIN")
		rep := runSignIn(t, node, s.srv.URL, email, testPassword)
		if rep.SSOOffered == nil || *rep.SSOOffered {
			t.Errorf("SSO offered to a tenant without it")
		}
		if strings.Join(rep.Environments, ",") != "DEVELOPMENT,QA,PRODUCTION" || rep.DefaultEnv != "PRODUCTION" {
			t.Errorf("environments offered %q, chosen %q; want all three, PRODUCTION chosen", rep.Environments, rep.DefaultEnv)
		}
		checkSignedIn(t, rep, s.srv.URL, email, "ADMIN")
	})

	t.Run("Invitation", func(t *testing.T) {
		// The emailed link (below PUBLIC_URL, the token in its fragment)
		// opens the acceptance page: a name and a password sign the new
		// member in, into GraphiQL.
		p := newPeopleEnv(t, envOptions{})
		domain := randomDomain()
		id := p.createTenant("Browser Invite Co", domain)
		email := "new@" + domain
		p.invite(testAdminSecret, id, email, "BILLING")
		tok := p.box.token(t, email, "tin_")
		link := p.srv.URL + "/accept-invitation#token=" + tok
		if !strings.Contains(p.box.last(t, email).Text, link) {
			t.Fatalf("the invitation does not link to %s:\n%s", link, p.box.last(t, email).Text)
		}
		rep := runSignInFrom(t, node, p.srv.URL, link, email, testPassword, "")
		checkSignedIn(t, rep, p.srv.URL, email, "BILLING")
	})
	t.Run("OIDC", func(t *testing.T) {
		_, domain := s.ssoTenant(t, map[string]any{"defaultRole": "DEVELOPER"})
		email := "bo@" + domain
		s.idp.SetUser(email, "Bo Example")
		rep := runSignIn(t, node, s.srv.URL, email, "")
		sawIdP := false
		for _, r := range rep.Seen {
			if strings.HasPrefix(r, "GET "+s.idp.Server.URL+"/authorize?") {
				sawIdP = true
			}
		}
		if !sawIdP {
			t.Errorf("the browser never visited the identity provider's authorize endpoint: %q", rep.Seen)
		}
		checkSignedIn(t, rep, s.srv.URL, email, "DEVELOPER")
	})

	t.Run("Environments", func(t *testing.T) {
		// One address, a member of the PRODUCTION (ADMIN) and QA (VIEWER)
		// tenants of its domain with one password; the DEVELOPMENT tenant
		// signs in through SSO. The role GraphiQL shows tells which tenant
		// the session is in.
		domain := randomDomain()
		prod := s.createTenant("Browser Env Co", domain)
		qa := s.createTenantIn("Browser Env Co QA", domain, "QA")
		s.ssoTenantIn(t, domain, "DEVELOPMENT", map[string]any{"defaultRole": "DEVELOPER"})
		email := "ana@" + domain
		addPasswordMember(t, s.env, prod, email, "ADMIN")
		addPasswordMember(t, s.env, qa, email, "VIEWER")
		rep := runSignInFrom(t, node, s.srv.URL, "", email, testPassword, "QA")
		if rep.SSOOffered == nil || *rep.SSOOffered {
			t.Errorf("SSO offered in QA, which has none")
		}
		checkSignedIn(t, rep, s.srv.URL, email, "VIEWER")

		s.idp.SetUser(email, "Ana Example")
		rep = runSignInFrom(t, node, s.srv.URL, "", email, "", "DEVELOPMENT")
		checkSignedIn(t, rep, s.srv.URL, email, "DEVELOPER")
	})
}
