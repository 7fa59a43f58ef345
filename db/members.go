package db

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"tenantapi/tenant"
)

// A tenant's people (docs/members.md): members and roles, invitations,
// password logins and resets, sessions.

const memberCols = `m.id, m.tenant_id, m.email, m.name, m.role, m.status, (m.password_hash IS NOT NULL) AS has_password,
	m.last_login_method, m.last_login_at, m.created_at, m.invited_by,
	(SELECT max(x.expires_at) FROM member_tokens x WHERE x.tenant_id = m.tenant_id AND x.member_id = m.id
		AND x.purpose = 'INVITATION' AND x.used_at IS NULL AND m.status = 'INVITED') AS invitation_expires_at`

const sessionCols = `se.id, se.tenant_id, se.member_id, se.method, se.created_at, se.last_seen_at, se.expires_at,
	se.revoked_at, se.ip_address, se.user_agent`

// sessionPolicy is the store's session lifetimes, defaults filled.
func (s *Store) sessionPolicy() tenant.SessionPolicy { return s.Sessions.WithDefaults() }

// MemberCursor encodes a member's position in its tenant's list (by email).
func MemberCursor(m *tenant.Member) string {
	return base64.RawURLEncoding.EncodeToString([]byte(m.Email))
}

// memberKeys is the order of a tenant's members: by email (unique in a
// tenant).
var memberKeys = keyset{alias: "m", cols: []string{"email"}, types: []string{"text"},
	decode: func(c string) ([]any, error) {
		b, err := base64.RawURLEncoding.DecodeString(c)
		return []any{string(b)}, err
	}}

// MembersByTenant reads page of a tenant's members ordered by email,
// narrowed by f, with the total count of members f keeps: a statement for
// the count, and pagesByTenant's for the page. Codes: EINVALID (cursor),
// ENOTFOUND (a tenant the caller may not see).
func (s *Store) MembersByTenant(ctx context.Context, tenantID string, page Page, f tenant.MemberFilter) (*tenant.MemberPage, error) {
	if !tenant.ValidID(tenantID) {
		return nil, tenant.NotFound("tenant")
	}
	if _, err := memberKeys.cursor(page); err != nil {
		return nil, err
	}
	all, own := scope(ctx)
	roles := make([]string, len(f.Roles))
	for i, r := range f.Roles {
		roles[i] = string(r)
	}
	statuses := make([]string, len(f.Statuses))
	for i, st := range f.Statuses {
		statuses[i] = string(st)
	}
	prefix := strings.ToLower(f.EmailPrefix)
	filter := `(cardinality($1::text[]) = 0 OR m.role = ANY($1)) AND (cardinality($2::text[]) = 0 OR m.status = ANY($2))
		AND starts_with(m.email, $3)`
	args := []any{pq.Array(roles), pq.Array(statuses), prefix}
	out := &tenant.MemberPage{TenantID: tenantID, Members: []*tenant.Member{}}
	if err := sqlx.GetContext(ctx, s.q(), &out.TotalCount, `SELECT count(*) FROM members m
		WHERE m.tenant_id = $4 AND ($5 OR m.tenant_id = $6) AND `+filter, append(args, tenantID, all, own)...); err != nil {
		return nil, translate(err)
	}
	rows, ends, errs := pagesByTenant(ctx, s, []string{tenantID}, page, list{cols: memberCols, from: `members m`,
		cond: `m.tenant_id = tn.id AND ` + filter, args: args, key: memberKeys}, "tenant", func(m *tenant.Member) string { return m.TenantID })
	if errs[0] != nil {
		return nil, errs[0]
	}
	out.Members, out.PageEnds = rows[0], ends[0]
	return out, nil
}

// MemberByID reads one member the caller may see.
// Codes: ENOTFOUND.
func (s *Store) MemberByID(ctx context.Context, id string) (*tenant.Member, error) {
	if !tenant.ValidID(id) {
		return nil, tenant.NotFound("member")
	}
	all, own := scope(ctx)
	var m tenant.Member
	err := sqlx.GetContext(ctx, s.q(), &m, `SELECT `+memberCols+` FROM members m WHERE m.id = $1 AND ($2 OR m.tenant_id = $3)`, id, all, own)
	if err != nil {
		return nil, notFoundAs(err, "member")
	}
	return &m, nil
}

// lockMember loads and locks a member the caller may change.
func lockMember(ctx context.Context, tx sqlx.ExtContext, id string) (*tenant.Member, error) {
	if !tenant.ValidID(id) {
		return nil, tenant.NotFound("member")
	}
	all, own := scope(ctx)
	var m tenant.Member
	err := sqlx.GetContext(ctx, tx, &m, `SELECT `+memberCols+` FROM members m WHERE m.id = $1 AND ($2 OR m.tenant_id = $3) FOR UPDATE`, id, all, own)
	if err != nil {
		return nil, notFoundAs(err, "member")
	}
	return &m, nil
}

// canActOn refuses changing a member whose role holds a permission the
// actor lacks: nobody acts on a role above their own.
func canActOn(a *tenant.Actor, m *tenant.Member) error {
	for _, p := range m.Role.Permissions() {
		if !a.Has(p) {
			return tenant.Errorf(tenant.EFORBIDDEN, "%s is %s, a role holding %s (%s), which you do not hold: nobody changes a member above their own role", m.Email, m.Role, p.EnumName(), p)
		}
	}
	return nil
}

// InviteMember adds an INVITED member to tenantID with role and returns it
// with the invitation token to email (single-use, tenant.InvitationTTL).
// The tenant's row is locked so concurrent invitations count its members
// one after another: at most maxMembers (MEMBERS_MAX) ever exist.
// Codes: EINVALID (email, role, OWNER), EFORBIDDEN (a role above the
// caller's), ENOTFOUND, ECONFLICT (deleted tenant, address already a
// member, the cap reached).
func (s *Store) InviteMember(ctx context.Context, tenantID, email string, role tenant.Role, maxMembers int) (*tenant.Member, string, error) {
	actor := tenant.ActorFrom(ctx)
	email, err := tenant.NormalizeMemberEmail("email", email)
	if err != nil {
		return nil, "", err
	}
	if err := tenant.CanGrant(actor, role, "role"); err != nil {
		return nil, "", err
	}
	if maxMembers <= 0 {
		maxMembers = tenant.DefaultMaxMembers
	}
	token := tenant.NewInvitationToken()
	var m tenant.Member
	err = s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		if _, err := lockTenant(ctx, tx, tenantID, false); err != nil {
			return err
		}
		var n int
		if err := sqlx.GetContext(ctx, tx, &n, `SELECT count(*) FROM members WHERE tenant_id = $1`, tenantID); err != nil {
			return err
		}
		if n >= maxMembers {
			return tenant.MembersExceeded(maxMembers)
		}
		var id string
		err := sqlx.GetContext(ctx, tx, &id, `INSERT INTO members (tenant_id, email, role, status, created_at, created_by, invited_by)
			VALUES ($1, $2, $3, 'INVITED', $4, $5, $5) ON CONFLICT (tenant_id, email) DO NOTHING RETURNING id`,
			tenantID, email, role, now, actor.ActorID())
		if errors.Is(err, sql.ErrNoRows) {
			return &tenant.Error{Code: tenant.ECONFLICT, Field: "email", Message: "the address " + email + " is already a member of this tenant (or invited): see Tenant.members, or resendInvitation"}
		}
		if err != nil {
			return err
		}
		if err := insertToken(ctx, tx, tenantID, id, "INVITATION", token, now, tenant.InvitationTTL); err != nil {
			return err
		}
		return sqlx.GetContext(ctx, tx, &m, `SELECT `+memberCols+` FROM members m WHERE m.tenant_id = $1 AND m.id = $2`, tenantID, id)
	})
	if err != nil {
		return nil, "", err
	}
	return &m, token, nil
}

// insertToken ends the member's unused tokens of purpose and stores the
// hash of a new one.
func insertToken(ctx context.Context, tx sqlx.ExtContext, tenantID, memberID, purpose, token string, now time.Time, ttl time.Duration) error {
	if _, err := tx.ExecContext(ctx, `UPDATE member_tokens SET used_at = $4
		WHERE tenant_id = $1 AND member_id = $2 AND purpose = $3 AND used_at IS NULL`, tenantID, memberID, purpose, now); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO member_tokens (tenant_id, member_id, purpose, token_hash, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, tenantID, memberID, purpose, tenant.HashToken(token), now, now.Add(ttl))
	return err
}

// ResendInvitation replaces an INVITED member's invitation with a new
// token (the previous one stops working) and returns it to email.
// Codes: ENOTFOUND, ECONFLICT (not INVITED), EFORBIDDEN (a role above the
// caller's).
func (s *Store) ResendInvitation(ctx context.Context, id string) (*tenant.Member, string, error) {
	token := tenant.NewInvitationToken()
	var m *tenant.Member
	err := s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		var err error
		if m, err = lockMember(ctx, tx, id); err != nil {
			return err
		}
		if m.Status != tenant.MemberInvited {
			return tenant.Errorf(tenant.ECONFLICT, "%s is %s, not INVITED: only a pending invitation is sent again", m.Email, m.Status)
		}
		if err := canActOn(tenant.ActorFrom(ctx), m); err != nil {
			return err
		}
		if err := insertToken(ctx, tx, m.TenantID, m.ID, "INVITATION", token, now, tenant.InvitationTTL); err != nil {
			return err
		}
		return sqlx.GetContext(ctx, tx, m, `SELECT `+memberCols+` FROM members m WHERE m.tenant_id = $1 AND m.id = $2`, m.TenantID, m.ID)
	})
	if err != nil {
		return nil, "", err
	}
	return m, token, nil
}

// RevokeInvitation deletes an INVITED member and their invitation.
// Codes: ENOTFOUND, ECONFLICT (not INVITED, or the tenant's owner),
// EFORBIDDEN (a role above the caller's).
func (s *Store) RevokeInvitation(ctx context.Context, id string) (*tenant.Member, error) {
	var m *tenant.Member
	err := s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		var err error
		if m, err = lockMember(ctx, tx, id); err != nil {
			return err
		}
		if m.Status != tenant.MemberInvited {
			return tenant.Errorf(tenant.ECONFLICT, "%s is %s, not INVITED: deactivate a member with deactivateMember", m.Email, m.Status)
		}
		if m.Role == tenant.RoleOwner {
			return tenant.Errorf(tenant.ECONFLICT, "%s is the tenant's owner, who cannot be removed: transferOwnership to another member first", m.Email)
		}
		if err := canActOn(tenant.ActorFrom(ctx), m); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM members WHERE tenant_id = $1 AND id = $2`, m.TenantID, m.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// AcceptInvitation makes the invited member of token ACTIVE with name and
// password and spends the token. It needs no caller: the token is the
// proof. Codes: EINVALID (name, password), EUNAUTHENTICATED (a token
// unknown, used, revoked or expired: one message for all).
func (s *Store) AcceptInvitation(ctx context.Context, token, name, password string) (*tenant.Member, error) {
	name, err := tenant.CheckMemberName("name", name)
	if err != nil {
		return nil, err
	}
	if err := tenant.CheckPassword("password", password); err != nil {
		return nil, err
	}
	if !tenant.WellFormedInvitation(token) {
		return nil, invalidToken("invitation")
	}
	hash := tenant.HashPassword(password)
	var m tenant.Member
	err = s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		var ref struct {
			TenantID string `db:"tenant_id"`
			MemberID string `db:"member_id"`
		}
		err := sqlx.GetContext(ctx, tx, &ref, `UPDATE member_tokens t SET used_at = $2
			FROM members m, tenants tn
			WHERE t.token_hash = $1 AND t.purpose = 'INVITATION' AND t.used_at IS NULL AND t.expires_at > $2
			  AND m.tenant_id = t.tenant_id AND m.id = t.member_id AND m.status = 'INVITED'
			  AND tn.id = t.tenant_id AND tn.status = 'ACTIVE'
			RETURNING t.tenant_id, t.member_id`, tenant.HashToken(token), now)
		if errors.Is(err, sql.ErrNoRows) {
			return invalidToken("invitation")
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE members SET status = 'ACTIVE', name = $3, password_hash = $4
			WHERE tenant_id = $1 AND id = $2`, ref.TenantID, ref.MemberID, name, hash); err != nil {
			return err
		}
		return sqlx.GetContext(ctx, tx, &m, `SELECT `+memberCols+` FROM members m WHERE m.tenant_id = $1 AND m.id = $2`, ref.TenantID, ref.MemberID)
	})
	if err != nil {
		return nil, err
	}
	return &m, nil
}

func invalidToken(what string) error {
	return tenant.Errorf(tenant.EUNAUTHENTICATED, "this %s link is not valid: it was already used, replaced by a newer one, revoked, or it expired; ask for a new one", what)
}

// UpdateMemberRole gives a member another role. Codes: EINVALID (role,
// OWNER), ENOTFOUND, ECONFLICT (the owner: transferOwnership),
// EFORBIDDEN (the member's role or the new one above the caller's).
func (s *Store) UpdateMemberRole(ctx context.Context, id string, role tenant.Role) (*tenant.Member, error) {
	actor := tenant.ActorFrom(ctx)
	if err := tenant.CanGrant(actor, role, "role"); err != nil {
		return nil, err
	}
	var m *tenant.Member
	err := s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		var err error
		if m, err = lockMember(ctx, tx, id); err != nil {
			return err
		}
		if m.Role == tenant.RoleOwner {
			return tenant.Errorf(tenant.ECONFLICT, "%s is the tenant's owner: a tenant always has exactly one owner, so hand the role over with transferOwnership (the owner becomes ADMIN)", m.Email)
		}
		if err := canActOn(actor, m); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE members SET role = $3 WHERE tenant_id = $1 AND id = $2`, m.TenantID, m.ID, role); err != nil {
			return err
		}
		return sqlx.GetContext(ctx, tx, m, `SELECT `+memberCols+` FROM members m WHERE m.tenant_id = $1 AND m.id = $2`, m.TenantID, m.ID)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// DeactivateMember stops a member signing in: their sessions end at once
// (websockets at their next check), their pending tokens stop working.
// Deactivating a deactivated member is a no-op.
// Codes: ENOTFOUND, ECONFLICT (the owner), EFORBIDDEN (a role above the
// caller's).
func (s *Store) DeactivateMember(ctx context.Context, id string) (*tenant.Member, error) {
	var m *tenant.Member
	err := s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		var err error
		if m, err = lockMember(ctx, tx, id); err != nil {
			return err
		}
		if m.Role == tenant.RoleOwner {
			return tenant.Errorf(tenant.ECONFLICT, "%s is the tenant's owner, who cannot be removed: transferOwnership to another member first", m.Email)
		}
		if err := canActOn(tenant.ActorFrom(ctx), m); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE members SET status = 'DEACTIVATED', deactivated_at = COALESCE(deactivated_at, $3)
			WHERE tenant_id = $1 AND id = $2`, m.TenantID, m.ID, now); err != nil {
			return err
		}
		if err := endSessions(ctx, tx, m.TenantID, m.ID, "", now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE member_tokens SET used_at = $3 WHERE tenant_id = $1 AND member_id = $2 AND used_at IS NULL`,
			m.TenantID, m.ID, now); err != nil {
			return err
		}
		return sqlx.GetContext(ctx, tx, m, `SELECT `+memberCols+` FROM members m WHERE m.tenant_id = $1 AND m.id = $2`, m.TenantID, m.ID)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// endSessions revokes a member's open sessions but keep ("" for none).
func endSessions(ctx context.Context, tx sqlx.ExtContext, tenantID, memberID, keep string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = $4
		WHERE tenant_id = $1 AND member_id = $2 AND revoked_at IS NULL AND ($3 = '' OR id::text <> $3)`, tenantID, memberID, keep, now)
	return err
}

// TransferOwnership makes the ACTIVE member id the owner of their tenant;
// the previous owner becomes ADMIN. Only the owner themself, or the
// operator (TENANT_MANAGE), may. Tenant.owner follows: its email becomes
// the new owner's, its id the new owner's member id.
// Codes: ENOTFOUND, EFORBIDDEN (not the owner), ECONFLICT (the member is
// not ACTIVE, or already the owner).
func (s *Store) TransferOwnership(ctx context.Context, id string) (*tenant.Member, *tenant.Member, error) {
	actor := tenant.ActorFrom(ctx)
	var from, to *tenant.Member
	err := s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		var err error
		if to, err = lockMember(ctx, tx, id); err != nil {
			return err
		}
		if _, err := lockTenant(ctx, tx, to.TenantID, false); err != nil {
			return err
		}
		if actor.Kind == tenant.MemberActor && actor.Role != tenant.RoleOwner || actor.Kind != tenant.MemberActor && !actor.AllTenants() {
			return tenant.Errorf(tenant.EFORBIDDEN, "only the tenant's owner (or the operator) transfers ownership")
		}
		if to.Role == tenant.RoleOwner {
			return tenant.Errorf(tenant.ECONFLICT, "%s is already the owner", to.Email)
		}
		if to.Status != tenant.MemberActive {
			return tenant.Errorf(tenant.ECONFLICT, "%s is %s: ownership goes only to an ACTIVE member (one who accepted their invitation)", to.Email, to.Status)
		}
		var prev []string
		if err := sqlx.SelectContext(ctx, tx, &prev, `UPDATE members SET role = 'ADMIN' WHERE tenant_id = $1 AND role = 'OWNER' RETURNING id`, to.TenantID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE members SET role = 'OWNER' WHERE tenant_id = $1 AND id = $2`, to.TenantID, to.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tenants SET owner_email = $2, owner_id = $3, modified_at = $4, modified_by = $5, version = version + 1
			WHERE id = $1`, to.TenantID, to.Email, to.ID, now, actor.ActorID()); err != nil {
			return err
		}
		if len(prev) == 1 {
			from = &tenant.Member{}
			if err := sqlx.GetContext(ctx, tx, from, `SELECT `+memberCols+` FROM members m WHERE m.tenant_id = $1 AND m.id = $2`, to.TenantID, prev[0]); err != nil {
				return err
			}
		}
		return sqlx.GetContext(ctx, tx, to, `SELECT `+memberCols+` FROM members m WHERE m.tenant_id = $1 AND m.id = $2`, to.TenantID, to.ID)
	})
	if err != nil {
		return nil, nil, err
	}
	return to, from, nil
}

// loginRow is what a password login reads of a member.
type loginRow struct {
	TenantID     string         `db:"tenant_id"`
	ID           string         `db:"id"`
	Status       string         `db:"status"`
	PasswordHash sql.NullString `db:"password_hash"`
	TenantStatus tenant.Status  `db:"tenant_status"`
	Email        string         `db:"email"`
	Role         tenant.Role    `db:"role"`
}

// memberByLogin finds the member an address signs in as: in the tenant
// named by ref (a domain or an id), or, when ref is "", the tenant whose
// domain is the address's. Several tenants share a domain, one per
// environment: a domain names the one of env (tenant.DefaultEnvironment
// when nil), so at most one row matches ((domain, environment) is unique);
// an id names one tenant, which must be of env when env is given.
func (s *Store) memberByLogin(ctx context.Context, email, ref string, env *tenant.Environment) (*loginRow, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	ref = strings.ToLower(strings.TrimSpace(ref))
	if ref == "" {
		if at := strings.LastIndexByte(email, '@'); at >= 0 {
			ref = email[at+1:]
		}
	}
	var byID, inEnv any
	if tenant.ValidID(ref) {
		byID = ref
	}
	switch {
	case env != nil:
		inEnv = string(*env)
	case byID == nil:
		inEnv = string(tenant.DefaultEnvironment)
	}
	var row loginRow
	err := sqlx.GetContext(ctx, s.q(), &row, `SELECT m.tenant_id, m.id, m.status, m.password_hash, m.email, m.role, t.status AS tenant_status
		FROM members m JOIN tenants t ON t.id = m.tenant_id
		WHERE m.email = $1 AND (t.id = $2::uuid OR ($2::uuid IS NULL AND t.domain = $3))
		  AND ($4::text IS NULL OR t.environment = $4)`, email, byID, ref, inEnv)
	if err != nil {
		return nil, translate(err)
	}
	return &row, nil
}

// Login checks a password and returns the member it signs in (then
// CreateSession). Every way to fail (no such member or tenant, a wrong
// password, no password set, an INVITED or DEACTIVATED member) answers the
// same and costs one argon2id verification, so an answer tells nothing of
// which addresses are members. Codes: EUNAUTHENTICATED, EFORBIDDEN (a
// suspended tenant, or SSO enforced: docs/sso.md; said only to the right
// password).
func (s *Store) Login(ctx context.Context, in tenant.LoginInput) (memberID string, err error) {
	refused := tenant.Errorf(tenant.EUNAUTHENTICATED, "email or password not recognised")
	if len(in.Password) > 4*tenant.MaxPasswordLength {
		return "", refused
	}
	row, err := s.memberByLogin(ctx, in.Email, in.Tenant, in.Environment)
	if err != nil && tenant.ErrorCode(err) != tenant.ENOTFOUND {
		return "", err
	}
	hash := ""
	if row != nil && row.PasswordHash.Valid {
		hash = row.PasswordHash.String
	}
	if !tenant.VerifyPassword(hash, in.Password) || row.Status != string(tenant.MemberActive) || row.TenantStatus == tenant.StatusDeleted {
		return "", refused
	}
	if row.TenantStatus == tenant.StatusSuspended {
		return "", tenant.Errorf(tenant.EFORBIDDEN, "this tenant is suspended; contact support")
	}
	// Checked after the password, so it tells nothing to who lacks it.
	enforced, err := ssoEnforcedFor(ctx, s.q(), row.TenantID)
	if err != nil {
		return "", translate(err)
	}
	if enforced {
		return "", tenant.Errorf(tenant.EFORBIDDEN, "this organisation signs in with single sign-on only: continue at %s/%s (password login returns when SSO is disabled)", tenant.SSOLoginPath, row.TenantID)
	}
	return row.ID, nil
}

// CreateSession opens a session for the ACTIVE member memberID, signed in
// by method, and returns it with its token (shown once, stored only as its
// SHA-256). It records the member's last login. Past
// tenant.MaxSessionsPerMember open sessions, the least recently used ends.
// The caller has proven who the person is (a password, an invitation, an
// SSO assertion): no actor is needed, and none is checked. This is the
// one entry of every login method: SSO (docs/members.md) calls it too.
// Codes: ENOTFOUND (no such member), EUNAUTHENTICATED (not ACTIVE, or a
// deleted tenant), EFORBIDDEN (a suspended tenant).
func (s *Store) CreateSession(ctx context.Context, memberID string, method tenant.LoginMethod) (*tenant.Session, string, error) {
	if !tenant.ValidID(memberID) {
		return nil, "", tenant.NotFound("member")
	}
	pol := s.sessionPolicy()
	token := tenant.NewSessionToken()
	var ip, ua *string
	if a := tenant.ClientIP(ctx); a.IsValid() {
		v := a.String()
		ip = &v
	}
	if v := tenant.UserAgent(ctx); v != "" {
		v = truncateRunes(v, 300)
		ua = &v
	}
	var se tenant.Session
	err := s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		var m struct {
			TenantID     string        `db:"tenant_id"`
			Status       string        `db:"status"`
			TenantStatus tenant.Status `db:"tenant_status"`
		}
		if err := sqlx.GetContext(ctx, tx, &m, `SELECT m.tenant_id, m.status, t.status AS tenant_status
			FROM members m JOIN tenants t ON t.id = m.tenant_id WHERE m.id = $1 FOR UPDATE OF m`, memberID); err != nil {
			return notFoundAs(err, "member")
		}
		switch {
		case m.Status != string(tenant.MemberActive) || m.TenantStatus == tenant.StatusDeleted:
			return tenant.Errorf(tenant.EUNAUTHENTICATED, "this member cannot sign in (%s)", strings.ToLower(m.Status))
		case m.TenantStatus == tenant.StatusSuspended:
			return tenant.Errorf(tenant.EFORBIDDEN, "this tenant is suspended; contact support")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE members SET last_login_method = $3, last_login_at = $4 WHERE tenant_id = $1 AND id = $2`,
			m.TenantID, memberID, method, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = $3 WHERE tenant_id = $1 AND id IN (
			SELECT id FROM sessions WHERE tenant_id = $1 AND member_id = $2 AND revoked_at IS NULL AND expires_at > $3
			ORDER BY last_seen_at DESC OFFSET $4)`, m.TenantID, memberID, now, tenant.MaxSessionsPerMember-1); err != nil {
			return err
		}
		return sqlx.GetContext(ctx, tx, &se, `INSERT INTO sessions AS se (tenant_id, member_id, token_hash, method, created_at, last_seen_at, expires_at, ip_address, user_agent)
			VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8) RETURNING `+sessionCols,
			m.TenantID, memberID, tenant.HashToken(token), method, now, now.Add(pol.MaxAge), ip, ua)
	})
	if err != nil {
		return nil, "", err
	}
	se.IdleExpiresAt = idleEnd(&se, pol)
	return &se, token, nil
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

func idleEnd(se *tenant.Session, pol tenant.SessionPolicy) time.Time {
	t := se.LastSeenAt.Add(pol.Idle)
	if t.After(se.ExpiresAt) {
		return se.ExpiresAt
	}
	return t
}

// lastSeenGranularity bounds how often a session's use is written: at most
// once a minute per session, off the request path. The idle timeout is at
// least a minute, so a session in use never expires for it.
const lastSeenGranularity = time.Minute

var authenticateSessionQuery = `SELECT ` + sessionCols + `, m.role, m.status AS member_status, ` + tenantColsAs("tenant") + `,
		COALESCE(st.ip_allowlist::text[], '{}') AS ip_allowlist, p.api_requests_per_minute
		FROM sessions se JOIN members m ON m.tenant_id = se.tenant_id AND m.id = se.member_id
		JOIN tenants t ON t.id = se.tenant_id
		JOIN plans p ON p.id = t.plan_id
		LEFT JOIN tenant_settings st ON st.tenant_id = se.tenant_id
		WHERE se.token_hash = $1`

// AuthenticateSession resolves a well-formed session token to its member's
// actor, as Authenticate does for an API key, in one statement: the
// member's role, the tenant, its allowlist and plan rate, read at every
// request, so a deactivation, a role change, a suspension or an allowlist
// change applies to the next request (and to open websockets at their
// next check). Codes: EUNAUTHENTICATED (unknown, revoked, idle or expired
// session, a member no longer ACTIVE, a deleted tenant), EFORBIDDEN
// (suspended tenant).
func (s *Store) AuthenticateSession(ctx context.Context, token string) (*tenant.Actor, error) {
	var row struct {
		tenant.Session
		Role         tenant.Role    `db:"role"`
		MemberStatus string         `db:"member_status"`
		Tenant       tenant.Tenant  `db:"tenant"`
		Allowlist    pq.StringArray `db:"ip_allowlist"`
		PerMinute    int            `db:"api_requests_per_minute"`
	}
	err := sqlx.GetContext(ctx, s.q(), &row, authenticateSessionQuery, tenant.HashToken(token))
	if err != nil {
		err = translate(err)
		if tenant.ErrorCode(err) == tenant.ENOTFOUND {
			return nil, tenant.Errorf(tenant.EUNAUTHENTICATED, "session not recognised: sign in again")
		}
		return nil, err
	}
	pol := s.sessionPolicy()
	now := s.Now()
	se := &row.Session
	switch {
	case se.RevokedAt != nil:
		return nil, tenant.Errorf(tenant.EUNAUTHENTICATED, "this session ended at %s (signed out, revoked, the member deactivated, their password changed, the tenant suspended or deleted, or their address left out of the IP allowlist): sign in again", se.RevokedAt.UTC().Format(time.RFC3339))
	case !now.Before(se.ExpiresAt):
		return nil, tenant.Errorf(tenant.EUNAUTHENTICATED, "this session reached its maximum age (SESSION_MAX_AGE) at %s: sign in again", se.ExpiresAt.UTC().Format(time.RFC3339))
	case !now.Before(idleEnd(se, pol)):
		return nil, tenant.Errorf(tenant.EUNAUTHENTICATED, "this session was idle for longer than %s (SESSION_IDLE_TIMEOUT): sign in again", pol.Idle)
	case row.MemberStatus != string(tenant.MemberActive) || row.Tenant.Status == tenant.StatusDeleted:
		return nil, tenant.Errorf(tenant.EUNAUTHENTICATED, "session not recognised: sign in again")
	case row.Tenant.Status == tenant.StatusSuspended:
		return nil, tenant.Errorf(tenant.EFORBIDDEN, "this tenant is suspended; contact support")
	}
	if now.Sub(se.LastSeenAt) > lastSeenGranularity {
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if _, err := s.q().ExecContext(ctx, `UPDATE sessions SET last_seen_at = $3
				WHERE tenant_id = $1 AND id = $2 AND last_seen_at < $3`, se.TenantID, se.ID, now); err != nil {
				slog.Warn("recording session use failed", "session_id", se.ID, "err", err)
			}
		}()
	}
	allow := make([]netip.Prefix, 0, len(row.Allowlist))
	for _, a := range row.Allowlist {
		if p, err := netip.ParsePrefix(a); err == nil {
			allow = append(allow, p)
		}
	}
	return &tenant.Actor{Kind: tenant.MemberActor, MemberID: se.MemberID, SessionID: se.ID, Role: row.Role, TenantID: se.TenantID,
		Permissions: row.Role.Permissions(), IPAllowlist: allow, RequestsPerMinute: row.PerMinute, Tenant: &row.Tenant}, nil
}

// SessionsOfViewer lists the calling member's open sessions, most recently
// used first (at most tenant.MaxSessionsPerMember). Codes: EFORBIDDEN (not
// a member's session).
func (s *Store) SessionsOfViewer(ctx context.Context) ([]*tenant.Session, error) {
	a := tenant.ActorFrom(ctx)
	if a.Kind != tenant.MemberActor {
		return nil, tenant.Errorf(tenant.EFORBIDDEN, "sessions are a member's: sign in with login to have some")
	}
	now := s.Now()
	var out []*tenant.Session
	if err := sqlx.SelectContext(ctx, s.q(), &out, `SELECT `+sessionCols+` FROM sessions se
		WHERE se.tenant_id = $1 AND se.member_id = $2 AND se.revoked_at IS NULL AND se.expires_at > $3
		ORDER BY se.last_seen_at DESC, se.id LIMIT $4`, a.TenantID, a.MemberID, now, tenant.MaxSessionsPerMember); err != nil {
		return nil, translate(err)
	}
	return s.liveSessions(out, now), nil
}

// liveSessions sets each session's IdleExpiresAt and keeps those still
// open at now (not idle past the timeout).
func (s *Store) liveSessions(ses []*tenant.Session, now time.Time) []*tenant.Session {
	pol := s.sessionPolicy()
	live := ses[:0]
	for _, se := range ses {
		se.IdleExpiresAt = idleEnd(se, pol)
		if now.Before(se.IdleExpiresAt) {
			live = append(live, se)
		}
	}
	return live
}

// SessionByID reads one session the caller may see (the viewer's own).
// Codes: ENOTFOUND.
func (s *Store) SessionByID(ctx context.Context, id string) (*tenant.Session, error) {
	a := tenant.ActorFrom(ctx)
	if !tenant.ValidID(id) || a.Kind != tenant.MemberActor {
		return nil, tenant.NotFound("session")
	}
	var se tenant.Session
	if err := sqlx.GetContext(ctx, s.q(), &se, `SELECT `+sessionCols+` FROM sessions se WHERE se.tenant_id = $1 AND se.id = $2`, a.TenantID, id); err != nil {
		return nil, notFoundAs(err, "session")
	}
	se.IdleExpiresAt = idleEnd(&se, s.sessionPolicy())
	return &se, nil
}

// RevokeSession ends a session: one of the caller's own, or, for a caller
// holding members:write, any session of a member they may act on (the
// operator: any). Revoking an ended session is a no-op.
// Codes: ENOTFOUND (missing, another tenant's, or another member's
// without members:write), EFORBIDDEN (a member above the caller's role).
func (s *Store) RevokeSession(ctx context.Context, id string) (*tenant.Session, error) {
	if !tenant.ValidID(id) {
		return nil, tenant.NotFound("session")
	}
	a := tenant.ActorFrom(ctx)
	all, own := scope(ctx)
	var se tenant.Session
	err := s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		if err := sqlx.GetContext(ctx, tx, &se, `SELECT `+sessionCols+` FROM sessions se WHERE se.id = $1 AND ($2 OR se.tenant_id = $3) FOR UPDATE`,
			id, all, own); err != nil {
			return notFoundAs(err, "session")
		}
		if !(a.Kind == tenant.MemberActor && se.MemberID == a.MemberID) {
			if !a.Has(tenant.PermMembersWrite) {
				return tenant.NotFound("session")
			}
			var m tenant.Member
			if err := sqlx.GetContext(ctx, tx, &m, `SELECT `+memberCols+` FROM members m WHERE m.tenant_id = $1 AND m.id = $2`, se.TenantID, se.MemberID); err != nil {
				return err
			}
			if err := canActOn(a, &m); err != nil {
				return err
			}
		}
		return sqlx.GetContext(ctx, tx, &se, `UPDATE sessions se SET revoked_at = COALESCE(revoked_at, $3)
			WHERE tenant_id = $1 AND id = $2 RETURNING `+sessionCols, se.TenantID, se.ID, now)
	})
	if err != nil {
		return nil, err
	}
	se.IdleExpiresAt = idleEnd(&se, s.sessionPolicy())
	return &se, nil
}

// RequestPasswordReset returns, for an ACTIVE member signing in as email
// (in the tenant ref and env name, as Login), the member and a new reset
// token (single-use, tenant.ResetTTL; earlier ones stop working). For any
// other address it returns (nil, "", nil): the caller answers the same
// either way.
func (s *Store) RequestPasswordReset(ctx context.Context, email, ref string, env *tenant.Environment) (*tenant.Member, string, error) {
	row, err := s.memberByLogin(ctx, email, ref, env)
	if tenant.ErrorCode(err) == tenant.ENOTFOUND || err == nil && (row.Status != string(tenant.MemberActive) || row.TenantStatus != tenant.StatusActive) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	token := tenant.NewResetToken()
	var m tenant.Member
	err = s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		if err := insertToken(ctx, tx, row.TenantID, row.ID, "RESET", token, now, tenant.ResetTTL); err != nil {
			return err
		}
		return sqlx.GetContext(ctx, tx, &m, `SELECT `+memberCols+` FROM members m WHERE m.tenant_id = $1 AND m.id = $2`, row.TenantID, row.ID)
	})
	if err != nil {
		return nil, "", err
	}
	return &m, token, nil
}

// ResetPassword sets the password of the member of a reset token, spends
// the token and ends every session of the member.
// Codes: EINVALID (password), EUNAUTHENTICATED (token unknown, used,
// replaced or expired).
func (s *Store) ResetPassword(ctx context.Context, token, password string) (*tenant.Member, error) {
	if err := tenant.CheckPassword("password", password); err != nil {
		return nil, err
	}
	if !tenant.WellFormedReset(token) {
		return nil, invalidToken("password reset")
	}
	hash := tenant.HashPassword(password)
	var m tenant.Member
	err := s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		var ref struct {
			TenantID string `db:"tenant_id"`
			MemberID string `db:"member_id"`
		}
		err := sqlx.GetContext(ctx, tx, &ref, `UPDATE member_tokens t SET used_at = $2
			FROM members m WHERE t.token_hash = $1 AND t.purpose = 'RESET' AND t.used_at IS NULL AND t.expires_at > $2
			  AND m.tenant_id = t.tenant_id AND m.id = t.member_id AND m.status = 'ACTIVE'
			RETURNING t.tenant_id, t.member_id`, tenant.HashToken(token), now)
		if errors.Is(err, sql.ErrNoRows) {
			return invalidToken("password reset")
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE members SET password_hash = $3 WHERE tenant_id = $1 AND id = $2`, ref.TenantID, ref.MemberID, hash); err != nil {
			return err
		}
		if err := endSessions(ctx, tx, ref.TenantID, ref.MemberID, "", now); err != nil {
			return err
		}
		return sqlx.GetContext(ctx, tx, &m, `SELECT `+memberCols+` FROM members m WHERE m.tenant_id = $1 AND m.id = $2`, ref.TenantID, ref.MemberID)
	})
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// ChangePassword replaces the calling member's password after checking the
// current one, and ends every other session of theirs.
// Codes: EFORBIDDEN (not a member's session), EINVALID (the new password),
// EUNAUTHENTICATED (the current password is wrong).
func (s *Store) ChangePassword(ctx context.Context, current, next string) (*tenant.Member, error) {
	a := tenant.ActorFrom(ctx)
	if a.Kind != tenant.MemberActor {
		return nil, tenant.Errorf(tenant.EFORBIDDEN, "changePassword is a signed-in member's: API keys have no password")
	}
	if err := tenant.CheckPassword("newPassword", next); err != nil {
		return nil, err
	}
	var stored sql.NullString
	if err := sqlx.GetContext(ctx, s.q(), &stored, `SELECT password_hash FROM members WHERE tenant_id = $1 AND id = $2`, a.TenantID, a.MemberID); err != nil {
		return nil, translate(err)
	}
	if !tenant.VerifyPassword(stored.String, current) {
		return nil, &tenant.Error{Code: tenant.EUNAUTHENTICATED, Field: "currentPassword", Message: "currentPassword is not your current password"}
	}
	hash := tenant.HashPassword(next)
	var m tenant.Member
	err := s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		if _, err := tx.ExecContext(ctx, `UPDATE members SET password_hash = $3 WHERE tenant_id = $1 AND id = $2`, a.TenantID, a.MemberID, hash); err != nil {
			return err
		}
		if err := endSessions(ctx, tx, a.TenantID, a.MemberID, a.SessionID, now); err != nil {
			return err
		}
		return sqlx.GetContext(ctx, tx, &m, `SELECT `+memberCols+` FROM members m WHERE m.tenant_id = $1 AND m.id = $2`, a.TenantID, a.MemberID)
	})
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// createOwnerMember records a new tenant's owner as its OWNER member,
// INVITED (resendInvitation sends the link).
func createOwnerMember(ctx context.Context, tx sqlx.ExtContext, tenantID, email, by string, now time.Time) error {
	email, err := tenant.NormalizeMemberEmail("ownerEmail", email)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO members (tenant_id, email, role, status, created_at, created_by)
		VALUES ($1, $2, 'OWNER', 'INVITED', $3, $4)`, tenantID, email, now, by)
	return err
}

// SeedDemoOwner makes the demo tenant's owner (it@acme.fr) an ACTIVE OWNER
// member with a password: knownPassword when it still signs in, a new
// random one otherwise. It returns the address and the password.
func (s *Store) SeedDemoOwner(ctx context.Context, tenantID, knownPassword string) (email, password string, err error) {
	email = "it@" + DemoDomain
	admin := tenant.WithActor(ctx, &tenant.Actor{Kind: tenant.Admin})
	if knownPassword != "" {
		if id, err := s.Login(ctx, tenant.LoginInput{Email: email, Password: knownPassword}); err == nil && id != "" {
			return email, knownPassword, nil
		}
	}
	password = strings.TrimPrefix(tenant.NewResetToken(), tenant.ResetPrefix)[:24]
	hash := tenant.HashPassword(password)
	err = s.inTx(admin, func(tx sqlx.ExtContext, now time.Time) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO members (tenant_id, email, name, role, status, password_hash, created_at, created_by)
			VALUES ($1, $2, 'ACME IT', 'OWNER', 'ACTIVE', $3, $4, 'seed')
			ON CONFLICT (tenant_id, email) DO UPDATE SET status = 'ACTIVE', password_hash = $3, deactivated_at = NULL,
				name = CASE WHEN members.name = '' THEN 'ACME IT' ELSE members.name END`, tenantID, email, hash, now)
		return err
	})
	return email, password, err
}
