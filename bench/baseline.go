package bench

import (
	"context"
	"database/sql"
	"slices"
	"time"
)

// baselineSQL fetches in one statement what workload 1 shows: the tenant,
// its plan (and limits), settings, usage this month, billing, the newest 5
// invoices with their count, 30 days of daily stats with empty days as
// zeros, and what accountStatus adds (credit grants, watchlist seats). It is the hand-written query a developer would write for that page,
// with the tenant id already known (no API key to verify).
const baselineSQL = `SELECT t.id, t.name, t.domain, t.status,
	p.id, p.name, p.monthly_price_cents, p.currency, p.users, p.policies, p.interactions_per_month, p.api_requests_per_minute,
	s.data_residency, s.encryption_enabled, s.audit_log_retention_days, s.sso_enabled, s.ip_allowlist, s.deduplicate_tokens, s.version, s.updated_at, s.updated_by,
	(SELECT count(*) FROM usage_monthly_users m WHERE m.tenant_id = t.id AND m.month = $2) AS active_users,
	c.policies,
	(SELECT COALESCE(sum(d.interactions), 0) FROM usage_daily d WHERE d.tenant_id = t.id AND d.day >= $2) AS interactions_this_month,
	b.status, b.billing_period, b.next_billing_date, b.payment_type, b.payment_brand, b.payment_last4, b.billing_email,
	b.scheduled_plan_id, b.scheduled_effective_date, b.version, b.updated_at, b.updated_by,
	(SELECT count(*) FROM invoices i WHERE i.tenant_id = t.id) AS invoice_count,
	(SELECT json_agg(i) FROM (SELECT id, number, status, date, due_date, amount_cents, currency, description, period_start, period_end, paid_at, created_at
		FROM invoices WHERE tenant_id = t.id ORDER BY date DESC, id DESC LIMIT 5) i) AS invoices,
	(SELECT json_agg(json_build_array(g.day::date, COALESCE(d.interactions, 0), COALESCE(d.blocked, 0), COALESCE(d.coached, 0), COALESCE(d.logged, 0), COALESCE(d.high_risk, 0)) ORDER BY g.day)
		FROM generate_series($3::date, $4::date, interval '1 day') AS g(day)
		LEFT JOIN usage_daily d ON d.tenant_id = t.id AND d.day = g.day::date) AS trends,
	(SELECT json_agg(json_build_array(g.amount, g.used, g.expires_at)) FROM credit_grants g WHERE g.tenant_id = t.id) AS credits,
	w.available_seats, w.active_subjects
FROM tenants t JOIN plans p ON p.id = t.plan_id
LEFT JOIN watchlist_seats w ON w.tenant_id = t.id
LEFT JOIN tenant_settings s ON s.tenant_id = t.id
LEFT JOIN usage_counters c ON c.tenant_id = t.id
LEFT JOIN billing_accounts b ON b.tenant_id = t.id
WHERE t.id = $1`

// Baseline runs baselineSQL from one client, back to back, for d, and
// returns the latencies as a Phase (server "sql").
func Baseline(ctx context.Context, name, url string, pool []Tenant, dates Dates, d time.Duration, probe *CPUProbe) (*Phase, error) {
	conn, err := sql.Open("postgres", url)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	run := func(t Tenant) error {
		rows, err := conn.QueryContext(ctx, baselineSQL, t.ID, date(dates.MonthStart), date(dates.StatsFrom), date(dates.Today))
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	// Warm the connection and the plan cache.
	for i := range 50 {
		if err := run(pick(pool, int64(i))); err != nil {
			return nil, err
		}
	}
	p := &Phase{Server: name, Workload: "home", Concurrency: 1}
	before := probe.backends(ctx)
	start := time.Now()
	for seq := int64(1); time.Since(start) < d; seq++ {
		t0 := time.Now()
		if err := run(pick(pool, seq)); err != nil {
			return nil, err
		}
		p.Latencies = append(p.Latencies, time.Since(t0))
	}
	p.Duration = time.Since(start)
	for pid, t := range probe.backends(ctx) {
		p.DBCPU += t - before[pid]
	}
	p.Requests = int64(len(p.Latencies))
	slices.Sort(p.Latencies)
	return p, nil
}
