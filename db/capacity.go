package db

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

	"tenantapi/tenant"
)

// Capacity reservations (reserveCapacity): the policies meter
// (usage_counters.policies, limited by the plan) and the watchlist subjects
// meter (watchlist_seats.active_subjects, limited by the seats granted) move
// only through one conditional UPDATE each, `used + n <= limit AND used + n
// >= 0`: PostgreSQL re-checks the condition on the latest row version when
// concurrent reservations wait for each other, so no interleaving passes
// the limit or goes below zero. Each request id is claimed in
// capacity_requests in the same transaction and stores the answer: a
// retry gets it back and changes nothing.

// capacityRow is a stored reservation answer.
type capacityRow struct {
	Resource tenant.CapacityResource `db:"resource"`
	Quantity int                     `db:"quantity"`
	Used     int                     `db:"used"`
	Limit    *int                    `db:"lim"`
}

// ReserveCapacity reserves (positive quantity) or releases (negative) n
// policies or watchlist subjects of a tenant, atomically, and answers the
// count in use, the limit and what remains. The same request id again
// answers the first result (Replayed) and changes nothing; a refused
// request stores nothing, so its id can be retried.
// Codes: EINVALID (resource, quantity, requestId; a release of more than
// is in use), ENOTFOUND, ECONFLICT (deleted tenant; a suspended tenant
// reserving; a request id reused with another resource or quantity),
// EQUOTA (the reservation would pass the limit: extensions.limit names it).
func (s *Store) ReserveCapacity(ctx context.Context, tenantID string, in tenant.ReservationInput) (*tenant.Reservation, error) {
	if err := in.Normalize(); err != nil {
		return nil, err
	}
	var out *tenant.Reservation
	err := s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		if !tenant.ValidID(tenantID) {
			return tenant.NotFound("tenant")
		}
		all, own := scope(ctx)
		// FOR KEY SHARE: reservations run in parallel; a plan change
		// (lockTenant, FOR UPDATE) waits for them and they for it.
		var t struct {
			Status   tenant.Status `db:"status"`
			Policies *int          `db:"policies"`
		}
		if err := sqlx.GetContext(ctx, tx, &t, `SELECT t.status, p.policies FROM tenants t JOIN plans p ON p.id = t.plan_id
			WHERE t.id = $1 AND ($2 OR t.id = $3) FOR KEY SHARE OF t`, tenantID, all, own); err != nil {
			return notFoundAs(err, "tenant")
		}
		switch {
		case t.Status == tenant.StatusDeleted:
			return tenant.Errorf(tenant.ECONFLICT, "tenant is deleted; restore it with restoreTenant first")
		case t.Status == tenant.StatusSuspended && in.Quantity > 0:
			return tenant.Errorf(tenant.ECONFLICT, "tenant is suspended: capacity can be released, not reserved, until it is restored")
		}
		out = &tenant.Reservation{TenantID: tenantID, RequestID: in.RequestID, Resource: in.Resource, Quantity: in.Quantity}
		// Claim the request id. A concurrent request with the same id waits
		// here until this transaction ends, then finds the row.
		var claimed []int
		if err := sqlx.SelectContext(ctx, tx, &claimed, `INSERT INTO capacity_requests (tenant_id, request_id, resource, quantity, used, lim, created_at)
			VALUES ($1, $2, $3, $4, 0, NULL, $5) ON CONFLICT (tenant_id, request_id) DO NOTHING RETURNING 1`,
			tenantID, in.RequestID, in.Resource, in.Quantity, now); err != nil {
			return err
		}
		if len(claimed) == 0 {
			var prev capacityRow
			if err := sqlx.GetContext(ctx, tx, &prev, `SELECT resource, quantity, used, lim FROM capacity_requests
				WHERE tenant_id = $1 AND request_id = $2`, tenantID, in.RequestID); err != nil {
				return err
			}
			if prev.Resource != in.Resource || prev.Quantity != in.Quantity {
				return &tenant.Error{Code: tenant.ECONFLICT, Field: "requestId",
					Message: "requestId was already used for another reservation (" + string(prev.Resource) + ", " + tenant.FormatCount(prev.Quantity) + "): use a new id for each reservation"}
			}
			out.Used, out.Limit, out.Replayed = prev.Used, prev.Limit, true
			return nil
		}
		var err error
		if in.Resource == tenant.ResourcePolicies {
			out.Used, out.Limit, err = movePolicies(ctx, tx, tenantID, in.Quantity, t.Policies)
		} else {
			out.Used, out.Limit, err = moveSubjects(ctx, tx, tenantID, in.Quantity)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE capacity_requests SET used = $3, lim = $4 WHERE tenant_id = $1 AND request_id = $2`,
			tenantID, in.RequestID, out.Used, out.Limit); err != nil {
			return err
		}
		if in.Resource == tenant.ResourceWatchlistSubjects {
			return seatsThreshold(ctx, tx, tenantID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// movePolicies adds n to the tenant's policies if the result stays within
// 0 and limit (nil: unlimited), and returns the new count.
func movePolicies(ctx context.Context, tx sqlx.ExtContext, tenantID string, n int, limit *int) (int, *int, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO usage_counters (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING`, tenantID); err != nil {
		return 0, nil, err
	}
	var used int
	err := sqlx.GetContext(ctx, tx, &used, `UPDATE usage_counters c SET policies = c.policies + $2
		WHERE c.tenant_id = $1 AND c.policies + $2 >= 0 AND ($2 < 0 OR $3::int IS NULL OR c.policies + $2 <= $3::int)
		RETURNING c.policies`, tenantID, n, limit)
	if errors.Is(err, sql.ErrNoRows) {
		var cur int
		if err := sqlx.GetContext(ctx, tx, &cur, `SELECT policies FROM usage_counters WHERE tenant_id = $1`, tenantID); err != nil {
			return 0, nil, err
		}
		return 0, nil, refusal(tenant.ResourcePolicies, n, cur, limit)
	}
	return used, limit, err
}

// moveSubjects adds n to the tenant's active watchlist subjects if the
// result stays within 0 and the seats granted, and returns the new count.
func moveSubjects(ctx context.Context, tx sqlx.ExtContext, tenantID string, n int) (int, *int, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO watchlist_seats (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING`, tenantID); err != nil {
		return 0, nil, err
	}
	var w struct {
		Used  int `db:"active_subjects"`
		Seats int `db:"available_seats"`
	}
	err := sqlx.GetContext(ctx, tx, &w, `UPDATE watchlist_seats c SET active_subjects = c.active_subjects + $2
		WHERE c.tenant_id = $1 AND c.active_subjects + $2 >= 0 AND ($2 < 0 OR c.active_subjects + $2 <= c.available_seats)
		RETURNING c.active_subjects, c.available_seats`, tenantID, n)
	if errors.Is(err, sql.ErrNoRows) {
		if err := sqlx.GetContext(ctx, tx, &w, `SELECT active_subjects, available_seats FROM watchlist_seats WHERE tenant_id = $1`, tenantID); err != nil {
			return 0, nil, err
		}
		return 0, nil, refusal(tenant.ResourceWatchlistSubjects, n, w.Used, &w.Seats)
	}
	return w.Used, &w.Seats, err
}

// refusal is the error of a move of n that the conditional UPDATE refused,
// cur being the count it found.
func refusal(res tenant.CapacityResource, n, cur int, limit *int) error {
	if n < 0 {
		return tenant.Invalid("quantity", "cannot release %s: only %s in use (the count never goes below zero); nothing was released",
			tenant.FormatCount(-n), tenant.FormatCount(cur))
	}
	return tenant.CapacityExceeded(res, *limit, cur, n)
}

// PurgeCapacityRequests deletes the reservation request ids older than
// tenant.ReservationRetention; the hourly job calls it and gets how many.
func (s *Store) PurgeCapacityRequests(ctx context.Context) (int, error) {
	res, err := s.q().ExecContext(ctx, `DELETE FROM capacity_requests WHERE created_at < $1`, s.Now().UTC().Add(-tenant.ReservationRetention))
	if err != nil {
		return 0, translate(err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
