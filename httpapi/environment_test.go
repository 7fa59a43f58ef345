package httpapi_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

// The environment of a tenant (reference 004: one tenant per environment)
// and the (domain, environment) uniqueness rule.

const (
	qCreateTenantEnv = `mutation($in: CreateTenantInput!) { createTenant(input: $in) { dryRun tenant { id domain environment } } }`
	qTenantEnv       = `query($id: ID!) { tenant(id: $id) { id domain environment } }`
)

// createIn asks createTenant for name, domain and environment ("" sends
// none) as the operator, with validateOnly when dry.
func (e *env) createIn(name, domain, environment string, dry bool) *result {
	e.t.Helper()
	in := map[string]any{"name": name, "domain": domain}
	if environment != "" {
		in["environment"] = environment
	}
	if dry {
		in["validateOnly"] = true
	}
	return e.ask(testAdminSecret, qCreateTenantEnv, map[string]any{"in": in})
}

// wantDomainConflict asserts r is the CONFLICT on domain that names the
// domain and the environment, with no driver text.
func wantDomainConflict(t *testing.T, r *result, domain, environment string) {
	t.Helper()
	want := "domain " + domain + " is already registered to a " + environment + " tenant: a domain has at most one tenant per environment"
	if r.Code() != "CONFLICT" || r.Field() != "domain" || r.Errors[0].Message != want {
		t.Fatalf("got %s, want CONFLICT on domain: %q", r.Raw, want)
	}
	assertNoDriverText(t, r)
}

// TestTenantEnvironment: createTenant takes the environment (PRODUCTION by
// default) and every reader shows it; one domain has up to one tenant per
// environment, in createTenant (dry run too) and updateTenant; a deleted
// tenant keeps its pair; the admin list filters by environment.
func TestTenantEnvironment(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	domain := randomDomain()
	var prodID, qaID, devID string

	t.Run("DefaultProduction", func(t *testing.T) {
		r := e.withT(t).createIn("Env Co", domain, "", false)
		if got := dataAt(t, r, "createTenant.tenant.environment"); got != "PRODUCTION" {
			t.Fatalf("environment = %v, want PRODUCTION: %s", got, r.Raw)
		}
		prodID = dataAt(t, r, "createTenant.tenant.id").(string)
	})
	t.Run("SameDomainOtherEnvironments", func(t *testing.T) {
		for _, env := range []string{"QA", "DEVELOPMENT"} {
			r := e.withT(t).createIn("Env Co "+env, strings.ToUpper(domain), env, false)
			if dataAt(t, r, "createTenant.tenant.environment") != env || dataAt(t, r, "createTenant.tenant.domain") != domain {
				t.Fatalf("%s: %s", env, r.Raw)
			}
			if env == "QA" {
				qaID = dataAt(t, r, "createTenant.tenant.id").(string)
			} else {
				devID = dataAt(t, r, "createTenant.tenant.id").(string)
			}
		}
	})
	t.Run("ReadEverywhere", func(t *testing.T) {
		for id, want := range map[string]string{prodID: "PRODUCTION", qaID: "QA", devID: "DEVELOPMENT"} {
			if got := dataAt(t, e.withT(t).ask(testAdminSecret, qTenantEnv, map[string]any{"id": id}), "tenant.environment"); got != want {
				t.Errorf("tenant(%s).environment = %v, want %s", id, got, want)
			}
		}
		key := e.withT(t).createKey(qaID, "TENANT_READ")
		if got := dataAt(t, e.withT(t).ask(key, `{ me { domain environment } }`, nil), "me.environment"); got != "QA" {
			t.Errorf("me.environment = %v, want QA", got)
		}
	})
	t.Run("ErrSameDomainSameEnvironment", func(t *testing.T) {
		for _, env := range []string{"", "PRODUCTION", "QA"} {
			want := env
			if want == "" {
				want = "PRODUCTION"
			}
			wantDomainConflict(t, e.withT(t).createIn("Copy Co", domain, env, false), domain, want)
		}
	})
	t.Run("ErrDryRunConflict", func(t *testing.T) {
		wantDomainConflict(t, e.withT(t).createIn("Copy Co", domain, "DEVELOPMENT", true), domain, "DEVELOPMENT")
		r := e.withT(t).createIn("Dry Co", randomDomain(), "QA", true)
		if dataAt(t, r, "createTenant.dryRun") != true || dataAt(t, r, "createTenant.tenant") != nil || len(r.Errors) > 0 {
			t.Fatalf("dry run of a free pair: %s", r.Raw)
		}
	})
	t.Run("UpdateDomain", func(t *testing.T) {
		// A QA tenant of another domain moves to domain: its QA slot is
		// taken; a DEVELOPMENT tenant moves to a domain that has only a
		// PRODUCTION tenant: no conflict.
		other := randomDomain()
		otherQA := e.withT(t).createTenantIn("Other QA", other, "QA")
		upd := `mutation($t: ID!, $d: String!) { updateTenant(input: {tenantId: $t, domain: $d}) { tenant { domain environment version } } }`
		r := e.withT(t).ask(testAdminSecret, upd, map[string]any{"t": otherQA, "d": domain})
		wantDomainConflict(t, r, domain, "QA")
		// The tenant's own key asking (TENANT_UPDATE) gets the same answer.
		key := e.withT(t).createKey(otherQA, "TENANT_UPDATE", "TENANT_READ")
		wantDomainConflict(t, e.withT(t).ask(key, upd, map[string]any{"t": otherQA, "d": domain}), domain, "QA")
		if got := dataAt(t, e.withT(t).ask(testAdminSecret, qTenantEnv, map[string]any{"id": otherQA}), "tenant.domain"); got != other {
			t.Fatalf("the refused change was saved: domain %v", got)
		}
		prodOnly := randomDomain()
		e.withT(t).createTenant("Prod Only", prodOnly)
		otherDev := e.withT(t).createTenantIn("Other Dev", randomDomain(), "DEVELOPMENT")
		r = e.withT(t).ask(testAdminSecret, upd, map[string]any{"t": otherDev, "d": prodOnly})
		if dataAt(t, r, "updateTenant.tenant.domain") != prodOnly || dataAt(t, r, "updateTenant.tenant.environment") != "DEVELOPMENT" {
			t.Fatalf("moving a DEVELOPMENT tenant next to a PRODUCTION one: %s", r.Raw)
		}
	})
	t.Run("ErrEnvironmentFixed", func(t *testing.T) {
		r := e.withT(t).gql(testAdminSecret, `mutation($t: ID!) { updateTenant(input: {tenantId: $t, environment: QA}) { tenant { id } } }`, map[string]any{"t": prodID})
		if r.Code() != "GRAPHQL_VALIDATION_FAILED" || !strings.Contains(r.Errors[0].Message, `"environment"`) {
			t.Fatalf("updateTenant with environment: %s", r.Raw)
		}
	})
	t.Run("DeletedKeepsItsPair", func(t *testing.T) {
		d := randomDomain()
		id := e.withT(t).createTenantIn("Soon Gone", d, "QA")
		e.withT(t).mustGQL(testAdminSecret, `mutation($t: ID!) { deleteTenant(input: {tenantId: $t}) { tenant { status } } }`, map[string]any{"t": id}, nil)
		wantDomainConflict(t, e.withT(t).createIn("Taker", d, "QA", false), d, "QA")
		if r := e.withT(t).createIn("Taker", d, "PRODUCTION", false); len(r.Errors) > 0 {
			t.Fatalf("PRODUCTION next to a deleted QA tenant: %s", r.Raw)
		}
		if r := e.withT(t).ask(testAdminSecret, `mutation($t: ID!) { restoreTenant(input: {tenantId: $t}) { tenant { status environment } } }`, map[string]any{"t": id}); dataAt(t, r, "restoreTenant.tenant.environment") != "QA" {
			t.Fatalf("restore: %s", r.Raw)
		}
	})
	t.Run("Filter", func(t *testing.T) {
		q := `query($f: TenantFilter) { tenants(first: 10, filter: $f) { totalCount nodes { id environment } } }`
		for _, c := range []struct {
			envs []string
			want []string // ids, newest first
		}{
			{[]string{"QA"}, []string{qaID}},
			{[]string{"PRODUCTION", "DEVELOPMENT"}, []string{devID, prodID}},
			{nil, []string{devID, qaID, prodID}},
		} {
			f := map[string]any{"search": domain}
			if c.envs != nil {
				f["environment"] = c.envs
			}
			var out struct {
				Tenants struct {
					TotalCount int
					Nodes      []struct{ ID, Environment string }
				}
			}
			e.withT(t).mustGQL(testAdminSecret, q, map[string]any{"f": f}, &out)
			var got []string
			for _, n := range out.Tenants.Nodes {
				got = append(got, n.ID)
			}
			if out.Tenants.TotalCount != len(c.want) || strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Errorf("environment %v: %d %v, want %v", c.envs, out.Tenants.TotalCount, got, c.want)
			}
		}
	})
}

// TestCreateTenantRace: createTenants racing for one (domain, environment)
// leave exactly one tenant; every other gets the CONFLICT on domain, none
// an internal error. Racing for the same domain in different environments,
// all win.
func TestCreateTenantRace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	race := func(t *testing.T, domain string, envs []string) []*result {
		t.Helper()
		out := make([]*result, len(envs))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, env := range envs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				out[i] = e.withT(t).createIn("Racer", domain, env, false)
			}()
		}
		close(start)
		wg.Wait()
		return out
	}
	count := func(t *testing.T, domain string) int {
		var n int
		if err := e.raw().Get(&n, `SELECT count(*) FROM tenants WHERE domain = $1`, domain); err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("SamePair", func(t *testing.T) {
		domain := randomDomain()
		const n = 8
		envs := make([]string, n)
		for i := range envs {
			envs[i] = "QA"
		}
		won := 0
		for _, r := range race(t, domain, envs) {
			if r.Status != http.StatusOK {
				t.Fatalf("status %d: %s", r.Status, r.Raw)
			}
			if len(r.Errors) == 0 {
				won++
				continue
			}
			wantDomainConflict(t, r, domain, "QA")
		}
		if won != 1 || count(t, domain) != 1 {
			t.Fatalf("%d creations won and %d tenants exist, want exactly 1", won, count(t, domain))
		}
	})
	t.Run("OnePerEnvironment", func(t *testing.T) {
		domain := randomDomain()
		for _, r := range race(t, domain, []string{"DEVELOPMENT", "QA", "PRODUCTION"}) {
			if len(r.Errors) > 0 {
				t.Errorf("one tenant per environment refused: %s", r.Raw)
			}
		}
		if n := count(t, domain); n != 3 {
			t.Fatalf("%d tenants, want 3", n)
		}
	})
}

// TestSignInMethodsEnvironments: GET /auth/methods answers for every
// environment of the address's domain, always all three, each as a
// one-tenant domain would (password only where there is no tenant, a
// suspended or a deleted one, so the list tells no more than the login
// URLs of SSO tenants already do); ?environment= picks the top level.
func TestSignInMethodsEnvironments(t *testing.T) {
	t.Parallel()
	s := newSSOEnv(t)
	domain := randomDomain()
	prod := s.createTenant("Env Sign-in Co", domain)
	addPasswordMember(t, s.env, prod, "ana@"+domain, "ADMIN")
	qa := s.ssoTenantIn(t, domain, "QA", nil)
	dev := s.ssoTenantIn(t, domain, "DEVELOPMENT", map[string]any{"enforced": true})
	s.must(testAdminSecret, qTestSSO, ssoIn(map[string]any{"tenantId": dev}))
	login := func(id string) string { return s.srv.URL + "/auth/sso/" + id }
	per := map[string]map[string]any{
		"QA":          {"sso": login(qa)},
		"DEVELOPMENT": {"sso": login(dev), "password": false},
	}
	for _, c := range []struct{ name, email, env, top string }{
		{"Default", "ana@" + domain, "", "PRODUCTION"},
		{"Stranger", "nobody@" + domain, "", "PRODUCTION"},
		{"QA", "ana@" + domain, "QA", "QA"},
		{"LowerCase", "ana@" + strings.ToUpper(domain), "development", "DEVELOPMENT"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, got := s.withT(t).methodsIn(c.email, c.env)
			if want := signInAnswer(c.top, per); status != http.StatusOK || !equalJSON(got, want) {
				t.Fatalf("%d %v, want %v", status, got, want)
			}
		})
	}
	t.Run("UnknownDomain", func(t *testing.T) {
		status, got := s.withT(t).methodsIn("ana@"+randomDomain(), "QA")
		if want := signInAnswer("QA", nil); status != http.StatusOK || !equalJSON(got, want) {
			t.Fatalf("%d %v, want %v", status, got, want)
		}
	})
	t.Run("ErrEnvironment", func(t *testing.T) {
		status, got := s.withT(t).methodsIn("ana@"+domain, "STAGING")
		if status != http.StatusBadRequest || got["error"] != `environment must be DEVELOPMENT, QA or PRODUCTION, got "STAGING"` {
			t.Fatalf("%d %v, want 400 naming environment", status, got)
		}
	})
	t.Run("SuspendedAndDeletedLookUnknown", func(t *testing.T) {
		s.must(testAdminSecret, `mutation($t: ID!) { updateTenant(input: {tenantId: $t, status: SUSPENDED}) { tenant { status } } }`, map[string]any{"t": qa})
		s.must(testAdminSecret, `mutation($t: ID!) { deleteTenant(input: {tenantId: $t}) { tenant { status } } }`, map[string]any{"t": dev})
		status, got := s.withT(t).methods("ana@" + domain)
		if want := signInAnswer("PRODUCTION", nil); status != http.StatusOK || !equalJSON(got, want) {
			t.Fatalf("%d %v, want %v", status, got, want)
		}
	})
}

// TestLoginEnvironments: one address may be a member of its domain's
// tenants of several environments; login and requestPasswordReset pick
// the tenant by domain and environment (PRODUCTION by default), never
// another one: an environment without the member answers as a wrong
// password does.
func TestLoginEnvironments(t *testing.T) {
	t.Parallel()
	p := newPeopleEnv(t, envOptions{})
	domain := randomDomain()
	prod := p.createTenant("Env Login Co", domain)
	qa := p.createTenantIn("Env Login Co QA", domain, "QA")
	ana := "ana@" + domain
	addPasswordMember(t, p.env, prod, ana, "ADMIN")
	addPasswordMember(t, p.env, qa, ana, "VIEWER")
	addPasswordMember(t, p.env, qa, "bo@"+domain, "DEVELOPER") // only in QA
	login := func(t *testing.T, password string, in map[string]any) *result {
		in["password"] = password
		if in["email"] == nil {
			in["email"] = ana
		}
		return p.withT(t).ask("", qLogin, map[string]any{"in": in})
	}
	const refused = "email or password not recognised"
	for _, c := range []struct {
		name string
		in   map[string]any
		role string // "" for refused
	}{
		{"DefaultProduction", map[string]any{}, "ADMIN"},
		{"QA", map[string]any{"environment": "QA"}, "VIEWER"},
		{"DomainAndQA", map[string]any{"tenant": domain, "environment": "QA"}, "VIEWER"},
		{"IDAlone", map[string]any{"tenant": qa}, "VIEWER"},
		{"IDAndItsEnvironment", map[string]any{"tenant": qa, "environment": "QA"}, "VIEWER"},
		{"ErrIDInAnotherEnvironment", map[string]any{"tenant": qa, "environment": "PRODUCTION"}, ""},
		{"ErrNoTenantInEnvironment", map[string]any{"environment": "DEVELOPMENT"}, ""},
		{"ErrMemberOnlyInQA", map[string]any{"email": "bo@" + domain}, ""},
		{"MemberOnlyInQA", map[string]any{"email": "bo@" + domain, "environment": "QA"}, "DEVELOPER"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := login(t, testPassword, c.in)
			if c.role == "" {
				if r.Code() != "UNAUTHENTICATED" || r.Errors[0].Message != refused {
					t.Fatalf("got %s, want UNAUTHENTICATED %q", r.Raw, refused)
				}
				return
			}
			if got := dataAt(t, r, "login.member.role"); got != c.role {
				t.Fatalf("role %v, want %s: %s", got, c.role, r.Raw)
			}
		})
	}
	t.Run("PasswordReset", func(t *testing.T) {
		// The QA member's reset changes the QA password only.
		p := p.withT(t)
		r := p.ask("", `mutation($in: RequestPasswordResetInput!) { requestPasswordReset(input: $in) { accepted } }`,
			map[string]any{"in": map[string]any{"email": ana, "environment": "QA"}})
		if dataAt(t, r, "requestPasswordReset.accepted") != true {
			t.Fatalf("requestPasswordReset: %s", r.Raw)
		}
		tok := p.box.token(t, ana, "trs_")
		p.mustGQL("", `mutation($t: String!) { resetPassword(input: {token: $t, password: "a QA-only passphrase"}) { member { role } } }`, map[string]any{"t": tok}, nil)
		if got := dataAt(t, login(t, "a QA-only passphrase", map[string]any{"environment": "QA"}), "login.member.role"); got != "VIEWER" {
			t.Errorf("the QA member with the new password: %v", got)
		}
		if r := login(t, "a QA-only passphrase", map[string]any{}); r.Code() != "UNAUTHENTICATED" {
			t.Errorf("the PRODUCTION member with the QA password: %s", r.Raw)
		}
		if got := dataAt(t, login(t, testPassword, map[string]any{}), "login.member.role"); got != "ADMIN" {
			t.Errorf("the PRODUCTION member's password changed: %v", got)
		}
	})
}

// TestSSOLoginEnvironments: the tenants of one domain in two environments,
// each with SSO against the same identity provider: a login through one's
// URL provisions the member there only (just in time, with that
// configuration's default role); the other's URL provisions its own.
func TestSSOLoginEnvironments(t *testing.T) {
	t.Parallel()
	s := newSSOEnv(t)
	domain := randomDomain()
	prod := s.ssoTenantIn(t, domain, "", map[string]any{"defaultRole": "DEVELOPER"})
	qa := s.ssoTenantIn(t, domain, "QA", map[string]any{"defaultRole": "VIEWER"})
	email := "cy@" + domain
	s.idp.SetUser(email, "Cy Example")
	members := func(id string) int {
		var n int
		if err := s.env.raw().Get(&n, `SELECT count(*) FROM members WHERE tenant_id = $1 AND email = $2`, id, email); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, c := range []struct {
		name, id, role string
		prodN, qaN     int
	}{
		{"QAFirst", qa, "VIEWER", 0, 1},
		{"ThenProduction", prod, "DEVELOPER", 1, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := s.browser(t)
			if resp, body := b.signIn(c.id, "/"); resp.StatusCode != http.StatusFound {
				t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
			}
			if m, _ := b.viewer()["member"].(map[string]any); m["role"] != c.role {
				t.Fatalf("viewer member %v, want role %s", m, c.role)
			}
			if members(prod) != c.prodN || members(qa) != c.qaN {
				t.Fatalf("members: PRODUCTION %d, QA %d; want %d, %d", members(prod), members(qa), c.prodN, c.qaN)
			}
		})
	}
}
