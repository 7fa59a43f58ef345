package db

import (
	"context"
	"errors"
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

// eventKeys is the order of an event log: newest first, by id (a UUIDv7,
// which is its cursor).
var eventKeys = keyset{alias: "e", cols: []string{"id"}, types: []string{"uuid"}, desc: true, decode: uuid7Cursor}

// uuid7Cursor decodes a cursor that is an item's id, a UUIDv7.
func uuid7Cursor(c string) ([]any, error) {
	id, err := uuid.Parse(c)
	if err != nil || id.Version() != 7 {
		return nil, errors.New("bad cursor")
	}
	return []any{id.String()}, nil
}

// EventsByTenant loads one page of a tenant's event log, newest first (by
// id, a UUIDv7), in one statement (pagesByTenant). A tenant the caller may
// not see, or that does not exist, reads as an empty page. Codes: EINVALID
// (bad page size, filter or cursor), EUNAVAILABLE.
func (s *Store) EventsByTenant(ctx context.Context, tenantID string, q tenant.EventQuery) (*tenant.EventPage, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	var args []any
	cond := `e.tenant_id = tn.id`
	if len(q.Filter.Types) > 0 {
		args = append(args, pq.Array(q.Filter.Types))
		cond += fmt.Sprintf(` AND e.type = ANY($%d)`, len(args))
	}
	if q.Filter.Since != nil {
		args = append(args, *q.Filter.Since)
		cond += fmt.Sprintf(` AND e.at >= $%d`, len(args))
	}
	rows, ends, errs := pagesByTenant(ctx, s, []string{tenantID}, q.Page, list{cols: eventCols, from: `events e`, cond: cond, args: args, key: eventKeys},
		"events", func(e *tenant.Event) string { return e.TenantID })
	switch {
	case errs[0] == nil:
		return &tenant.EventPage{TenantID: tenantID, Events: rows[0], PageEnds: ends[0]}, nil
	case tenant.ErrorCode(errs[0]) == tenant.ENOTFOUND:
		return &tenant.EventPage{TenantID: tenantID, Events: []*tenant.Event{}}, nil
	}
	return nil, errs[0]
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
