package httpapi_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"tenantapi/delivery"
	"tenantapi/tenant"
)

// This file checks the threshold and plan-change events (each fires once
// when its line is crossed, again in the next period, not before), that
// every EventType is a NotificationEvent a channel can subscribe to, the
// delivery of a threshold event, and replayEvents (bounded, idempotent,
// filtered by type, tenant-isolated).

// typedEvents reads tenantID's events of the EventType typ, newest first.
func typedEvents(e *env, tenantID, typ string) []eventNode {
	e.t.Helper()
	return e.events(testAdminSecret, tenantID, 100, "", map[string]any{"types": []string{typ}}).Events
}

// payloadOf decodes an event's payload.
func payloadOf(t *testing.T, ev eventNode) map[string]any {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal([]byte(ev.Payload), &p); err != nil {
		t.Fatalf("payload %q: %v", ev.Payload, err)
	}
	return p
}

// wantEvents checks tenantID has n events of typ.
func wantEvents(t *testing.T, e *env, tenantID, typ string, n int, when string) []eventNode {
	t.Helper()
	got := typedEvents(e, tenantID, typ)
	if len(got) != n {
		t.Fatalf("%s: %d %s events, want %d: %+v", when, len(got), typ, n, got)
	}
	return got
}

// TestQuotaThresholdEvents: quota.threshold fires once when a batch brings
// the month to 80 % of the plan, quota.exceeded once at 100 %, neither
// before nor twice, and both again in the next month.
func TestQuotaThresholdEvents(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	u := newUsageEnv(t, now)
	id, key := u.tenantOn("starter") // 10,000 interactions a month
	u.seedUsed(id, "2026-03-01", 7990)

	u.record(key, "", simple("a", 5, now)) // 7,995: below 80 %
	wantEvents(t, u.env, id, "QUOTA_THRESHOLD", 0, "at 79.95 %")
	u.record(key, "", simple("b", 10, now)) // 8,005
	ev := wantEvents(t, u.env, id, "QUOTA_THRESHOLD", 1, "at 80.05 %")[0]
	p := payloadOf(t, ev)
	want := map[string]any{"tenantId": id, "metric": "interactions", "planId": "starter", "used": 8005.0, "limit": 10000.0,
		"percent": 80.0, "threshold": 80.0, "period": "2026-03"}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("quota.threshold payload %s = %v, want %v (%s)", k, p[k], v, ev.Payload)
		}
	}
	if ev.Action != "recordUsage" || ev.WireType != "quota.threshold" || !strings.HasPrefix(ev.Actor, "key:") {
		t.Errorf("quota.threshold event = %+v", ev)
	}
	u.record(key, "", simple("c", 5, now))
	wantEvents(t, u.env, id, "QUOTA_THRESHOLD", 1, "still above 80 %")
	wantEvents(t, u.env, id, "QUOTA_EXCEEDED", 0, "below 100 %")

	u.grantN(id, 100)
	u.seedUsed(id, "2026-03-02", 1985) // 9,995
	u.record(key, "", simple("d", 10, now))
	p = payloadOf(t, wantEvents(t, u.env, id, "QUOTA_EXCEEDED", 1, "at 100.05 %")[0])
	if p["used"] != 10005.0 || p["threshold"] != 100.0 || p["percent"] != 100.0 {
		t.Errorf("quota.exceeded payload = %v", p)
	}
	u.record(key, "", simple("e", 3, now))
	wantEvents(t, u.env, id, "QUOTA_EXCEEDED", 1, "still above 100 %")
	wantEvents(t, u.env, id, "QUOTA_THRESHOLD", 1, "still above 100 %")

	// The next month starts from zero: both fire again, once.
	april := time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC)
	u.clock.Set(april)
	u.seedUsed(id, "2026-04-01", 7999)
	u.record(key, "", simple("f", 1, april)) // 8,000 exactly
	if evs := wantEvents(t, u.env, id, "QUOTA_THRESHOLD", 2, "in April"); payloadOf(t, evs[0])["period"] != "2026-04" {
		t.Errorf("April's quota.threshold = %s", evs[0].Payload)
	}
	wantEvents(t, u.env, id, "QUOTA_EXCEEDED", 1, "at 80 % in April")
	u.seedUsed(id, "2026-04-03", 1999)
	u.record(key, "", simple("g", 1, april)) // 10,000 exactly
	wantEvents(t, u.env, id, "QUOTA_EXCEEDED", 2, "at 100 % in April")
	wantEvents(t, u.env, id, "QUOTA_THRESHOLD", 2, "at 100 % in April")

	// The hourly purge keeps the marks of this month and the previous one
	// (April's and March's here) and drops older ones; none fires again.
	marks := func() (n int) {
		if err := u.raw().Get(&n, `SELECT count(*) FROM event_marks WHERE tenant_id = $1 AND kind LIKE 'quota.%'`, id); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n, err := u.store.PurgeEventMarks(context.Background()); err != nil || n != 0 || marks() != 4 {
		t.Fatalf("purge in April: %d purged (%v), %d marks left; want 0 and 4", n, err, marks())
	}
	u.clock.Set(time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC))
	if n, err := u.store.PurgeEventMarks(context.Background()); err != nil || n != 2 || marks() != 2 {
		t.Fatalf("purge in May: %d purged (%v), %d marks left; want March's 2 purged, April's 2 kept", n, err, marks())
	}
	wantEvents(t, u.env, id, "QUOTA_THRESHOLD", 2, "after the purge")
}

// grant gives a tenant credits as the operator.
func (u *usageEnv) grantN(tenantID string, amount int) {
	u.t.Helper()
	u.mustGQL(testAdminSecret, qGrantCredits, map[string]any{"in": map[string]any{"tenantId": tenantID, "amount": amount, "reason": "test"}}, nil)
}

// TestCreditsLowEvent: credits.low fires once when usage leaves fewer than
// 10 % of the credits granted, and again only after a grant brought them
// back above.
func TestCreditsLowEvent(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	u := newUsageEnv(t, now)
	id, key := u.tenantOn("starter")
	u.seedUsed(id, "2026-03-01", 10000) // the quota is used up: every interaction takes a credit
	u.grantN(id, 100)
	u.record(key, "", simple("a", 85, now)) // 15 left
	wantEvents(t, u.env, id, "CREDITS_LOW", 0, "15 % left")
	u.record(key, "", simple("b", 10, now)) // 5 left
	p := payloadOf(t, wantEvents(t, u.env, id, "CREDITS_LOW", 1, "5 % left")[0])
	if p["remaining"] != 5.0 || p["granted"] != 100.0 || p["percent"] != 5.0 || p["threshold"] != 10.0 {
		t.Errorf("credits.low payload = %v", p)
	}
	u.record(key, "", simple("c", 1, now))
	wantEvents(t, u.env, id, "CREDITS_LOW", 1, "4 % left")
	u.grantN(id, 100) // 104 of 200: back above, re-armed, but no event for a grant
	wantEvents(t, u.env, id, "CREDITS_LOW", 1, "after a grant")
	u.record(key, "", simple("d", 95, now)) // 9 of 200
	wantEvents(t, u.env, id, "CREDITS_LOW", 2, "low again after the grant")
}

// TestWatchlistSeatsLowEvent: watchlist.seats_low fires once when fewer
// than 10 % of the seats are free, and again only after they were back.
func TestWatchlistSeatsLowEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Seats Co", randomDomain())
	ctx := adminCtx()
	e.mustGQL(testAdminSecret, `mutation($in: UpdateWatchlistSeatsInput!) { updateWatchlistSeats(input: $in) { watchlist { availableSeats } } }`,
		map[string]any{"in": map[string]any{"tenantId": id, "availableSeats": 100}}, nil)
	report := func(active int) {
		t.Helper()
		if err := e.store.ReportWatchlistSubjects(ctx, id, active); err != nil {
			t.Fatal(err)
		}
	}
	report(85)
	wantEvents(t, e, id, "WATCHLIST_SEATS_LOW", 0, "15 free")
	report(95)
	p := payloadOf(t, wantEvents(t, e, id, "WATCHLIST_SEATS_LOW", 1, "5 free")[0])
	if p["availableSeats"] != 100.0 || p["activeSubjects"] != 95.0 || p["remaining"] != 5.0 {
		t.Errorf("watchlist.seats_low payload = %v", p)
	}
	report(96)
	wantEvents(t, e, id, "WATCHLIST_SEATS_LOW", 1, "4 free")
	report(80) // back above: re-armed
	wantEvents(t, e, id, "WATCHLIST_SEATS_LOW", 1, "20 free")
	report(91)
	wantEvents(t, e, id, "WATCHLIST_SEATS_LOW", 2, "9 free again")
}

// TestAPIKeyExpiringEvent: the hourly job announces a key once when it is
// within 7 days of its expiry, not before, and never a revoked key.
func TestAPIKeyExpiringEvent(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	u := newUsageEnv(t, now)
	id := u.createTenant("Expiring Co", randomDomain())
	mk := func(name string, in time.Duration) string {
		var out struct {
			CreateApiKey struct {
				APIKey struct{ ID string } `json:"apiKey"`
			}
		}
		u.mustGQL(testAdminSecret, `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { apiKey { id } } }`,
			map[string]any{"in": map[string]any{"tenantId": id, "name": name, "permissions": []string{"TENANT_READ"}, "expiresAt": now.Add(in).Format(time.RFC3339)}}, &out)
		return out.CreateApiKey.APIKey.ID
	}
	soon := mk("soon", 3*24*time.Hour)
	later := mk("later", 10*24*time.Hour)
	revoked := mk("revoked", 2*24*time.Hour)
	u.mustGQL(testAdminSecret, `mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { id } } }`, map[string]any{"id": revoked}, nil)
	announce := func(want int) {
		t.Helper()
		n, err := u.store.AnnounceExpiringAPIKeys(context.Background())
		if err != nil || n != want {
			t.Fatalf("AnnounceExpiringAPIKeys = %d, %v; want %d", n, err, want)
		}
	}
	announce(1)
	ev := wantEvents(t, u.env, id, "API_KEY_EXPIRING", 1, "one key within 7 days")[0]
	p := payloadOf(t, ev)
	if ev.Subject == nil || *ev.Subject != soon || p["id"] != soon || p["name"] != "soon" || p["expiresInHours"] != 72.0 || p["keyHash"] != nil || ev.Actor != "system" {
		t.Errorf("api_key.expiring = %+v", ev)
	}
	announce(0) // once per key
	u.clock.Advance(4 * 24 * time.Hour)
	announce(1) // "later" is now 6 days away
	evs := wantEvents(t, u.env, id, "API_KEY_EXPIRING", 2, "both keys announced")
	if *evs[0].Subject != later {
		t.Errorf("second announcement is of %s, want %s", *evs[0].Subject, later)
	}
	announce(0)
}

// TestSSOTestFailedEvent: a failed testSso writes sso.test_failed next to
// sso.tested.
func TestSSOTestFailedEvent(t *testing.T) {
	t.Parallel()
	s := newSSOEnv(t)
	id := s.createTenant("Failing SSO Co", randomDomain())
	s.must(testAdminSecret, qEnableSSO, ssoIn(map[string]any{"tenantId": id, "provider": map[string]any{"oidc": map[string]any{"clientId": "c",
		"clientSecret": ssoSecret("x"), "discoveryUrl": "https://127.0.0.1:1/.well-known/openid-configuration", "redirectUri": ssoRedirectURI}}}))
	s.must(testAdminSecret, qTestSSO, ssoIn(map[string]any{"tenantId": id}))
	ev := wantEvents(t, s.env, id, "SSO_TEST_FAILED", 1, "after a failed test")[0]
	p := payloadOf(t, ev)
	if ev.Action != "testSso" || p["status"] != "ERROR" || p["lastTestResult"] != "FAILURE" || !strings.Contains(p["lastTestError"].(string), "127.0.0.1:1") {
		t.Errorf("sso.test_failed = %+v", ev)
	}
	wantEvents(t, s.env, id, "SSO_TESTED", 1, "after a failed test")
}

// TestPlanChangeScheduledAndApplied: changePlan with a later date writes
// plan_change.scheduled (not applied); the job applying it on its date
// writes plan_change.applied as the system; an immediate change writes
// applied at once. subscription.changed keeps firing for each.
func TestPlanChangeScheduledAndApplied(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	u := newUsageEnv(t, now)
	id, _ := u.tenantOn("professional")
	u.mustGQL(testAdminSecret, `mutation($in: ChangePlanInput!) { changePlan(input: $in) { scheduled } }`,
		map[string]any{"in": map[string]any{"tenantId": id, "plan": "starter", "effectiveDate": "2026-04-01"}}, nil)
	p := payloadOf(t, wantEvents(t, u.env, id, "PLAN_CHANGE_SCHEDULED", 1, "after changePlan for April")[0])
	if p["planId"] != "starter" || p["previousPlanId"] != "professional" || p["effectiveDate"] != "2026-04-01" || p["requestedBy"] != "admin" {
		t.Errorf("plan_change.scheduled payload = %v", p)
	}
	wantEvents(t, u.env, id, "PLAN_CHANGE_APPLIED", 0, "before the date")
	if n, err := u.store.ApplyDuePlanChanges(context.Background()); err != nil || n != 0 {
		t.Fatalf("ApplyDuePlanChanges before the date = %d, %v", n, err)
	}
	wantEvents(t, u.env, id, "PLAN_CHANGE_APPLIED", 0, "the job before the date")

	u.clock.Set(time.Date(2026, 4, 1, 0, 1, 0, 0, time.UTC))
	if n, err := u.store.ApplyDuePlanChanges(context.Background()); err != nil || n != 1 {
		t.Fatalf("ApplyDuePlanChanges on the date = %d, %v", n, err)
	}
	ev := wantEvents(t, u.env, id, "PLAN_CHANGE_APPLIED", 1, "after the job")[0]
	p = payloadOf(t, ev)
	if ev.Actor != "system" || p["planId"] != "starter" || p["previousPlanId"] != "professional" || p["effectiveDate"] != "2026-04-01" {
		t.Errorf("plan_change.applied = %+v", ev)
	}
	wantEvents(t, u.env, id, "PLAN_CHANGE_SCHEDULED", 1, "after the job")

	u.clock.Advance(time.Minute)
	changePlanTo(u.env, id, "enterprise") // today: applied at once
	p = payloadOf(t, wantEvents(t, u.env, id, "PLAN_CHANGE_APPLIED", 2, "after an immediate change")[0])
	if p["planId"] != "enterprise" || p["previousPlanId"] != "starter" {
		t.Errorf("immediate plan_change.applied payload = %v", p)
	}
}

// TestThresholdDelivered: a channel subscribed to QUOTA_THRESHOLD gets the
// event by webhook, under its wire name.
func TestThresholdDelivered(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	u := newUsageEnv(t, now)
	rcv := newScriptedReceiver(t, nil)
	id, key := u.tenantOn("starter")
	subscribe(u.env, id, rcv.URL(id), "QUOTA_THRESHOLD")
	startWorker(t, u.store, trustingEgress(rcv.srv), delivery.Config{})
	u.seedUsed(id, tenant.DateOf(now).String(), 7999)
	u.record(key, "", simple("x", 1, now))
	waitFor(t, "the quota.threshold delivery", func() bool { return len(rcv.received(id)) > 0 })
	var body struct {
		ID, Type string
		Data     struct {
			Used, Limit int
			Period      string
		}
	}
	got := rcv.received(id)
	if err := json.Unmarshal(got[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	evs := eventIDs(u.env, id, "QUOTA_THRESHOLD")
	if len(got) != 1 || len(evs) != 1 || body.ID != evs[0] || body.Type != "quota.threshold" || body.Data.Used != 8000 || body.Data.Limit != 10000 {
		t.Errorf("received %d: %s; events %v", len(got), got[0].Body, evs)
	}
}

// TestNotificationEventsCoverCatalog: every EventType has a
// NotificationEvent of the same name whose wire name is the EventType's
// (so a channel can subscribe to every type of the log), and the four
// others say the screening platform writes them.
func TestNotificationEventsCoverCatalog(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	enum := func(name string) map[string]string {
		var out struct {
			Type struct {
				EnumValues []struct{ Name, Description string }
			} `json:"__type"`
		}
		e.mustGQL("", `query($n: String!) { __type(name: $n) { enumValues { name description } } }`, map[string]any{"n": name}, &out)
		m := map[string]string{}
		for _, v := range out.Type.EnumValues {
			m[v.Name] = v.Description
		}
		return m
	}
	types, notif := enum("EventType"), enum("NotificationEvent")
	wireRE := regexp.MustCompile("^`([a-z_.]+)`: ")
	for name, desc := range types {
		m := wireRE.FindStringSubmatch(desc)
		if m == nil {
			t.Errorf("EventType %s: no wire name in %q", name, desc)
			continue
		}
		nd, ok := notif[name]
		if !ok {
			t.Errorf("EventType %s (%s) has no NotificationEvent", name, m[1])
			continue
		}
		if got := tenant.NotificationEvent(name).Type(); got != m[1] {
			t.Errorf("NotificationEvent %s is delivered as %q, EventType %s as %q", name, got, name, m[1])
		}
		if !strings.Contains(nd, "`"+m[1]+"`") {
			t.Errorf("NotificationEvent %s's description does not give its wire name %s: %q", name, m[1], nd)
		}
	}
	for name, desc := range notif {
		if _, ok := types[name]; ok {
			continue
		}
		if !strings.Contains(desc, "screening platform") {
			t.Errorf("NotificationEvent %s is no EventType and does not say who writes it: %q", name, desc)
		}
	}
	if len(notif) != len(types)+len(tenant.PlatformEvents) || len(tenant.AllNotificationEvents) != len(notif) {
		t.Errorf("%d NotificationEvent values (%d in Go), want the %d EventTypes and %d platform events",
			len(notif), len(tenant.AllNotificationEvents), len(types), len(tenant.PlatformEvents))
	}
}

const qReplay = `mutation($in: ReplayEventsInput!) { replayEvents(input: $in) { queued skipped } }`

type replayOut struct{ Queued, Skipped int }

func replay(e *env, token string, in map[string]any) replayOut {
	e.t.Helper()
	var out struct{ ReplayEvents replayOut }
	e.mustGQL(token, qReplay, map[string]any{"in": in}, &out)
	return out.ReplayEvents
}

// TestReplayEvents: replayEvents queues one delivery per event since an
// instant (of the given types), queues nothing new when called again,
// refuses more than 1000 events and another tenant's log.
func TestReplayEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createTenant("Replay Co", randomDomain())
	b := e.createTenant("Other Co", randomDomain())
	subscribe(e, a, "https://127.0.0.1:9/hooks", "INVOICE_ISSUED") // no worker: deliveries wait
	subscribe(e, b, "https://127.0.0.1:9/other", "INVOICE_ISSUED")
	for _, days := range []int{400, 500} {
		e.mustGQL(testAdminSecret, `mutation($in: UpdateTenantSettingsInput!) { updateTenantSettings(input: $in) { settings { version } } }`,
			map[string]any{"in": map[string]any{"tenantId": a, "auditLogRetentionDays": days}}, nil)
	}
	aKey := e.createKey(a, "TENANT_READ", "NOTIFICATION_CHANNELS_READ", "NOTIFICATION_CHANNELS_UPDATE")
	since := "2020-01-01T00:00:00Z"
	all := len(e.events(testAdminSecret, a, 100, "", nil).Events)
	settings := len(typedEvents(e, a, "SETTINGS_UPDATED"))
	if settings != 2 || all < 4 {
		t.Fatalf("A has %d events, %d settings.updated", all, settings)
	}

	if got := replay(e, aKey, map[string]any{"since": since, "types": []string{"SETTINGS_UPDATED"}}); got != (replayOut{settings, 0}) {
		t.Errorf("replay of settings.updated = %+v, want %d queued", got, settings)
	}
	if got := replay(e, aKey, map[string]any{"since": since}); got != (replayOut{all - settings, settings}) {
		t.Errorf("replay of everything = %+v, want %d queued, %d skipped", got, all-settings, settings)
	}
	if got := replay(e, aKey, map[string]any{"since": since}); got != (replayOut{0, all}) {
		t.Errorf("replay again = %+v, want nothing queued, %d skipped", got, all)
	}
	log := deliveries(e, testAdminSecret, a)
	if len(log) != all {
		t.Fatalf("A has %d deliveries, want one per event (%d)", len(log), all)
	}
	for _, d := range log {
		if d.Status != "PENDING" || d.URL != "https://127.0.0.1:9/hooks" {
			t.Errorf("delivery %+v", d)
		}
	}
	if got := replay(e, aKey, map[string]any{"since": time.Now().Add(time.Hour).Format(time.RFC3339)}); got != (replayOut{0, 0}) {
		t.Errorf("replay since the future = %+v", got)
	}

	// Another tenant's log: NOT_FOUND, nothing queued.
	r := e.gql(aKey, qReplay, map[string]any{"in": map[string]any{"tenantId": b, "since": since}})
	if r.Code() != "NOT_FOUND" {
		t.Errorf("A replaying B: %s", r.Raw)
	}
	if n := len(deliveries(e, testAdminSecret, b)); n != 0 {
		t.Errorf("B has %d deliveries, want 0", n)
	}

	// The bound: more than 1000 matching events are refused, none queued.
	if _, err := e.raw().Exec(`INSERT INTO events (tenant_id, id, type, at, actor, action, payload)
		SELECT $1, uuid7('2021-06-01'::timestamptz + n * interval '1 second'), 'usage.recorded', '2021-06-01'::timestamptz + n * interval '1 second', 'system', 'seed', '{}'
		FROM generate_series(1, 1001) AS n`, b); err != nil {
		t.Fatal(err)
	}
	r = e.gql(testAdminSecret, qReplay, map[string]any{"in": map[string]any{"tenantId": b, "since": "2021-01-01T00:00:00Z"}})
	if r.Code() != "BAD_USER_INPUT" || r.Field() != "since" || !strings.Contains(string(r.Raw), "1000") {
		t.Errorf("replaying 1001 events: %s", r.Raw)
	}
	if n := len(deliveries(e, testAdminSecret, b)); n != 0 {
		t.Errorf("B has %d deliveries after a refused replay, want 0", n)
	}
	if got := replay(e, testAdminSecret, map[string]any{"tenantId": b, "since": "2021-06-01T00:00:02Z", "types": []string{"USAGE_RECORDED"}}); got.Queued != 1000 {
		t.Errorf("replaying 1000 events = %+v", got)
	}

	// Without a webhookUrl there is nowhere to replay to.
	e.mustGQL(testAdminSecret, qNotifUpdate, map[string]any{"in": map[string]any{"tenantId": a, "webhookUrl": ""}}, nil)
	r = e.gql(aKey, qReplay, map[string]any{"in": map[string]any{"since": since}})
	if r.Code() != "BAD_USER_INPUT" || r.Field() != "webhookUrl" {
		t.Errorf("replay without a webhookUrl: %s", r.Raw)
	}
}

// replayPermissionCases are replayEvents' rows of the shared permission
// table (TestPermissions, TestPermissionsCoverSchema).
func replayPermissionCases() []permCase {
	vars := func(f *fixture) map[string]any {
		return f.input(map[string]any{"since": "2020-01-01T00:00:00Z", "types": []string{"TENANT_CREATED"}})
	}
	return webhookMutationCases("replayEvents", qReplay, vars, wantAt("replayEvents.queued", value(1.0)))
}
