package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"tenantapi/tenant"
)

// Webhook deliveries (migrations/00011_webhook_deliveries.sql): a delivery
// worker in each instance fans new events out to the tenants' webhook
// endpoints (DispatchEvents), claims due deliveries under a lease
// (ClaimDeliveries) and records each attempt (RecordAttempt). Instances share
// the work through FOR UPDATE SKIP LOCKED; a lease that expires (a killed
// worker) makes its delivery claimable again.

// DispatchEvents fans out up to limit undispatched events, oldest first: one
// PENDING delivery, due at once, per event whose type the tenant's
// notification channels subscribe to, to its webhookUrl (none for an
// unsubscribed type, a tenant without one or a disabled endpoint) and to
// each address of its emails (url mailto:<address>); the types of
// tenant.EmailedAlways go to every address, subscribed or not. Each event is
// marked dispatched in the same statement. It runs as the system and
// returns how many events it handled. Codes: EUNAVAILABLE.
func (s *Store) DispatchEvents(ctx context.Context, limit int) (int, error) {
	names, wires := tenant.WireTypes()
	now := s.Now().UTC()
	var n int
	err := s.bookkeeping(ctx, func(q sqlx.ExtContext) error {
		return sqlx.GetContext(ctx, q, &n, `WITH ev AS (
			SELECT e.tenant_id, e.id, e.type FROM events e WHERE e.dispatched_at IS NULL
			ORDER BY e.id LIMIT $1 FOR UPDATE SKIP LOCKED
		), chan AS (
			SELECT ev.tenant_id, ev.id, ev.type, n.webhook_url, n.webhook_disabled_at, n.emails,
				ev.type IN (SELECT m.wire FROM unnest($2::text[], $3::text[]) AS m(name, wire) WHERE m.name = ANY(n.events)) AS subscribed
			FROM ev JOIN notification_channels n ON n.tenant_id = ev.tenant_id
		), subs AS (
			SELECT tenant_id, id, 'WEBHOOK' AS channel, webhook_url AS url FROM chan
			WHERE subscribed AND webhook_url IS NOT NULL AND webhook_disabled_at IS NULL
			UNION ALL
			SELECT c.tenant_id, c.id, 'EMAIL', 'mailto:' || a.address FROM chan c CROSS JOIN LATERAL unnest(c.emails) AS a(address)
			WHERE c.subscribed OR c.type = ANY($5)
		), ins AS (
			INSERT INTO webhook_deliveries (tenant_id, id, event_id, channel, url, created_at, next_attempt_at, updated_at)
			SELECT tenant_id, uuid7($4), id, channel, url, $4, $4, $4 FROM subs
		), upd AS (
			UPDATE events e SET dispatched_at = $4 FROM ev WHERE e.tenant_id = ev.tenant_id AND e.id = ev.id
		)
		SELECT count(*) FROM ev`, limit, pq.Array(names), pq.Array(wires), now, pq.Array(tenant.EmailedAlways))
	})
	return n, err
}

// ClaimDeliveries leases up to limit due PENDING deliveries (not leased, or
// whose lease expired) for lease, oldest due first, at most perURL of one
// endpoint, skipping rows other workers hold and the endpoints in busy (at
// their concurrency limit in this worker). It runs as the system. Codes:
// EUNAVAILABLE.
func (s *Store) ClaimDeliveries(ctx context.Context, limit, perURL int, lease time.Duration, busy []string) ([]*tenant.DueDelivery, error) {
	if busy == nil {
		busy = []string{}
	}
	now := s.Now().UTC()
	var out []*tenant.DueDelivery
	err := s.bookkeeping(ctx, func(q sqlx.ExtContext) error {
		// The window (perURL per endpoint) cannot share a SELECT with FOR
		// UPDATE, so it picks candidates among the oldest due rows and the
		// lock then skips those another worker took meanwhile.
		return sqlx.SelectContext(ctx, q, &out, `WITH due AS (
			SELECT d.tenant_id, d.id, d.url, d.next_attempt_at FROM webhook_deliveries d
			WHERE d.status = 'PENDING' AND d.next_attempt_at <= $1
				AND (d.locked_until IS NULL OR d.locked_until <= $1) AND d.url <> ALL($4)
			ORDER BY d.next_attempt_at LIMIT $2 * 8
		), cand AS (
			SELECT tenant_id, id FROM (
				SELECT due.*, row_number() OVER (PARTITION BY url ORDER BY next_attempt_at) AS n FROM due) r
			WHERE n <= $5 ORDER BY next_attempt_at LIMIT $2
		), c AS (
			SELECT d.tenant_id, d.id FROM webhook_deliveries d JOIN cand USING (tenant_id, id)
			WHERE d.status = 'PENDING' AND (d.locked_until IS NULL OR d.locked_until <= $1)
			FOR UPDATE OF d SKIP LOCKED
		)
		UPDATE webhook_deliveries d SET locked_until = $3, lease = gen_random_uuid()
		FROM c, events e, tenants t
		WHERE d.tenant_id = c.tenant_id AND d.id = c.id AND e.tenant_id = d.tenant_id AND e.id = d.event_id AND t.id = d.tenant_id
		RETURNING d.tenant_id, t.name AS tenant_name, d.id, d.channel, d.event_id, e.type AS event_type, e.at AS occurred_at,
			COALESCE(e.payload, 'null') AS payload, d.url, d.attempts, d.lease`,
			now, limit, now.Add(lease), pq.Array(busy), perURL)
	})
	return out, err
}

// ReleaseDelivery gives back a claimed delivery without an attempt (a
// worker shutting down, or over an endpoint's limit): it is due again at
// once. Codes: EUNAVAILABLE.
func (s *Store) ReleaseDelivery(ctx context.Context, d *tenant.DueDelivery) error {
	_, err := s.q().ExecContext(ctx, `UPDATE webhook_deliveries SET locked_until = NULL, lease = NULL
		WHERE tenant_id = $1 AND id = $2 AND lease = $3`, d.TenantID, d.ID, d.Lease)
	return translate(err)
}

// asyncCommit lets the delivery workers' bookkeeping commit without waiting
// for its WAL flush. A crash may lose its last few milliseconds, which
// delivery at least once tolerates: a lost fan-out leaves its events
// undispatched, to be fanned out again; a lost claim is claimed again when
// its lease expires; a lost attempt record means the attempt is made
// again, under the same webhook-id. Waiting for a flush on each commit kept
// one worker to about 300 deliveries a second (docs/benchmarks.md).
const asyncCommit = `SET LOCAL synchronous_commit TO off`

// bookkeeping runs fn in a transaction that commits with asyncCommit.
func (s *Store) bookkeeping(ctx context.Context, fn func(q sqlx.ExtContext) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	c := counted{tx, &s.Statements}
	s.Statements.Add(2) // BEGIN, COMMIT
	if _, err := c.ExecContext(ctx, asyncCommit); err != nil {
		return translate(err)
	}
	if err := fn(c); err != nil {
		return translate(err)
	}
	return translate(tx.Commit())
}

// AttemptOutcome is what one attempt of a delivery did.
type AttemptOutcome struct {
	At         time.Time
	HTTPStatus int // 0: no response
	Latency    time.Duration
	Body       string
	Error      string
	Delivered  bool
	// Next is when to try again after a failure; nil: the schedule is
	// exhausted and the delivery FAILED.
	Next *time.Time
	// DisableAfter is how long a webhook endpoint may fail without a
	// success in between before a failed attempt disables it; 0: never.
	DisableAfter time.Duration
}

// RecordAttempt logs an attempt of d and moves the delivery on: SUCCEEDED,
// due again at o.Next, or FAILED. Under a lease another worker has taken
// over since (ours expired mid-attempt), only the log changes. It reports
// whether the lease was still held.
//
// A webhook attempt also keeps the endpoint's health: a success forgets its
// failures; a failure of an endpoint that has failed without a success for
// o.DisableAfter or longer disables it (notification_channels'
// webhook_disabled_at, written as the system, which the audit log turns
// into the event webhook_endpoint.disabled) and ends its PENDING webhook
// deliveries FAILED; redeliverEvent sends them again once it is enabled.
// Codes: EUNAVAILABLE.
func (s *Store) RecordAttempt(ctx context.Context, d *tenant.DueDelivery, o AttemptOutcome) (bool, error) {
	var held bool
	err := s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		if _, err := tx.ExecContext(ctx, asyncCommit); err != nil {
			return err
		}
		var status *int
		if o.HTTPStatus != 0 {
			status = &o.HTTPStatus
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_attempts (tenant_id, delivery_id, id, at, http_status, latency_ms, response_body, error)
			VALUES ($1, $2, uuid7($3), $3, $4, $5, NULLIF($6, ''), NULLIF($7, ''))`,
			d.TenantID, d.ID, o.At.UTC(), status, o.Latency.Milliseconds(), o.Body, o.Error); err != nil {
			return err
		}
		disabled := false
		if d.Channel == tenant.ChannelWebhook || d.Channel == "" {
			var err error
			if disabled, err = webhookHealth(ctx, tx, d, o, now); err != nil {
				return err
			}
		}
		st := tenant.DeliveryPending
		next := now
		switch {
		case o.Delivered:
			st = tenant.DeliverySucceeded
		case o.Next == nil || disabled:
			st = tenant.DeliveryFailed
		default:
			next = o.Next.UTC()
		}
		res, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = $4, attempts = attempts + 1,
				next_attempt_at = $5, locked_until = NULL, lease = NULL, updated_at = $6
			WHERE tenant_id = $1 AND id = $2 AND lease = $3`, d.TenantID, d.ID, d.Lease, st, next, now)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		held = n == 1
		return err
	})
	return held, err
}

// webhookHealth records a webhook attempt's outcome in the endpoint's
// failure streak (webhook_failures) and disables the endpoint when the
// streak is o.DisableAfter old; it reports whether the endpoint is disabled.
func webhookHealth(ctx context.Context, tx sqlx.ExtContext, d *tenant.DueDelivery, o AttemptOutcome, now time.Time) (bool, error) {
	if o.Delivered {
		_, err := tx.ExecContext(ctx, `DELETE FROM webhook_failures WHERE tenant_id = $1 AND url = $2`, d.TenantID, d.URL)
		return false, err
	}
	var since time.Time
	if err := sqlx.GetContext(ctx, tx, &since, `INSERT INTO webhook_failures AS f (tenant_id, url, since) VALUES ($1, $2, $3)
		ON CONFLICT (tenant_id) DO UPDATE SET
			since = CASE WHEN f.url = EXCLUDED.url THEN f.since ELSE EXCLUDED.since END, url = EXCLUDED.url
		RETURNING since`, d.TenantID, d.URL, o.At.UTC()); err != nil {
		return false, err
	}
	var disabledAt *time.Time
	err := sqlx.GetContext(ctx, tx, &disabledAt, `SELECT webhook_disabled_at FROM notification_channels
		WHERE tenant_id = $1 AND webhook_url = $2`, d.TenantID, d.URL)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // the endpoint changed since: the new one has its own streak
	}
	if err != nil || disabledAt != nil {
		return disabledAt != nil, err
	}
	if o.DisableAfter <= 0 || now.Sub(since) < o.DisableAfter {
		return false, nil
	}
	reason := fmt.Sprintf("every attempt since %s failed (the last: %s)", since.UTC().Format(time.RFC3339), o.Error)
	// Written as the system: the audit entry and the event
	// webhook_endpoint.disabled name no caller.
	if _, err := tx.ExecContext(ctx, `SELECT set_config('app.actor', 'system', true), set_config('app.action', '', true)`); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE notification_channels SET webhook_disabled_at = $3, webhook_disabled_reason = $4,
			version = version + 1, updated_at = $3, updated_by = 'system'
		WHERE tenant_id = $1 AND webhook_url = $2 AND webhook_disabled_at IS NULL`, d.TenantID, d.URL, now, reason); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_failures WHERE tenant_id = $1`, d.TenantID); err != nil {
		return false, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'FAILED', locked_until = NULL, lease = NULL, updated_at = $2
		WHERE tenant_id = $1 AND channel = 'WEBHOOK' AND status = 'PENDING' AND id <> $3`, d.TenantID, now, d.ID)
	return true, err
}

// deliveryCols are a delivery's columns with its event's type.
const deliveryCols = `d.tenant_id, d.id, d.event_id, e.type AS event_type, d.channel, d.url, d.status, d.attempts, d.created_at,
	CASE WHEN d.status = 'PENDING' THEN d.next_attempt_at END AS next_attempt_at`

// deliveryKeys is the order of a delivery log: newest first, by id (a
// UUIDv7, which is its cursor).
var deliveryKeys = keyset{alias: "d", cols: []string{"id"}, types: []string{"uuid"}, desc: true, decode: uuid7Cursor}

// DeliveriesByTenant loads one page of a tenant's delivery log, newest
// first, each delivery with its attempts (oldest first), in two statements
// (pagesByTenant, then the attempts). A tenant the caller may not see reads
// as an empty page. Codes: EINVALID (bad page size or cursor),
// EUNAVAILABLE.
func (s *Store) DeliveriesByTenant(ctx context.Context, tenantID string, q tenant.DeliveryQuery) (*tenant.DeliveryPage, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	page := &tenant.DeliveryPage{TenantID: tenantID, Deliveries: []*tenant.WebhookDelivery{}}
	var args []any
	cond := `d.tenant_id = tn.id`
	if q.Filter.Status != nil {
		args = append(args, string(*q.Filter.Status))
		cond += fmt.Sprintf(` AND d.status = $%d`, len(args))
	}
	if q.Filter.Channel != nil {
		args = append(args, string(*q.Filter.Channel))
		cond += fmt.Sprintf(` AND d.channel = $%d`, len(args))
	}
	if q.Filter.EventType != "" {
		args = append(args, q.Filter.EventType)
		cond += fmt.Sprintf(` AND e.type = $%d`, len(args))
	}
	pages, ends, errs := pagesByTenant(ctx, s, []string{tenantID}, q.Page, list{cols: deliveryCols,
		from: `webhook_deliveries d JOIN events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id`, cond: cond, args: args, key: deliveryKeys},
		"webhook deliveries", func(d *tenant.WebhookDelivery) string { return d.TenantID })
	switch {
	case tenant.ErrorCode(errs[0]) == tenant.ENOTFOUND:
		return page, nil
	case errs[0] != nil:
		return nil, errs[0]
	}
	rows := pages[0]
	page.PageEnds = ends[0]
	if err := s.attachAttempts(ctx, rows); err != nil {
		return nil, err
	}
	page.Deliveries = rows
	return page, nil
}

// attachAttempts reads the attempts of deliveries (of one tenant or of
// several), the first tenant.MaxDeliveryAttemptsShown of each, oldest
// first, in one statement.
func (s *Store) attachAttempts(ctx context.Context, deliveries []*tenant.WebhookDelivery) error {
	if len(deliveries) == 0 {
		return nil
	}
	tenants, ids := make([]string, len(deliveries)), make([]string, len(deliveries))
	byID := make(map[string]*tenant.WebhookDelivery, len(deliveries))
	for i, d := range deliveries {
		tenants[i], ids[i], byID[d.ID] = d.TenantID, d.ID, d
		d.Attempts = []*tenant.WebhookAttempt{}
	}
	var attempts []*tenant.WebhookAttempt
	if err := sqlx.SelectContext(ctx, s.q(), &attempts, `SELECT delivery_id, at, http_status, latency_ms, response_body, error FROM (
			SELECT a.delivery_id, a.at, a.http_status, a.latency_ms, a.response_body, a.error, a.id,
				row_number() OVER (PARTITION BY a.delivery_id ORDER BY a.at, a.id) AS n
			FROM unnest($1::uuid[], $2::uuid[]) AS k(tenant_id, delivery_id)
			JOIN webhook_attempts a ON a.tenant_id = k.tenant_id AND a.delivery_id = k.delivery_id) a
		WHERE n <= $3 ORDER BY at, id`,
		pq.Array(tenants), pq.Array(ids), tenant.MaxDeliveryAttemptsShown); err != nil {
		return translate(err)
	}
	for _, a := range attempts {
		if d := byID[a.DeliveryID]; d != nil {
			d.Attempts = append(d.Attempts, a)
		}
	}
	return nil
}

// RedeliverEvent queues the event eventID of tenantID again to its current
// webhookUrl: a new PENDING delivery, due at once, whatever became of the
// earlier ones and whether or not the channel subscribes to its type. It is
// idempotent: while a redelivery of the event to that URL waits for its
// first attempt, it returns that one. Codes: ENOTFOUND (no such event, or
// another tenant's), EINVALID (no webhookUrl, or a disabled endpoint),
// ECONFLICT (deleted tenant).
func (s *Store) RedeliverEvent(ctx context.Context, tenantID, eventID string) (*tenant.WebhookDelivery, error) {
	id, err := uuid.Parse(eventID)
	if err != nil || !tenant.ValidID(tenantID) {
		return nil, tenant.NotFound("event")
	}
	all, own := scope(ctx)
	var out tenant.WebhookDelivery
	err = s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		var ev struct {
			TenantID string `db:"tenant_id"`
			Type     string `db:"type"`
		}
		err := sqlx.GetContext(ctx, tx, &ev, `SELECT e.tenant_id, e.type FROM events e
			WHERE e.tenant_id = $1 AND e.id = $2 AND ($3 OR e.tenant_id = $4)`, tenantID, id.String(), all, own)
		if errors.Is(err, sql.ErrNoRows) {
			return tenant.NotFound("event")
		}
		if err != nil {
			return err
		}
		if _, err := lockTenant(ctx, tx, ev.TenantID, false); err != nil {
			return err
		}
		var ch struct {
			URL        *string    `db:"webhook_url"`
			DisabledAt *time.Time `db:"webhook_disabled_at"`
		}
		err = sqlx.GetContext(ctx, tx, &ch, `SELECT webhook_url, webhook_disabled_at FROM notification_channels WHERE tenant_id = $1`, ev.TenantID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		url := ch.URL
		if url == nil {
			return tenant.Invalid("eventId", "no webhookUrl is configured for this tenant: set one with updateNotificationChannels first")
		}
		if ch.DisabledAt != nil {
			return tenant.Invalid("eventId", "the webhook endpoint is disabled: enable it with enableWebhookEndpoint first")
		}
		err = sqlx.GetContext(ctx, tx, &out, `SELECT `+deliveryCols+`
			FROM webhook_deliveries d JOIN events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
			WHERE d.tenant_id = $1 AND d.event_id = $2 AND d.channel = 'WEBHOOK' AND d.url = $3 AND d.status = 'PENDING' AND d.attempts = 0
			ORDER BY d.id DESC LIMIT 1`, ev.TenantID, id.String(), *url)
		if err == nil || !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		return sqlx.GetContext(ctx, tx, &out, `WITH d AS (
				INSERT INTO webhook_deliveries (tenant_id, id, event_id, url, created_at, next_attempt_at, updated_at)
				VALUES ($1, uuid7($4), $2, $3, $4, $4, $4) RETURNING *
			)
			SELECT `+deliveryCols+` FROM d JOIN events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id`,
			ev.TenantID, id.String(), *url, now)
	})
	if err != nil {
		return nil, err
	}
	out.Attempts = []*tenant.WebhookAttempt{}
	return &out, nil
}

// ReplayEvents queues, for each event of tenantID's log at or after
// q.Since (of q.Types, when given), a new PENDING delivery to the current
// webhookUrl, due at once, whether or not the channels subscribe to its
// type. It is idempotent: an event that already has a delivery to that URL
// waiting for its first attempt is skipped (counted in Skipped), so a
// second call queues nothing new. It is bounded: more than
// tenant.MaxReplayEvents matching events are refused, nothing queued.
// Codes: ENOTFOUND (another tenant's, or none), EINVALID (too many events,
// field since; no webhookUrl, field webhookUrl; too many types), ECONFLICT
// (deleted tenant).
func (s *Store) ReplayEvents(ctx context.Context, tenantID string, q tenant.ReplayQuery) (*tenant.ReplayResult, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if !tenant.ValidID(tenantID) {
		return nil, tenant.NotFound("tenant")
	}
	if q.Types == nil {
		q.Types = []string{}
	}
	out := &tenant.ReplayResult{TenantID: tenantID}
	err := s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		// lockTenant checks the caller may see the tenant and serializes
		// replays and redeliveries of one tenant (idempotence under races).
		if _, err := lockTenant(ctx, tx, tenantID, false); err != nil {
			return err
		}
		var url *string
		err := sqlx.GetContext(ctx, tx, &url, `SELECT webhook_url FROM notification_channels WHERE tenant_id = $1`, tenantID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if url == nil {
			return tenant.Invalid("webhookUrl", "no webhookUrl is configured for this tenant: set one with updateNotificationChannels first")
		}
		var n int
		if err := sqlx.GetContext(ctx, tx, &n, `SELECT count(*) FROM (SELECT 1 FROM events e
				WHERE e.tenant_id = $1 AND e.at >= $2 AND (cardinality($3::text[]) = 0 OR e.type = ANY($3)) LIMIT $4) x`,
			tenantID, q.Since, pq.Array(q.Types), tenant.MaxReplayEvents+1); err != nil {
			return err
		}
		if n > tenant.MaxReplayEvents {
			return tenant.Invalid("since", "more than %d events match (since %s): replay at most %d at a time, with a later since or fewer types",
				tenant.MaxReplayEvents, q.Since.UTC().Format(time.RFC3339), tenant.MaxReplayEvents)
		}
		return sqlx.GetContext(ctx, tx, out, `WITH ev AS (
				SELECT e.id FROM events e
				WHERE e.tenant_id = $1 AND e.at >= $2 AND (cardinality($3::text[]) = 0 OR e.type = ANY($3))
			), waiting AS (
				SELECT DISTINCT d.event_id FROM webhook_deliveries d JOIN ev ON ev.id = d.event_id
				WHERE d.tenant_id = $1 AND d.url = $4 AND d.status = 'PENDING' AND d.attempts = 0
			), ins AS (
				INSERT INTO webhook_deliveries (tenant_id, id, event_id, url, created_at, next_attempt_at, updated_at)
				SELECT $1, uuid7($5), ev.id, $4, $5, $5, $5 FROM ev
				WHERE NOT EXISTS (SELECT 1 FROM waiting w WHERE w.event_id = ev.id)
				RETURNING 1
			)
			SELECT (SELECT count(*) FROM ins) AS queued, (SELECT count(*) FROM waiting) AS skipped`,
			tenantID, q.Since, pq.Array(q.Types), *url, now)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
