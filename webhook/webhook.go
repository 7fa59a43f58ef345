// Package webhook signs and delivers the API's webhooks as the Standard
// Webhooks specification says (https://www.standardwebhooks.com), so that
// any of its verifiers accepts them:
//
//	webhook-id:        msg_<random>, the same for every retry of one message
//	webhook-timestamp: Unix seconds
//	webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">
//
// The HMAC key is what the Standard Webhooks libraries take from a secret:
// the base64 decoding of the text after "whsec_" (the API's 64 hex
// characters decode to a 48-byte key). During a secret rotation a message
// carries one signature per secret, space-separated; a verifier accepts it
// when any matches. Deliveries go through the egress client: a timeout, a
// size limit and no private addresses unless allowed for development.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"tenantapi/egress"
	"tenantapi/tenant"
)

// The Standard Webhooks headers.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Key returns the HMAC key of a whsec_ secret: the base64 decoding of what
// follows the prefix, as Standard Webhooks libraries take it.
func Key(secret string) ([]byte, error) {
	if !strings.HasPrefix(secret, tenant.WebhookSecretPrefix) {
		return nil, errors.New("webhook: the secret does not start with " + tenant.WebhookSecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, tenant.WebhookSecretPrefix))
	if err != nil || len(key) == 0 {
		return nil, errors.New("webhook: the text after " + tenant.WebhookSecretPrefix + " is not base64")
	}
	return key, nil
}

// Sign returns the webhook-signature header of a message: "v1,<base64>"
// per secret, space-separated, in the order of secrets.
func Sign(secrets []string, id string, ts time.Time, body []byte) (string, error) {
	if len(secrets) == 0 {
		return "", errors.New("webhook: no secret to sign with")
	}
	sigs := make([]string, len(secrets))
	for i, s := range secrets {
		key, err := Key(s)
		if err != nil {
			return "", err
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
		mac.Write(body)
		sigs[i] = "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	}
	return strings.Join(sigs, " "), nil
}

// NewMessageID returns a new webhook-id: msg_ + 32 hex characters.
func NewMessageID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return "msg_" + hex.EncodeToString(b[:])
}

// Event is a webhook payload in the Standard Webhooks shape.
type Event struct {
	// Type names the event, "screening.completed" or "webhook.test".
	Type string `json:"type"`
	// Timestamp is when the event happened (RFC 3339).
	Timestamp time.Time `json:"timestamp"`
	// Data is the event's content.
	Data any `json:"data"`
}

// Message is the body of an event's delivery, in the shape receivers get:
// the delivery worker (delivery/) and `tenantapi events listen` (listen/)
// both send it.
type Message struct {
	ID         string          `json:"id"`         // the event's id, also the webhook-id
	Type       string          `json:"type"`       // the wire name, "subscription.changed"
	TenantID   string          `json:"tenantId"`   // the tenant the event belongs to
	OccurredAt time.Time       `json:"occurredAt"` // when the change committed, UTC
	Data       json.RawMessage `json:"data"`       // the event's payload
}

// Result is the outcome of one delivery attempt, safe to show the tenant.
type Result struct {
	WebhookID  string
	Delivered  bool          // the endpoint answered 2xx
	StatusCode int           // 0 when no response arrived
	Latency    time.Duration // from sending the request to the end of the response
	Error      string        // why it was not delivered; "" when it was
	Body       string        // the first MaxResponseBody bytes of the answer (valid UTF-8)
}

// Sender delivers signed webhooks.
type Sender struct {
	Client *egress.Client
	// Now is the clock of webhook-timestamp; tests may replace it.
	Now func() time.Time
}

// NewSender returns a Sender over client.
func NewSender(client *egress.Client) *Sender { return &Sender{Client: client, Now: time.Now} }

// Send POSTs ev to url as JSON, signed with each of secrets (the current
// one first), under a new webhook-id, and reports what happened. Redirects
// are not followed: a 3xx counts as not delivered. Only a malformed secret
// or event is an error; an unreachable or refusing endpoint is a Result
// with Delivered false.
func (s *Sender) Send(ctx context.Context, url string, secrets []string, ev Event) (*Result, error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("webhook: encoding the event: %w", err)
	}
	return s.Deliver(ctx, url, secrets, NewMessageID(), body)
}

// MaxResponseBody is how much of an endpoint's answer a Result keeps.
const MaxResponseBody = 1024

// Deliver POSTs body (JSON) to url under the webhook-id id, signed with
// each of secrets, as Send does: the delivery worker gives the event's id,
// the same for every attempt, so receivers can deduplicate. The Result
// keeps the first MaxResponseBody bytes of the answer.
func (s *Sender) Deliver(ctx context.Context, url string, secrets []string, id string, body []byte) (*Result, error) {
	res := &Result{WebhookID: id}
	ts := s.Now()
	sig, err := Sign(secrets, res.WebhookID, ts, body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		res.Error = "the webhook URL is not valid"
		return res, nil
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "tenantapi-webhooks/1")
	req.Header.Set(HeaderID, res.WebhookID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)

	client := *s.Client.HTTP
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		res.Latency = time.Since(start)
		res.Error = describe(err)
		return res, nil
	}
	// Read the answer, within the size limit, so the latency covers the
	// whole response and the connection can be reused; keep its start.
	head := make([]byte, MaxResponseBody)
	n, _ := io.ReadFull(resp.Body, head)
	res.Body = strings.ToValidUTF8(string(head[:n]), "\uFFFD")
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, s.Client.MaxBytes))
	resp.Body.Close()
	res.Latency = time.Since(start)
	res.StatusCode = resp.StatusCode
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		res.Delivered = true
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		res.Error = fmt.Sprintf("the endpoint answered HTTP %d; redirects are not followed, configure the final URL", resp.StatusCode)
	default:
		res.Error = fmt.Sprintf("the endpoint answered HTTP %d; a 2xx status acknowledges a delivery", resp.StatusCode)
	}
	return res, nil
}

// describe turns a delivery error into a message safe to show the tenant.
func describe(err error) string {
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	switch {
	case errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &invalid), errors.As(err, &verify):
		return "the endpoint's TLS certificate is not valid for its host or not signed by a trusted authority"
	}
	return egress.Describe(err)
}
