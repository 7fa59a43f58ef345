package db

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jmoiron/sqlx"

	"tenantapi/tenant"
)

// Threshold and plan-change events (migrations/00014_threshold_events.sql):
// written here, in the transaction of the change that crosses the line,
// through the same outbox as every other event (SQL emit_event). A mark per
// (tenant, kind, period) makes each threshold fire once per period
// (emit_threshold).

// emitEvent writes an event of type typ with payload in tx. action names a
// job's change (`billing_accounts.update`); a mutation's own name wins.
func emitEvent(ctx context.Context, tx sqlx.ExtContext, tenantID, typ, subject string, payload any, action string) error {
	body, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `SELECT emit_event($1, $2, $3, $4::jsonb, $5)`, tenantID, typ, subject, string(body), action)
	return err
}

// emitThreshold writes the event typ unless it already fired for period,
// and marks it fired.
func emitThreshold(ctx context.Context, tx sqlx.ExtContext, tenantID, typ, period string, payload any, action string) error {
	body, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `SELECT emit_threshold($1, $2, $3, $4, $5::jsonb, $6)`, tenantID, typ, period, tenantID, string(body), action)
	return err
}

// quotaThresholds writes quota.threshold and quota.exceeded when this
// month's interactions went from before to after across 80 % or 100 % of
// the plan's limit, each once per month.
func quotaThresholds(ctx context.Context, tx sqlx.ExtContext, tenantID, planID string, limit *int, month tenant.Date, before, after int) error {
	for _, c := range tenant.QuotaCrossed(limit, before, after) {
		if err := emitThreshold(ctx, tx, tenantID, c.Type, tenant.QuotaPeriod(month), map[string]any{
			"tenantId": tenantID, "metric": "interactions", "planId": planID, "used": after, "limit": *limit,
			"percent": after * 100 / *limit, "threshold": c.Percent, "period": tenant.QuotaPeriod(month),
		}, "usage_daily.insert"); err != nil {
			return err
		}
	}
	return nil
}

// creditBalance is what a tenant's unexpired grants hold.
type creditBalance struct {
	Granted   int `db:"granted"`
	Remaining int `db:"remaining"`
}

func readCreditBalance(ctx context.Context, tx sqlx.ExtContext, tenantID string, now time.Time) (creditBalance, error) {
	var b creditBalance
	err := sqlx.GetContext(ctx, tx, &b, `SELECT COALESCE(sum(amount), 0) AS granted, COALESCE(sum(amount - used), 0) AS remaining
		FROM credit_grants WHERE tenant_id = $1 AND (expires_at IS NULL OR expires_at > $2)`, tenantID, now)
	return b, err
}

// creditsThreshold writes credits.low when fewer than 10 % of the credits
// granted (unexpired grants) remain, once until they are back at 10 % or
// more, which drops the mark. spent says credits were just used: only then
// may it fire (a grant only re-arms it). The caller holds lockUsage.
func creditsThreshold(ctx context.Context, tx sqlx.ExtContext, tenantID string, now time.Time, spent bool) error {
	b, err := readCreditBalance(ctx, tx, tenantID, now)
	if err != nil {
		return err
	}
	if !tenant.Low(b.Remaining, b.Granted) {
		_, err := tx.ExecContext(ctx, `DELETE FROM event_marks WHERE tenant_id = $1 AND kind = $2`, tenantID, tenant.TypeCreditsLow)
		return err
	}
	if !spent {
		return nil
	}
	return emitThreshold(ctx, tx, tenantID, tenant.TypeCreditsLow, tenant.MarkCurrent, map[string]any{
		"tenantId": tenantID, "remaining": b.Remaining, "granted": b.Granted,
		"percent": b.Remaining * 100 / b.Granted, "threshold": tenant.LowPercent,
	}, "credit_grants.update")
}

// seatsThreshold writes watchlist.seats_low when fewer than 10 % of the
// tenant's watchlist seats remain free, once until they are back at 10 % or
// more (which drops the mark).
func seatsThreshold(ctx context.Context, tx sqlx.ExtContext, tenantID string) error {
	var w struct {
		Available int `db:"available_seats"`
		Active    int `db:"active_subjects"`
	}
	if err := sqlx.GetContext(ctx, tx, &w, `SELECT COALESCE(max(available_seats), 0) AS available_seats, COALESCE(max(active_subjects), 0) AS active_subjects
		FROM watchlist_seats WHERE tenant_id = $1`, tenantID); err != nil {
		return err
	}
	free := max(0, w.Available-w.Active)
	if !tenant.Low(free, w.Available) {
		_, err := tx.ExecContext(ctx, `DELETE FROM event_marks WHERE tenant_id = $1 AND kind = $2`, tenantID, tenant.TypeWatchlistSeatsLow)
		return err
	}
	return emitThreshold(ctx, tx, tenantID, tenant.TypeWatchlistSeatsLow, tenant.MarkCurrent, map[string]any{
		"tenantId": tenantID, "availableSeats": w.Available, "activeSubjects": w.Active, "remaining": free,
		"percent": free * 100 / w.Available, "threshold": tenant.LowPercent,
	}, "watchlist_seats.update")
}

// AnnounceExpiringAPIKeys writes api_key.expiring for every unrevoked key
// of a live tenant that expires within tenant.APIKeyExpiringWithin, once
// per key, in one transaction, and returns how many. The hourly job calls
// it (server.go); it runs as the system. Codes: EUNAVAILABLE.
func (s *Store) AnnounceExpiringAPIKeys(ctx context.Context) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		return sqlx.GetContext(ctx, tx, &n, `SELECT count(*) FILTER (WHERE fired) FROM (
				SELECT emit_threshold(k.tenant_id, $3, k.id::text, k.id::text,
					event_camel(to_jsonb(k)) || jsonb_build_object('tenantId', k.tenant_id,
						'expiresInHours', floor(extract(epoch FROM k.expires_at - $1) / 3600)::int),
					'api_keys.expiring') AS fired
				FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
				WHERE k.revoked_at IS NULL AND k.expires_at > $1 AND k.expires_at <= $2 AND t.status <> 'DELETED'
					AND NOT EXISTS (SELECT 1 FROM event_marks m WHERE m.tenant_id = k.tenant_id AND m.kind = $3 AND m.period = k.id::text)
				ORDER BY k.expires_at, k.id
			) x`, now, now.Add(tenant.APIKeyExpiringWithin), tenant.TypeAPIKeyExpiring)
	})
	return n, err
}

// PurgeEventMarks deletes the threshold marks that can no longer keep an
// event from firing twice: the quota's of months before the previous one,
// and api_key.expiring's of keys revoked or expired since (they are never
// announced again). Credits' and seats' marks go when their levels recover.
// The hourly job calls it (server.go). Codes: EUNAVAILABLE.
func (s *Store) PurgeEventMarks(ctx context.Context) (int, error) {
	now := s.Now().UTC()
	res, err := s.q().ExecContext(ctx, `DELETE FROM event_marks m
		WHERE (m.kind IN ($1, $2) AND m.period < $3)
			OR (m.kind = $4 AND NOT EXISTS (SELECT 1 FROM api_keys k
				WHERE k.tenant_id = m.tenant_id AND k.id::text = m.period AND k.revoked_at IS NULL AND k.expires_at > $5))`,
		tenant.TypeQuotaThreshold, tenant.TypeQuotaExceeded, now.AddDate(0, -1, 0).Format("2006-01"), tenant.TypeAPIKeyExpiring, now)
	if err != nil {
		return 0, translate(err)
	}
	n, err := res.RowsAffected()
	return int(n), translate(err)
}
