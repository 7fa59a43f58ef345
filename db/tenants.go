package db

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"tenantapi/tenant"
)

const tenantCols = `t.id, t.name, t.domain, t.environment, t.plan_id, t.status, t.owner_id, t.owner_email,
	t.created_at, t.created_by, t.modified_at, t.modified_by, t.deleted_at, t.version`

// tenantVersionCols reads, with a tenant, its data version and the shared
// one (tenant.Tenant.DataVersion; migrations/00026_tenant_versions.sql): 1
// for a tenant written by no transaction since versions exist. Only reads
// carry them: a write's RETURNING would see the version before its own
// commit changes it.
const tenantVersionCols = `, COALESCE((SELECT v.version FROM tenant_versions v WHERE v.tenant_id = t.id), 1) AS data_version,
	COALESCE((SELECT v.version FROM tenant_versions v WHERE v.tenant_id = '00000000-0000-0000-0000-000000000000'), 1) AS shared_version`

// tenantReadCols is tenantCols with the versions, for a read.
const tenantReadCols = tenantCols + tenantVersionCols

// tenantColsAs is tenantCols aliased into the nested struct field prefix
// (t.id AS "prefix.id", ...), for a Tenant read alongside another row.
func tenantColsAs(prefix string) string {
	cols := strings.Split(tenantCols, ",")
	for i, c := range cols {
		c = strings.TrimSpace(c)
		cols[i] = c + ` AS "` + prefix + "." + strings.TrimPrefix(c, "t.") + `"`
	}
	v := strings.NewReplacer(`AS data_version`, `AS "`+prefix+`.data_version"`, `AS shared_version`, `AS "`+prefix+`.shared_version"`).Replace(tenantVersionCols)
	return strings.Join(cols, ", ") + v
}

// Tenant returns the tenant with id if the caller may see it.
// Codes: ENOTFOUND (missing, malformed or another tenant's id).
func (s *Store) Tenant(ctx context.Context, id string) (*tenant.Tenant, error) {
	if !tenant.ValidID(id) {
		return nil, tenant.NotFound("tenant")
	}
	all, own := scope(ctx)
	var t tenant.Tenant
	err := sqlx.GetContext(ctx, s.q(), &t, `SELECT `+tenantReadCols+` FROM tenants t
		WHERE t.id = $1 AND ($2 OR t.id = $3)`, id, all, own)
	if err != nil {
		return nil, notFoundAs(err, "tenant")
	}
	return &t, nil
}

func tenantWhere(ctx context.Context, f tenant.TenantFilter, args []any) (string, []any) {
	all, own := scope(ctx)
	args = append(args, all, own)
	w := fmt.Sprintf(`($%d OR t.id = $%d)`, len(args)-1, len(args))
	if len(f.Statuses) > 0 {
		args = append(args, pq.Array(strs(f.Statuses)))
		w += fmt.Sprintf(` AND t.status = ANY($%d)`, len(args))
	} else {
		w += ` AND t.status <> 'DELETED'`
	}
	if len(f.PlanIDs) > 0 {
		args = append(args, pq.Array(f.PlanIDs))
		w += fmt.Sprintf(` AND t.plan_id = ANY($%d)`, len(args))
	}
	if len(f.Environments) > 0 {
		args = append(args, pq.Array(strs(f.Environments)))
		w += fmt.Sprintf(` AND t.environment = ANY($%d)`, len(args))
	}
	if q := strings.TrimSpace(f.Search); q != "" {
		args = append(args, "%"+escapeLike(strings.ToLower(q))+"%")
		w += fmt.Sprintf(` AND (lower(t.name) LIKE $%d OR t.domain LIKE $%d)`, len(args), len(args))
	}
	return w, args
}

// strs is a list of enum values as the text[] lib/pq sends.
func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// tenantKeys is the order of the tenants list: newest first, by creation
// then id.
var tenantKeys = keyset{alias: "t", cols: []string{"created_at", "id"}, types: []string{"timestamptz", "uuid"}, desc: true,
	decode: func(c string) ([]any, error) {
		at, id, err := DecodeCursor(c)
		return []any{at, id}, err
	}}

// Tenants reads page of the tenants matching f, newest first (pageOf).
// Codes: EINVALID (malformed cursor).
func (s *Store) Tenants(ctx context.Context, f tenant.TenantFilter, page Page) ([]*tenant.Tenant, tenant.PageEnds, error) {
	cond, args := tenantWhere(ctx, f, nil)
	return pageOf[tenant.Tenant](ctx, s, page, list{cols: tenantReadCols, from: `tenants t`, cond: cond, args: args, key: tenantKeys})
}

// CountTenants counts the tenants matching f.
func (s *Store) CountTenants(ctx context.Context, f tenant.TenantFilter) (int, error) {
	cond, args := tenantWhere(ctx, f, nil)
	var n int
	err := sqlx.GetContext(ctx, s.q(), &n, `SELECT count(*) FROM tenants t WHERE `+cond, args...)
	return n, translate(err)
}

// Cursor encodes a tenant's position in the admin list.
func Cursor(t *tenant.Tenant) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t.CreatedAt.UnixMicro(), 10) + ":" + t.ID))
}

// DecodeCursor is the inverse of Cursor.
func DecodeCursor(c string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", err
	}
	ts, id, ok := strings.Cut(string(b), ":")
	us, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil || !tenant.ValidID(id) {
		return time.Time{}, "", errors.New("bad cursor")
	}
	return time.UnixMicro(us).UTC(), id, nil
}

// CreateTenant is CreateConfiguredTenant without the generated webhook
// secret.
func (s *Store) CreateTenant(ctx context.Context, in tenant.CreateTenant) (*tenant.Tenant, error) {
	t, _, err := s.CreateConfiguredTenant(ctx, in)
	return t, err
}

// CreateConfiguredTenant creates a tenant with its settings and whatever of
// its configuration in gives (notification channels, keywords, industries,
// risk matrix, website validation defaults, billing), as the caller, in one
// transaction: when any part is refused nothing is created, and the error
// names the part's field under its input (riskMatrix.weights[1].weight).
// It returns the webhook secret generated for a webhook URL given without
// one ("" otherwise): the only time it is shown. With in.ValidateOnly it
// runs every check and every write, rolls them back and returns a nil
// tenant and no secret: a dry run never shows an id that does not exist.
// Codes: EINVALID (bad input, unknown plan), ECONFLICT (domain taken in
// the environment), EFORBIDDEN (billing.status without tenant:manage).
func (s *Store) CreateConfiguredTenant(ctx context.Context, in tenant.CreateTenant) (*tenant.Tenant, string, error) {
	if err := in.Normalize(); err != nil {
		return nil, "", err
	}
	if in.NotificationChannels != nil && s.Sealer == nil {
		return nil, "", errors.New("db: Store.Sealer is required to store webhook secrets")
	}
	var secret string
	by := tenant.ActorFrom(ctx).ActorID()
	var t tenant.Tenant
	err := s.inTxDry(ctx, in.ValidateOnly, func(tx sqlx.ExtContext, now time.Time) error {
		if err := checkPlan(ctx, tx, "plan", in.PlanID); err != nil {
			return err
		}
		err := sqlx.GetContext(ctx, tx, &t, `INSERT INTO tenants AS t
			(name, domain, environment, plan_id, owner_id, owner_email, created_at, created_by, modified_at, modified_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7, $8) RETURNING `+tenantCols,
			in.Name, in.Domain, in.Environment, in.PlanID, in.OwnerID, in.OwnerEmail, now, by)
		if err != nil {
			return domainConflict(err, in.Domain, in.Environment)
		}
		st := in.Settings
		retention := tenant.DefaultRetentionDays
		if st.AuditLogRetentionDays != nil {
			retention = *st.AuditLogRetentionDays
		}
		allow := st.IPAllowlist
		if allow == nil {
			allow = []string{}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO tenant_settings
			(tenant_id, data_residency, encryption_enabled, audit_log_retention_days, ip_allowlist, deduplicate_tokens, updated_at, updated_by)
			VALUES ($1, $2, $3, $4, $5::text[], $6, $7, $8)`,
			t.ID, in.DataResidency, boolOr(st.EncryptionEnabled, true), retention, pq.Array(allow),
			boolOr(st.DeduplicateTokens, false), now, by)
		if err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `INSERT INTO usage_counters (tenant_id) VALUES ($1)`, t.ID); err != nil {
			return err
		}
		if in.OwnerEmail != nil {
			if err := createOwnerMember(ctx, tx, t.ID, *in.OwnerEmail, by, now); err != nil { // docs/members.md
				return err
			}
		}
		secret, err = s.createConfig(ctx, tx, now, t.ID, &in)
		return err
	})
	if err != nil || in.ValidateOnly {
		return nil, "", err
	}
	return &t, secret, nil
}

// createConfig saves the nested configuration of a tenant being created,
// each part with the helper its own mutation uses, errors named under the
// part's field.
func (s *Store) createConfig(ctx context.Context, tx sqlx.ExtContext, now time.Time, id string, in *tenant.CreateTenant) (string, error) {
	var secret string
	if p := in.NotificationChannels; p != nil {
		var err error
		if _, secret, err = s.updateNotificationChannels(ctx, tx, now, id, p); err != nil {
			return "", tenant.Under("notificationChannels.", err)
		}
	}
	if k := in.Keywords; k != nil {
		if _, err := updateKeywords(ctx, tx, now, id, k.Keywords, nil); err != nil {
			return "", tenant.Under("keywords.", err)
		}
	}
	if i := in.Industries; i != nil {
		if _, err := updateIndustries(ctx, tx, now, id, i); err != nil {
			return "", tenant.Under("industries.", err)
		}
	}
	if in.RiskMatrix != nil {
		if _, err := updateRiskMatrix(ctx, tx, now, id, in.RiskWeights, nil); err != nil {
			return "", tenant.Under("riskMatrix.", err)
		}
	}
	if w := in.WebsiteConfig; w != nil {
		if _, err := updateWebsiteConfig(ctx, tx, now, id, w); err != nil {
			return "", tenant.Under("websiteConfig.", err)
		}
	}
	if b := in.Billing; b != nil {
		if _, err := updateBilling(ctx, tx, now, id, b); err != nil {
			return "", tenant.Under("billing.", err)
		}
	}
	return secret, nil
}

func boolOr(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

// checkPlan refuses an unknown plan id, naming the plans that exist.
func checkPlan(ctx context.Context, tx sqlx.ExtContext, field, id string) error {
	var ids []string
	if err := sqlx.SelectContext(ctx, tx, &ids, `SELECT id FROM plans ORDER BY rank`); err != nil {
		return err
	}
	for _, p := range ids {
		if p == id {
			return nil
		}
	}
	return tenant.Invalid(field, "%s must be one of %s, got %q", field, strings.Join(ids, ", "), id)
}

// domainConflict turns the unique violation of (domain, environment) into
// a CONFLICT on domain that names both: a tenant of the same domain in
// another environment is no conflict.
func domainConflict(err error, domain string, env tenant.Environment) error {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23505" && pqErr.Constraint == "tenants_domain_environment_key" {
		return &tenant.Error{Code: tenant.ECONFLICT, Field: "domain",
			Message: fmt.Sprintf("domain %s is already registered to a %s tenant: a domain has at most one tenant per environment", domain, env)}
	}
	return err
}

// UpdateTenant changes a tenant's name, domain or status and, with
// p.Settings, its settings, and returns both as saved: all in one transaction, under the one
// p.ExpectedVersion (the tenant's version), so either every part is saved
// or none. A change to anything (settings included) adds one to the
// tenant's version; a settings change also adds one to the settings'
// version. With p.ValidateOnly it runs every check and saves nothing.
// Codes: EINVALID (fields under "settings." for the settings), ENOTFOUND,
// ECONFLICT (domain taken in the tenant's environment, version mismatch,
// deleted tenant), EFORBIDDEN
// (status without tenant:manage).
func (s *Store) UpdateTenant(ctx context.Context, id string, p tenant.TenantPatch) (*tenant.Tenant, *tenant.Settings, error) {
	if err := p.Normalize(); err != nil {
		return nil, nil, err
	}
	actor := tenant.ActorFrom(ctx)
	var t *tenant.Tenant
	var st *tenant.Settings
	err := s.inTxDry(ctx, p.ValidateOnly, func(tx sqlx.ExtContext, now time.Time) error {
		cur, err := lockTenant(ctx, tx, id, false)
		if err != nil {
			return err
		}
		if err := checkVersion("expectedVersion", p.ExpectedVersion, cur.Version); err != nil {
			return err
		}
		if p.Status != nil && *p.Status != cur.Status && !actor.Has(tenant.PermTenantManage) {
			return &tenant.Error{Code: tenant.EFORBIDDEN, Field: "status", Message: "changing a tenant's status needs the TENANT_MANAGE permission"}
		}
		settingsChanged := p.Settings != nil && !p.Settings.Empty()
		if p.Settings != nil {
			// The tenant's version guards the whole change: the settings'
			// own version is not checked here.
			sp := *p.Settings
			sp.ExpectedVersion = nil
			if st, err = updateSettings(ctx, tx, now, id, &sp, "settings."); err != nil {
				return err
			}
		} else {
			var row settingsRow
			if err := sqlx.GetContext(ctx, tx, &row, `SELECT `+settingsCols+` FROM tenant_settings s WHERE s.tenant_id = $1`, id); err != nil {
				return err
			}
			st = row.settings()
		}
		if p.Name == nil && p.Domain == nil && p.Status == nil && !settingsChanged {
			t = cur // nothing to change: no write, no new version
			return nil
		}
		t = new(tenant.Tenant)
		err = sqlx.GetContext(ctx, tx, t, `UPDATE tenants AS t SET
			name = COALESCE($2, name), domain = COALESCE($3, domain), status = COALESCE($4, status),
			modified_at = $5, modified_by = $6, version = version + 1
			WHERE id = $1 RETURNING `+tenantCols, id, p.Name, p.Domain, p.Status, now, actor.ActorID())
		if err != nil && p.Domain != nil {
			return domainConflict(err, *p.Domain, cur.Environment)
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return t, st, nil
}

// DeleteTenant soft-deletes a tenant: its status becomes DELETED and its API
// keys stop working at once. It can be restored for 30 days. With
// validateOnly it runs every check, saves nothing and returns the tenant as
// it would be. Codes: ENOTFOUND, ECONFLICT (already deleted, version mismatch).
func (s *Store) DeleteTenant(ctx context.Context, id string, expectedVersion *int, validateOnly bool) (*tenant.Tenant, error) {
	by := tenant.ActorFrom(ctx).ActorID()
	var t tenant.Tenant
	err := s.inTxDry(ctx, validateOnly, func(tx sqlx.ExtContext, now time.Time) error {
		cur, err := lockTenant(ctx, tx, id, false)
		if err != nil {
			return err
		}
		if err := checkVersion("expectedVersion", expectedVersion, cur.Version); err != nil {
			return err
		}
		return sqlx.GetContext(ctx, tx, &t, `UPDATE tenants AS t SET status = 'DELETED', deleted_at = $2,
			modified_at = $2, modified_by = $3, version = version + 1 WHERE id = $1 RETURNING `+tenantCols, id, now, by)
	})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// RestoreTenant brings a soft-deleted tenant back within 30 days.
// Codes: ENOTFOUND, ECONFLICT (not deleted, window over).
func (s *Store) RestoreTenant(ctx context.Context, id string) (*tenant.Tenant, error) {
	by := tenant.ActorFrom(ctx).ActorID()
	var t tenant.Tenant
	err := s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		cur, err := lockTenant(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if cur.Status != tenant.StatusDeleted {
			return tenant.Errorf(tenant.ECONFLICT, "tenant is not deleted (status %s)", cur.Status)
		}
		if end := cur.DeletedAt.Add(tenant.RestoreWindow); now.After(end) {
			return tenant.Errorf(tenant.ECONFLICT, "the 30-day restore window ended at %s", end.UTC().Format(time.RFC3339))
		}
		return sqlx.GetContext(ctx, tx, &t, `UPDATE tenants AS t SET status = 'ACTIVE', deleted_at = NULL,
			modified_at = $2, modified_by = $3, version = version + 1 WHERE id = $1 RETURNING `+tenantCols, id, now, by)
	})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// notFoundAs turns "no rows" into ENOTFOUND for what.
func notFoundAs(err error, what string) error {
	err = translate(err)
	if tenant.ErrorCode(err) == tenant.ENOTFOUND {
		return tenant.NotFound(what)
	}
	return err
}
