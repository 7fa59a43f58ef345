package webhook_test

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	swh "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"tenantapi/tenant"
	"tenantapi/webhook"
)

// The webhook package parses one untrusted input, the secret a tenant may
// supply (whsec_ + base64 key), and produces the signature header that
// receivers parse. FuzzSignVerify checks, for any secret, message id and
// body: Key never panics; when it accepts the secret, Sign's header has one
// "v1,<base64>" signature per secret and the Standard Webhooks verifier
// accepts the message with each secret alone and refuses a changed body.
// Secrets the API itself accepts (tenant.ValidWebhookSecret) always sign.
//
//	go test ./webhook -run '^$' -fuzz '^FuzzSignVerify$' -fuzztime 5m
func FuzzSignVerify(f *testing.F) {
	for _, s := range []struct{ secret, id, body string }{
		{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", `{"test": 2432232314}`},
		{tenant.NewWebhookSecret(), "msg_0123456789abcdef0123456789abcdef", `{"type":"webhook.test"}`},
		{"whsec_" + strings.Repeat("ab", 32), "msg_1", ""},
		{"whsec_", "msg_2", "x"}, {"whsec_%%%", "", ""}, {"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "id", "body"},
		{"whsec_====", "a.b", "\x00\xff"}, {"whsec_YQ", "msg", "unpadded"}, {"whsec_YQ==", "msg", "padded"},
		{"whsec_" + strings.Repeat("A", 4096), "msg_" + strings.Repeat("z", 300), strings.Repeat("{}", 1000)},
	} {
		f.Add(s.secret, s.id, []byte(s.body))
	}
	ts := time.Now()
	f.Fuzz(func(t *testing.T, secret, id string, body []byte) {
		key, err := webhook.Key(secret)
		if tenant.ValidWebhookSecret(secret) && (err != nil || len(key) != 48) {
			t.Fatalf("Key(%q) of a valid API secret = %d bytes, %v", secret, len(key), err)
		}
		if err != nil {
			if _, err := webhook.Sign([]string{secret}, id, ts, body); err == nil {
				t.Fatalf("Sign accepted the secret %q that Key refuses", secret)
			}
			return
		}
		other := tenant.NewWebhookSecret()
		header, err := webhook.Sign([]string{secret, other}, id, ts, body)
		if err != nil {
			t.Fatalf("Sign(%q): %v", secret, err)
		}
		sigs := strings.Split(header, " ")
		if len(sigs) != 2 || !strings.HasPrefix(sigs[0], "v1,") || !strings.HasPrefix(sigs[1], "v1,") {
			t.Fatalf("signature header %q: want two v1, signatures", header)
		}
		if strings.ContainsAny(id, " ,\r\n") || id == "" {
			return // not a header value a receiver could get back intact
		}
		h := http.Header{}
		h.Set(webhook.HeaderID, id)
		h.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
		h.Set(webhook.HeaderSignature, header)
		for _, s := range []string{secret, other} {
			wh, err := swh.NewWebhook(s)
			if err != nil {
				continue // the library reads some secrets Key accepts differently (e.g. unpadded base64)
			}
			if err := wh.Verify(body, h); err != nil {
				t.Fatalf("the Standard Webhooks verifier refuses a message signed with %q: %v", s, err)
			}
			if err := wh.Verify(append(bytes.Clone(body), '!'), h); err == nil {
				t.Fatalf("the verifier accepts a changed body signed with %q", s)
			}
		}
	})
}
