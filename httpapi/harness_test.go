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
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/jmoiron/sqlx"

	"tenantapi/db"
	"tenantapi/db/dbtest"
	"tenantapi/egress"
	"tenantapi/httpapi"
	"tenantapi/keyring"
	"tenantapi/tenant"
)

// testAdminSecret is the ADMIN_SECRET of every test server.
const testAdminSecret = "test-admin-secret-0123456789abcdef"

// env is a real API server over a fresh PostgreSQL database.
type env struct {
	t     testing.TB
	srv   *httptest.Server
	store *db.Store
	url   string   // the database the store uses
	rawDB *sqlx.DB // see raw
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return buildEnv(t, envOptions{})
}

// newEnvWith is newEnv with the server configuration adjusted by edit.
func newEnvWith(t testing.TB, edit func(*httpapi.Config)) *env {
	t.Helper()
	return buildEnv(t, envOptions{config: edit})
}

// testSeller issues the test servers' invoices (SELLER_* in production).
var testSeller = tenant.Seller{Name: "Tenant API Test SAS", Address: []string{"12 rue de la Paix", "75002 Paris", "France"},
	Email: "billing@tenantapi.example", TaxID: "FR00123456789"}

// envOptions vary the test server; the zero value is newEnv's.
type envOptions struct {
	dbURL  string                // the database; "" creates a fresh migrated one
	now    func() time.Time      // the store's clock; nil is time.Now
	config func(*httpapi.Config) // adjusts the server configuration
}

// buildEnv is the one constructor of test servers: a real store with a real
// keyring over a real database, behind the production HTTP stack.
func buildEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	url := o.dbURL
	if url == "" {
		url = dbtest.NewURL(t)
	}
	store, err := db.Open(context.Background(), url, dbtest.Options(db.Options{MaxOpenConns: 10}))
	if err != nil {
		t.Fatalf("open the test database: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	ring, err := keyring.Parse(keyring.Generate("test"))
	if err != nil {
		t.Fatal(err)
	}
	store.Sealer = ring
	store.Seller = testSeller
	if o.now != nil {
		store.Now = o.now
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(&testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	// The server's address is its PUBLIC_URL: SSO redirects come back to it.
	srv := httptest.NewUnstartedServer(nil)
	cfg := httpapi.Config{AdminSecret: testAdminSecret, LoaderWait: 0, Logger: log, PublicURL: "http://" + srv.Listener.Addr().String(),
		Egress: egress.New(egress.Options{AllowPrivate: true, Timeout: 5 * time.Second}), AllowedOrigins: []string{"https://app.example.com"}}
	if o.config != nil {
		o.config(&cfg)
	}
	srv.Config.Handler = httpapi.New(store, cfg)
	srv.Start()
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, store: store, url: url}
}

// raw returns a direct connection to the server's database, for seeding
// and for looking behind the API (opened once, closed with the test).
func (e *env) raw() *sqlx.DB {
	e.t.Helper()
	if e.rawDB == nil {
		conn, err := sqlx.Open("postgres", e.url)
		if err != nil {
			e.t.Fatal(err)
		}
		e.t.Cleanup(func() { conn.Close() })
		e.rawDB = conn
	}
	return e.rawDB
}

type testWriter struct{ t testing.TB }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimSpace(p)))
	return len(p), nil
}

// gqlError is one entry of a response's errors.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// result is a decoded GraphQL response.
type result struct {
	Status int
	Header http.Header
	Raw    []byte
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

// Code is the extensions.code of the first error, or "" when there is none.
func (r *result) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// Field is the extensions.field of the first error.
func (r *result) Field() string {
	if len(r.Errors) == 0 {
		return ""
	}
	f, _ := r.Errors[0].Extensions["field"].(string)
	return f
}

// Decode unmarshals data into v, failing the test on errors in the response.
func (r *result) Decode(t testing.TB, v any) {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected errors: %s", r.Raw)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decode %s: %v", r.Data, err)
	}
}

// do sends an HTTP request to the server and decodes a GraphQL response.
func (e *env) do(req *http.Request) *result {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("request: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := &result{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, r); err != nil {
			e.t.Fatalf("response is not JSON: %v: %s", err, raw)
		}
	}
	answered.note(e.t.Name(), r.Errors)
	return r
}

// gql POSTs a GraphQL operation with the token as bearer credential ("" for
// none).
func (e *env) gql(token, query string, vars map[string]any) *result {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.do(req)
}

// mustGQL is gql that fails the test on any error and decodes data into v.
func (e *env) mustGQL(token, query string, vars map[string]any, v any) {
	e.t.Helper()
	r := e.gql(token, query, vars)
	if r.Status != http.StatusOK {
		e.t.Fatalf("status %d: %s", r.Status, r.Raw)
	}
	if v == nil {
		v = new(map[string]any)
	}
	r.Decode(e.t, v)
}

// createTenant creates a tenant as the operator and returns its id.
func (e *env) createTenant(name, domain string) string {
	e.t.Helper()
	return e.createTenantIn(name, domain, "")
}

// createTenantIn is createTenant in environment (a TenantEnvironment name;
// "" sends none: PRODUCTION).
func (e *env) createTenantIn(name, domain, environment string) string {
	e.t.Helper()
	var out struct {
		CreateTenant struct{ Tenant struct{ ID string } }
	}
	in := map[string]any{"name": name, "domain": domain, "plan": "professional"}
	if environment != "" {
		in["environment"] = environment
	}
	e.mustGQL(testAdminSecret, `mutation($in: CreateTenantInput!) { createTenant(input: $in) { tenant { id } } }`, map[string]any{"in": in}, &out)
	return out.CreateTenant.Tenant.ID
}

// createKey creates an API key for tenantID as the operator, holding perms
// (GraphQL enum names), and returns its secret.
func (e *env) createKey(tenantID string, perms ...string) string {
	e.t.Helper()
	secret, _ := e.createNamedKey(tenantID, fmt.Sprintf("test key (%d permissions)", len(perms)), perms...)
	return secret
}

// wsClient is a graphql-transport-ws connection to the test server, past
// connection_init and its ack.
type wsClient struct {
	t    *testing.T
	ctx  context.Context
	conn *websocket.Conn
}

// wsMsg is a graphql-transport-ws message.
type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// dialWS opens a websocket to /graphql with header on the upgrade request
// and initPayload in connection_init; it is closed when the test ends.
func (e *env) dialWS(t *testing.T, ctx context.Context, header http.Header, initPayload string) *wsClient {
	t.Helper()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.srv.URL, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: header})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	if err := wsjson.Write(ctx, conn, wsMsg{Type: "connection_init", Payload: json.RawMessage(initPayload)}); err != nil {
		t.Fatal(err)
	}
	var ack wsMsg
	if err := wsjson.Read(ctx, conn, &ack); err != nil || ack.Type != "connection_ack" {
		t.Fatalf("connection_init: %+v, %v", ack, err)
	}
	return &wsClient{t: t, ctx: ctx, conn: conn}
}

// operation sends query as operation id and returns the payload of its
// first "next" message.
func (c *wsClient) operation(id, query string) json.RawMessage {
	c.t.Helper()
	payload, _ := json.Marshal(map[string]string{"query": query})
	if err := wsjson.Write(c.ctx, c.conn, wsMsg{ID: id, Type: "subscribe", Payload: payload}); err != nil {
		c.t.Fatal(err)
	}
	var next wsMsg
	for next.Type != "next" {
		if err := wsjson.Read(c.ctx, c.conn, &next); err != nil {
			c.t.Fatal(err)
		}
	}
	return next.Payload
}
