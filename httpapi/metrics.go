package httpapi

import (
	"context"
	"database/sql"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"tenantapi/buildinfo"
	"tenantapi/db"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics served at /metrics in Prometheus' text format, from a registry
// of each New (tests build many servers):
//
//	graphql_requests_total{operation,outcome}            requests; outcome "ok" or the first error's extensions.code
//	graphql_request_duration_seconds{operation}          latency histogram
//	ratelimit_refusals_total{policy}                     requests refused by the rate limiter (countRateLimited)
//	go_sql_*{db_name="tenantapi"}                        the database pool (sql.DBStats), as client_golang names them
//	go_*, process_*                                      the runtime and the process
//
// A request over HTTP counts once, when it ends, whatever refused it (the
// size limit, authentication, the rate limiter, GraphQL); over a websocket
// each operation counts.

// maxOperationNames caps the operation label: operation names come from
// clients, so only the first names seen get their own series; later ones
// count as "other". A request without a name, or refused before its
// document was understood, counts as "anonymous".
const maxOperationNames = 100

type metrics struct {
	registry    *prometheus.Registry
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	rateLimited *prometheus.CounterVec

	mu    sync.Mutex
	names map[string]bool
}

func newMetrics(stats func() sql.DBStats) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "graphql_requests_total",
			Help: "GraphQL requests by operation name and outcome: ok, or the extensions.code of the first error.",
		}, []string{"operation", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "graphql_request_duration_seconds",
			Help:    "Time to answer a GraphQL request, by operation name.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"operation"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ratelimit_refusals_total",
			Help: "Requests refused with RATE_LIMITED, by policy (tenant: a tenant's plan budget; anonymous: a client address without credentials).",
		}, []string{"policy"}),
		names: map[string]bool{},
	}
	bi := buildinfo.Get()
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "tenantapi_build_info",
		Help:        "The running build: always 1, its labels say the release version, the commit and the Go version.",
		ConstLabels: prometheus.Labels{"version": bi.Version, "commit": bi.Commit, "goversion": bi.GoVersion},
	})
	build.Set(1)
	m.registry.MustRegister(m.requests, m.duration, m.rateLimited, build,
		dbStatsCollector{stats: stats, descs: newDBStatsDescs("tenantapi")},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// handler serves the registry.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

var operationName = regexp.MustCompile(`^[_A-Za-z][_0-9A-Za-z]{0,63}$`)

// operationLabel bounds the operation label's values.
func (m *metrics) operationLabel(name string) string {
	if name == "" || !operationName.MatchString(name) {
		return "anonymous"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.names[name] {
		return name
	}
	if len(m.names) >= maxOperationNames || name == "other" || name == "anonymous" {
		return "other"
	}
	m.names[name] = true
	return name
}

var codeLabel = regexp.MustCompile(`^[A-Z][A-Z_]{0,47}$`)

// observed is what the GraphQL layer learned about a request, for the
// metrics middleware to count when the request ends.
type observed struct {
	seen      bool
	operation string
	outcome   string
}

type observedKey struct{}

// middleware counts each HTTP request to the GraphQL endpoint. Websocket
// connections are left to aroundResponses, which counts their operations.
func (m *metrics) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), metricsKey{}, m)))
			return
		}
		start := time.Now()
		o := &observed{}
		ctx := context.WithValue(context.WithValue(r.Context(), observedKey{}, o), metricsKey{}, m)
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r.WithContext(ctx))
		op, outcome := "anonymous", "ok"
		if o.seen {
			op, outcome = o.operation, o.outcome
		}
		if outcome == "ok" && sw.status >= 400 {
			outcome = outcomeOfStatus(sw.status)
		}
		m.count(op, outcome, time.Since(start))
	})
}

func (m *metrics) count(op, outcome string, d time.Duration) {
	m.requests.WithLabelValues(op, outcome).Inc()
	m.duration.WithLabelValues(op).Observe(d.Seconds())
}

// outcomeOfStatus names a refusal that did not go through GraphQL (or
// whose body was rewritten) by its HTTP status.
func outcomeOfStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "BAD_REQUEST"
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case http.StatusForbidden:
		return "FORBIDDEN"
	case http.StatusMethodNotAllowed:
		return "METHOD_NOT_ALLOWED"
	case http.StatusRequestEntityTooLarge:
		return "REQUEST_TOO_LARGE"
	case http.StatusUnsupportedMediaType:
		return "UNSUPPORTED_MEDIA_TYPE"
	case http.StatusTooManyRequests:
		return "RATE_LIMITED"
	case http.StatusServiceUnavailable:
		return "SERVICE_UNAVAILABLE"
	}
	if status >= 500 {
		return "INTERNAL_SERVER_ERROR"
	}
	return "HTTP_" + strconv.Itoa(status)
}

// aroundResponses records the operation and outcome of a GraphQL response
// (including refusals of the document, which gqlgen also passes through
// response middleware) for the HTTP middleware, or counts it directly for
// an operation over a websocket.
func (m *metrics) aroundResponses(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil {
		return nil
	}
	name := ""
	var start time.Time
	if graphql.HasOperationContext(ctx) { // not when the body did not decode
		opCtx := graphql.GetOperationContext(ctx)
		if opCtx.Operation != nil {
			name = opCtx.Operation.Name
		}
		start = opCtx.Stats.OperationStart
	}
	outcome := "ok"
	if len(resp.Errors) > 0 {
		outcome = "ERROR"
		if c, ok := resp.Errors[0].Extensions["code"].(string); ok && codeLabel.MatchString(c) {
			outcome = c
		}
	}
	if o, _ := ctx.Value(observedKey{}).(*observed); o != nil {
		if !o.seen { // the first response of the request (later ones are deferred parts)
			o.seen, o.operation, o.outcome = true, m.operationLabel(name), outcome
		}
		return resp
	}
	if !start.IsZero() {
		m.count(m.operationLabel(name), outcome, time.Since(start))
	}
	return resp
}

type metricsKey struct{}

// countRateLimited counts a request the rate limiter refused, by policy
// ("tenant" or "anonymous"), in the metrics of the server serving ctx. The
// rate limiter (ratelimit.go) calls it where it answers RATE_LIMITED.
func countRateLimited(ctx context.Context, policy string) {
	if m, _ := ctx.Value(metricsKey{}).(*metrics); m != nil {
		if policy != policyTenant && policy != policyAnonymous && policy != policyFailedAuth {
			policy = "other"
		}
		m.rateLimited.WithLabelValues(policy).Inc()
	}
}

// dbStatsCollector reports the connection pool, under the names of
// client_golang's collectors.NewDBStatsCollector (which needs the *sql.DB
// the Store keeps to itself).
type dbStatsCollector struct {
	stats func() sql.DBStats
	descs dbStatsDescs
}

type dbStatsDescs struct {
	maxOpen, open, inUse, idle, waitCount, waitDuration, maxIdleClosed, maxIdleTimeClosed, maxLifetimeClosed *prometheus.Desc
}

func newDBStatsDescs(dbName string) dbStatsDescs {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("go_sql_"+name, help, nil, prometheus.Labels{"db_name": dbName})
	}
	return dbStatsDescs{
		maxOpen:           d("max_open_connections", "Maximum number of open connections to the database."),
		open:              d("open_connections", "The number of established connections both in use and idle."),
		inUse:             d("in_use_connections", "The number of connections currently in use."),
		idle:              d("idle_connections", "The number of idle connections."),
		waitCount:         d("wait_count_total", "The total number of connections waited for."),
		waitDuration:      d("wait_duration_seconds_total", "The total time blocked waiting for a new connection."),
		maxIdleClosed:     d("max_idle_closed_total", "The total number of connections closed due to SetMaxIdleConns."),
		maxIdleTimeClosed: d("max_idle_time_closed_total", "The total number of connections closed due to SetConnMaxIdleTime."),
		maxLifetimeClosed: d("max_lifetime_closed_total", "The total number of connections closed due to SetConnMaxLifetime."),
	}
}

func (c dbStatsCollector) Describe(ch chan<- *prometheus.Desc) {
	d := c.descs
	for _, desc := range []*prometheus.Desc{d.maxOpen, d.open, d.inUse, d.idle, d.waitCount, d.waitDuration, d.maxIdleClosed, d.maxIdleTimeClosed, d.maxLifetimeClosed} {
		ch <- desc
	}
}

func (c dbStatsCollector) Collect(ch chan<- prometheus.Metric) {
	s, d := c.stats(), c.descs
	gauge := func(desc *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v)
	}
	counter := func(desc *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, v)
	}
	gauge(d.maxOpen, float64(s.MaxOpenConnections))
	gauge(d.open, float64(s.OpenConnections))
	gauge(d.inUse, float64(s.InUse))
	gauge(d.idle, float64(s.Idle))
	counter(d.waitCount, float64(s.WaitCount))
	counter(d.waitDuration, s.WaitDuration.Seconds())
	counter(d.maxIdleClosed, float64(s.MaxIdleClosed))
	counter(d.maxIdleTimeClosed, float64(s.MaxIdleTimeClosed))
	counter(d.maxLifetimeClosed, float64(s.MaxLifetimeClosed))
}

// assocCacheCollectors expose the association cache (db/assoccache.go):
// its hit rate is hits / (hits + misses); evictions say its bound
// (ASSOC_CACHE_BYTES) is too small for the tenants active at once.
func assocCacheCollectors(stats func() db.AssocCacheStats) []prometheus.Collector {
	counter := func(name, help string, f func(db.AssocCacheStats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(f(stats())) })
	}
	gauge := func(name, help string, f func(db.AssocCacheStats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return f(stats()) })
	}
	return []prometheus.Collector{
		counter("tenantapi_assoc_cache_hits_total", "Association batches answered by the association cache (the versions matched).",
			func(s db.AssocCacheStats) uint64 { return s.Hits }),
		counter("tenantapi_assoc_cache_misses_total", "Cacheable association batches read from the database: never read, evicted, or read under older tenant versions.",
			func(s db.AssocCacheStats) uint64 { return s.Misses }),
		counter("tenantapi_assoc_cache_evictions_total", "Entries dropped from the association cache to stay within ASSOC_CACHE_BYTES.",
			func(s db.AssocCacheStats) uint64 { return s.Evictions }),
		gauge("tenantapi_assoc_cache_entries", "Entries in the association cache.",
			func(s db.AssocCacheStats) float64 { return float64(s.Entries) }),
		gauge("tenantapi_assoc_cache_bytes", "Estimated bytes held by the association cache.",
			func(s db.AssocCacheStats) float64 { return float64(s.Bytes) }),
		gauge("tenantapi_assoc_cache_max_bytes", "The association cache's bound (ASSOC_CACHE_BYTES; 0 when off).",
			func(s db.AssocCacheStats) float64 { return float64(s.MaxBytes) }),
	}
}
