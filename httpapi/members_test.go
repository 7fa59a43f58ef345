package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	netmail "net/mail"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"tenantapi/httpapi"
	"tenantapi/mail"
	"tenantapi/ratelimit"
	"tenantapi/tenant"
)

// mailbox records the emails the server sends (Config.Mailer).
type mailbox struct {
	mu    sync.Mutex
	mails []tenant.Mail
}

func (b *mailbox) Send(_ context.Context, m tenant.Mail) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.mails = append(b.mails, m)
	return nil
}

var mailTokenRE = regexp.MustCompile(`\b(tin|trs)_[A-Za-z0-9]{46}\b`)

// last returns the last email to addr.
func (b *mailbox) last(t testing.TB, addr string) tenant.Mail {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := len(b.mails) - 1; i >= 0; i-- {
		if b.mails[i].To == addr {
			return b.mails[i]
		}
	}
	t.Fatalf("no email to %s", addr)
	return tenant.Mail{}
}

// token returns the token of the last email to addr with prefix ("tin_",
// "trs_"), waiting a little for emails sent off the request.
func (b *mailbox) token(t testing.TB, addr, prefix string) string {
	t.Helper()
	for range 200 {
		b.mu.Lock()
		for i := len(b.mails) - 1; i >= 0; i-- {
			if b.mails[i].To == addr {
				for _, tok := range mailTokenRE.FindAllString(b.mails[i].Text, -1) {
					if strings.HasPrefix(tok, prefix) {
						b.mu.Unlock()
						return tok
					}
				}
			}
		}
		b.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no email to %s with a %s token", addr, prefix)
	return ""
}

func (b *mailbox) count(addr string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, m := range b.mails {
		if m.To == addr {
			n++
		}
	}
	return n
}

// clock is a store clock tests move by hand.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}
func (c *clock) now() time.Time              { return time.Unix(0, c.ns.Load()) }
func (c *clock) advance(d time.Duration)     { c.ns.Add(int64(d)) }
func (c *clock) set(e *env, d time.Duration) { c.advance(d); e.store.WaitBackground() }

const testPassword = "correct horse battery staple"

type peopleEnv struct {
	*env
	box *mailbox
}

func newPeopleEnv(t *testing.T, o envOptions) *peopleEnv {
	t.Helper()
	box := &mailbox{}
	edit := o.config
	o.config = func(c *httpapi.Config) {
		c.Mailer = box
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
		httpapi.SetWebsocketTimers(c, 300*time.Millisecond, 100*time.Millisecond)
		if edit != nil {
			edit(c)
		}
	}
	return &peopleEnv{env: buildEnv(t, o), box: box}
}

const (
	qInvite = `mutation($in: InviteMemberInput!) { inviteMember(input: $in) { emailSent member { id email role status invitedBy } } }`
	qAccept = `mutation($in: AcceptInvitationInput!) { acceptInvitation(input: $in) { token session { id } member { id role status } } }`
	qLogin  = `mutation($in: LoginInput!) { login(input: $in) { token session { id method } member { id email role lastLoginMethod } } }`
)

// invite invites email into tenantID with role as token's holder and
// returns the member id.
func (p *peopleEnv) invite(token, tenantID, email, role string) string {
	p.t.Helper()
	var out struct {
		InviteMember struct{ Member struct{ ID string } }
	}
	in := map[string]any{"email": email, "role": role}
	if tenantID != "" {
		in["tenantId"] = tenantID
	}
	p.mustGQL(token, qInvite, map[string]any{"in": in}, &out)
	return out.InviteMember.Member.ID
}

// member invites email with role into tenantID (as the operator), accepts
// the emailed invitation and returns the session token and member id.
func (p *peopleEnv) member(tenantID, email, role string) (string, string) {
	p.t.Helper()
	id := p.invite(testAdminSecret, tenantID, email, role)
	return p.accept(p.box.token(p.t, email, "tin_")), id
}

func (p *peopleEnv) accept(invitation string) string {
	p.t.Helper()
	var out struct{ AcceptInvitation struct{ Token string } }
	p.mustGQL("", qAccept, map[string]any{"in": map[string]any{"token": invitation, "name": "Ana Example", "password": testPassword}}, &out)
	return out.AcceptInvitation.Token
}

func (p *peopleEnv) login(email, password, from string) *result {
	p.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": qLogin, "variables": map[string]any{"in": map[string]any{"email": email, "password": password}}})
	req, _ := http.NewRequest(http.MethodPost, p.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if from != "" {
		req.Header.Set("X-Forwarded-For", from)
	}
	return p.do(req)
}

// TestRolePermissions: a member's permissions are exactly their role's
// row of the table, and @hasPermission refuses the rest as it refuses a
// key: a VIEWER gets billing null with FORBIDDEN, like a key without
// BILLING_READ.
func TestRolePermissions(t *testing.T) {
	t.Parallel()
	p := newPeopleEnv(t, envOptions{})
	domain := randomDomain()
	var created struct {
		CreateTenant struct{ Tenant struct{ ID string } }
	}
	p.mustGQL(testAdminSecret, `mutation($in: CreateTenantInput!) { createTenant(input: $in) { tenant { id } } }`,
		map[string]any{"in": map[string]any{"name": "Roles Co", "domain": domain, "plan": "professional", "ownerEmail": "Boss@" + domain}}, &created)
	tid := created.CreateTenant.Tenant.ID

	// The owner recorded at creation is the OWNER member, INVITED.
	var list struct {
		Tenant struct {
			Members struct {
				TotalCount int
				Nodes      []struct{ ID, Email, Role, Status string }
			}
		}
	}
	p.mustGQL(testAdminSecret, `query($id: ID!) { tenant(id: $id) { members { totalCount nodes { id email role status } } } }`, map[string]any{"id": tid}, &list)
	if n := list.Tenant.Members.Nodes; len(n) != 1 || n[0].Role != "OWNER" || n[0].Status != "INVITED" || n[0].Email != "boss@"+domain {
		t.Fatalf("members after createTenant = %+v, want the owner, INVITED", n)
	}
	p.mustGQL(testAdminSecret, `mutation($id: ID!) { resendInvitation(input: {id: $id}) { emailSent } }`, map[string]any{"id": list.Tenant.Members.Nodes[0].ID}, nil)
	sessions := map[tenant.Role]string{tenant.RoleOwner: p.accept(p.box.token(t, "boss@"+domain, "tin_"))}
	for _, r := range tenant.Roles[1:] {
		sessions[r], _ = p.member(tid, strings.ToLower(string(r))+"@"+domain, string(r))
	}
	for _, r := range tenant.Roles {
		t.Run(string(r), func(t *testing.T) {
			var v struct {
				Viewer struct {
					Kind        string
					TenantID    string
					Permissions []string
					Member      struct{ Role string }
				}
			}
			p.withT(t).mustGQL(sessions[r], `{ viewer { kind tenantId permissions member { role } } }`, nil, &v)
			want := enumNames(r.Permissions())
			if v.Viewer.Kind != "MEMBER" || v.Viewer.TenantID != tid || v.Viewer.Member.Role != string(r) || !slices.Equal(v.Viewer.Permissions, want) {
				t.Fatalf("viewer = %+v, want MEMBER of %s with %v", v.Viewer, tid, want)
			}
			// Every gated field in the table answers by the same rule as for a key.
			res := p.withT(t).gql(sessions[r], `{ me { name billing { plan { id } } } }`, nil)
			holds := slices.Contains(r.Permissions(), tenant.PermBillingRead)
			if got := res.Code(); holds && got != "" || !holds && got != "FORBIDDEN" {
				t.Fatalf("billing as %s: %s", r, res.Raw)
			}
		})
	}
	// A VIEWER session and a key without BILLING_READ get the same answer.
	key := p.createKey(tid, enumNames(tenant.RoleViewer.Permissions())...)
	a := p.gql(sessions[tenant.RoleViewer], `{ me { name billing { plan { id } } } }`, nil)
	b := p.gql(key, `{ me { name billing { plan { id } } } }`, nil)
	if a.Code() != "FORBIDDEN" || b.Code() != "FORBIDDEN" || string(a.Data) != string(b.Data) || !strings.Contains(string(a.Data), `"billing":null`) {
		t.Fatalf("VIEWER session: %s\nkey without BILLING_READ: %s", a.Raw, b.Raw)
	}
	if !strings.Contains(a.Errors[0].Message, "VIEWER role") {
		t.Fatalf("the refusal should name the role: %s", a.Raw)
	}
	t.Run("NoGrantAboveOwnRole", func(t *testing.T) {
		pt := p.withT(t)
		// ADMIN lacks TENANT_DELETE, which only OWNER holds; OWNER is never granted.
		r := pt.gql(sessions[tenant.RoleAdmin], qInvite, map[string]any{"in": map[string]any{"email": "x@" + domain, "role": "OWNER"}})
		if r.Code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "transferOwnership") {
			t.Fatalf("ADMIN inviting an OWNER: %s", r.Raw)
		}
		// A key holding MEMBERS_WRITE but not BILLING_UPDATE cannot make a BILLING member.
		k := pt.createKey(tid, "MEMBERS_WRITE", "TENANT_READ")
		r = pt.gql(k, qInvite, map[string]any{"in": map[string]any{"email": "y@" + domain, "role": "BILLING"}})
		if r.Code() != "FORBIDDEN" || !strings.Contains(r.Errors[0].Message, "above their own") {
			t.Fatalf("key inviting a BILLING member: %s", r.Raw)
		}
		// DEVELOPER holds no MEMBERS_WRITE.
		r = pt.gql(sessions[tenant.RoleDeveloper], qInvite, map[string]any{"in": map[string]any{"email": "z@" + domain, "role": "VIEWER"}})
		if r.Code() != "FORBIDDEN" {
			t.Fatalf("DEVELOPER inviting: %s", r.Raw)
		}
		// The owner is neither demoted nor deactivated: the last owner stays.
		ownerID := list.Tenant.Members.Nodes[0].ID
		for _, q := range []string{`mutation($id: ID!) { deactivateMember(input: {id: $id}) { member { id } } }`,
			`mutation($id: ID!) { updateMemberRole(input: {id: $id, role: ADMIN}) { member { id } } }`} {
			if r := pt.gql(testAdminSecret, q, map[string]any{"id": ownerID}); r.Code() != "CONFLICT" || !strings.Contains(r.Errors[0].Message, "transferOwnership") {
				t.Fatalf("removing the owner: %s", r.Raw)
			}
		}
	})
	t.Run("TransferOwnership", func(t *testing.T) {
		pt := p.withT(t)
		var admin struct {
			Viewer struct{ Member struct{ ID string } }
		}
		pt.mustGQL(sessions[tenant.RoleAdmin], `{ viewer { member { id } } }`, nil, &admin)
		q := `mutation($id: ID!) { transferOwnership(input: {memberId: $id}) { owner { email role } previousOwner { email role } } }`
		if r := pt.gql(sessions[tenant.RoleAdmin], q, map[string]any{"id": admin.Viewer.Member.ID}); r.Code() != "FORBIDDEN" {
			t.Fatalf("an ADMIN taking ownership: %s", r.Raw)
		}
		var out struct {
			TransferOwnership struct{ Owner, PreviousOwner struct{ Email, Role string } }
		}
		pt.mustGQL(sessions[tenant.RoleOwner], q, map[string]any{"id": admin.Viewer.Member.ID}, &out)
		if o := out.TransferOwnership; o.Owner.Role != "OWNER" || o.Owner.Email != "admin@"+domain || o.PreviousOwner.Role != "ADMIN" {
			t.Fatalf("transfer = %+v", o)
		}
		var me struct {
			Me struct{ Owner struct{ Email string } }
		}
		pt.mustGQL(sessions[tenant.RoleAdmin], `{ me { owner { email } } }`, nil, &me)
		if me.Me.Owner.Email != "admin@"+domain {
			t.Fatalf("Tenant.owner.email = %q after the transfer", me.Me.Owner.Email)
		}
		var owners int
		if err := p.raw().Get(&owners, `SELECT count(*) FROM members WHERE tenant_id = $1 AND role = 'OWNER'`, tid); err != nil || owners != 1 {
			t.Fatalf("owners = %d, %v", owners, err)
		}
	})
}

// TestMemberIsolation: a member of A never reads or acts on B, and every
// person's token is stored only as its hash.
func TestMemberIsolation(t *testing.T) {
	t.Parallel()
	p := newPeopleEnv(t, envOptions{})
	a, b := p.createTenant("A Co", randomDomain()), p.createTenant("B Co", randomDomain())
	adminA, _ := p.member(a, "admin@a.example", "ADMIN")
	sessB, memberB := p.member(b, "admin@b.example", "ADMIN")
	var sb struct {
		Viewer struct{ Session struct{ ID string } }
	}
	p.mustGQL(sessB, `{ viewer { session { id } } }`, nil, &sb)

	cases := []struct {
		name, query string
		vars        map[string]any
	}{
		{"ReadTenant", `query($id: ID!) { tenant(id: $id) { id } }`, map[string]any{"id": b}},
		{"Invite", qInvite, map[string]any{"in": map[string]any{"tenantId": b, "email": "x@b.example", "role": "VIEWER"}}},
		{"Deactivate", `mutation($id: ID!) { deactivateMember(input: {id: $id}) { member { id } } }`, map[string]any{"id": memberB}},
		{"UpdateRole", `mutation($id: ID!) { updateMemberRole(input: {id: $id, role: VIEWER}) { member { id } } }`, map[string]any{"id": memberB}},
		{"RevokeSession", `mutation($id: ID!) { revokeSession(input: {id: $id}) { session { id } } }`, map[string]any{"id": sb.Viewer.Session.ID}},
		{"Transfer", `mutation($id: ID!) { transferOwnership(input: {memberId: $id}) { owner { id } } }`, map[string]any{"id": memberB}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if r := p.withT(t).gql(adminA, c.query, c.vars); r.Code() != "NOT_FOUND" {
				t.Fatalf("a member of A on B: %s", r.Raw)
			}
		})
	}
	if r := p.gql(sessB, `{ viewer { member { id status } } }`, nil); !strings.Contains(string(r.Data), `"ACTIVE"`) {
		t.Fatalf("B's member was changed: %s", r.Raw)
	}
	t.Run("TokensHashed", func(t *testing.T) {
		inv := p.invite(testAdminSecret, a, "new@a.example", "VIEWER")
		tok := p.box.token(t, "new@a.example", "tin_")
		for _, c := range []struct{ table, token string }{{"sessions", adminA}, {"member_tokens", tok}} {
			h := sha256.Sum256([]byte(c.token))
			var n int
			if err := p.raw().Get(&n, `SELECT count(*) FROM `+c.table+` WHERE token_hash = $1`, h[:]); err != nil || n != 1 {
				t.Fatalf("%s: %d rows by hash, %v", c.table, n, err)
			}
			if err := p.raw().Get(&n, `SELECT count(*) FROM `+c.table+` x WHERE x::text LIKE '%' || $1 || '%'`, c.token[4:20]); err != nil || n != 0 {
				t.Fatalf("%s holds the token in clear: %d rows, %v", c.table, n, err)
			}
		}
		var pw string
		if err := p.raw().Get(&pw, `SELECT password_hash FROM members WHERE email = 'admin@a.example'`); err != nil || !strings.HasPrefix(pw, "$argon2id$v=19$m=19456,t=2,p=1$") {
			t.Fatalf("password_hash = %q, %v", pw, err)
		}
		var audit int
		if err := p.raw().Get(&audit, `SELECT count(*) FROM audit_log WHERE changes::text LIKE '%argon2id%'`); err != nil || audit != 0 {
			t.Fatalf("the audit log holds %d password hashes (%v)", audit, err)
		}
		_ = inv
	})
}

// TestInvitations: an invitation works once, expires, can be revoked and
// resent (the old link then stops working), and the member cap names its
// limit.
func TestInvitations(t *testing.T) {
	t.Parallel()
	clk := newClock()
	p := newPeopleEnv(t, envOptions{now: clk.now, config: func(c *httpapi.Config) { c.MaxMembers = 3 }})
	tid := p.createTenant("Invite Co", randomDomain())
	acceptVars := func(tok string) map[string]any {
		return map[string]any{"in": map[string]any{"token": tok, "name": "Bo", "password": testPassword}}
	}
	t.Run("SingleUse", func(t *testing.T) {
		pt := p.withT(t)
		pt.invite(testAdminSecret, tid, "once@x.example", "VIEWER")
		tok := p.box.token(t, "once@x.example", "tin_")
		pt.accept(tok)
		if r := pt.gql("", qAccept, acceptVars(tok)); r.Code() != "UNAUTHENTICATED" {
			t.Fatalf("second use: %s", r.Raw)
		}
	})
	t.Run("ResendAndRevoke", func(t *testing.T) {
		pt := p.withT(t)
		id := pt.invite(testAdminSecret, tid, "twice@x.example", "VIEWER")
		old := p.box.token(t, "twice@x.example", "tin_")
		pt.mustGQL(testAdminSecret, `mutation($id: ID!) { resendInvitation(input: {id: $id}) { emailSent } }`, map[string]any{"id": id}, nil)
		fresh := p.box.token(t, "twice@x.example", "tin_")
		if fresh == old || p.box.count("twice@x.example") != 2 {
			t.Fatal("resendInvitation sent no new token")
		}
		if r := pt.gql("", qAccept, acceptVars(old)); r.Code() != "UNAUTHENTICATED" {
			t.Fatalf("the replaced token: %s", r.Raw)
		}
		pt.mustGQL(testAdminSecret, `mutation($id: ID!) { revokeInvitation(input: {id: $id}) { member { id } } }`, map[string]any{"id": id}, nil)
		if r := pt.gql("", qAccept, acceptVars(fresh)); r.Code() != "UNAUTHENTICATED" {
			t.Fatalf("a revoked invitation: %s", r.Raw)
		}
	})
	t.Run("Expiry", func(t *testing.T) {
		pt := p.withT(t)
		pt.invite(testAdminSecret, tid, "late@x.example", "VIEWER")
		tok := p.box.token(t, "late@x.example", "tin_")
		clk.advance(tenant.InvitationTTL + time.Second)
		if r := pt.gql("", qAccept, acceptVars(tok)); r.Code() != "UNAUTHENTICATED" || !strings.Contains(r.Errors[0].Message, "expired") {
			t.Fatalf("an expired invitation: %s", r.Raw)
		}
	})
	t.Run("MembersMax", func(t *testing.T) {
		// once, late (and the revoked one is gone): a third fills the cap.
		p.withT(t).invite(testAdminSecret, tid, "third@x.example", "VIEWER")
		r := p.withT(t).gql(testAdminSecret, qInvite, map[string]any{"in": map[string]any{"tenantId": tid, "email": "fourth@x.example", "role": "VIEWER"}})
		if r.Code() != "CONFLICT" || !strings.Contains(r.Errors[0].Message, "MEMBERS_MAX") || !strings.Contains(r.Errors[0].Message, "3 members") {
			t.Fatalf("past the cap: %s", r.Raw)
		}
	})
}

// TestLoginThrottle: wrong passwords from one address slow that address
// down on that account, without checking the password any more, while the
// right password from another address still signs in.
func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	p := newPeopleEnv(t, envOptions{config: func(c *httpapi.Config) {
		c.RateLimiter, c.LoginPerMinute = ratelimit.NewMemory(ratelimit.MemoryOptions{}), 3
	}})
	domain := randomDomain()
	tid := p.createTenant("Throttle Co", domain)
	p.member(tid, "ana@"+domain, "VIEWER")
	for i := range 3 {
		if r := p.login("ana@"+domain, "wrong password!!", "203.0.113.9"); r.Code() != "UNAUTHENTICATED" || r.Errors[0].Message != "email or password not recognised" {
			t.Fatalf("attempt %d: %s", i, r.Raw)
		}
	}
	if r := p.login("ana@"+domain, testPassword, "203.0.113.9"); r.Code() != "RATE_LIMITED" {
		t.Fatalf("the attacker's address, right password: %s", r.Raw)
	}
	if r := p.login("ana@"+domain, testPassword, "198.51.100.7"); r.Code() != "" {
		t.Fatalf("the member from elsewhere was locked out: %s", r.Raw)
	}
	// An unknown address answers exactly as a wrong password.
	if r := p.login("nobody@"+domain, testPassword, "198.51.100.8"); r.Code() != "UNAUTHENTICATED" || r.Errors[0].Message != "email or password not recognised" {
		t.Fatalf("unknown address: %s", r.Raw)
	}
}

// TestPasswordReset: the request answers the same for any address; the
// emailed token works once, sets the password and ends every session;
// changePassword ends the other sessions only.
func TestPasswordReset(t *testing.T) {
	t.Parallel()
	p := newPeopleEnv(t, envOptions{})
	domain := randomDomain()
	tid := p.createTenant("Reset Co", domain)
	first, _ := p.member(tid, "ana@"+domain, "VIEWER")
	const q = `mutation($e: String!) { requestPasswordReset(input: {email: $e}) { accepted } }`
	for _, addr := range []string{"ana@" + domain, "nobody@" + domain} {
		r := p.gql("", q, map[string]any{"e": addr})
		if r.Code() != "" || string(r.Data) != `{"requestPasswordReset":{"accepted":true}}` {
			t.Fatalf("requestPasswordReset(%s): %s", addr, r.Raw)
		}
	}
	tok := p.box.token(t, "ana@"+domain, "trs_")
	const reset = `mutation($t: String!, $p: String!) { resetPassword(input: {token: $t, password: $p}) { member { id } } }`
	p.mustGQL("", reset, map[string]any{"t": tok, "p": "a brand new passphrase"}, nil)
	if r := p.gql("", reset, map[string]any{"t": tok, "p": "another new passphrase"}); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("the reset token twice: %s", r.Raw)
	}
	if r := p.gql(first, `{ viewer { kind } }`, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("a session from before the reset: %d %s", r.Status, r.Raw)
	}
	if r := p.login("ana@"+domain, testPassword, ""); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("the old password: %s", r.Raw)
	}
	var s1, s2 struct{ Login struct{ Token string } }
	p.login("ana@"+domain, "a brand new passphrase", "").Decode(t, &s1)
	p.login("ana@"+domain, "a brand new passphrase", "").Decode(t, &s2)
	p.mustGQL(s1.Login.Token, `mutation { changePassword(input: {currentPassword: "a brand new passphrase", newPassword: "third passphrase here"}) { member { id } } }`, nil, nil)
	if r := p.gql(s2.Login.Token, `{ viewer { kind } }`, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("the other session after changePassword: %d %s", r.Status, r.Raw)
	}
	p.mustGQL(s1.Login.Token, `{ viewer { kind } }`, nil, nil)
}

// TestSessionExpiry: a session ends after the idle timeout without use and
// after the absolute lifetime whatever its use, by the store's clock.
func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	clk := newClock()
	p := newPeopleEnv(t, envOptions{now: clk.now})
	p.store.Sessions = tenant.SessionPolicy{Idle: 30 * time.Minute, MaxAge: 2 * time.Hour}
	domain := randomDomain()
	tid := p.createTenant("Expiry Co", domain)
	tok, _ := p.member(tid, "ana@"+domain, "VIEWER")
	use := func() *result { return p.gql(tok, `{ viewer { session { id } } }`, nil) }
	for i := range 5 { // 5 × 25 min of steady use: past 2 h in all
		clk.set(p.env, 25*time.Minute)
		r := use()
		p.store.WaitBackground()
		if i < 4 && r.Status != http.StatusOK {
			t.Fatalf("a session in use, after %d min: %s", (i+1)*25, r.Raw)
		}
		if i == 4 && (r.Status != http.StatusUnauthorized || !strings.Contains(string(r.Raw), "SESSION_MAX_AGE")) {
			t.Fatalf("after 125 min (max age 2 h): %d %s", r.Status, r.Raw)
		}
	}
	tok2 := p.login("ana@"+domain, testPassword, "")
	var s struct{ Login struct{ Token string } }
	tok2.Decode(t, &s)
	clk.set(p.env, 31*time.Minute)
	if r := p.gql(s.Login.Token, `{ viewer { kind } }`, nil); r.Status != http.StatusUnauthorized || !strings.Contains(string(r.Raw), "SESSION_IDLE_TIMEOUT") {
		t.Fatalf("after 31 idle minutes: %d %s", r.Status, r.Raw)
	}
}

// TestSessionCookieCSRF: a cookie session works from this origin with the
// custom header, and a request from another origin is refused before
// anything runs.
func TestSessionCookieCSRF(t *testing.T) {
	t.Parallel()
	p := newPeopleEnv(t, envOptions{})
	domain := randomDomain()
	tid := p.createTenant("Cookie Co", domain)
	p.member(tid, "ana@"+domain, "ADMIN")
	r := p.gql("", qLogin, map[string]any{"in": map[string]any{"email": "ana@" + domain, "password": testPassword, "cookie": true}})
	if r.Code() != "" || !strings.Contains(string(r.Data), `"token":null`) {
		t.Fatalf("cookie login: %s", r.Raw)
	}
	sc := r.Header.Get("Set-Cookie")
	for _, want := range []string{"__Host-tenant_session=tss_", "Path=/", "HttpOnly", "Secure", "SameSite=Lax"} {
		if !strings.Contains(sc, want) {
			t.Fatalf("Set-Cookie %q lacks %s", sc, want)
		}
	}
	cookie := strings.SplitN(sc, ";", 2)[0]
	send := func(hdr map[string]string, query string) *result {
		body, _ := json.Marshal(map[string]any{"query": query})
		req, _ := http.NewRequest(http.MethodPost, p.srv.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Cookie", cookie)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		return p.do(req)
	}
	invite := `mutation { inviteMember(input: {email: "victim@` + domain + `", role: ADMIN}) { member { id } } }`
	if r := send(map[string]string{"X-Requested-With": "fetch", "Origin": p.srv.URL}, `{ viewer { kind } }`); string(r.Data) != `{"viewer":{"kind":"MEMBER"}}` {
		t.Fatalf("same origin: %d %s", r.Status, r.Raw)
	}
	for name, hdr := range map[string]map[string]string{
		"OtherOrigin":    {"X-Requested-With": "fetch", "Origin": "https://evil.example"},
		"NoCustomHeader": {"Origin": p.srv.URL},
		"FormPost":       {"Content-Type": "text/plain"},
		"CrossSiteFetch": {"X-Requested-With": "fetch", "Sec-Fetch-Site": "cross-site"},
		"NullOrigin":     {"X-Requested-With": "fetch", "Origin": "null"},
	} {
		t.Run(name, func(t *testing.T) {
			r := send(hdr, invite)
			if r.Status == http.StatusUnsupportedMediaType && name == "FormPost" {
				return // refused even before: no form body is ever read
			}
			if r.Status != http.StatusForbidden || !strings.Contains(string(r.Raw), "cross-site request refused") {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
		})
	}
	var n int
	if err := p.raw().Get(&n, `SELECT count(*) FROM members WHERE email = $1`, "victim@"+domain); err != nil || n != 0 {
		t.Fatalf("the cross-site invitation was saved: %d, %v", n, err)
	}
	t.Run("WebsocketOtherOrigin", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h := http.Header{"Cookie": {cookie}, "Origin": {"https://app.example.com"}} // a CORS origin, but not this one
		conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(p.srv.URL, "http")+"/graphql",
			&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: h})
		if err == nil {
			conn.CloseNow()
			t.Fatal("a cross-site websocket with the session cookie was accepted")
		}
		if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("handshake: %v", err)
		}
	})
	r = send(map[string]string{"X-Requested-With": "fetch"}, `mutation { logout { session { revokedAt } } }`)
	if r.Code() != "" || !strings.Contains(r.Header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("logout: %s %v", r.Raw, r.Header)
	}
	if r := send(map[string]string{"X-Requested-With": "fetch"}, `{ viewer { kind } }`); r.Status != http.StatusUnauthorized {
		t.Fatalf("after logout: %d %s", r.Status, r.Raw)
	}
}

// TestSessionsEnd: deactivating the member, suspending the tenant or an
// allowlist that leaves their address out ends a session at once, open
// websockets included, and for good: restoring the tenant or clearing the
// allowlist does not bring the session back.
func TestSessionsEnd(t *testing.T) {
	t.Parallel()
	p := newPeopleEnv(t, envOptions{})
	for _, c := range []struct {
		name, mutation string
		status         int
		reason         string
	}{
		{"Deactivate", `mutation($m: ID!) { deactivateMember(input: {id: $m}) { member { status } } }`, http.StatusUnauthorized, "deactivated"},
		{"Suspend", `mutation($t: ID!) { updateTenant(input: {tenantId: $t, status: SUSPENDED}) { tenant { status } } }`, http.StatusUnauthorized, "the tenant suspended"},
		{"Allowlist", `mutation($t: ID!) { updateTenantSettings(input: {tenantId: $t, ipAllowlist: ["192.0.2.0/24"]}) { tenant { id } } }`, http.StatusUnauthorized, "IP allowlist"},
	} {
		t.Run(c.name, func(t *testing.T) {
			pt := p.withT(t)
			domain := randomDomain()
			tid := pt.createTenant("End Co", domain)
			tok, mid := pt.member(tid, "ana@"+domain, "VIEWER")
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			ws := pt.dialWS(t, ctx, nil, fmt.Sprintf(`{"Authorization": "Bearer %s"}`, tok))
			if got := string(ws.operation("1", `{ viewer { kind } }`)); !strings.Contains(got, "MEMBER") {
				t.Fatalf("websocket before: %s", got)
			}
			vars := map[string]any{"t": tid}
			if strings.Contains(c.mutation, "$m") {
				vars = map[string]any{"m": mid}
			}
			r := pt.gql(testAdminSecret, c.mutation, vars)
			if r.Code() != "" {
				t.Fatalf("%s: %s", c.name, r.Raw)
			}
			if r := pt.gql(tok, `{ viewer { kind } }`, nil); r.Status != c.status || !strings.Contains(string(r.Raw), c.reason) {
				t.Fatalf("HTTP after %s: %d %s", c.name, r.Status, r.Raw)
			}
			ws.send("2", `{ viewer { kind } }`)
			wsReason := c.reason
			if c.status == http.StatusUnauthorized && c.name != "Deactivate" {
				wsReason = "session ended" // a close reason is cut at 123 bytes
			}
			if code, reason := closedWith(t, ctx, ws.conn); code != 4403 || !strings.Contains(reason, wsReason) {
				t.Fatalf("websocket after %s: closed with %d %q", c.name, code, reason)
			}
			// Undone, the authority does not revive the ended session.
			undo := map[string]string{
				"Suspend":   `mutation($t: ID!) { updateTenant(input: {tenantId: $t, status: ACTIVE}) { tenant { status } } }`,
				"Allowlist": `mutation($t: ID!) { updateTenantSettings(input: {tenantId: $t, ipAllowlist: []}) { tenant { id } } }`,
			}[c.name]
			if undo != "" {
				if r := pt.gql(testAdminSecret, undo, vars); r.Code() != "" {
					t.Fatalf("undoing %s: %s", c.name, r.Raw)
				}
				if r := pt.gql(tok, `{ viewer { kind } }`, nil); r.Status != http.StatusUnauthorized {
					t.Fatalf("the session after undoing %s: %d %s", c.name, r.Status, r.Raw)
				}
			}
		})
	}
}

// memberPermissionCases are the permission table's rows of the people
// mutations and Tenant.members (permissions_test.go).
func memberPermissionCases() []permCase {
	randomID := func(*fixture) map[string]any { return map[string]any{"id": "8f0a4d52-5b7e-4c4e-9d2f-0c6b1e7a9f31"} }
	inviteVars := func(f *fixture) map[string]any {
		in := map[string]any{"email": "new." + randomDomain() + "@example.com", "role": "VIEWER"}
		if f.target != f.own {
			in["tenantId"] = f.target
		}
		return map[string]any{"in": in}
	}
	viewerPerms := enumNames(tenant.RoleViewer.Permissions())
	idMutation := func(op string) []permCase {
		q := `mutation($id: ID!) { ` + op + `(input: {id: $id}) { member { id } } }`
		return []permCase{
			{op: op, cred: credAnonymous, query: q, vars: randomID, want: "UNAUTHENTICATED"},
			{op: op, cred: keyWith("TENANT_READ"), query: q, vars: randomID, want: "FORBIDDEN", message: "MEMBERS_WRITE"},
			{op: op, cred: keyWith("MEMBERS_WRITE"), query: q, vars: randomID, want: "NOT_FOUND"},
			{op: op, cred: credAdmin, query: q, vars: randomID, want: "NOT_FOUND"},
		}
	}
	cases := []permCase{
		{op: "inviteMember", cred: credAnonymous, query: qInvite, vars: inviteVars, want: "UNAUTHENTICATED"},
		{op: "inviteMember", cred: keyWith("TENANT_READ"), query: qInvite, vars: inviteVars, want: "FORBIDDEN", message: "MEMBERS_WRITE"},
		{op: "inviteMember", cred: keyWith("MEMBERS_WRITE"), query: qInvite, vars: inviteVars, want: "FORBIDDEN", message: "above their own"},
		{op: "inviteMember", cred: keyWith(append([]string{"MEMBERS_WRITE"}, viewerPerms...)...), query: qInvite, vars: inviteVars,
			check: wantAt("inviteMember.member.status", value("INVITED"))},
		{op: "inviteMember", cred: credAdmin, query: qInvite, vars: inviteVars, check: wantAt("inviteMember.member.invitedBy", value("admin"))},
		{op: "updateMemberRole", cred: credAnonymous, query: `mutation($id: ID!) { updateMemberRole(input: {id: $id, role: VIEWER}) { member { id } } }`, vars: randomID, want: "UNAUTHENTICATED"},
		{op: "updateMemberRole", cred: keyWith("TENANT_READ"), query: `mutation($id: ID!) { updateMemberRole(input: {id: $id, role: VIEWER}) { member { id } } }`, vars: randomID, want: "FORBIDDEN", message: "MEMBERS_WRITE"},
		{op: "updateMemberRole", cred: credAdmin, query: `mutation($id: ID!) { updateMemberRole(input: {id: $id, role: VIEWER}) { member { id } } }`, vars: randomID, want: "NOT_FOUND"},
		{op: "transferOwnership", cred: credAnonymous, query: `mutation($id: ID!) { transferOwnership(input: {memberId: $id}) { owner { id } } }`, vars: randomID, want: "UNAUTHENTICATED"},
		{op: "transferOwnership", cred: credAdmin, query: `mutation($id: ID!) { transferOwnership(input: {memberId: $id}) { owner { id } } }`, vars: randomID, want: "NOT_FOUND"},
		{op: "revokeSession", cred: credAnonymous, query: `mutation($id: ID!) { revokeSession(input: {id: $id}) { session { id } } }`, vars: randomID, want: "UNAUTHENTICATED"},
		{op: "revokeSession", cred: keyWith("MEMBERS_WRITE"), query: `mutation($id: ID!) { revokeSession(input: {id: $id}) { session { id } } }`, vars: randomID, want: "NOT_FOUND"},
		{op: "logout", cred: credAnonymous, query: `mutation { logout { session { id } } }`, want: "UNAUTHENTICATED"},
		{op: "logout", cred: keyWith("TENANT_READ"), query: `mutation { logout { session { id } } }`, want: "FORBIDDEN"},
		{op: "changePassword", cred: credAnonymous, query: `mutation { changePassword(input: {currentPassword: "x", newPassword: "yyyyyyyyyyyyyy"}) { member { id } } }`, want: "UNAUTHENTICATED"},
		{op: "changePassword", cred: keyWith("TENANT_READ"), query: `mutation { changePassword(input: {currentPassword: "x", newPassword: "yyyyyyyyyyyyyy"}) { member { id } } }`, want: "FORBIDDEN"},
		{op: "login", cred: credAnonymous, query: qLogin, vars: func(*fixture) map[string]any {
			return map[string]any{"in": map[string]any{"email": "nobody@example.com", "password": "whatever password"}}
		}, want: "UNAUTHENTICATED"},
		{op: "acceptInvitation", cred: credAnonymous, query: qAccept, vars: func(*fixture) map[string]any {
			return map[string]any{"in": map[string]any{"token": tenant.NewInvitationToken(), "name": "X", "password": testPassword}}
		}, want: "UNAUTHENTICATED"},
		{op: "requestPasswordReset", cred: credAnonymous, query: `mutation { requestPasswordReset(input: {email: "nobody@example.com"}) { accepted } }`,
			check: wantAt("requestPasswordReset.accepted", value(true))},
		{op: "resetPassword", cred: credAnonymous, query: `mutation($t: String!) { resetPassword(input: {token: $t, password: "long enough password"}) { member { id } } }`,
			vars: func(*fixture) map[string]any { return map[string]any{"t": tenant.NewResetToken()} }, want: "UNAUTHENTICATED"},
	}
	for _, op := range []string{"resendInvitation", "revokeInvitation", "deactivateMember"} {
		for _, c := range idMutation(op) {
			if op == "resendInvitation" {
				c.query = strings.Replace(c.query, "member { id }", "emailSent", 1)
			}
			cases = append(cases, c)
		}
	}
	return append(cases, tenantFieldCases("members", "members { totalCount }", "MEMBERS_READ")...)
}

// withT is the environment reporting to t (a subtest).
func (p *peopleEnv) withT(t *testing.T) *peopleEnv {
	return &peopleEnv{env: p.env.withT(t), box: p.box}
}

// TestRolesTableMatchesDocs: docs/members.md's role table is exactly the
// code's (tenant.Role.Permissions), row by row.
func TestRolesTableMatchesDocs(t *testing.T) {
	b, err := os.ReadFile("../docs/members.md")
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile("`([A-Z_]+)`")
	rows := 0
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 4 {
			continue
		}
		m := name.FindStringSubmatch(cells[1])
		if m == nil || !tenant.Role(m[1]).Valid() {
			continue
		}
		rows++
		var got []string
		for _, p := range name.FindAllStringSubmatch(cells[2], -1) {
			got = append(got, p[1])
		}
		if want := enumNames(tenant.Role(m[1]).Permissions()); !slices.Equal(got, want) {
			t.Errorf("docs/members.md %s = %v\nwant %v", m[1], got, want)
		}
	}
	if rows != len(tenant.Roles) {
		t.Errorf("docs/members.md has %d role rows, want %d", rows, len(tenant.Roles))
	}
}

// TestInvitationOverSMTP: with the server's own mailer (mail.Personal over
// SMTP with STARTTLS and a password, as server.go wires it), an invitation
// reaches a real SMTP server addressed to the person, with its link token
// in the text; accepting it works. The member's changes are events
// (member.invited, member.joined) and signing in writes none.
func TestInvitationOverSMTP(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t, nil)
	p := newPeopleEnv(t, envOptions{config: func(c *httpapi.Config) { c.Mailer = mail.Personal{Sender: srv.sender(t)} }})
	domain := randomDomain()
	id := p.createTenant("Mailed Co", domain)
	addr := "new.hire@" + domain
	p.invite(testAdminSecret, id, addr, "VIEWER")
	msgs := srv.messages()
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != addr {
		t.Fatalf("the SMTP server got %+v, want one message to %s", msgs, addr)
	}
	m, err := netmail.ReadMessage(bytes.NewReader(msgs[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("To") != addr || m.Header.Get("Subject") == "" {
		t.Errorf("headers To %q, Subject %q", m.Header.Get("To"), m.Header.Get("Subject"))
	}
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	text, err := multipart.NewReader(m.Body, params["boundary"]).NextPart() // decodes quoted-printable
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(text)
	tok := mailTokenRE.FindString(string(body))
	if !strings.HasPrefix(tok, "tin_") {
		t.Fatalf("no invitation token in the text part:\n%s", body)
	}
	p.accept(tok)
	before := len(eventIDs(p.env, id, "MEMBER_JOINED"))
	if before != 1 || len(eventIDs(p.env, id, "MEMBER_INVITED")) != 1 {
		t.Errorf("events: member.joined %d, member.invited %d; want one each", before, len(eventIDs(p.env, id, "MEMBER_INVITED")))
	}
	var all struct {
		Tenant struct {
			Events struct{ Nodes []struct{ ID string } }
		}
	}
	count := func() int {
		p.mustGQL(testAdminSecret, `query($id: ID!) { tenant(id: $id) { events(first: 100) { nodes { id } } } }`, map[string]any{"id": id}, &all)
		return len(all.Tenant.Events.Nodes)
	}
	n := count()
	p.login(addr, testPassword, "")
	if got := count(); got != n {
		t.Errorf("signing in wrote %d events, want none", got-n)
	}
}
