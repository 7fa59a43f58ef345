package db

import (
	"context"
	"strings"

	"github.com/jmoiron/sqlx"

	"tenantapi/tenant"
)

// SSOLoginByDomain reads how the tenant whose domain is domain signs its
// people in, without any secret: the sign-in page asks it (GET
// /auth/methods). It needs no actor: it tells what the tenant's login URL
// already tells anyone, and nothing about its members. Codes: ENOTFOUND
// (no tenant has that domain, or it is deleted).
func (s *Store) SSOLoginByDomain(ctx context.Context, domain string) (*tenant.SSOLogin, error) {
	domain = strings.ToLower(strings.TrimSpace(domain))
	if domain == "" || len(domain) > 253 {
		return nil, tenant.NotFound("tenant")
	}
	var l tenant.SSOLogin
	err := sqlx.GetContext(ctx, s.q(), &l, `SELECT t.id AS tenant_id, t.domain, t.status AS tenant_status, s.sso_enabled AS enabled,
			c.type, COALESCE(c.status, 'NOT_CONFIGURED') AS status, COALESCE(c.enforced, false) AS enforced
		FROM tenants t JOIN tenant_settings s ON s.tenant_id = t.id LEFT JOIN sso_configs c ON c.tenant_id = t.id
		WHERE t.domain = $1 AND t.status <> 'DELETED'`, domain)
	if err != nil {
		return nil, notFoundAs(err, "tenant")
	}
	return &l, nil
}
