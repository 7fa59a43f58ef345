package db

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"tenantapi/tenant"
)

// Events are written by the database, not here: a trigger on audit_log turns
// the entries of a transaction into one event per tenant and type, and a
// deferred trigger fills each payload at commit (migrations/00010_events.sql).
// This file reads the log and purges it.

// eventCols are an event's columns, as Event reads them.
const eventCols = `e.tenant_id, e.id, e.type, e.at, e.actor, e.action, e.subject,
	COALESCE(e.payload, 'null') AS payload, e.request_id`

// EventsByTenant loads one page of a tenant's event log, newest first (by
// id, a UUIDv7), in one statement. A tenant the caller may not see, or that
// does not exist, reads as an empty page. Codes: EINVALID (bad page size,
// filter or cursor), EUNAVAILABLE.
func (s *Store) EventsByTenant(ctx context.Context, tenantID string, q tenant.EventQuery) (*tenant.EventPage, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	page := &tenant.EventPage{TenantID: tenantID, Events: []*tenant.Event{}}
	if !tenant.ValidID(tenantID) {
		return page, nil
	}
	all, own := scope(ctx)
	args := []any{tenantID, all, own}
	cond := ""
	if len(q.Filter.Types) > 0 {
		args = append(args, pq.Array(q.Filter.Types))
		cond += fmt.Sprintf(` AND e.type = ANY($%d)`, len(args))
	}
	if q.Filter.Since != nil {
		args = append(args, *q.Filter.Since)
		cond += fmt.Sprintf(` AND e.at >= $%d`, len(args))
	}
	if q.After != "" {
		id, err := uuid.Parse(q.After)
		if err != nil || id.Version() != 7 {
			return nil, tenant.Invalid("after", "after is not a cursor returned by this API (an event id)")
		}
		args = append(args, id.String())
		cond += fmt.Sprintf(` AND e.id < $%d`, len(args))
	}
	args = append(args, q.First+1)
	var rows []*tenant.Event
	err := sqlx.SelectContext(ctx, s.q(), &rows, `SELECT `+eventCols+`
		FROM events e WHERE e.tenant_id = $1 AND ($2 OR e.tenant_id = $3)`+cond+`
		ORDER BY e.id DESC LIMIT $`+fmt.Sprint(len(args)), args...)
	if err != nil {
		return nil, translate(err)
	}
	if len(rows) > q.First {
		rows, page.HasNextPage = rows[:q.First], true
	}
	page.Events = rows
	return page, nil
}

// EventTypes returns the wire names of the event types the database may
// write (its catalog table, which events reference), sorted. Codes:
// EUNAVAILABLE.
func (s *Store) EventTypes(ctx context.Context) ([]string, error) {
	var out []string
	err := sqlx.SelectContext(ctx, s.q(), &out, `SELECT type FROM event_types ORDER BY type`)
	return out, translate(err)
}

// PurgeEvents deletes the events older than retention (EVENT_RETENTION)
// and returns how many. A periodic job calls it (server.go). Codes:
// EUNAVAILABLE.
func (s *Store) PurgeEvents(ctx context.Context, retention time.Duration) (int, error) {
	res, err := s.q().ExecContext(ctx, `DELETE FROM events WHERE at < $1`, s.Now().Add(-retention))
	if err != nil {
		return 0, translate(err)
	}
	n, err := res.RowsAffected()
	return int(n), translate(err)
}
