package db

import (
	"context"
	"strings"

	"github.com/jmoiron/sqlx"

	"tenantapi/tenant"
)

// SSOLoginsByDomain reads how the tenants whose domain is domain sign
// their people in, without any secret: the sign-in page asks it (GET
// /auth/methods). A domain has at most one tenant per environment
// ((domain, environment) is unique), so there is at most one login per
// environment; deleted tenants are left out, and an unknown domain has
// none. It needs no actor: it tells what each tenant's login URL already
// tells anyone, and nothing about their members.
func (s *Store) SSOLoginsByDomain(ctx context.Context, domain string) ([]*tenant.SSOLogin, error) {
	domain = strings.ToLower(strings.TrimSpace(domain))
	if domain == "" || len(domain) > 253 {
		return nil, nil
	}
	var out []*tenant.SSOLogin
	err := sqlx.SelectContext(ctx, s.q(), &out, `SELECT t.id AS tenant_id, t.domain, t.environment, t.status AS tenant_status, s.sso_enabled AS enabled,
			c.type, COALESCE(c.status, 'NOT_CONFIGURED') AS status, COALESCE(c.enforced, false) AS enforced
		FROM tenants t JOIN tenant_settings s ON s.tenant_id = t.id LEFT JOIN sso_configs c ON c.tenant_id = t.id
		WHERE t.domain = $1 AND t.status <> 'DELETED'`, domain)
	return out, translate(err)
}
