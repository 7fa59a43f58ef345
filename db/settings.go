package db

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"tenantapi/tenant"
)

const settingsCols = `s.tenant_id, s.data_residency, s.encryption_enabled, s.audit_log_retention_days,
	s.sso_enabled, s.ip_allowlist::text[] AS ip_allowlist, s.deduplicate_tokens, s.version, s.updated_at, s.updated_by`

type settingsRow struct {
	tenant.Settings
	Allowlist pq.StringArray `db:"ip_allowlist"`
}

func (r *settingsRow) settings() *tenant.Settings {
	st := r.Settings
	st.IPAllowlist = []string(r.Allowlist)
	if st.IPAllowlist == nil {
		st.IPAllowlist = []string{}
	}
	return &st
}

// SettingsByTenant loads the settings of each tenant id, in key order; a
// tenant the caller may not see gets ENOTFOUND. It is a loader batch.
func (s *Store) SettingsByTenant(ctx context.Context, ids []string) ([]*tenant.Settings, []error) {
	all, own := scope(ctx)
	var rows []settingsRow
	err := s.selectBatch(ctx, &rows, `SELECT `+settingsCols+` FROM tenant_settings s
		WHERE s.tenant_id = ANY($1::uuid[]) AND ($2 OR s.tenant_id = $3)`, pq.Array(validIDs(ids)), all, own)
	return inKeyOrder(ids, rows, err, "settings", func(r *settingsRow) (string, *tenant.Settings) { return r.TenantID, r.settings() })
}

// UpdateSettings applies p to a tenant's settings as the caller.
// With p.ValidateOnly it runs every check and saves nothing.
// Codes: EINVALID (bad value, data residency change, lock-out), ENOTFOUND,
// ECONFLICT (version mismatch, deleted tenant).
func (s *Store) UpdateSettings(ctx context.Context, tenantID string, p tenant.SettingsPatch) (*tenant.Settings, error) {
	if err := p.Normalize(); err != nil {
		return nil, err
	}
	var out *tenant.Settings
	err := s.inTxDry(ctx, p.ValidateOnly, func(tx sqlx.ExtContext, now time.Time) error {
		if _, err := lockTenant(ctx, tx, tenantID, false); err != nil {
			return err
		}
		var err error
		out, err = updateSettings(ctx, tx, now, tenantID, &p, "")
		return err
	})
	return out, err
}

// updateSettings applies the normalized p to the settings of a tenant the
// transaction has locked, checking p.ExpectedVersion against the settings'
// version. Errors name their fields under prefix. A patch that changes
// nothing writes nothing (no new version).
func updateSettings(ctx context.Context, tx sqlx.ExtContext, now time.Time, tenantID string, p *tenant.SettingsPatch, prefix string) (*tenant.Settings, error) {
	if err := p.CheckLockout(ctx, tenantID); err != nil {
		return nil, tenant.Under(prefix, err)
	}
	var cur settingsRow
	if err := sqlx.GetContext(ctx, tx, &cur, `SELECT `+settingsCols+` FROM tenant_settings s WHERE s.tenant_id = $1 FOR UPDATE`, tenantID); err != nil {
		return nil, err
	}
	if err := checkVersion("expectedVersion", p.ExpectedVersion, cur.Version); err != nil {
		return nil, err
	}
	if p.DataResidency != nil && *p.DataResidency != cur.DataResidency {
		return nil, tenant.Invalid(prefix+"dataResidency", "%sdataResidency is fixed after tenant creation (it is %s); contact support to migrate the data", prefix, cur.DataResidency)
	}
	if p.Empty() {
		return cur.settings(), nil // nothing to change: no write, no new version
	}
	var allow any
	if p.IPAllowlist != nil {
		allow = pq.Array(p.IPAllowlist)
	}
	var row settingsRow
	err := sqlx.GetContext(ctx, tx, &row, `UPDATE tenant_settings AS s SET
		encryption_enabled = COALESCE($2, encryption_enabled),
		audit_log_retention_days = COALESCE($3, audit_log_retention_days),
		ip_allowlist = COALESCE($4::text[], ip_allowlist),
		deduplicate_tokens = COALESCE($5, deduplicate_tokens),
		version = version + 1, updated_at = $6, updated_by = $7
		WHERE tenant_id = $1 RETURNING `+settingsCols,
		tenantID, p.EncryptionEnabled, p.AuditLogRetentionDays, allow, p.DeduplicateTokens, now, tenant.ActorFrom(ctx).ActorID())
	if err != nil {
		return nil, err
	}
	return row.settings(), nil
}
