// Package listen is `tenantapi events listen`: a development tool for
// partners writing a webhook receiver, like Stripe's `stripe listen`. It
// follows the tenant's events through the live subscription tenantEvents
// (graphql-transport-ws) and forwards each to a local URL with the same
// JSON body and Standard Webhooks headers as a real delivery, signed with
// a secret it prints on start (or one given). It needs an API key with
// EVENTS_READ and TENANT_READ, and no database.
package listen

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"tenantapi/egress"
	"tenantapi/tenant"
	"tenantapi/webhook"
)

// Options configure Run.
type Options struct {
	API       string   // the API's base URL, "http://localhost:8080"
	APIKey    string   // the tenant's API key (TENANTAPI_API_KEY)
	ForwardTo string   // where to POST each event
	Types     []string // event types, wire names or enum names; none = all
	Secret    string   // whsec_ signing secret; "" = a new one, printed
	Out       io.Writer
	// Ready, when set, is called once the first subscription is running
	// (tests wait for it).
	Ready func()
}

// ErrRefused is returned when the server refuses the key: reconnecting
// would not help.
var ErrRefused = errors.New("the API refused the key")

// ParseTypes splits a comma-separated list of event types, wire names
// (subscription.changed) or enum names (SUBSCRIPTION_CHANGED), into enum
// names.
func ParseTypes(list string) []string {
	var out []string
	for t := range strings.SplitSeq(list, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, strings.ToUpper(strings.ReplaceAll(t, ".", "_")))
		}
	}
	return out
}

// CheckForwardTo accepts an https URL, or an http one to this machine
// (localhost, a loopback address).
func CheckForwardTo(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("--forward-to must be an http(s) URL such as http://localhost:3000/webhooks, got %q", raw)
	}
	if u.Scheme == "http" {
		host := u.Hostname()
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("--forward-to: plain http is accepted for this machine only (localhost, 127.0.0.1, [::1]); use https for %s", host)
		}
	}
	return nil
}

// NewSecret returns a new whsec_ signing secret (32 random bytes).
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return tenant.WebhookSecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// Run forwards events until ctx ends (nil), or until the server refuses
// the key (ErrRefused). A dropped connection is reopened, with a delay
// that grows to 30 s; events committed while it was down are not replayed
// (Tenant.events and redeliverEvent have them).
func Run(ctx context.Context, o Options) error {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.APIKey == "" {
		return errors.New("set TENANTAPI_API_KEY to an API key of the tenant (with EVENTS_READ and TENANT_READ)")
	}
	if err := CheckForwardTo(o.ForwardTo); err != nil {
		return err
	}
	if o.Secret == "" {
		o.Secret = NewSecret()
	}
	if _, err := webhook.Key(o.Secret); err != nil {
		return fmt.Errorf("--secret: %w", err)
	}
	api := strings.TrimRight(o.API, "/")
	if !strings.HasPrefix(api, "http://") && !strings.HasPrefix(api, "https://") {
		return fmt.Errorf("TENANTAPI_URL must be the API's http(s) base URL, got %q", o.API)
	}
	sender := webhook.NewSender(egress.New(egress.Options{AllowPrivate: true, Timeout: 10 * time.Second}))
	fmt.Fprintf(o.Out, "Ready! Forwarding events to %s\nYour webhook signing secret is %s (^C to quit)\n", o.ForwardTo, o.Secret)
	backoff := time.Second
	for {
		started, err := session(ctx, api, o, sender)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrRefused) {
			return err
		}
		if started {
			backoff = time.Second
		}
		fmt.Fprintf(o.Out, "connection lost (%v); reconnecting in %s\n", err, backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

const subscription = `subscription Listen($types: [EventType!]) { tenantEvents(types: $types) { id wireType at payload } }`

// session runs one connection: it reports whether the subscription
// started, and why it ended.
func session(ctx context.Context, api string, o Options, sender *webhook.Sender) (bool, error) {
	tenantID, err := viewerTenant(ctx, api, o.APIKey)
	if err != nil {
		return false, err
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, _, err := websocket.Dial(dctx, "ws"+strings.TrimPrefix(api, "http")+"/graphql", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"},
		HTTPHeader:   http.Header{"Authorization": {"Bearer " + o.APIKey}},
	})
	cancel()
	if err != nil {
		return false, err
	}
	defer conn.CloseNow()
	conn.SetReadLimit(8 << 20)
	if err := wsjson.Write(ctx, conn, wsMsg{Type: "connection_init"}); err != nil {
		return false, err
	}
	var ack wsMsg
	if err := wsjson.Read(ctx, conn, &ack); err != nil {
		return false, closeError(err)
	}
	if ack.Type != "connection_ack" {
		return false, fmt.Errorf("unexpected %q instead of connection_ack", ack.Type)
	}
	payload, _ := json.Marshal(map[string]any{"query": subscription, "variables": map[string]any{"types": typesVar(o.Types)}})
	if err := wsjson.Write(ctx, conn, wsMsg{ID: "events", Type: "subscribe", Payload: payload}); err != nil {
		return false, err
	}
	// The server sends nothing until the first event: keep the socket
	// alive with pings, which also notice a dead connection.
	go func() {
		t := time.NewTicker(20 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				_ = conn.Close(websocket.StatusNormalClosure, "")
				return
			case <-t.C:
				_ = wsjson.Write(ctx, conn, wsMsg{Type: "ping"})
			}
		}
	}()
	if o.Ready != nil {
		o.Ready()
	}
	for {
		var m wsMsg
		if err := wsjson.Read(ctx, conn, &m); err != nil {
			return true, closeError(err)
		}
		switch m.Type {
		case "next":
			forward(ctx, o, sender, tenantID, m.Payload)
		case "error":
			return true, fmt.Errorf("%w: %s", ErrRefused, m.Payload)
		case "complete":
			return true, errors.New("the server ended the subscription")
		case "ping":
			_ = wsjson.Write(ctx, conn, wsMsg{Type: "pong"})
		}
	}
}

func typesVar(types []string) any {
	if len(types) == 0 {
		return nil
	}
	return types
}

// closeError turns a 4401/4403 close into ErrRefused.
func closeError(err error) error {
	switch websocket.CloseStatus(err) {
	case 4401, 4403:
		var ce websocket.CloseError
		errors.As(err, &ce)
		return fmt.Errorf("%w: %s", ErrRefused, ce.Reason)
	}
	return err
}

// forward POSTs one event of a next message, signed, and prints a line.
func forward(ctx context.Context, o Options, sender *webhook.Sender, tenantID string, payload json.RawMessage) {
	var resp struct {
		Data struct {
			TenantEvents *struct {
				ID       string    `json:"id"`
				WireType string    `json:"wireType"`
				At       time.Time `json:"at"`
				Payload  string    `json:"payload"`
			} `json:"tenantEvents"`
		} `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(payload, &resp); err != nil || resp.Data.TenantEvents == nil {
		msg := "an unreadable message"
		if len(resp.Errors) > 0 {
			msg = resp.Errors[0].Message
		}
		fmt.Fprintf(o.Out, "!! %s\n", msg)
		return
	}
	e := resp.Data.TenantEvents
	body, _ := json.Marshal(webhook.Message{ID: e.ID, Type: e.WireType, TenantID: tenantID, OccurredAt: e.At.UTC(), Data: json.RawMessage(e.Payload)})
	res, err := sender.Deliver(ctx, o.ForwardTo, []string{o.Secret}, e.ID, body)
	switch {
	case err != nil:
		fmt.Fprintf(o.Out, "-> signing failed: %v %s %s\n", err, e.WireType, e.ID)
	case res.StatusCode == 0:
		fmt.Fprintf(o.Out, "-> --- %s %s (%s)\n", e.WireType, e.ID, res.Error)
	default:
		fmt.Fprintf(o.Out, "-> %d %s %s\n", res.StatusCode, e.WireType, e.ID)
	}
}

// viewerTenant asks the API whose key this is: the tenant id of the
// deliveries' body.
func viewerTenant(ctx context.Context, api, key string) (string, error) {
	body := []byte(`{"query":"{ viewer { kind tenantId } }"}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, api+"/graphql", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			Viewer struct {
				Kind     string  `json:"kind"`
				TenantID *string `json:"tenantId"`
			} `json:"viewer"`
		} `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return "", fmt.Errorf("the API answered HTTP %d with no GraphQL response", resp.StatusCode)
	}
	if len(out.Errors) > 0 {
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			return "", fmt.Errorf("%w: %s", ErrRefused, out.Errors[0].Message)
		}
		return "", errors.New(out.Errors[0].Message)
	}
	if out.Data.Viewer.TenantID == nil {
		return "", fmt.Errorf("%w: TENANTAPI_API_KEY must be a tenant's API key (got %s)", ErrRefused, out.Data.Viewer.Kind)
	}
	return *out.Data.Viewer.TenantID, nil
}
