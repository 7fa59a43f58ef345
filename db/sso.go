package db

import (
	"context"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"tenantapi/tenant"
)

// ssoCols reads a tenant's SSO configuration from its settings (whether SSO
// is on) left-joined to sso_configs (the configuration, if any), so a tenant
// that configured nothing reads as NOT_CONFIGURED at version 0. Secrets,
// certificates and inline metadata are never selected here.
const ssoCols = `s.tenant_id, s.sso_enabled AS enabled, c.type, COALESCE(c.status, 'NOT_CONFIGURED') AS status,
	c.client_id, c.client_secret_hint, c.discovery_url, c.redirect_uri, c.entity_id, c.idp_metadata_url,
	c.directory_tenant_id, c.entra_cloud, COALESCE(c.default_role, 'VIEWER') AS default_role,
	COALESCE(c.enforced, false) AS enforced, c.idp_cert_expires_at, c.sp_cert_expires_at, c.last_test_at, c.last_test_result,
	c.last_test_error, COALESCE(c.version, 0) AS version, c.updated_at, c.updated_by`

const ssoFrom = ` FROM tenant_settings s LEFT JOIN sso_configs c ON c.tenant_id = s.tenant_id`

// SSOByTenant loads the SSO configuration of each tenant id, in key order;
// a tenant the caller may not see gets ENOTFOUND. It is a loader batch.
func (s *Store) SSOByTenant(ctx context.Context, ids []string) ([]*tenant.SSOConfig, []error) {
	all, own := scope(ctx)
	var rows []tenant.SSOConfig
	err := s.selectBatch(ctx, &rows, `SELECT `+ssoCols+ssoFrom+`
		WHERE s.tenant_id = ANY($1::uuid[]) AND ($2 OR s.tenant_id = $3)`, pq.Array(validIDs(ids)), all, own)
	return inKeyOrder(ids, rows, err, "sso configuration", func(r *tenant.SSOConfig) (string, *tenant.SSOConfig) { return r.TenantID, r })
}

func getSSO(ctx context.Context, tx sqlx.ExtContext, tenantID string) (*tenant.SSOConfig, error) {
	var c tenant.SSOConfig
	if err := sqlx.GetContext(ctx, tx, &c, `SELECT `+ssoCols+ssoFrom+` WHERE s.tenant_id = $1`, tenantID); err != nil {
		return nil, err
	}
	return &c, nil
}

// EnableSSO saves the tenant's SSO configuration (when in.Setup is set;
// otherwise it re-enables the kept one) and turns SSO on, in one
// transaction with settings.ssoEnabled. A new or changed configuration is
// CONFIGURED again, its earlier test forgotten. The client secret is sealed
// with the Store's Sealer for the tenant; an omitted secret keeps the stored
// one of the same type. With in.ValidateOnly it runs every check and saves
// nothing; the result shows the configuration as it would be.
// Codes: EINVALID (bad input, missing secret or provider), ENOTFOUND,
// ECONFLICT (version mismatch, deleted tenant).
func (s *Store) EnableSSO(ctx context.Context, tenantID string, in tenant.EnableSSO) (*tenant.SSOConfig, error) {
	if err := in.Normalize(s.Now()); err != nil {
		return nil, err
	}
	if in.DefaultRole != nil {
		if err := tenant.CheckSSODefaultRole(*in.DefaultRole); err != nil {
			return nil, err
		}
		if err := tenant.CanGrant(tenant.ActorFrom(ctx), *in.DefaultRole, "defaultRole"); err != nil {
			return nil, err
		}
	}
	by := tenant.ActorFrom(ctx).ActorID()
	var out *tenant.SSOConfig
	err := s.inTxDry(ctx, in.ValidateOnly, func(tx sqlx.ExtContext, now time.Time) error {
		if _, err := lockTenant(ctx, tx, tenantID, false); err != nil {
			return err
		}
		cur, err := getSSO(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		if err := checkVersion("expectedVersion", in.ExpectedVersion, cur.Version); err != nil {
			return err
		}
		switch {
		case in.Setup != nil:
			if err := s.saveSSO(ctx, tx, tenantID, cur, in.Setup, now, by); err != nil {
				return err
			}
		case cur.Type == nil:
			return tenant.Invalid("provider", "provider is required: this tenant has no SSO configuration to re-enable; give one of provider.oidc, provider.saml or provider.entraId")
		case !cur.Enabled || in.DefaultRole != nil || in.Enforced != nil:
			if _, err := tx.ExecContext(ctx, `UPDATE sso_configs SET version = version + 1, updated_at = $2, updated_by = $3
				WHERE tenant_id = $1`, tenantID, now, by); err != nil {
				return err
			}
		}
		if in.DefaultRole != nil || in.Enforced != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE sso_configs SET default_role = COALESCE($2, default_role), enforced = COALESCE($3, enforced)
				WHERE tenant_id = $1`, tenantID, in.DefaultRole, in.Enforced); err != nil {
				return err
			}
		}
		if err := setSSOEnabled(ctx, tx, tenantID, true, now, by); err != nil {
			return err
		}
		out, err = getSSO(ctx, tx, tenantID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// saveSSO writes a validated configuration over the current one, clearing
// the fields of other types and the last test.
func (s *Store) saveSSO(ctx context.Context, tx sqlx.ExtContext, tenantID string, cur *tenant.SSOConfig, in *tenant.SSOSetup, now time.Time, by string) error {
	var sealed, hint *string
	if in.NeedsSecret() {
		switch {
		case in.ClientSecret != "":
			if s.Sealer == nil {
				return errors.New("db: the Store has no Sealer to encrypt SSO client secrets")
			}
			v := s.Sealer.Seal(tenantID, []byte(in.ClientSecret))
			sealed, hint = &v, tenant.SecretHint(in.ClientSecret)
		case cur.Type == nil || *cur.Type != in.Type:
			return tenant.Invalid(in.SecretField, "%s is required when configuring %s for the first time; it can be left out only to keep the stored secret of the same type", in.SecretField, in.Type)
		default:
			// Keep the stored secret and hint (COALESCE below).
		}
	}
	args := []any{tenantID, in.Type, in.ClientID, sealed, hint, in.DiscoveryURL, in.RedirectURI, in.EntityID, in.IdpMetadataURL,
		in.IdpMetadataXML, in.SpX509Cert, in.IdpX509Cert, in.SpCertExpiresAt, in.IdpCertExpiresAt, in.DirectoryTenantID, now, by, in.EntraCloud}
	if cur.Type == nil {
		_, err := tx.ExecContext(ctx, `INSERT INTO sso_configs (tenant_id, type, status, client_id, client_secret_sealed,
				client_secret_hint, discovery_url, redirect_uri, entity_id, idp_metadata_url, idp_metadata_xml, sp_x509_cert,
				idp_x509_cert, sp_cert_expires_at, idp_cert_expires_at, directory_tenant_id, version, updated_at, updated_by, entra_cloud)
			VALUES ($1, $2, 'CONFIGURED', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1, $16, $17, $18)`, args...)
		return err
	}
	// A nil sealed secret keeps the stored one (same type, checked above)
	// or, for a type without secret, clears it.
	_, err := tx.ExecContext(ctx, `UPDATE sso_configs SET type = $2, status = 'CONFIGURED', client_id = $3,
			client_secret_sealed = CASE WHEN $19 THEN COALESCE($4, client_secret_sealed) END,
			client_secret_hint = CASE WHEN $19 THEN (CASE WHEN $4::text IS NULL THEN client_secret_hint ELSE $5 END) END,
			discovery_url = $6, redirect_uri = $7, entity_id = $8, idp_metadata_url = $9, idp_metadata_xml = $10,
			sp_x509_cert = $11, idp_x509_cert = $12, sp_cert_expires_at = $13, idp_cert_expires_at = $14,
			directory_tenant_id = $15, entra_cloud = $18, last_test_at = NULL, last_test_result = NULL, last_test_error = NULL,
			version = version + 1, updated_at = $16, updated_by = $17
		WHERE tenant_id = $1`, append(args, in.NeedsSecret())...)
	return err
}

// setSSOEnabled sets settings.ssoEnabled, counting a change in the
// settings' version.
func setSSOEnabled(ctx context.Context, tx sqlx.ExtContext, tenantID string, on bool, now time.Time, by string) error {
	_, err := tx.ExecContext(ctx, `UPDATE tenant_settings SET sso_enabled = $2, version = version + 1, updated_at = $3, updated_by = $4
		WHERE tenant_id = $1 AND sso_enabled <> $2`, tenantID, on, now, by)
	return err
}

// DisableSSO turns SSO off and keeps the configuration, so enableSso
// without a provider turns it back on. Disabling a disabled SSO changes
// nothing. With validateOnly it runs every check and saves nothing.
// Codes: ENOTFOUND, ECONFLICT (version mismatch, deleted tenant).
func (s *Store) DisableSSO(ctx context.Context, tenantID string, expectedVersion *int, validateOnly bool) (*tenant.SSOConfig, error) {
	by := tenant.ActorFrom(ctx).ActorID()
	var out *tenant.SSOConfig
	err := s.inTxDry(ctx, validateOnly, func(tx sqlx.ExtContext, now time.Time) error {
		if _, err := lockTenant(ctx, tx, tenantID, false); err != nil {
			return err
		}
		cur, err := getSSO(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		if err := checkVersion("expectedVersion", expectedVersion, cur.Version); err != nil {
			return err
		}
		if !cur.Enabled {
			out = cur
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sso_configs SET version = version + 1, updated_at = $2, updated_by = $3
			WHERE tenant_id = $1`, tenantID, now, by); err != nil {
			return err
		}
		if err := setSSOEnabled(ctx, tx, tenantID, false, now, by); err != nil {
			return err
		}
		out, err = getSSO(ctx, tx, tenantID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SSOProvider returns what testing the tenant's identity provider needs.
// Codes: ENOTFOUND, ECONFLICT (nothing configured, deleted tenant).
func (s *Store) SSOProvider(ctx context.Context, tenantID string) (*tenant.SSOProvider, error) {
	if !tenant.ValidID(tenantID) {
		return nil, tenant.NotFound("tenant")
	}
	all, own := scope(ctx)
	var row struct {
		tenant.SSOProvider
		Status     tenant.Status `db:"status"`
		Configured bool          `db:"configured"`
	}
	err := sqlx.GetContext(ctx, s.q(), &row, `SELECT t.id AS tenant_id, t.status, c.tenant_id IS NOT NULL AS configured,
			COALESCE(c.type, '') AS type, COALESCE(c.discovery_url, '') AS discovery_url,
			COALESCE(c.idp_metadata_url, '') AS idp_metadata_url, COALESCE(c.idp_metadata_xml, '') AS idp_metadata_xml,
			COALESCE(c.idp_x509_cert, '') AS idp_x509_cert, COALESCE(c.directory_tenant_id, '') AS directory_tenant_id,
			COALESCE(c.entra_cloud, 'GLOBAL') AS entra_cloud,
			COALESCE(c.version, 0) AS version
		FROM tenants t LEFT JOIN sso_configs c ON c.tenant_id = t.id
		WHERE t.id = $1 AND ($2 OR t.id = $3)`, tenantID, all, own)
	if err != nil {
		return nil, notFoundAs(err, "tenant")
	}
	switch {
	case row.Status == tenant.StatusDeleted:
		return nil, tenant.Errorf(tenant.ECONFLICT, "tenant is deleted; restore it with restoreTenant first")
	case !row.Configured:
		return nil, tenant.Errorf(tenant.ECONFLICT, "this tenant has no SSO configuration to test; save one with enableSso first")
	}
	return &row.SSOProvider, nil
}

// RecordSSOTest stores the outcome of a test of the configuration at
// version: problem "" is a success (status ACTIVE), otherwise a failure
// (status ERROR) with problem as lastTestError. A configuration changed
// since it was read is not marked with a test of the old one. A failure
// also writes sso.test_failed. Codes: ENOTFOUND, ECONFLICT (configuration changed meanwhile, deleted tenant).
func (s *Store) RecordSSOTest(ctx context.Context, tenantID string, version int, problem string) (*tenant.SSOConfig, error) {
	result, status := tenant.SSOTestSuccess, tenant.SSOActive
	var msg *string
	if problem != "" {
		result, status, msg = tenant.SSOTestFailure, tenant.SSOError, &problem
	}
	var out *tenant.SSOConfig
	err := s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		if _, err := lockTenant(ctx, tx, tenantID, false); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE sso_configs SET last_test_at = $3, last_test_result = $4, last_test_error = $5, status = $6
			WHERE tenant_id = $1 AND version = $2`, tenantID, version, now, result, msg, status)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return tenant.Errorf(tenant.ECONFLICT, "the SSO configuration changed while it was being tested; run testSso again")
		}
		out, err = getSSO(ctx, tx, tenantID)
		if err != nil || problem == "" {
			return err
		}
		// Every failed test is news: sso.test_failed next to sso.tested.
		return emitEvent(ctx, tx, tenantID, tenant.TypeSSOTestFailed, tenantID, map[string]any{
			"tenantId": tenantID, "status": status, "lastTestAt": now, "lastTestResult": result,
			"lastTestError": problem, "version": version,
		}, "sso_configs.update")
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
