package db

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"tenantapi/tenant"
)

// MonthStart is the first day of t's calendar month in UTC.
func MonthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// UsageByTenant loads each tenant's usage for the current UTC month from the
// daily roll-ups, in key order, in one statement. It is a loader batch.
func (s *Store) UsageByTenant(ctx context.Context, ids []string) ([]*tenant.Usage, []error) {
	all, own := scope(ctx)
	var rows []tenant.Usage
	err := sqlx.SelectContext(ctx, s.q(), &rows, `
		SELECT k.id AS tenant_id,
		  COALESCE((SELECT sum(d.interactions) FROM usage_daily d WHERE d.tenant_id = k.id AND d.day >= $2), 0) AS interactions_this_month,
		  (SELECT count(*) FROM usage_monthly_users u WHERE u.tenant_id = k.id AND u.month = $2) AS active_users,
		  COALESCE((SELECT c.policies FROM usage_counters c WHERE c.tenant_id = k.id), 0) AS policies
		FROM unnest($1::uuid[]) AS k(id)
		WHERE ($3 OR k.id = $4)`, pq.Array(validIDs(ids)), MonthStart(s.Now()), all, own)
	return inKeyOrder(ids, rows, err, "usage", func(u *tenant.Usage) (string, *tenant.Usage) { return u.TenantID, u })
}
