package main

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"tenantapi/db"
	"tenantapi/db/dbtest"
	"tenantapi/httpapi"
	"tenantapi/keyring"
	"tenantapi/tenant"
)

func TestLoadConfig(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres://u@127.0.0.1/db?sslmode=disable"}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // substring of the one-line error; "" = valid
	}{
		{"OK", nil, ""},
		{"OKAll", map[string]string{"PORT": "9000", "ADMIN_SECRET": strings.Repeat("s", 32), "CORS_ALLOWED_ORIGINS": "https://a.example, http://localhost:3000", "LOG_LEVEL": "debug", "LOG_FORMAT": "text", "LOADER_WAIT": "500us", "DB_MAX_CONNS": "50", "SHUTDOWN_TIMEOUT": "5s"}, ""},
		{"ErrNoDatabaseURL", map[string]string{"DATABASE_URL": ""}, "DATABASE_URL is required"},
		{"ErrDatabaseURLScheme", map[string]string{"DATABASE_URL": "mysql://x"}, "postgres:// URL"},
		{"ErrPort", map[string]string{"PORT": "http"}, "PORT must be a number from 1 to 65535"},
		{"ErrPortRange", map[string]string{"PORT": "70000"}, "PORT must be"},
		{"ErrAdminSecretShort", map[string]string{"ADMIN_SECRET": "short"}, "ADMIN_SECRET must be at least 24 characters"},
		{"ErrOrigin", map[string]string{"CORS_ALLOWED_ORIGINS": "app.example.com"}, "CORS_ALLOWED_ORIGINS"},
		{"ErrLogLevel", map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL must be debug, info, warn or error"},
		{"ErrLogFormat", map[string]string{"LOG_FORMAT": "xml"}, "LOG_FORMAT must be json or text"},
		{"ErrLoaderWait", map[string]string{"LOADER_WAIT": "5"}, "LOADER_WAIT"},
		{"ErrDBMaxConns", map[string]string{"DB_MAX_CONNS": "0"}, "DB_MAX_CONNS"},
		{"OKFailedAuthUnlimited", map[string]string{"RATE_LIMIT_FAILED_AUTH_PER_MINUTE": "0"}, ""},
		{"ErrFailedAuth", map[string]string{"RATE_LIMIT_FAILED_AUTH_PER_MINUTE": "-1"}, "RATE_LIMIT_FAILED_AUTH_PER_MINUTE must be a number"},
		{"OKNoPreparedStatements", map[string]string{"DB_PREPARED_STATEMENTS": "false"}, ""},
		{"ErrPreparedStatements", map[string]string{"DB_PREPARED_STATEMENTS": "sometimes"}, "DB_PREPARED_STATEMENTS must be true or false"},
		{"OKEncryptionKey", map[string]string{"ENCRYPTION_KEY": keyring.Generate("k2") + "," + keyring.Generate("k1")}, ""},
		{"ErrEncryptionKey", map[string]string{"ENCRYPTION_KEY": "k1:tooshort"}, "32 bytes in base64"},
		{"ErrEgressPrivate", map[string]string{"EGRESS_ALLOW_PRIVATE": "maybe"}, "EGRESS_ALLOW_PRIVATE must be true or false"},
		{"OKTrustedProxies", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1"}, ""},
		{"ErrTrustedProxies", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8,nope"}, "TRUSTED_PROXIES"},
		{"ErrShutdownTimeout", map[string]string{"SHUTDOWN_TIMEOUT": "-1s"}, "SHUTDOWN_TIMEOUT"},
		{"OKRedisURL", map[string]string{"REDIS_URL": "redis://:pw@127.0.0.1:6379/2"}, ""},
		{"ErrRedisURL", map[string]string{"REDIS_URL": "http://:secret-pw@127.0.0.1:6379"}, "REDIS_URL must be a redis:// or rediss:// URL"},
		{"OKAnonymousUnlimited", map[string]string{"RATE_LIMIT_ANONYMOUS_PER_MINUTE": "0"}, ""},
		{"ErrAnonymousPerMinute", map[string]string{"RATE_LIMIT_ANONYMOUS_PER_MINUTE": "-5"}, "RATE_LIMIT_ANONYMOUS_PER_MINUTE must be a number"},
		{"OKQueryLimits", map[string]string{"QUERY_MAX_DEPTH": "12", "QUERY_MAX_ALIASES": "50", "QUERY_MAX_DIRECTIVES": "3", "QUERY_MAX_TOKENS": "10000",
			"QUERY_MAX_COST": "100000", "QUERY_MAX_FIELD_COPIES": "40", "REQUEST_MAX_BYTES": "262144", "REQUEST_TIMEOUT": "30s", "DB_STATEMENT_TIMEOUT": "0",
			"INTROSPECTION_ENABLED": "false", "FIELD_SUGGESTIONS_ENABLED": "false"}, ""},
		{"ErrQueryMaxDepth", map[string]string{"QUERY_MAX_DEPTH": "1"}, "QUERY_MAX_DEPTH must be a number of levels of nested fields from 2 to 100"},
		{"ErrQueryMaxAliases", map[string]string{"QUERY_MAX_ALIASES": "many"}, "QUERY_MAX_ALIASES must be a number"},
		{"ErrQueryMaxDirectives", map[string]string{"QUERY_MAX_DIRECTIVES": "0"}, "QUERY_MAX_DIRECTIVES must be a number"},
		{"ErrQueryMaxTokens", map[string]string{"QUERY_MAX_TOKENS": "50"}, "QUERY_MAX_TOKENS must be a number of tokens per document from 100"},
		{"ErrQueryMaxCost", map[string]string{"QUERY_MAX_COST": "-1"}, "QUERY_MAX_COST must be a number"},
		{"ErrQueryMaxFieldCopies", map[string]string{"QUERY_MAX_FIELD_COPIES": "1001"}, "QUERY_MAX_FIELD_COPIES must be a number"},
		{"ErrRequestMaxBytes", map[string]string{"REQUEST_MAX_BYTES": "1MB"}, "REQUEST_MAX_BYTES must be a number of bytes"},
		{"ErrRequestTimeout", map[string]string{"REQUEST_TIMEOUT": "0"}, "REQUEST_TIMEOUT must be a duration from 100ms to 10m"},
		{"ErrDBStatementTimeout", map[string]string{"DB_STATEMENT_TIMEOUT": "10"}, "DB_STATEMENT_TIMEOUT must be a duration"},
		{"ErrIntrospectionEnabled", map[string]string{"INTROSPECTION_ENABLED": "no way"}, "INTROSPECTION_ENABLED must be true or false"},
		{"OKIntrospectionAuthenticated", map[string]string{"INTROSPECTION": "authenticated"}, ""},
		{"OKIntrospectionOff", map[string]string{"INTROSPECTION": "OFF"}, ""},
		{"ErrIntrospection", map[string]string{"INTROSPECTION": "anonymous"}, `INTROSPECTION must be all, authenticated or off, got "anonymous"`},
		{"ErrIntrospectionBoth", map[string]string{"INTROSPECTION": "off", "INTROSPECTION_ENABLED": "false"}, "and not INTROSPECTION_ENABLED"},
		{"ErrFieldSuggestionsEnabled", map[string]string{"FIELD_SUGGESTIONS_ENABLED": "2"}, "FIELD_SUGGESTIONS_ENABLED must be true or false"},
		{"OKSSOLoginBase", map[string]string{"SSO_LOGIN_BASE_URL": "https://login.example.com/sso/"}, ""},
		{"OKSSOLoginBaseLocalhost", map[string]string{"SSO_LOGIN_BASE_URL": "http://localhost:3000/auth/sso"}, ""},
		{"ErrSSOLoginBaseHTTP", map[string]string{"SSO_LOGIN_BASE_URL": "http://login.example.com/sso"}, "SSO_LOGIN_BASE_URL must be an absolute https URL"},
		{"ErrSSOLoginBaseRelative", map[string]string{"SSO_LOGIN_BASE_URL": "/auth/sso"}, "SSO_LOGIN_BASE_URL must be an absolute https URL"},
		{"OKAPIKeysMaxActive", map[string]string{"API_KEYS_MAX_ACTIVE": "200"}, ""},
		{"ErrAPIKeysMaxActiveZero", map[string]string{"API_KEYS_MAX_ACTIVE": "0"}, "API_KEYS_MAX_ACTIVE must be a number of active API keys per tenant from 1 to 10000"},
		{"ErrAPIKeysMaxActiveWord", map[string]string{"API_KEYS_MAX_ACTIVE": "lots"}, "API_KEYS_MAX_ACTIVE must be a number"},
		{"ErrLoaderWaitTooLong", map[string]string{"LOADER_WAIT": "2s"}, "LOADER_WAIT must be a duration from 0 to 1s such as 0 or 500us"},
		{"ErrShutdownTimeoutZero", map[string]string{"SHUTDOWN_TIMEOUT": "0"}, "SHUTDOWN_TIMEOUT must be a positive duration such as 20s"},
		{"OKDBStatementTimeoutNone", map[string]string{"DB_STATEMENT_TIMEOUT": "0s"}, ""},
		{"ErrDBStatementTimeoutShort", map[string]string{"DB_STATEMENT_TIMEOUT": "500us"}, "DB_STATEMENT_TIMEOUT must be a duration from 1ms to 1h such as 10s, or 0 for none"},
		{"ErrRequestMaxBytesLarge", map[string]string{"REQUEST_MAX_BYTES": "104857601"}, "REQUEST_MAX_BYTES must be a number of bytes from 1024 to 104857600"},
		{"ErrAnonymousPerMinuteRange", map[string]string{"RATE_LIMIT_ANONYMOUS_PER_MINUTE": "x"}, "RATE_LIMIT_ANONYMOUS_PER_MINUTE must be a number of requests from 0 (no limit) to 1000000"},
		{"OKIntrospectionEnabled", map[string]string{"INTROSPECTION_ENABLED": "true"}, ""},
		{"ErrIntrospectionBothOrder", map[string]string{"INTROSPECTION": "bogus", "INTROSPECTION_ENABLED": "bogus"}, "set INTROSPECTION (all, authenticated, off) and not INTROSPECTION_ENABLED, its older form"},
		{"ErrSSOLoginBaseQuery", map[string]string{"SSO_LOGIN_BASE_URL": "https://login.example.com/sso?x=1"}, "without query or fragment"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tc.env {
				env[k] = v
			}
			_, err := loadConfig(func(k string) string { return env[k] })
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error = %v, want one line containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestLoadConfigDefaults: with only DATABASE_URL set, every field holds the
// default the table declares (the values loadConfig set by hand before it
// was a table, and the constants of the packages that own them).
func TestLoadConfigDefaults(t *testing.T) {
	url := "postgres://u@127.0.0.1/db?sslmode=disable"
	got, err := loadConfig(func(k string) string { return map[string]string{"DATABASE_URL": url}[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := config{DatabaseURL: url, Port: 8080, LogLevel: slog.LevelInfo, LogFormat: "json", DBMaxConns: 20, ShutdownTimeout: 20 * time.Second, ShutdownDrain: 10 * time.Second,
		AnonymousPerMin: 60, FailedAuthPerMin: 20, Limits: httpapi.DefaultLimits, MaxBodyBytes: 1 << 20, RequestTimeout: httpapi.DefaultRequestTimeout,
		StatementTime: 10 * time.Second, DBPrepare: true, AssocCacheBytes: db.DefaultAssocCacheBytes, Introspection: httpapi.IntrospectionAll, Suggestions: true, PublicBaseURL: tenant.DefaultPublicURL,
		MaxActiveKeys: tenant.DefaultMaxActiveAPIKeys, EventRetention: 30 * 24 * time.Hour,
		MaxMembers: tenant.DefaultMaxMembers, SessionIdle: tenant.DefaultSessionIdle, SessionMaxAge: tenant.DefaultSessionMaxAge, LoginPerMin: 5,
		WebhookWorkers: 8, WebhookPerURL: 2, WebhookTimeout: 10 * time.Second,
		WebhookDisable: 5 * 24 * time.Hour, MaxConcurrent: defaultMaxConcurrent(), MailFrom: defaultMailFrom, MailDir: ".data/mail", LivePerCred: 10}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", got, want)
	}
}

// readmeConfigPath holds the Configuration table that settings generates.
const readmeConfigPath = "docs/configuration.md"

var updateReadme = flag.Bool("update", false, "rewrite docs/configuration.md from settings (TestConfigTableMatchesDocs)")

// configTable renders settings as docs/configuration.md.
func configTable() []string {
	lines := []string{"| Variable | Default | Allowed | Meaning |", "|---|---|---|---|"}
	for _, s := range settings(&config{}) {
		lines = append(lines, fmt.Sprintf("| `%s` | %s | %s | %s |", s.name, readmeDefault(s), s.val.allowed, s.meaning))
	}
	return lines
}

// readmeDefault is the Default column: the default in code marks, then its note.
func readmeDefault(s setting) string {
	switch {
	case s.def == "":
		return s.defNote
	case s.defNote == "":
		return "`" + s.def + "`"
	}
	return "`" + s.def + "` " + s.defNote
}

// TestConfigTableMatchesDocs keeps docs/configuration.md equal
// to settings, the table loadConfig reads: a variable in one and not the
// other, a different default, or any other difference fails, with the
// table to paste. `go test . -run TestConfigTableMatchesDocs -update`
// rewrites the docs' table instead.
func TestConfigTableMatchesDocs(t *testing.T) {
	b, err := os.ReadFile(readmeConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	start, end := -1, -1
	inSection := false
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "## "):
			inSection = l == "## Variables"
		case inSection && start < 0 && strings.HasPrefix(l, "| Variable |"):
			start = i
		}
		if start >= 0 && i >= start && !strings.HasPrefix(l, "|") {
			end = i
			break
		}
	}
	if start < 0 || end < 0 {
		t.Fatalf("%s: no table starting with \"| Variable |\" under \"## Variables\"", readmeConfigPath)
	}
	want := configTable()
	if *updateReadme {
		out := append(append(append([]string{}, lines[:start]...), want...), lines[end:]...)
		if err := os.WriteFile(readmeConfigPath, []byte(strings.Join(out, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got := lines[start:end]
	if reflect.DeepEqual(got, want) {
		return
	}
	defaults := func(rows []string) map[string]string {
		m := map[string]string{}
		for _, r := range rows[min(2, len(rows)):] {
			if cells := strings.Split(r, " | "); len(cells) >= 2 {
				m[strings.Trim(cells[0], "|` ")] = cells[1]
			}
		}
		return m
	}
	inCode, inReadme := defaults(want), defaults(got)
	for _, name := range slices.Sorted(maps.Keys(inCode)) {
		if d, def := inReadme[name], inCode[name]; d == "" {
			t.Errorf("%s is read by the code but not in %s", name, readmeConfigPath)
		} else if d != def {
			t.Errorf("%s: %s says the default is %s, the code %s", name, readmeConfigPath, d, def)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(inReadme)) {
		if _, ok := inCode[name]; !ok {
			t.Errorf("%s is in %s but not declared in settings (config.go)", name, readmeConfigPath)
		}
	}
	t.Errorf("%s's Configuration table differs from settings (config.go). Edit the setting, then run\n"+
		"\tgo test . -run TestConfigTableMatchesDocs -update\nor paste:\n%s", readmeConfigPath, strings.Join(want, "\n"))
}

// envNotConfig are the variables the repository reads that are not the
// server's configuration, with why.
var envNotConfig = map[string]string{
	"CI":                "set by CI systems; only skips a browser test there",
	"BENCH_ADMIN_URL":   "the benchmark tools' own (bench/cmd/seed, bench/cmd/load: their -url flag's default)",
	"TENANTAPI_URL":     "the `events listen` client's and examples/partner's: the API it connects to (docs/events.md, Developing a receiver)",
	"TENANTAPI_API_KEY": "the `events listen` client's and examples/partner's: the tenant's API key it subscribes or calls with",
	"WEBHOOK_SECRET":    "examples/receiver's: the signing secret it verifies deliveries with",
	"ADDR":              "examples/receiver's: where it listens (localhost:3000)",
}

// TestConfigDeclaresEveryVariable: every environment variable named in a
// Getenv or LookupEnv call anywhere in the repository is a row of settings
// (or listed in envNotConfig), so none escapes docs/configuration.md.
func TestConfigDeclaresEveryVariable(t *testing.T) {
	declared := map[string]bool{}
	for _, s := range settings(&config{}) {
		if declared[s.name] {
			t.Errorf("%s is declared twice in settings", s.name)
		}
		declared[s.name] = true
	}
	read := regexp.MustCompile(`(?:[Gg]etenv|LookupEnv)\("([A-Za-z0-9_]+)"\)`)
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range read.FindAllStringSubmatch(string(src), -1) {
			if _, ok := envNotConfig[m[1]]; !ok && !declared[m[1]] {
				t.Errorf("%s reads %s, which is not declared in settings (config.go) nor listed in envNotConfig", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRedisURLErrorHidesPassword: a REDIS_URL that does not parse may
// still hold a password, so the error never repeats it.
func TestRedisURLErrorHidesPassword(t *testing.T) {
	env := map[string]string{"DATABASE_URL": "postgres://u@127.0.0.1/db?sslmode=disable", "REDIS_URL": "redis//:hunter2-secret@cache:6379"}
	_, err := loadConfig(func(k string) string { return env[k] })
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error = %v, want one that does not repeat the password", err)
	}
}

// TestGracefulShutdown starts the real server (run, as main does) and sends
// it SIGTERM. During the drain /readyz answers 503 while /healthz and
// GraphQL still answer, on new connections, and the subscriptions stay
// open; a second SIGTERM ends the drain (SHUTDOWN_DRAIN is an hour here, so
// nothing depends on timing): the port closes, the websocket subscription
// is closed with 1001 and the SSE one ends with complete, and a request
// whose body was still arriving completes with 200 before run returns.
func TestGracefulShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	const admin = "graceful-admin-secret-0123456789abcdef"
	t.Setenv("DATABASE_URL", dbtest.NewURL(t))
	t.Setenv("PORT", strconv.Itoa(port))
	t.Setenv("LOG_LEVEL", "warn")
	t.Setenv("ADMIN_SECRET", admin)
	t.Setenv("SHUTDOWN_DRAIN", "1h")
	t.Setenv("SHUTDOWN_TIMEOUT", "60s")
	done := make(chan error, 1)
	go func() { done <- run([]string{"serve"}) }()

	base := "http://127.0.0.1:" + strconv.Itoa(port)
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}} // a new connection for each request
	// eventually polls cond for at most a minute: liveness only.
	eventually := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within a minute", what)
			}
		}
	}
	status := func(path string) int {
		resp, err := fresh.Get(base + path)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	gql := func(query string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(`{"query":`+strconv.Quote(query)+`}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := fresh.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	eventually("the server starts", func() bool { return status("/healthz") == http.StatusOK })
	if got := status("/readyz"); got != http.StatusOK {
		t.Fatalf("/readyz before SIGTERM: %d", got)
	}
	code, body := gql(`mutation { createTenant(input: {name: "Graceful", domain: "graceful.example"}) { tenant { id } } }`)
	tenantID := regexp.MustCompile(`"id":"([0-9a-f-]{36})"`).FindStringSubmatch(body)
	if code != http.StatusOK || tenantID == nil {
		t.Fatalf("createTenant: %d %s", code, body)
	}
	subscription := `subscription { tenantEvents(tenantId: "` + tenantID[1] + `") { id } }`

	// A websocket subscription and an SSE one, open across the drain.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://127.0.0.1:"+strconv.Itoa(port)+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: http.Header{"Authorization": {"Bearer " + admin}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	for _, m := range []string{`{"type":"connection_init"}`, `{"id":"1","type":"subscribe","payload":{"query":` + strconv.Quote(subscription) + `}}`} {
		if err := ws.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	if _, ack, err := ws.Read(ctx); err != nil || !bytes.Contains(ack, []byte("connection_ack")) {
		t.Fatalf("connection_init: %s %v", ack, err)
	}
	sseReq, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/graphql", strings.NewReader(`{"query":`+strconv.Quote(subscription)+`}`))
	sseReq.Header.Set("Content-Type", "application/json")
	sseReq.Header.Set("Accept", "text/event-stream")
	sseReq.Header.Set("Authorization", "Bearer "+admin)
	sse, err := http.DefaultClient.Do(sseReq)
	if err != nil || sse.StatusCode != http.StatusOK {
		t.Fatalf("SSE subscription: %v %v", sse, err)
	}
	defer sse.Body.Close()

	// A request in flight: its body arrives in two parts, the second only
	// once the server has stopped accepting connections.
	slowBody := `{"query":"{ plans { id } }"}`
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", pr)
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = int64(len(slowBody))
	type answer struct {
		status int
		body   []byte
		err    error
	}
	got := make(chan answer, 1)
	go func() {
		resp, err := fresh.Do(req)
		if err != nil {
			got <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- answer{status: resp.StatusCode, body: b}
	}()
	if _, err := pw.Write([]byte(slowBody[:10])); err != nil { // the request is now in flight
		t.Fatal(err)
	}

	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	eventually("/readyz answers 503 after SIGTERM", func() bool { return status("/readyz") == http.StatusServiceUnavailable })
	if got := status("/healthz"); got != http.StatusOK {
		t.Fatalf("/healthz during the drain: %d", got)
	}
	if code, body := gql(`{ plans { id } }`); code != http.StatusOK || !strings.Contains(body, `"starter"`) {
		t.Fatalf("GraphQL during the drain: %d %s", code, body)
	}
	if code, body := gql(`{ node(id: "` + tenantID[1] + `") { id } }`); code != http.StatusOK || !strings.Contains(body, tenantID[1]) {
		t.Fatalf("GraphQL during the drain: %d %s", code, body)
	}

	// The second SIGTERM ends the drain.
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	eventually("the port closes", func() bool {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	// Messages sent before the close (a ping, an event) are read past.
	var wsErr error
	for wsErr == nil {
		_, _, wsErr = ws.Read(ctx)
	}
	if websocket.CloseStatus(wsErr) != websocket.StatusGoingAway {
		t.Fatalf("the websocket after shutdown: %v; want closed with 1001 (going away)", wsErr)
	}
	rest, err := io.ReadAll(sse.Body)
	if err != nil || !strings.HasSuffix(string(rest), "event: complete\ndata:\n\n") {
		t.Fatalf("the SSE stream after shutdown: %q %v; want it to end with complete", rest, err)
	}
	if _, err := pw.Write([]byte(slowBody[10:])); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	a := <-got
	if a.err != nil || a.status != http.StatusOK || !bytes.Contains(a.body, []byte(`"starter"`)) {
		t.Fatalf("in-flight request: status %d, body %s, err %v", a.status, a.body, a.err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("server did not stop after SIGTERM")
	}
}

// TestPurgeExpired runs the purge job: it deletes the audit entries past
// their tenant's retention and the usage event ids past the replay window,
// keeps the others, and stops when its context ends (as at shutdown).
func TestPurgeExpired(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	store, err := db.Open(context.Background(), url, db.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	raw, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	admin := tenant.WithActor(context.Background(), &tenant.Actor{Kind: tenant.Admin})
	tn, err := store.CreateTenant(admin, tenant.CreateTenant{Name: "Purged", Domain: "purged.example.com", PlanID: "starter"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO audit_log (tenant_id, at, actor, action, operation, target_type, target_id, changes)
		VALUES ($1, now() - interval '400 days', 'admin', 'old', 'EVENT', 'test', 'old', '{}')`, tn.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO usage_events (tenant_id, event_id, occurred_at, recorded_at)
		VALUES ($1, 'old', now() - interval '40 days', now() - interval '40 days'), ($1, 'recent', now(), now())`, tn.ID); err != nil {
		t.Fatal(err)
	}
	count := func(action string) (n int) {
		_ = raw.QueryRow(`SELECT count(*) FROM audit_log WHERE action = $1`, action).Scan(&n)
		return n
	}
	events := func() (ids []string) {
		rows, _ := raw.Query(`SELECT event_id FROM usage_events ORDER BY event_id`)
		for rows != nil && rows.Next() {
			var id string
			_ = rows.Scan(&id)
			ids = append(ids, id)
		}
		return ids
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		purgeExpired(ctx, store, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Hour, 30*24*time.Hour)
	}()
	for i := 0; (count("old") != 0 || len(events()) != 1) && i < 500; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if count("old") != 0 || count("createTenant")+count("tenants.insert") == 0 {
		t.Errorf("after the purge: %d expired entries, %d recent ones; want 0 and the tenant's creation", count("old"), count("tenants.insert"))
	}
	if ids := events(); len(ids) != 1 || ids[0] != "recent" {
		t.Errorf("usage event ids after the purge: %v, want [recent]", ids)
	}
}

// TestTuneGC: the collector's defaults apply only where GOGC and GOMEMLIMIT
// are unset.
func TestTuneGC(t *testing.T) {
	oldPercent := debug.SetGCPercent(100)
	oldLimit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(oldPercent); debug.SetMemoryLimit(oldLimit) })
	if g, m := tuneGC(func(string) string { return "" }); g != defaultGCPercent || m != defaultMemLimit {
		t.Errorf("defaults: GOGC %d, GOMEMLIMIT %d", g, m)
	}
	debug.SetGCPercent(77)
	debug.SetMemoryLimit(1 << 30)
	env := map[string]string{"GOGC": "77", "GOMEMLIMIT": "1GiB"}
	if g, m := tuneGC(func(k string) string { return env[k] }); g != 77 || m != 1<<30 {
		t.Errorf("with GOGC and GOMEMLIMIT set: GOGC %d, GOMEMLIMIT %d", g, m)
	}
}

// TestEventsListenNeedsNoDatabase: `events listen` is a client of the
// API: it runs before the server's configuration is read, so a missing
// DATABASE_URL is never its error; its own flags are checked.
func TestEventsListenNeedsNoDatabase(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"ErrNoForwardTo", []string{"events", "listen"}, "--forward-to is required"},
		{"ErrNoKey", []string{"events", "listen", "--forward-to", "http://localhost:3000/webhooks"}, "TENANTAPI_API_KEY"},
		{"ErrPublicHTTP", []string{"events", "listen", "--forward-to", "http://example.com/webhooks"}, "this machine only"},
		{"ErrUsage", []string{"events"}, "usage: tenantapi events listen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "ErrPublicHTTP" {
				t.Setenv("TENANTAPI_API_KEY", "tnt_x")
			} else {
				t.Setenv("TENANTAPI_API_KEY", "")
			}
			err := run(tc.args)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "DATABASE_URL") {
				t.Fatalf("got %v, want an error naming %q", err, tc.want)
			}
		})
	}
}
