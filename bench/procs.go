package bench

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Server is a server process the driver started and measures.
type Server struct {
	Name string // "ours", "ours+bp", "peer"
	URL  string // http://127.0.0.1:PORT/graphql
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
	err  error

	mu      sync.Mutex
	peakRSS int64 // KiB, sampled while a phase runs
}

// StartServer runs argv with env added to the driver's environment, its
// output going to logPath, and waits until url answers a GraphQL request.
func StartServer(ctx context.Context, name, url string, argv, env []string, dir, logPath string) (*Server, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	s := &Server{Name: name, URL: url, cmd: cmd, log: f, done: make(chan struct{})}
	go func() { s.err = cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-s.done:
			return nil, fmt.Errorf("%s exited during start-up (%v); see %s", name, s.err, logPath)
		default:
		}
		if ok, _ := ping(ctx, url); ok {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("%s did not answer within 60s; see %s", name, logPath)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func ping(ctx context.Context, url string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(`{"query":"{ __typename }"}`))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == 200 && bytes.Contains(b, []byte("Query")), nil
}

// Pid is the server's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Stop ends the server (SIGTERM, then SIGKILL after 10s) and waits for it.
func (s *Server) Stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.log.Close()
}

// Memory reads the process's resident set now and its high-water mark, in
// KiB, from /proc/PID/status.
func (s *Server) Memory() (rss, hwm int64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.Pid()))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		}
	}
	return rss, hwm
}

// sampleRSS records the largest resident set seen every 50ms until ctx ends,
// and returns it (KiB).
func (s *Server) sampleRSS(ctx context.Context) func() int64 {
	var (
		mu   sync.Mutex
		peak int64
		wg   sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			rss, _ := s.Memory()
			mu.Lock()
			peak = max(peak, rss)
			mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 {
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		s.mu.Lock()
		s.peakRSS = max(s.peakRSS, peak)
		s.mu.Unlock()
		return peak
	}
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times (100 on Linux).
const clockTicks = 100

// ProcCPU returns the CPU time (user + system, all threads) process pid
// has used.
func ProcCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	// After the name: state is f[0], so utime (field 14) is f[11], stime f[12].
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * time.Second / clockTicks
}

// CPUProbe measures the CPU time a server process and the PostgreSQL
// backends of the benchmark database use during a phase. Only one server
// is under load at a time, so the backends' time is that server's.
type CPUProbe struct {
	db     *sql.DB
	dbName string
}

// NewCPUProbe watches the backends of database dbName through admin.
func NewCPUProbe(admin *sql.DB, dbName string) *CPUProbe { return &CPUProbe{db: admin, dbName: dbName} }

// cpuMark is a reading at the start of a phase.
type cpuMark struct {
	server   time.Duration
	backends map[int]time.Duration
	self     time.Duration
}

func (p *CPUProbe) backends(ctx context.Context) map[int]time.Duration {
	out := map[int]time.Duration{}
	if p == nil {
		return out
	}
	rows, err := p.db.QueryContext(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, p.dbName)
	if err != nil {
		return out
	}
	defer rows.Close()
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) == nil {
			out[pid] = ProcCPU(pid)
		}
	}
	return out
}

func (p *CPUProbe) mark(ctx context.Context, s *Server) cpuMark {
	return cpuMark{server: ProcCPU(s.Pid()), backends: p.backends(ctx), self: ProcCPU(os.Getpid())}
}

// since returns the server's, the database's and the load generator's CPU
// time since m. A backend that ended meanwhile is not counted (the pools
// keep their connections during a phase).
func (p *CPUProbe) since(ctx context.Context, s *Server, m cpuMark) (server, db, self time.Duration) {
	server = ProcCPU(s.Pid()) - m.server
	for pid, t := range p.backends(ctx) {
		db += t - m.backends[pid]
	}
	return server, db, ProcCPU(os.Getpid()) - m.self
}
