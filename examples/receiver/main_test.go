package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"tenantapi/webhook"
)

// TestReceiver: a delivery signed as the worker and `events listen` sign
// it is accepted and printed; a wrong signature is refused with 400.
func TestReceiver(t *testing.T) {
	secret := "whsec_" + strings.Repeat("ab", 32)
	var out bytes.Buffer
	h, err := handler(secret, &out)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	body := []byte(`{"id":"ev1","type":"subscription.changed","tenantId":"t1","data":{"planId":"enterprise"}}`)
	post := func(secrets ...string) int {
		now := time.Now()
		sig, err := webhook.Sign(secrets, "ev1", now, body)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhooks", bytes.NewReader(body))
		req.Header.Set("webhook-id", "ev1")
		req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		req.Header.Set("webhook-signature", sig)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := post(secret); got != http.StatusNoContent {
		t.Fatalf("a signed delivery: %d, want 204", got)
	}
	if !strings.Contains(out.String(), `subscription.changed ev1 tenant t1: {"planId":"enterprise"}`) {
		t.Errorf("printed %q", out.String())
	}
	if got := post("whsec_" + strings.Repeat("cd", 32)); got != http.StatusBadRequest {
		t.Fatalf("a delivery signed with another secret: %d, want 400", got)
	}
}
