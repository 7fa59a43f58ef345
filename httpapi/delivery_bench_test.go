package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"tenantapi/delivery"
	"tenantapi/live"
	"tenantapi/webhook"
)

// The webhook delivery benchmarks (docs/benchmarks.md, "Webhook delivery"):
// how many events a second one instance's worker delivers, and how long an
// event takes from its transaction to the receiver, each next to a baseline
// measured in the same run against the same receiver: the same signed POSTs
// made straight from webhook.Sender, without the outbox, the queue and the
// log. Run with
//
//	go test ./httpapi -run '^$' -bench 'BenchmarkWebhook' -benchtime 400x
//
// Figures are ratios against the baseline; the absolute numbers move with
// the machine.

// benchReceiver is an https endpoint on loopback that answers 200 at once
// and notes when each event (by its webhook-id) arrived.
type benchReceiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	at   map[string]time.Time // webhook-id → arrival
	sent map[string]time.Time // webhook-id → occurredAt in the body
	n    chan struct{}        // one token per arrival
}

func newBenchReceiver(b *testing.B) *benchReceiver {
	r := &benchReceiver{at: map[string]time.Time{}, sent: map[string]time.Time{}, n: make(chan struct{}, 1<<16)}
	r.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		now := time.Now()
		body, _ := io.ReadAll(req.Body)
		var m struct{ OccurredAt time.Time }
		_ = json.Unmarshal(body, &m)
		r.mu.Lock()
		id := req.Header.Get("webhook-id")
		if _, dup := r.at[id]; !dup {
			r.at[id], r.sent[id] = now, m.OccurredAt
			r.n <- struct{}{}
		}
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(r.srv.Close)
	return r
}

// await waits for n more arrivals.
func (r *benchReceiver) await(b *testing.B, n int) {
	timeout := time.After(5 * time.Minute)
	for range n {
		select {
		case <-r.n:
		case <-timeout:
			b.Fatalf("timed out waiting for %d deliveries", n)
		}
	}
}

// benchEvents makes n subscription.changed events spread over the tenants
// (each changePlan writes one).
func benchEvents(e *env, tenants []string, n int) {
	plans := []string{"enterprise", "professional"}
	for i := range n {
		changePlanTo(e, tenants[i%len(tenants)], plans[(i/len(tenants))%2])
	}
}

func benchSubscribers(e *env, r *benchReceiver, n int) []string {
	var ids []string
	for i := range n {
		id := e.createTenant(fmt.Sprintf("Bench %d", i), randomDomain())
		subscribe(e, id, r.srv.URL+"/hooks/"+id, "SUBSCRIPTION_CHANGED")
		ids = append(ids, id)
	}
	return ids
}

// runBenchWorker runs a delivery worker wired as server.go wires it (the
// production defaults; woken by the live hub's LISTEN on every committed
// event, its 1 s poll the fallback) until the benchmark ends.
func runBenchWorker(b *testing.B, e *env, r *benchReceiver) {
	w := delivery.New(e.store, webhook.NewSender(trustingEgress(r.srv)), delivery.Config{Jitter: 0.1})
	hub := live.New(e.url, live.Options{OnEvent: w.Wake})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { w.Run(ctx) })
	wg.Go(func() { _ = hub.Run(ctx) })
	<-hub.Ready()
	b.Cleanup(func() { cancel(); wg.Wait() })
}

// BenchmarkWebhookThroughput: b.N events already committed for 8 tenants
// (8 endpoints), then one worker with the production defaults (8 attempts
// at once, 2 per endpoint) delivers them all; the baseline sends the same
// number of signed POSTs from 8 goroutines. Reports events/s of each and
// their ratio.
func BenchmarkWebhookThroughput(b *testing.B) {
	e := newEnv(b)
	r := newBenchReceiver(b)
	tenants := benchSubscribers(e, r, 8)
	benchEvents(e, tenants, b.N)

	// The baseline: the same signed requests, straight from the sender.
	sender := webhook.NewSender(trustingEgress(r.srv))
	secret := []string{"whsec_" + fmt.Sprintf("%064x", 7)}
	body := []byte(`{"id":"x","type":"subscription.changed","data":{}}`)
	start := time.Now()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := g; i < b.N; i += 8 {
				if _, err := sender.Deliver(context.Background(), r.srv.URL+"/base/"+tenants[g], secret, fmt.Sprintf("base-%d", i), body); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	r.await(b, b.N)
	direct := float64(b.N) / time.Since(start).Seconds()

	b.ResetTimer()
	start = time.Now()
	runBenchWorker(b, e, r)
	r.await(b, b.N)
	worker := float64(b.N) / time.Since(start).Seconds()
	b.StopTimer()
	b.ReportMetric(worker, "events/s")
	b.ReportMetric(direct, "direct-events/s")
	b.ReportMetric(worker/direct, "ratio")
}

// BenchmarkWebhookLatency: with a worker running (production defaults),
// b.N changes are made one after another, 20 ms apart; each one's delay
// is from its transaction's time (the body's occurredAt) to its arrival.
// The baseline is the round trip of one signed POST straight from the
// sender, measured the same number of times. Reports p50 and p99 of both,
// in milliseconds, and the ratio of the p50s.
func BenchmarkWebhookLatency(b *testing.B) {
	e := newEnv(b)
	r := newBenchReceiver(b)
	tenants := benchSubscribers(e, r, 1)

	sender := webhook.NewSender(trustingEgress(r.srv))
	secret := []string{"whsec_" + fmt.Sprintf("%064x", 7)}
	base := make([]time.Duration, 0, b.N)
	for i := range b.N {
		t0 := time.Now()
		if _, err := sender.Deliver(context.Background(), r.srv.URL+"/base", secret, fmt.Sprintf("base-%d", i), []byte(`{}`)); err != nil {
			b.Fatal(err)
		}
		base = append(base, time.Since(t0))
	}
	r.await(b, b.N)
	r.mu.Lock()
	clear(r.at)
	clear(r.sent)
	r.mu.Unlock()

	runBenchWorker(b, e, r)
	b.ResetTimer()
	for i := range b.N {
		changePlanTo(e, tenants[0], []string{"enterprise", "professional"}[i%2])
		time.Sleep(20 * time.Millisecond)
	}
	r.await(b, b.N)
	b.StopTimer()
	r.mu.Lock()
	delays := make([]time.Duration, 0, len(r.at))
	for id, at := range r.at {
		delays = append(delays, at.Sub(r.sent[id]))
	}
	r.mu.Unlock()
	p := func(d []time.Duration, q float64) float64 {
		slices.Sort(d)
		return float64(d[int(q*float64(len(d)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(p(delays, 0.5), "p50-ms")
	b.ReportMetric(p(delays, 0.99), "p99-ms")
	b.ReportMetric(p(base, 0.5), "direct-p50-ms")
	b.ReportMetric(p(base, 0.99), "direct-p99-ms")
	b.ReportMetric(p(delays, 0.5)/p(base, 0.5), "p50-ratio")
}
