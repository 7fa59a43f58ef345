package tenant

import (
	"fmt"
	"time"
)

// Thresholds: events the API writes when a tenant's state crosses a line,
// once per period (docs/events.md, "Thresholds"). The store computes them in
// the transaction of the change that crosses the line.

// Wire names of the threshold and plan-change events.
const (
	TypeQuotaThreshold      = "quota.threshold"
	TypeQuotaExceeded       = "quota.exceeded"
	TypeCreditsLow          = "credits.low"
	TypeWatchlistSeatsLow   = "watchlist.seats_low"
	TypeAPIKeyExpiring      = "api_key.expiring"
	TypeSSOTestFailed       = "sso.test_failed"
	TypePlanChangeScheduled = "plan_change.scheduled"
	TypePlanChangeApplied   = "plan_change.applied"
)

// Where the thresholds lie.
const (
	// QuotaWarnPercent is the share of the plan's monthly interactions at
	// which quota.threshold fires; quota.exceeded fires at 100 %.
	QuotaWarnPercent = 80
	// LowPercent: credits.low and watchlist.seats_low fire when fewer than
	// this share of the credits granted (unexpired) or of the seats remain.
	LowPercent = 10
	// APIKeyExpiringWithin is how long before its expiry an API key is
	// announced by api_key.expiring.
	APIKeyExpiringWithin = 7 * 24 * time.Hour
	// MarkCurrent is the period of a mark that lasts until the state is back
	// above its threshold (credits, seats).
	MarkCurrent = "current"
)

// QuotaCrossing is a quota threshold a batch of interactions crossed.
type QuotaCrossing struct {
	Type    string // quota.threshold or quota.exceeded
	Percent int    // the threshold: 80 or 100
}

// QuotaCrossed lists the quota thresholds that usage going from before to
// after crosses under a monthly limit (none for an unlimited or zero plan).
func QuotaCrossed(limit *int, before, after int) []QuotaCrossing {
	if limit == nil || *limit <= 0 {
		return nil
	}
	var out []QuotaCrossing
	for _, c := range []QuotaCrossing{{TypeQuotaThreshold, QuotaWarnPercent}, {TypeQuotaExceeded, 100}} {
		if before*100 < c.Percent**limit && after*100 >= c.Percent**limit {
			out = append(out, c)
		}
	}
	return out
}

// QuotaPeriod is the mark period of a month's quota (2026-11).
func QuotaPeriod(month Date) string { return fmt.Sprintf("%04d-%02d", month.Year(), month.Month()) }

// Low reports whether remaining is below LowPercent of total (never for a
// total of 0).
func Low(remaining, total int) bool { return total > 0 && remaining*100 < LowPercent*total }
