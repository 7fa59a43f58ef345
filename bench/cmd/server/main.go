// Command server is the tenant API wired as server.go wires it (same
// httpapi.New, store, keyring, in-process rate limiter), plus net/http/pprof
// on a separate loopback address, for profiling under the benchmark's load
// (`make bench-profile`). The production binary exposes no pprof; this one
// is built only by the benchmark.
//
//	DATABASE_URL=... PORT=8080 ADMIN_SECRET=... ENCRYPTION_KEY=... server -pprof 127.0.0.1:6060
package main

import (
	"context"
	"flag"
	"log"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"tenantapi/db"
	"tenantapi/egress"
	"tenantapi/httpapi"
	"tenantapi/keyring"
	"tenantapi/ratelimit"
)

func main() {
	pprofAddr := flag.String("pprof", "127.0.0.1:6060", "address of the pprof endpoints (/debug/pprof/)")
	flag.Parse()
	level := slog.LevelInfo
	if v := os.Getenv("LOG_LEVEL"); v != "" {
		if err := level.UnmarshalText([]byte(v)); err != nil {
			log.Fatalf("LOG_LEVEL: %v", err)
		}
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// The collector's defaults of `tenantapi serve` (server.go, tuneGC).
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(128 << 20)
	}

	ring, err := keyring.Parse(os.Getenv("ENCRYPTION_KEY"))
	if err != nil {
		log.Fatal(err)
	}
	conns := 20
	if v := os.Getenv("DB_MAX_CONNS"); v != "" {
		if conns, err = strconv.Atoi(v); err != nil {
			log.Fatalf("DB_MAX_CONNS: %v", err)
		}
	}
	var wait time.Duration
	if v := os.Getenv("LOADER_WAIT"); v != "" {
		if wait, err = time.ParseDuration(v); err != nil {
			log.Fatalf("LOADER_WAIT: %v", err)
		}
	}
	store, err := db.Open(ctx, os.Getenv("DATABASE_URL"), db.Options{MaxOpenConns: conns, Sealer: ring})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go func() { logger.Error("pprof", "err", http.ListenAndServe(*pprofAddr, mux)) }()

	srv := &http.Server{
		Addr: "127.0.0.1:" + os.Getenv("PORT"),
		Handler: httpapi.New(store, httpapi.Config{
			AdminSecret: os.Getenv("ADMIN_SECRET"), LoaderWait: wait, Logger: logger,
			Egress:      egress.New(egress.Options{}),
			RateLimiter: ratelimit.NewMemory(ratelimit.MemoryOptions{}),
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
