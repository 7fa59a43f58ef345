// Package scaleout_test runs the API as it is deployed when it scales out
// (docs/scaling.md): several real tenantapi processes over one PostgreSQL
// and one Redis, and PostgreSQL behind PgBouncer in transaction mode.
package scaleout_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/lib/pq" // the postgres driver
)

// safeBuffer collects a process's output while it runs.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// freePort returns a TCP port free on 127.0.0.1 a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestMain removes the binary built for the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds the tenantapi command once per test process.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tenantapi-scaleout")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "tenantapi")
		out, err := exec.Command("go", "build", "-o", binPath, "tenantapi").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// instance is one running tenantapi process.
type instance struct {
	name string
	base string // http://127.0.0.1:port
	log  *safeBuffer
}

// startInstance runs `tenantapi serve args...` with env (on top of this
// process's environment) on a free port, waits until /readyz answers 200,
// and stops it (SIGTERM) when the test ends.
func startInstance(t *testing.T, name string, env map[string]string, args ...string) *instance {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(binary(t), append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "LOG_FORMAT=text")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	inst := &instance{name: name, base: "http://127.0.0.1:" + strconv.Itoa(port), log: &safeBuffer{}}
	cmd.Stdout, cmd.Stderr = inst.log, inst.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // even if this process dies
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("instance %s's log:\n%s", name, inst.log)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(inst.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return inst
			}
		}
		select {
		case <-exited:
			t.Fatalf("instance %s exited: %v\n%s", name, waitErr, inst.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance %s did not get ready: %v\n%s", name, err, inst.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// gqlResult is a decoded GraphQL answer.
type gqlResult struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// code is the first error's extensions.code, or "".
func (r *gqlResult) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// gql POSTs an operation to the instance with token as bearer credential
// ("" = none) and header (may be nil) added.
func (in *instance) gql(t *testing.T, token, query string, vars map[string]any, header http.Header) *gqlResult {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, in.base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", in.name, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := &gqlResult{Status: resp.StatusCode}
	if err := json.Unmarshal(raw, r); err != nil {
		t.Fatalf("%s answered %d with no GraphQL response: %s", in.name, resp.StatusCode, raw)
	}
	return r
}

// must is gql that fails the test on errors and decodes data into v.
func (in *instance) must(t *testing.T, token, query string, vars map[string]any, v any) {
	t.Helper()
	r := in.gql(t, token, query, vars, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("%s: %s: %+v", in.name, query, r.Errors)
	}
	if v != nil {
		if err := json.Unmarshal(r.Data, v); err != nil {
			t.Fatal(err)
		}
	}
}

// subscribe opens a subscription over SSE and sends each `next` payload's
// data on the returned channel until ctx ends.
func (in *instance) subscribe(t *testing.T, ctx context.Context, token, query string) <-chan json.RawMessage {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, in.base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: subscribe: %v", in.name, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		t.Fatalf("%s: subscribe: HTTP %d", in.name, resp.StatusCode)
	}
	out := make(chan json.RawMessage, 64)
	go func() {
		defer resp.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var msg struct {
					Data json.RawMessage `json:"data"`
				}
				if json.Unmarshal([]byte(data), &msg) == nil && msg.Data != nil {
					out <- msg.Data
				}
			}
		}
	}()
	return out
}

// withHostPort returns the postgres URL rawURL pointing at addr instead.
func withHostPort(t *testing.T, rawURL, addr string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	return u.String()
}

// bouncer is a PgBouncer started by a test.
type bouncer struct {
	addr string // 127.0.0.1:port
	user string
	log  *safeBuffer
	cmd  *exec.Cmd
	done chan struct{}
}

// pgbouncerPath finds Debian's pgbouncer (/usr/sbin is not on every PATH).
func pgbouncerPath() string {
	if p, err := exec.LookPath("pgbouncer"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/pgbouncer"); err == nil {
		return "/usr/sbin/pgbouncer"
	}
	return ""
}

// startPgBouncer runs PgBouncer in transaction mode on a free port in front
// of the PostgreSQL server of direct (a superuser URL), every database
// reachable through it (the * entry), the URL's user trusted, and stops
// it when the test ends. Without pgbouncer the test skips (fails with
// CI=true): scripts/test.sh installs it with apt-get when it can.
func startPgBouncer(t *testing.T, direct string) *bouncer {
	t.Helper()
	bin := pgbouncerPath()
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("pgbouncer is not installed (apt-get install pgbouncer; scripts/test.sh does it as root)")
		}
		t.Skip("pgbouncer is not installed: the PgBouncer tests skip (apt-get install pgbouncer)")
	}
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	pgUser := u.User.Username()
	if pgUser == "" {
		pgUser = "postgres"
	}
	port := freePort(t)
	// Not t.TempDir: when this runs as root, PgBouncer drops to nobody
	// (it refuses to run as root) and must still read its files.
	dir, err := os.MkdirTemp("", "pgbouncer")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	host, pgPort := u.Hostname(), u.Port()
	if pgPort == "" {
		pgPort = "5432"
	}
	ini := fmt.Sprintf(`[databases]
* = host=%s port=%s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
admin_users = %s
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
; the server is shared: bound what the pooler opens in all
max_user_connections = 20
server_idle_timeout = 10
; SHOW STATS totals (stats) are refreshed every stats_period seconds
stats_period = 1
`, host, pgPort, port, filepath.Join(dir, "users.txt"), pgUser)
	for name, body := range map[string]string{"pgbouncer.ini": ini, "users.txt": fmt.Sprintf("%q \"\"\n", pgUser)} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := &bouncer{addr: "127.0.0.1:" + strconv.Itoa(port), user: pgUser, log: &safeBuffer{}, done: make(chan struct{})}
	b.cmd = exec.Command(bin, filepath.Join(dir, "pgbouncer.ini"))
	b.cmd.Stdout, b.cmd.Stderr = b.log, b.log
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if os.Geteuid() == 0 {
		// PgBouncer refuses to run as root. Started as nobody rather than
		// with its -u, so that the parent-death signal (set after the
		// change of user) still stops it if this test process dies.
		nobody, err := user.Lookup("nobody")
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.ParseUint(nobody.Uid, 10, 32)
		gid, _ := strconv.ParseUint(nobody.Gid, 10, 32)
		b.cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = b.cmd.Wait(); close(b.done) }()
	t.Cleanup(func() {
		_ = b.cmd.Process.Kill()
		<-b.done
		if t.Failed() {
			t.Logf("pgbouncer's log (last lines):\n%s", tail(b.log.String(), 40))
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := sql.Open("postgres", withHostPort(t, direct, b.addr))
		if err == nil {
			err = conn.Ping()
			conn.Close()
		}
		if err == nil {
			return b
		}
		select {
		case <-b.done:
			t.Fatalf("pgbouncer exited:\n%s", b.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgbouncer does not answer: %v\n%s", err, b.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// alive fails the test if PgBouncer exited.
func (b *bouncer) alive(t *testing.T) {
	t.Helper()
	select {
	case <-b.done:
		t.Fatalf("pgbouncer exited:\n%s", tail(b.log.String(), 40))
	default:
	}
}

// stats returns the transactions and queries PgBouncer passed on, from its
// admin console (SHOW STATS, summed over databases).
func (b *bouncer) stats(t *testing.T) (xacts, queries int64) {
	t.Helper()
	time.Sleep(1500 * time.Millisecond) // past the next stats_period
	conn, err := sql.Open("postgres", fmt.Sprintf("postgres://%s@%s/pgbouncer?sslmode=disable", b.user, b.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.Query("SHOW STATS")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	for rows.Next() {
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, c := range cols {
			n, _ := strconv.ParseInt(string(vals[i]), 10, 64)
			switch c {
			case "total_xact_count":
				xacts += n
			case "total_query_count":
				queries += n
			}
		}
	}
	return xacts, queries
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
