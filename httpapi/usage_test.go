package httpapi_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tenantapi/tenant"
)

// This file checks usage (issue 4 §3–5): recordUsage (idempotency, every
// validation rule, nothing saved on refusal), the monthly quota and credits
// (QUOTA_EXCEEDED, concurrency), statistics by day, week and month (agreeing
// with each other and with the events sent; week starts, month ends, the
// leap day), the usage report, the demo data, and the permission and
// isolation rows of every new field and mutation.

const (
	qRecordUsage = `mutation($in: RecordUsageInput!) { recordUsage(input: $in) { accepted duplicates
		quota { month plan interactionsPerMonth used remaining creditsRemaining } } }`
	qGrantCredits = `mutation($in: GrantCreditsInput!) { grantCredits(input: $in) {
		grant { id amount used remaining expiresAt expired reason createdAt createdBy }
		credits { granted used remaining expiredUnused expiresAt grants { id amount used remaining expired } } } }`
	qStats = `query($id: ID!, $s: DateOrTime!, $e: DateOrTime!, $g: StatsGranularity) { tenant(id: $id) { stats(startDate: $s, endDate: $e, granularity: $g) {
		period { start end } granularity
		summary { totalInteractions blocked coached logged uniqueUsers uniquePlatforms highRisk }
		trends { date from to interactions blocked coached logged highRisk } } } }`
	qCredits     = `query($id: ID!) { tenant(id: $id) { credits { granted used remaining expiredUnused expiresAt grants { id amount used remaining expiresAt expired reason } } } }`
	qUsageReport = `query($id: ID!) { tenant(id: $id) { usageReport { tokenReport { metricsByType { type count lastCreatedAt } includedMonthlyActiveTokens monthlyActiveTokens } } } }`
	qUsage       = `query($id: ID!) { tenant(id: $id) { usage { activeUsers interactionsThisMonth } } }`
)

// usageClock is the store's clock in these tests: a fixed instant the test
// moves, so events can be dated on chosen days (a leap day, a year's end).
type usageClock struct{ at atomic.Int64 }

func (c *usageClock) Now() time.Time          { return time.Unix(0, c.at.Load()).UTC() }
func (c *usageClock) Set(t time.Time)         { c.at.Store(t.UnixNano()) }
func (c *usageClock) Advance(d time.Duration) { c.at.Add(int64(d)) }

// usageEnv is a server over a fresh database at a fixed time, with a
// direct connection to the database to seed roll-ups and check what was
// saved.
type usageEnv struct {
	*env
	clock *usageClock
	sql   *sql.DB
}

func newUsageEnv(t *testing.T, now time.Time) *usageEnv {
	t.Helper()
	clock := &usageClock{}
	clock.Set(now)
	e := buildEnv(t, envOptions{now: clock.Now})
	return &usageEnv{env: e, clock: clock, sql: e.raw().DB}
}

// tenantOn creates a tenant on plan as the operator and returns its id and
// a key holding every tenant permission.
func (e *env) tenantOn(plan string) (id, key string) {
	e.t.Helper()
	var out struct {
		CreateTenant struct{ Tenant struct{ ID string } }
	}
	e.mustGQL(testAdminSecret, `mutation($in: CreateTenantInput!) { createTenant(input: $in) { tenant { id } } }`,
		map[string]any{"in": map[string]any{"name": "Usage Co", "domain": randomDomain(), "plan": plan}}, &out)
	id = out.CreateTenant.Tenant.ID
	return id, e.createKey(id, enumNames(tenant.TenantPermissions())...)
}

// ev is a usage event as recordUsage takes it.
type ev struct {
	ID, User, Platform, Outcome, Risk string
	At                                time.Time
	Token                             string
}

func (x ev) input() map[string]any {
	m := map[string]any{"id": x.ID, "occurredAt": x.At.Format(time.RFC3339Nano), "userId": x.User, "platform": x.Platform,
		"outcome": x.Outcome, "riskLevel": x.Risk}
	if x.Outcome == "" {
		m["outcome"] = "LOGGED"
	}
	if x.Risk == "" {
		m["riskLevel"] = "LOW"
	}
	if x.User == "" {
		m["userId"] = "user-1"
	}
	if x.Platform == "" {
		m["platform"] = "chatgpt"
	}
	if x.Token != "" {
		m["tokenType"] = x.Token
	}
	return m
}

func batch(tenantID string, events []ev) map[string]any {
	in := make([]map[string]any, len(events))
	for i, x := range events {
		in[i] = x.input()
	}
	fields := map[string]any{"events": in}
	if tenantID != "" {
		fields["tenantId"] = tenantID
	}
	return map[string]any{"in": fields}
}

// simple returns n events with ids prefix-0.. at at.
func simple(prefix string, n int, at time.Time) []ev {
	out := make([]ev, n)
	for i := range out {
		out[i] = ev{ID: fmt.Sprintf("%s-%d", prefix, i), At: at}
	}
	return out
}

// receipt is the decoded recordUsage payload.
type receipt struct {
	Accepted, Duplicates int
	Quota                struct {
		Month, Plan          string
		InteractionsPerMonth *int
		Used                 int
		Remaining            *int
		CreditsRemaining     int
	}
}

func (e *env) record(token, tenantID string, events []ev) receipt {
	e.t.Helper()
	var out struct{ RecordUsage receipt }
	e.mustGQL(token, qRecordUsage, batch(tenantID, events), &out)
	return out.RecordUsage
}

type statsOut struct {
	Period      struct{ Start, End string }
	Granularity string
	Summary     struct {
		TotalInteractions, Blocked, Coached, Logged, UniqueUsers, UniquePlatforms, HighRisk int
	}
	Trends []bucketOut
}

type bucketOut struct {
	Date, From, To                                   string
	Interactions, Blocked, Coached, Logged, HighRisk int
}

func (e *env) stats(tenantID, start, end, granularity string) statsOut {
	e.t.Helper()
	var out struct{ Tenant struct{ Stats statsOut } }
	e.mustGQL(testAdminSecret, qStats, map[string]any{"id": tenantID, "s": start, "e": end, "g": granularity}, &out)
	return out.Tenant.Stats
}

type creditsOut struct {
	Granted, Used, Remaining, ExpiredUnused int
	ExpiresAt                               *string
	Grants                                  []struct {
		ID                      string
		Amount, Used, Remaining int
		ExpiresAt               *string
		Expired                 bool
		Reason                  string
	}
}

func (e *env) credits(tenantID string) creditsOut {
	e.t.Helper()
	var out struct{ Tenant struct{ Credits creditsOut } }
	e.mustGQL(testAdminSecret, qCredits, map[string]any{"id": tenantID}, &out)
	return out.Tenant.Credits
}

func (e *env) usage(tenantID string) (activeUsers, interactions int) {
	e.t.Helper()
	var out struct {
		Tenant struct {
			Usage struct{ ActiveUsers, InteractionsThisMonth int }
		}
	}
	e.mustGQL(testAdminSecret, qUsage, map[string]any{"id": tenantID}, &out)
	return out.Tenant.Usage.ActiveUsers, out.Tenant.Usage.InteractionsThisMonth
}

func (e *env) grant(tenantID string, amount int, expiresAt *time.Time, reason string) {
	e.t.Helper()
	in := map[string]any{"tenantId": tenantID, "amount": amount, "reason": reason}
	if expiresAt != nil {
		in["expiresAt"] = expiresAt.Format(time.RFC3339)
	}
	e.mustGQL(testAdminSecret, qGrantCredits, map[string]any{"in": in}, nil)
}

// seedUsed writes n interactions directly into a tenant's roll-up of day,
// standing for events recorded before (10,000 events would make a slow
// test).
func (u *usageEnv) seedUsed(tenantID string, day string, n int) {
	u.t.Helper()
	if _, err := u.sql.Exec(`INSERT INTO usage_daily (tenant_id, day, interactions, logged) VALUES ($1, $2, $3, $3)`, tenantID, day, n); err != nil {
		u.t.Fatal(err)
	}
}

// count returns the result of a count(*) query on the test database.
func (u *usageEnv) count(query string, args ...any) int {
	u.t.Helper()
	var n int
	if err := u.sql.QueryRow(query, args...).Scan(&n); err != nil {
		u.t.Fatal(err)
	}
	return n
}

// TestRecordUsageIdempotent sends a batch, replays it, then sends one
// overlapping it with an id repeated inside it: each event counts once.
func TestRecordUsageIdempotent(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	u := newUsageEnv(t, now)
	id, key := u.tenantOn("professional")
	first := []ev{
		{ID: "evt-1", At: now.Add(-time.Hour), User: "alice", Platform: "ChatGPT", Outcome: "LOGGED", Risk: "LOW"},
		{ID: "evt-2", At: now.Add(-time.Hour), User: "bob", Platform: "copilot", Outcome: "BLOCKED", Risk: "CRITICAL", Token: "card"},
		{ID: "evt-3", At: now.Add(-25 * time.Hour), User: "alice", Platform: "chatgpt", Outcome: "COACHED", Risk: "HIGH"},
	}
	r := u.record(key, "", first)
	if r.Accepted != 3 || r.Duplicates != 0 || r.Quota.Used != 3 || r.Quota.Plan != "professional" || r.Quota.Month != "2026-11-01" ||
		*r.Quota.InteractionsPerMonth != 1_000_000 || *r.Quota.Remaining != 999_997 {
		t.Fatalf("first batch: %+v", r)
	}
	if r = u.record(key, "", first); r.Accepted != 0 || r.Duplicates != 3 || r.Quota.Used != 3 {
		t.Errorf("replayed batch: %+v, want 0 accepted and 3 duplicates", r)
	}
	second := []ev{first[0], {ID: "evt-4", At: now, User: "carol"}, {ID: "evt-4", At: now, User: "dave"}, {ID: "EVT-1", At: now, User: "dave"}}
	if r = u.record(key, "", second); r.Accepted != 2 || r.Duplicates != 2 || r.Quota.Used != 5 {
		t.Errorf("overlapping batch: %+v, want 2 accepted (evt-4, EVT-1: ids are case-sensitive) and 2 duplicates", r)
	}
	if n := u.count(`SELECT count(*) FROM usage_events WHERE tenant_id = $1`, id); n != 5 {
		t.Errorf("%d event ids stored, want 5", n)
	}
	// The audit log has one summary per batch that recorded something (not
	// the replay), and no entry per roll-up row.
	if n := u.count(`SELECT count(*) FROM audit_log WHERE tenant_id = $1 AND action = 'recordUsage' AND operation = 'EVENT'`, id); n != 2 {
		t.Errorf("%d audit summaries of recordUsage, want 2", n)
	}
	if n := u.count(`SELECT count(*) FROM audit_log WHERE tenant_id = $1 AND action = 'recordUsage' AND operation <> 'EVENT'`, id); n != 0 {
		t.Errorf("%d row entries of recordUsage in the audit log, want none", n)
	}
	users, interactions := u.usage(id)
	if users != 4 || interactions != 5 {
		t.Errorf("usage = %d users, %d interactions; want 4 (alice, bob, carol, and dave of EVT-1, not of the repeated evt-4), 5", users, interactions)
	}
	s := u.stats(id, "2026-11-01", "2026-11-30", "MONTHLY")
	if s.Summary.TotalInteractions != 5 || s.Summary.Logged != 3 || s.Summary.Blocked != 1 || s.Summary.Coached != 1 ||
		s.Summary.HighRisk != 2 || s.Summary.UniqueUsers != 4 || s.Summary.UniquePlatforms != 2 {
		t.Errorf("summary = %+v", s.Summary)
	}
}

// statsEvents are events on chosen days around the leap day of 2028 and
// the end of January, with outcomes, risks, users and platforms varied by
// index, and a token type on some.
func statsEvents() []ev {
	days := map[string]int{ // day -> number of events
		"2028-01-30": 2, "2028-01-31": 3, "2028-02-01": 4, "2028-02-15": 1,
		"2028-02-28": 5, "2028-02-29": 6, "2028-03-01": 7, "2028-03-05": 2,
	}
	outcomes, risks := []string{"LOGGED", "LOGGED", "COACHED", "BLOCKED"}, []string{"LOW", "MEDIUM", "HIGH", "CRITICAL", "LOW"}
	platforms, tokens := []string{"chatgpt", "copilot", "claude"}, []string{"", "card", "", "token", "bank"}
	var out []ev
	n := 0
	for _, d := range slices.Sorted(func(yield func(string) bool) {
		for k := range days {
			if !yield(k) {
				return
			}
		}
	}) {
		start, _ := time.Parse("2006-01-02", d)
		for i := range days[d] {
			// The first event of each day at 00:00:00, the last at 23:59:59.999.
			at := start.Add(time.Duration(i) * time.Hour)
			if i == days[d]-1 && i > 0 {
				at = start.Add(24*time.Hour - time.Millisecond)
			}
			out = append(out, ev{ID: fmt.Sprintf("s-%03d", n), At: at, User: fmt.Sprintf("user-%d", n%9), Platform: platforms[n%3],
				Outcome: outcomes[n%4], Risk: risks[n%5], Token: tokens[n%5]})
			n++
		}
	}
	return out
}

// expected sums the events of days [from, to] as a bucket.
func expected(events []ev, from, to string) (b bucketOut, users, platforms map[string]bool) {
	users, platforms = map[string]bool{}, map[string]bool{}
	for _, x := range events {
		d := x.At.UTC().Format("2006-01-02")
		if d < from || d > to {
			continue
		}
		b.Interactions++
		switch x.Outcome {
		case "LOGGED":
			b.Logged++
		case "COACHED":
			b.Coached++
		case "BLOCKED":
			b.Blocked++
		}
		if x.Risk == "HIGH" || x.Risk == "CRITICAL" {
			b.HighRisk++
		}
		users[x.User], platforms[x.Platform] = true, true
	}
	return b, users, platforms
}

// TestStatsAgree records events over the end of January and the leap day
// of 2028 and reads them by day, ISO week and month: each bucket holds
// exactly its days' events, empty buckets are zeros, the three
// granularities and the summary agree with each other and with the events
// sent, and replaying the events changes nothing.
func TestStatsAgree(t *testing.T) {
	t.Parallel()
	// Events are accepted up to 35 days old: January's are recorded in
	// February, the rest on the last day of the period.
	mid, end := time.Date(2028, 2, 20, 12, 0, 0, 0, time.UTC), time.Date(2028, 3, 5, 23, 59, 59, 0, time.UTC)
	u := newUsageEnv(t, mid)
	id, key := u.tenantOn("professional")
	events := statsEvents()
	cut := slices.IndexFunc(events, func(x ev) bool { return x.At.After(mid) })
	send := func(wantAccepted bool) {
		t.Helper()
		u.clock.Set(mid)
		r1 := u.record(key, "", events[:cut])
		u.clock.Set(end)
		r2 := u.record(key, "", events[cut:])
		if accepted := r1.Accepted + r2.Accepted; wantAccepted && accepted != len(events) || !wantAccepted && accepted != 0 {
			t.Fatalf("recorded %+v and %+v of %d events", r1, r2, len(events))
		}
	}
	send(true)
	wantDates := map[string][]string{
		"DAILY":   nil, // every day from 2028-01-30 to 2028-03-05: 36 buckets
		"WEEKLY":  {"2028-01-30", "2028-01-31", "2028-02-07", "2028-02-14", "2028-02-21", "2028-02-28"},
		"MONTHLY": {"2028-01-30", "2028-02-01", "2028-03-01"},
	}
	for d := time.Date(2028, 1, 30, 0, 0, 0, 0, time.UTC); !d.After(time.Date(2028, 3, 5, 0, 0, 0, 0, time.UTC)); d = d.AddDate(0, 0, 1) {
		wantDates["DAILY"] = append(wantDates["DAILY"], d.Format("2006-01-02"))
	}
	all, allUsers, allPlatforms := expected(events, "2028-01-30", "2028-03-05")
	check := func(t *testing.T, s statsOut, start, end string) {
		t.Helper()
		sum := bucketOut{}
		for i, b := range s.Trends {
			want, _, _ := expected(events, b.From, b.To)
			want.Date, want.From, want.To = b.Date, b.From, b.To
			if b != want {
				t.Errorf("bucket %d = %+v, want %+v", i, b, want)
			}
			if i > 0 && b.From != nextDay(s.Trends[i-1].To) {
				t.Errorf("bucket %d starts %s, the day after %s expected", i, b.From, s.Trends[i-1].To)
			}
			sum.Interactions += b.Interactions
			sum.Logged += b.Logged
			sum.Coached += b.Coached
			sum.Blocked += b.Blocked
			sum.HighRisk += b.HighRisk
		}
		if len(s.Trends) == 0 || s.Trends[0].From != start || s.Trends[len(s.Trends)-1].To != end {
			t.Errorf("trends do not cover %s to %s: %+v", start, end, s.Trends)
		}
		want, users, platforms := expected(events, start, end)
		if sum.Interactions != want.Interactions || s.Summary.TotalInteractions != want.Interactions || s.Summary.Logged != want.Logged ||
			s.Summary.Coached != want.Coached || s.Summary.Blocked != want.Blocked || s.Summary.HighRisk != want.HighRisk ||
			s.Summary.UniqueUsers != len(users) || s.Summary.UniquePlatforms != len(platforms) || sum.HighRisk != want.HighRisk {
			t.Errorf("summary %+v (trends sum %+v), want %+v with %d users and %d platforms", s.Summary, sum, want, len(users), len(platforms))
		}
		if s.Period.Start != start+"T00:00:00Z" || s.Period.End != end+"T23:59:59Z" {
			t.Errorf("period = %+v", s.Period)
		}
	}
	for _, g := range []string{"DAILY", "WEEKLY", "MONTHLY"} {
		t.Run(g, func(t *testing.T) {
			s := u.withT(t).stats(id, "2028-01-30", "2028-03-05", g)
			var dates []string
			for _, b := range s.Trends {
				dates = append(dates, b.Date)
			}
			if !slices.Equal(dates, wantDates[g]) || s.Granularity != g {
				t.Errorf("%s buckets %v, want %v", s.Granularity, dates, wantDates[g])
			}
			check(t, s, "2028-01-30", "2028-03-05")
			if s.Summary.TotalInteractions != len(events) || s.Summary.UniqueUsers != len(allUsers) || s.Summary.UniquePlatforms != len(allPlatforms) || all.Interactions != len(events) {
				t.Errorf("summary %+v does not count the %d events sent", s.Summary, len(events))
			}
		})
	}
	// Sub-periods: the leap week (clipped at both ends), February alone (a
	// whole month: unique users from the monthly sets), a day without
	// events, and the month end.
	for _, p := range []struct{ name, start, end, g string }{
		{"LeapWeek", "2028-02-29", "2028-03-01", "WEEKLY"},
		{"LeapDay", "2028-02-29", "2028-02-29", "DAILY"},
		{"February", "2028-02-01", "2028-02-29", "MONTHLY"},
		{"FebruaryByWeek", "2028-02-01", "2028-02-29", "WEEKLY"},
		{"MonthEnd", "2028-01-31", "2028-02-01", "MONTHLY"},
		{"Empty", "2028-02-02", "2028-02-14", "DAILY"},
	} {
		t.Run(p.name, func(t *testing.T) {
			s := u.withT(t).stats(id, p.start, p.end, p.g)
			check(t, s, p.start, p.end)
		})
	}
	if s := u.stats(id, "2028-02-02", "2028-02-14", "DAILY"); len(s.Trends) != 13 || s.Summary != (statsOut{}).Summary {
		t.Errorf("an empty period: %d buckets, summary %+v; want 13 zero buckets", len(s.Trends), s.Summary)
	}
	if s := u.stats(id, "2028-02-29", "2028-02-29", "MONTHLY"); len(s.Trends) != 1 || s.Trends[0].Date != "2028-02-29" || s.Trends[0].From != "2028-02-29" {
		t.Errorf("the leap day by month: %+v", s.Trends)
	}

	before := u.stats(id, "2028-01-30", "2028-03-05", "DAILY")
	send(false) // a replay
	if after := u.stats(id, "2028-01-30", "2028-03-05", "DAILY"); !equalJSON(before, after) {
		t.Errorf("a replay changed the stats")
	}

	// The token report: every event with a token type, by type; this
	// month's (March 2028) in monthlyActiveTokens.
	var rep struct {
		Tenant struct {
			UsageReport struct {
				TokenReport struct {
					MetricsByType []struct {
						Type          string
						Count         int
						LastCreatedAt string
					}
					IncludedMonthlyActiveTokens, MonthlyActiveTokens int
				}
			}
		}
	}
	u.mustGQL(testAdminSecret, qUsageReport, map[string]any{"id": id}, &rep)
	counts, last, march := map[string]int{}, map[string]string{}, 0
	for _, x := range events {
		if x.Token == "" {
			continue
		}
		counts[x.Token]++
		if ts := x.At.Format(time.RFC3339Nano); ts > last[x.Token] {
			last[x.Token] = ts
		}
		if x.At.Month() == time.March {
			march++
		}
	}
	tr := rep.Tenant.UsageReport.TokenReport
	if tr.IncludedMonthlyActiveTokens != 50000 || tr.MonthlyActiveTokens != march || len(tr.MetricsByType) != len(counts) {
		t.Errorf("token report = %+v, want %d types and %d monthly active tokens", tr, len(counts), march)
	}
	for _, m := range tr.MetricsByType {
		if m.Count != counts[m.Type] || m.LastCreatedAt != last[m.Type] {
			t.Errorf("metrics of %s = %+v, want count %d, last %s", m.Type, m, counts[m.Type], last[m.Type])
		}
	}
}

func nextDay(d string) string {
	t, _ := time.Parse("2006-01-02", d)
	return t.AddDate(0, 0, 1).Format("2006-01-02")
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// TestStatsWeeksAcrossYearEnd checks ISO weeks across the end of 2026:
// 2026-12-28 is a Monday, and its week runs to Sunday 2027-01-03.
func TestStatsWeeksAcrossYearEnd(t *testing.T) {
	t.Parallel()
	u := newUsageEnv(t, time.Date(2027, 1, 11, 12, 0, 0, 0, time.UTC))
	id, key := u.tenantOn("professional")
	at := func(s string) time.Time { d, _ := time.Parse(time.RFC3339, s); return d }
	u.record(key, "", []ev{
		{ID: "sun", At: at("2026-12-27T23:59:59Z")},
		{ID: "mon", At: at("2026-12-28T00:00:00Z")},
		{ID: "nye", At: at("2026-12-31T23:00:00Z")},
		{ID: "nyd", At: at("2027-01-01T01:00:00Z")},
		{ID: "sun2", At: at("2027-01-03T23:59:59Z")},
		{ID: "mon2", At: at("2027-01-04T00:00:00Z")},
	})
	s := u.stats(id, "2026-12-27", "2027-01-04", "WEEKLY")
	want := []bucketOut{
		{Date: "2026-12-27", From: "2026-12-27", To: "2026-12-27", Interactions: 1, Logged: 1},
		{Date: "2026-12-28", From: "2026-12-28", To: "2027-01-03", Interactions: 4, Logged: 4},
		{Date: "2027-01-04", From: "2027-01-04", To: "2027-01-04", Interactions: 1, Logged: 1},
	}
	if !slices.Equal(s.Trends, want) {
		t.Errorf("weeks = %+v\nwant %+v", s.Trends, want)
	}
	m := u.stats(id, "2026-12-27", "2027-01-04", "MONTHLY")
	if len(m.Trends) != 2 || m.Trends[0].Interactions != 3 || m.Trends[1].Interactions != 3 || m.Trends[0].To != "2026-12-31" || m.Trends[1].Date != "2027-01-01" {
		t.Errorf("months = %+v", m.Trends)
	}
}

// TestStatsRefused checks the arguments stats refuses, each naming the
// argument and the rule.
func TestStatsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Stats Co", randomDomain())
	for _, c := range []struct {
		name, start, end, g string
		code, field, msg    string
	}{
		{"ErrEndBeforeStart", "2026-03-31", "2026-03-01", "DAILY", "BAD_USER_INPUT", "endDate", "endDate 2026-03-01 is before startDate 2026-03-31"},
		{"ErrTooManyDays", "2026-01-01", "2027-01-02", "DAILY", "BAD_USER_INPUT", "endDate", "2026-01-01 to 2027-01-02 holds 367 daily buckets; at most 366 are allowed"},
		{"ErrTooManyMonths", "1990-01-01", "2026-12-31", "MONTHLY", "BAD_USER_INPUT", "endDate", "holds 444 monthly buckets"},
		{"ErrNoSuchDay", "2026-02-29", "2026-03-01", "DAILY", "BAD_USER_INPUT", "startDate", `startDate must be a date in the form YYYY-MM-DD (RFC 3339 full-date) that exists, such as 2026-03-31, got "2026-02-29"`},
		{"ErrNotADate", "2026-03-01", "March 31", "DAILY", "BAD_USER_INPUT", "endDate", `endDate must be a date (YYYY-MM-DD, such as 2026-03-31) or an RFC 3339 instant with a time zone`},
		{"ErrInstantWithoutZone", "2026-03-01T00:00:00", "2026-03-31", "DAILY", "BAD_USER_INPUT", "startDate", `got "2026-03-01T00:00:00"`},
		{"ErrGranularity", "2026-03-01", "2026-03-31", "HOURLY", "GRAPHQL_VALIDATION_FAILED", "", "HOURLY is not a valid StatsGranularity"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.withT(t).ask(testAdminSecret, qStats, map[string]any{"id": id, "s": c.start, "e": c.end, "g": c.g})
			if r.Code() != c.code || r.Field() != c.field || !strings.Contains(r.Errors[0].Message, c.msg) {
				t.Errorf("got %s, want %s field %q message %q", r.Raw, c.code, c.field, c.msg)
			}
			if c.code == "BAD_USER_INPUT" && dataAt(t, r, "tenant") == nil {
				t.Errorf("the tenant is null: only its stats should be: %s", r.Raw)
			}
		})
	}
}

// TestQuotaAndCredits walks a starter tenant (10,000 interactions a month)
// through its quota: within it, beyond it on credits (earliest expiry
// first), refused with QUOTA_EXCEEDED saving nothing, an expired grant
// ignored, replays free, late events on the previous month's quota, and
// validateOnly.
func TestQuotaAndCredits(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	u := newUsageEnv(t, t0)
	id, key := u.tenantOn("starter")
	u.seedUsed(id, "2026-11-02", 9990)
	soon := t0.Add(24 * time.Hour)
	u.grant(id, 15, &soon, "Pilot credits")
	u.grant(id, 10, nil, "Goodwill")
	c := u.credits(id)
	if c.Granted != 25 || c.Remaining != 25 || c.Used != 0 || c.ExpiresAt == nil || *c.ExpiresAt != soon.Format(time.RFC3339) ||
		len(c.Grants) != 2 || c.Grants[0].Reason != "Pilot credits" || c.Grants[1].ExpiresAt != nil {
		t.Fatalf("credits after the grants = %+v", c)
	}

	r := u.record(key, "", simple("within", 5, t0))
	if r.Accepted != 5 || r.Quota.Used != 9995 || *r.Quota.Remaining != 5 || r.Quota.CreditsRemaining != 25 || *r.Quota.InteractionsPerMonth != 10000 {
		t.Errorf("within the quota: %+v", r)
	}
	r = u.record(key, "", simple("crossing", 10, t0))
	if r.Accepted != 10 || r.Quota.Used != 10005 || *r.Quota.Remaining != 0 || r.Quota.CreditsRemaining != 20 {
		t.Errorf("crossing the quota: %+v", r)
	}
	if c = u.credits(id); c.Used != 5 || c.Remaining != 20 || c.Grants[0].Used != 5 || c.Grants[1].Used != 0 {
		t.Errorf("credits after crossing: %+v, want 5 used from the earliest-expiring grant", c)
	}

	refuse := func(events []ev, msg string) {
		t.Helper()
		before := u.count(`SELECT count(*) FROM usage_events WHERE tenant_id = $1`, id)
		beforeCredits := u.credits(id)
		_, beforeUsage := u.usage(id)
		res := u.ask(key, qRecordUsage, batch("", events))
		if res.Code() != "QUOTA_EXCEEDED" || !strings.Contains(res.Errors[0].Message, msg) || dataAt(t, res, "recordUsage") != nil {
			t.Errorf("want QUOTA_EXCEEDED %q, got %s", msg, res.Raw)
		}
		if after := u.count(`SELECT count(*) FROM usage_events WHERE tenant_id = $1`, id); after != before {
			t.Errorf("a refused batch stored %d event ids", after-before)
		}
		if _, after := u.usage(id); after != beforeUsage {
			t.Errorf("a refused batch changed usage from %d to %d", beforeUsage, after)
		}
		if after := u.credits(id); !equalJSON(after, beforeCredits) {
			t.Errorf("a refused batch changed credits: %+v -> %+v", beforeCredits, after)
		}
	}
	refuse(simple("refused", 21, t0), "monthly interaction quota of 10,000 (starter) and credits are exhausted: 10,005 of 10,000 used in 2026-11, 20 credits left; this batch needs 21 credits for 21 new interactions; nothing was recorded")

	// The pilot grant expires with 10 credits unused: only the goodwill
	// grant's 10 are left.
	u.clock.Advance(25 * time.Hour)
	c = u.credits(id)
	if c.Remaining != 10 || c.ExpiredUnused != 10 || c.Used != 5 || c.ExpiresAt != nil || !c.Grants[0].Expired || c.Grants[0].Remaining != 0 {
		t.Errorf("credits after the expiry = %+v", c)
	}
	now := u.clock.Now()
	refuse(simple("refused", 11, now), "10 credits left; this batch needs 11 credits for 11 new interactions")
	// The refused events were not saved: the same ids are new now.
	r = u.record(key, "", simple("refused", 10, now))
	if r.Accepted != 10 || r.Duplicates != 0 || r.Quota.CreditsRemaining != 0 || r.Quota.Used != 10015 {
		t.Errorf("ten of the refused ids: %+v", r)
	}
	if c = u.credits(id); c.Used != 15 || c.Remaining != 0 || c.Grants[1].Used != 10 || c.Granted != c.Used+c.Remaining+c.ExpiredUnused {
		t.Errorf("credits when all are used: %+v", c)
	}
	// Replays cost nothing and are never refused.
	if r = u.record(key, "", simple("crossing", 10, t0)); r.Accepted != 0 || r.Duplicates != 10 {
		t.Errorf("a replay at the limit: %+v", r)
	}
	refuse(simple("last", 1, now), "10,015 of 10,000 used in 2026-11, 0 credits left; this batch needs 1 credit for 1 new interaction")
	// A late event counts in the month it occurred: October has room.
	if r = u.record(key, "", simple("october", 2, time.Date(2026, 10, 30, 9, 0, 0, 0, time.UTC))); r.Accepted != 2 || r.Quota.Used != 10015 {
		t.Errorf("late events on October's quota: %+v", r)
	}
	if s := u.stats(id, "2026-10-01", "2026-10-31", "MONTHLY"); s.Summary.TotalInteractions != 2 {
		t.Errorf("October = %+v", s.Summary)
	}
	// validateOnly reports what would happen and saves nothing.
	u.grant(id, 5, nil, "Top-up")
	var dry struct{ RecordUsage receipt }
	in := batch("", simple("dry", 3, now))
	in["in"].(map[string]any)["validateOnly"] = true
	u.mustGQL(key, qRecordUsage, in, &dry)
	if dry.RecordUsage.Accepted != 3 || dry.RecordUsage.Quota.CreditsRemaining != 2 || dry.RecordUsage.Quota.Used != 10018 {
		t.Errorf("validateOnly: %+v", dry.RecordUsage)
	}
	if c = u.credits(id); c.Remaining != 5 || u.count(`SELECT count(*) FROM usage_events WHERE event_id LIKE 'dry-%'`) != 0 {
		t.Errorf("validateOnly saved something: credits %+v", c)
	}
	if _, n := u.usage(id); n != 10015 {
		t.Errorf("usage after validateOnly = %d, want 10015", n)
	}
	// The store's quota (for accountStatus) agrees.
	qs, errs := u.store.QuotaByTenant(adminCtx(), []string{id})
	if q := qs[0]; errs[0] != nil || q.Used != 10015 || *q.Limit != 10000 || *q.Remaining != 0 || q.CreditsRemaining != 5 || q.PlanID != "starter" || q.Month.String() != "2026-11-01" {
		t.Errorf("QuotaByTenant = %+v, %v", qs[0], errs[0])
	}
}

// TestPruneUsageEvents checks event ids are kept as long as an event can be
// accepted, and pruned after: a replay of a pruned event is refused as too
// old, so it can never count twice.
func TestPruneUsageEvents(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	u := newUsageEnv(t, now)
	id, key := u.tenantOn("professional")
	events := simple("old", 3, now.Add(-time.Hour))
	u.record(key, "", events)
	if n, err := u.store.PruneUsageEvents(context.Background()); err != nil || n != 0 {
		t.Errorf("pruned %d (%v) within the window, want 0", n, err)
	}
	u.clock.Advance(tenant.MaxEventAge + 24*time.Hour)
	if n, err := u.store.PruneUsageEvents(context.Background()); err != nil || n != 3 {
		t.Errorf("pruned %d (%v), want 3", n, err)
	}
	if n := u.count(`SELECT count(*) FROM usage_events WHERE tenant_id = $1`, id); n != 0 {
		t.Errorf("%d ids left", n)
	}
	r := u.ask(key, qRecordUsage, batch("", events))
	if r.Code() != "BAD_USER_INPUT" || r.Field() != "events[0].occurredAt" {
		t.Errorf("a replay of pruned events: %s, want BAD_USER_INPUT for events[0].occurredAt", r.Raw)
	}
	if s := u.stats(id, "2026-11-23", "2026-11-23", "DAILY"); s.Summary.TotalInteractions != 3 {
		t.Errorf("pruning ids changed the roll-ups: %+v", s.Summary)
	}
}

// TestQuotaConcurrent sends eight batches of five at once to a starter
// tenant with room for twenty (10 in the quota, 10 credits): exactly four
// are accepted, four refused, and nothing is overspent.
func TestQuotaConcurrent(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	u := newUsageEnv(t, t0)
	id, key := u.tenantOn("starter")
	u.seedUsed(id, "2026-11-01", 9990)
	u.grant(id, 10, nil, "Concurrency")
	var wg sync.WaitGroup
	codes := make([]string, 8)
	for i := range codes {
		wg.Go(func() {
			body, _ := json.Marshal(map[string]any{"query": qRecordUsage, "variables": batch("", simple(fmt.Sprintf("c%d", i), 5, t0))})
			req, _ := http.NewRequest(http.MethodPost, u.srv.URL+"/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				codes[i] = err.Error()
				return
			}
			defer resp.Body.Close()
			var res result
			_ = json.NewDecoder(resp.Body).Decode(&res)
			codes[i] = res.Code()
		})
	}
	wg.Wait()
	ok, refused := 0, 0
	for _, c := range codes {
		switch c {
		case "":
			ok++
		case "QUOTA_EXCEEDED":
			refused++
		default:
			t.Errorf("unexpected outcome %q", c)
		}
	}
	if ok != 4 || refused != 4 {
		t.Errorf("%d accepted and %d refused, want 4 and 4", ok, refused)
	}
	if _, n := u.usage(id); n != 10010 {
		t.Errorf("interactions = %d, want 10010", n)
	}
	if c := u.credits(id); c.Used != 10 || c.Remaining != 0 {
		t.Errorf("credits = %+v, want all 10 used and none overspent", c)
	}
	if n := u.count(`SELECT count(*) FROM usage_events WHERE tenant_id = $1`, id); n != 20 {
		t.Errorf("%d event ids stored, want 20", n)
	}
}

// TestRecordUsageBadInput checks every validation rule of recordUsage and
// grantCredits through the server: code, field, message, and nothing saved
// (the good event at index 0 of a refused batch is new afterwards).
func TestRecordUsageBadInput(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	u := newUsageEnv(t, now)
	id, key := u.tenantOn("professional")
	good := ev{ID: "good", At: now}
	many := simple("many", 1001, now)
	cases := []struct {
		name        string
		events      []map[string]any
		code, field string
		msg         string
	}{
		{"ErrNoEvents", []map[string]any{}, "BAD_USER_INPUT", "events", "events must hold 1 to 1,000 events, got 0"},
		{"ErrTooManyEvents", inputs(many), "BAD_USER_INPUT", "events", "events must hold 1 to 1,000 events, got 1,001"},
		{"ErrIDEmpty", with(good, "id", ""), "BAD_USER_INPUT", "events[1].id", "events[1].id must be 1 to 100 characters, got 0"},
		{"ErrIDTooLong", with(good, "id", strings.Repeat("i", 101)), "BAD_USER_INPUT", "events[1].id", "events[1].id must be 1 to 100 characters, got 101"},
		{"ErrIDControl", with(good, "id", "bad\u0000id"), "BAD_USER_INPUT", "events[1].id", "events[1].id must not contain control characters"},
		{"ErrTooOld", with(good, "occurredAt", now.Add(-36*24*time.Hour).Format(time.RFC3339)), "BAD_USER_INPUT", "events[1].occurredAt",
			"events[1].occurredAt must be within the last 35 days and at most 5 minutes ahead (2026-10-19T12:00:00Z to 2026-11-23T12:05:00Z), got 2026-10-18T12:00:00Z"},
		{"ErrFuture", with(good, "occurredAt", now.Add(6*time.Minute).Format(time.RFC3339)), "BAD_USER_INPUT", "events[1].occurredAt", "at most 5 minutes ahead"},
		{"ErrTimeFormat", with(good, "occurredAt", "yesterday"), "BAD_USER_INPUT", "events[1].occurredAt", "events[1].occurredAt is not valid"},
		{"ErrUserEmpty", with(good, "userId", "  "), "BAD_USER_INPUT", "events[1].userId", "events[1].userId must be 1 to 100 characters, got 0"},
		{"ErrUserTooLong", with(good, "userId", strings.Repeat("u", 101)), "BAD_USER_INPUT", "events[1].userId", "got 101"},
		{"ErrPlatformEmpty", with(good, "platform", ""), "BAD_USER_INPUT", "events[1].platform", "events[1].platform must be 1 to 100 characters"},
		{"ErrPlatformTooLong", with(good, "platform", strings.Repeat("p", 101)), "BAD_USER_INPUT", "events[1].platform", "got 101"},
		{"ErrPlatformControl", with(good, "platform", "chat\ngpt"), "BAD_USER_INPUT", "events[1].platform", "control characters"},
		{"ErrTokenTypeEmpty", with(good, "tokenType", ""), "BAD_USER_INPUT", "events[1].tokenType", "events[1].tokenType must be 1 to 50 letters"},
		{"ErrTokenTypeSpace", with(good, "tokenType", "credit card"), "BAD_USER_INPUT", "events[1].tokenType", `got "credit card"`},
		{"ErrTokenTypeTooLong", with(good, "tokenType", strings.Repeat("t", 51)), "BAD_USER_INPUT", "events[1].tokenType", "1 to 50 letters"},
		{"ErrOutcome", with(good, "outcome", "IGNORED"), "GRAPHQL_VALIDATION_FAILED", "", "IGNORED is not a valid InteractionOutcome"},
		{"ErrRiskLevel", with(good, "riskLevel", "SEVERE"), "GRAPHQL_VALIDATION_FAILED", "", "SEVERE is not a valid RiskLevel"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := u.withT(t)
			r := e.ask(key, qRecordUsage, map[string]any{"in": map[string]any{"events": c.events}})
			if len(r.Errors) == 0 || r.Code() != c.code || r.Field() != c.field || !strings.Contains(r.Errors[0].Message, c.msg) {
				t.Errorf("got %s\nwant %s field %q message %q", r.Raw, c.code, c.field, c.msg)
			}
			if strings.Contains(c.msg, "events[1]") && !strings.Contains(r.Errors[0].Message, "events[1]") {
				t.Errorf("the message does not name the event: %s", r.Errors[0].Message)
			}
		})
	}
	// Nothing of any refused batch was saved.
	if n := u.count(`SELECT count(*) FROM usage_events WHERE tenant_id = $1`, id); n != 0 {
		t.Errorf("refused batches stored %d event ids", n)
	}
	if r := u.record(key, "", []ev{good}); r.Accepted != 1 {
		t.Errorf("the good event after the refusals: %+v", r)
	}

	later := now.Add(time.Hour).Format(time.RFC3339)
	for _, c := range []struct {
		name  string
		in    map[string]any
		field string
		msg   string
	}{
		{"ErrAmountZero", map[string]any{"amount": 0, "reason": "x"}, "amount", "amount must be 1 to 1,000,000,000 credits, got 0"},
		{"ErrAmountTooLarge", map[string]any{"amount": 1_000_000_001, "reason": "x"}, "amount", "got 1000000001"},
		{"ErrExpiresInPast", map[string]any{"amount": 5, "reason": "x", "expiresAt": "2026-11-23T11:00:00Z"}, "expiresAt", "expiresAt must be in the future, got 2026-11-23T11:00:00Z"},
		{"ErrExpiresFormat", map[string]any{"amount": 5, "reason": "x", "expiresAt": "next week"}, "expiresAt", "expiresAt is not valid"},
		{"ErrReasonEmpty", map[string]any{"amount": 5, "reason": " "}, "reason", "reason must be 1 to 200 characters, got 0"},
		{"ErrReasonTooLong", map[string]any{"amount": 5, "reason": strings.Repeat("r", 201), "expiresAt": later}, "reason", "got 201"},
	} {
		t.Run("grantCredits/"+c.name, func(t *testing.T) {
			c.in["tenantId"] = id
			r := u.withT(t).ask(testAdminSecret, qGrantCredits, map[string]any{"in": c.in})
			if r.Code() != "BAD_USER_INPUT" || r.Field() != c.field || !strings.Contains(r.Errors[0].Message, c.msg) {
				t.Errorf("got %s, want BAD_USER_INPUT %s %q", r.Raw, c.field, c.msg)
			}
		})
	}
	if c := u.credits(id); c.Granted != 0 || len(c.Grants) != 0 {
		t.Errorf("refused grants saved: %+v", c)
	}
}

func inputs(events []ev) []map[string]any {
	out := make([]map[string]any, len(events))
	for i, x := range events {
		out[i] = x.input()
	}
	return out
}

// with is a batch of two events: a good one, then one with field set to v.
func with(good ev, field string, v any) []map[string]any {
	bad := good
	bad.ID = "second"
	m := bad.input()
	m[field] = v
	return []map[string]any{good.input(), m}
}

// TestDemoUsage seeds the demo tenant twice and checks its usage data
// agree: stats for this month and Tenant.usage, outcomes adding up, the 12
// demo users, five platforms, token metrics summing to the monthly active
// tokens, and the welcome credits.
func TestDemoUsage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	id, key, err := e.store.SeedDemo(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	first := demoSnapshot(e, key)
	if _, key, err = e.store.SeedDemo(ctx, key); err != nil {
		t.Fatal(err)
	}
	if again := demoSnapshot(e, key); again != first {
		t.Errorf("seeding again changed the demo data:\n%s\n%s", first, again)
	}
	var out struct {
		Me struct {
			Usage       struct{ ActiveUsers, InteractionsThisMonth int }
			Stats       statsOut
			UsageReport struct {
				TokenReport struct {
					MetricsByType       []struct{ Count int }
					MonthlyActiveTokens int
				}
			}
			Credits creditsOut
		}
	}
	if err := json.Unmarshal([]byte(first), &out); err != nil {
		t.Fatal(err)
	}
	m := out.Me
	s := m.Stats.Summary
	if s.TotalInteractions == 0 || s.TotalInteractions != m.Usage.InteractionsThisMonth || s.Logged+s.Coached+s.Blocked != s.TotalInteractions ||
		s.UniqueUsers != 12 || m.Usage.ActiveUsers != 12 || s.UniquePlatforms != 5 {
		t.Errorf("demo stats %+v disagree with usage %+v", s, m.Usage)
	}
	sum := 0
	for _, x := range m.UsageReport.TokenReport.MetricsByType {
		sum += x.Count
	}
	if sum == 0 || sum != m.UsageReport.TokenReport.MonthlyActiveTokens {
		t.Errorf("token metrics sum to %d, monthly active tokens %d", sum, m.UsageReport.TokenReport.MonthlyActiveTokens)
	}
	if m.Credits.Granted != 5000 || m.Credits.Remaining != 5000 || len(m.Credits.Grants) != 1 {
		t.Errorf("demo credits = %+v", m.Credits)
	}
	_ = id
}

func demoSnapshot(e *env, key string) string {
	e.t.Helper()
	today := time.Now().UTC()
	month := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
	end := month.AddDate(0, 1, -1)
	r := e.gql(key, `query($s: DateOrTime!, $e: DateOrTime!) { me { usage { activeUsers interactionsThisMonth }
		stats(startDate: $s, endDate: $e) { summary { totalInteractions blocked coached logged uniqueUsers uniquePlatforms highRisk } trends { date interactions } }
		usageReport { tokenReport { metricsByType { type count } monthlyActiveTokens includedMonthlyActiveTokens } }
		credits { granted used remaining expiredUnused grants { amount reason } } } }`,
		map[string]any{"s": month.Format("2006-01-02"), "e": end.Format("2006-01-02")})
	if len(r.Errors) > 0 {
		e.t.Fatalf("demo query: %s", r.Raw)
	}
	return string(r.Data)
}

// ---- Permissions and isolation ----

// usageTenantFields are the Tenant fields of this file, for the coverage
// check of the permission table.
var usageTenantFields = []string{"credits", "stats", "usageReport"}

// usageOf is the interactions this month of the tenant a case targets, read
// as the operator.
func usageOf(want int, which func(*fixture) string) checkFunc {
	return func(t *testing.T, e *env, f *fixture, _ *result) {
		t.Helper()
		if _, n := e.usage(which(f)); n != want {
			t.Errorf("interactions this month of the target = %d, want %d", n, want)
		}
	}
}

func targetID(f *fixture) string { return f.target }
func otherID(f *fixture) string  { return f.other }

func oneEvent(f *fixture) map[string]any {
	return f.input(map[string]any{"events": []map[string]any{ev{ID: "perm-1", At: time.Now().UTC()}.input()}})
}

func grantInput(f *fixture) map[string]any {
	return f.input(map[string]any{"amount": 100, "reason": "permission case"})
}

// creditsOf checks the target's granted credits, read as the operator.
func creditsOf(want int) checkFunc {
	return func(t *testing.T, e *env, f *fixture, _ *result) {
		t.Helper()
		if c := e.credits(f.target); c.Granted != want {
			t.Errorf("credits granted to the target = %d, want %d", c.Granted, want)
		}
	}
}

func usagePermissionCases() []permCase {
	cases := []permCase{
		// recordUsage: USAGE_WRITE; another tenant with TENANT_MANAGE too.
		{op: "recordUsage", cred: credAnonymous, query: qRecordUsage, vars: oneEvent, want: "UNAUTHENTICATED", check: usageOf(0, targetID)},
		{op: "recordUsage", cred: keyWith("TENANT_READ", "REPORT_READ"), query: qRecordUsage, vars: oneEvent, want: "FORBIDDEN", message: "USAGE_WRITE", check: usageOf(0, targetID)},
		{op: "recordUsage", cred: keyWith("TENANT_MANAGE"), query: qRecordUsage, vars: oneEvent, want: "FORBIDDEN", message: "USAGE_WRITE", check: usageOf(0, targetID)},
		{op: "recordUsage", cred: keyWith("USAGE_WRITE"), query: qRecordUsage, vars: oneEvent,
			check: wantAll(wantAt("recordUsage.accepted", value(1.0)), usageOf(1, targetID))},
		{op: "recordUsage", cred: keyWith("USAGE_WRITE"), variant: "otherTenant", query: qRecordUsage, want: "NOT_FOUND",
			vars: func(f *fixture) map[string]any {
				in := oneEvent(f)
				in["in"].(map[string]any)["tenantId"] = f.other
				return in
			},
			check: usageOf(0, otherID)},
		{op: "recordUsage", cred: keyWith("TENANT_MANAGE", "USAGE_WRITE"), query: qRecordUsage, vars: oneEvent,
			check: wantAll(wantAt("recordUsage.quota.used", value(1.0)), usageOf(1, otherID))},
		{op: "recordUsage", cred: credAdmin, query: qRecordUsage, vars: oneEvent, check: usageOf(1, otherID)},
		{op: "recordUsage", cred: credAdmin, variant: "noTenantId", query: qRecordUsage, want: "BAD_USER_INPUT", field: "tenantId",
			vars: func(*fixture) map[string]any {
				return map[string]any{"in": map[string]any{"events": []map[string]any{ev{ID: "x", At: time.Now()}.input()}}}
			}},

		// grantCredits: the operator's (TENANT_MANAGE).
		{op: "grantCredits", cred: credAnonymous, query: qGrantCredits, vars: grantInput, want: "UNAUTHENTICATED", check: creditsOf(0)},
		{op: "grantCredits", cred: keyWith("BILLING_READ", "BILLING_UPDATE", "USAGE_WRITE"), query: qGrantCredits, vars: grantInput,
			want: "FORBIDDEN", message: "TENANT_MANAGE", check: creditsOf(0)},
		{op: "grantCredits", cred: keyWith("TENANT_MANAGE"), query: qGrantCredits, vars: grantInput,
			check: wantAll(wantAt("grantCredits.credits.remaining", value(100.0)), creditsOf(100))},
		{op: "grantCredits", cred: credAdmin, query: qGrantCredits, vars: grantInput,
			check: wantAll(wantAt("grantCredits.grant.createdBy", value("admin")), creditsOf(100))},
	}
	cases = append(cases, tenantFieldCases("credits", "credits { granted remaining }", "BILLING_READ")...)
	cases = append(cases, tenantFieldCases("stats", `stats(startDate: "2026-11-01", endDate: "2026-11-30") { summary { totalInteractions } }`, "REPORT_READ")...)
	cases = append(cases, tenantFieldCases("usageReport", "usageReport { tokenReport { monthlyActiveTokens } }", "REPORT_READ")...)
	cases = append(cases, reservePermissionCases()...)
	return cases
}

// TestUsageIsolation checks a key reaches only its own tenant's usage:
// another tenant's id answers exactly like a missing one, changes nothing,
// and the store's SQL refuses it too (not only the resolvers).
func TestUsageIsolation(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	u := newUsageEnv(t, now)
	a, keyA := u.tenantOn("professional")
	b, keyB := u.tenantOn("professional")
	u.record(keyB, "", simple("b", 3, now))
	u.grant(b, 50, nil, "B's credits")
	snapshot := func() string {
		r := u.ask(testAdminSecret, `query($id: ID!) { tenant(id: $id) { usage { interactionsThisMonth activeUsers }
			credits { granted used remaining } usageReport { tokenReport { monthlyActiveTokens } }
			stats(startDate: "2026-11-01", endDate: "2026-11-30") { summary { totalInteractions uniqueUsers } } } }`, map[string]any{"id": b})
		return string(r.Raw)
	}
	before := snapshot()
	missing := randomUUID()
	for _, c := range []struct {
		name, query string
		vars        func(id string) map[string]any
		want        string
	}{
		{"recordUsage", qRecordUsage, func(id string) map[string]any { return batch(id, simple("a", 2, now)) }, "NOT_FOUND"},
		{"recordUsage/validateOnly", qRecordUsage, func(id string) map[string]any {
			in := batch(id, simple("a", 2, now))
			in["in"].(map[string]any)["validateOnly"] = true
			return in
		}, "NOT_FOUND"},
		{"grantCredits", qGrantCredits, func(id string) map[string]any {
			return map[string]any{"in": map[string]any{"tenantId": id, "amount": 10, "reason": "steal"}}
		}, "FORBIDDEN"},
		{"Tenant.credits", qCredits, idVar, "NOT_FOUND"},
		{"Tenant.stats", qStats, func(id string) map[string]any { return map[string]any{"id": id, "s": "2026-11-01", "e": "2026-11-30"} }, "NOT_FOUND"},
		{"Tenant.usageReport", qUsageReport, idVar, "NOT_FOUND"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := u.withT(t)
			other, none := e.ask(keyA, c.query, c.vars(b)), e.ask(keyA, c.query, c.vars(missing))
			if other.Code() != c.want {
				t.Errorf("another tenant's id: %s, want %s", other.Raw, c.want)
			}
			sameResponse(t, other, none)
		})
	}
	if after := snapshot(); after != before {
		t.Errorf("tenant B changed:\n%s\n%s", before, after)
	}

	// The store refuses B's id to A's actor in its SQL.
	ctxA := tenant.WithActor(context.Background(), &tenant.Actor{Kind: tenant.APIKey, TenantID: a, Permissions: tenant.TenantPermissions()})
	q := tenant.StatsQuery{Start: tenant.NewDate(2026, 11, 1), End: tenant.NewDate(2026, 11, 30)}
	if _, errs := u.store.StatsByTenant(ctxA, q, []string{b}); tenant.ErrorCode(errs[0]) != tenant.ENOTFOUND {
		t.Errorf("StatsByTenant: %v", errs[0])
	}
	if _, errs := u.store.CreditsByTenant(ctxA, []string{b}); tenant.ErrorCode(errs[0]) != tenant.ENOTFOUND {
		t.Errorf("CreditsByTenant: %v", errs[0])
	}
	if _, errs := u.store.UsageReportsByTenant(ctxA, []string{b}); tenant.ErrorCode(errs[0]) != tenant.ENOTFOUND {
		t.Errorf("UsageReportsByTenant: %v", errs[0])
	}
	if _, errs := u.store.QuotaByTenant(ctxA, []string{b}); tenant.ErrorCode(errs[0]) != tenant.ENOTFOUND {
		t.Errorf("QuotaByTenant: %v", errs[0])
	}
	if _, err := u.store.RecordUsage(ctxA, b, tenant.UsageBatch{Events: []tenant.UsageEvent{{ID: "x", OccurredAt: now, UserID: "u", Platform: "p",
		Outcome: tenant.OutcomeLogged, RiskLevel: tenant.RiskLow}}}); tenant.ErrorCode(err) != tenant.ENOTFOUND {
		t.Errorf("RecordUsage: %v", err)
	}
	if _, _, err := u.store.GrantCredits(ctxA, b, tenant.CreditGrantInput{Amount: 1, Reason: "x"}); tenant.ErrorCode(err) != tenant.ENOTFOUND {
		t.Errorf("GrantCredits: %v", err)
	}
	if after := snapshot(); after != before {
		t.Errorf("tenant B changed through the store:\n%s\n%s", before, after)
	}
}

// TestStatsDistinctOnlyWhenSelected: the distinct users and platforms are
// counted only when summary selects them (StatsQuery.Distinct), and the
// totals and trends are the same either way, alone or aliased side by side
// in one request, whose associations stay one statement.
func TestStatsDistinctOnlyWhenSelected(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, key, err := e.store.SeedDemo(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().UTC()
	month := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
	vars := map[string]any{"s": month.Format("2006-01-02"), "e": month.AddDate(0, 1, -1).Format("2006-01-02")}
	type stats struct {
		Summary struct{ TotalInteractions, Blocked, UniqueUsers, UniquePlatforms int }
		Trends  []struct{ Interactions int }
	}
	var out struct {
		Me struct{ Plain, Distinct stats }
	}
	e.mustGQL(key, `{ viewer { kind } }`, nil, nil)
	e.store.WaitBackground()
	before := e.store.Statements.Load()
	e.mustGQL(key, `query($s: DateOrTime!, $e: DateOrTime!) { me {
		plain: stats(startDate: $s, endDate: $e) { summary { totalInteractions blocked } trends { interactions } }
		distinct: stats(startDate: $s, endDate: $e) { summary { totalInteractions blocked uniqueUsers uniquePlatforms } trends { interactions } } } }`, vars, &out)
	if n := e.store.Statements.Load() - before; n > 2 {
		t.Errorf("%d statements, want 2 (key, associations)", n)
	}
	p, d := out.Me.Plain, out.Me.Distinct
	if d.Summary.UniqueUsers != 12 || d.Summary.UniquePlatforms != 5 {
		t.Errorf("distinct counts when selected: %+v, want 12 users and 5 platforms (the demo's)", d.Summary)
	}
	if p.Summary.TotalInteractions == 0 || p.Summary.TotalInteractions != d.Summary.TotalInteractions || p.Summary.Blocked != d.Summary.Blocked || len(p.Trends) != len(d.Trends) {
		t.Errorf("totals differ with and without the distinct counts: %+v / %+v", p, d)
	}
	for i := range p.Trends {
		if p.Trends[i] != d.Trends[i] {
			t.Errorf("trend %d: %+v / %+v", i, p.Trends[i], d.Trends[i])
		}
	}
}
