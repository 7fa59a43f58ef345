package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"tenantapi/tenant"
)

// Usage: interaction events recorded in batches (RecordUsage), rolled up per
// tenant per UTC day in the same transaction: usage_daily (counters),
// usage_daily_users and usage_monthly_users (distinct users),
// usage_daily_platforms (distinct platforms), usage_token_types (token
// metrics). Reads (usage, stats, the usage report, the quota) use the
// roll-ups only; usage_events keeps just the ids, for idempotency.

// MonthStart is the first day of t's calendar month in UTC.
func MonthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// UsageByTenant loads each tenant's usage for the current UTC month from the
// daily roll-ups, in key order, in one statement. It is a loader batch.
func (s *Store) UsageByTenant(ctx context.Context, ids []string) ([]*tenant.Usage, []error) {
	all, own := scope(ctx)
	month := tenant.DateOf(s.Now()).MonthStart()
	var rows []tenant.Usage
	err := s.selectBatch(ctx, &rows, `
		SELECT k.id AS tenant_id,
		  COALESCE((SELECT sum(d.interactions) FROM usage_daily d WHERE d.tenant_id = k.id AND d.day >= $2 AND d.day < $5), 0) AS interactions_this_month,
		  (SELECT count(*) FROM usage_monthly_users u WHERE u.tenant_id = k.id AND u.month = $2) AS active_users,
		  COALESCE((SELECT c.policies FROM usage_counters c WHERE c.tenant_id = k.id), 0) AS policies
		FROM unnest($1::uuid[]) AS k(id)
		WHERE ($3 OR k.id = $4)`, pq.Array(validIDs(ids)), month, all, own, nextMonth(month))
	return inKeyOrder(ids, rows, err, "usage", func(u *tenant.Usage) (string, *tenant.Usage) { return u.TenantID, u })
}

func nextMonth(m tenant.Date) tenant.Date { return tenant.NewDate(m.Year(), m.Month()+1, 1) }

// usagePlan is what RecordUsage locks: the tenant, its subscription's
// status and its plan's limits.
type usagePlan struct {
	Status       tenant.Status        `db:"status"`
	Subscription tenant.BillingStatus `db:"subscription"`
	PlanID       string               `db:"plan_id"`
	Limit        *int                 `db:"interactions_per_month"`
	Users        *int                 `db:"users"`
}

// lockUsage locks the tenant's row against other usage writes and credit
// grants (FOR NO KEY UPDATE: foreign-key checks of other writers are not
// blocked), so two batches cannot both spend the last of a quota or of the
// credits. It refuses a deleted tenant. Codes: ENOTFOUND, ECONFLICT.
func lockUsage(ctx context.Context, tx sqlx.ExtContext, tenantID string) (*usagePlan, error) {
	if !tenant.ValidID(tenantID) {
		return nil, tenant.NotFound("tenant")
	}
	all, own := scope(ctx)
	var p usagePlan
	err := sqlx.GetContext(ctx, tx, &p, `SELECT t.status, COALESCE(b.status, `+defaultStatus+`) AS subscription,
		  t.plan_id, p.interactions_per_month, p.users
		FROM tenants t JOIN plans p ON p.id = t.plan_id LEFT JOIN billing_accounts b ON b.tenant_id = t.id
		WHERE t.id = $1 AND ($2 OR t.id = $3) FOR NO KEY UPDATE OF t`, tenantID, all, own)
	if err != nil {
		return nil, notFoundAs(err, "tenant")
	}
	if p.Status == tenant.StatusDeleted {
		return nil, tenant.Errorf(tenant.ECONFLICT, "tenant is deleted; restore it with restoreTenant first")
	}
	return &p, nil
}

// RecordUsage records a batch of interaction events for a tenant in one
// transaction: the new event ids, the day, user, platform and token
// roll-ups, the credits the batch uses beyond the monthly quota, and the
// threshold events it crosses (quota.threshold, quota.exceeded,
// credits.low: db/thresholds.go). An id
// already recorded (or repeated in the batch) counts once. With
// b.ValidateOnly it runs every check and saves nothing.
// Usage is accepted exactly when the account can screen
// (tenant.Standing): without an ACTIVE subscription, or while suspended,
// every new interaction is paid by credits.
// Codes: EINVALID (a bad event, naming it: events[3].platform; a batch
// that would bring the tenant past tenant.MaxTokenTypes token types), ENOTFOUND,
// ECONFLICT (deleted tenant; a suspended one, for new events), EQUOTA (quota and credits cannot cover the
// batch's new events, or its new users would pass the plan's users limit:
// nothing is saved), EPAYMENT (no ACTIVE subscription and too few credits).
func (s *Store) RecordUsage(ctx context.Context, tenantID string, b tenant.UsageBatch) (*tenant.UsageReceipt, error) {
	var out *tenant.UsageReceipt
	// The roll-ups and credits of a batch are many rows: the audit log gets
	// one summary entry (below) instead of one per row.
	err := s.inTxDry(withRowAuditOff(ctx), b.ValidateOnly, func(tx sqlx.ExtContext, now time.Time) error {
		if err := b.Normalize(now); err != nil {
			return err
		}
		plan, err := lockUsage(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		events, repeated := tenant.Unique(b.Events)
		fresh, err := insertEventIDs(ctx, tx, tenantID, events, now)
		if err != nil {
			return err
		}
		roll := tenant.NewRollup(fresh)
		current := tenant.DateOf(now).MonthStart()
		users, err := monthUsers(ctx, tx, tenantID, roll)
		if err != nil {
			return err
		}
		if err := tenant.UsersExceeded(plan.PlanID, plan.Users, users); err != nil {
			return err
		}
		months, err := monthUsage(ctx, tx, tenantID, roll, current)
		if err != nil {
			return err
		}
		// One rule with accountStatus.canDoScreening: the plan's quota is
		// paid by an active subscription only; otherwise credits pay for
		// every new interaction.
		standing := tenant.Standing{Tenant: plan.Status, Subscription: plan.Subscription}
		if plan.Status != tenant.StatusActive && len(fresh) > 0 {
			return tenant.Errorf(tenant.ECONFLICT, "tenant is %s: it cannot screen (accountStatus.canDoScreening is false), so usage is refused until it is restored; nothing was recorded", plan.Status)
		}
		quota := plan.Limit
		if !standing.SubscriptionActive() {
			quota = new(int)
		}
		need := tenant.CreditsNeeded(quota, months)
		left, err := consumeCredits(ctx, tx, tenantID, need, now)
		if err != nil {
			return err
		}
		if need > left {
			if !standing.SubscriptionActive() {
				return tenant.PaymentRequired(standing, need, left)
			}
			return tenant.QuotaExceeded(plan.PlanID, *plan.Limit, months, need, left)
		}
		if err := applyRollup(ctx, tx, tenantID, roll); err != nil {
			return err
		}
		before, used := 0, 0
		for _, m := range months {
			if m.Month == current {
				before, used = m.Used, m.Used+m.Added
			}
		}
		out = &tenant.UsageReceipt{Accepted: len(fresh), Duplicates: repeated + len(events) - len(fresh),
			Quota: tenant.NewQuota(tenantID, current, plan.PlanID, plan.Limit, used, left-need)}
		if len(fresh) == 0 {
			return nil // a replay changes nothing
		}
		// Thresholds crossed by this batch, in its transaction.
		if err := quotaThresholds(ctx, tx, tenantID, plan.PlanID, plan.Limit, current, before, used); err != nil {
			return err
		}
		if need > 0 {
			if err := creditsThreshold(ctx, tx, tenantID, now, true); err != nil {
				return err
			}
		}
		changes := map[string]AuditValue{
			"accepted":   {After: out.Accepted},
			"duplicates": {After: out.Duplicates},
			"days":       {After: len(roll.Days)},
		}
		if need > 0 {
			changes["creditsUsed"] = AuditValue{Before: left, After: left - need}
		}
		return auditEvent(ctx, tx, tenantID, "usage_daily", tenantID, changes)
	})
	return out, err
}

// insertEventIDs stores the ids of events and returns the events whose id
// was new (ON CONFLICT DO NOTHING ... RETURNING), in batch order.
func insertEventIDs(ctx context.Context, tx sqlx.ExtContext, tenantID string, events []tenant.UsageEvent, now time.Time) ([]tenant.UsageEvent, error) {
	ids := make([]string, len(events))
	ats := make([]string, len(events))
	for i, e := range events {
		ids[i], ats[i] = e.ID, e.OccurredAt.Format(time.RFC3339Nano)
	}
	var inserted []string
	if err := sqlx.SelectContext(ctx, tx, &inserted, `INSERT INTO usage_events (tenant_id, event_id, occurred_at, recorded_at)
		SELECT $1, e.id, e.at, $4 FROM unnest($2::text[], $3::timestamptz[]) AS e(id, at)
		ON CONFLICT (tenant_id, event_id) DO NOTHING
		RETURNING event_id`, tenantID, pq.Array(ids), pq.Array(ats), now); err != nil {
		return nil, err
	}
	isNew := make(map[string]bool, len(inserted))
	for _, id := range inserted {
		isNew[id] = true
	}
	fresh := make([]tenant.UsageEvent, 0, len(inserted))
	for _, e := range events {
		if isNew[e.ID] {
			fresh = append(fresh, e)
		}
	}
	return fresh, nil
}

// monthUsers reads, for each month the roll-up adds users to, the distinct
// users recorded before and how many of the roll-up's are new, oldest
// first. The caller holds lockUsage, so no batch adds users in between.
func monthUsers(ctx context.Context, tx sqlx.ExtContext, tenantID string, roll *tenant.Rollup) ([]tenant.MonthUsers, error) {
	if len(roll.MonthUsers) == 0 {
		return nil, nil
	}
	ms, us := make([]string, len(roll.MonthUsers)), make([]string, len(roll.MonthUsers))
	for i, v := range roll.MonthUsers {
		ms[i], us[i] = v.Day.String(), v.Value
	}
	var out []tenant.MonthUsers
	err := sqlx.SelectContext(ctx, tx, &out, `SELECT x.month,
		  (SELECT count(*) FROM usage_monthly_users u WHERE u.tenant_id = $1 AND u.month = x.month) AS users,
		  count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM usage_monthly_users u
		    WHERE u.tenant_id = $1 AND u.month = x.month AND u.user_id = x.user_id)) AS added
		FROM unnest($2::date[], $3::text[]) AS x(month, user_id)
		GROUP BY x.month ORDER BY x.month`, tenantID, pq.Array(ms), pq.Array(us))
	return out, err
}

// monthUsage reads the interactions recorded so far in each month the
// roll-up adds to, and in the current month, oldest first.
func monthUsage(ctx context.Context, tx sqlx.ExtContext, tenantID string, roll *tenant.Rollup, current tenant.Date) ([]tenant.MonthUsage, error) {
	added := roll.ByMonth()
	if _, ok := added[current]; !ok {
		added[current] = 0
	}
	months := make([]string, 0, len(added))
	for m := range added {
		months = append(months, m.String())
	}
	slices.Sort(months)
	var rows []struct {
		Month tenant.Date `db:"month"`
		Used  int         `db:"used"`
	}
	if err := sqlx.SelectContext(ctx, tx, &rows, `SELECT m.month, COALESCE(sum(d.interactions), 0) AS used
		FROM unnest($2::date[]) AS m(month)
		LEFT JOIN usage_daily d ON d.tenant_id = $1 AND d.day >= m.month AND d.day < (m.month + interval '1 month')::date
		GROUP BY m.month ORDER BY m.month`, tenantID, pq.Array(months)); err != nil {
		return nil, err
	}
	out := make([]tenant.MonthUsage, len(rows))
	for i, r := range rows {
		out[i] = tenant.MonthUsage{Month: r.Month, Used: r.Used, Added: added[r.Month]}
	}
	return out, nil
}

// applyRollup adds a roll-up to the tenant's tables: one set-based
// statement per table, each upserting its rows in key order.
func applyRollup(ctx context.Context, tx sqlx.ExtContext, tenantID string, r *tenant.Rollup) error {
	if len(r.Days) == 0 {
		return nil
	}
	n := len(r.Days)
	days := make([]string, n)
	inter, logged, coached, blocked, high, tokenized := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	for i, d := range r.Days {
		days[i] = d.Day.String()
		inter[i], logged[i], coached[i], blocked[i] = int64(d.Interactions), int64(d.Logged), int64(d.Coached), int64(d.Blocked)
		high[i], tokenized[i] = int64(d.HighRisk), int64(d.Tokenized)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO usage_daily AS d (tenant_id, day, interactions, logged, coached, blocked, high_risk, tokenized)
		SELECT $1, x.day, x.i, x.l, x.c, x.b, x.h, x.t
		FROM unnest($2::date[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[]) AS x(day, i, l, c, b, h, t)
		ON CONFLICT (tenant_id, day) DO UPDATE SET
			interactions = d.interactions + EXCLUDED.interactions, logged = d.logged + EXCLUDED.logged,
			coached = d.coached + EXCLUDED.coached, blocked = d.blocked + EXCLUDED.blocked,
			high_risk = d.high_risk + EXCLUDED.high_risk, tokenized = d.tokenized + EXCLUDED.tokenized`,
		tenantID, pq.Array(days), pq.Array(inter), pq.Array(logged), pq.Array(coached), pq.Array(blocked), pq.Array(high), pq.Array(tokenized)); err != nil {
		return err
	}
	sets := []struct {
		values []tenant.DayValue
		query  string
	}{
		{r.DayUsers, `INSERT INTO usage_daily_users (tenant_id, day, user_id)
			SELECT $1, x.day, x.v FROM unnest($2::date[], $3::text[]) AS x(day, v) ON CONFLICT DO NOTHING`},
		{r.MonthUsers, `INSERT INTO usage_monthly_users (tenant_id, month, user_id)
			SELECT $1, x.day, x.v FROM unnest($2::date[], $3::text[]) AS x(day, v) ON CONFLICT DO NOTHING`},
		{r.DayPlatforms, `INSERT INTO usage_daily_platforms (tenant_id, day, platform)
			SELECT $1, x.day, x.v FROM unnest($2::date[], $3::text[]) AS x(day, v) ON CONFLICT DO NOTHING`},
		{r.MonthTokens, `INSERT INTO usage_monthly_tokens (tenant_id, month, token_id)
			SELECT $1, x.day, x.v FROM unnest($2::date[], $3::text[]) AS x(day, v) ON CONFLICT DO NOTHING`},
	}
	for i, set := range sets {
		if i == len(sets)-1 && len(set.values) == 0 {
			continue // no named token: no statement
		}
		ds, vs := make([]string, len(set.values)), make([]string, len(set.values))
		for i, v := range set.values {
			ds[i], vs[i] = v.Day.String(), v.Value
		}
		if _, err := tx.ExecContext(ctx, set.query, tenantID, pq.Array(ds), pq.Array(vs)); err != nil {
			return err
		}
	}
	if len(r.Tokens) == 0 {
		return nil
	}
	types, counts, lasts := make([]string, len(r.Tokens)), make([]int64, len(r.Tokens)), make([]string, len(r.Tokens))
	for i, t := range r.Tokens {
		types[i], counts[i], lasts[i] = t.Type, int64(t.Count), t.LastCreatedAt.Format(time.RFC3339Nano)
	}
	// TokenReport.metricsByType lists each type: their number is bounded,
	// counted under the tenant's lock (lockUsage).
	var total int
	if err := sqlx.GetContext(ctx, tx, &total, `SELECT (SELECT count(*) FROM usage_token_types WHERE tenant_id = $1)
		+ (SELECT count(*) FROM unnest($2::text[]) AS x(ty)
		   WHERE NOT EXISTS (SELECT 1 FROM usage_token_types t WHERE t.tenant_id = $1 AND t.token_type = x.ty))`,
		tenantID, pq.Array(types)); err != nil {
		return err
	}
	if total > tenant.MaxTokenTypes {
		return tenant.Invalid("events", "a tenant records at most %d distinct token types (tokenType); this batch would bring it to %d: reuse existing types; nothing was recorded", tenant.MaxTokenTypes, total)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO usage_token_types AS t (tenant_id, token_type, count, last_created_at)
		SELECT $1, x.ty, x.n, x.at FROM unnest($2::text[], $3::bigint[], $4::timestamptz[]) AS x(ty, n, at)
		ON CONFLICT (tenant_id, token_type) DO UPDATE SET count = t.count + EXCLUDED.count,
			last_created_at = greatest(t.last_created_at, EXCLUDED.last_created_at)`,
		tenantID, pq.Array(types), pq.Array(counts), pq.Array(lasts))
	return err
}

// pruneBatch is how many event ids one DELETE of PruneUsageEvents removes:
// small enough for the statement timeout and for short locks.
const pruneBatch = 10_000

// PruneUsageEvents deletes the ids of events that occurred before the
// acceptance window (tenant.MaxEventAge) with a day of margin: such events
// are refused anyway, so no replay can count twice. The server's hourly job
// calls it (not the GraphQL API); it deletes in batches of pruneBatch and
// returns how many ids it deleted.
func (s *Store) PruneUsageEvents(ctx context.Context) (int, error) {
	before := s.Now().UTC().Add(-tenant.MaxEventAge - 24*time.Hour)
	total := 0
	for {
		res, err := s.q().ExecContext(ctx, `DELETE FROM usage_events WHERE (tenant_id, event_id) IN (
			SELECT tenant_id, event_id FROM usage_events WHERE occurred_at < $1 LIMIT $2)`, before, pruneBatch)
		if err != nil {
			return total, translate(err)
		}
		n, err := res.RowsAffected()
		total += int(n)
		if err != nil || n < pruneBatch {
			return total, err
		}
	}
}

type quotaRow struct {
	TenantID string `db:"tenant_id"`
	usagePlan
	Used    int `db:"used"`
	Credits int `db:"credits"` // left on grants that never expire
	// Expiring is the grants with an expiry, as JSON [[left, expiresAt], ...]
	// (NULL: none): which are still valid depends on the clock, which the
	// statement leaves out so the association cache can keep its rows.
	Expiring *string `db:"expiring"`
}

// credits is what is left on the grants valid at now.
func (r *quotaRow) credits(now time.Time) (int, error) {
	n := r.Credits
	if r.Expiring == nil {
		return n, nil
	}
	var grants [][2]json.RawMessage
	if err := json.Unmarshal([]byte(*r.Expiring), &grants); err != nil {
		return 0, fmt.Errorf("quota: expiring grants: %w", err)
	}
	for _, g := range grants {
		var left int
		var at time.Time
		if err := errors.Join(json.Unmarshal(g[0], &left), json.Unmarshal(g[1], &at)); err != nil {
			return 0, fmt.Errorf("quota: expiring grants: %w", err)
		}
		if at.After(now) {
			n += left
		}
	}
	return n, nil
}

// QuotaByTenant loads each tenant's quota for the current calendar month
// (UTC): the plan's interactions per month, this month's interactions and
// the credits left, in key order, in one statement. It is a loader batch
// (accountStatus). Codes: ENOTFOUND (a tenant the caller may not see).
func (s *Store) QuotaByTenant(ctx context.Context, ids []string) ([]*tenant.Quota, []error) {
	all, own := scope(ctx)
	now := s.Now().UTC()
	month := tenant.DateOf(now).MonthStart()
	var rows []quotaRow
	err := s.selectBatch(ctx, &rows, `SELECT t.id AS tenant_id, t.status, t.plan_id, p.interactions_per_month,
		  COALESCE((SELECT sum(d.interactions) FROM usage_daily d WHERE d.tenant_id = t.id AND d.day >= $4 AND d.day < $5), 0) AS used,
		  COALESCE((SELECT sum(g.amount - g.used) FROM credit_grants g WHERE g.tenant_id = t.id AND g.expires_at IS NULL), 0) AS credits,
		  (SELECT json_agg(json_build_array(g.amount - g.used, g.expires_at))::text FROM credit_grants g
		    WHERE g.tenant_id = t.id AND g.expires_at IS NOT NULL) AS expiring
		FROM tenants t JOIN plans p ON p.id = t.plan_id
		WHERE t.id = ANY($1::uuid[]) AND ($2 OR t.id = $3)`, pq.Array(validIDs(ids)), all, own, month, nextMonth(month))
	quotas := make([]*tenant.Quota, 0, len(rows))
	for i := range rows {
		r := &rows[i]
		credits, cerr := r.credits(now)
		if cerr != nil && err == nil {
			err = cerr
		}
		quotas = append(quotas, tenant.NewQuota(r.TenantID, month, r.PlanID, r.Limit, r.Used, credits))
	}
	return inKeyOrder(ids, quotas, err, "tenant", func(q **tenant.Quota) (string, *tenant.Quota) { return (*q).TenantID, *q })
}

// statsRow is one bucket of one tenant's statistics; Bucket is zero for a
// tenant with no interactions in the period (the LEFT JOIN found none).
type statsRow struct {
	TenantID        string      `db:"tenant_id"`
	Bucket          tenant.Date `db:"bucket"`
	Interactions    int         `db:"interactions"`
	Blocked         int         `db:"blocked"`
	Coached         int         `db:"coached"`
	Logged          int         `db:"logged"`
	HighRisk        int         `db:"high_risk"`
	UniqueUsers     int         `db:"unique_users"`
	UniquePlatforms int         `db:"unique_platforms"`
}

// truncUnit is date_trunc's unit for a granularity; PostgreSQL's weeks
// start on Monday, as ISO 8601's.
var truncUnit = map[tenant.Granularity]string{tenant.ByDay: "day", tenant.ByWeek: "week", tenant.ByMonth: "month"}

// StatsByTenant computes each tenant's statistics for q from the roll-ups,
// in key order, in one statement: the buckets' sums, and the distinct
// users (whole months from usage_monthly_users, the edge days from
// usage_daily_users) and platforms over the period. It is a loader batch.
// Codes: EINVALID (q: end before start, too many buckets), ENOTFOUND (a
// tenant the caller may not see).
func (s *Store) StatsByTenant(ctx context.Context, q tenant.StatsQuery, ids []string) ([]*tenant.Stats, []error) {
	if err := q.Validate(); err != nil {
		errs := make([]error, len(ids))
		for i := range errs {
			errs[i] = err
		}
		return make([]*tenant.Stats, len(ids)), errs
	}
	all, own := scope(ctx)
	// Without Distinct the two LATERAL counts are left out, and with them
	// their parameters (an unreferenced parameter has no type).
	distinct := `0 AS unique_users, 0 AS unique_platforms
		FROM unnest($1::uuid[]) AS k(id)`
	args := []any{pq.Array(validIDs(ids)), all, own, q.Start, q.End, truncUnit[q.Granularity]}
	if q.Distinct {
		months, days := q.UserSpans()
		distinct = `u.n AS unique_users, p.n AS unique_platforms
		FROM unnest($1::uuid[]) AS k(id)
		CROSS JOIN LATERAL (
		  SELECT count(DISTINCT x.user_id) AS n FROM (
		    SELECT user_id FROM usage_monthly_users WHERE tenant_id = k.id AND month = ANY($7::date[])
		    UNION ALL
		    SELECT user_id FROM usage_daily_users WHERE tenant_id = k.id AND day = ANY($8::date[])
		  ) x
		) u
		CROSS JOIN LATERAL (
		  SELECT count(DISTINCT platform) AS n FROM usage_daily_platforms WHERE tenant_id = k.id AND day BETWEEN $4 AND $5
		) p`
		args = append(args, pq.Array(dateStrings(months)), pq.Array(dateStrings(days)))
	}
	var rows []statsRow
	err := s.selectOrdered(ctx, &rows, `k.id, b.bucket`, `SELECT k.id AS tenant_id, b.bucket,
		  COALESCE(b.interactions, 0) AS interactions, COALESCE(b.blocked, 0) AS blocked, COALESCE(b.coached, 0) AS coached,
		  COALESCE(b.logged, 0) AS logged, COALESCE(b.high_risk, 0) AS high_risk,
		  `+distinct+`
		LEFT JOIN LATERAL (
		  SELECT date_trunc($6, d.day::timestamp)::date AS bucket, sum(d.interactions) AS interactions, sum(d.blocked) AS blocked,
		    sum(d.coached) AS coached, sum(d.logged) AS logged, sum(d.high_risk) AS high_risk
		  FROM usage_daily d WHERE d.tenant_id = k.id AND d.day BETWEEN $4 AND $5
		  GROUP BY 1
		) b ON true
		WHERE ($2 OR k.id = $3)`, args...)
	var out []*tenant.Stats
	var buckets map[tenant.Date]*tenant.StatsBucket
	for _, r := range rows {
		if len(out) == 0 || out[len(out)-1].TenantID != r.TenantID {
			st := &tenant.Stats{TenantID: r.TenantID, Query: q, Trends: q.Buckets(),
				Summary: &tenant.StatsSummary{UniqueUsers: r.UniqueUsers, UniquePlatforms: r.UniquePlatforms}}
			buckets = make(map[tenant.Date]*tenant.StatsBucket, len(st.Trends))
			for _, b := range st.Trends {
				buckets[b.Key] = b
			}
			out = append(out, st)
		}
		st := out[len(out)-1]
		if b := buckets[r.Bucket]; b != nil {
			b.Add(tenant.DayCounts{Interactions: r.Interactions, Blocked: r.Blocked, Coached: r.Coached, Logged: r.Logged, HighRisk: r.HighRisk})
			st.Summary.TotalInteractions += r.Interactions
			st.Summary.Blocked += r.Blocked
			st.Summary.Coached += r.Coached
			st.Summary.Logged += r.Logged
			st.Summary.HighRisk += r.HighRisk
		}
	}
	return inKeyOrder(ids, out, err, "tenant", func(st **tenant.Stats) (string, *tenant.Stats) { return (*st).TenantID, *st })
}

func dateStrings(ds []tenant.Date) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.String()
	}
	return out
}

// reportRow is one token type of one tenant's usage report; TokenType is
// nil for a tenant that recorded no token.
type reportRow struct {
	TenantID      string     `db:"tenant_id"`
	Included      int        `db:"included"`
	MonthlyActive int        `db:"monthly_active"`
	TokenType     *string    `db:"token_type"`
	Count         int        `db:"count"`
	LastCreatedAt *time.Time `db:"last_created_at"`
}

// UsageReportsByTenant loads each tenant's usage report (token metrics by
// type, the plan's included monthly active tokens, this month's active
// tokens: the distinct named tokens plus the unnamed token events), in key
// order, in one statement. It is a loader batch.
// Codes: ENOTFOUND (a tenant the caller may not see).
func (s *Store) UsageReportsByTenant(ctx context.Context, ids []string) ([]*tenant.UsageReport, []error) {
	all, own := scope(ctx)
	month := tenant.DateOf(s.Now()).MonthStart()
	var rows []reportRow
	err := s.selectOrdered(ctx, &rows, `t.id, tt.token_type`, `SELECT t.id AS tenant_id, p.included_monthly_active_tokens AS included,
		  COALESCE((SELECT sum(d.tokenized) FROM usage_daily d WHERE d.tenant_id = t.id AND d.day >= $4 AND d.day < $5), 0)
		    + (SELECT count(*) FROM usage_monthly_tokens m WHERE m.tenant_id = t.id AND m.month = $4) AS monthly_active,
		  tt.token_type, COALESCE(tt.count, 0) AS count, tt.last_created_at
		FROM tenants t JOIN plans p ON p.id = t.plan_id
		LEFT JOIN usage_token_types tt ON tt.tenant_id = t.id
		WHERE t.id = ANY($1::uuid[]) AND ($2 OR t.id = $3)`, pq.Array(validIDs(ids)), all, own, month, nextMonth(month))
	var out []*tenant.UsageReport
	for _, r := range rows {
		if len(out) == 0 || out[len(out)-1].TenantID != r.TenantID {
			out = append(out, &tenant.UsageReport{TenantID: r.TenantID, TokenReport: &tenant.TokenReport{
				MetricsByType: []*tenant.TokenMetrics{}, IncludedMonthlyActiveTokens: r.Included, MonthlyActiveTokens: r.MonthlyActive}})
		}
		if r.TokenType != nil {
			rep := out[len(out)-1].TokenReport
			rep.MetricsByType = append(rep.MetricsByType, &tenant.TokenMetrics{Type: *r.TokenType, Count: r.Count, LastCreatedAt: r.LastCreatedAt})
		}
	}
	return inKeyOrder(ids, out, err, "tenant", func(u **tenant.UsageReport) (string, *tenant.UsageReport) { return (*u).TenantID, *u })
}

// demoPlatforms are the AI platforms of the demo tenant's seeded days.
var demoPlatforms = []string{"chatgpt", "copilot", "claude", "gemini", "mistral"}

// seedDemoUsage completes the demo tenant's seeded usage (`make run`): for
// each day of usage_daily without users yet (the seeded ones), the outcomes
// are made to add up to the interactions, a tenth of them carry a token
// (split token 50%, card 30%, bank 20%), and the day gets the 12 demo
// users and five platforms; the tenant gets 5,000 welcome credits expiring
// in a year if it has no grant. Days with recorded events are left alone,
// and running it again changes nothing.
func seedDemoUsage(ctx context.Context, tx sqlx.ExtContext, tenantID string, now time.Time) error {
	var days []string
	if err := sqlx.SelectContext(ctx, tx, &days, `SELECT d.day::text FROM usage_daily d
			WHERE d.tenant_id = $1 AND NOT EXISTS (SELECT 1 FROM usage_daily_users u WHERE u.tenant_id = d.tenant_id AND u.day = d.day)
			ORDER BY d.day`, tenantID); err != nil {
		return err
	}
	dayArr := pq.Array(days)
	steps := []struct {
		query string
		args  []any
	}{
		{`UPDATE usage_daily SET logged = interactions - coached - blocked, tokenized = interactions / 10
			WHERE tenant_id = $1 AND day = ANY($2::date[])`, []any{tenantID, dayArr}},
		{`INSERT INTO usage_daily_users (tenant_id, day, user_id)
			SELECT $1, d, 'user-' || n FROM unnest($2::date[]) AS d, generate_series(1, 12) AS n ON CONFLICT DO NOTHING`, []any{tenantID, dayArr}},
		{`INSERT INTO usage_monthly_users (tenant_id, month, user_id)
			SELECT DISTINCT $1::uuid, date_trunc('month', d::timestamp)::date, 'user-' || n
			FROM unnest($2::date[]) AS d, generate_series(1, 12) AS n ON CONFLICT DO NOTHING`, []any{tenantID, dayArr}},
		{`INSERT INTO usage_daily_platforms (tenant_id, day, platform)
			SELECT $1, d, p FROM unnest($2::date[]) AS d, unnest($3::text[]) AS p ON CONFLICT DO NOTHING`, []any{tenantID, dayArr, pq.Array(demoPlatforms)}},
		{`INSERT INTO usage_token_types AS t (tenant_id, token_type, count, last_created_at)
			SELECT $1, x.ty, x.n, least(x.last + interval '12 hours', $3) FROM (
			  SELECT 'token' AS ty, sum(tokenized - tokenized * 3 / 10 - tokenized * 2 / 10) AS n, max(day) AS last
			    FROM usage_daily WHERE tenant_id = $1 AND day = ANY($2::date[])
			  UNION ALL SELECT 'card', sum(tokenized * 3 / 10), max(day) FROM usage_daily WHERE tenant_id = $1 AND day = ANY($2::date[])
			  UNION ALL SELECT 'bank', sum(tokenized * 2 / 10), max(day) FROM usage_daily WHERE tenant_id = $1 AND day = ANY($2::date[])
			) x WHERE x.n > 0
			ON CONFLICT (tenant_id, token_type) DO UPDATE SET count = t.count + EXCLUDED.count,
				last_created_at = greatest(t.last_created_at, EXCLUDED.last_created_at)`, []any{tenantID, dayArr, now}},
	}
	for _, st := range steps {
		if len(days) == 0 {
			break // nothing seeded is left without users
		}
		if _, err := tx.ExecContext(ctx, st.query, st.args...); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO credit_grants (tenant_id, amount, expires_at, reason, created_at, created_by)
			SELECT $1, 5000, $2::timestamptz + interval '1 year', 'Welcome credits (free tier)', $2, 'seed'
			WHERE NOT EXISTS (SELECT 1 FROM credit_grants WHERE tenant_id = $1)`, tenantID, now)
	return err
}
