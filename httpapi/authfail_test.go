package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"tenantapi/tenant"
)

// TestValidCredentialsPassFailedAuthBudget: an address that spent its
// failed-authentication budget on made-up keys (a shared NAT with one
// broken client) still gets 200 with a valid tenant key and with the admin
// secret, over HTTP and in a websocket's connection_init, while its further
// bad keys get 429.
func TestValidCredentialsPassFailedAuthBudget(t *testing.T) {
	t.Parallel()
	e, _ := limitEnv(t, 0, 3)
	key := e.createKey(e.tenantOnPlan("Shared NAT", randomDomain(), "enterprise"), "TENANT_READ")
	const nat = "203.0.113.90"
	const message = "too many failed authentications from this address"
	for range 3 {
		if r := e.post(e.srv.URL, nat, tenant.NewAPIKey(), qViewerKind); r.Status != http.StatusUnauthorized {
			t.Fatalf("a made-up key within the budget: status %d %s, want 401", r.Status, r.Raw)
		}
	}
	wantRefused(t, e.post(e.srv.URL, nat, tenant.NewAPIKey(), qViewerKind), "failed_auth", 3, "20", message)

	for _, c := range []struct{ name, token, kind string }{
		{"TenantKey", key, "API_KEY"},
		{"AdminSecret", testAdminSecret, "ADMIN"},
	} {
		r := e.post(e.srv.URL, nat, c.token, qViewerKind)
		if r.Status != http.StatusOK || len(r.Errors) > 0 || !strings.Contains(string(r.Data), c.kind) {
			t.Errorf("%s from the refused address: %d %s, want 200 with kind %s", c.name, r.Status, r.Raw, c.kind)
		}
	}
	wantRefused(t, e.post(e.srv.URL, nat, tenant.NewAPIKey(), qViewerKind), "failed_auth", 3, "20", message)
	wantRefused(t, e.post(e.srv.URL, nat, "not-a-key", qViewerKind), "failed_auth", 3, "20", message)

	// connection_init goes through the same authenticator.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hdr := http.Header{"X-Forwarded-For": {nat}}
	for _, c := range []struct{ name, token, kind string }{
		{"TenantKey", key, "API_KEY"},
		{"AdminSecret", testAdminSecret, "ADMIN"},
	} {
		ws := e.dialWS(t, ctx, hdr, `{"Authorization": "Bearer `+c.token+`"}`)
		if p := ws.operation("1", qViewerKind); !strings.Contains(string(p), c.kind) || strings.Contains(string(p), `"errors"`) {
			t.Errorf("websocket %s from the refused address: %s, want kind %s", c.name, p, c.kind)
		}
	}
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.srv.URL, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: hdr})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	if err := wsjson.Write(ctx, conn, wsMsg{Type: "connection_init", Payload: json.RawMessage(`{"Authorization": "Bearer ` + tenant.NewAPIKey() + `"}`)}); err != nil {
		t.Fatal(err)
	}
	var reply wsMsg
	if err := wsjson.Read(ctx, conn, &reply); err == nil {
		t.Errorf("websocket with a made-up key from the refused address: %+v, want the connection closed", reply)
	}
}
