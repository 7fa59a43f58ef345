package db

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"tenantapi/tenant"
)

// SSO login (docs/sso.md). A login proves who a person is through the
// tenant's identity provider; none of these methods needs an actor: the
// caller is anonymous until the session exists.

// SSOLogin reads the identity provider of tenantID with its client secret
// opened. Codes: ENOTFOUND (no such tenant, or deleted).
func (s *Store) SSOLogin(ctx context.Context, tenantID string) (*tenant.SSOLogin, error) {
	if !tenant.ValidID(tenantID) {
		return nil, tenant.NotFound("tenant")
	}
	var row struct {
		tenant.SSOLogin
		Sealed *string `db:"client_secret_sealed"`
	}
	err := sqlx.GetContext(ctx, s.q(), &row, `SELECT t.id AS tenant_id, t.domain, t.environment, t.status AS tenant_status, s.sso_enabled AS enabled,
			c.type, COALESCE(c.status, 'NOT_CONFIGURED') AS status, COALESCE(c.client_id, '') AS client_id, c.client_secret_sealed,
			COALESCE(c.discovery_url, '') AS discovery_url, COALESCE(c.directory_tenant_id, '') AS directory_tenant_id,
			COALESCE(c.entra_cloud, 'GLOBAL') AS entra_cloud, COALESCE(c.entity_id, '') AS entity_id,
			COALESCE(c.idp_metadata_url, '') AS idp_metadata_url, COALESCE(c.idp_metadata_xml, '') AS idp_metadata_xml,
			COALESCE(c.idp_x509_cert, '') AS idp_x509_cert, COALESCE(c.default_role, 'VIEWER') AS default_role,
			COALESCE(c.enforced, false) AS enforced, COALESCE(c.version, 0) AS version
		FROM tenants t JOIN tenant_settings s ON s.tenant_id = t.id LEFT JOIN sso_configs c ON c.tenant_id = t.id
		WHERE t.id = $1 AND t.status <> 'DELETED'`, tenantID)
	if err != nil {
		return nil, notFoundAs(err, "tenant")
	}
	if row.Sealed != nil {
		if s.Sealer == nil {
			return nil, errors.New("db: the Store has no Sealer to open SSO client secrets")
		}
		secret, err := s.Sealer.Open(tenantID, *row.Sealed)
		if err != nil {
			return nil, err
		}
		row.ClientSecret = string(secret)
	}
	return &row.SSOLogin, nil
}

// SaveSSOLoginState keeps a started OIDC login under the SHA-256 of its
// state for tenant.SSOLoginStateTTL, and drops expired ones.
func (s *Store) SaveSSOLoginState(ctx context.Context, state string, st tenant.SSOLoginState) error {
	return s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sso_login_states WHERE expires_at < $1`, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sso_login_states (state_hash, tenant_id, nonce, verifier, return_to, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, tenant.HashToken(state), st.TenantID, st.Nonce, st.Verifier, st.ReturnTo, now, now.Add(tenant.SSOLoginStateTTL))
		return err
	})
}

// TakeSSOLoginState spends the login started with state: it is deleted
// whether or not it has expired, so it never serves twice.
// Codes: ENOTFOUND (unknown, used or expired).
func (s *Store) TakeSSOLoginState(ctx context.Context, state string) (*tenant.SSOLoginState, error) {
	var st struct {
		tenant.SSOLoginState
		ExpiresAt time.Time `db:"expires_at"`
	}
	err := sqlx.GetContext(ctx, s.q(), &st, `DELETE FROM sso_login_states WHERE state_hash = $1
		RETURNING tenant_id, nonce, verifier, return_to, expires_at`, tenant.HashToken(state))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !st.ExpiresAt.After(s.Now())) {
		return nil, tenant.NotFound("sign-in request")
	}
	if err != nil {
		return nil, translate(err)
	}
	return &st.SSOLoginState, nil
}

// SSOSignIn returns the member an identity provider vouched for: the
// member of tenantID with email, or a new one (just-in-time provisioning)
// with the SSO configuration's default role. An INVITED member becomes
// ACTIVE (the identity provider proved the address, as the invitation
// would have). The caller checked the address is in the tenant's domain.
// Codes: EFORBIDDEN (a deactivated member, a suspended tenant, SSO not
// enabled), ECONFLICT (the members cap reached), ENOTFOUND (tenant).
func (s *Store) SSOSignIn(ctx context.Context, tenantID, email, name string, maxMembers int) (memberID string, created bool, err error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if maxMembers <= 0 {
		maxMembers = tenant.DefaultMaxMembers
	}
	name = truncateRunes(strings.TrimSpace(name), tenant.MaxMemberName)
	admin := tenant.WithActor(ctx, &tenant.Actor{Kind: tenant.Admin})
	err = s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		t, err := lockTenant(admin, tx, tenantID, false)
		if err != nil {
			return err
		}
		if t.Status == tenant.StatusSuspended {
			return tenant.Errorf(tenant.EFORBIDDEN, "this organisation is suspended; contact support")
		}
		var cfg struct {
			Enabled     bool        `db:"enabled"`
			DefaultRole tenant.Role `db:"default_role"`
		}
		if err := sqlx.GetContext(ctx, tx, &cfg, `SELECT s.sso_enabled AND c.tenant_id IS NOT NULL AS enabled, COALESCE(c.default_role, 'VIEWER') AS default_role
			FROM tenant_settings s LEFT JOIN sso_configs c ON c.tenant_id = s.tenant_id WHERE s.tenant_id = $1`, tenantID); err != nil {
			return err
		}
		if !cfg.Enabled {
			return tenant.Errorf(tenant.EFORBIDDEN, "single sign-on is not enabled for this organisation")
		}
		var m struct {
			ID     string              `db:"id"`
			Status tenant.MemberStatus `db:"status"`
		}
		err = sqlx.GetContext(ctx, tx, &m, `SELECT id, status FROM members WHERE tenant_id = $1 AND email = $2 FOR UPDATE`, tenantID, email)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			var n int
			if err := sqlx.GetContext(ctx, tx, &n, `SELECT count(*) FROM members WHERE tenant_id = $1`, tenantID); err != nil {
				return err
			}
			if n >= maxMembers {
				return tenant.MembersExceeded(maxMembers)
			}
			if cfg.DefaultRole == tenant.RoleOwner || !cfg.DefaultRole.Valid() {
				cfg.DefaultRole = tenant.RoleViewer
			}
			// Inserted INVITED then made ACTIVE: the events say
			// member.invited then member.joined, as for an invitation.
			if err := sqlx.GetContext(ctx, tx, &m.ID, `INSERT INTO members (tenant_id, email, name, role, status, created_at, created_by)
				VALUES ($1, $2, $3, $4, 'INVITED', $5, 'sso') RETURNING id`, tenantID, email, name, cfg.DefaultRole, now); err != nil {
				return err
			}
			m.Status, created = tenant.MemberInvited, true
		case err != nil:
			return err
		case m.Status == tenant.MemberDeactivated:
			return tenant.Errorf(tenant.EFORBIDDEN, "the member %s is deactivated in this organisation; an administrator can invite them again", email)
		}
		if m.Status == tenant.MemberInvited {
			if _, err := tx.ExecContext(ctx, `UPDATE members SET status = 'ACTIVE', name = CASE WHEN name = '' THEN $3 ELSE name END
				WHERE tenant_id = $1 AND id = $2`, tenantID, m.ID, name); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE member_tokens SET used_at = $3
				WHERE tenant_id = $1 AND member_id = $2 AND purpose = 'INVITATION' AND used_at IS NULL`, tenantID, m.ID, now); err != nil {
				return err
			}
		}
		memberID = m.ID
		return nil
	})
	return memberID, created, err
}

// SAMLAssertionSeen records the assertion id of tenantID as accepted until
// expires (its NotOnOrAfter), and drops the expired ones.
// Codes: ECONFLICT (the id was accepted before: a replay).
func (s *Store) SAMLAssertionSeen(ctx context.Context, tenantID, assertionID string, expires time.Time) error {
	return s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM saml_assertions_seen WHERE expires_at < $1`, now); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO saml_assertions_seen (tenant_id, assertion_id, expires_at) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, tenantID, assertionID, expires)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return tenant.Errorf(tenant.ECONFLICT, "this SAML assertion was already used: each assertion signs in once")
		}
		return nil
	})
}

// ssoEnforcedFor reports whether the tenant refuses password login (SSO
// enabled, enforced and ACTIVE).
func ssoEnforcedFor(ctx context.Context, q sqlx.QueryerContext, tenantID string) (bool, error) {
	var on bool
	err := sqlx.GetContext(ctx, q, &on, `SELECT COALESCE(s.sso_enabled AND c.enforced AND c.status = 'ACTIVE', false)
		FROM tenant_settings s LEFT JOIN sso_configs c ON c.tenant_id = s.tenant_id WHERE s.tenant_id = $1`, tenantID)
	return on, err
}
