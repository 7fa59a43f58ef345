package httpapi_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// This file checks issue 15 §1, "limits are enforced, the same way
// everywhere": the plan's users limit in recordUsage (refused whole, users
// already active pass, concurrent batches), monthly active tokens counted
// by distinct token with overage accepted, reserveCapacity for policies and
// watchlist subjects (limits, idempotency, releases, concurrency,
// permissions), and one rule for canDoScreening and recordUsage.

const (
	qReserve = `mutation($in: ReserveCapacityInput!) { reserveCapacity(input: $in) { requestId resource quantity used limit remaining replayed } }`
	qTokens  = `query($id: ID!) { tenant(id: $id) { usageReport { tokenReport { metricsByType { type count } includedMonthlyActiveTokens monthlyActiveTokens overageMonthlyActiveTokens } } } }`
	qCanRun  = `query($id: ID!) { tenant(id: $id) { usage { policies } watchlist { activeSubjects remainingSeats } accountStatus { requiresPayment canDoScreening remaining: subscription { remaining { policies } } } } }`
)

// limitOf is extensions.limit of the first error.
func limitOf(r *result) map[string]any {
	if len(r.Errors) == 0 {
		return nil
	}
	l, _ := r.Errors[0].Extensions["limit"].(map[string]any)
	return l
}

func wantLimit(t *testing.T, r *result, code, name string, limit, used, requested int, msg string) {
	t.Helper()
	l := limitOf(r)
	if r.Code() != code || l == nil || l["name"] != name || l["limit"] != float64(limit) || l["used"] != float64(used) ||
		l["requested"] != float64(requested) || !strings.Contains(r.Errors[0].Message, msg) {
		t.Errorf("want %s on %s (limit %d, used %d, requested %d) saying %q, got %s", code, name, limit, used, requested, msg, r.Raw)
	}
}

// usersEvents are one event per user, ids prefixed.
func usersEvents(prefix string, at time.Time, users ...string) []ev {
	out := make([]ev, len(users))
	for i, u := range users {
		out[i] = ev{ID: fmt.Sprintf("%s-%d", prefix, i), User: u, At: at}
	}
	return out
}

// TestUsersLimit: a starter tenant (5 users) records its 5 users; a batch
// bringing a sixth is refused whole with QUOTA_EXCEEDED naming the limit;
// the 5 keep working; a new month starts afresh.
func TestUsersLimit(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	u := newUsageEnv(t, t0)
	id, key := u.tenantOn("starter")
	if r := u.record(key, "", usersEvents("a", t0, "u1", "u2", "u3", "u4", "u5")); r.Accepted != 5 {
		t.Fatalf("five users: %+v", r)
	}
	eventsBefore := u.count(`SELECT count(*) FROM usage_events WHERE tenant_id = $1`, id)
	res := u.ask(key, qRecordUsage, batch("", usersEvents("b", t0, "u1", "u6", "u2")))
	wantLimit(t, res, "QUOTA_EXCEEDED", "users", 5, 5, 1,
		"the starter plan allows 5 active users a month (users): 5 of 5 were active in 2026-11 and this batch would add 1 new user; users already active this month keep working; nothing was recorded")
	if dataAt(t, res, "recordUsage") != nil {
		t.Errorf("a refused batch has data: %s", res.Raw)
	}
	if n := u.count(`SELECT count(*) FROM usage_events WHERE tenant_id = $1`, id); n != eventsBefore {
		t.Errorf("the refused batch saved %d event ids", n-eventsBefore)
	}
	if users, inter := u.usage(id); users != 5 || inter != 5 {
		t.Errorf("after the refusal: %d users, %d interactions; want 5, 5", users, inter)
	}
	// validateOnly reports the same refusal.
	in := batch("", usersEvents("c", t0, "u7"))
	in["in"].(map[string]any)["validateOnly"] = true
	if r := u.ask(key, qRecordUsage, in); r.Code() != "QUOTA_EXCEEDED" {
		t.Errorf("validateOnly with a new user: %s", r.Raw)
	}
	// Users already active keep working.
	if r := u.record(key, "", usersEvents("d", t0, "u1", "u2", "u5", "u5")); r.Accepted != 4 {
		t.Errorf("active users: %+v", r)
	}
	// A late event of the previous month counts against that month's users:
	// October had none.
	if r := u.record(key, "", usersEvents("late", time.Date(2026, 10, 30, 0, 0, 0, 0, time.UTC), "u9")); r.Accepted != 1 {
		t.Errorf("a late event of another month: %+v", r)
	}
	// December starts afresh.
	u.clock.Set(time.Date(2026, 12, 1, 0, 0, 1, 0, time.UTC))
	if r := u.record(key, "", usersEvents("e", u.clock.Now(), "u6", "u7", "u8", "u9", "u10")); r.Accepted != 5 {
		t.Errorf("a new month: %+v", r)
	}
	if users, _ := u.usage(id); users != 5 {
		t.Errorf("December's active users = %d, want 5", users)
	}
}

// TestUsersLimitConcurrent: 20 batches at once, each bringing a new user to
// a starter tenant: exactly 5 pass.
func TestUsersLimitConcurrent(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	u := newUsageEnv(t, t0)
	id, _ := u.tenantOn("starter")
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := u.gql(testAdminSecret, qRecordUsage, batch(id, usersEvents(fmt.Sprintf("p%d", i), t0, fmt.Sprintf("user-%d", i))))
			mu.Lock()
			codes[r.Code()]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[""] != 5 || codes["QUOTA_EXCEEDED"] != 15 {
		t.Errorf("20 concurrent new users on a 5-user plan: %v; want 5 accepted, 15 QUOTA_EXCEEDED", codes)
	}
	if users, inter := u.usage(id); users != 5 || inter != 5 {
		t.Errorf("after the race: %d users, %d interactions; want 5 and 5", users, inter)
	}
}

// TestMonthlyActiveTokens: a token named by several events counts once; an
// event with a type and no id is a token of its own; past the included
// amount events are accepted and the excess is reported as overage.
func TestMonthlyActiveTokens(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	u := newUsageEnv(t, t0)
	id, key := u.tenantOn("starter")
	tok := func(evID, typ, tokenID string) map[string]any {
		m := ev{ID: evID, At: t0, Token: typ}.input()
		if tokenID != "" {
			m["tokenId"] = tokenID
		}
		return m
	}
	send := func(events ...map[string]any) *result {
		return u.ask(key, qRecordUsage, map[string]any{"in": map[string]any{"events": events}})
	}
	type report struct {
		MetricsByType []struct {
			Type  string
			Count int
		}
		IncludedMonthlyActiveTokens, MonthlyActiveTokens, OverageMonthlyActiveTokens int
	}
	read := func() report {
		var out struct {
			Tenant struct{ UsageReport struct{ TokenReport report } }
		}
		u.mustGQL(testAdminSecret, qTokens, map[string]any{"id": id}, &out)
		return out.Tenant.UsageReport.TokenReport
	}
	batch1 := []map[string]any{tok("t1", "card", "tok_a"), tok("t2", "card", "tok_a"), tok("t3", "card", " tok_a "),
		tok("t4", "bank", "tok_b"), tok("t5", "bank", "tok_b"), tok("t6", "token", "")}
	if r := send(batch1...); r.Code() != "" {
		t.Fatalf("tokens: %s", r.Raw)
	}
	if r := send(batch1...); r.Code() != "" { // a replay counts nothing
		t.Fatalf("replay: %s", r.Raw)
	}
	got := read()
	if got.MonthlyActiveTokens != 3 || got.IncludedMonthlyActiveTokens != 1000 || got.OverageMonthlyActiveTokens != 0 || len(got.MetricsByType) != 3 {
		t.Errorf("two named tokens and one unnamed: %+v; want 3 active tokens", got)
	}

	// 999 tokens named earlier this month (seeded: 999 events would make a
	// slow test), then 3 more: 1,002 active, 2 over the 1,000 included, all
	// accepted.
	if _, err := u.sql.Exec(`INSERT INTO usage_monthly_tokens (tenant_id, month, token_id)
		SELECT $1, '2026-11-01', 'seed-' || n FROM generate_series(1, 999) AS n`, id); err != nil {
		t.Fatal(err)
	}
	if r := send(tok("o1", "card", "tok_c"), tok("o2", "card", "tok_d"), tok("o3", "card", "tok_a")); r.Code() != "" {
		t.Fatalf("tokens over the included amount are accepted: %s", r.Raw)
	}
	if got = read(); got.MonthlyActiveTokens != 1004 || got.OverageMonthlyActiveTokens != 4 {
		t.Errorf("past the included amount: %+v; want 1,004 active, 4 overage", got)
	}

	for _, tc := range []struct {
		name  string
		event map[string]any
		field string
	}{
		{"ErrTokenIDWithoutType", func() map[string]any { m := tok("x1", "", ""); m["tokenId"] = "tok_z"; return m }(), "events[0].tokenId"},
		{"ErrTokenIDTooLong", tok("x2", "card", strings.Repeat("t", 101)), "events[0].tokenId"},
		{"ErrTokenIDControl", tok("x3", "card", "tok\x01"), "events[0].tokenId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := send(tc.event); r.Code() != "BAD_USER_INPUT" || r.Field() != tc.field {
				t.Errorf("want BAD_USER_INPUT on %s, got %s", tc.field, r.Raw)
			}
		})
	}
}

type reservation struct {
	RequestID, Resource string
	Quantity, Used      int
	Limit, Remaining    *int
	Replayed            bool
}

func reserveIn(tenantID, resource string, n int, requestID string) map[string]any {
	in := map[string]any{"resource": resource, "quantity": n, "requestId": requestID}
	if tenantID != "" {
		in["tenantId"] = tenantID
	}
	return map[string]any{"in": in}
}

func (e *env) reserve(token, tenantID, resource string, n int, requestID string) reservation {
	e.t.Helper()
	var out struct{ ReserveCapacity reservation }
	e.mustGQL(token, qReserve, reserveIn(tenantID, resource, n, requestID), &out)
	return out.ReserveCapacity
}

func intIs(p *int, v int) bool { return p != nil && *p == v }

// TestReserveCapacity walks a starter tenant's policies (limit 20) and
// watchlist subjects (the seats granted) through reservations, replays,
// releases and refusals.
func TestReserveCapacity(t *testing.T) {
	t.Parallel()
	u := newUsageEnv(t, time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))
	id, key := u.tenantOn("starter")

	r := u.reserve(key, "", "POLICIES", 15, "create-policy-1")
	if r.Used != 15 || !intIs(r.Limit, 20) || !intIs(r.Remaining, 5) || r.Replayed || r.Resource != "POLICIES" || r.RequestID != "create-policy-1" {
		t.Errorf("reserve 15 of 20: %+v", r)
	}
	if r = u.reserve(key, "", "POLICIES", 15, "create-policy-1"); r.Used != 15 || !intIs(r.Remaining, 5) || !r.Replayed {
		t.Errorf("the same request id again: %+v, want the first answer, replayed", r)
	}
	res := u.ask(key, qReserve, reserveIn("", "POLICIES", 3, "create-policy-1"))
	if res.Code() != "CONFLICT" || res.Field() != "requestId" {
		t.Errorf("a request id reused for another quantity: %s", res.Raw)
	}
	res = u.ask(key, qReserve, reserveIn("", "POLICIES", 6, "create-policy-2"))
	wantLimit(t, res, "QUOTA_EXCEEDED", "policies", 20, 15, 6,
		"the limit of 20 policies (the plan's policies) is reached: 15 in use, 5 left, this request reserves 6; nothing was reserved")
	res = u.ask(key, qReserve, reserveIn("", "POLICIES", -16, "delete-policy-1"))
	if res.Code() != "BAD_USER_INPUT" || res.Field() != "quantity" || !strings.Contains(res.Errors[0].Message, "only 15 in use") {
		t.Errorf("releasing more than in use: %s", res.Raw)
	}
	// The refused id stored nothing: it can be used again.
	if r = u.reserve(key, "", "POLICIES", 5, "create-policy-2"); r.Used != 20 || !intIs(r.Remaining, 0) || r.Replayed {
		t.Errorf("the last 5: %+v", r)
	}
	if r = u.reserve(key, "", "POLICIES", -8, "delete-policy-1"); r.Used != 12 || !intIs(r.Remaining, 8) {
		t.Errorf("release 8: %+v", r)
	}
	for _, bad := range []struct {
		name, field string
		in          map[string]any
	}{
		{"ErrZero", "quantity", reserveIn("", "POLICIES", 0, "z")},
		{"ErrTooMany", "quantity", reserveIn("", "POLICIES", 10001, "z")},
		{"ErrEmptyRequestID", "requestId", reserveIn("", "POLICIES", 1, "")},
	} {
		if res := u.ask(key, qReserve, bad.in); res.Code() != "BAD_USER_INPUT" || res.Field() != bad.field {
			t.Errorf("%s: %s", bad.name, res.Raw)
		}
	}

	// Watchlist subjects: no seat yet, then 3 seats from the operator.
	res = u.ask(key, qReserve, reserveIn("", "WATCHLIST_SUBJECTS", 1, "enroll-1"))
	wantLimit(t, res, "QUOTA_EXCEEDED", "watchlistSeats", 0, 0, 1, "the limit of 0 watchlist subjects (the seats granted) is reached")
	u.mustGQL(testAdminSecret, `mutation($in: UpdateWatchlistSeatsInput!) { updateWatchlistSeats(input: $in) { watchlist { availableSeats } } }`,
		map[string]any{"in": map[string]any{"tenantId": id, "availableSeats": 3}}, nil)
	if r = u.reserve(key, "", "WATCHLIST_SUBJECTS", 3, "enroll-1"); r.Used != 3 || !intIs(r.Limit, 3) || !intIs(r.Remaining, 0) {
		t.Errorf("enroll 3 of 3: %+v", r)
	}
	res = u.ask(key, qReserve, reserveIn("", "WATCHLIST_SUBJECTS", 1, "enroll-2"))
	wantLimit(t, res, "QUOTA_EXCEEDED", "watchlistSeats", 3, 3, 1, "0 left")

	var out struct {
		Tenant struct {
			Usage         struct{ Policies int }
			Watchlist     struct{ ActiveSubjects, RemainingSeats int }
			AccountStatus struct {
				Remaining struct{ Remaining struct{ Policies *int } }
			}
		}
	}
	u.mustGQL(testAdminSecret, qCanRun, map[string]any{"id": id}, &out)
	if out.Tenant.Usage.Policies != 12 || out.Tenant.Watchlist.ActiveSubjects != 3 || out.Tenant.Watchlist.RemainingSeats != 0 ||
		!intIs(out.Tenant.AccountStatus.Remaining.Remaining.Policies, 8) {
		t.Errorf("the meters read back: %+v", out.Tenant)
	}
	// Seats cannot drop below the subjects enrolled.
	if res := u.ask(testAdminSecret, `mutation($in: UpdateWatchlistSeatsInput!) { updateWatchlistSeats(input: $in) { watchlist { availableSeats } } }`,
		map[string]any{"in": map[string]any{"tenantId": id, "availableSeats": 2}}); res.Code() != "BAD_USER_INPUT" {
		t.Errorf("seats below the reserved subjects: %s", res.Raw)
	}

	// Enterprise: unlimited policies.
	eid, ekey := u.tenantOn("enterprise")
	if r = u.reserve(ekey, "", "POLICIES", 10000, "bulk"); r.Used != 10000 || r.Limit != nil || r.Remaining != nil {
		t.Errorf("unlimited: %+v", r)
	}

	// Permissions and isolation.
	noUsage := u.createKey(id, "TENANT_READ")
	if res := u.ask(noUsage, qReserve, reserveIn("", "POLICIES", 1, "p")); res.Code() != "FORBIDDEN" {
		t.Errorf("without USAGE_WRITE: %s", res.Raw)
	}
	if res := u.ask(key, qReserve, reserveIn(eid, "POLICIES", 1, "p")); res.Code() != "FORBIDDEN" && res.Code() != "NOT_FOUND" {
		t.Errorf("another tenant's key: %s", res.Raw)
	}
	if res := u.ask("", qReserve, reserveIn(id, "POLICIES", 1, "p")); res.Code() != "UNAUTHENTICATED" {
		t.Errorf("anonymous: %s", res.Raw)
	}
}

// TestReserveCapacityConcurrent: 60 reservations of one policy at once on a
// 20-policy plan pass exactly 20 times; 10 copies of one request at once
// move the meter once; releases at once never go below zero.
func TestReserveCapacityConcurrent(t *testing.T) {
	t.Parallel()
	u := newUsageEnv(t, time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))
	id, _ := u.tenantOn("starter")
	race := func(n int, in func(i int) map[string]any) map[string]int {
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[string]int{}
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := u.gql(testAdminSecret, qReserve, in(i))
				mu.Lock()
				codes[r.Code()]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		return codes
	}
	policies := func() int {
		return u.count(`SELECT COALESCE(max(policies), 0) FROM usage_counters WHERE tenant_id = $1`, id)
	}
	codes := race(60, func(i int) map[string]any { return reserveIn(id, "POLICIES", 1, fmt.Sprintf("r-%d", i)) })
	if codes[""] != 20 || codes["QUOTA_EXCEEDED"] != 40 || policies() != 20 {
		t.Errorf("60 reservations on 20 policies: %v, %d in use; want 20 accepted, 40 QUOTA_EXCEEDED, 20 in use", codes, policies())
	}
	codes = race(10, func(int) map[string]any { return reserveIn(id, "POLICIES", -5, "release-once") })
	if codes[""] != 10 || policies() != 15 {
		t.Errorf("one release sent 10 times at once: %v, %d in use; want all answered, 15 in use", codes, policies())
	}
	if n := u.count(`SELECT count(*) FROM capacity_requests WHERE tenant_id = $1 AND request_id = 'release-once'`, id); n != 1 {
		t.Errorf("request id stored %d times", n)
	}
	codes = race(20, func(i int) map[string]any { return reserveIn(id, "POLICIES", -1, fmt.Sprintf("d-%d", i)) })
	if codes[""] != 15 || codes["BAD_USER_INPUT"] != 5 || policies() != 0 {
		t.Errorf("20 releases of 1 with 15 in use: %v, %d in use; want 15 accepted, 5 refused, 0 in use", codes, policies())
	}
}

// TestUsageFollowsScreeningRule: recordUsage accepts usage exactly when
// accountStatus.canDoScreening says the account can screen: a CANCELLED
// subscription pays nothing, credits still do; a suspended tenant screens
// not at all.
func TestUsageFollowsScreeningRule(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	u := newUsageEnv(t, t0)
	id, key := u.tenantOn("starter")
	canScreen := func() (bool, bool) {
		t.Helper()
		var out struct {
			Tenant struct {
				AccountStatus struct{ RequiresPayment, CanDoScreening bool }
			}
		}
		u.mustGQL(testAdminSecret, qCanRun, map[string]any{"id": id}, &out)
		return out.Tenant.AccountStatus.CanDoScreening, out.Tenant.AccountStatus.RequiresPayment
	}
	if r := u.record(key, "", simple("active", 2, t0)); r.Accepted != 2 {
		t.Fatalf("active subscription: %+v", r)
	}
	u.mustGQL(testAdminSecret, `mutation($id: ID) { updateBilling(input: {tenantId: $id, status: CANCELLED}) { billing { status } } }`, map[string]any{"id": id}, nil)
	if can, pay := canScreen(); can || !pay {
		t.Errorf("cancelled, no credits: canDoScreening %v requiresPayment %v", can, pay)
	}
	before := u.count(`SELECT count(*) FROM usage_events WHERE tenant_id = $1`, id)
	res := u.ask(key, qRecordUsage, batch("", simple("cancelled", 1, t0)))
	if res.Code() != "PAYMENT_REQUIRED" || !strings.Contains(res.Errors[0].Message,
		"the subscription is CANCELLED, so usage is accepted only against credits: 0 credits left, this batch needs 1 credit; nothing was recorded") {
		t.Errorf("cancelled, no credits: %s", res.Raw)
	}
	if n := u.count(`SELECT count(*) FROM usage_events WHERE tenant_id = $1`, id); n != before {
		t.Errorf("a refused batch saved %d ids", n-before)
	}
	// Credits: screening is possible again, and usage is paid by them only.
	u.grant(id, 3, nil, "bridge")
	if can, pay := canScreen(); !can || pay {
		t.Errorf("cancelled with credits: canDoScreening %v requiresPayment %v", can, pay)
	}
	if r := u.record(key, "", simple("credit", 3, t0)); r.Accepted != 3 || r.Quota.CreditsRemaining != 0 {
		t.Errorf("cancelled, paid by credits: %+v", r)
	}
	if can, _ := canScreen(); can {
		t.Errorf("cancelled, credits used up: canDoScreening still true")
	}
	if res := u.ask(key, qRecordUsage, batch("", simple("after", 1, t0))); res.Code() != "PAYMENT_REQUIRED" {
		t.Errorf("credits used up: %s", res.Raw)
	}
	// Replays are still answered: they cost nothing.
	if r := u.record(key, "", simple("credit", 3, t0)); r.Duplicates != 3 {
		t.Errorf("replay while cancelled: %+v", r)
	}

	// Suspended (the operator records for it): no screening, even with
	// credits and an active subscription.
	sid, _ := u.tenantOn("starter")
	u.grant(sid, 10, nil, "credits")
	u.mustGQL(testAdminSecret, qUpdateTenant, map[string]any{"in": map[string]any{"tenantId": sid, "status": "SUSPENDED"}}, nil)
	var out struct {
		Tenant struct {
			AccountStatus struct{ CanDoScreening bool }
		}
	}
	u.mustGQL(testAdminSecret, qCanRun, map[string]any{"id": sid}, &out)
	if out.Tenant.AccountStatus.CanDoScreening {
		t.Errorf("a suspended tenant can screen")
	}
	if res := u.ask(testAdminSecret, qRecordUsage, batch(sid, simple("s", 1, t0))); res.Code() != "CONFLICT" ||
		!strings.Contains(res.Errors[0].Message, "tenant is SUSPENDED: it cannot screen") {
		t.Errorf("usage of a suspended tenant: %s", res.Raw)
	}
}

// policiesOf checks the policies in use of a fixture's tenant.
func policiesOf(want int, which func(*fixture) string) checkFunc {
	return func(t *testing.T, e *env, f *fixture, _ *result) {
		t.Helper()
		var out struct {
			Tenant struct{ Usage struct{ Policies int } }
		}
		e.mustGQL(testAdminSecret, `query($id: ID!) { tenant(id: $id) { usage { policies } } }`, map[string]any{"id": which(f)}, &out)
		if out.Tenant.Usage.Policies != want {
			t.Errorf("policies of the target = %d, want %d", out.Tenant.Usage.Policies, want)
		}
	}
}

func reserveOne(*fixture) map[string]any { return reserveIn("", "POLICIES", 1, "perm-1") }

// reservePermissionCases: reserveCapacity needs USAGE_WRITE, and
// TENANT_MANAGE too for another tenant (as recordUsage).
func reservePermissionCases() []permCase {
	return []permCase{
		{op: "reserveCapacity", cred: credAnonymous, query: qReserve, vars: reserveOne, want: "UNAUTHENTICATED", check: policiesOf(0, targetID)},
		{op: "reserveCapacity", cred: keyWith("TENANT_READ", "TENANT_UPDATE"), query: qReserve, vars: reserveOne, want: "FORBIDDEN", message: "USAGE_WRITE", check: policiesOf(0, targetID)},
		{op: "reserveCapacity", cred: keyWith("USAGE_WRITE"), query: qReserve, vars: reserveOne,
			check: wantAll(wantAt("reserveCapacity.used", value(1.0)), policiesOf(1, targetID))},
		{op: "reserveCapacity", cred: keyWith("USAGE_WRITE"), variant: "otherTenant", query: qReserve, want: "NOT_FOUND",
			vars:  func(f *fixture) map[string]any { return reserveIn(f.other, "POLICIES", 1, "perm-1") },
			check: policiesOf(0, otherID)},
		{op: "reserveCapacity", cred: credAdmin, query: qReserve, vars: func(f *fixture) map[string]any { return reserveIn(f.other, "POLICIES", 1, "perm-1") },
			check: policiesOf(1, otherID)},
	}
}
