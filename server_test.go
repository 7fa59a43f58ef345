package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"tenantapi/db/dbtest"
	"tenantapi/keyring"
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
		{"OKEncryptionKey", map[string]string{"ENCRYPTION_KEY": keyring.Generate("k2") + "," + keyring.Generate("k1")}, ""},
		{"ErrEncryptionKey", map[string]string{"ENCRYPTION_KEY": "k1:tooshort"}, "32 bytes in base64"},
		{"ErrEgressPrivate", map[string]string{"EGRESS_ALLOW_PRIVATE": "maybe"}, "EGRESS_ALLOW_PRIVATE must be true or false"},
		{"OKTrustedProxies", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1"}, ""},
		{"ErrTrustedProxies", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8,nope"}, "TRUSTED_PROXIES"},
		{"ErrShutdownTimeout", map[string]string{"SHUTDOWN_TIMEOUT": "-1s"}, "SHUTDOWN_TIMEOUT"},
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

// TestGracefulShutdown starts the real server, begins a request whose body
// is still arriving, sends SIGTERM, then finishes the body: the in-flight
// request must complete with 200 before the server exits.
func TestGracefulShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	t.Setenv("DATABASE_URL", dbtest.NewURL(t))
	t.Setenv("PORT", strconv.Itoa(port))
	t.Setenv("LOG_LEVEL", "warn")
	done := make(chan error, 1)
	go func() { done <- run([]string{"serve"}) }()

	base := "http://127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	body := `{"query":"{ plans { id } }"}`
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", pr)
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = int64(len(body))
	type answer struct {
		status int
		body   []byte
		err    error
	}
	got := make(chan answer, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- answer{status: resp.StatusCode, body: b}
	}()
	if _, err := pw.Write([]byte(body[:10])); err != nil { // the request is now in flight
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := pw.Write([]byte(body[10:])); err != nil {
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
	case <-time.After(20 * time.Second):
		t.Fatal("server did not stop after SIGTERM")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("server still answers after shutdown")
	}
}
