// Command load is the benchmark of docs/benchmarks.md: it starts this API
// (the product binary, and the same with lib/pq's binary_parameters) and
// PostGraphile v5 over the seeded database, counts the SQL statements each
// sends per request through a protocol-counting proxy, checks that both
// return the same data, then drives them with closed-loop workers at each
// concurrency level, alternating servers within the run, and measures a
// hand-written SQL baseline. It writes results.json and report.md under
// -dir and the chart to -chart. With -profile it instead profiles this API
// (CPU and allocations) under workloads 1 and 2.
//
//	make bench            (seed, build, run; see docs/benchmarks.md)
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"tenantapi/bench"
)

func main() {
	var c bench.Config
	var servers, levels, oursEnv string
	profile := flag.Int("profile", 0, "profile this API for N seconds per workload instead of benchmarking")
	report := flag.Bool("report", false, "only render report.md and the chart again from -dir/results.json")
	flag.StringVar(&c.AdminURL, "url", os.Getenv("BENCH_ADMIN_URL"), "superuser PostgreSQL URL of the cluster (BENCH_ADMIN_URL)")
	flag.StringVar(&c.Database, "db", "tenantapi_bench", "the seeded database")
	flag.StringVar(&c.OursBin, "ours", "bin/tenantapi", "the tenantapi binary")
	flag.StringVar(&c.CeilingBin, "ceiling", "bin/tenantapi-ceiling", "this API built with -tags benchceiling: associations answered from memory after the first read (the ceiling)")
	flag.StringVar(&c.ProfileBin, "profile-bin", "bin/tenantapi-bench-server", "the pprof build of this API (bench/cmd/server), for -profile")
	flag.StringVar(&c.PeerDir, "peer", "bench/postgraphile", "the PostGraphile directory (npm ci done)")
	flag.StringVar(&c.Dir, "dir", ".data/bench", "the seeder's output and where results go")
	flag.StringVar(&c.Chart, "chart", "docs/benchmarks.svg", "where the chart is written")
	flag.StringVar(&servers, "servers", "ours,ours+bp,ceiling,peer", "servers to measure: ours, ours+bp (binary_parameters=yes), ceiling (-ceiling), peer")
	flag.StringVar(&levels, "levels", "1,10,50", "concurrency levels")
	flag.DurationVar(&c.Duration, "duration", 10*time.Second, "measured time per server, workload and level")
	flag.IntVar(&c.Rounds, "rounds", 2, "rounds each phase is split into, alternating the servers' order")
	flag.IntVar(&c.Pool, "tenants", 2000, "tenants the workloads spread over")
	flag.BoolVar(&c.Writes, "writes", true, "also run workload 3 (writes, this API only)")
	flag.BoolVar(&c.Mixed, "mixed", true, "also run workload 4 (Zipf-drawn tenants' homes with writes alongside)")
	flag.IntVar(&c.PeerPool, "peer-pool", 20, "PostGraphile's connection pool (this API's is DB_MAX_CONNS, 20 by default: set both lower on a shared cluster, e.g. -peer-pool 8 -ours-env DB_MAX_CONNS=8)")
	flag.Float64Var(&c.WriteRate, "write-rate", 20, "workload 4's writes per second (settings, keywords and usage batches of 20 in turn)")
	flag.StringVar(&oursEnv, "ours-env", "", "extra environment for this API, comma-separated KEY=VALUE (e.g. GOMEMLIMIT=100MiB)")
	flag.Parse()
	log.SetFlags(log.Ltime)
	if c.AdminURL == "" && !*report {
		log.Fatal("load: -url is required (a superuser URL, e.g. $(scripts/pg.sh url))")
	}
	for _, s := range strings.Split(servers, ",") {
		c.Servers = append(c.Servers, strings.TrimSpace(s))
	}
	if oursEnv != "" {
		c.OursEnv = strings.Split(oursEnv, ",")
	}
	for _, l := range strings.Split(levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(l))
		if err != nil || n < 1 {
			log.Fatalf("load: -levels must be numbers such as 1,10,50, got %q", levels)
		}
		c.Levels = append(c.Levels, n)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	d, err := bench.NewDriver(c)
	if err != nil {
		log.Fatalf("load: %v", err)
	}
	switch {
	case *report:
		err = d.Report()
	case *profile > 0:
		err = d.Profile(ctx, *profile)
	default:
		err = d.Run(ctx)
	}
	if err != nil {
		log.Fatalf("load: %v", err)
	}
}
