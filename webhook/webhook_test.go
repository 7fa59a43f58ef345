package webhook_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	swh "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"tenantapi/egress"
	"tenantapi/tenant"
	"tenantapi/webhook"
)

// delivery is one request a receiver got.
type delivery struct {
	Header http.Header
	Body   []byte
}

// receiver is an https endpoint on loopback that records what it gets and
// answers status.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []delivery
	status int
}

func newReceiver(t *testing.T, status int) *receiver {
	t.Helper()
	r := &receiver{status: status}
	r.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, delivery{Header: req.Header.Clone(), Body: body})
		r.mu.Unlock()
		if r.status >= 300 && r.status < 400 {
			w.Header().Set("Location", "/elsewhere")
		}
		w.WriteHeader(r.status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) last(t *testing.T) delivery {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) == 0 {
		t.Fatal("the receiver got nothing")
	}
	return r.got[len(r.got)-1]
}

// trusting returns an egress client that may reach loopback and trusts the
// receivers' test certificate (every httptest TLS server shares it).
func trusting(r *receiver) *egress.Client {
	c := egress.New(egress.Options{AllowPrivate: true, Timeout: 5 * time.Second})
	c.HTTP.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: r.srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	return c
}

func testEvent() webhook.Event {
	return webhook.Event{Type: tenant.TestWebhookType, Timestamp: time.Now().UTC().Truncate(time.Second), Data: map[string]string{"tenantId": "00000000-0000-0000-0000-000000000001"}}
}

func send(t *testing.T, s *webhook.Sender, url string, secrets ...string) *webhook.Result {
	t.Helper()
	res, err := s.Send(context.Background(), url, secrets, testEvent())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestKnownVector signs the Standard Webhooks libraries' own test vector.
func TestKnownVector(t *testing.T) {
	got, err := webhook.Sign([]string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

// TestKeyOfGeneratedSecret checks the key of the API's secrets is the
// base64 decoding of the 64 hex characters: 48 bytes.
func TestKeyOfGeneratedSecret(t *testing.T) {
	secret := tenant.NewWebhookSecret()
	if !tenant.ValidWebhookSecret(secret) {
		t.Fatalf("generated secret %q does not have the documented format", secret)
	}
	key, err := webhook.Key(secret)
	if err != nil || len(key) != 48 {
		t.Fatalf("Key = %d bytes, %v; want 48 bytes", len(key), err)
	}
	for _, bad := range []string{"", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_%%%"} {
		if _, err := webhook.Key(bad); err == nil {
			t.Errorf("Key(%q) accepted", bad)
		}
	}
}

// TestDeliveryVerifiesWithStandardWebhooks delivers to a real https
// receiver and verifies what it got with the spec's Go library: it accepts
// the delivery and refuses a tampered body, a tampered id and another key.
func TestDeliveryVerifiesWithStandardWebhooks(t *testing.T) {
	rcv := newReceiver(t, http.StatusNoContent)
	secret := tenant.NewWebhookSecret()
	res := send(t, webhook.NewSender(trusting(rcv)), rcv.srv.URL+"/hooks", secret)
	if !res.Delivered || res.StatusCode != http.StatusNoContent || res.Error != "" || res.Latency <= 0 {
		t.Fatalf("result = %+v, want delivered with 204", res)
	}
	d := rcv.last(t)
	if d.Header.Get(webhook.HeaderID) != res.WebhookID || !strings.HasPrefix(res.WebhookID, "msg_") {
		t.Errorf("webhook-id = %q, result says %q", d.Header.Get(webhook.HeaderID), res.WebhookID)
	}
	if ct := d.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var ev struct {
		Type      string
		Timestamp time.Time
		Data      struct{ TenantID string }
	}
	if err := json.Unmarshal(d.Body, &ev); err != nil || ev.Type != "webhook.test" || ev.Data.TenantID == "" || ev.Timestamp.IsZero() {
		t.Errorf("body %s: %+v, %v", d.Body, ev, err)
	}

	v, err := swh.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(d.Body, d.Header); err != nil {
		t.Fatalf("the Standard Webhooks verifier refuses our delivery: %v", err)
	}

	t.Run("ErrTamperedBody", func(t *testing.T) {
		tampered := []byte(strings.Replace(string(d.Body), "webhook.test", "webhook.tesT", 1))
		if err := v.Verify(tampered, d.Header); !errors.Is(err, swh.ErrNoMatchingSignature) {
			t.Errorf("tampered body: err = %v, want ErrNoMatchingSignature", err)
		}
	})
	t.Run("ErrTamperedID", func(t *testing.T) {
		h := d.Header.Clone()
		h.Set(webhook.HeaderID, webhook.NewMessageID())
		if err := v.Verify(d.Body, h); !errors.Is(err, swh.ErrNoMatchingSignature) {
			t.Errorf("tampered id: err = %v, want ErrNoMatchingSignature", err)
		}
	})
	t.Run("ErrOtherSecret", func(t *testing.T) {
		other, _ := swh.NewWebhook(tenant.NewWebhookSecret())
		if err := other.Verify(d.Body, d.Header); !errors.Is(err, swh.ErrNoMatchingSignature) {
			t.Errorf("another secret: err = %v, want ErrNoMatchingSignature", err)
		}
	})
}

// TestStaleTimestampRefused sends with a clock 6 minutes behind (and ahead):
// the verifier's 5-minute tolerance refuses both, though the signature
// matches.
func TestStaleTimestampRefused(t *testing.T) {
	rcv := newReceiver(t, http.StatusOK)
	secret := tenant.NewWebhookSecret()
	v, _ := swh.NewWebhook(secret)
	for name, c := range map[string]struct {
		skew time.Duration
		want error
	}{"ErrTooOld": {-6 * time.Minute, swh.ErrMessageTooOld}, "ErrTooNew": {6 * time.Minute, swh.ErrMessageTooNew}} {
		t.Run(name, func(t *testing.T) {
			s := webhook.NewSender(trusting(rcv))
			s.Now = func() time.Time { return time.Now().Add(c.skew) }
			send(t, s, rcv.srv.URL, secret)
			d := rcv.last(t)
			if err := v.Verify(d.Body, d.Header); !errors.Is(err, c.want) {
				t.Errorf("Verify = %v, want %v", err, c.want)
			}
			if err := v.VerifyIgnoringTimestamp(d.Body, d.Header); err != nil {
				t.Errorf("the signature itself should match: %v", err)
			}
		})
	}
}

// TestTwoSecretsDuringRotation signs with the new and the previous secret:
// receivers holding either accept the delivery.
func TestTwoSecretsDuringRotation(t *testing.T) {
	rcv := newReceiver(t, http.StatusOK)
	current, previous := tenant.NewWebhookSecret(), tenant.NewWebhookSecret()
	send(t, webhook.NewSender(trusting(rcv)), rcv.srv.URL, current, previous)
	d := rcv.last(t)
	if sigs := strings.Fields(d.Header.Get(webhook.HeaderSignature)); len(sigs) != 2 {
		t.Fatalf("webhook-signature = %q, want two signatures", d.Header.Get(webhook.HeaderSignature))
	}
	for name, s := range map[string]string{"current": current, "previous": previous} {
		v, _ := swh.NewWebhook(s)
		if err := v.Verify(d.Body, d.Header); err != nil {
			t.Errorf("the %s secret does not verify: %v", name, err)
		}
	}
}

// TestNotDelivered covers endpoints that do not acknowledge: each is a
// result with Delivered false and a safe reason, never an error.
func TestNotDelivered(t *testing.T) {
	secret := tenant.NewWebhookSecret()
	cases := []struct {
		name    string
		status  int
		client  func(*receiver) *egress.Client
		code    int
		message string
	}{
		{"ErrServerError", http.StatusInternalServerError, trusting, 500, "HTTP 500"},
		{"ErrRedirectNotFollowed", http.StatusFound, trusting, 302, "redirects are not followed"},
		{"ErrPrivateAddress", http.StatusOK, func(*receiver) *egress.Client { return egress.New(egress.Options{Timeout: 5 * time.Second}) }, 0, "private, loopback or link-local"},
		{"ErrUntrustedCertificate", http.StatusOK, func(*receiver) *egress.Client {
			return egress.New(egress.Options{AllowPrivate: true, Timeout: 5 * time.Second})
		}, 0, "TLS certificate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rcv := newReceiver(t, c.status)
			res := send(t, webhook.NewSender(c.client(rcv)), rcv.srv.URL, secret)
			if res.Delivered || res.StatusCode != c.code || !strings.Contains(res.Error, c.message) {
				t.Errorf("result = %+v, want not delivered, status %d, error containing %q", res, c.code, c.message)
			}
			if strings.Contains(res.Error, "127.0.0.1") {
				t.Errorf("error %q reveals the address dialled", res.Error)
			}
		})
	}
	t.Run("ErrNoSecret", func(t *testing.T) {
		if _, err := webhook.NewSender(egress.New(egress.Options{})).Send(context.Background(), "https://hooks.example.com", nil, testEvent()); err == nil {
			t.Error("sending without a secret should fail")
		}
	})
}
