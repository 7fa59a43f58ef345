package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"tenantapi/db"
	"tenantapi/db/dbtest"
	"tenantapi/httpapi"
	"tenantapi/tenant"
)

// benchTenant is a fresh database with one professional tenant and a key
// holding every tenant permission.
func benchTenant(b *testing.B) (*db.Store, string) {
	b.Helper()
	store := dbtest.New(b)
	ctx := tenant.WithActor(context.Background(), &tenant.Actor{Kind: tenant.Admin})
	tn, err := store.CreateTenant(ctx, tenant.CreateTenant{Name: "Bench", Domain: "bench.example.com", PlanID: "professional"})
	if err != nil {
		b.Fatal(err)
	}
	_, key, err := store.CreateAPIKey(ctx, tenant.NewAPIKeyInput{TenantID: tn.ID, Name: "bench", Permissions: tenant.TenantPermissions()})
	if err != nil {
		b.Fatal(err)
	}
	return store, key
}

// BenchmarkMe measures the dashboard's `me` query with every association,
// through the real HTTP stack and PostgreSQL, for several loader wait
// windows. Compare runs with benchstat; the ratio between windows is what
// chose the default (README: Batched loads).
func BenchmarkMe(b *testing.B) {
	store, key := benchTenant(b)
	body := []byte(`{"query":"{ me { name plan { name } settings { dataResidency } limits { users } usage { activeUsers } apiKeys { nodes { id } } } }"}`)
	for _, wait := range []time.Duration{0, 100 * time.Microsecond, 500 * time.Microsecond, time.Millisecond, 2 * time.Millisecond} {
		b.Run(fmt.Sprintf("wait=%s", wait), func(b *testing.B) {
			srv := httptest.NewServer(httpapi.New(store, httpapi.Config{LoaderWait: wait, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
			defer srv.Close()
			start := store.Statements.Load()
			b.ResetTimer()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
			b.ReportMetric(float64(store.Statements.Load()-start)/float64(b.N), "stmts/op")
		})
	}
}

// BenchmarkWebsocketOperation measures what re-authenticating every
// websocket operation costs: `{ viewer { kind } }` (no SQL of its own) over
// one open socket with the admin secret (checked without a lookup) and with
// an API key (one indexed lookup per operation), and the same operation as
// an HTTP POST with the key for reference. The key/admin ratio over the
// socket is the price of the check.
func BenchmarkWebsocketOperation(b *testing.B) {
	store, key := benchTenant(b)
	const admin = "bench-admin-secret-0123456789abcdef"
	srv := httptest.NewServer(httpapi.New(store, httpapi.Config{AdminSecret: admin, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer srv.Close()
	e := &env{t: b, srv: srv, store: store}
	for _, c := range []struct{ name, token string }{{"ws/admin", admin}, {"ws/key", key}} {
		b.Run(c.name, func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
			if err != nil {
				b.Fatal(err)
			}
			defer conn.CloseNow()
			_ = wsjson.Write(ctx, conn, wsMsg{Type: "connection_init", Payload: json.RawMessage(`{"Authorization": "Bearer ` + c.token + `"}`)})
			var ack wsMsg
			if err := wsjson.Read(ctx, conn, &ack); err != nil || ack.Type != "connection_ack" {
				b.Fatalf("init: %+v %v", ack, err)
			}
			payload := json.RawMessage(`{"query": "{ viewer { kind } }"}`)
			start := store.Statements.Load()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				i++
				id := strconv.Itoa(i)
				if err := wsjson.Write(ctx, conn, wsMsg{ID: id, Type: "subscribe", Payload: payload}); err != nil {
					b.Fatal(err)
				}
				for {
					var m wsMsg
					if err := wsjson.Read(ctx, conn, &m); err != nil {
						b.Fatal(err)
					}
					if m.Type == "complete" {
						break
					}
					if m.Type == "error" {
						b.Fatalf("%s", m.Payload)
					}
				}
			}
			b.ReportMetric(float64(store.Statements.Load()-start)/float64(b.N), "stmts/op")
		})
	}
	b.Run("http/key", func(b *testing.B) {
		for b.Loop() {
			r := e.gql(key, `{ viewer { kind } }`, nil)
			if r.Status != http.StatusOK {
				b.Fatalf("status %d", r.Status)
			}
		}
	})
}
