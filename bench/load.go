package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Request is one HTTP request of a workload: a GraphQL body and the
// credential it is sent with.
type Request struct {
	Body   []byte
	Bearer string // "" sends no Authorization header
}

// Workload produces the requests one server receives for one workload.
// Next is called by many workers at once.
type Workload struct {
	Name string
	Next func(worker int, seq int64) Request
	// Check reports what is wrong with a response body, or "" (used on a
	// sample of responses during validation, not in the timed loop).
	Check func(body []byte) string
}

// Phase is one timed run: a workload against one server at one
// concurrency.
type Phase struct {
	Server      string
	Workload    string
	Concurrency int
	Duration    time.Duration // measured
	Requests    int64
	Failures    int64 // non-200 answers, transport errors, or bodies with "errors"
	FirstError  string
	Latencies   []time.Duration // sorted
	PeakRSSKiB  int64
	// CPU time used during the phase by the server process, the
	// PostgreSQL backends serving it, and the load generator itself.
	ServerCPU, DBCPU, DriverCPU time.Duration
}

// RPS is completed requests per second.
func (p *Phase) RPS() float64 { return float64(p.Requests) / p.Duration.Seconds() }

// Percentile returns the q-quantile (0 < q <= 1) of the latencies.
func (p *Phase) Percentile(q float64) time.Duration {
	if len(p.Latencies) == 0 {
		return 0
	}
	i := int(float64(len(p.Latencies))*q+0.999999) - 1
	return p.Latencies[max(0, min(i, len(p.Latencies)-1))]
}

// Merge adds another round of the same phase.
func (p *Phase) Merge(o *Phase) {
	p.Duration += o.Duration
	p.Requests += o.Requests
	p.Failures += o.Failures
	if p.FirstError == "" {
		p.FirstError = o.FirstError
	}
	p.Latencies = append(p.Latencies, o.Latencies...)
	slices.Sort(p.Latencies)
	p.PeakRSSKiB = max(p.PeakRSSKiB, o.PeakRSSKiB)
	p.ServerCPU += o.ServerCPU
	p.DBCPU += o.DBCPU
	p.DriverCPU += o.DriverCPU
}

// NewClient returns an HTTP client that keeps up to conns connections to
// one host alive, so the closed loop measures requests, not handshakes.
func NewClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			MaxConnsPerHost:     conns,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

// Do sends one request and returns its body.
func Do(ctx context.Context, c *http.Client, url string, r Request) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(r.Body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if r.Bearer != "" {
		req.Header.Set("Authorization", "Bearer "+r.Bearer)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

var errorsKey = []byte(`"errors"`)

// Run drives s with w from conc closed-loop workers (each sends its next
// request when the previous answer has arrived) for d, and samples the
// server's memory meanwhile.
func Run(ctx context.Context, s *Server, w Workload, conc int, d time.Duration, probe *CPUProbe) *Phase {
	client := NewClient(conc)
	mark := probe.mark(ctx, s)
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	peak := s.sampleRSS(ctx)
	var (
		seq      atomic.Int64
		failures atomic.Int64
		mu       sync.Mutex
		first    string
		wg       sync.WaitGroup
		lats     = make([][]time.Duration, conc)
	)
	start := time.Now()
	for i := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := make([]time.Duration, 0, 4096)
			for ctx.Err() == nil {
				r := w.Next(i, seq.Add(1))
				t0 := time.Now()
				status, body, err := Do(ctx, client, s.URL, r)
				el := time.Since(t0)
				if ctx.Err() != nil {
					break // cut off by the end of the phase: not a result
				}
				if err != nil || status != 200 || bytes.Contains(body, errorsKey) {
					failures.Add(1)
					mu.Lock()
					if first == "" {
						first = describe(status, body, err)
					}
					mu.Unlock()
				}
				own = append(own, el)
			}
			lats[i] = own
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	p := &Phase{Server: s.Name, Workload: w.Name, Concurrency: conc, Duration: elapsed, Failures: failures.Load(), FirstError: first, PeakRSSKiB: peak()}
	p.ServerCPU, p.DBCPU, p.DriverCPU = probe.since(context.WithoutCancel(ctx), s, mark)
	for _, l := range lats {
		p.Latencies = append(p.Latencies, l...)
	}
	slices.Sort(p.Latencies)
	p.Requests = int64(len(p.Latencies))
	return p
}

func describe(status int, body []byte, err error) string {
	if err != nil {
		return err.Error()
	}
	if len(body) > 300 {
		body = body[:300]
	}
	return fmt.Sprintf("HTTP %d: %s", status, body)
}
