// Command tenantapi serves the tenant-management GraphQL API.
//
//	tenantapi [serve] [-seed-demo] [-demo-key-file FILE]   serve the API (default)
//	tenantapi migrate                                      apply migrations and exit
//	tenantapi bill [-period YYYY-MM]                       run billing for a month (default: the current one, UTC)
//
// Configuration comes from the environment; see README.md (Configuration).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"tenantapi/db"
	"tenantapi/egress"
	"tenantapi/httpapi"
	"tenantapi/keyring"
	"tenantapi/ratelimit"
	"tenantapi/tenant"
)

// config is the process configuration, read from the environment.
type config struct {
	DatabaseURL      string
	Port             int
	AdminSecret      string
	AllowedOrigins   []string
	LogLevel         slog.Level
	LogFormat        string
	LoaderWait       time.Duration
	DBMaxConns       int
	ShutdownTimeout  time.Duration
	EncryptionKey    string // keyring spec; "" = development key under .data/
	EgressPrivate    bool
	TrustedProxies   []netip.Prefix
	RedisURL         string // "" = in-process rate limiter
	AnonymousPerMin  int    // rate limit of requests without credentials per client address; 0 = none
	FailedAuthPerMin int    // failed authentications per client address; 0 = none
	Limits           httpapi.Limits
	MaxBodyBytes     int64
	RequestTimeout   time.Duration
	StatementTime    time.Duration // DB_STATEMENT_TIMEOUT; 0 = none
	DBPrepare        bool          // DB_PREPARED_STATEMENTS
	Introspection    httpapi.IntrospectionMode
	Suggestions      bool
	SSOLoginBase     string // SSO_LOGIN_BASE_URL: where tenants' users start an SSO login
	MaxActiveKeys    int    // API_KEYS_MAX_ACTIVE: active API keys per tenant
}

// minAdminSecret is the shortest ADMIN_SECRET accepted: it guards every tenant.
const minAdminSecret = 24

func loadConfig(getenv func(string) string) (config, error) {
	c := config{Port: 8080, LogLevel: slog.LevelInfo, LogFormat: "json", LoaderWait: 0, DBMaxConns: 20, ShutdownTimeout: 20 * time.Second,
		AnonymousPerMin: 60, FailedAuthPerMin: 20, Limits: httpapi.DefaultLimits, MaxBodyBytes: 1 << 20, RequestTimeout: httpapi.DefaultRequestTimeout,
		StatementTime: 10 * time.Second, DBPrepare: true, Introspection: httpapi.IntrospectionAll, Suggestions: true, SSOLoginBase: tenant.DefaultSSOLoginBase,
		MaxActiveKeys: tenant.DefaultMaxActiveAPIKeys}
	c.DatabaseURL = getenv("DATABASE_URL")
	if c.DatabaseURL == "" {
		return c, errors.New("DATABASE_URL is required, e.g. postgres://user@127.0.0.1:5432/tenantapi?sslmode=disable (or use `make run`, which starts a private PostgreSQL)")
	}
	if !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return c, errors.New("DATABASE_URL must be a postgres:// URL")
	}
	if v := getenv("PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			return c, fmt.Errorf("PORT must be a number from 1 to 65535, got %q", v)
		}
		c.Port = p
	}
	c.AdminSecret = getenv("ADMIN_SECRET")
	if c.AdminSecret != "" && len(c.AdminSecret) < minAdminSecret {
		return c, fmt.Errorf("ADMIN_SECRET must be at least %d characters (it reaches every tenant); generate one with `openssl rand -hex 32`", minAdminSecret)
	}
	if v := getenv("CORS_ALLOWED_ORIGINS"); v != "" {
		for _, o := range strings.Split(v, ",") {
			o = strings.TrimSpace(o)
			if o != "*" && !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
				return c, fmt.Errorf("CORS_ALLOWED_ORIGINS must be a comma-separated list of origins such as https://app.example.com, or *; got %q", o)
			}
			c.AllowedOrigins = append(c.AllowedOrigins, strings.TrimSuffix(o, "/"))
		}
	}
	if v := getenv("LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return c, fmt.Errorf("LOG_LEVEL must be debug, info, warn or error, got %q", v)
		}
	}
	if v := getenv("LOG_FORMAT"); v != "" {
		if v != "json" && v != "text" {
			return c, fmt.Errorf("LOG_FORMAT must be json or text, got %q", v)
		}
		c.LogFormat = v
	}
	if v := getenv("LOADER_WAIT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > time.Second {
			return c, fmt.Errorf("LOADER_WAIT must be a duration from 0 to 1s such as 0 or 500us, got %q", v)
		}
		c.LoaderWait = d
	}
	if v := getenv("DB_MAX_CONNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return c, fmt.Errorf("DB_MAX_CONNS must be a number from 1 to 1000, got %q", v)
		}
		c.DBMaxConns = n
	}
	if v := getenv("SHUTDOWN_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("SHUTDOWN_TIMEOUT must be a positive duration such as 20s, got %q", v)
		}
		c.ShutdownTimeout = d
	}
	c.EncryptionKey = getenv("ENCRYPTION_KEY")
	if c.EncryptionKey != "" {
		if _, err := keyring.Parse(c.EncryptionKey); err != nil {
			return c, err
		}
	}
	if v := getenv("EGRESS_ALLOW_PRIVATE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("EGRESS_ALLOW_PRIVATE must be true or false, got %q", v)
		}
		c.EgressPrivate = b
	}
	if v := getenv("TRUSTED_PROXIES"); v != "" {
		for _, p := range strings.Split(v, ",") {
			prefix, err := tenant.ParsePrefix(p)
			if err != nil {
				return c, fmt.Errorf("TRUSTED_PROXIES must be a comma-separated list of addresses or CIDR blocks, got %q", strings.TrimSpace(p))
			}
			c.TrustedProxies = append(c.TrustedProxies, prefix)
		}
	}
	c.RedisURL = getenv("REDIS_URL")
	if c.RedisURL != "" {
		if _, err := ratelimit.ParseRedisURL(c.RedisURL); err != nil {
			return c, fmt.Errorf("REDIS_URL must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379/0, or unset for the in-process rate limiter: %w", err)
		}
	}
	if v := getenv("RATE_LIMIT_ANONYMOUS_PER_MINUTE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1_000_000 {
			return c, fmt.Errorf("RATE_LIMIT_ANONYMOUS_PER_MINUTE must be a number of requests from 0 (no limit) to 1000000, got %q", v)
		}
		c.AnonymousPerMin = n
	}
	if v := getenv("RATE_LIMIT_FAILED_AUTH_PER_MINUTE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1_000_000 {
			return c, fmt.Errorf("RATE_LIMIT_FAILED_AUTH_PER_MINUTE must be a number of failed authentications from 0 (no limit) to 1000000, got %q", v)
		}
		c.FailedAuthPerMin = n
	}
	if v := getenv("SSO_LOGIN_BASE_URL"); v != "" {
		base, err := tenant.ParseSSOLoginBase(v)
		if err != nil {
			return c, fmt.Errorf("SSO_LOGIN_BASE_URL %w", err)
		}
		c.SSOLoginBase = base
	}
	if err := loadLimits(getenv, &c); err != nil {
		return c, err
	}
	return c, nil
}

// loadLimits reads the query limits, the request size and deadlines, and
// the production switches (README: Query limits).
func loadLimits(getenv func(string) string, c *config) error {
	for _, s := range []struct {
		name     string
		dst      *int
		min, max int
		what     string
	}{
		{"QUERY_MAX_DEPTH", &c.Limits.MaxDepth, 2, 100, "levels of nested fields"},
		{"QUERY_MAX_ALIASES", &c.Limits.MaxAliases, 1, 10000, "aliases per operation"},
		{"QUERY_MAX_DIRECTIVES", &c.Limits.MaxDirectives, 1, 100, "directives per field"},
		{"QUERY_MAX_TOKENS", &c.Limits.MaxTokens, 100, 1000000, "tokens per document"},
		{"QUERY_MAX_COST", &c.Limits.MaxCost, 100, 100000000, "cost units per operation"},
		{"QUERY_MAX_FIELD_COPIES", &c.Limits.MaxFieldCopies, 1, 1000, "copies of one field in a selection set"},
		{"API_KEYS_MAX_ACTIVE", &c.MaxActiveKeys, tenant.MinMaxActiveAPIKeys, tenant.MaxMaxActiveAPIKeys, "active API keys per tenant"},
	} {
		if v := getenv(s.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < s.min || n > s.max {
				return fmt.Errorf("%s must be a number of %s from %d to %d, got %q", s.name, s.what, s.min, s.max, v)
			}
			*s.dst = n
		}
	}
	if v := getenv("REQUEST_MAX_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1024 || n > 100<<20 {
			return fmt.Errorf("REQUEST_MAX_BYTES must be a number of bytes from 1024 to 104857600 (100 MiB), got %q", v)
		}
		c.MaxBodyBytes = n
	}
	if v := getenv("REQUEST_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 100*time.Millisecond || d > 10*time.Minute {
			return fmt.Errorf("REQUEST_TIMEOUT must be a duration from 100ms to 10m such as 15s, got %q", v)
		}
		c.RequestTimeout = d
	}
	if v := getenv("DB_STATEMENT_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || (d != 0 && d < time.Millisecond) || d > time.Hour {
			return fmt.Errorf("DB_STATEMENT_TIMEOUT must be a duration from 1ms to 1h such as 10s, or 0 for none, got %q", v)
		}
		c.StatementTime = d
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"FIELD_SUGGESTIONS_ENABLED", &c.Suggestions}, {"DB_PREPARED_STATEMENTS", &c.DBPrepare}} {
		if v := getenv(b.name); v != "" {
			on, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%s must be true or false, got %q", b.name, v)
			}
			*b.dst = on
		}
	}
	return loadIntrospection(getenv, c)
}

// loadIntrospection reads INTROSPECTION (all, authenticated, off), or its
// older form INTROSPECTION_ENABLED (true = all, false = off).
func loadIntrospection(getenv func(string) string, c *config) error {
	mode, enabled := getenv("INTROSPECTION"), getenv("INTROSPECTION_ENABLED")
	switch {
	case mode != "" && enabled != "":
		return errors.New("set INTROSPECTION (all, authenticated or off) and not INTROSPECTION_ENABLED, its older form")
	case mode != "":
		m, err := httpapi.ParseIntrospectionMode(mode)
		if err != nil {
			return fmt.Errorf("INTROSPECTION %w", err)
		}
		c.Introspection = m
	case enabled != "":
		on, err := strconv.ParseBool(enabled)
		if err != nil {
			return fmt.Errorf("INTROSPECTION_ENABLED must be true or false, got %q (or use INTROSPECTION: all, authenticated or off)", enabled)
		}
		c.Introspection = httpapi.IntrospectionOff
		if on {
			c.Introspection = httpapi.IntrospectionAll
		}
	}
	return nil
}

// openRateLimiter returns the in-process rate limiter or, with REDIS_URL,
// the one shared through Redis, which fails over to an in-process one while
// Redis does not answer. release closes it.
func openRateLimiter(ctx context.Context, cfg config, log *slog.Logger) (limiter ratelimit.Limiter, release func(), err error) {
	local := ratelimit.NewMemory(ratelimit.MemoryOptions{})
	if cfg.RedisURL == "" {
		log.Info("rate limits: in-process (set REDIS_URL to share the budgets between instances)")
		return local, func() {}, nil
	}
	shared, err := ratelimit.OpenRedis(cfg.RedisURL, ratelimit.RedisOptions{Fallback: local, Logger: log})
	if err != nil {
		return nil, nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	if err := shared.Ping(ctx); err != nil {
		log.Warn("rate limits: Redis does not answer; each instance enforces the budgets on its own until it does", "err", err)
	} else {
		log.Info("rate limits: shared through Redis")
	}
	return shared, func() { _ = shared.Close() }, nil
}

// devKeyFile keeps the development encryption key when ENCRYPTION_KEY is unset.
const devKeyFile = ".data/encryption-key"

// openKeyring returns the configured keyring, or a development key kept in
// .data/ (created on first use) with a warning: secrets sealed with it are
// only as safe as that file.
func openKeyring(cfg config, log *slog.Logger) (*keyring.Keyring, error) {
	if cfg.EncryptionKey != "" {
		return keyring.Parse(cfg.EncryptionKey)
	}
	spec, err := os.ReadFile(devKeyFile)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(devKeyFile), 0o700); err != nil {
			return nil, err
		}
		spec = []byte(keyring.Generate("dev1"))
		if err := os.WriteFile(devKeyFile, spec, 0o600); err != nil {
			return nil, fmt.Errorf("ENCRYPTION_KEY is unset and the development key cannot be written: %w", err)
		}
	} else if err != nil {
		return nil, err
	}
	log.Warn("ENCRYPTION_KEY is unset: using the development key in " + devKeyFile + "; set ENCRYPTION_KEY in production")
	return keyring.Parse(strings.TrimSpace(string(spec)))
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "tenantapi:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	seedDemo := fs.Bool("seed-demo", false, "create the demo tenant (ACME Corporation) if missing and print a demo API key")
	keyFile := fs.String("demo-key-file", "", "file that keeps the demo API key between runs (with -seed-demo)")
	period := fs.String("period", "", "the month to bill, YYYY-MM (bill; default: the current month, UTC)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg)
	slog.SetDefault(log)
	gcPercent, memLimit := tuneGC(os.Getenv)
	log.Debug("garbage collector", "GOGC", gcPercent, "GOMEMLIMIT", memLimit)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	ring, err := openKeyring(cfg, log)
	if err != nil {
		return err
	}
	store, err := db.Open(ctx, cfg.DatabaseURL, db.Options{MaxOpenConns: cfg.DBMaxConns, Sealer: ring, StatementTimeout: cfg.StatementTime, NoPrepare: !cfg.DBPrepare})
	if err != nil {
		return err
	}
	defer store.Close()
	n, err := store.Migrate(ctx)
	if err != nil {
		return err
	}
	log.Info("migrations applied", "count", n)

	switch cmd {
	case "migrate":
		return nil
	case "bill":
		return bill(ctx, store, *period)
	case "serve":
	default:
		return fmt.Errorf("unknown command %q: use serve, migrate or bill", cmd)
	}

	// Scheduled plan changes take effect within a minute of their date.
	tickCtx, stopTicker := context.WithCancel(ctx)
	tickerDone := make(chan struct{})
	go func() {
		defer close(tickerDone)
		applyPlanChanges(tickCtx, store, log, time.Minute)
	}()
	defer func() { stopTicker(); <-tickerDone }() // before store.Close

	// Audit entries past their tenant's retention, idempotency keys older
	// than 24 hours and usage event ids past the replay window are purged at
	// start-up and then hourly.
	purgeDone := make(chan struct{})
	go func() {
		defer close(purgeDone)
		purgeExpired(tickCtx, store, log, time.Hour)
	}()
	defer func() { stopTicker(); <-purgeDone }()

	limiter, closeLimiter, err := openRateLimiter(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeLimiter()

	var demo string
	if *seedDemo {
		if demo, err = seed(ctx, store, *keyFile); err != nil {
			return fmt.Errorf("seeding demo data: %w", err)
		}
	}

	srv := &http.Server{
		Addr: net.JoinHostPort("", strconv.Itoa(cfg.Port)),
		Handler: httpapi.New(store, httpapi.Config{
			AdminSecret: cfg.AdminSecret, AllowedOrigins: cfg.AllowedOrigins, LoaderWait: cfg.LoaderWait, Logger: log,
			Egress:         egress.New(egress.Options{AllowPrivate: cfg.EgressPrivate}),
			TrustedProxies: cfg.TrustedProxies,
			RateLimiter:    limiter, AnonymousPerMinute: cfg.AnonymousPerMin, FailedAuthPerMinute: cfg.FailedAuthPerMin,
			Limits: cfg.Limits, MaxBodyBytes: cfg.MaxBodyBytes, RequestTimeout: cfg.RequestTimeout,
			Introspection: cfg.Introspection, DisableFieldSuggestions: !cfg.Suggestions,
			SSOLoginBase: cfg.SSOLoginBase, MaxActiveAPIKeys: cfg.MaxActiveKeys,
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		return fmt.Errorf("listen on port %d: %w", cfg.Port, err)
	}
	log.Info("serving", "addr", ln.Addr().String(), "graphiql", fmt.Sprintf("http://localhost:%d/", cfg.Port))
	if demo != "" {
		printDemo(cfg.Port, demo, cfg.AdminSecret != "")
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// The collector's defaults when GOGC and GOMEMLIMIT are unset. A request
// allocates much and keeps little (the live heap is tens of MiB), so Go's
// GOGC=100 collected after every few dozen requests: 13% of the CPU on the
// admin list. GOGC=400 collects a fifth as often; the 128 MiB soft limit
// makes it collect sooner rather than let the heap pass it
// (docs/benchmarks.md). Set either variable to choose otherwise, e.g.
// GOMEMLIMIT to about 80% of a container's memory.
const (
	defaultGCPercent = 400
	defaultMemLimit  = 128 << 20
)

// tuneGC applies the defaults above for whichever of GOGC and GOMEMLIMIT
// is unset, and returns the settings in effect.
func tuneGC(getenv func(string) string) (gcPercent int, memLimit int64) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemLimit)
	}
	gcPercent = debug.SetGCPercent(-1)
	debug.SetGCPercent(gcPercent)
	return gcPercent, debug.SetMemoryLimit(-1)
}

func newLogger(cfg config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

// seed creates the demo data and returns a working demo key, kept in
// keyFile (mode 0600) so repeated runs print the same key.
func seed(ctx context.Context, store *db.Store, keyFile string) (string, error) {
	var known string
	if keyFile != "" {
		if b, err := os.ReadFile(keyFile); err == nil {
			known = strings.TrimSpace(string(b))
		}
	}
	_, key, err := store.SeedDemo(ctx, known)
	if err != nil {
		return "", err
	}
	if keyFile != "" && key != known {
		if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
			return "", err
		}
	}
	return key, nil
}

func printDemo(port int, key string, admin bool) {
	fmt.Fprintf(os.Stderr, `
  Tenant API is up.   GraphiQL: http://localhost:%[1]d/

  Demo tenant "ACME Corporation" (acme.fr). Its API key holds every tenant permission:
    %[2]s
  In GraphiQL, open Headers and paste:  {"Authorization": "Bearer %[2]s"}
  Or with curl:
    curl -s localhost:%[1]d/graphql -H 'Content-Type: application/json' \
      -H 'Authorization: Bearer %[2]s' \
      -d '{"query":"{ me { name plan { name } limits { users apiRequestsPerMinute } usage { activeUsers } } }"}'
`, port, key)
	if admin {
		fmt.Fprintf(os.Stderr, "  The operator's ADMIN_SECRET (every tenant) is in the environment; `make run` keeps it in .data/admin-secret.\n")
	}
	fmt.Fprintln(os.Stderr)
}

// bill runs billing for period (YYYY-MM; "" for the current month, UTC) as
// the operator and prints what it did.
func bill(ctx context.Context, store *db.Store, period string) error {
	if period == "" {
		period = store.Now().UTC().Format("2006-01")
	}
	admin := tenant.WithActor(ctx, &tenant.Actor{Kind: tenant.Admin})
	run, err := store.RunBilling(admin, period)
	if err != nil {
		return err
	}
	fmt.Printf("billing run for %s: %d invoices created, %d tenants skipped (already invoiced or not due), %d scheduled plan changes applied\n",
		run.Period, run.Created, run.Skipped, run.PlanChangesApplied)
	return nil
}

// applyPlanChanges applies the scheduled plan changes that are due, at once
// and then every interval, until ctx ends. A failure is logged and retried
// at the next tick.
func applyPlanChanges(ctx context.Context, store *db.Store, log *slog.Logger, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := store.ApplyDuePlanChanges(ctx); err != nil && ctx.Err() == nil {
			log.Error("applying scheduled plan changes", "err", err)
		} else if n > 0 {
			log.Info("scheduled plan changes applied", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// purgeExpired deletes, at once and then every interval until ctx ends,
// the audit entries older than their tenant's retention, the expired
// idempotency keys, and the usage event ids too old to be replayed. A
// failure is logged and retried at the next tick.
func purgeExpired(ctx context.Context, store *db.Store, log *slog.Logger, interval time.Duration) {
	jobs := []struct {
		what  string
		purge func(context.Context) (int, error)
	}{
		{"audit entries past their retention", store.PurgeAudit},
		{"expired idempotency keys", store.PurgeIdempotencyKeys},
		{"usage event ids past the replay window", store.PruneUsageEvents},
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for _, j := range jobs {
			if n, err := j.purge(ctx); err != nil && ctx.Err() == nil {
				log.Error("purging "+j.what, "err", err)
			} else if n > 0 {
				log.Info(j.what+" purged", "count", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
