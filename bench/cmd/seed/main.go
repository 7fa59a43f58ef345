// Command seed builds the benchmark database (docs/benchmarks.md): the app's
// migrations, then 10,000 tenants with settings, SSO, notification channels,
// screening config, billing, 24 invoices, 5 API keys and 365 days of usage
// roll-ups each, and a few large tenants with 100,000 raw usage events,
// loaded with COPY. It does nothing when the database already holds this
// data for the current migrations (-force rebuilds it).
//
//	go run ./bench/cmd/seed -url "$(scripts/pg.sh url)"
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"sort"

	"tenantapi/bench"
)

func main() {
	var o bench.SeedOptions
	flag.StringVar(&o.AdminURL, "url", os.Getenv("BENCH_ADMIN_URL"), "superuser PostgreSQL URL of the cluster (BENCH_ADMIN_URL)")
	flag.StringVar(&o.Database, "db", "tenantapi_bench", "the benchmark database (dropped and rebuilt)")
	flag.IntVar(&o.Tenants, "tenants", 10000, "tenants")
	flag.IntVar(&o.LargeTenants, "large", 3, "large tenants, with -events raw usage events each")
	flag.IntVar(&o.EventsPerLarge, "events", 100000, "raw usage events of each large tenant")
	flag.BoolVar(&o.Force, "force", false, "rebuild even when the database is current")
	flag.StringVar(&o.Dir, "dir", ".data/bench", "where keys.tsv and the encryption key are written")
	flag.Parse()
	log.SetFlags(0)
	if o.AdminURL == "" {
		log.Fatal("seed: -url is required (a superuser URL, e.g. $(scripts/pg.sh url))")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := bench.Seed(ctx, o)
	if err != nil {
		log.Fatalf("seed: %v", err)
	}
	if res.Skipped {
		log.Printf("seed: %s is current (%d tenants, same migrations); -force rebuilds it", o.Database, o.Tenants)
		return
	}
	var names []string
	var total int64
	for n, c := range res.Rows {
		names = append(names, n)
		total += c
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Printf("  %-24s %10d rows\n", n, res.Rows[n])
	}
	for _, n := range res.Missing {
		fmt.Printf("  %-24s not in the schema yet: skipped\n", n)
	}
	for _, n := range res.Unseeded {
		fmt.Printf("  %-24s left empty (the seeder does not know it)\n", n)
	}
	log.Printf("seed: %d rows in %d tables in %s", total, len(res.Rows), res.Took.Round(100_000_000))
}
