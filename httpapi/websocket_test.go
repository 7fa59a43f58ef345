package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"tenantapi/httpapi"
)

// wsEnv is a server whose websocket checks authority every 100 ms and
// waits 300 ms for connection_init, behind a trusted proxy (so a test can
// claim a client address), with a tenant and a key that can manage keys.
type wsEnv struct {
	*env
	tenantID, key, keyID string
}

func newWSEnv(t *testing.T, edit func(*httpapi.Config)) *wsEnv {
	t.Helper()
	e := newEnvWith(t, func(c *httpapi.Config) {
		httpapi.SetWebsocketTimers(c, 300*time.Millisecond, 100*time.Millisecond)
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
		if edit != nil {
			edit(c)
		}
	})
	id := e.createTenant("Socket Co", randomDomain())
	var out struct {
		CreateApiKey struct {
			Secret string
			ApiKey struct{ ID string }
		}
	}
	e.mustGQL(testAdminSecret, `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret apiKey { id } } }`,
		map[string]any{"in": map[string]any{"tenantId": id, "name": "socket key", "permissions": []string{"TENANT_READ", "API_KEYS_READ", "API_KEYS_WRITE"}}}, &out)
	return &wsEnv{env: e, tenantID: id, key: out.CreateApiKey.Secret, keyID: out.CreateApiKey.ApiKey.ID}
}

// dialRaw opens a graphql-transport-ws socket without sending anything.
func (e *env) dialRaw(t *testing.T, ctx context.Context, header http.Header) *websocket.Conn {
	t.Helper()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.srv.URL, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: header})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return conn
}

// send writes a subscribe message for query.
func (c *wsClient) send(id, query string) {
	c.t.Helper()
	payload, _ := json.Marshal(map[string]string{"query": query})
	if err := wsjson.Write(c.ctx, c.conn, wsMsg{ID: id, Type: "subscribe", Payload: payload}); err != nil {
		c.t.Fatal(err)
	}
}

// closedWith reads until the socket closes and returns the close status
// and reason, failing on any next message (nothing may run).
func closedWith(t *testing.T, ctx context.Context, conn *websocket.Conn) (websocket.StatusCode, string) {
	t.Helper()
	for {
		var m wsMsg
		err := wsjson.Read(ctx, conn, &m)
		if err == nil {
			if m.Type == "next" {
				t.Fatalf("an operation answered on a socket that must be closed: %s", m.Payload)
			}
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("the socket ended without a close frame: %v", err)
		}
		return ce.Code, ce.Reason
	}
}

// TestWebsocketAuthorityEnds: over one open socket, once its key is
// revoked or expires, its tenant is suspended or deleted, or the tenant's
// allowlist stops covering the client, the next operation is refused and
// the socket closed with 4403, and nothing of the operation runs (a
// createApiKey there minted a working key before).
func TestWebsocketAuthorityEnds(t *testing.T) {
	t.Parallel()
	const client = "198.51.100.23"
	cases := []struct {
		name   string
		end    func(e *wsEnv)
		reason string
	}{
		{"ErrRevoked", func(e *wsEnv) {
			e.mustGQL(testAdminSecret, `mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { id } } }`, map[string]any{"id": e.keyID}, nil)
		}, "was revoked"},
		{"ErrExpired", func(e *wsEnv) {
			if _, err := e.raw().Exec(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, e.keyID); err != nil {
				t.Fatal(err)
			}
		}, "expired"},
		{"ErrSuspended", func(e *wsEnv) {
			e.mustGQL(testAdminSecret, qUpdateTenant, map[string]any{"in": map[string]any{"tenantId": e.tenantID, "status": "SUSPENDED"}}, nil)
		}, "suspended"},
		{"ErrDeleted", func(e *wsEnv) {
			e.mustGQL(testAdminSecret, `mutation($id: ID) { deleteTenant(input: {tenantId: $id}) { tenant { id } } }`, map[string]any{"id": e.tenantID}, nil)
		}, "not recognised"},
		{"ErrOutsideAllowlist", func(e *wsEnv) {
			setAllowlist(t, e.env, e.tenantID, "203.0.113.0/24")
		}, "allowlist"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newWSEnv(t, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			ws := e.dialWS(t, ctx, http.Header{"X-Forwarded-For": {client}}, fmt.Sprintf(`{"Authorization": "Bearer %s"}`, e.key))
			if got := string(ws.operation("1", `{ viewer { kind } }`)); !strings.Contains(got, `"API_KEY"`) {
				t.Fatalf("before: %s", got)
			}
			tc.end(e)
			keysBefore := e.countKeys(t)
			ws.send("2", `mutation { createApiKey(input: {name: "minted on a dead socket", permissions: [TENANT_READ]}) { secret } }`)
			code, reason := closedWith(t, ctx, ws.conn)
			if code != 4403 || !strings.Contains(reason, tc.reason) {
				t.Fatalf("closed with %d %q, want 4403 naming %q", code, reason, tc.reason)
			}
			if after := e.countKeys(t); after != keysBefore {
				t.Fatalf("the refused createApiKey saved a key: %d keys, then %d", keysBefore, after)
			}
		})
	}
}

func (e *wsEnv) countKeys(t *testing.T) int {
	t.Helper()
	var n int
	if err := e.raw().Get(&n, `SELECT count(*) FROM api_keys WHERE tenant_id = $1`, e.tenantID); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestWebsocketLongOperationEndsWithAuthority: an operation that is still
// running when its key is revoked ends within the recheck interval (100 ms
// here, 2 s by default), not at the next message, and the socket is
// closed with 4403.
func TestWebsocketLongOperationEndsWithAuthority(t *testing.T) {
	t.Parallel()
	var cancelled atomic.Bool
	started := make(chan struct{}, 1)
	e := newWSEnv(t, func(c *httpapi.Config) {
		httpapi.SetFieldMiddleware(c, func(ctx context.Context, next graphql.Resolver) (any, error) {
			if graphql.GetFieldContext(ctx).Field.Alias == "slow" {
				started <- struct{}{}
				<-ctx.Done() // a long operation: runs until it is cancelled
				cancelled.Store(true)
				return nil, ctx.Err()
			}
			return next(ctx)
		})
	})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	ws := e.dialWS(t, ctx, nil, fmt.Sprintf(`{"Authorization": "Bearer %s"}`, e.key))
	ws.send("1", `{ slow: viewer { kind } }`)
	select {
	case <-started:
	case <-ctx.Done():
		t.Fatal("the operation did not start")
	}
	e.mustGQL(testAdminSecret, `mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { id } } }`, map[string]any{"id": e.keyID}, nil)
	revoked := time.Now()
	code, reason := closedWith(t, ctx, ws.conn)
	if code != 4403 || !strings.Contains(reason, "revoked") {
		t.Fatalf("closed with %d %q, want 4403: the key was revoked", code, reason)
	}
	if !cancelled.Load() {
		t.Fatal("the socket closed but the running operation was not cancelled")
	}
	t.Logf("the operation ended %v after the revocation (recheck every 100 ms)", time.Since(revoked).Round(time.Millisecond))
}

// TestWebsocketInitTimeout: a socket that sends no connection_init is
// closed with 4408 once the wait is over.
func TestWebsocketInitTimeout(t *testing.T) {
	t.Parallel()
	e := newWSEnv(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn := e.dialRaw(t, ctx, nil)
	code, reason := closedWith(t, ctx, conn)
	if code != 4408 || !strings.Contains(reason, "initialisation timeout") {
		t.Fatalf("closed with %d %q, want 4408 Connection initialisation timeout", code, reason)
	}
}

// TestWebsocketProtocol: the protocol's refusals close with its codes; a
// malformed operation is answered with an error message naming what is
// wrong, without echoing it, and the socket stays usable.
func TestWebsocketProtocol(t *testing.T) {
	t.Parallel()
	e := newWSEnv(t, nil)
	init := fmt.Sprintf(`{"Authorization": "Bearer %s"}`, e.key)
	t.Run("OKNextThenComplete", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ws := e.dialWS(t, ctx, nil, init)
		ws.send("1", `{ viewer { kind } }`)
		var types []string
		for len(types) < 2 {
			var m wsMsg
			if err := wsjson.Read(ctx, ws.conn, &m); err != nil {
				t.Fatalf("after %v: %v", types, err)
			}
			if m.ID != "1" {
				t.Fatalf("message %+v for another operation", m)
			}
			types = append(types, m.Type)
		}
		if types[0] != "next" || types[1] != "complete" {
			t.Fatalf("messages %v, want [next complete]", types)
		}
	})
	t.Run("ErrSecondInit", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ws := e.dialWS(t, ctx, nil, init)
		if err := wsjson.Write(ctx, ws.conn, wsMsg{Type: "connection_init", Payload: json.RawMessage(init)}); err != nil {
			t.Fatal(err)
		}
		if code, _ := closedWith(t, ctx, ws.conn); code != 4429 {
			t.Fatalf("a second connection_init closed with %d, want 4429", code)
		}
	})
	t.Run("ErrBadCredential", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn := e.dialRaw(t, ctx, nil)
		_ = wsjson.Write(ctx, conn, wsMsg{Type: "connection_init", Payload: json.RawMessage(`{"Authorization": "Bearer not-a-key"}`)})
		if code, reason := closedWith(t, ctx, conn); code != 4403 || !strings.Contains(reason, "neither the admin secret nor an API key") {
			t.Fatalf("a bad credential closed with %d %q, want 4403", code, reason)
		}
	})
	t.Run("ErrMalformedPayload", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ws := e.dialWS(t, ctx, nil, init)
		secret := "SECRET-" + strings.Repeat("x", 5000)
		if err := wsjson.Write(ctx, ws.conn, wsMsg{ID: "1", Type: "subscribe", Payload: json.RawMessage(`{"query": 5, "x": "` + secret + `"}`)}); err != nil {
			t.Fatal(err)
		}
		var m wsMsg
		if err := wsjson.Read(ctx, ws.conn, &m); err != nil || m.Type != "error" || m.ID != "1" {
			t.Fatalf("got %+v, %v; want an error message for operation 1", m, err)
		}
		if !strings.Contains(string(m.Payload), "BAD_REQUEST") || strings.Contains(string(m.Payload), "SECRET") {
			t.Fatalf("error payload %s: want BAD_REQUEST without the payload echoed", m.Payload)
		}
		if got := string(ws.operation("2", `{ viewer { kind } }`)); !strings.Contains(got, "API_KEY") {
			t.Fatalf("the socket after a malformed operation: %s", got)
		}
	})
	t.Run("ErrDuplicateID", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		block := make(chan struct{})
		defer close(block)
		ws := e.dialWS(t, ctx, nil, init)
		// Two subscribes with one id, sent together: the second arrives
		// while the first runs or just after; only "while" is a duplicate,
		// so send many and expect either 4409 or clean answers.
		ws.send("same", `{ a: viewer { kind } b: viewer { kind } }`)
		ws.send("same", `{ viewer { kind } }`)
		completed := 0
		for {
			var m wsMsg
			err := wsjson.Read(ctx, ws.conn, &m)
			if err != nil {
				var ce websocket.CloseError
				if !errors.As(err, &ce) || ce.Code != 4409 {
					t.Fatalf("ended with %v, want 4409 or two completed operations", err)
				}
				return
			}
			if m.Type == "complete" {
				// The first completed before the second arrived: legal.
				if completed++; completed == 2 {
					return
				}
				continue
			}
			if m.Type == "next" {
				continue
			}
		}
	})
	t.Run("ErrMessageOverLimit", func(t *testing.T) {
		e := newEnvWith(t, func(c *httpapi.Config) { c.MaxBodyBytes = 4096 })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ws := e.dialWS(t, ctx, nil, `{}`)
		ws.send("1", `{ __typename }`+strings.Repeat(" ", 8192))
		if code, _ := closedWith(t, ctx, ws.conn); code != websocket.StatusMessageTooBig {
			t.Fatalf("a message over REQUEST_MAX_BYTES closed with %d, want 1009", code)
		}
	})
}
