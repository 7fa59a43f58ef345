package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/Khan/genqlient/graphql"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"tenantapi/client"
	"tenantapi/httpapi/httpapitest"
)

// sent records the operationName of every request the tests send, for
// TestMain's check that each operation of client/*.graphql ran.
var sent = struct {
	sync.Mutex
	names map[string]bool
}{names: map[string]bool{}}

type recorder struct{}

func (recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	var op struct{ OperationName string }
	if json.Unmarshal(body, &op) == nil {
		sent.Lock()
		sent.names[op.OperationName] = true
		sent.Unlock()
	}
	return http.DefaultTransport.RoundTrip(req)
}

// newClient is client.New with the recording transport.
func newClient(srv *httpapitest.Server, key string) graphql.Client {
	return client.New(srv.URL, key, client.WithHTTPClient(&http.Client{Transport: recorder{}, Timeout: 30 * time.Second}))
}

// TestMain fails the run when an operation of client/*.graphql was never
// sent: each generated function must round-trip against the real server
// in a test here. (Only when every test ran: not with -run.)
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if code == 0 && flag.Lookup("test.run").Value.String() == "" {
		var missing []string
		for _, name := range operationNames() {
			if !sent.names[name] {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: operations no test sends: %v (add a round trip to client_test.go)\n", missing)
			code = 1
		}
	}
	os.Exit(code)
}

// operationNames are the operations declared in client/*.graphql.
func operationNames() []string {
	files, _ := filepath.Glob("*.graphql")
	re := regexp.MustCompile(`(?m)^(?:query|mutation|subscription) (\w+)`)
	var names []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			panic(err)
		}
		for _, m := range re.FindAllSubmatch(b, -1) {
			names = append(names, string(m[1]))
		}
	}
	sort.Strings(names)
	return names
}

// TestTenantQueries: Viewer, Me, Quota and Stats read the demo tenant.
func TestTenantQueries(t *testing.T) {
	srv := httpapitest.Start(t)
	c := newClient(srv, srv.APIKey)
	ctx := context.Background()

	v, err := client.Viewer(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if v.Viewer.Kind != client.ViewerKindApiKey || v.Viewer.TenantId == nil || *v.Viewer.TenantId != srv.TenantID ||
		!slices.Contains(v.Viewer.Permissions, client.PermissionUsageWrite) {
		t.Errorf("viewer %+v", v.Viewer)
	}

	me, err := client.Me(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if me.Me.Id != srv.TenantID || me.Me.Name != "ACME Corporation" || me.Me.Plan == nil || me.Me.Plan.Id != "professional" ||
		me.Me.Limits == nil || me.Me.Limits.InteractionsPerMonth == nil || me.Me.Usage == nil || me.Me.CreatedAt.IsZero() {
		t.Errorf("me %+v", me.Me)
	}

	q, err := client.Quota(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	st := q.Me.AccountStatus
	if st == nil {
		t.Fatal("accountStatus is null")
	}
	month := client.DateOf(time.Now().UTC())
	month.Day = 1
	if st.Subscription.Plan.Id != "professional" || st.Subscription.Month != month ||
		*st.Subscription.Limits.InteractionsPerMonth != *me.Me.Limits.InteractionsPerMonth ||
		st.Subscription.Usage.InteractionsThisMonth != me.Me.Usage.InteractionsThisMonth ||
		*st.Subscription.Remaining.Interactions != *me.Me.Limits.InteractionsPerMonth-me.Me.Usage.InteractionsThisMonth {
		t.Errorf("quota %+v", st.Subscription)
	}

	t.Run("StatsDefaults", func(t *testing.T) {
		s, err := client.Stats(ctx, c, nil, nil, nil) // nil: left out, the server's defaults
		if err != nil {
			t.Fatal(err)
		}
		if s.Me.Stats == nil || s.Me.Stats.Granularity != client.StatsGranularityDaily ||
			!s.Me.Stats.Period.Start.Equal(month.Time()) || s.Me.Stats.Summary.TotalInteractions != me.Me.Usage.InteractionsThisMonth {
			t.Errorf("stats %+v", s.Me.Stats)
		}
	})
	t.Run("StatsWeekly", func(t *testing.T) {
		start, end := client.Date{Year: 2026, Month: 3, Day: 4}, client.Date{Year: 2026, Month: 3, Day: 17}
		s, err := client.Stats(ctx, c, &start, &end, client.Ptr(client.StatsGranularityWeekly))
		if err != nil {
			t.Fatal(err)
		}
		tr := s.Me.Stats.Trends
		// Wednesday 4 to Tuesday 17 March 2026: the weeks of 2, 9 and 16 March, the first cut by startDate.
		if len(tr) != 3 || tr[0].From != start || tr[1].Date != (client.Date{Year: 2026, Month: 3, Day: 9}) || tr[2].To != end ||
			!s.Me.Stats.Period.End.Equal(time.Date(2026, 3, 17, 23, 59, 59, 0, time.UTC)) {
			t.Errorf("trends %+v, period %+v", tr, s.Me.Stats.Period)
		}
	})
	t.Run("ErrEndBeforeStart", func(t *testing.T) {
		start, end := client.Date{Year: 2026, Month: 3, Day: 17}, client.Date{Year: 2026, Month: 3, Day: 4}
		_, err := client.Stats(ctx, c, &start, &end, nil)
		if client.ErrorCode(err) != "BAD_USER_INPUT" || client.ErrorField(err) != "endDate" {
			t.Errorf("err %v: code %q field %q, want BAD_USER_INPUT endDate", err, client.ErrorCode(err), client.ErrorField(err))
		}
	})
}

// TestRecordUsage: an event recorded twice is counted once; validateOnly
// saves nothing; a bad event is refused naming it; reserveCapacity replays
// by request id.
func TestRecordUsage(t *testing.T) {
	srv := httpapitest.Start(t)
	c := newClient(srv, srv.APIKey)
	ctx := context.Background()
	event := client.UsageEventInput{Id: "evt-1", OccurredAt: time.Now().Add(-time.Minute), UserId: "u-1", Platform: "chatgpt",
		Outcome: client.InteractionOutcomeCoached, RiskLevel: client.RiskLevelHigh, TokenType: client.Ptr("card")}
	record := func(input client.RecordUsageInput) *client.RecordUsagePayload {
		t.Helper()
		r, err := client.RecordUsage(ctx, c, input)
		if err != nil {
			t.Fatal(err)
		}
		return &r.RecordUsage
	}

	dry := record(client.RecordUsageInput{Events: []client.UsageEventInput{event}, ValidateOnly: client.Ptr(true)})
	first := record(client.RecordUsageInput{Events: []client.UsageEventInput{event}})
	again := record(client.RecordUsageInput{Events: []client.UsageEventInput{event}})
	// validateOnly shows the quota as the batch would leave it.
	if !dry.DryRun || dry.Accepted != 1 || dry.Quota.Used != first.Quota.Used {
		t.Errorf("validateOnly %+v, then %+v", dry, first)
	}
	if first.DryRun || first.Accepted != 1 || first.Duplicates != 0 || first.Quota.Plan != "professional" {
		t.Errorf("first %+v", first)
	}
	if again.Accepted != 0 || again.Duplicates != 1 || again.Quota.Used != first.Quota.Used || *again.Quota.Remaining != *first.Quota.Remaining {
		t.Errorf("replayed %+v, want counted once (quota %+v)", again, first.Quota)
	}

	t.Run("ErrTooOld", func(t *testing.T) {
		old := event
		old.Id, old.OccurredAt = "evt-old", time.Now().AddDate(0, 0, -40)
		_, err := client.RecordUsage(ctx, c, client.RecordUsageInput{Events: []client.UsageEventInput{event, old}})
		if client.ErrorCode(err) != "BAD_USER_INPUT" || client.ErrorField(err) != "events[1].occurredAt" {
			t.Errorf("err %v: code %q field %q", err, client.ErrorCode(err), client.ErrorField(err))
		}
	})

	t.Run("ReserveCapacity", func(t *testing.T) {
		in := client.ReserveCapacityInput{Resource: client.CapacityResourcePolicies, Quantity: 2, RequestId: "req-1"}
		r1, err := client.ReserveCapacity(ctx, c, in)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := client.ReserveCapacity(ctx, c, in)
		if err != nil {
			t.Fatal(err)
		}
		if r1.ReserveCapacity.Replayed || !r2.ReserveCapacity.Replayed || r2.ReserveCapacity.Used != r1.ReserveCapacity.Used ||
			r1.ReserveCapacity.Limit == nil || *r1.ReserveCapacity.Remaining != *r1.ReserveCapacity.Limit-r1.ReserveCapacity.Used {
			t.Errorf("first %+v, replay %+v", r1.ReserveCapacity, r2.ReserveCapacity)
		}
	})
}

// TestApiKeys: create a key (its secret works, with only its permissions),
// list it, revoke it (its secret no longer authenticates), and find both
// changes in the event log.
func TestApiKeys(t *testing.T) {
	srv := httpapitest.Start(t)
	c := newClient(srv, srv.APIKey)
	ctx := context.Background()

	expires := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	created, err := client.CreateApiKey(ctx, c, client.CreateApiKeyInput{Name: "ingest", Permissions: []client.Permission{client.PermissionUsageWrite},
		ExpiresAt: &expires})
	if err != nil {
		t.Fatal(err)
	}
	key := created.CreateApiKey.ApiKey
	if key == nil || created.CreateApiKey.Secret == nil || key.Status != client.ApiKeyStatusActive || !key.ExpiresAt.Equal(expires) {
		t.Fatalf("created %+v", created.CreateApiKey)
	}
	ingest := newClient(srv, *created.CreateApiKey.Secret)
	v, err := client.Viewer(ctx, ingest)
	if err != nil || v.Viewer.ApiKeyId == nil || *v.Viewer.ApiKeyId != key.Id || !slices.Equal(v.Viewer.Permissions, []client.Permission{client.PermissionUsageWrite}) {
		t.Fatalf("the new key's viewer %+v, %v", v, err)
	}
	if _, err := client.Me(ctx, ingest); client.ErrorCode(err) != "FORBIDDEN" {
		t.Errorf("me with a USAGE_WRITE key: %v, want FORBIDDEN", err)
	}

	dry, err := client.CreateApiKey(ctx, c, client.CreateApiKeyInput{Name: "dry", Permissions: []client.Permission{client.PermissionEventsRead},
		ValidateOnly: client.Ptr(true)})
	if err != nil || !dry.CreateApiKey.DryRun || dry.CreateApiKey.ApiKey != nil || dry.CreateApiKey.Secret != nil {
		t.Errorf("validateOnly %+v, %v", dry, err)
	}

	page, err := client.ApiKeys(ctx, c, client.Ptr(1), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	keys := page.Me.ApiKeys
	if keys.TotalCount != 2 || len(keys.Nodes) != 1 || keys.Nodes[0].Id != key.Id || !keys.PageInfo.HasNextPage || keys.PageInfo.EndCursor == nil {
		t.Fatalf("first page %+v", keys)
	}
	next, err := client.ApiKeys(ctx, c, client.Ptr(1), keys.PageInfo.EndCursor, nil)
	if err != nil || len(next.Me.ApiKeys.Nodes) != 1 || next.Me.ApiKeys.Nodes[0].Id == key.Id || next.Me.ApiKeys.PageInfo.HasNextPage {
		t.Fatalf("second page %+v, %v", next, err)
	}

	revoked, err := client.RevokeApiKey(ctx, c, client.RevokeApiKeyInput{Id: key.Id})
	if err != nil || revoked.RevokeApiKey.ApiKey.Status != client.ApiKeyStatusRevoked || revoked.RevokeApiKey.ApiKey.RevokedAt == nil {
		t.Fatalf("revoked %+v, %v", revoked, err)
	}
	_, err = client.Viewer(ctx, ingest)
	if _, ok := errors.AsType[*graphql.HTTPError](err); !ok || client.ErrorCode(err) != "UNAUTHENTICATED" {
		t.Errorf("a revoked key: %v (code %q), want HTTP 401 UNAUTHENTICATED", err, client.ErrorCode(err))
	}
	active, err := client.ApiKeys(ctx, c, nil, nil, nil)
	all, err2 := client.ApiKeys(ctx, c, nil, nil, client.Ptr(true))
	if err != nil || err2 != nil || active.Me.ApiKeys.TotalCount != 1 || all.Me.ApiKeys.TotalCount != 2 {
		t.Errorf("active %+v, all %+v (%v, %v)", active, all, err, err2)
	}

	ev, err := client.Events(ctx, c, nil, nil, &client.EventFilter{Types: []client.EventType{client.EventTypeApiKeyCreated, client.EventTypeApiKeyRevoked}})
	if err != nil {
		t.Fatal(err)
	}
	var got []client.EventType
	for _, e := range ev.Me.Events.Nodes {
		if e.Subject != nil && *e.Subject == key.Id {
			got = append(got, e.Type)
		}
	}
	if !slices.Equal(got, []client.EventType{client.EventTypeApiKeyRevoked, client.EventTypeApiKeyCreated}) {
		t.Errorf("the key's events, newest first: %v", got)
	}
	since := time.Now().Add(time.Hour)
	later, err := client.Events(ctx, c, client.Ptr(5), nil, &client.EventFilter{Since: &since})
	if err != nil || len(later.Me.Events.Nodes) != 0 {
		t.Errorf("events since an hour from now: %+v, %v", later, err)
	}
}

// receiver is an https endpoint on loopback (httptest's certificate, which
// the test server trusts) that verifies each delivery with the Standard
// Webhooks library and the secret it is given.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	got    []string // the webhook-id of each verified delivery
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		wh, err := standardwebhooks.NewWebhook(r.secret)
		if err == nil {
			err = wh.Verify(body, req.Header)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.got = append(r.got, req.Header.Get("webhook-id"))
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) setSecret(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secret = s
}

// TestWebhooks: point the webhook at a receiver, whose test delivery
// verifies with the generated secret, then with a rotated one; fields left
// nil stay unchanged; redeliver an event and find it in the delivery log.
func TestWebhooks(t *testing.T) {
	srv := httpapitest.Start(t)
	c := newClient(srv, srv.APIKey)
	ctx := context.Background()
	r := newReceiver(t)

	set, err := client.UpdateNotificationChannels(ctx, c, client.UpdateNotificationChannelsInput{Emails: []string{"ops@acme.fr"},
		Events: []client.NotificationEvent{client.NotificationEventQuotaExceeded}})
	if err != nil {
		t.Fatal(err)
	}
	version := set.UpdateNotificationChannels.NotificationChannels.Version
	// Only the URL: emails and events (nil) are sent as null, the others
	// (nil pointers) left out; both leave the stored values unchanged.
	set, err = client.UpdateNotificationChannels(ctx, c, client.UpdateNotificationChannelsInput{WebhookUrl: client.Ptr(r.srv.URL + "/hooks"),
		ExpectedVersion: &version})
	if err != nil {
		t.Fatal(err)
	}
	nc := set.UpdateNotificationChannels.NotificationChannels
	if set.UpdateNotificationChannels.WebhookSecret == nil || !slices.Equal(nc.Emails, []string{"ops@acme.fr"}) ||
		!slices.Equal(nc.Events, []client.NotificationEvent{client.NotificationEventQuotaExceeded}) || nc.WebhookUrl == nil {
		t.Fatalf("after setting the URL: %+v", set.UpdateNotificationChannels)
	}
	r.setSecret(*set.UpdateNotificationChannels.WebhookSecret)

	read, err := client.NotificationChannels(ctx, c)
	if err != nil || read.Me.NotificationChannels == nil || *read.Me.NotificationChannels.WebhookSecretHint != "whsec_…"+(*set.UpdateNotificationChannels.WebhookSecret)[70-4:] {
		t.Fatalf("channels %+v, %v", read, err)
	}

	test := func() *client.SendTestWebhookPayload {
		t.Helper()
		res, err := client.SendTestWebhook(ctx, c, client.SendTestWebhookInput{})
		if err != nil {
			t.Fatal(err)
		}
		return &res.SendTestWebhook
	}
	if p := test(); !p.Delivered || *p.StatusCode != http.StatusNoContent || r.got[len(r.got)-1] != p.WebhookId {
		t.Fatalf("test delivery %+v (error %v), received %v", p, p.Error, r.got)
	}

	rot, err := client.RotateWebhookSecret(ctx, c, client.RotateWebhookSecretInput{RevokePrevious: client.Ptr(true)})
	if err != nil || rot.RotateWebhookSecret.WebhookSecret == nil {
		t.Fatalf("rotate %+v, %v", rot, err)
	}
	if p := test(); p.Delivered || p.StatusCode == nil || *p.StatusCode != http.StatusBadRequest {
		t.Fatalf("signed with the new secret, verified with the old: %+v", p)
	}
	r.setSecret(*rot.RotateWebhookSecret.WebhookSecret)
	if p := test(); !p.Delivered {
		t.Fatalf("after rotation %+v", p)
	}

	ev, err := client.Events(ctx, c, client.Ptr(1), nil, nil)
	if err != nil || len(ev.Me.Events.Nodes) != 1 {
		t.Fatalf("events %+v, %v", ev, err)
	}
	event := ev.Me.Events.Nodes[0]
	re, err := client.RedeliverEvent(ctx, c, client.RedeliverEventInput{EventId: event.Id})
	if err != nil || re.RedeliverEvent.Delivery.EventId != event.Id || re.RedeliverEvent.Delivery.Status != client.WebhookDeliveryStatusPending {
		t.Fatalf("redeliver %+v, %v", re, err)
	}
	log, err := client.WebhookDeliveries(ctx, c, nil, nil, &client.WebhookDeliveryFilter{Status: client.Ptr(client.WebhookDeliveryStatusPending),
		Channel: client.Ptr(client.DeliveryChannelWebhook)})
	if err != nil || len(log.Me.WebhookDeliveries.Nodes) != 1 || log.Me.WebhookDeliveries.Nodes[0].Id != re.RedeliverEvent.Delivery.Id {
		t.Fatalf("pending deliveries %+v, %v", log, err)
	}
	if _, err := client.RedeliverEvent(ctx, c, client.RedeliverEventInput{EventId: "00000000-0000-7000-8000-000000000000"}); client.ErrorCode(err) != "NOT_FOUND" {
		t.Errorf("an unknown event: %v, want NOT_FOUND", err)
	}
}
