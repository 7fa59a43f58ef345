// Command tenantapi serves the tenant-management GraphQL API.
//
//	tenantapi [serve] [-seed-demo] [-demo-key-file FILE]   serve the API (default)
//	tenantapi migrate                                      apply migrations and exit
//	tenantapi bill [-period YYYY-MM]                       run billing for a month (default: the current one, UTC)
//	tenantapi events listen --forward-to URL [--types T,…] [--secret whsec_…]
//	                                                       forward the tenant's events, signed, to a local receiver
//	                                                       (TENANTAPI_API_KEY, TENANTAPI_URL; no database)
//
// Configuration comes from the environment; see docs/configuration.md.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"tenantapi/buildinfo"
	"tenantapi/db"
	"tenantapi/delivery"
	"tenantapi/egress"
	"tenantapi/httpapi"
	"tenantapi/keyring"
	"tenantapi/listen"
	"tenantapi/live"
	"tenantapi/mail"
	"tenantapi/ratelimit"
	"tenantapi/tenant"
	"tenantapi/webhook"
)

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
	if cmd == "version" {
		fmt.Println(buildinfo.Get())
		return nil
	}
	if cmd == "events" {
		// A client of the API: it needs neither the configuration of a
		// server nor a database.
		return eventsCommand(args, os.Getenv)
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

	// The first SIGTERM or SIGINT ends ctx (its cause says which); later
	// ones cut the shutdown's drain short (shutdown).
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ctx, stop := context.WithCancelCause(context.Background())
	defer stop(nil)
	go func() {
		if s, ok := <-sigs; ok {
			stop(signalled{s})
		}
	}()

	ring, err := openKeyring(cfg, log)
	if err != nil {
		return err
	}
	store, err := db.Open(ctx, cfg.DatabaseURL, db.Options{MaxOpenConns: cfg.DBMaxConns, Sealer: ring, StatementTimeout: cfg.StatementTime,
		NoPrepare: !cfg.DBPrepare, DirectURL: cfg.DirectURL, AssocCacheBytes: cmp.Or(cfg.AssocCacheBytes, -1)})
	if err != nil {
		return err
	}
	defer store.Close()
	n, err := store.Migrate(ctx)
	if err != nil {
		return err
	}
	log.Info("migrations applied", "count", n)
	// Invoices (the billing run, bill, prorated upgrades) print this seller.
	store.Seller = cfg.Seller
	if store.Seller.Name == "" {
		store.Seller.Name = "SELLER_NAME is not set"
		log.Warn("SELLER_NAME is not set: invoices issued now print \"SELLER_NAME is not set\" as their seller; set SELLER_NAME, SELLER_ADDRESS, SELLER_EMAIL, SELLER_TAX_ID")
	}

	switch cmd {
	case "migrate":
		return nil
	case "bill":
		return bill(ctx, store, *period)
	case "serve":
	default:
		return fmt.Errorf("unknown command %q: use serve, migrate, bill, version or events listen", cmd)
	}

	// Scheduled plan changes take effect within a minute of their date.
	// The jobs below run until the server has stopped serving (the deferred
	// stopTicker), not only until the signal: during the shutdown's drain
	// they keep working for the requests still served.
	tickCtx, stopTicker := context.WithCancel(context.WithoutCancel(ctx))
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
		purgeExpired(tickCtx, store, log, time.Hour, cfg.EventRetention)
	}()
	defer func() { stopTicker(); <-purgeDone }()

	// Webhook deliveries: every instance runs a worker; they share the
	// work through PostgreSQL (delivery/). On shutdown the attempts in
	// flight finish (each within WEBHOOK_TIMEOUT) and are logged.
	// Email goes through the same worker: over SMTP_URL, or as .eml files.
	mailer, err := mail.New(cfg.SMTPURL, cfg.MailFrom, cfg.MailDir)
	if err != nil {
		return err
	}
	if cfg.SMTPURL == "" {
		log.Info("no SMTP_URL: notification email is written as .eml files", "dir", cfg.MailDir)
	} else {
		log.Info("notification email", "via", mailer.Where())
	}
	worker := delivery.New(store, webhook.NewSender(egress.New(egress.Options{AllowPrivate: cfg.EgressPrivate, Timeout: cfg.WebhookTimeout})), delivery.Config{
		Workers: cfg.WebhookWorkers, PerEndpoint: cfg.WebhookPerURL, Timeout: cfg.WebhookTimeout, Jitter: 0.1, Log: log,
		Mail: mailer, BaseURL: cfg.PublicBaseURL, DisableAfter: cfg.WebhookDisable,
	})
	deliveryDone := make(chan struct{})
	go func() {
		defer close(deliveryDone)
		worker.Run(tickCtx)
	}()
	defer func() { stopTicker(); <-deliveryDone }()

	// Live subscriptions: one LISTEN connection per instance (live/). Every
	// event notification also wakes the webhook worker, so a delivery
	// starts at commit rather than at the worker's next poll (its poll
	// stays the fallback). LISTEN needs a session of its own: behind a
	// pooler in transaction mode, DATABASE_DIRECT_URL bypasses it.
	hub := live.New(cmp.Or(cfg.DirectURL, cfg.DatabaseURL), live.Options{PerCredential: cfg.LivePerCred, OnEvent: worker.Wake, Log: log})
	hubDone := make(chan struct{})
	go func() {
		defer close(hubDone)
		if err := hub.Run(tickCtx); err != nil {
			log.Error("live subscriptions: cannot listen for events; subscriptions will receive none", "err", err)
		}
	}()
	defer func() { stopTicker(); <-hubDone }()

	limiter, closeLimiter, err := openRateLimiter(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeLimiter()

	store.Sessions = tenant.SessionPolicy{Idle: cfg.SessionIdle, MaxAge: cfg.SessionMaxAge}
	var demo demoCredentials
	if *seedDemo {
		if demo, err = seed(ctx, store, *keyFile); err != nil {
			return fmt.Errorf("seeding demo data: %w", err)
		}
	}

	life := httpapi.NewLifecycle()
	srv := &http.Server{
		Addr: net.JoinHostPort("", strconv.Itoa(cfg.Port)),
		Handler: httpapi.New(store, httpapi.Config{
			AdminSecret: cfg.AdminSecret, AllowedOrigins: cfg.AllowedOrigins, LoaderWait: cfg.LoaderWait, MaxConcurrent: cfg.MaxConcurrent, Logger: log,
			Egress:         egress.New(egress.Options{AllowPrivate: cfg.EgressPrivate}),
			TrustedProxies: cfg.TrustedProxies,
			RateLimiter:    limiter, AnonymousPerMinute: cfg.AnonymousPerMin, FailedAuthPerMinute: cfg.FailedAuthPerMin,
			Limits: cfg.Limits, MaxBodyBytes: cfg.MaxBodyBytes, RequestTimeout: cfg.RequestTimeout,
			Introspection: cfg.Introspection, DisableFieldSuggestions: !cfg.Suggestions,
			PublicURL: cfg.PublicBaseURL, SSOLoginBase: cfg.SSOLoginBase, MaxActiveAPIKeys: cfg.MaxActiveKeys, Live: hub,
			MaxMembers: cfg.MaxMembers, LoginPerMinute: cfg.LoginPerMin, Mailer: mail.Personal{Sender: mailer},
			PublicBaseURL: cfg.PublicBaseURL, InvoiceLinkKey: ring.DeriveKey("invoice-links"), Lifecycle: life,
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
	if demo.key != "" {
		printDemo(cfg.Port, demo, cfg.AdminSecret != "")
	}

	// Shutdown closes the listener, then ends the websocket and SSE
	// subscriptions, which it would otherwise wait for until its timeout.
	srv.RegisterOnShutdown(life.EndStreams)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	var sig signalled
	errors.As(context.Cause(ctx), &sig)
	return shutdown(srv, life, sig.Signal, sigs, cfg, log)
}

// signalled is the cause of run's context when a signal ended it.
type signalled struct{ os.Signal }

func (s signalled) Error() string { return "received " + s.Signal.String() }

// shutdown stops srv gracefully after sig (docs/operations.md, Shutdown):
// /readyz answers 503 at once while requests are still served for
// SHUTDOWN_DRAIN, so load balancers stop sending new ones (another signal
// cuts the drain short; SIGINT, Ctrl-C at a terminal, skips it); then the
// listener closes, websocket and SSE subscriptions end cleanly, and the
// requests in flight get SHUTDOWN_TIMEOUT to finish. A signal after the
// drain exits at once. The background jobs stop when run returns.
func shutdown(srv *http.Server, life *httpapi.Lifecycle, sig os.Signal, more chan os.Signal, cfg config, log *slog.Logger) error {
	life.Drain()
	if drain := cfg.ShutdownDrain; drain > 0 && sig != os.Interrupt {
		log.Info("shutting down: draining, /readyz answers 503 and requests are still served", "signal", fmt.Sprint(sig), "drain", drain.String())
		t := time.NewTimer(drain)
		select {
		case <-t.C:
		case s := <-more:
			t.Stop()
			log.Info("shutting down: drain cut short", "signal", s.String())
		}
	}
	signal.Stop(more)
	log.Info("shutting down: no new connections; finishing in-flight requests and ending subscriptions", "timeout", cfg.ShutdownTimeout.String())
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(ctx)
	if werr := life.Wait(ctx); err == nil {
		err = werr
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// The collector's defaults when GOGC and GOMEMLIMIT are unset. A request
// allocates much and keeps little (the live heap is tens of MiB), so Go's
// GOGC=100 collected after every few dozen requests: 13% of the CPU on the
// admin list. GOGC=400 collects a fifth as often; the 120 MiB soft limit
// makes it collect sooner rather than let the heap pass it, and keeps the
// process's resident set, binary and runtime included, under 150 MB at 50
// clients (docs/benchmarks.md). Set either variable to choose otherwise, e.g.
// GOMEMLIMIT to about 80% of a container's memory.
const (
	defaultGCPercent = 400
	defaultMemLimit  = 120 << 20
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

// demoCredentials are what `make run` prints: the demo tenant's API key
// and its owner's sign-in.
type demoCredentials struct {
	key, ownerEmail, ownerPassword string
}

// seed creates the demo data and returns a working demo key, kept in
// keyFile (mode 0600) so repeated runs print the same key, and the demo
// owner's password, kept beside it in demo-password.
func seed(ctx context.Context, store *db.Store, keyFile string) (demoCredentials, error) {
	var c demoCredentials
	known := readSecretFile(keyFile)
	tenantID, key, err := store.SeedDemo(ctx, known)
	if err != nil {
		return c, err
	}
	if err := writeSecretFile(keyFile, key, known); err != nil {
		return c, err
	}
	pwFile := ""
	if keyFile != "" {
		pwFile = filepath.Join(filepath.Dir(keyFile), "demo-password")
	}
	knownPW := readSecretFile(pwFile)
	email, pw, err := store.SeedDemoOwner(ctx, tenantID, knownPW)
	if err != nil {
		return c, err
	}
	if err := writeSecretFile(pwFile, pw, knownPW); err != nil {
		return c, err
	}
	return demoCredentials{key: key, ownerEmail: email, ownerPassword: pw}, nil
}

func readSecretFile(name string) string {
	if name == "" {
		return ""
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func writeSecretFile(name, value, known string) error {
	if name == "" || value == known {
		return nil
	}
	return os.WriteFile(name, []byte(value+"\n"), 0o600)
}

func printDemo(port int, demo demoCredentials, admin bool) {
	key := demo.key
	fmt.Fprintf(os.Stderr, `
  Tenant API is up.   GraphiQL: http://localhost:%[1]d/

  Demo tenant "ACME Corporation" (acme.fr). Its API key holds every tenant permission:
    %[2]s
  In GraphiQL, open Headers and paste:  {"Authorization": "Bearer %[2]s"}
  Or with curl:
    curl -s localhost:%[1]d/graphql -H 'Content-Type: application/json' \
      -H 'Authorization: Bearer %[2]s' \
      -d '{"query":"{ me { name plan { name } limits { users apiRequestsPerMinute } usage { activeUsers } } }"}'

  Its owner signs in as %[3]s with the password %[4]s (kept in .data/demo-password)
  at http://localhost:%[1]d/signin, then lands in GraphiQL signed in. Or with curl:
    curl -s localhost:%[1]d/graphql -H 'Content-Type: application/json' \
      -d '{"query":"mutation { login(input: {email: \"%[3]s\", password: \"%[4]s\"}) { token member { role } } }"}'
  then send the token as  Authorization: Bearer <token>  (docs/members.md).

  The tenant's dashboard (examples/dashboard): http://localhost:%[1]d/dashboard/  (Sign in there as %[3]s)
`, port, key, demo.ownerEmail, demo.ownerPassword)
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
// the audit entries older than their tenant's retention, the events older
// than eventRetention (EVENT_RETENTION), the expired idempotency keys, and
// the usage event ids too old to be replayed; it also announces the API
// keys expiring within 7 days (api_key.expiring, once per key). A
// failure is logged and retried at the next tick.
func purgeExpired(ctx context.Context, store *db.Store, log *slog.Logger, interval, eventRetention time.Duration) {
	jobs := []struct {
		what  string
		purge func(context.Context) (int, error)
	}{
		{"purging audit entries past their retention", store.PurgeAudit},
		{"purging events past EVENT_RETENTION", func(ctx context.Context) (int, error) { return store.PurgeEvents(ctx, eventRetention) }},
		{"purging expired idempotency keys", store.PurgeIdempotencyKeys},
		{"purging usage event ids past the replay window", store.PruneUsageEvents},
		{"purging capacity reservation ids past their retention", store.PurgeCapacityRequests},
		// Not a purge: api_key.expiring for the keys expiring within 7 days.
		{"announcing API keys expiring within 7 days", store.AnnounceExpiringAPIKeys},
		{"purging threshold marks that can no longer fire", store.PurgeEventMarks},
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for _, j := range jobs {
			if n, err := j.purge(ctx); err != nil && ctx.Err() == nil {
				log.Error("hourly job failed", "job", j.what, "err", err)
			} else if n > 0 {
				log.Info("hourly job done", "job", j.what, "count", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// eventsCommand runs `tenantapi events listen`: it follows the tenant of
// TENANTAPI_API_KEY through the API at TENANTAPI_URL and forwards each
// event, signed, to --forward-to (listen/), until interrupted.
func eventsCommand(args []string, getenv func(string) string) error {
	if len(args) == 0 || args[0] != "listen" {
		return errors.New("usage: tenantapi events listen --forward-to URL [--types T1,T2] [--secret whsec_...]")
	}
	fs := flag.NewFlagSet("events listen", flag.ContinueOnError)
	forward := fs.String("forward-to", "", "the URL to POST each event to, e.g. http://localhost:3000/webhooks (required; plain http for this machine only)")
	types := fs.String("types", "", "only these event types, comma-separated wire names (subscription.changed) or enum names (SUBSCRIPTION_CHANGED); default every type")
	secret := fs.String("secret", "", "the whsec_ secret to sign with; default a new one per session, printed on start")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *forward == "" {
		return errors.New("events listen: --forward-to is required, e.g. --forward-to http://localhost:3000/webhooks")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return listen.Run(ctx, listen.Options{
		API: cmp.Or(getenv("TENANTAPI_URL"), "http://localhost:8080"), APIKey: getenv("TENANTAPI_API_KEY"),
		ForwardTo: *forward, Types: listen.ParseTypes(*types), Secret: *secret, Out: os.Stdout,
	})
}
