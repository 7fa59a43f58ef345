package db

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
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
// which is never stored nor shown again. The tenant's row is locked first,
// so concurrent creations count its active keys one after another: at most
// in.MaxActive (default tenant.DefaultMaxActiveAPIKeys) are ever active.
// A key created by an API key that expires must expire at or before it.
// Codes: EINVALID (input, or an expiresAt that outlives the creating key),
// EFORBIDDEN (a permission the creator lacks), ENOTFOUND, ECONFLICT
// (deleted tenant, or the cap of active keys reached).
func (s *Store) CreateAPIKey(ctx context.Context, in tenant.NewAPIKeyInput) (*tenant.APIKeyRecord, string, error) {
	actor := tenant.ActorFrom(ctx)
	if err := in.Normalize(actor, s.Now()); err != nil {
		return nil, "", err
	}
	limit := in.MaxActive
	if limit <= 0 {
		limit = tenant.DefaultMaxActiveAPIKeys
	}
	secret := tenant.NewAPIKey()
	perms := make([]string, len(in.Permissions))
	for i, p := range in.Permissions {
		perms[i] = string(p)
	}
	var row apiKeyRow
	err := s.inTxDry(ctx, in.ValidateOnly, func(tx sqlx.ExtContext, now time.Time) error {
		if actor.Kind == tenant.APIKey {
			// The creator's expiry as stored now, not as read at
			// authentication: one statement, on the primary key.
			var creator *time.Time
			if err := sqlx.GetContext(ctx, tx, &creator, `SELECT expires_at FROM api_keys WHERE tenant_id = $1 AND id = $2`,
				actor.TenantID, actor.KeyID); err != nil {
				return err
			}
			if err := tenant.CheckOutlives(creator, in.ExpiresAt); err != nil {
				return err
			}
		}
		if _, err := lockTenant(ctx, tx, in.TenantID, false); err != nil {
			return err
		}
		var active int
		if err := sqlx.GetContext(ctx, tx, &active, `SELECT count(*) FROM api_keys
			WHERE tenant_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)`, in.TenantID, now); err != nil {
			return err
		}
		if active >= limit {
			return tenant.ActiveKeysExceeded(limit)
		}
		return sqlx.GetContext(ctx, tx, &row, `INSERT INTO api_keys AS k
			(tenant_id, name, prefix, key_hash, permissions, created_at, created_by, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING `+apiKeyCols,
			in.TenantID, in.Name, tenant.KeyDisplayPrefix(secret), tenant.HashKey(secret), pq.Array(perms), now, actor.ActorID(), in.ExpiresAt)
	})
	if err != nil || in.ValidateOnly {
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

// APIKeyCursor encodes a key's position in its tenant's list (newest
// first: by creation, then id).
func APIKeyCursor(k *tenant.APIKeyRecord) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(k.CreatedAt.UnixMicro(), 10) + ":" + k.ID))
}

// DecodeAPIKeyCursor is the inverse of APIKeyCursor.
func DecodeAPIKeyCursor(c string) (time.Time, string, error) {
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

// apiKeyKeys is the order of a tenant's API keys: newest first, by
// creation then id.
var apiKeyKeys = keyset{alias: "k", cols: []string{"created_at", "id"}, types: []string{"timestamptz", "uuid"}, desc: true,
	decode: func(c string) ([]any, error) {
		at, id, err := DecodeAPIKeyCursor(c)
		return []any{at, id}, err
	}}

// APIKeyPagesByTenant loads page of each tenant's API keys, newest first,
// revoked ones only with includeRevoked, in key order (pagesByTenant, on
// the (tenant_id, created_at, id) index). It is a loader batch.
// Codes: EINVALID (malformed cursor), ENOTFOUND (a tenant the caller may
// not see).
func (s *Store) APIKeyPagesByTenant(ctx context.Context, ids []string, page Page, includeRevoked bool) ([]*tenant.APIKeyPage, []error) {
	rows, ends, errs := pagesByTenant(ctx, s, ids, page, list{cols: apiKeyCols, from: `api_keys k`,
		cond: `k.tenant_id = tn.id AND ($1 OR k.revoked_at IS NULL)`, args: []any{includeRevoked}, key: apiKeyKeys,
		// Never cached: lastUsedAt changes without changing the tenant's version.
		noCache: true},
		"API keys", func(r *apiKeyRow) string { return r.TenantID })
	out := make([]*tenant.APIKeyPage, len(ids))
	for i, id := range ids {
		if errs[i] != nil {
			continue
		}
		keys := make([]*tenant.APIKeyRecord, len(rows[i]))
		for j, r := range rows[i] {
			keys[j] = r.record()
		}
		out[i] = &tenant.APIKeyPage{TenantID: id, Keys: keys, PageEnds: ends[i]}
	}
	return out, errs
}

// APIKeyCountsByTenant counts each tenant's API keys (revoked ones only
// with includeRevoked), in key order, in one statement. It is a loader
// batch. Codes: ENOTFOUND (a tenant the caller may not see).
func (s *Store) APIKeyCountsByTenant(ctx context.Context, ids []string, includeRevoked bool) ([]int, []error) {
	all, own := scope(ctx)
	type countRow struct {
		TenantID string `db:"tenant_id"`
		N        int    `db:"n"`
	}
	var rows []countRow
	err := s.selectBatch(ctx, &rows, `SELECT t.id AS tenant_id,
		(SELECT count(*) FROM api_keys k WHERE k.tenant_id = t.id AND ($4 OR k.revoked_at IS NULL)) AS n
		FROM unnest($1::uuid[]) AS t(id) WHERE ($2 OR t.id = $3)`, pq.Array(validIDs(ids)), all, own, includeRevoked)
	return inKeyOrder(ids, rows, err, "API keys", func(r *countRow) (string, int) { return r.TenantID, r.N })
}
