package db

import (
	"context"
	"log/slog"
	"net/netip"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"tenantapi/tenant"
)

const apiKeyCols = `k.id, k.tenant_id, k.name, k.prefix, k.permissions, k.created_at, k.created_by,
	k.expires_at, k.last_used_at, k.revoked_at`

type apiKeyRow struct {
	tenant.APIKeyRecord
	Perms pq.StringArray `db:"permissions"`
}

func (r *apiKeyRow) record() *tenant.APIKeyRecord {
	k := r.APIKeyRecord
	k.Permissions = make([]tenant.Permission, len(r.Perms))
	for i, p := range r.Perms {
		k.Permissions[i] = tenant.Permission(p)
	}
	return &k
}

// lastUsedGranularity bounds how often authentication writes lastUsedAt:
// at most once a minute per key, off the request path.
const lastUsedGranularity = time.Minute

// authenticateQuery reads a key with its tenant, the tenant's allowlist and
// its plan's API rate (built once: the tenant's columns are aliased into
// Actor.Tenant's fields).
var authenticateQuery = `SELECT ` + apiKeyCols + `, ` + tenantColsAs("tenant") + `,
		COALESCE(st.ip_allowlist::text[], '{}') AS ip_allowlist, p.api_requests_per_minute
		FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
		JOIN plans p ON p.id = t.plan_id
		LEFT JOIN tenant_settings st ON st.tenant_id = k.tenant_id
		WHERE k.key_hash = $1`

// Authenticate resolves a well-formed API key to its actor, with its
// tenant (Actor.Tenant), the tenant's IP allowlist and its plan's API rate,
// in one statement.
// Codes: EUNAUTHENTICATED (unknown, revoked or expired key, deleted
// tenant), EFORBIDDEN (suspended tenant).
func (s *Store) Authenticate(ctx context.Context, key string) (*tenant.Actor, error) {
	var row struct {
		apiKeyRow
		Tenant    tenant.Tenant  `db:"tenant"`
		Allowlist pq.StringArray `db:"ip_allowlist"`
		PerMinute int            `db:"api_requests_per_minute"`
	}
	err := sqlx.GetContext(ctx, s.q(), &row, authenticateQuery, tenant.HashKey(key))
	if err != nil {
		err = translate(err)
		if tenant.ErrorCode(err) == tenant.ENOTFOUND {
			return nil, tenant.Errorf(tenant.EUNAUTHENTICATED, "API key not recognised")
		}
		return nil, err
	}
	k := row.record()
	now := s.Now()
	switch k.Status(now) {
	case tenant.KeyRevoked:
		return nil, tenant.Errorf(tenant.EUNAUTHENTICATED, "API key %s… was revoked at %s", k.Prefix, k.RevokedAt.UTC().Format(time.RFC3339))
	case tenant.KeyExpired:
		return nil, tenant.Errorf(tenant.EUNAUTHENTICATED, "API key %s… expired at %s", k.Prefix, k.ExpiresAt.UTC().Format(time.RFC3339))
	}
	switch row.Tenant.Status {
	case tenant.StatusDeleted:
		return nil, tenant.Errorf(tenant.EUNAUTHENTICATED, "API key not recognised")
	case tenant.StatusSuspended:
		return nil, tenant.Errorf(tenant.EFORBIDDEN, "this tenant is suspended; contact support")
	}
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) > lastUsedGranularity {
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if _, err := s.q().ExecContext(ctx, `UPDATE api_keys SET last_used_at = $3
				WHERE tenant_id = $1 AND id = $2 AND (last_used_at IS NULL OR last_used_at < $3)`, k.TenantID, k.ID, now); err != nil {
				slog.Warn("recording API key use failed", "key_id", k.ID, "err", err)
			}
		}()
	}
	allow := make([]netip.Prefix, 0, len(row.Allowlist))
	for _, a := range row.Allowlist {
		if p, err := netip.ParsePrefix(a); err == nil {
			allow = append(allow, p)
		}
	}
	return &tenant.Actor{Kind: tenant.APIKey, KeyID: k.ID, TenantID: k.TenantID, Permissions: k.Permissions, IPAllowlist: allow,
		RequestsPerMinute: row.PerMinute, Tenant: &row.Tenant}, nil
}

// CreateAPIKey creates a key for in.TenantID and returns it with its secret,
// which is never stored nor shown again.
// Codes: EINVALID, EFORBIDDEN (a permission the creator lacks), ENOTFOUND,
// ECONFLICT (deleted tenant).
func (s *Store) CreateAPIKey(ctx context.Context, in tenant.NewAPIKeyInput) (*tenant.APIKeyRecord, string, error) {
	actor := tenant.ActorFrom(ctx)
	if err := in.Normalize(actor, s.Now()); err != nil {
		return nil, "", err
	}
	secret := tenant.NewAPIKey()
	perms := make([]string, len(in.Permissions))
	for i, p := range in.Permissions {
		perms[i] = string(p)
	}
	var row apiKeyRow
	err := s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		if _, err := lockTenant(ctx, tx, in.TenantID, false); err != nil {
			return err
		}
		return sqlx.GetContext(ctx, tx, &row, `INSERT INTO api_keys AS k
			(tenant_id, name, prefix, key_hash, permissions, created_at, created_by, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING `+apiKeyCols,
			in.TenantID, in.Name, tenant.KeyDisplayPrefix(secret), tenant.HashKey(secret), pq.Array(perms), now, actor.ActorID(), in.ExpiresAt)
	})
	if err != nil {
		return nil, "", err
	}
	return row.record(), secret, nil
}

// RevokeAPIKey revokes the key with id; revoking a revoked key is a no-op.
// Codes: ENOTFOUND (missing or another tenant's key).
func (s *Store) RevokeAPIKey(ctx context.Context, id string) (*tenant.APIKeyRecord, error) {
	if !tenant.ValidID(id) {
		return nil, tenant.NotFound("API key")
	}
	all, own := scope(ctx)
	by := tenant.ActorFrom(ctx).ActorID()
	var row apiKeyRow
	err := s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		return sqlx.GetContext(ctx, tx, &row, `UPDATE api_keys AS k
			SET revoked_at = COALESCE(revoked_at, $4), revoked_by = COALESCE(revoked_by, $5)
			WHERE k.id = $1 AND ($2 OR k.tenant_id = $3) RETURNING `+apiKeyCols, id, all, own, now, by)
	})
	if err != nil {
		return nil, notFoundAs(err, "API key")
	}
	return row.record(), nil
}

// APIKeysByTenant loads every key of each tenant, newest first, in key
// order. It is a loader batch.
func (s *Store) APIKeysByTenant(ctx context.Context, ids []string) ([][]*tenant.APIKeyRecord, []error) {
	all, own := scope(ctx)
	var rows []apiKeyRow
	err := s.selectBatch(ctx, &rows, `SELECT `+apiKeyCols+` FROM api_keys k
		WHERE k.tenant_id = ANY($1::uuid[]) AND ($2 OR k.tenant_id = $3)
		ORDER BY k.created_at DESC, k.id`, pq.Array(validIDs(ids)), all, own)
	out := make([][]*tenant.APIKeyRecord, len(ids))
	errs := make([]error, len(ids))
	if err != nil {
		err = translate(err)
		for i := range errs {
			errs[i] = err
		}
		return out, errs
	}
	byTenant := make(map[string][]*tenant.APIKeyRecord, len(ids))
	for i := range rows {
		r := rows[i].record()
		byTenant[r.TenantID] = append(byTenant[r.TenantID], r)
	}
	for i, id := range ids {
		out[i] = byTenant[id]
		if out[i] == nil {
			out[i] = []*tenant.APIKeyRecord{}
		}
	}
	return out, errs
}
