package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	swh "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"tenantapi/db/dbtest"
	"tenantapi/httpapi"
	"tenantapi/listen"
	"tenantapi/live"
)

// liveEnv is a test server with live subscriptions: its own hub listening
// on dbURL ("" = a fresh database), credentials rechecked every 100 ms,
// its configuration then adjusted by edit.
func liveEnv(t *testing.T, dbURL string, opts live.Options, edit ...func(*httpapi.Config)) (*env, *live.Hub) {
	t.Helper()
	if dbURL == "" {
		dbURL = dbtest.NewURL(t)
	}
	hub := live.New(dbtest.Direct(t, dbURL), opts) // LISTEN needs a session of its own
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hub.Run(ctx); err != nil {
			t.Errorf("hub: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-hub.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("the hub did not start listening")
	}
	e := buildEnv(t, envOptions{dbURL: dbURL, config: func(c *httpapi.Config) {
		c.Live = hub
		httpapi.SetWebsocketTimers(c, time.Second, 100*time.Millisecond)
		for _, f := range edit {
			f(c)
		}
	}})
	return e, hub
}

func renameTenant(e *env, tenantID, name string) {
	e.t.Helper()
	e.mustGQL(testAdminSecret, `mutation($in: UpdateTenantInput!) { updateTenant(input: $in) { tenant { id } } }`,
		map[string]any{"in": map[string]any{"tenantId": tenantID, "name": name}}, nil)
}

func revokeKey(e *env, keyID string) {
	e.t.Helper()
	e.mustGQL(testAdminSecret, `mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { id } } }`, map[string]any{"id": keyID}, nil)
}

// waitSubscribers waits until hub has n subscribers of tenantID: changes
// committed from then on reach them.
func waitSubscribers(t *testing.T, hub *live.Hub, tenantID string, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d subscribers", n), func() bool { return hub.Count(tenantID) >= n })
}

// liveEvent is an Event as the subscriptions below select it.
type liveEvent struct {
	ID       string `json:"id"`
	WireType string `json:"wireType"`
	Payload  string `json:"payload"`
}

// wsNext reads the next message of the socket: a next's data decoded into
// v, or the message's type otherwise.
func wsNext(t *testing.T, ctx context.Context, conn *websocket.Conn, v any) string {
	t.Helper()
	var m wsMsg
	if err := wsjson.Read(ctx, conn, &m); err != nil {
		t.Fatalf("reading the socket: %v", err)
	}
	if m.Type != "next" {
		t.Fatalf("got %s %s, want next", m.Type, m.Payload)
	}
	var r result
	if err := json.Unmarshal(m.Payload, &r); err != nil {
		t.Fatal(err)
	}
	r.Raw = m.Payload
	r.Decode(t, v)
	return m.Type
}

// sseStream is a subscription over Server-Sent Events: the data of each
// next event, closed when the stream ends.
func sseStream(t *testing.T, ctx context.Context, e *env, token, query string) <-chan result {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+"/graphql", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("SSE answered %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan result, 16)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && event == "next":
				var r result
				r.Raw = []byte(strings.TrimPrefix(line, "data: "))
				_ = json.Unmarshal(r.Raw, &r)
				out <- r
			}
		}
	}()
	return out
}

func sseNext(t *testing.T, ctx context.Context, s <-chan result) (result, bool) {
	t.Helper()
	select {
	case r, ok := <-s:
		return r, ok
	case <-ctx.Done():
		t.Fatal("timed out waiting for an SSE event")
	}
	return result{}, false
}

// TestLiveTenantEvents: a mutation's event reaches a websocket and an SSE
// subscription as it commits; the types filter holds; another tenant's
// events never arrive.
func TestLiveTenantEvents(t *testing.T) {
	t.Parallel()
	e, hub := liveEnv(t, "", live.Options{})
	a := e.createTenant("Live A", randomDomain())
	b := e.createTenant("Live B", randomDomain())
	key, _ := e.createKeyWithID(a, "EVENTS_READ", "TENANT_READ")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	ws := e.dialWS(t, ctx, http.Header{"Authorization": {"Bearer " + key}}, "")
	ws.send("only-updates", `subscription { tenantEvents(types: [TENANT_UPDATED]) { id wireType payload } }`)
	sse := sseStream(t, ctx, e, key, `subscription { tenantEvents { id wireType payload } }`)
	waitSubscribers(t, hub, a, 2)

	renameTenant(e, b, "B renamed") // another tenant's: never seen
	changePlanTo(e, a, "enterprise")
	renameTenant(e, a, "A renamed")

	var got struct{ TenantEvents liveEvent }
	wsNext(t, ctx, ws.conn, &got)
	if got.TenantEvents.WireType != "tenant.updated" || !strings.Contains(got.TenantEvents.Payload, `"name": "A renamed"`) && !strings.Contains(got.TenantEvents.Payload, `"name":"A renamed"`) {
		t.Fatalf("websocket got %+v, want A's tenant.updated (the types filter drops subscription.changed)", got.TenantEvents)
	}
	var seen []string
	for len(seen) < 3 {
		r, ok := sseNext(t, ctx, sse)
		if !ok {
			t.Fatal("the SSE stream ended")
		}
		r.Decode(t, &got)
		seen = append(seen, got.TenantEvents.WireType)
		var p struct {
			ID       string `json:"id"`
			TenantID string `json:"tenantId"`
		}
		_ = json.Unmarshal([]byte(got.TenantEvents.Payload), &p)
		if p.ID != a && p.TenantID != a {
			t.Fatalf("the SSE subscriber of tenant A got %s", got.TenantEvents.Payload)
		}
	}
	// changePlan's two events share a transaction (their order within it
	// is not defined); the rename's comes after both.
	if first := []string{seen[0], seen[1]}; !slices.Contains(first, "subscription.changed") || !slices.Contains(first, "plan_change.applied") || seen[2] != "tenant.updated" {
		t.Fatalf("SSE got %v, want changePlan's subscription.changed and plan_change.applied, then tenant.updated: commit order", seen)
	}
}

// TestLiveTenantUpdated: tenantUpdated sends the tenant as the change left
// it, with whatever the subscription selected.
func TestLiveTenantUpdated(t *testing.T) {
	t.Parallel()
	e, hub := liveEnv(t, "", live.Options{})
	a := e.createTenant("Dashboard Co", randomDomain())
	key, _ := e.createKeyWithID(a, "TENANT_READ", "BILLING_READ")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws := e.dialWS(t, ctx, http.Header{"Authorization": {"Bearer " + key}}, "")
	ws.send("1", `subscription { tenantUpdated { id name plan { id } } }`)
	waitSubscribers(t, hub, a, 1)
	renameTenant(e, a, "Dashboard Renamed")
	var got struct {
		TenantUpdated struct {
			ID, Name string
			Plan     struct{ ID string }
		}
	}
	wsNext(t, ctx, ws.conn, &got)
	if got.TenantUpdated.ID != a || got.TenantUpdated.Name != "Dashboard Renamed" {
		t.Fatalf("got %+v, want the renamed tenant", got.TenantUpdated)
	}
	changePlanTo(e, a, "enterprise")
	wsNext(t, ctx, ws.conn, &got)
	if got.TenantUpdated.Plan.ID != "enterprise" {
		t.Fatalf("after changePlan got plan %q, want enterprise (no loader cached across events)", got.TenantUpdated.Plan.ID)
	}
}

// TestLiveRefusals: the permission, another tenant and the per-credential
// cap answer errors on the subscription, as for a query.
func TestLiveRefusals(t *testing.T) {
	t.Parallel()
	e, hub := liveEnv(t, "", live.Options{PerCredential: 1})
	a := e.createTenant("Refused Co", randomDomain())
	b := e.createTenant("Other Co", randomDomain())
	noEvents, _ := e.createKeyWithID(a, "TENANT_READ")
	key, _ := e.createKeyWithID(a, "EVENTS_READ")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name, token, query, code string
	}{
		{"ErrPermission", noEvents, `subscription { tenantEvents { id } }`, "FORBIDDEN"},
		{"ErrOtherTenant", key, fmt.Sprintf(`subscription { tenantEvents(tenantId: %q) { id } }`, b), "NOT_FOUND"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := e.dialWS(t, ctx, http.Header{"Authorization": {"Bearer " + tc.token}}, "")
			ws.send("1", tc.query)
			var m wsMsg
			if err := wsjson.Read(ctx, ws.conn, &m); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(m.Payload), tc.code) {
				t.Fatalf("got %s %s, want %s", m.Type, m.Payload, tc.code)
			}
		})
	}
	t.Run("ErrTooManySubscriptions", func(t *testing.T) {
		ws := e.dialWS(t, ctx, http.Header{"Authorization": {"Bearer " + key}}, "")
		ws.send("1", `subscription { tenantEvents { id } }`)
		waitSubscribers(t, hub, a, 1)
		ws.send("2", `subscription { tenantEvents { id } }`)
		var m wsMsg
		if err := wsjson.Read(ctx, ws.conn, &m); err != nil {
			t.Fatal(err)
		}
		if m.ID != "2" || !strings.Contains(string(m.Payload), "RATE_LIMITED") {
			t.Fatalf("got %s %s %s, want RATE_LIMITED for the second", m.ID, m.Type, m.Payload)
		}
	})
}

// TestLiveEndsWithKey: revoking the key ends its subscriptions: the socket
// is closed with 4403, the SSE stream sends UNAUTHENTICATED and ends.
func TestLiveEndsWithKey(t *testing.T) {
	t.Parallel()
	e, hub := liveEnv(t, "", live.Options{})
	a := e.createTenant("Revoked Co", randomDomain())
	key, keyID := e.createKeyWithID(a, "EVENTS_READ")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws := e.dialWS(t, ctx, http.Header{"Authorization": {"Bearer " + key}}, "")
	ws.send("1", `subscription { tenantEvents { id } }`)
	sse := sseStream(t, ctx, e, key, `subscription { tenantEvents { id } }`)
	waitSubscribers(t, hub, a, 2)
	revokeKey(e, keyID)

	// The revocation's own event (api_key.revoked) may come first.
	var code websocket.StatusCode
	var reason string
	for {
		var m wsMsg
		err := wsjson.Read(ctx, ws.conn, &m)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("the socket ended without a close frame: %v", err)
		}
		code, reason = ce.Code, ce.Reason
		break
	}
	if code != 4403 || !strings.Contains(reason, "revoked") {
		t.Fatalf("closed with %d %q, want 4403: the key was revoked", code, reason)
	}
	var last result
	n := 0
	for {
		r, ok := sseNext(t, ctx, sse)
		if !ok {
			break
		}
		last, n = r, n+1
	}
	if n == 0 || n > 2 || last.Code() != "UNAUTHENTICATED" || !strings.Contains(last.Errors[0].Message, "revoked") {
		t.Fatalf("the SSE stream sent %d events, the last %s; want at most the revocation's event, then UNAUTHENTICATED naming the revocation", n, last.Raw)
	}
	waitFor(t, "the subscriptions to end", func() bool { return hub.Count(a) == 0 })
}

// TestLiveAcrossInstances: a change committed through instance A reaches
// a subscriber connected to instance B (two servers, two hubs, one
// database).
func TestLiveAcrossInstances(t *testing.T) {
	t.Parallel()
	ea, _ := liveEnv(t, "", live.Options{})
	eb, hubB := liveEnv(t, ea.url, live.Options{})
	id := ea.createTenant("Two Instances Co", randomDomain())
	key, _ := ea.createKeyWithID(id, "EVENTS_READ")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws := eb.dialWS(t, ctx, http.Header{"Authorization": {"Bearer " + key}}, "")
	ws.send("1", `subscription { tenantEvents(types: [SUBSCRIPTION_CHANGED]) { id wireType } }`)
	waitSubscribers(t, hubB, id, 1)
	changePlanTo(ea, id, "enterprise")
	var got struct{ TenantEvents liveEvent }
	wsNext(t, ctx, ws.conn, &got)
	if got.TenantEvents.WireType != "subscription.changed" {
		t.Fatalf("instance B's subscriber got %+v, want subscription.changed", got.TenantEvents)
	}
}

// TestEventsListenForwards: `tenantapi events listen` forwards a change's
// event, signed, to a local receiver that verifies it with the Standard
// Webhooks reference library.
func TestEventsListenForwards(t *testing.T) {
	t.Parallel()
	e, hub := liveEnv(t, "", live.Options{})
	id := e.createTenant("Receiver Co", randomDomain())
	key, _ := e.createKeyWithID(id, "EVENTS_READ", "TENANT_READ")
	secret := listen.NewSecret()
	verifier, err := swh.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	type delivery struct {
		body []byte
		err  error
	}
	got := make(chan delivery, 4)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- delivery{body, verifier.Verify(body, r.Header)}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- listen.Run(ctx, listen.Options{API: e.srv.URL, APIKey: key, ForwardTo: rcv.URL + "/webhooks",
			Types: listen.ParseTypes("subscription.changed"), Secret: secret, Out: &out})
	}()
	waitSubscribers(t, hub, id, 1)
	renameTenant(e, id, "Filtered out")
	changePlanTo(e, id, "enterprise")
	var d delivery
	select {
	case d = <-got:
	case <-ctx.Done():
		t.Fatalf("nothing forwarded; the CLI printed:\n%s", out.String())
	}
	if d.err != nil {
		t.Fatalf("the receiver could not verify the delivery: %v", d.err)
	}
	var m struct{ ID, Type, TenantID string }
	if err := json.Unmarshal(d.body, &m); err != nil || m.Type != "subscription.changed" || m.TenantID != id {
		t.Fatalf("forwarded %s, want the tenant's subscription.changed", d.body)
	}
	waitFor(t, "the printed line", func() bool { return strings.Contains(out.String(), "-> 204 subscription.changed "+m.ID) })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("listen ended with %v after Ctrl-C, want nil", err)
	}
}

// TestEventsListenRefusedKey: a revoked key stops the CLI with ErrRefused
// instead of reconnecting forever.
func TestEventsListenRefusedKey(t *testing.T) {
	t.Parallel()
	e, _ := liveEnv(t, "", live.Options{})
	id := e.createTenant("Refused Listen Co", randomDomain())
	key, keyID := e.createKeyWithID(id, "EVENTS_READ")
	revokeKey(e, keyID)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := listen.Run(ctx, listen.Options{API: e.srv.URL, APIKey: key, ForwardTo: "http://127.0.0.1:9/webhooks"})
	if !errors.Is(err, listen.ErrRefused) {
		t.Fatalf("got %v, want ErrRefused", err)
	}
}
