// Command tenantapi serves the tenant-management GraphQL API.
//
//	tenantapi [serve] [-seed-demo] [-demo-key-file FILE]   serve the API (default)
//	tenantapi migrate                                      apply migrations and exit
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
	"strconv"
	"strings"
	"syscall"
	"time"

	"tenantapi/db"
	"tenantapi/egress"
	"tenantapi/httpapi"
	"tenantapi/keyring"
	"tenantapi/tenant"
)

// config is the process configuration, read from the environment.
type config struct {
	DatabaseURL     string
	Port            int
	AdminSecret     string
	AllowedOrigins  []string
	LogLevel        slog.Level
	LogFormat       string
	LoaderWait      time.Duration
	DBMaxConns      int
	ShutdownTimeout time.Duration
	EncryptionKey   string // keyring spec; "" = development key under .data/
	EgressPrivate   bool
	TrustedProxies  []netip.Prefix
}

// minAdminSecret is the shortest ADMIN_SECRET accepted: it guards every tenant.
const minAdminSecret = 24

func loadConfig(getenv func(string) string) (config, error) {
	c := config{Port: 8080, LogLevel: slog.LevelInfo, LogFormat: "json", LoaderWait: 0, DBMaxConns: 20, ShutdownTimeout: 20 * time.Second}
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
	return c, nil
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
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg)
	slog.SetDefault(log)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	ring, err := openKeyring(cfg, log)
	if err != nil {
		return err
	}
	store, err := db.Open(ctx, cfg.DatabaseURL, db.Options{MaxOpenConns: cfg.DBMaxConns, Sealer: ring})
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
	case "serve":
	default:
		return fmt.Errorf("unknown command %q: use serve or migrate", cmd)
	}

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
