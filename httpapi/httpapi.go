// Package httpapi is the HTTP face of the API: GraphQL transports that
// follow the GraphQL-over-HTTP spec, authentication, CORS, GraphiQL, health
// checks and request logs. New builds it; the server and the tests share it.
package httpapi

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/rs/cors"

	"tenantapi/db"
	"tenantapi/egress"
	"tenantapi/graphiql"
	"tenantapi/live"
	"tenantapi/ratelimit"
	"tenantapi/resolvers"
	"tenantapi/tenant"
)

// Config is what the HTTP layer needs from the environment.
type Config struct {
	AdminSecret    string        // the operator's credential; empty disables it
	AllowedOrigins []string      // CORS and websocket origins
	LoaderWait     time.Duration // dataloader batch window
	// MaxConcurrent bounds the GraphQL responses executing at once
	// (admission.go); 0 = no bound.
	MaxConcurrent int
	MaxBodyBytes  int64 // request body limit of /graphql
	Logger        *slog.Logger
	Egress        *egress.Client // outbound client; nil refuses non-public addresses
	// PublicURL is where people and identity providers reach this
	// deployment (PUBLIC_URL): SSO redirects and callbacks are below it;
	// "" = tenant.DefaultPublicURL.
	PublicURL      string
	SSOLoginBase   string         // base of SsoConfig.loginUrl; "" = PublicURL + tenant.SSOLoginPath
	TrustedProxies []netip.Prefix // proxies whose X-Forwarded-For is believed
	// RateLimiter charges each request to its tenant's plan budget (see
	// ratelimit.go); nil limits nothing (tests of everything else).
	RateLimiter ratelimit.Limiter
	// AnonymousPerMinute is the budget of requests without credentials per
	// client address, when RateLimiter is set; 0 = unlimited.
	AnonymousPerMinute int
	// FailedAuthPerMinute is the budget of failed authentications per
	// client address, when RateLimiter is set (authfail.go); 0 = unlimited.
	FailedAuthPerMinute int
	// Limits bound GraphQL documents (limits.go); zero fields take
	// DefaultLimits.
	Limits Limits
	// RequestTimeout is the deadline of each request (of each operation
	// over a websocket); 0 = DefaultRequestTimeout.
	RequestTimeout time.Duration
	// Introspection says who may query __schema and __type (introspection.go):
	// IntrospectionAll (the zero value), IntrospectionAuthenticated
	// (production) or IntrospectionOff, which turns GraphiQL off too.
	Introspection IntrospectionMode
	// DisableFieldSuggestions drops "Did you mean" from errors (production).
	DisableFieldSuggestions bool
	// MaxActiveAPIKeys caps each tenant's active API keys
	// (API_KEYS_MAX_ACTIVE); 0 = tenant.DefaultMaxActiveAPIKeys.
	MaxActiveAPIKeys int
	// Live is the instance's hub of live subscriptions (live/); nil
	// answers subscriptions with SERVICE_UNAVAILABLE.
	Live *live.Hub
	// MaxMembers caps each tenant's members (MEMBERS_MAX); 0 =
	// tenant.DefaultMaxMembers.
	MaxMembers int
	// Mailer sends invitation and password-reset emails; nil sends none
	// (inviteMember then reports emailSent: false).
	Mailer tenant.Mailer
	// PublicBaseURL is this API's base URL as people reach it
	// (PUBLIC_BASE_URL): Invoice.pdfUrl and signedPdfUrl start with it;
	// "" leaves them relative.
	PublicBaseURL string
	// InvoiceLinkKey signs Invoice.signedPdfUrl (the server derives it from
	// the keyring, so every instance accepts every instance's links); nil
	// takes a random key of this process.
	InvoiceLinkKey []byte
	// LoginPerMinute is the budget of password logins (and reset
	// requests) per account per client address, when RateLimiter is set
	// (login.go); 0 = unlimited.
	LoginPerMinute int
	// Lifecycle is the server's shutdown sequence (lifecycle.go): /readyz
	// answers 503 once it drains, and websocket and SSE subscriptions end
	// when it ends streams. nil: a server that never shuts down (tests).
	Lifecycle *Lifecycle

	testAroundFields graphql.FieldMiddleware // set by tests only (export_test.go)
	testNow          func() time.Time        // set by tests only (export_test.go)
	// The websocket's connection_init timeout and authority recheck
	// interval; zero takes the defaults (websocket.go). Tests only.
	testWSInitTimeout, testWSRecheck time.Duration
}

// New returns the API's HTTP handler.
func New(store *db.Store, cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if len(cfg.InvoiceLinkKey) == 0 {
		cfg.InvoiceLinkKey = make([]byte, 32)
		_, _ = rand.Read(cfg.InvoiceLinkKey) // crypto/rand.Read never fails (Go 1.24+)
	}
	if cfg.Lifecycle == nil {
		cfg.Lifecycle = NewLifecycle()
	}
	auth := newAuthenticator(store, cfg.AdminSecret, cfg.TrustedProxies)
	auth.failures = newAuthFailures(cfg)
	limiter := newRateLimiter(cfg)

	srv := handler.New(resolvers.NewSchema(store, resolvers.Deps{Egress: cfg.Egress, SSOLoginBase: cfg.SSOLoginBase, PublicURL: cfg.PublicURL, LinkBase: linkBase(cfg), MaxActiveAPIKeys: cfg.MaxActiveAPIKeys,
		MaxMembers: cfg.MaxMembers, Mailer: cfg.Mailer, LoginGuard: newLoginGuard(cfg), Live: cfg.Live,
		InvoiceBase: strings.TrimRight(cfg.PublicBaseURL, "/"), InvoiceLinkKey: cfg.InvoiceLinkKey}))
	// The project's own transports (transport.go, websocket.go): every one
	// reads requests through the same guards.
	srv.AddTransport(wsTransport{auth: auth, maxBody: cfg.MaxBodyBytes, origins: originPatterns(cfg.AllowedOrigins),
		initTimeout: cmp.Or(cfg.testWSInitTimeout, defaultWSInitTimeout), recheck: cmp.Or(cfg.testWSRecheck, defaultWSRecheckInterval),
		life: cfg.Lifecycle})
	srv.AddTransport(transport.Options{AllowedMethods: []string{"GET", "POST", "OPTIONS"}})
	srv.AddTransport(graphqlTransport{maxBody: cfg.MaxBodyBytes, auth: auth, recheck: cmp.Or(cfg.testWSRecheck, defaultWSRecheckInterval),
		ending: cfg.Lifecycle.ending()})
	useLimits(srv, cfg) // query limits, persisted queries, introspection (limits.go)
	metrics := newMetrics(store.Stats)
	metrics.registry.MustRegister(assocCacheCollectors(store.AssocCacheStats)...)
	limiter.register(metrics.registry) // Redis failures (ratelimit.go)
	srv.AroundResponses(metrics.aroundResponses)
	srv.AroundResponses(reportCost) // extensions.cost (cost.go)
	if cfg.testAroundFields != nil {
		srv.AroundFields(cfg.testAroundFields)
	}
	srv.SetErrorPresenter(presentError(cfg.Logger))
	srv.SetRecoverFunc(recoverPanic(cfg.Logger))
	if limiter != nil {
		srv.AroundOperations(limiter.aroundOperations)
		srv.AroundResponses(aroundResponses)
	}
	if a := newAdmission(cfg.MaxConcurrent); a != nil {
		srv.AroundResponses(a.aroundResponses) // innermost: only execution waits
	}
	srv.AroundOperations(resolvers.LoaderMiddleware(store, cfg.LoaderWait))
	srv.AroundRootFields(resolvers.ActionMiddleware) // audit entries name the mutation
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if info := requestInfoFrom(ctx); info != nil {
			info.operation = graphql.GetOperationContext(ctx).OperationName
		}
		return next(ctx)
	})

	idem := &idempotency{store: store, maxBody: cfg.MaxBodyBytes, log: cfg.Logger} // Idempotency-Key (idempotency.go)
	gql := auth.middleware(limiter.middleware(idem.middleware(srv)))
	gql = metrics.middleware(protect(gql, cfg)) // 415, 413, deadlines, panics (guard.go); counts (metrics.go)

	mux := http.NewServeMux()
	mux.Handle("/graphql", gql)
	mux.Handle("GET /invoices/{file}", auth.middleware(limiter.middleware(invoicePDF(store, cfg.InvoiceLinkKey, cfg.Logger)))) // Invoice.pdfUrl (invoices.go)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if cfg.Lifecycle.Draining() { // shutting down: balancers stop sending, requests are still served
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("shutting down\n"))
			return
		}
		if err := store.Ping(ctx); err != nil {
			cfg.Logger.WarnContext(ctx, "readiness check failed", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("database unreachable\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", metrics.handler())
	newSSOLogin(store, cfg).register(mux)                                  // SSO login (ssologin.go)
	mux.Handle("GET /auth/methods", newSignInMethods(store, cfg, limiter)) // the sign-in page's question (signin.go)
	if cfg.Introspection == IntrospectionOff {
		mux.Handle("/", graphiQLOff())
	} else {
		mux.Handle("/", graphiql.Handler("Tenant API", "/graphql"))
		mux.Handle("GET /signin", graphiql.SignInHandler("Sign in · Tenant API", "/graphql", "/auth/methods"))
		// The pages the invitation and password-reset emails link to.
		mux.Handle("GET "+graphiql.AcceptInvitationPath, graphiql.AcceptInvitationHandler("Tenant API", "/graphql"))
		mux.Handle("GET "+graphiql.ResetPasswordPath, graphiql.ResetPasswordHandler("Tenant API", "/graphql"))
		// The example dashboard, which people reach by signing in
		// (examples/dashboard; dashboard.go).
		mux.Handle("GET "+DashboardPath, dashboardHandler())
	}

	return logRequests(cfg.Logger, withCORS(mux, cfg.AllowedOrigins))
}

// withCORS lets browsers on origins call next cross-origin. No origins
// means none: rs/cors reads an empty list as every origin ("*"), so then
// no CORS handler is installed at all and a preflight is answered by the
// transports without any Access-Control-* header, which browsers refuse.
func withCORS(next http.Handler, origins []string) http.Handler {
	if len(origins) == 0 {
		return next
	}
	return cors.New(cors.Options{
		AllowedOrigins:   origins,
		AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowedHeaders:   []string{"Authorization", "Content-Type", "Accept", "Idempotency-Key", "X-Request-Id"},
		ExposedHeaders:   []string{"X-Request-Id", "RateLimit", "RateLimit-Policy", "Retry-After", "Idempotent-Replayed"},
		AllowCredentials: false, // bearer tokens, never cookies: so "*" is safe to allow
		MaxAge:           600,
	}).Handler(next)
}

func originPatterns(origins []string) []string {
	out := make([]string, 0, len(origins))
	for _, o := range origins {
		if o == "*" {
			return []string{"*"}
		}
		// coder/websocket matches host patterns, not full origins.
		if _, host, ok := cutScheme(o); ok {
			out = append(out, host)
		}
	}
	return out
}

func cutScheme(origin string) (string, string, bool) {
	for _, s := range []string{"https://", "http://"} {
		if len(origin) > len(s) && origin[:len(s)] == s {
			return s, origin[len(s):], true
		}
	}
	return "", "", false
}

// requestInfo collects what the request log line reports.
type requestInfo struct {
	id        string
	actor     *tenant.Actor
	operation string
}

type requestInfoKey struct{}

func requestInfoFrom(ctx context.Context) *requestInfo {
	i, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return i
}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// logRequests gives each request an id (the client's X-Request-Id when it is
// sane) and writes one log line when it ends.
func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !requestIDPattern.MatchString(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		// No response of this server is to be sniffed into another type (a
		// JSON error read as HTML, say).
		w.Header().Set("X-Content-Type-Options", "nosniff")
		info := &requestInfo{id: id}
		ctx := context.WithValue(tenant.WithRequestID(r.Context(), id), requestInfoKey{}, info)
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r.WithContext(ctx))
		attrs := []any{"request_id", id, "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"duration_ms", float64(time.Since(start).Microseconds()) / 1000, "bytes", sw.bytes}
		if info.operation != "" {
			attrs = append(attrs, "operation", info.operation)
		}
		if info.actor != nil && info.actor.Kind != tenant.Anonymous {
			attrs = append(attrs, "actor", info.actor.ActorID())
		}
		log.InfoContext(ctx, "request", attrs...)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }
func (w *statusWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and Hijack (SSE, websocket).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush supports streaming transports.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// containsMedia reports whether the Accept header accept lists media.
func containsMedia(accept, media string) bool {
	for part := range strings.SplitSeq(accept, ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == media {
			return true
		}
	}
	return false
}
