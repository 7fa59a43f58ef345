package db

import (
	"context"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"tenantapi/tenant"
)

// One-time credits (the screening reference's free tier): grants with an
// optional expiry, used by RecordUsage for interactions beyond the plan's
// monthly quota, earliest expiry first (never-expiring grants last), then
// oldest. Consumption runs under the tenant's usage lock (lockUsage).

// grantOrder is the order credits are used in, and grants are listed in.
const grantOrder = `expires_at NULLS LAST, created_at, id`

const grantCols = `id, tenant_id, amount, used, expires_at, reason, created_at, created_by`

// consumeCredits takes need credits from the tenant's unexpired grants,
// earliest expiry first, in one statement, and returns how many credits
// were left before: when that is less than need, it takes nothing (the
// caller refuses the batch). The caller holds lockUsage.
func consumeCredits(ctx context.Context, tx sqlx.ExtContext, tenantID string, need int, now time.Time) (int, error) {
	var left int
	err := sqlx.GetContext(ctx, tx, &left, `WITH avail AS (
			SELECT id, amount - used AS free,
			       sum(amount - used) OVER (ORDER BY `+grantOrder+`) - (amount - used) AS taken_before
			FROM credit_grants
			WHERE tenant_id = $1 AND used < amount AND (expires_at IS NULL OR expires_at > $3)
		), total AS (
			SELECT COALESCE(sum(free), 0) AS available FROM avail
		), take AS (
			UPDATE credit_grants c SET used = c.used + least(a.free, $2 - a.taken_before)
			FROM avail a, total
			WHERE c.tenant_id = $1 AND c.id = a.id AND $2 > 0 AND a.taken_before < $2 AND total.available >= $2
			RETURNING c.id
		)
		SELECT available FROM total`, tenantID, need, now)
	return left, err
}

// grantRow is a credit_grants row with the loader key it was read for; ID
// is nil for a tenant without grants (the LEFT JOIN found none).
type grantRow struct {
	Key string  `db:"key"`
	ID  *string `db:"id"`
	tenant.CreditGrant
}

// CreditsByTenant loads each tenant's credits (balance and grants), in key
// order, in one statement. It is a loader batch.
// Codes: ENOTFOUND (a tenant the caller may not see).
func (s *Store) CreditsByTenant(ctx context.Context, ids []string) ([]*tenant.Credits, []error) {
	all, own := scope(ctx)
	now := s.Now().UTC()
	var rows []grantRow
	err := s.selectOrdered(ctx, &rows, `k.id, g.expires_at NULLS LAST, g.created_at, g.id`, `SELECT k.id AS key, g.id, k.id AS tenant_id, COALESCE(g.amount, 0) AS amount, COALESCE(g.used, 0) AS used,
		  g.expires_at, COALESCE(g.reason, '') AS reason, COALESCE(g.created_at, 'epoch') AS created_at, COALESCE(g.created_by, '') AS created_by
		FROM unnest($1::uuid[]) AS k(id)
		LEFT JOIN credit_grants g ON g.tenant_id = k.id
		WHERE ($2 OR k.id = $3)`, pq.Array(validIDs(ids)), all, own)
	byTenant := map[string][]*tenant.CreditGrant{}
	var keys []string
	for i := range rows {
		r := &rows[i]
		if _, seen := byTenant[r.Key]; !seen {
			keys = append(keys, r.Key)
			byTenant[r.Key] = nil
		}
		if r.ID != nil {
			g := r.CreditGrant
			g.ID = *r.ID
			byTenant[r.Key] = append(byTenant[r.Key], &g)
		}
	}
	credits := make([]*tenant.Credits, len(keys))
	for i, k := range keys {
		credits[i] = tenant.NewCredits(k, byTenant[k], now)
	}
	return inKeyOrder(ids, credits, err, "credits", func(c **tenant.Credits) (string, *tenant.Credits) { return (*c).TenantID, *c })
}

// GrantCredits gives a tenant one-time credits and returns the grant and
// the new balance; a grant bringing the credits back to 10 % or more
// re-arms credits.low. With in.ValidateOnly it runs every check, saves
// nothing and returns a nil grant (a dry run shows no id that does not
// exist) and the balance as it would be, its totals counting the grant but
// its Grants listing only the grants that exist. Codes: EINVALID (amount, expiry in the past, reason), ENOTFOUND,
// ECONFLICT (deleted tenant, or tenant.MaxCreditGrants grants already).
func (s *Store) GrantCredits(ctx context.Context, tenantID string, in tenant.CreditGrantInput) (*tenant.CreditGrant, *tenant.Credits, error) {
	by := tenant.ActorFrom(ctx).ActorID()
	var grant *tenant.CreditGrant
	var credits *tenant.Credits
	err := s.inTxDry(ctx, in.ValidateOnly, func(tx sqlx.ExtContext, now time.Time) error {
		if err := in.Normalize(now); err != nil {
			return err
		}
		if _, err := lockUsage(ctx, tx, tenantID); err != nil {
			return err
		}
		// Credits.grants lists every grant: the count is bounded, checked
		// under the tenant's lock.
		var n int
		if err := sqlx.GetContext(ctx, tx, &n, `SELECT count(*) FROM credit_grants WHERE tenant_id = $1`, tenantID); err != nil {
			return err
		}
		if n >= tenant.MaxCreditGrants {
			return tenant.Errorf(tenant.ECONFLICT, "the tenant already has %d credit grants, the most allowed; grant a larger amount less often", tenant.MaxCreditGrants)
		}
		grant = new(tenant.CreditGrant)
		if err := sqlx.GetContext(ctx, tx, grant, `INSERT INTO credit_grants (tenant_id, amount, expires_at, reason, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+grantCols, tenantID, in.Amount, in.ExpiresAt, in.Reason, now, by); err != nil {
			return err
		}
		var grants []*tenant.CreditGrant
		if err := sqlx.SelectContext(ctx, tx, &grants, `SELECT `+grantCols+` FROM credit_grants WHERE tenant_id = $1 ORDER BY `+grantOrder, tenantID); err != nil {
			return err
		}
		for _, g := range grants {
			if g.ID == grant.ID {
				grant = g // the same grant, with Remaining and Expired filled below
			}
		}
		credits = tenant.NewCredits(tenantID, grants, now)
		if in.ValidateOnly {
			credits.Grants = slices.DeleteFunc(credits.Grants, func(g *tenant.CreditGrant) bool { return g.ID == grant.ID })
			grant = nil
		}
		// A grant that brings the credits back to 10 % or more re-arms credits.low.
		return creditsThreshold(ctx, tx, tenantID, now, false)
	})
	return grant, credits, err
}
