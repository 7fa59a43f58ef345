package bench

import (
	"encoding/json"
	"fmt"
	"html"
	"math"
	"os"
	"strings"
	"time"
)

// Summary is a Phase without its raw latencies, as results.json keeps it.
type Summary struct {
	Server      string  `json:"server"`
	Workload    string  `json:"workload"`
	Concurrency int     `json:"concurrency"`
	RPS         float64 `json:"rps"`
	P50ms       float64 `json:"p50_ms"`
	P95ms       float64 `json:"p95_ms"`
	P99ms       float64 `json:"p99_ms"`
	Requests    int64   `json:"requests"`
	Failures    int64   `json:"failures"`
	FirstError  string  `json:"first_error,omitempty"`
	PeakRSSMiB  float64 `json:"peak_rss_mib"`
	Seconds     float64 `json:"seconds"`
	// CPU milliseconds per request: the server process, the PostgreSQL
	// backends serving it, the load generator.
	ServerCPUms float64 `json:"server_cpu_ms_per_req"`
	DBCPUms     float64 `json:"db_cpu_ms_per_req"`
	DriverCPUms float64 `json:"driver_cpu_ms_per_req"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Summarize reduces p.
func Summarize(p *Phase) Summary {
	return Summary{Server: p.Server, Workload: p.Workload, Concurrency: p.Concurrency, RPS: p.RPS(),
		P50ms: ms(p.Percentile(0.50)), P95ms: ms(p.Percentile(0.95)), P99ms: ms(p.Percentile(0.99)),
		Requests: p.Requests, Failures: p.Failures, FirstError: p.FirstError, PeakRSSMiB: float64(p.PeakRSSKiB) / 1024, Seconds: p.Duration.Seconds(),
		ServerCPUms: perReq(p.ServerCPU, p.Requests), DBCPUms: perReq(p.DBCPU, p.Requests), DriverCPUms: perReq(p.DriverCPU, p.Requests)}
}

func perReq(d time.Duration, n int64) float64 {
	if n == 0 {
		return 0
	}
	return ms(d) / float64(n)
}

// Count is what the counting proxy saw per request of a workload.
type Count struct {
	Statements float64 `json:"statements"`
	RoundTrips float64 `json:"round_trips"`
	DBms       float64 `json:"db_ms"`      // time waiting for PostgreSQL, one client
	Latencyms  float64 `json:"latency_ms"` // the request's mean latency in that pass (through the proxy)
}

// Results is everything one run measured (results.json).
type Results struct {
	Started   time.Time                   `json:"started"`
	Took      string                      `json:"took"`
	Machine   map[string]string           `json:"machine"`
	Settings  map[string]string           `json:"settings"`
	Features  Features                    `json:"features"`
	Phases    []Summary                   `json:"phases"`
	Baseline  []Summary                   `json:"baseline"`
	Counts    map[string]map[string]Count `json:"counts"` // server -> workload -> per request
	PeakHWMMi map[string]float64          `json:"peak_hwm_mib"`
	Notes     []string                    `json:"notes"`
}

// Find returns the summary of server/workload/concurrency.
func (r *Results) Find(server, workload string, c int) *Summary {
	for i := range r.Phases {
		p := &r.Phases[i]
		if p.Server == server && p.Workload == workload && p.Concurrency == c {
			return p
		}
	}
	return nil
}

// WriteJSON writes the results.
func (r *Results) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Servers lists the servers of the run in the order they were measured.
func (r *Results) Servers() []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range r.Phases {
		if !seen[p.Server] {
			seen[p.Server] = true
			out = append(out, p.Server)
		}
	}
	return out
}

func (r *Results) levels(workload string) []int {
	var out []int
	seen := map[int]bool{}
	for _, p := range r.Phases {
		if p.Workload == workload && !seen[p.Concurrency] {
			seen[p.Concurrency] = true
			out = append(out, p.Concurrency)
		}
	}
	return out
}

var workloadTitles = map[string]string{
	"home":   "Workload 1: dashboard home (`me`, tenant API key)",
	"list":   "Workload 2: admin list (`tenants(first: 100)`, admin secret)",
	"writes": "Workload 3: writes (settings, keywords, usage batches of 20; this API only)",
	"mixed":  "Workload 4: realistic (dashboard home of Zipf-drawn tenants, writes alongside at a fixed rate)",
}

// Markdown renders the tables of docs/benchmarks.md.
func (r *Results) Markdown() string {
	var b strings.Builder
	for _, w := range []string{"home", "list", "mixed", "writes"} {
		lv := r.levels(w)
		if len(lv) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n**%s**\n\n", workloadTitles[w])
		b.WriteString("| concurrency | server | req/s | p50 ms | p95 ms | p99 ms | statements/req | round trips/req | CPU ms/req server + PostgreSQL | peak RSS MiB | failed |\n")
		b.WriteString("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, c := range lv {
			for _, s := range r.Servers() {
				p := r.Find(s, w, c)
				if p == nil || (s == "ceiling" && w == "writes") { // the ceiling is about reads
					continue
				}
				cnt := r.Counts[s][w] // none for mixed: "–"
				fmt.Fprintf(&b, "| %d | %s | %.0f | %.2f | %.2f | %.2f | %s | %s | %.2f + %.2f | %.0f | %d |\n", c, s, p.RPS, p.P50ms, p.P95ms, p.P99ms,
					countCell(cnt.Statements), countCell(cnt.RoundTrips), p.ServerCPUms, p.DBCPUms, p.PeakRSSMiB, p.Failures)
			}
		}
	}
	// Ratios measured in the same run.
	var rows []string
	var ours []string // this API's servers of the run
	for _, s := range r.Servers() {
		if s != "peer" {
			ours = append(ours, s)
		}
	}
	for _, w := range []string{"home", "list", "mixed"} {
		for _, c := range r.levels(w) {
			peer := r.Find("peer", w, c)
			if peer == nil {
				continue
			}
			row := fmt.Sprintf("| %s | %d |", w, c)
			for _, s := range ours {
				o := r.Find(s, w, c)
				if o == nil {
					row += " – | – |"
					continue
				}
				row += fmt.Sprintf(" %.2f× | %.2f× |", o.RPS/peer.RPS, o.P99ms/peer.P99ms)
			}
			rows = append(rows, row)
		}
	}
	if len(rows) > 0 {
		b.WriteString("\n**Ratios, same run** (throughput: higher is better for this API; p99: lower is better)\n\n")
		b.WriteString("| workload | concurrency |")
		for _, s := range ours {
			fmt.Fprintf(&b, " %s/peer req/s | %s/peer p99 |", s, s)
		}
		b.WriteString("\n|---|---:|" + strings.Repeat("---:|---:|", len(ours)) + "\n")
		b.WriteString(strings.Join(rows, "\n") + "\n")
	}
	if len(r.Baseline) > 0 {
		b.WriteString("\n**Baseline: one hand-written SQL statement for workload 1's data, one client (lib/pq)**\n\n")
		b.WriteString("| client | p50 ms | p95 ms | p99 ms | queries/s | PostgreSQL CPU ms/query |\n|---|---:|---:|---:|---:|---:|\n")
		for _, p := range r.Baseline {
			fmt.Fprintf(&b, "| %s | %.3f | %.3f | %.3f | %.0f | %.2f |\n", p.Server, p.P50ms, p.P95ms, p.P99ms, p.RPS, p.DBCPUms)
		}
		for _, s := range []string{"ours", "ours+bp"} {
			if o := r.Find(s, "home", 1); o != nil {
				for _, p := range r.Baseline {
					fmt.Fprintf(&b, "\n%s p50 at concurrency 1 / %s p50: **%.2f×**", s, p.Server, o.P50ms/p.P50ms)
				}
			}
		}
		b.WriteString("\n")
	}
	if extra, ok := r.Counts["ours"]; ok {
		if a, ok1 := extra["list10"]; ok1 {
			if z, ok2 := extra["list"]; ok2 {
				fmt.Fprintf(&b, "\nStatements of workload 2 by page size (this API): %s for 10 tenants, %s for 100.\n", countCell(a.Statements), countCell(z.Statements))
			}
		}
	}
	return b.String()
}

func countCell(v float64) string {
	if v == 0 {
		return "–"
	}
	if math.Abs(v-math.Round(v)) < 0.05 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// chart geometry
const (
	panelW, panelH = 420, 250
	marginL        = 64
	marginT        = 70
	gapX, gapY     = 40, 70
)

var serverColors = map[string]string{"ours": "#1f77b4", "ours+bp": "#2ca02c", "ceiling": "#9467bd", "peer": "#d62728"}

// SVG draws throughput and p99 against concurrency for both servers, one
// row of panels per read workload.
func (r *Results) SVG() string {
	workloads := []string{"home", "list"}
	width := marginL*2 + panelW*2 + gapX + 20
	height := marginT + len(workloads)*(panelH+gapY) + 30
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15" font-weight="bold">Tenant API vs PostGraphile 5.1.5, same database, same run (%s)</text>`+"\n", marginL, html.EscapeString(r.Started.Format("2006-01-02")))
	// legend
	for i, s := range r.Servers() { // two to a row
		c, lx, ly := serverColors[s], marginL+(i%2)*(panelW+gapX), 40+(i/2)*16
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"/><text x="%d" y="%d">%s</text>`+"\n", lx, ly, lx+20, ly, c, lx+26, ly+4, legendName(s))
	}
	for row, w := range workloads {
		y0 := marginT + 20 + row*(panelH+gapY)
		for col, metric := range []string{"req/s", "p99 ms"} {
			x0 := marginL + col*(panelW+gapX+marginL/2)
			title := map[string]string{"home": "workload 1, dashboard home", "list": "workload 2, admin list of 100"}[w]
			r.panel(&b, x0, y0, w, metric, title)
		}
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func legendName(s string) string {
	switch s {
	case "ours":
		return "this API"
	case "ours+bp":
		return "this API, binary_parameters=yes"
	case "ceiling":
		return "this API, associations from memory (ceiling)"
	}
	return "PostGraphile"
}

func (r *Results) panel(b *strings.Builder, x0, y0 int, w, metric, title string) {
	levels := r.levels(w)
	if len(levels) == 0 {
		return
	}
	val := func(p *Summary) float64 {
		if metric == "req/s" {
			return p.RPS
		}
		return p.P99ms
	}
	var top float64
	for _, s := range r.Servers() {
		for _, c := range levels {
			if p := r.Find(s, w, c); p != nil {
				top = max(top, val(p))
			}
		}
	}
	top = niceCeil(top)
	fmt.Fprintf(b, `<text x="%d" y="%d" font-weight="bold">%s: %s</text>`+"\n", x0, y0-8, title, metric)
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", x0, y0, panelW, panelH)
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		y := y0 + panelH - int(float64(panelH)*float64(i)/4)
		fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#eee"/><text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", x0, y, x0+panelW, y, x0-6, y+4, trimNum(v))
	}
	xs := func(i int) int { return x0 + 40 + i*(panelW-80)/max(1, len(levels)-1) }
	for i, c := range levels {
		fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle">%d</text>`+"\n", xs(i), y0+panelH+16, c)
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle" fill="#555">concurrent clients</text>`+"\n", x0+panelW/2, y0+panelH+32)
	for _, s := range r.Servers() {
		var pts []string
		for i, c := range levels {
			p := r.Find(s, w, c)
			if p == nil {
				continue
			}
			y := y0 + panelH - int(float64(panelH)*val(p)/top)
			pts = append(pts, fmt.Sprintf("%d,%d", xs(i), y))
			// Labels of the three servers go to different sides of their points.
			dx, dy, anchor := 6, -6, "start"
			switch s {
			case "ours":
				dx, anchor = -6, "end"
			case "ours+bp":
				dy = 14
			}
			fmt.Fprintf(b, `<circle cx="%d" cy="%d" r="3.5" fill="%s"/><text x="%d" y="%d" font-size="10" text-anchor="%s" fill="%s">%s</text>`+"\n", xs(i), y, serverColors[s], xs(i)+dx, y+dy, anchor, serverColors[s], trimNum(val(p)))
		}
		if len(pts) > 1 {
			fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(pts, " "), serverColors[s])
		}
	}
}

func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func trimNum(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
