package db

import (
	"context"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"tenantapi/tenant"
)

// Live subscriptions read events back by id (live/ hands them out) or,
// when catching up, everything after a cursor: always with the caller's
// tenant scope in the SQL, so a subscriber that was handed another
// tenant's id reads nothing.

// MaxLiveBatch bounds one read of a subscriber.
const MaxLiveBatch = 500

// LiveEvents returns tenantID's events among ids, or, with ids nil, the
// first MaxLiveBatch after the event id after, of the types given (any
// type when types is empty), oldest first. Events whose payload is not
// filled yet cannot be read: a notification comes after the commit that
// filled it. Codes: EUNAVAILABLE.
func (s *Store) LiveEvents(ctx context.Context, tenantID string, ids []string, after string, types []string) ([]*tenant.Event, error) {
	if !tenant.ValidID(tenantID) {
		return nil, nil
	}
	all, own := scope(ctx)
	var typeArg any
	if len(types) > 0 {
		typeArg = pq.Array(types)
	}
	var idArg any
	if ids != nil {
		idArg = pq.Array(validIDs(ids))
	}
	var afterArg any
	if after != "" {
		afterArg = after
	}
	var rows []*tenant.Event
	err := sqlx.SelectContext(ctx, s.q(), &rows, `SELECT e.tenant_id, e.id, e.type, e.at, e.actor, e.action, e.subject,
			COALESCE(e.payload, 'null') AS payload, e.request_id
		FROM events e
		WHERE e.tenant_id = $1 AND ($2 OR e.tenant_id = $3)
			AND ($4::text[] IS NULL OR e.type = ANY($4))
			AND CASE WHEN $5::uuid[] IS NULL THEN e.id > $6::uuid ELSE e.id = ANY($5) END
		ORDER BY e.id LIMIT $7`, tenantID, all, own, typeArg, idArg, afterArg, MaxLiveBatch)
	return rows, translate(err)
}
