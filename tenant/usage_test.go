package tenant

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func day(s string) Date {
	d, err := ParseDate("", s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestParseDate(t *testing.T) {
	for _, s := range []string{"2026-03-31", "2028-02-29", "0001-01-01", "9999-12-31"} {
		if d, err := ParseDate("startDate", s); err != nil || d.String() != s {
			t.Errorf("ParseDate(%q) = %v, %v", s, d, err)
		}
	}
	for _, s := range []string{"2026-02-29", "2026-13-01", "2026-3-1", "2026-03-31T00:00:00Z", "", "31/03/2026", " 2026-03-31"} {
		_, err := ParseDate("startDate", s)
		e, ok := err.(*Error)
		if !ok || e.Code != EINVALID || e.Field != "startDate" || !strings.Contains(e.Message, "startDate must be a date") {
			t.Errorf("ParseDate(%q) = %v, want EINVALID naming startDate", s, err)
		}
	}
}

// TestBuckets checks bucket boundaries: ISO weeks start on Monday (also
// across a year boundary), months end on their last day (leap years
// included), and the first and last buckets are clipped to the period.
func TestBuckets(t *testing.T) {
	type b struct{ date, from, to string }
	cases := []struct {
		name        string
		start, end  string
		granularity Granularity
		want        []b
	}{
		{"DailyLeapDay", "2028-02-28", "2028-03-01", ByDay, []b{
			{"2028-02-28", "2028-02-28", "2028-02-28"}, {"2028-02-29", "2028-02-29", "2028-02-29"}, {"2028-03-01", "2028-03-01", "2028-03-01"}}},
		{"DailyOneDay", "2026-03-31", "2026-03-31", ByDay, []b{{"2026-03-31", "2026-03-31", "2026-03-31"}}},
		// 2026-12-28 is a Monday; ISO week 2026-W53 runs to Sunday 2027-01-03.
		{"WeeklyAcrossYearEnd", "2026-12-30", "2027-01-11", ByWeek, []b{
			{"2026-12-30", "2026-12-30", "2027-01-03"}, {"2027-01-04", "2027-01-04", "2027-01-10"}, {"2027-01-11", "2027-01-11", "2027-01-11"}}},
		// 2024-12-30 is a Monday: the ISO week 2025-W01 starts in 2024, but
		// its bucket starts on startDate, never before.
		{"WeeklyStartsOnSunday", "2025-01-05", "2025-01-06", ByWeek, []b{
			{"2025-01-05", "2025-01-05", "2025-01-05"}, {"2025-01-06", "2025-01-06", "2025-01-06"}}},
		{"MonthlyLeapFebruary", "2028-01-31", "2028-03-01", ByMonth, []b{
			{"2028-01-31", "2028-01-31", "2028-01-31"}, {"2028-02-01", "2028-02-01", "2028-02-29"}, {"2028-03-01", "2028-03-01", "2028-03-01"}}},
		{"MonthlyCommonFebruary", "2026-02-01", "2026-04-30", ByMonth, []b{
			{"2026-02-01", "2026-02-01", "2026-02-28"}, {"2026-03-01", "2026-03-01", "2026-03-31"}, {"2026-04-01", "2026-04-01", "2026-04-30"}}},
		{"MonthlyAcrossYearEnd", "2026-12-15", "2027-01-15", ByMonth, []b{
			{"2026-12-15", "2026-12-15", "2026-12-31"}, {"2027-01-01", "2027-01-01", "2027-01-15"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := StatsQuery{Start: day(c.start), End: day(c.end), Granularity: c.granularity}
			if err := q.Validate(); err != nil {
				t.Fatal(err)
			}
			got := q.Buckets()
			if len(got) != len(c.want) || q.BucketCount() != len(c.want) {
				t.Fatalf("%d buckets (BucketCount %d), want %d: %v", len(got), q.BucketCount(), len(c.want), got)
			}
			for i, w := range c.want {
				g := got[i]
				if g.Date.String() != w.date || g.From.String() != w.from || g.To.String() != w.to {
					t.Errorf("bucket %d = %s [%s..%s], want %s [%s..%s]", i, g.Date, g.From, g.To, w.date, w.from, w.to)
				}
			}
		})
	}
}

func TestStatsQueryValidate(t *testing.T) {
	cases := []struct {
		name, start, end string
		g                Granularity
		field, msg       string
	}{
		{"OK366Days", "2028-01-01", "2028-12-31", ByDay, "", ""},
		{"ErrEndBeforeStart", "2026-03-31", "2026-03-01", ByDay, "endDate", "endDate 2026-03-01 is before startDate 2026-03-31"},
		{"ErrTooManyDays", "2026-01-01", "2027-01-02", ByDay, "endDate", "holds 367 daily buckets; at most 366"},
		{"OKWeeksOverAYear", "2026-01-01", "2027-12-31", ByWeek, "", ""},
		{"ErrTooManyWeeks", "2020-01-01", "2027-12-31", ByWeek, "endDate", "weekly buckets; at most 366"},
		{"OKMonthsOverYears", "2000-01-01", "2030-06-30", ByMonth, "", ""},
		{"ErrTooManyMonths", "2000-01-01", "2030-07-01", ByMonth, "endDate", "holds 367 monthly buckets"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := StatsQuery{Start: day(c.start), End: day(c.end), Granularity: c.g}
			err := q.Validate()
			if c.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			e, ok := err.(*Error)
			if !ok || e.Code != EINVALID || e.Field != c.field || !strings.Contains(e.Message, c.msg) {
				t.Errorf("Validate = %v, want EINVALID %s %q", err, c.field, c.msg)
			}
		})
	}
	q := StatsQuery{Start: day("2026-03-01"), End: day("2026-03-02")}
	if err := q.Validate(); err != nil || q.Granularity != ByDay {
		t.Errorf("a missing granularity: %v, %q; want DAILY", err, q.Granularity)
	}
}

// TestUserSpans checks the split of a period into whole months and edge
// days, which together cover every day exactly once.
func TestUserSpans(t *testing.T) {
	q := StatsQuery{Start: day("2028-01-30"), End: day("2028-04-02"), Granularity: ByDay}
	months, days := q.UserSpans()
	if fmt.Sprint(months) != "[2028-02-01 2028-03-01]" {
		t.Errorf("months = %v", months)
	}
	if fmt.Sprint(days) != "[2028-01-30 2028-01-31 2028-04-01 2028-04-02]" {
		t.Errorf("days = %v", days)
	}
	q = StatsQuery{Start: day("2026-03-01"), End: day("2026-03-31")}
	if months, days = q.UserSpans(); len(months) != 1 || len(days) != 0 {
		t.Errorf("a whole month: %v %v", months, days)
	}
	q = StatsQuery{Start: day("2026-03-02"), End: day("2026-03-30")}
	if months, days = q.UserSpans(); len(months) != 0 || len(days) != 29 {
		t.Errorf("inside a month: %v %v", months, days)
	}
}

func TestWeekStart(t *testing.T) {
	for s, want := range map[string]string{
		"2026-11-23": "2026-11-23", // Monday
		"2026-11-29": "2026-11-23", // Sunday
		"2027-01-01": "2026-12-28", // Friday, ISO week 2026-W53
		"2028-02-29": "2028-02-28",
	} {
		if got := day(s).WeekStart().String(); got != want {
			t.Errorf("WeekStart(%s) = %s, want %s", s, got, want)
		}
	}
}

func event(id string, at time.Time) UsageEvent {
	return UsageEvent{ID: id, OccurredAt: at, UserID: "u1", Platform: "chatgpt", Outcome: OutcomeLogged, RiskLevel: RiskLow}
}

// TestNormalizeEvents checks every validation rule of an event, each
// naming the event's index, and the boundaries that are accepted.
func TestNormalizeEvents(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tok := func(s string) *string { return &s }
	cases := []struct {
		name  string
		edit  func(e *UsageEvent)
		field string
		msg   string
	}{
		{"OK", func(*UsageEvent) {}, "", ""},
		{"OKOldest", func(e *UsageEvent) { e.OccurredAt = now.Add(-MaxEventAge) }, "", ""},
		{"OKSkew", func(e *UsageEvent) { e.OccurredAt = now.Add(MaxEventSkew) }, "", ""},
		{"OKTokenType", func(e *UsageEvent) { e.TokenType = tok(" CARD ") }, "", ""},
		{"ErrIDEmpty", func(e *UsageEvent) { e.ID = "" }, "events[1].id", "events[1].id must be 1 to 100 characters, got 0"},
		{"ErrIDLong", func(e *UsageEvent) { e.ID = strings.Repeat("x", 101) }, "events[1].id", "1 to 100 characters, got 101"},
		{"ErrIDControl", func(e *UsageEvent) { e.ID = "a\x00b" }, "events[1].id", "control characters"},
		{"ErrTooOld", func(e *UsageEvent) { e.OccurredAt = now.Add(-MaxEventAge - time.Second) }, "events[1].occurredAt", "within the last 35 days"},
		{"ErrFuture", func(e *UsageEvent) { e.OccurredAt = now.Add(MaxEventSkew + time.Second) }, "events[1].occurredAt", "at most 5 minutes ahead"},
		{"ErrUserEmpty", func(e *UsageEvent) { e.UserID = "   " }, "events[1].userId", "events[1].userId must be 1 to 100 characters"},
		{"ErrPlatformLong", func(e *UsageEvent) { e.Platform = strings.Repeat("p", 101) }, "events[1].platform", "1 to 100 characters"},
		{"ErrOutcome", func(e *UsageEvent) { e.Outcome = "IGNORED" }, "events[1].outcome", "LOGGED, COACHED or BLOCKED"},
		{"ErrRisk", func(e *UsageEvent) { e.RiskLevel = "SEVERE" }, "events[1].riskLevel", "LOW, MEDIUM, HIGH or CRITICAL"},
		{"ErrTokenTypeEmpty", func(e *UsageEvent) { e.TokenType = tok("") }, "events[1].tokenType", "1 to 50 letters"},
		{"ErrTokenTypeChars", func(e *UsageEvent) { e.TokenType = tok("credit card") }, "events[1].tokenType", `got "credit card"`},
		{"ErrTokenTypeLeadingDash", func(e *UsageEvent) { e.TokenType = tok("-card") }, "events[1].tokenType", "starting with a letter or digit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := UsageBatch{Events: []UsageEvent{event("a", now), event("b", now)}}
			c.edit(&b.Events[1])
			err := b.Normalize(now)
			if c.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			e, ok := err.(*Error)
			if !ok || e.Code != EINVALID || e.Field != c.field || !strings.Contains(e.Message, c.msg) {
				t.Errorf("Normalize = %v, want EINVALID %s %q", err, c.field, c.msg)
			}
		})
	}
	b := UsageBatch{Events: []UsageEvent{{ID: "x", OccurredAt: now, UserID: " u ", Platform: " ChatGPT ", Outcome: OutcomeBlocked, RiskLevel: RiskHigh, TokenType: tok("Card")}}}
	if err := b.Normalize(now); err != nil || b.Events[0].UserID != "u" || b.Events[0].Platform != "chatgpt" || *b.Events[0].TokenType != "card" {
		t.Errorf("normalized event = %+v, %v", b.Events[0], err)
	}
	for _, n := range []int{0, MaxUsageBatch + 1} {
		b := UsageBatch{Events: make([]UsageEvent, n)}
		for i := range b.Events {
			b.Events[i] = event(fmt.Sprint(i), now)
		}
		if err := b.Normalize(now); err == nil || err.(*Error).Field != "events" {
			t.Errorf("a batch of %d: %v, want EINVALID events", n, err)
		}
	}
}

func TestRollup(t *testing.T) {
	at := time.Date(2026, 10, 31, 23, 59, 0, 0, time.UTC)
	card := "card"
	evs := []UsageEvent{
		event("1", at),
		{ID: "2", OccurredAt: at.Add(2 * time.Minute), UserID: "u1", Platform: "copilot", Outcome: OutcomeBlocked, RiskLevel: RiskCritical, TokenType: &card},
		{ID: "3", OccurredAt: at.Add(3 * time.Minute), UserID: "u2", Platform: "copilot", Outcome: OutcomeCoached, RiskLevel: RiskHigh, TokenType: &card},
	}
	r := NewRollup(evs)
	if len(r.Days) != 2 || r.Days[0].Day != day("2026-10-31") || r.Days[0].Interactions != 1 || r.Days[0].Logged != 1 ||
		r.Days[1].Interactions != 2 || r.Days[1].Blocked != 1 || r.Days[1].Coached != 1 || r.Days[1].HighRisk != 2 || r.Days[1].Tokenized != 2 {
		t.Errorf("days = %+v", r.Days)
	}
	if len(r.DayUsers) != 3 || len(r.MonthUsers) != 3 || len(r.DayPlatforms) != 2 {
		t.Errorf("day users %v, month users %v, day platforms %v", r.DayUsers, r.MonthUsers, r.DayPlatforms)
	}
	if len(r.Tokens) != 1 || r.Tokens[0].Count != 2 || !r.Tokens[0].LastCreatedAt.Equal(at.Add(3*time.Minute)) {
		t.Errorf("tokens = %+v", r.Tokens)
	}
	if m := r.ByMonth(); m[day("2026-10-01")] != 1 || m[day("2026-11-01")] != 2 {
		t.Errorf("by month = %v", m)
	}
	u, dups := Unique([]UsageEvent{event("a", at), event("b", at), event("a", at.Add(time.Minute))})
	if len(u) != 2 || dups != 1 || !u[0].OccurredAt.Equal(at) {
		t.Errorf("Unique = %v, %d", u, dups)
	}
}

func TestCreditsNeeded(t *testing.T) {
	limit := 10000
	cases := []struct {
		name   string
		limit  *int
		months []MonthUsage
		want   int
	}{
		{"Unlimited", nil, []MonthUsage{{Used: 5_000_000, Added: 1000}}, 0},
		{"WithinQuota", &limit, []MonthUsage{{Used: 9000, Added: 1000}}, 0},
		{"Crossing", &limit, []MonthUsage{{Used: 9990, Added: 25}}, 15},
		{"AlreadyBeyond", &limit, []MonthUsage{{Used: 10500, Added: 7}}, 7},
		{"TwoMonths", &limit, []MonthUsage{{Used: 10000, Added: 3}, {Used: 9999, Added: 2}}, 4},
	}
	for _, c := range cases {
		if got := CreditsNeeded(c.limit, c.months); got != c.want {
			t.Errorf("%s: CreditsNeeded = %d, want %d", c.name, got, c.want)
		}
	}
	err := QuotaExceeded("starter", 10000, []MonthUsage{{Month: day("2026-11-01"), Used: 10000, Added: 3}}, 3, 0)
	want := "monthly interaction quota of 10,000 (starter) and credits are exhausted: 10,000 of 10,000 used in 2026-11, 0 credits left; this batch needs 3 credits for 3 new interactions; nothing was recorded"
	if err.Code != EQUOTA || err.Message != want {
		t.Errorf("QuotaExceeded = %q\nwant %q", err.Message, want)
	}
}

func TestNewCredits(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	past, soon, later := now.Add(-time.Hour), now.Add(24*time.Hour), now.Add(48*time.Hour)
	c := NewCredits("t", []*CreditGrant{
		{Amount: 100, Used: 100, ExpiresAt: &past}, // spent, then expired
		{Amount: 50, Used: 10, ExpiresAt: &past},   // 40 expired unused
		{Amount: 30, Used: 30, ExpiresAt: &soon},   // spent
		{Amount: 20, Used: 5, ExpiresAt: &later},   // 15 left
		{Amount: 10},                               // 10 left, never expires
	}, now)
	if c.Granted != 210 || c.Used != 145 || c.Remaining != 25 || c.ExpiredUnused != 40 || c.ExpiresAt == nil || !c.ExpiresAt.Equal(later) {
		t.Errorf("credits = %+v", c)
	}
	if c.Granted != c.Used+c.Remaining+c.ExpiredUnused {
		t.Errorf("granted %d != used %d + remaining %d + expired %d", c.Granted, c.Used, c.Remaining, c.ExpiredUnused)
	}
	if !c.Grants[1].Expired || c.Grants[1].Remaining != 0 || c.Grants[3].Remaining != 15 {
		t.Errorf("grants = %+v %+v", c.Grants[1], c.Grants[3])
	}
	if e := NewCredits("t", nil, now); e.Grants == nil || e.ExpiresAt != nil || e.Remaining != 0 {
		t.Errorf("no grants: %+v", e)
	}
}

func TestFormatCount(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 10000: "10,000", 1234567: "1,234,567", -1000: "-1,000"} {
		if got := FormatCount(n); got != want {
			t.Errorf("FormatCount(%d) = %q, want %q", n, got, want)
		}
	}
}
