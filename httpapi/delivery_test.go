package httpapi_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"tenantapi/db"
	"tenantapi/db/dbtest"
	"tenantapi/delivery"
	"tenantapi/egress"
	"tenantapi/webhook"
)

// This file checks webhook delivery end to end: events written by real
// mutations, fanned out and delivered by delivery workers (started here as
// server.go starts them) to an https receiver on loopback, the delivery log
// (Tenant.webhookDeliveries) and redeliverEvent.

// fastSchedule retries within milliseconds, so a test sees every attempt.
var fastSchedule = []time.Duration{0, 30 * time.Millisecond, 30 * time.Millisecond}

// scriptedReceiver is an https endpoint on loopback that records what it
// receives and answers answer(path, n): the status of the n-th request
// (from 0) to that path.
type scriptedReceiver struct {
	srv    *httptest.Server
	answer func(path string, n int) int
	delay  time.Duration
	mu     sync.Mutex
	got    map[string][]whDelivery // by path
}

func newScriptedReceiver(t *testing.T, answer func(path string, n int) int) *scriptedReceiver {
	t.Helper()
	r := &scriptedReceiver{answer: answer, got: map[string][]whDelivery{}}
	r.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		n := len(r.got[req.URL.Path])
		r.got[req.URL.Path] = append(r.got[req.URL.Path], whDelivery{Header: req.Header.Clone(), Body: body})
		r.mu.Unlock()
		time.Sleep(r.delay) // recorded on arrival: received counts requests in flight too
		status := http.StatusOK
		if r.answer != nil {
			status = r.answer(req.URL.Path, n)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, http.StatusText(status))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *scriptedReceiver) URL(tenantID string) string { return r.srv.URL + "/hooks/" + tenantID }

func (r *scriptedReceiver) received(tenantID string) []whDelivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]whDelivery(nil), r.got["/hooks/"+tenantID]...)
}

// trustingEgress is an egress client that allows loopback and trusts
// httptest's certificate (every httptest TLS server shares it).
func trustingEgress(srv *httptest.Server) *egress.Client {
	eg := egress.New(egress.Options{AllowPrivate: true, Timeout: 5 * time.Second})
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	eg.HTTP.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: pool}
	return eg
}

// startWorker runs a delivery worker over store until the test ends.
func startWorker(t *testing.T, store *db.Store, eg *egress.Client, cfg delivery.Config) {
	t.Helper()
	if cfg.Schedule == nil {
		cfg.Schedule = fastSchedule
	}
	if cfg.Poll == 0 {
		cfg.Poll = 20 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		delivery.New(store, webhook.NewSender(eg), cfg).Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// subscribe points tenantID's webhook at url for events and returns the
// signing secret generated for it.
func subscribe(e *env, tenantID, url string, events ...string) string {
	e.t.Helper()
	var out struct{ UpdateNotificationChannels notifPayload }
	e.mustGQL(testAdminSecret, qNotifUpdate, map[string]any{"in": map[string]any{"tenantId": tenantID, "webhookUrl": url, "events": events}}, &out)
	if out.UpdateNotificationChannels.WebhookSecret == nil {
		e.t.Fatalf("no webhook secret generated for %s", tenantID)
	}
	return *out.UpdateNotificationChannels.WebhookSecret
}

func changePlanTo(e *env, tenantID, plan string) {
	e.t.Helper()
	e.mustGQL(testAdminSecret, `mutation($in: ChangePlanInput!) { changePlan(input: $in) { plan { id } } }`,
		map[string]any{"in": map[string]any{"tenantId": tenantID, "plan": plan}}, nil)
}

// eventIDs lists tenantID's events of type (an EventType value), newest first.
func eventIDs(e *env, tenantID, typ string) []string {
	e.t.Helper()
	var out struct {
		Tenant struct {
			Events struct{ Nodes []struct{ ID string } }
		}
	}
	e.mustGQL(testAdminSecret, `query($id: ID!, $t: EventType!) { tenant(id: $id) { events(first: 100, filter: {types: [$t]}) { nodes { id } } } }`,
		map[string]any{"id": tenantID, "t": typ}, &out)
	var ids []string
	for _, n := range out.Tenant.Events.Nodes {
		ids = append(ids, n.ID)
	}
	return ids
}

type deliveryOut struct {
	ID, EventID, EventType, EventWireType, URL, Status string
	AttemptCount                                       int
	NextAttemptAt                                      *time.Time
	Attempts                                           []struct {
		At           time.Time
		HTTPStatus   *int `json:"httpStatus"`
		LatencyMs    int
		ResponseBody *string
		Error        *string
	}
}

const deliveryFields = `id eventId eventType eventWireType url status attemptCount nextAttemptAt attempts { at httpStatus latencyMs responseBody error }`

// deliveries reads tenantID's delivery log with token.
func deliveries(e *env, token, tenantID string) []deliveryOut {
	e.t.Helper()
	var out struct {
		Tenant struct{ WebhookDeliveries struct{ Nodes []deliveryOut } }
	}
	e.mustGQL(token, `query($id: ID!) { tenant(id: $id) { webhookDeliveries(first: 100) { nodes { `+deliveryFields+` } } } }`,
		map[string]any{"id": tenantID}, &out)
	return out.Tenant.WebhookDeliveries.Nodes
}

// TestDeliverChangePlanSigned: a changePlan produces exactly one delivery of
// subscription.changed, signed so that the Standard Webhooks library
// verifies it, under the event id as webhook-id; the unsubscribed types of
// the same tenant (tenant.created, notification_channels.updated) are never
// sent; the log shows the delivery SUCCEEDED with its one attempt.
func TestDeliverChangePlanSigned(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newScriptedReceiver(t, nil)
	id := e.createTenant("Signed Co", randomDomain())
	secret := subscribe(e, id, rcv.URL(id), "SUBSCRIPTION_CHANGED", "INVOICE_ISSUED")
	startWorker(t, e.store, trustingEgress(rcv.srv), delivery.Config{})

	changePlanTo(e, id, "enterprise")
	waitFor(t, "the delivery", func() bool { return len(rcv.received(id)) > 0 })
	time.Sleep(200 * time.Millisecond) // ten polls: nothing else may arrive
	got := rcv.received(id)
	if len(got) != 1 {
		t.Fatalf("the receiver got %d requests, want 1 (subscription.changed only)", len(got))
	}
	if err := verify(got[0], secret, true); err != nil {
		t.Fatalf("the Standard Webhooks library refuses the delivery: %v", err)
	}
	var body struct {
		ID, Type, TenantID string
		OccurredAt         time.Time
		Data               struct{ TenantID, PlanID string }
	}
	if err := json.Unmarshal(got[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	evs := eventIDs(e, id, "SUBSCRIPTION_CHANGED")
	if len(evs) != 1 {
		t.Fatalf("subscription.changed events = %v, want one", evs)
	}
	if body.ID != evs[0] || got[0].Header.Get("webhook-id") != evs[0] {
		t.Errorf("body id %s, webhook-id %s; want the event id %s", body.ID, got[0].Header.Get("webhook-id"), evs[0])
	}
	if body.Type != "subscription.changed" || body.TenantID != id || body.Data.TenantID != id || body.Data.PlanID != "enterprise" || body.OccurredAt.IsZero() {
		t.Errorf("body = %s", got[0].Body)
	}
	log := deliveries(e, testAdminSecret, id)
	if len(log) != 1 {
		t.Fatalf("delivery log = %+v, want one delivery", log)
	}
	d := log[0]
	if d.EventID != evs[0] || d.EventType != "SUBSCRIPTION_CHANGED" || d.EventWireType != "subscription.changed" || d.Status != "SUCCEEDED" ||
		d.AttemptCount != 1 || d.NextAttemptAt != nil || d.URL != rcv.URL(id) || len(d.Attempts) != 1 {
		t.Fatalf("delivery = %+v", d)
	}
	if a := d.Attempts[0]; a.HTTPStatus == nil || *a.HTTPStatus != 200 || a.Error != nil || a.ResponseBody == nil || *a.ResponseBody != "OK" {
		t.Errorf("attempt = %+v, want 200 with body OK and no error", a)
	}
}

// TestDeliverRetries: a receiver answering 500 twice then 200 gets three
// attempts under one webhook-id, all in the log; one answering 500 always
// gets the schedule's three and the delivery is FAILED.
func TestDeliverRetries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	flaky := e.createTenant("Flaky Co", randomDomain())
	dead := e.createTenant("Dead Co", randomDomain())
	rcv := newScriptedReceiver(t, func(path string, n int) int {
		if strings.HasSuffix(path, dead) || n < 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	subscribe(e, flaky, rcv.URL(flaky), "SUBSCRIPTION_CHANGED")
	subscribe(e, dead, rcv.URL(dead), "SUBSCRIPTION_CHANGED")
	startWorker(t, e.store, trustingEgress(rcv.srv), delivery.Config{})
	changePlanTo(e, flaky, "enterprise")
	changePlanTo(e, dead, "enterprise")

	waitFor(t, "the final states", func() bool {
		a, b := deliveries(e, testAdminSecret, flaky), deliveries(e, testAdminSecret, dead)
		return len(a) == 1 && a[0].Status != "PENDING" && len(b) == 1 && b[0].Status != "PENDING"
	})
	got := rcv.received(flaky)
	if len(got) != 3 {
		t.Fatalf("the flaky receiver got %d requests, want 3", len(got))
	}
	for _, g := range got {
		if g.Header.Get("webhook-id") != got[0].Header.Get("webhook-id") {
			t.Errorf("webhook-ids differ between attempts: %s, %s", g.Header.Get("webhook-id"), got[0].Header.Get("webhook-id"))
		}
	}
	d := deliveries(e, testAdminSecret, flaky)[0]
	if d.Status != "SUCCEEDED" || d.AttemptCount != 3 || len(d.Attempts) != 3 {
		t.Fatalf("flaky delivery = %+v, want SUCCEEDED after 3 attempts", d)
	}
	for i, want := range []int{500, 500, 200} {
		a := d.Attempts[i]
		if a.HTTPStatus == nil || *a.HTTPStatus != want {
			t.Errorf("attempt %d: status %v, want %d", i, a.HTTPStatus, want)
		}
		if (want == 500) != (a.Error != nil && strings.Contains(*a.Error, "HTTP 500")) {
			t.Errorf("attempt %d: error %v", i, a.Error)
		}
		if i > 0 && a.At.Before(d.Attempts[i-1].At.Add(fastSchedule[i])) {
			t.Errorf("attempt %d at %s, less than %s after the previous at %s", i, a.At, fastSchedule[i], d.Attempts[i-1].At)
		}
	}
	if *d.Attempts[0].ResponseBody != "Internal Server Error" {
		t.Errorf("response body = %q", *d.Attempts[0].ResponseBody)
	}
	f := deliveries(e, testAdminSecret, dead)[0]
	if f.Status != "FAILED" || f.AttemptCount != len(fastSchedule) || len(rcv.received(dead)) != len(fastSchedule) || f.NextAttemptAt != nil {
		t.Errorf("dead delivery = %+v (received %d), want FAILED after %d attempts", f, len(rcv.received(dead)), len(fastSchedule))
	}
}

// secondStore opens another Store (another instance) on e's database,
// sharing its keyring.
func secondStore(e *env) *db.Store {
	e.t.Helper()
	s, err := db.Open(context.Background(), e.url, dbtest.Options(db.Options{MaxOpenConns: 5}))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { s.Close() })
	s.Sealer = e.store.Sealer
	return s
}

// TestDeliverTwoWorkersShareWork: two instances' workers on one database
// deliver every event exactly once between them.
func TestDeliverTwoWorkersShareWork(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newScriptedReceiver(t, nil)
	rcv.delay = 20 * time.Millisecond
	var ids []string
	for range 4 {
		id := e.createTenant("Shared Co", randomDomain())
		subscribe(e, id, rcv.URL(id), "SUBSCRIPTION_CHANGED")
		ids = append(ids, id)
	}
	eg := trustingEgress(rcv.srv)
	startWorker(t, e.store, eg, delivery.Config{Workers: 3})
	startWorker(t, secondStore(e), eg, delivery.Config{Workers: 3})
	for _, id := range ids {
		changePlanTo(e, id, "enterprise")
		changePlanTo(e, id, "starter")
		changePlanTo(e, id, "professional")
	}
	want := 0
	for _, id := range ids {
		want += len(eventIDs(e, id, "SUBSCRIPTION_CHANGED"))
	}
	count := func() int {
		n := 0
		for _, id := range ids {
			n += len(rcv.received(id))
		}
		return n
	}
	waitFor(t, "every delivery", func() bool { return count() >= want })
	time.Sleep(300 * time.Millisecond)
	seen := map[string]int{}
	for _, id := range ids {
		for _, d := range rcv.received(id) {
			seen[d.Header.Get("webhook-id")]++
		}
	}
	if len(seen) != want || count() != want {
		t.Errorf("received %d requests of %d webhook-ids, want %d, each once", count(), len(seen), want)
	}
	for wid, n := range seen {
		if n != 1 {
			t.Errorf("webhook-id %s received %d times", wid, n)
		}
	}
}

// TestDeliverLeaseExpired: an instance that claimed a delivery and died
// (its lease never released) does not lose it: once the lease expires,
// another instance's worker delivers it; the dead claim's late record
// changes only the log.
func TestDeliverLeaseExpired(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newScriptedReceiver(t, nil)
	id := e.createTenant("Lease Co", randomDomain())
	subscribe(e, id, rcv.URL(id), "SUBSCRIPTION_CHANGED")
	changePlanTo(e, id, "enterprise")

	ctx := context.Background()
	if _, err := e.store.DispatchEvents(ctx, 100); err != nil {
		t.Fatal(err)
	}
	const lease = 500 * time.Millisecond
	claimed, err := e.store.ClaimDeliveries(ctx, 10, 10, lease, nil)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim = %v, %v; want one delivery", claimed, err)
	}
	start := time.Now()
	startWorker(t, secondStore(e), trustingEgress(rcv.srv), delivery.Config{})
	waitFor(t, "the delivery by the other worker", func() bool { return len(rcv.received(id)) == 1 })
	if took := time.Since(start); took < lease-50*time.Millisecond {
		t.Errorf("delivered %s after the claim, before its %s lease expired", took, lease)
	}
	waitFor(t, "the log", func() bool { d := deliveries(e, testAdminSecret, id); return len(d) == 1 && d[0].Status == "SUCCEEDED" })
	held, err := e.store.RecordAttempt(ctx, claimed[0], db.AttemptOutcome{At: time.Now(), Error: "the first worker's late attempt"})
	if err != nil || held {
		t.Fatalf("the dead claim's record = %v, %v; want its lease lost", held, err)
	}
	d := deliveries(e, testAdminSecret, id)[0]
	if d.Status != "SUCCEEDED" || d.AttemptCount != 1 || len(d.Attempts) != 2 {
		t.Errorf("delivery = %+v, want SUCCEEDED, one counted attempt and both in the log", d)
	}
}

const qRedeliver = `mutation($in: RedeliverEventInput!) { redeliverEvent(input: $in) { delivery { ` + deliveryFields + ` } } }`

// TestDeliveryIsolation: a tenant's key sees only its own deliveries, reads
// another tenant's log as NOT_FOUND, and cannot redeliver its events;
// redeliverEvent on its own event is idempotent until the attempt.
func TestDeliveryIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newScriptedReceiver(t, nil)
	a := e.createTenant("Alpha Co", randomDomain())
	b := e.createTenant("Beta Co", randomDomain())
	subscribe(e, a, rcv.URL(a), "SUBSCRIPTION_CHANGED")
	subscribe(e, b, rcv.URL(b), "SUBSCRIPTION_CHANGED")
	changePlanTo(e, a, "enterprise")
	changePlanTo(e, b, "enterprise")
	ctx := context.Background()
	if _, err := e.store.DispatchEvents(ctx, 100); err != nil {
		t.Fatal(err)
	}
	aKey := e.createKey(a, "TENANT_READ", "NOTIFICATION_CHANNELS_READ", "NOTIFICATION_CHANNELS_UPDATE")

	var me struct {
		Me struct{ WebhookDeliveries struct{ Nodes []deliveryOut } }
	}
	e.mustGQL(aKey, `{ me { webhookDeliveries { nodes { `+deliveryFields+` } } } }`, nil, &me)
	aEvent := eventIDs(e, a, "SUBSCRIPTION_CHANGED")[0]
	if n := me.Me.WebhookDeliveries.Nodes; len(n) != 1 || n[0].EventID != aEvent || n[0].Status != "PENDING" {
		t.Fatalf("A's log = %+v, want its one pending delivery", n)
	}
	r := e.gql(aKey, `query($id: ID!) { tenant(id: $id) { webhookDeliveries { nodes { id } } } }`, map[string]any{"id": b})
	if r.Code() != "NOT_FOUND" {
		t.Errorf("A's key on B's log: %s", r.Raw)
	}

	bEvent := eventIDs(e, b, "SUBSCRIPTION_CHANGED")[0]
	foreign := e.gql(aKey, qRedeliver, map[string]any{"in": map[string]any{"eventId": bEvent}})
	missing := e.gql(aKey, qRedeliver, map[string]any{"in": map[string]any{"eventId": randomUUID()}})
	if foreign.Code() != "NOT_FOUND" || !strings.Contains(string(foreign.Raw), "event not found") {
		t.Errorf("A redelivering B's event: %s", foreign.Raw)
	}
	sameResponse(t, foreign, missing)
	other := e.gql(aKey, qRedeliver, map[string]any{"in": map[string]any{"tenantId": b, "eventId": bEvent}})
	if other.Code() != "NOT_FOUND" {
		t.Errorf("A redelivering with B's tenantId: %s", other.Raw)
	}
	if n := len(deliveries(e, testAdminSecret, b)); n != 1 {
		t.Errorf("B has %d deliveries, want 1", n)
	}

	var first, second struct {
		RedeliverEvent struct{ Delivery deliveryOut }
	}
	e.mustGQL(aKey, qRedeliver, map[string]any{"in": map[string]any{"eventId": aEvent}}, &first)
	e.mustGQL(aKey, qRedeliver, map[string]any{"in": map[string]any{"eventId": aEvent}}, &second)
	if d := first.RedeliverEvent.Delivery; d.EventID != aEvent || d.Status != "PENDING" || d.AttemptCount != 0 || d.URL != rcv.URL(a) {
		t.Errorf("redeliverEvent = %+v", d)
	}
	if first.RedeliverEvent.Delivery.ID != second.RedeliverEvent.Delivery.ID {
		t.Errorf("redeliverEvent twice made two deliveries: %s, %s", first.RedeliverEvent.Delivery.ID, second.RedeliverEvent.Delivery.ID)
	}
	if n := len(deliveries(e, testAdminSecret, a)); n != 1 {
		// The pending original is the one returned: it has not been attempted.
		t.Errorf("A has %d deliveries after redelivering a pending event, want 1", n)
	}

	// Without a webhookUrl there is nowhere to redeliver to.
	e.mustGQL(testAdminSecret, qNotifUpdate, map[string]any{"in": map[string]any{"tenantId": a, "webhookUrl": ""}}, nil)
	r = e.gql(aKey, qRedeliver, map[string]any{"in": map[string]any{"eventId": aEvent}})
	if r.Code() != "BAD_USER_INPUT" || r.Field() != "eventId" || !strings.Contains(string(r.Raw), "no webhookUrl") {
		t.Errorf("redeliverEvent without a webhookUrl: %s", r.Raw)
	}
}

// redeliverTargets remembers, per target tenant, the event a redeliverEvent
// permission case redelivers (set by its prepare, read by its vars).
var redeliverTargets sync.Map

// deliveryPermissionCases are this part's rows of the shared permission
// table (TestPermissions, TestPermissionsCoverSchema).
func deliveryPermissionCases() []permCase {
	prep := func(e *env, f *fixture) {
		e.mustGQL(testAdminSecret, qNotifUpdate, map[string]any{"in": map[string]any{"tenantId": f.target, "webhookUrl": "https://127.0.0.1:9/hooks"}}, nil)
		var id string
		if err := e.raw().Get(&id, `SELECT id FROM events WHERE tenant_id = $1 ORDER BY id LIMIT 1`, f.target); err != nil {
			e.t.Fatal(err)
		}
		redeliverTargets.Store(f.target, id)
	}
	vars := func(f *fixture) map[string]any {
		ev, _ := redeliverTargets.Load(f.target)
		return f.input(map[string]any{"eventId": ev})
	}
	ok := wantAll(wantAt("redeliverEvent.delivery.status", value("PENDING")), wantAt("redeliverEvent.delivery.url", value("https://127.0.0.1:9/hooks")))
	const op = "redeliverEvent"
	cases := []permCase{
		{op: op, cred: credAnonymous, query: qRedeliver, vars: vars, prepare: prep, want: "UNAUTHENTICATED"},
		{op: op, cred: keyWith("USAGE_WRITE"), query: qRedeliver, vars: vars, prepare: prep, want: "FORBIDDEN", message: "NOTIFICATION_CHANNELS_UPDATE"},
		{op: op, cred: keyWith("TENANT_MANAGE", "NOTIFICATION_CHANNELS_READ"), query: qRedeliver, vars: vars, prepare: prep, want: "FORBIDDEN", message: "NOTIFICATION_CHANNELS_UPDATE"},
		{op: op, cred: keyWith("NOTIFICATION_CHANNELS_UPDATE"), query: qRedeliver, vars: vars, prepare: prep, check: ok},
		{op: op, cred: keyWith("TENANT_MANAGE", "NOTIFICATION_CHANNELS_UPDATE"), query: qRedeliver, vars: vars, prepare: prep, check: ok},
		{op: op, cred: credAdmin, query: qRedeliver, vars: vars, prepare: prep, check: ok},
	}
	return append(cases, tenantFieldCases("webhookDeliveries", "webhookDeliveries(first: 5) { nodes { id } }", "NOTIFICATION_CHANNELS_READ")...)
}

// TestDeliverSlowEndpointDoesNotDelayOthers: a tenant whose endpoint takes
// a second to answer, with a backlog, holds at most PerEndpoint of the
// pool's slots, so another tenant's delivery goes out at once.
func TestDeliverSlowEndpointDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	slow := e.createTenant("Slow Co", randomDomain())
	fast := e.createTenant("Fast Co", randomDomain())
	slowRcv := newScriptedReceiver(t, nil)
	slowRcv.delay = time.Second
	fastRcv := newScriptedReceiver(t, nil)
	subscribe(e, slow, slowRcv.URL(slow), "SUBSCRIPTION_CHANGED")
	subscribe(e, fast, fastRcv.URL(fast), "SUBSCRIPTION_CHANGED")
	startWorker(t, e.store, trustingEgress(slowRcv.srv), delivery.Config{Workers: 3, PerEndpoint: 2})
	for _, p := range []string{"enterprise", "starter", "professional", "enterprise", "starter"} {
		changePlanTo(e, slow, p)
	}
	waitFor(t, "the slow endpoint's first attempts", func() bool { return len(slowRcv.received(slow)) >= 2 })
	start := time.Now()
	changePlanTo(e, fast, "enterprise")
	waitFor(t, "the fast tenant's delivery", func() bool { return len(fastRcv.received(fast)) == 1 })
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Errorf("the fast endpoint waited %s behind the slow one", took)
	}
	if n := len(slowRcv.received(slow)); n != 2 {
		t.Errorf("the slow endpoint got %d requests within its first second, want 2 (WEBHOOK_CONCURRENCY_PER_ENDPOINT)", n)
	}
}
