package db

import (
	"context"

	"github.com/lib/pq"

	"tenantapi/tenant"
)

const planCols = `id, name, description, users, policies, interactions_per_month,
	api_requests_per_minute, monthly_price_cents, currency, rank`

// Plans lists the plans catalog, smallest first.
func (s *Store) Plans(ctx context.Context) ([]*tenant.Plan, error) {
	var out []*tenant.Plan
	err := s.selectOrdered(ctx, &out, `rank`, `SELECT `+planCols+` FROM plans`)
	return out, translate(err)
}

// PlansByID loads plans by id, in key order. It is a loader batch.
func (s *Store) PlansByID(ctx context.Context, ids []string) ([]*tenant.Plan, []error) {
	var rows []tenant.Plan
	err := s.selectShared(ctx, &rows, `SELECT `+planCols+` FROM plans WHERE id = ANY($1)`, pq.Array(ids))
	return inKeyOrder(ids, rows, err, "plan", func(p *tenant.Plan) (string, *tenant.Plan) { return p.ID, p })
}
