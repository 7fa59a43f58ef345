package httpapi_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	swh "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"tenantapi/egress"
	"tenantapi/httpapi"
	"tenantapi/tenant"
)

// This file checks notification channels and webhook secrets through the
// real server: defaults, partial updates, the secret shown exactly once and
// never stored in clear, deliveries verified by the Standard Webhooks
// reference library (github.com/standard-webhooks/standard-webhooks), secret
// rotation, bad input, validateOnly, permissions and isolation.

// whEnv is a server like newEnv's whose egress client trusts httptest's TLS
// certificate (webhooks reach an https receiver on loopback), over a
// database whose URL it keeps (to dump it), with a clock tests can move.
// It records every response body, to prove where secrets appear.
type whEnv struct {
	*env
	clock *whClock
	rcv   *whReceiver

	mu        sync.Mutex
	responses []string
}

// whClock is the store's clock: real time plus an offset tests may move
// while the server runs.
type whClock struct{ offset atomic.Int64 }

func (c *whClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *whClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// newWhEnv builds the server; allowPrivate false gives it the production
// egress rules (no loopback), so deliveries to the receiver are refused.
func newWhEnv(t *testing.T, allowPrivate bool) *whEnv {
	t.Helper()
	clock := &whClock{}
	rcv := newWhReceiver(t)
	eg := egress.New(egress.Options{AllowPrivate: allowPrivate, Timeout: 5 * time.Second})
	pool := x509.NewCertPool()
	pool.AddCert(rcv.srv.Certificate()) // every httptest TLS server shares it
	eg.HTTP.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: pool}
	e := buildEnv(t, envOptions{now: clock.Now, config: func(c *httpapi.Config) { c.Egress = eg }})
	return &whEnv{env: e, clock: clock, rcv: rcv}
}

// call is gql that records the response body.
func (w *whEnv) call(token, query string, vars map[string]any) *result {
	w.t.Helper()
	r := w.gql(token, query, vars)
	w.mu.Lock()
	w.responses = append(w.responses, string(r.Raw))
	w.mu.Unlock()
	assertNoDriverText(w.t, r)
	return r
}

// whReceiver is an https webhook endpoint on loopback that records the
// deliveries it gets and answers status.
type whReceiver struct {
	srv    *httptest.Server
	status atomic.Int32
	mu     sync.Mutex
	got    []whDelivery
}

type whDelivery struct {
	Header http.Header
	Body   []byte
}

func newWhReceiver(t *testing.T) *whReceiver {
	t.Helper()
	r := &whReceiver{}
	r.status.Store(http.StatusOK)
	r.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, whDelivery{Header: req.Header.Clone(), Body: body})
		r.mu.Unlock()
		w.WriteHeader(int(r.status.Load()))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// URL is the receiver's address with a path naming the tenant, so each
// tenant's deliveries can be told apart.
func (r *whReceiver) URL(tenantID string) string { return r.srv.URL + "/hooks/" + tenantID }

// deliveries returns what tenantID's URL received so far.
func (r *whReceiver) deliveries(tenantID string) []whDelivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []whDelivery
	for _, d := range r.got {
		var ev struct{ Data struct{ TenantID string } }
		if json.Unmarshal(d.Body, &ev) == nil && ev.Data.TenantID == tenantID {
			out = append(out, d)
		}
	}
	return out
}

func (r *whReceiver) last(t *testing.T, tenantID string) whDelivery {
	t.Helper()
	ds := r.deliveries(tenantID)
	if len(ds) == 0 {
		t.Fatalf("the receiver got nothing for tenant %s", tenantID)
	}
	return ds[len(ds)-1]
}

const ncFields = `fragment NC on NotificationChannels { emails webhookUrl events webhookSecretHint webhookSecretCreatedAt previousWebhookSecretExpiresAt version updatedAt updatedBy }`

const (
	qNotifRead   = `query($id: ID!) { tenant(id: $id) { id notificationChannels { ...NC } } } ` + ncFields
	qNotifUpdate = `mutation($in: UpdateNotificationChannelsInput!) { updateNotificationChannels(input: $in) { webhookSecret tenant { id } notificationChannels { ...NC } } } ` + ncFields
	qNotifRotate = `mutation($in: RotateWebhookSecretInput!) { rotateWebhookSecret(input: $in) { webhookSecret tenant { id } notificationChannels { ...NC } } } ` + ncFields
	qNotifTest   = `mutation($in: SendTestWebhookInput!) { sendTestWebhook(input: $in) { delivered statusCode latencyMs error webhookId url } }`
)

// notifChannels is the decoded NotificationChannels.
type notifChannels struct {
	Emails                         []string
	WebhookURL                     *string
	Events                         []string
	WebhookSecretHint              *string
	WebhookSecretCreatedAt         *time.Time
	PreviousWebhookSecretExpiresAt *time.Time
	Version                        int
	UpdatedAt                      *time.Time
	UpdatedBy                      *string
}

// notifPayload is the decoded payload of updateNotificationChannels and
// rotateWebhookSecret.
type notifPayload struct {
	WebhookSecret        *string
	Tenant               struct{ ID string }
	NotificationChannels notifChannels
}

type testWebhookPayload struct {
	Delivered  bool
	StatusCode *int
	LatencyMs  float64
	Error      *string
	WebhookID  string
	URL        string
}

// channels reads a tenant's channels as the operator.
func (w *whEnv) channels(id string) (notifChannels, string) {
	w.t.Helper()
	r := w.call(testAdminSecret, qNotifRead, map[string]any{"id": id})
	var out struct {
		Tenant struct{ NotificationChannels notifChannels }
	}
	r.Decode(w.t, &out)
	return out.Tenant.NotificationChannels, string(r.Data)
}

// update runs updateNotificationChannels on tenantID as the operator.
func (w *whEnv) update(tenantID string, in map[string]any) notifPayload {
	w.t.Helper()
	in["tenantId"] = tenantID
	var out struct{ UpdateNotificationChannels notifPayload }
	w.call(testAdminSecret, qNotifUpdate, map[string]any{"in": in}).Decode(w.t, &out)
	return out.UpdateNotificationChannels
}

// rotate runs rotateWebhookSecret on tenantID as the operator.
func (w *whEnv) rotate(tenantID string, in map[string]any) notifPayload {
	w.t.Helper()
	in["tenantId"] = tenantID
	var out struct{ RotateWebhookSecret notifPayload }
	w.call(testAdminSecret, qNotifRotate, map[string]any{"in": in}).Decode(w.t, &out)
	return out.RotateWebhookSecret
}

// sendTest runs sendTestWebhook on tenantID with token.
func (w *whEnv) sendTest(token, tenantID string) testWebhookPayload {
	w.t.Helper()
	var out struct{ SendTestWebhook testWebhookPayload }
	w.call(token, qNotifTest, map[string]any{"in": map[string]any{"tenantId": tenantID}}).Decode(w.t, &out)
	return out.SendTestWebhook
}

// configured creates a tenant with a webhook pointing at the receiver and
// returns its id and the secret generated for it.
func (w *whEnv) configured(name string) (string, string) {
	w.t.Helper()
	id := w.createTenant(name, randomDomain())
	p := w.update(id, map[string]any{"webhookUrl": w.rcv.URL(id), "emails": []string{"alerts@acme.fr"}, "events": []string{"RISK_ALERT"}})
	if p.WebhookSecret == nil {
		w.t.Fatalf("setting the first webhookUrl generated no secret: %+v", p)
	}
	return id, *p.WebhookSecret
}

var secretFormat = regexp.MustCompile(`^whsec_[0-9a-f]{64}$`)

func checkSecret(t *testing.T, secret *string, hint *string) string {
	t.Helper()
	if secret == nil || !secretFormat.MatchString(*secret) {
		t.Fatalf("webhookSecret = %v, want whsec_ + 64 lower-case hex characters", secret)
	}
	if want := "whsec_…" + (*secret)[len(*secret)-4:]; hint == nil || *hint != want {
		t.Errorf("webhookSecretHint = %v, want %s", hint, want)
	}
	return *secret
}

// verify checks d with the Standard Webhooks library under secret; strict
// also enforces its 5-minute timestamp tolerance.
func verify(d whDelivery, secret string, strict bool) error {
	v, err := swh.NewWebhook(secret)
	if err != nil {
		return err
	}
	if strict {
		return v.Verify(d.Body, d.Header)
	}
	return v.VerifyIgnoringTimestamp(d.Body, d.Header)
}

// TestNotificationChannelsDefaults: a tenant that never configured its
// channels reads the defaults at version 0 with updatedAt and updatedBy
// null, like every configuration object; expectedVersion 0 matches them and
// the first saved change makes version 1.
func TestNotificationChannelsDefaults(t *testing.T) {
	t.Parallel()
	w := newWhEnv(t, true)
	id := w.createTenant("Quiet Co", randomDomain())
	c, raw := w.channels(id)
	if len(c.Emails) != 0 || c.Emails == nil || c.WebhookURL != nil || len(c.Events) != 0 || c.Events == nil ||
		c.WebhookSecretHint != nil || c.WebhookSecretCreatedAt != nil || c.PreviousWebhookSecretExpiresAt != nil {
		t.Errorf("unconfigured channels = %+v, want empty lists and nulls", c)
	}
	if c.Version != 0 || c.UpdatedAt != nil || c.UpdatedBy != nil {
		t.Errorf("version %d, updated %v by %v; want version 0, updatedAt and updatedBy null", c.Version, c.UpdatedAt, c.UpdatedBy)
	}
	if !strings.Contains(raw, `"version":0,"updatedAt":null,"updatedBy":null`) {
		t.Errorf("the defaults should show explicit nulls: %s", raw)
	}
	rows := func() int {
		t.Helper()
		var n int
		if err := w.raw().QueryRow(`SELECT count(*) FROM notification_channels`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("OKEmptyUpdate", func(t *testing.T) {
		p := w.update(id, map[string]any{"expectedVersion": 0})
		if c := p.NotificationChannels; c.Version != 0 || c.UpdatedAt != nil || c.UpdatedBy != nil || p.WebhookSecret != nil {
			t.Errorf("empty update: %+v, want the defaults at version 0", p)
		}
		if n := rows(); n != 0 {
			t.Errorf("an empty update wrote %d notification_channels rows, want none", n)
		}
	})
	t.Run("OKValidateOnly", func(t *testing.T) {
		p := w.update(id, map[string]any{"expectedVersion": 0, "validateOnly": true, "emails": []string{"dry@acme.fr"}})
		if p.NotificationChannels.Version != 1 || len(p.NotificationChannels.Emails) != 1 {
			t.Errorf("validateOnly first change: %+v, want version 1 as it would be", p.NotificationChannels)
		}
		if _, after := w.channels(id); after != raw || rows() != 0 {
			t.Errorf("validateOnly saved something:\n%s\n%s", raw, after)
		}
	})
	for _, op := range []struct {
		name, query string
		in          map[string]any
	}{
		{"Update", qNotifUpdate, map[string]any{"tenantId": id, "emails": []string{"ops@acme.fr"}, "expectedVersion": 1}},
		{"Rotate", qNotifRotate, map[string]any{"tenantId": id, "expectedVersion": 1}},
	} {
		t.Run("ErrStaleVersion"+op.name, func(t *testing.T) {
			r := w.call(testAdminSecret, op.query, map[string]any{"in": op.in})
			if len(r.Errors) != 1 || r.Code() != "CONFLICT" || r.Field() != "expectedVersion" || !strings.Contains(r.Errors[0].Message, "expected version 1, current version 0") {
				t.Fatalf("expectedVersion 1 on the defaults: want CONFLICT on expectedVersion, got %s", r.Raw)
			}
			if _, after := w.channels(id); after != raw || rows() != 0 {
				t.Errorf("a refused change saved something:\n%s\n%s", raw, after)
			}
		})
	}
	t.Run("OKFirstChange", func(t *testing.T) {
		before := time.Now().Add(-time.Minute)
		c := w.update(id, map[string]any{"expectedVersion": 0, "emails": []string{"ops@acme.fr"}}).NotificationChannels
		if c.Version != 1 || c.UpdatedBy == nil || *c.UpdatedBy != "admin" || c.UpdatedAt == nil || c.UpdatedAt.Before(before) {
			t.Errorf("first change: version %d, updated %v by %v; want version 1, now, by admin", c.Version, c.UpdatedAt, c.UpdatedBy)
		}
		if got, _ := w.channels(id); got.Version != 1 || strings.Join(got.Emails, ",") != "ops@acme.fr" {
			t.Errorf("after the first change: %+v", got)
		}
		if n := rows(); n != 1 {
			t.Errorf("notification_channels rows = %d, want 1", n)
		}
	})
}

// TestNotificationChannelsUpdate follows one tenant's channels through
// partial updates made with its own key.
func TestNotificationChannelsUpdate(t *testing.T) {
	t.Parallel()
	w := newWhEnv(t, true)
	id := w.createTenant("Busy Co", randomDomain())
	key, keyID := w.createKeyWithID(id, "TENANT_READ", "NOTIFICATION_CHANNELS_READ", "NOTIFICATION_CHANNELS_UPDATE")
	upd := func(in map[string]any) notifPayload {
		t.Helper()
		var out struct{ UpdateNotificationChannels notifPayload }
		w.call(key, qNotifUpdate, map[string]any{"in": in}).Decode(t, &out)
		if out.UpdateNotificationChannels.Tenant.ID != id {
			t.Fatalf("updated tenant %s, want the key's own %s", out.UpdateNotificationChannels.Tenant.ID, id)
		}
		return out.UpdateNotificationChannels
	}

	p := upd(map[string]any{"emails": []string{"Alerts@Acme.FR", " ops@acme.fr ", "alerts@acme.fr"}, "events": []string{"RISK_ALERT", "SCREENING_COMPLETED", "RISK_ALERT"}})
	c := p.NotificationChannels
	if strings.Join(c.Emails, ",") != "Alerts@acme.fr,ops@acme.fr" || strings.Join(c.Events, ",") != "RISK_ALERT,SCREENING_COMPLETED" {
		t.Errorf("emails %v, events %v: want trimmed, domains lower-cased, duplicates removed, order kept", c.Emails, c.Events)
	}
	if p.WebhookSecret != nil || c.WebhookSecretHint != nil || c.WebhookURL != nil {
		t.Errorf("no webhook yet, but %+v", p)
	}
	if c.Version != 1 || c.UpdatedBy == nil || *c.UpdatedBy != "key:"+keyID || c.UpdatedAt == nil {
		t.Errorf("version %d at %v by %v, want 1 now by key:%s", c.Version, c.UpdatedAt, c.UpdatedBy, keyID)
	}

	url := w.rcv.URL(id)
	p = upd(map[string]any{"webhookUrl": url})
	secret := checkSecret(t, p.WebhookSecret, p.NotificationChannels.WebhookSecretHint)
	c = p.NotificationChannels
	if c.WebhookURL == nil || *c.WebhookURL != url || c.WebhookSecretCreatedAt == nil || len(c.Emails) != 2 || len(c.Events) != 2 || c.Version != 2 {
		t.Errorf("after setting the URL: %+v", c)
	}
	hint := *c.WebhookSecretHint

	p = upd(map[string]any{"events": []string{}})
	if p.WebhookSecret != nil || *p.NotificationChannels.WebhookSecretHint != hint || len(p.NotificationChannels.Events) != 0 || len(p.NotificationChannels.Emails) != 2 {
		t.Errorf("clearing events: %+v", p)
	}

	p = upd(map[string]any{"webhookUrl": ""})
	if p.NotificationChannels.WebhookURL != nil || p.NotificationChannels.WebhookSecretHint == nil || *p.NotificationChannels.WebhookSecretHint != hint {
		t.Errorf(`webhookUrl "" should remove the URL and keep the secret: %+v`, p.NotificationChannels)
	}
	p = upd(map[string]any{"webhookUrl": strings.ToUpper(url[:8]) + url[8:]})
	if p.WebhookSecret != nil || *p.NotificationChannels.WebhookURL != url {
		t.Errorf("setting the URL again: no new secret and a lower-cased scheme expected: %+v", p)
	}
	if res := w.sendTest(key, id); !res.Delivered {
		t.Fatalf("sendTestWebhook: %+v", res)
	}
	if err := verify(w.rcv.last(t, id), secret, true); err != nil {
		t.Errorf("the generated secret does not verify: %v", err)
	}

	own := "whsec_" + strings.Repeat("0123456789abcdef", 4)
	p = upd(map[string]any{"webhookSecret": own})
	if p.WebhookSecret != nil || *p.NotificationChannels.WebhookSecretHint != "whsec_…cdef" {
		t.Errorf("a given secret is not returned, and its hint is whsec_…cdef: %+v", p)
	}
	if res := w.sendTest(key, id); !res.Delivered {
		t.Fatalf("sendTestWebhook: %+v", res)
	}
	d := w.rcv.last(t, id)
	if err := verify(d, own, true); err != nil {
		t.Errorf("the given secret does not verify: %v", err)
	}
	if err := verify(d, secret, false); !errors.Is(err, swh.ErrNoMatchingSignature) {
		t.Errorf("the replaced secret still verifies (%v): a given secret replaces it at once", err)
	}

	var me struct {
		Me struct{ NotificationChannels notifChannels }
	}
	w.mustGQL(key, `{ me { notificationChannels { ...NC } } } `+ncFields, nil, &me)
	if me.Me.NotificationChannels.Version != 6 || *me.Me.NotificationChannels.WebhookSecretHint != "whsec_…cdef" {
		t.Errorf("me.notificationChannels = %+v", me.Me.NotificationChannels)
	}
}

// TestWebhookSecretShownOnce reads the channels every way there is after
// the secret was created and rotated: each secret appears in exactly one
// response, the one that created it, and nowhere in the database in clear.
func TestWebhookSecretShownOnce(t *testing.T) {
	t.Parallel()
	w := newWhEnv(t, true)
	id, first := w.configured("Secretive Co")
	key := w.createKey(id, "TENANT_READ", "NOTIFICATION_CHANNELS_READ", "NOTIFICATION_CHANNELS_UPDATE")
	own := "whsec_" + strings.Repeat("fedcba9876543210", 4)
	other := w.createTenant("Given Co", randomDomain())
	w.update(other, map[string]any{"webhookSecret": own, "webhookUrl": w.rcv.URL(other)})

	rotated := w.rotate(id, map[string]any{})
	second := checkSecret(t, rotated.WebhookSecret, rotated.NotificationChannels.WebhookSecretHint)
	w.call(key, `{ me { notificationChannels { ...NC } } } `+ncFields, nil)
	w.call(testAdminSecret, `{ tenants(first: 100) { nodes { id notificationChannels { ...NC } } } } `+ncFields, nil)
	w.call(key, qNotifUpdate, map[string]any{"in": map[string]any{"emails": []string{"sec@acme.fr"}}})
	w.call(key, qNotifRotate, map[string]any{"in": map[string]any{"validateOnly": true}})
	w.call(key, qNotifTest, map[string]any{"in": map[string]any{}})
	w.call(key, qNotifUpdate, map[string]any{"in": map[string]any{"webhookSecret": "whsec_" + strings.Repeat("A", 64)}})

	w.mu.Lock()
	all := strings.Join(w.responses, "\n")
	w.mu.Unlock()
	for name, s := range map[string]string{"generated": first, "rotated": second} {
		if n := strings.Count(all, s[len("whsec_"):]); n != 1 {
			t.Errorf("the %s secret appears in %d responses, want exactly 1 (its creation)", name, n)
		}
	}
	if strings.Contains(all, own[len("whsec_"):]) {
		t.Error("a given secret appears in a response")
	}

	dump := dumpTables(t, w.raw().DB)
	if !strings.Contains(dump, w.rcv.URL(id)) {
		t.Fatalf("the dump does not hold the webhook URL: it missed notification_channels")
	}
	for name, s := range map[string]string{"generated": first, "rotated": second, "given": own} {
		if strings.Contains(dump, s[len("whsec_"):]) || strings.Contains(dump, s[len("whsec_"):len("whsec_")+16]) {
			t.Errorf("the %s secret is in the database in clear", name)
		}
	}
}

// TestSendTestWebhook delivers the test event to an https receiver and
// verifies it with the Standard Webhooks library, which must refuse a
// tampered body and a timestamp older than 5 minutes.
func TestSendTestWebhook(t *testing.T) {
	t.Parallel()
	w := newWhEnv(t, true)
	id, secret := w.configured("Hooked Co")
	key := w.createKey(id, "NOTIFICATION_CHANNELS_UPDATE")

	res := w.sendTest(key, id)
	if !res.Delivered || res.StatusCode == nil || *res.StatusCode != 200 || res.Error != nil || res.LatencyMs <= 0 || res.URL != w.rcv.URL(id) {
		t.Fatalf("sendTestWebhook = %+v, want delivered with 200", res)
	}
	d := w.rcv.last(t, id)
	if d.Header.Get("webhook-id") != res.WebhookID || !regexp.MustCompile(`^msg_[0-9a-f]{32}$`).MatchString(res.WebhookID) {
		t.Errorf("webhook-id header %q, payload %q", d.Header.Get("webhook-id"), res.WebhookID)
	}
	if ts := d.Header.Get("webhook-timestamp"); !regexp.MustCompile(`^[0-9]{10}$`).MatchString(ts) {
		t.Errorf("webhook-timestamp = %q, want Unix seconds", ts)
	}
	var ev struct {
		Type      string
		Timestamp time.Time
		Data      map[string]any
	}
	if err := json.Unmarshal(d.Body, &ev); err != nil || ev.Type != "webhook.test" || ev.Data["tenantId"] != id || len(ev.Data) != 1 ||
		time.Since(ev.Timestamp) > time.Minute {
		t.Errorf("body %s (%v): want {type: webhook.test, timestamp: now, data: {tenantId}}", d.Body, err)
	}
	if err := verify(d, secret, true); err != nil {
		t.Fatalf("the Standard Webhooks verifier refuses our delivery: %v", err)
	}

	t.Run("ErrTamperedBody", func(t *testing.T) {
		tampered := whDelivery{Header: d.Header, Body: []byte(strings.Replace(string(d.Body), id, randomUUID(), 1))}
		if err := verify(tampered, secret, true); !errors.Is(err, swh.ErrNoMatchingSignature) {
			t.Errorf("tampered body: %v, want ErrNoMatchingSignature", err)
		}
	})
	t.Run("ErrStaleTimestamp", func(t *testing.T) {
		w.clock.Advance(-6 * time.Minute)
		res := w.sendTest(key, id)
		w.clock.Advance(6 * time.Minute)
		stale := w.rcv.last(t, id)
		if stale.Header.Get("webhook-id") != res.WebhookID {
			t.Fatal("not the stale delivery")
		}
		if err := verify(stale, secret, true); !errors.Is(err, swh.ErrMessageTooOld) {
			t.Errorf("a delivery 6 minutes old: %v, want ErrMessageTooOld", err)
		}
		if err := verify(stale, secret, false); err != nil {
			t.Errorf("its signature itself should match: %v", err)
		}
	})
	t.Run("ErrEndpointFails", func(t *testing.T) {
		w.rcv.status.Store(http.StatusServiceUnavailable)
		defer w.rcv.status.Store(http.StatusOK)
		res := w.sendTest(key, id)
		if res.Delivered || res.StatusCode == nil || *res.StatusCode != 503 || res.Error == nil || !strings.Contains(*res.Error, "HTTP 503") {
			t.Errorf("sendTestWebhook to a failing endpoint = %+v, want not delivered, 503", res)
		}
	})
	t.Run("ErrNoWebhookURL", func(t *testing.T) {
		bare := w.createTenant("Bare Co", randomDomain())
		r := w.call(testAdminSecret, qNotifTest, map[string]any{"in": map[string]any{"tenantId": bare}})
		if r.Code() != "BAD_USER_INPUT" || r.Field() != "webhookUrl" || !strings.Contains(r.Errors[0].Message, "webhookUrl") {
			t.Errorf("want BAD_USER_INPUT naming webhookUrl, got %s", r.Raw)
		}
		if len(w.rcv.deliveries(bare)) != 0 {
			t.Error("something was delivered")
		}
	})
}

// TestSendTestWebhookPrivateAddressRefused uses the production egress
// rules: the receiver on loopback is refused before any connection.
func TestSendTestWebhookPrivateAddressRefused(t *testing.T) {
	t.Parallel()
	w := newWhEnv(t, false)
	id, _ := w.configured("Local Co")
	res := w.sendTest(testAdminSecret, id)
	if res.Delivered || res.StatusCode != nil || res.Error == nil || !strings.Contains(*res.Error, "private, loopback or link-local") {
		t.Errorf("sendTestWebhook to loopback = %+v, want refused", res)
	}
	if len(w.rcv.deliveries(id)) != 0 {
		t.Error("the loopback receiver got a delivery")
	}
}

// TestRotateWebhookSecret rotates with and without a grace period.
func TestRotateWebhookSecret(t *testing.T) {
	t.Parallel()
	w := newWhEnv(t, true)
	id, first := w.configured("Rotating Co")
	before, _ := w.channels(id)

	p := w.rotate(id, map[string]any{})
	second := checkSecret(t, p.WebhookSecret, p.NotificationChannels.WebhookSecretHint)
	c := p.NotificationChannels
	if second == first || c.Version != before.Version+1 || c.PreviousWebhookSecretExpiresAt == nil ||
		c.PreviousWebhookSecretExpiresAt.Sub(c.WebhookSecretCreatedAt.Add(24*time.Hour)).Abs() > time.Second {
		t.Errorf("after rotation: %+v, want a new secret and the old one valid for 24 hours", c)
	}

	w.sendTest(testAdminSecret, id)
	d := w.rcv.last(t, id)
	if n := len(strings.Fields(d.Header.Get("webhook-signature"))); n != 2 {
		t.Errorf("during the grace period: %d signatures, want 2", n)
	}
	for name, s := range map[string]string{"new": second, "previous": first} {
		if err := verify(d, s, true); err != nil {
			t.Errorf("during the grace period the %s secret should verify: %v", name, err)
		}
	}

	t.Run("GraceEnds", func(t *testing.T) {
		w.clock.Advance(25 * time.Hour)
		defer w.clock.Advance(-25 * time.Hour)
		if c, _ := w.channels(id); c.PreviousWebhookSecretExpiresAt != nil {
			t.Errorf("previousWebhookSecretExpiresAt = %v after it passed, want null", c.PreviousWebhookSecretExpiresAt)
		}
		w.sendTest(testAdminSecret, id)
		d := w.rcv.last(t, id)
		// The clock is 25 hours ahead, so only signatures are compared.
		if err := verify(d, second, false); err != nil {
			t.Errorf("the new secret should verify: %v", err)
		}
		if err := verify(d, first, false); !errors.Is(err, swh.ErrNoMatchingSignature) {
			t.Errorf("after the grace period the previous secret verifies (%v)", err)
		}
	})

	t.Run("RevokePrevious", func(t *testing.T) {
		p := w.rotate(id, map[string]any{"revokePrevious": true})
		third := checkSecret(t, p.WebhookSecret, p.NotificationChannels.WebhookSecretHint)
		if p.NotificationChannels.PreviousWebhookSecretExpiresAt != nil {
			t.Errorf("previousWebhookSecretExpiresAt = %v with revokePrevious", p.NotificationChannels.PreviousWebhookSecretExpiresAt)
		}
		w.sendTest(testAdminSecret, id)
		d := w.rcv.last(t, id)
		if err := verify(d, third, true); err != nil {
			t.Errorf("the new secret should verify: %v", err)
		}
		for name, s := range map[string]string{"first": first, "second": second} {
			if err := verify(d, s, true); !errors.Is(err, swh.ErrNoMatchingSignature) {
				t.Errorf("the %s secret still verifies new deliveries (%v)", name, err)
			}
		}
	})

	t.Run("ErrStaleVersion", func(t *testing.T) {
		cur, raw := w.channels(id)
		r := w.call(testAdminSecret, qNotifRotate, map[string]any{"in": map[string]any{"tenantId": id, "expectedVersion": cur.Version - 1}})
		if r.Code() != "CONFLICT" || r.Field() != "expectedVersion" || !strings.Contains(r.Errors[0].Message, fmt.Sprintf("current version %d", cur.Version)) {
			t.Errorf("stale expectedVersion: %s", r.Raw)
		}
		if _, after := w.channels(id); after != raw {
			t.Errorf("a refused rotation changed the channels:\n%s\n%s", raw, after)
		}
		if p := w.rotate(id, map[string]any{"expectedVersion": cur.Version}); p.WebhookSecret == nil {
			t.Error("rotation with the current version refused")
		}
	})

	t.Run("FirstSecret", func(t *testing.T) {
		bare := w.createTenant("Fresh Co", randomDomain())
		p := w.rotate(bare, map[string]any{})
		checkSecret(t, p.WebhookSecret, p.NotificationChannels.WebhookSecretHint)
		if p.NotificationChannels.PreviousWebhookSecretExpiresAt != nil || p.NotificationChannels.Version != 1 {
			t.Errorf("first secret: %+v", p.NotificationChannels)
		}
		// Setting a URL afterwards generates nothing: a secret exists.
		if q := w.update(bare, map[string]any{"webhookUrl": w.rcv.URL(bare)}); q.WebhookSecret != nil {
			t.Error("a second secret was generated")
		}
	})
}

// TestNotificationChannelsValidateOnly: the same errors, nothing saved, no
// secret generated or returned.
func TestNotificationChannelsValidateOnly(t *testing.T) {
	t.Parallel()
	w := newWhEnv(t, true)
	bare := w.createTenant("Dry Co", randomDomain())
	_, rawBefore := w.channels(bare)
	p := w.update(bare, map[string]any{"validateOnly": true, "webhookUrl": w.rcv.URL(bare), "emails": []string{"dry@acme.fr"}, "events": []string{"INVOICE_ISSUED"}})
	c := p.NotificationChannels
	if p.WebhookSecret != nil || c.WebhookSecretHint != nil || c.WebhookURL == nil || len(c.Emails) != 1 || len(c.Events) != 1 || c.Version != 1 {
		t.Errorf("validateOnly payload = %+v, want the channels as they would be, without a secret", p)
	}
	if _, after := w.channels(bare); after != rawBefore {
		t.Errorf("validateOnly saved something:\n%s\n%s", rawBefore, after)
	}
	if r := w.call(testAdminSecret, qNotifTest, map[string]any{"in": map[string]any{"tenantId": bare}}); r.Field() != "webhookUrl" {
		t.Errorf("after a validateOnly update, sendTestWebhook: %s", r.Raw)
	}

	id, secret := w.configured("Wet Co")
	_, raw := w.channels(id)
	if p := w.rotate(id, map[string]any{"validateOnly": true, "revokePrevious": true}); p.WebhookSecret != nil {
		t.Errorf("rotateWebhookSecret with validateOnly returned a secret")
	}
	if p := w.update(id, map[string]any{"validateOnly": true, "webhookSecret": "whsec_" + strings.Repeat("ab", 32), "webhookUrl": ""}); p.WebhookSecret != nil || p.NotificationChannels.WebhookURL != nil {
		t.Errorf("validateOnly update payload: %+v", p)
	}
	if _, after := w.channels(id); after != raw {
		t.Errorf("validateOnly saved something:\n%s\n%s", raw, after)
	}
	w.sendTest(testAdminSecret, id)
	d := w.rcv.last(t, id)
	if err := verify(d, secret, true); err != nil || len(strings.Fields(d.Header.Get("webhook-signature"))) != 1 {
		t.Errorf("deliveries should still be signed with the one original secret: %v, %q", err, d.Header.Get("webhook-signature"))
	}
	r := w.call(testAdminSecret, qNotifRotate, map[string]any{"in": map[string]any{"tenantId": id, "validateOnly": true, "expectedVersion": 99}})
	if r.Code() != "CONFLICT" || r.Field() != "expectedVersion" {
		t.Errorf("validateOnly rotation with a stale version: %s", r.Raw)
	}
}

// TestNotificationChannelsBadInput: every rule refuses with BAD_USER_INPUT
// (or CONFLICT) naming the field, with validateOnly too, and saves nothing.
// Secrets given are never echoed.
func TestNotificationChannelsBadInput(t *testing.T) {
	t.Parallel()
	w := newWhEnv(t, true)
	id, _ := w.configured("Strict Co")
	cur, _ := w.channels(id)
	emails := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("user%d@acme.fr", i)
		}
		return out
	}
	badSecrets := map[string]string{
		"ErrSecretUpperCase":  "whsec_" + strings.Repeat("ABCDEF0123456789", 4),
		"ErrSecretShort":      "whsec_" + strings.Repeat("ab", 31),
		"ErrSecretNoPrefix":   strings.Repeat("ab", 32),
		"ErrSecretBase64":     "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"ErrSecretWhitespace": " whsec_" + strings.Repeat("ab", 32),
	}
	cases := []struct {
		name    string
		in      map[string]any
		code    string
		field   string
		message string
	}{
		{"ErrEmailNotAnAddress", map[string]any{"emails": []string{"ops@acme.fr", "not-an-email"}}, "BAD_USER_INPUT", "emails[1]", `emails[1] must be a plain email address such as alerts@acme.fr (no display name, at most 254 characters), got "not-an-email"`},
		{"ErrEmailDisplayName", map[string]any{"emails": []string{"Ops <ops@acme.fr>"}}, "BAD_USER_INPUT", "emails[0]", "plain email address"},
		{"ErrEmailSingleLabelDomain", map[string]any{"emails": []string{"ops@localhost"}}, "BAD_USER_INPUT", "emails[0]", "plain email address"},
		{"ErrEmailTooLong", map[string]any{"emails": []string{strings.Repeat("a", 64) + "@" + strings.Repeat("b", 62) + "." + strings.Repeat("c", 62) + "." + strings.Repeat("d", 62) + ".fr"}}, "BAD_USER_INPUT", "emails[0]", "at most 254 characters"},
		{"ErrTooManyEmails", map[string]any{"emails": emails(21)}, "BAD_USER_INPUT", "emails", "emails holds at most 20 distinct addresses, got 21"},
		{"ErrHTTPURL", map[string]any{"webhookUrl": "http://hooks.acme.fr/kyc"}, "BAD_USER_INPUT", "webhookUrl", "only https is allowed"},
		{"ErrURLNotAbsolute", map[string]any{"webhookUrl": "hooks.acme.fr/kyc"}, "BAD_USER_INPUT", "webhookUrl", "not an absolute URL"},
		{"ErrURLFragment", map[string]any{"webhookUrl": "https://hooks.acme.fr/kyc#top"}, "BAD_USER_INPUT", "webhookUrl", "no #fragment"},
		{"ErrURLSingleLabelHost", map[string]any{"webhookUrl": "https://localhost/kyc"}, "BAD_USER_INPUT", "webhookUrl", "DNS name with at least two labels"},
		{"ErrURLBadPort", map[string]any{"webhookUrl": "https://hooks.acme.fr:0/kyc"}, "BAD_USER_INPUT", "webhookUrl", "port"},
		{"ErrURLTooLong", map[string]any{"webhookUrl": "https://hooks.acme.fr/" + strings.Repeat("a", 2030)}, "BAD_USER_INPUT", "webhookUrl", "at most 2048 characters, got 2052"},
		{"ErrStaleVersion", map[string]any{"emails": []string{}, "expectedVersion": cur.Version - 1}, "CONFLICT", "expectedVersion", fmt.Sprintf("expected version %d, current version %d", cur.Version-1, cur.Version)},
		{"ErrMalformedTenantID", map[string]any{"emails": []string{"ops@acme.fr"}, "tenantId": "not-a-uuid"}, "NOT_FOUND", "", "tenant not found"},
	}
	for name, s := range badSecrets {
		cases = append(cases, struct {
			name    string
			in      map[string]any
			code    string
			field   string
			message string
		}{name, map[string]any{"webhookSecret": s}, "BAD_USER_INPUT", "webhookSecret", "webhookSecret must be whsec_ followed by 64 lower-case hexadecimal characters"})
	}
	for _, c := range cases {
		for _, dry := range []bool{false, true} {
			name := c.name
			if dry {
				name += "/validateOnly"
			}
			t.Run(name, func(t *testing.T) {
				_, before := w.channels(id)
				in := map[string]any{"tenantId": id, "validateOnly": dry}
				for k, v := range c.in {
					in[k] = v
				}
				r := w.call(testAdminSecret, qNotifUpdate, map[string]any{"in": in})
				if len(r.Errors) != 1 || r.Code() != c.code || r.Field() != c.field || !strings.Contains(r.Errors[0].Message, c.message) {
					t.Fatalf("want %s on %q containing %q, got %s", c.code, c.field, c.message, r.Raw)
				}
				if s, ok := c.in["webhookSecret"].(string); ok && strings.Contains(string(r.Raw), strings.TrimSpace(s)) {
					t.Errorf("the refused secret is echoed: %s", r.Raw)
				}
				if _, after := w.channels(id); after != before {
					t.Errorf("a refused update changed the channels:\n%s\n%s", before, after)
				}
			})
		}
	}
	t.Run("ErrURLCredentialsNotEchoed", func(t *testing.T) {
		r := w.call(testAdminSecret, qNotifUpdate, map[string]any{"in": map[string]any{"tenantId": id, "webhookUrl": "https://user:hunter2@hooks.acme.fr/kyc"}})
		if r.Code() != "BAD_USER_INPUT" || r.Field() != "webhookUrl" || strings.Contains(string(r.Raw), "hunter2") {
			t.Errorf("want BAD_USER_INPUT on webhookUrl without the password, got %s", r.Raw)
		}
	})
	t.Run("ErrUnknownEvent", func(t *testing.T) {
		_, before := w.channels(id)
		r := w.call(testAdminSecret, qNotifUpdate, map[string]any{"in": map[string]any{"tenantId": id, "events": []string{"RISK_ALERT", "NOT_AN_EVENT"}}})
		if len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, "NOT_AN_EVENT") || !strings.Contains(r.Errors[0].Message, "NotificationEvent") {
			t.Errorf("want one error naming the value and the enum, got %s", r.Raw)
		}
		if _, after := w.channels(id); after != before {
			t.Errorf("a refused update changed the channels")
		}
	})
	t.Run("OKBoundaries", func(t *testing.T) {
		url := "https://203.0.113.7:8443/" + strings.Repeat("a", 2048-len("https://203.0.113.7:8443/"))
		p := w.update(id, map[string]any{"emails": append(emails(20), "USER0@ACME.FR"), "webhookUrl": url,
			"events": []string{"SCREENING_COMPLETED", "WEB_VALIDATION_COMPLETED", "RISK_ALERT", "WATCHLIST_MATCH", "WATCHLIST_SEATS_LOW", "CREDITS_LOW", "QUOTA_EXCEEDED", "SUBSCRIPTION_CHANGED", "INVOICE_ISSUED"}})
		if len(p.NotificationChannels.Emails) != 20 || *p.NotificationChannels.WebhookURL != url || len(p.NotificationChannels.Events) != 9 {
			t.Errorf("boundary values refused or altered: %+v", p.NotificationChannels)
		}
	})
}

// notifOps are the operations of this part, each acting on a tenant.
var notifOps = []struct {
	name  string
	query string
	in    func(w *whEnv, tenantID string) map[string]any
	path  string // where a refusal lands
}{
	{"Tenant.notificationChannels", `query($in: ID!) { tenant(id: $in) { id name notificationChannels { version emails } } }`,
		func(_ *whEnv, id string) map[string]any { return map[string]any{"in": id} }, "tenant.notificationChannels"},
	{"updateNotificationChannels", qNotifUpdate, func(_ *whEnv, id string) map[string]any {
		return map[string]any{"in": map[string]any{"tenantId": id, "emails": []string{"changed@acme.fr"}}}
	}, "updateNotificationChannels"},
	{"rotateWebhookSecret", qNotifRotate, func(_ *whEnv, id string) map[string]any {
		return map[string]any{"in": map[string]any{"tenantId": id}}
	}, "rotateWebhookSecret"},
	{"sendTestWebhook", qNotifTest, func(_ *whEnv, id string) map[string]any {
		return map[string]any{"in": map[string]any{"tenantId": id}}
	}, "sendTestWebhook"},
}

// TestNotificationPermissions: every operation against each kind of
// credential. Refusals change nothing and deliver nothing.
func TestNotificationPermissions(t *testing.T) {
	t.Parallel()
	w := newWhEnv(t, true)
	ownID, _ := w.configured("Own Co")
	otherID, _ := w.configured("Other Co")
	type cred struct {
		label string
		perms []string // nil: anonymous; "admin": the admin secret
	}
	creds := []cred{
		{"anonymous", nil},
		{"TENANT_READ", []string{"TENANT_READ"}},
		{"READ", []string{"TENANT_READ", "NOTIFICATION_CHANNELS_READ"}},
		{"UPDATE", []string{"TENANT_READ", "NOTIFICATION_CHANNELS_UPDATE"}},
		{"READ+UPDATE", []string{"TENANT_READ", "NOTIFICATION_CHANNELS_READ", "NOTIFICATION_CHANNELS_UPDATE"}},
		{"MANAGE+READ+UPDATE", []string{"TENANT_MANAGE", "TENANT_READ", "NOTIFICATION_CHANNELS_READ", "NOTIFICATION_CHANNELS_UPDATE"}},
		{"admin", []string{"admin"}},
	}
	tokens := map[string]string{"anonymous": "", "admin": testAdminSecret}
	for _, c := range creds[1 : len(creds)-1] {
		tokens[c.label] = w.createKey(ownID, c.perms...)
	}
	has := func(c cred, p string) bool {
		for _, q := range c.perms {
			if q == p || q == "admin" {
				return true
			}
		}
		return false
	}
	for _, op := range notifOps {
		needs := "NOTIFICATION_CHANNELS_UPDATE"
		if op.name == "Tenant.notificationChannels" {
			needs = "NOTIFICATION_CHANNELS_READ"
		}
		for _, c := range creds {
			for _, target := range []string{"own", "other"} {
				if c.label == "admin" && target == "own" {
					continue // the admin secret has no tenant of its own
				}
				tenantID := ownID
				if target == "other" {
					tenantID = otherID
				}
				read := op.name == "Tenant.notificationChannels"
				foreign := target == "other" && !has(c, "TENANT_MANAGE")
				var want string
				switch {
				case c.perms == nil:
					want = "UNAUTHENTICATED"
				case read && foreign: // tenant(id:) itself is not found
					want = "NOT_FOUND"
				case !has(c, needs):
					want = "FORBIDDEN"
				case foreign:
					want = "NOT_FOUND"
				}
				wantPath := op.path
				if read && want != "FORBIDDEN" {
					wantPath = "tenant"
				}
				name := fmt.Sprintf("%s/%s/%s/", op.name, c.label, target)
				switch want {
				case "":
					name += "OK"
				case "UNAUTHENTICATED":
					name += "ErrUnauthenticated"
				case "FORBIDDEN":
					name += "ErrForbidden"
				case "NOT_FOUND":
					name += "ErrNotFound"
				}
				t.Run(name, func(t *testing.T) {
					_, before := w.channels(tenantID)
					sent := len(w.rcv.deliveries(tenantID))
					r := w.call(tokens[c.label], op.query, op.in(w, tenantID))
					if want == "" {
						if len(r.Errors) > 0 {
							t.Fatalf("unexpected errors: %s", r.Raw)
						}
						if op.name == "Tenant.notificationChannels" && dataAt(t, r, "tenant.notificationChannels.version") == nil {
							t.Errorf("no channels: %s", r.Raw)
						}
						if op.name == "sendTestWebhook" && dataAt(t, r, "sendTestWebhook.delivered") != true {
							t.Errorf("not delivered: %s", r.Raw)
						}
						return
					}
					if len(r.Errors) != 1 || r.Code() != want {
						t.Fatalf("want one %s error, got %s", want, r.Raw)
					}
					if path := pathString(r.Errors[0].Path); path != wantPath {
						t.Errorf("error at %s, want %s", path, wantPath)
					}
					if want == "FORBIDDEN" {
						if !strings.Contains(r.Errors[0].Message, needs) {
							t.Errorf("message %q does not name %s", r.Errors[0].Message, needs)
						}
						if read && dataAt(t, r, "tenant.name") != "Own Co" {
							t.Errorf("the rest of the tenant should still arrive: %s", r.Raw)
						}
					}
					if _, after := w.channels(tenantID); after != before {
						t.Errorf("a refused %s changed the channels", op.name)
					}
					if len(w.rcv.deliveries(tenantID)) != sent {
						t.Errorf("a refused %s delivered a webhook", op.name)
					}
				})
			}
		}
	}
}

// TestNotificationIsolation uses tenant A's key, holding every permission
// but TENANT_MANAGE, on tenant B: each operation answers exactly like a
// missing id, B is unchanged and gets no delivery.
func TestNotificationIsolation(t *testing.T) {
	t.Parallel()
	w := newWhEnv(t, true)
	a, _ := w.configured("Alpha")
	b, _ := w.configured("Beta")
	aKey := w.createKey(a, enumNames(tenant.TenantPermissions())...)
	_, beforeB := w.channels(b)
	for _, op := range notifOps {
		t.Run(op.name+"/ErrNotFound", func(t *testing.T) {
			got := w.call(aKey, op.query, op.in(w, b))
			if got.Code() != "NOT_FOUND" || len(got.Errors) != 1 {
				t.Fatalf("B's id: want one NOT_FOUND error, got %s", got.Raw)
			}
			sameResponse(t, got, w.call(aKey, op.query, op.in(w, randomUUID())))
		})
		t.Run(op.name+"/OwnTenantOK", func(t *testing.T) {
			if r := w.call(aKey, op.query, op.in(w, a)); len(r.Errors) > 0 {
				t.Errorf("on its own tenant: %s", r.Raw)
			}
		})
	}
	if _, after := w.channels(b); after != beforeB {
		t.Errorf("tenant B changed:\nbefore %s\nafter  %s", beforeB, after)
	}
	if n := len(w.rcv.deliveries(b)); n != 0 {
		t.Errorf("tenant B's webhook got %d deliveries", n)
	}
}

// notificationPermissionCases are this part's rows of the shared
// permission table (TestPermissions, TestPermissionsCoverSchema).
func notificationPermissionCases() []permCase {
	update := func(f *fixture) map[string]any {
		return f.input(map[string]any{"emails": []string{"perm@acme.fr"}, "events": []string{"CREDITS_LOW"}})
	}
	rotate := func(f *fixture) map[string]any { return f.input(map[string]any{}) }
	// The target gets a webhook URL first; nothing listens on port 9, so
	// the test delivery fails, which sendTestWebhook reports in its payload.
	withURL := func(e *env, f *fixture) {
		e.mustGQL(testAdminSecret, qNotifUpdate, map[string]any{"in": map[string]any{"tenantId": f.target, "webhookUrl": "https://127.0.0.1:9/hooks"}}, nil)
	}
	var cases []permCase
	for _, m := range []struct {
		op     string
		query  string
		vars   varsFunc
		prep   func(*env, *fixture)
		check  checkFunc
		tenant bool // whether the payload has the tenant
	}{
		{"updateNotificationChannels", qNotifUpdate, update, nil, wantAll(
			wantAt("updateNotificationChannels.notificationChannels.emails", value([]any{"perm@acme.fr"})),
			wantAt("updateNotificationChannels.webhookSecret", value(nil))), true},
		{"rotateWebhookSecret", qNotifRotate, rotate, nil, wantAll(
			wantNotNull("rotateWebhookSecret.webhookSecret"),
			wantNotNull("rotateWebhookSecret.notificationChannels.webhookSecretHint")), true},
		{"sendTestWebhook", qNotifTest, rotate, withURL, wantAll(
			wantAt("sendTestWebhook.delivered", value(false)),
			wantAt("sendTestWebhook.url", value("https://127.0.0.1:9/hooks"))), false},
	} {
		own, other := m.check, m.check
		if m.tenant {
			own, other = wantAll(m.check, wantAt(m.op+".tenant.id", ownTenant)), wantAll(m.check, wantAt(m.op+".tenant.id", targetTenant))
		}
		cases = append(cases,
			permCase{op: m.op, cred: credAnonymous, query: m.query, vars: m.vars, prepare: m.prep, want: "UNAUTHENTICATED"},
			permCase{op: m.op, cred: keyWith("USAGE_WRITE"), query: m.query, vars: m.vars, prepare: m.prep, want: "FORBIDDEN", message: "NOTIFICATION_CHANNELS_UPDATE"},
			permCase{op: m.op, cred: keyWith("TENANT_MANAGE", "NOTIFICATION_CHANNELS_READ"), query: m.query, vars: m.vars, prepare: m.prep, want: "FORBIDDEN", message: "NOTIFICATION_CHANNELS_UPDATE"},
			permCase{op: m.op, cred: keyWith("NOTIFICATION_CHANNELS_UPDATE"), query: m.query, vars: m.vars, prepare: m.prep, check: own},
			permCase{op: m.op, cred: keyWith("TENANT_MANAGE", "NOTIFICATION_CHANNELS_UPDATE"), query: m.query, vars: m.vars, prepare: m.prep, check: other},
			permCase{op: m.op, cred: credAdmin, query: m.query, vars: m.vars, prepare: m.prep, check: other},
		)
	}
	return append(cases, tenantFieldCases("notificationChannels", "notificationChannels { version emails }", "NOTIFICATION_CHANNELS_READ")...)
}
