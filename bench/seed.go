// Package bench is the benchmark of docs/benchmarks.md: a dataset seeder, a
// closed-loop load generator that runs this API and its peer (PostGraphile
// v5 over the same tables) side by side, a PostgreSQL protocol proxy that
// counts the statements each server sends, and the report (table and
// chart). It is not part of the product and never runs under `make test`.
package bench

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"

	"tenantapi/db"
	"tenantapi/keyring"
	"tenantapi/migrations"
	"tenantapi/tenant"
)

// seederVersion changes whenever the generated data changes shape, so an
// older seeded database is rebuilt.
const seederVersion = "bench-seed/4"

// SeedOptions size the dataset.
type SeedOptions struct {
	AdminURL       string // superuser URL of the cluster (any database)
	Database       string // the benchmark database, created or rebuilt
	Tenants        int    // 10,000 for the published numbers
	LargeTenants   int    // tenants with EventsPerLarge raw usage events each
	EventsPerLarge int    // raw usage events of each large tenant
	Force          bool   // rebuild even when the marker says it is current
	Dir            string // where keys.tsv and encryption-key are written
}

// SeedResult says what the seeder did.
type SeedResult struct {
	Skipped  bool
	Rows     map[string]int64
	Missing  []string // tables the seeder knows but the schema lacks
	Unseeded []string // tables of the schema the seeder does not fill
	Took     time.Duration
}

// WithDatabase returns rawURL with its database replaced by name.
func WithDatabase(rawURL, name string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("database URL: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// marker identifies a seeded database: the seeder version, its size and a
// hash of every migration, kept as the database's COMMENT.
func marker(o SeedOptions) string {
	h := sha256.New()
	_ = fs.WalkDir(migrations.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, p)
		if err == nil {
			fmt.Fprintf(h, "%s\x00%s\x00", p, b)
		}
		return err
	})
	return fmt.Sprintf("%s tenants=%d large=%dx%d migrations=%s", seederVersion, o.Tenants, o.LargeTenants, o.EventsPerLarge, hex.EncodeToString(h.Sum(nil))[:16])
}

// KeysFile is where the seeder writes one API key per tenant.
func KeysFile(dir string) string { return filepath.Join(dir, "keys.tsv") }

// EncryptionKeyFile holds the keyring the seeder sealed secrets with; the
// benchmarked server gets it as ENCRYPTION_KEY.
func EncryptionKeyFile(dir string) string { return filepath.Join(dir, "encryption-key") }

// Seed (re)builds the benchmark database: the app's migrations, then every
// table it knows that the schema has, loaded with COPY. It does nothing when
// the database already holds this seeder's data for the same migrations.
func Seed(ctx context.Context, o SeedOptions) (*SeedResult, error) {
	start := time.Now()
	admin, err := sql.Open("postgres", o.AdminURL)
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	want := marker(o)
	var have sql.NullString
	err = admin.QueryRowContext(ctx, `SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1`, o.Database).Scan(&have)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	if !o.Force && have.String == want && fileExists(KeysFile(o.Dir)) && fileExists(EncryptionKeyFile(o.Dir)) {
		return &SeedResult{Skipped: true, Took: time.Since(start)}, nil
	}
	if _, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+pq.QuoteIdentifier(o.Database)+` WITH (FORCE)`); err != nil {
		return nil, err
	}
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(o.Database)); err != nil {
		return nil, err
	}
	benchURL, err := WithDatabase(o.AdminURL, o.Database)
	if err != nil {
		return nil, err
	}
	// The app's own migrations, exactly as `tenantapi migrate` applies them.
	store, err := db.Open(ctx, benchURL, db.Options{MaxOpenConns: 2})
	if err != nil {
		return nil, err
	}
	n, err := store.Migrate(ctx)
	store.Close()
	if err != nil {
		return nil, err
	}
	log.Printf("seed: %d migrations applied to %s", n, o.Database)

	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, err
	}
	spec := keyring.Generate("bench1")
	ring, err := keyring.Parse(spec)
	if err != nil {
		return nil, err
	}
	conn, err := sql.Open("postgres", benchURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetMaxOpenConns(4)
	schema, err := readSchema(ctx, conn)
	if err != nil {
		return nil, err
	}
	d := newDataset(o, ring)
	res := &SeedResult{Rows: map[string]int64{}}
	known := map[string]bool{}
	for _, t := range d.tables() {
		known[t.name] = true
	}
	for name := range schema {
		if !known[name] && name != "goose_db_version" && name != "plans" {
			res.Unseeded = append(res.Unseeded, name)
		}
	}
	sort.Strings(res.Unseeded)

	// tenants first (its rows give every other table its keys), then the
	// rest two at a time: the machine has two cores and PostgreSQL needs one.
	tables := d.tables()
	load := func(t table) error {
		cols, ok := schema[t.name]
		if !ok {
			res.Missing = append(res.Missing, t.name)
			return nil
		}
		n, err := copyTable(ctx, conn, t, cols)
		if err != nil {
			return fmt.Errorf("seeding %s: %w", t.name, err)
		}
		res.Rows[t.name] = n
		return nil
	}
	if err := load(tables[0]); err != nil {
		return nil, err
	}
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
		sem   = make(chan struct{}, 2)
	)
	for _, t := range tables[1:] {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := load(t); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if _, err := conn.ExecContext(ctx, `VACUUM (ANALYZE)`); err != nil {
		return nil, err
	}
	if err := d.writeKeys(KeysFile(o.Dir)); err != nil {
		return nil, err
	}
	if err := os.WriteFile(EncryptionKeyFile(o.Dir), []byte(spec+"\n"), 0o600); err != nil {
		return nil, err
	}
	if _, err := admin.ExecContext(ctx, `COMMENT ON DATABASE `+pq.QuoteIdentifier(o.Database)+` IS `+pq.QuoteLiteral(want)); err != nil {
		return nil, err
	}
	sort.Strings(res.Missing)
	res.Took = time.Since(start)
	return res, nil
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// readSchema returns the columns of every table of the public schema.
func readSchema(ctx context.Context, conn *sql.DB) (map[string]map[string]bool, error) {
	rows, err := conn.QueryContext(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = 'public' AND table_name IN (SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE')`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]map[string]bool{}
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			return nil, err
		}
		if out[t] == nil {
			out[t] = map[string]bool{}
		}
		out[t][c] = true
	}
	return out, rows.Err()
}

// table is one table's rows: gen calls emit once per row with values in
// the order of cols.
type table struct {
	name string
	cols []string
	gen  func(emit func(vals ...any) error) error
}

// copyTable loads t with COPY, keeping only the columns the schema has (a
// migration that has not landed yet leaves its columns at their defaults).
// Foreign-key triggers are off for the load (session_replication_role), as
// pg_restore does: the generator keeps the references consistent.
func copyTable(ctx context.Context, conn *sql.DB, t table, have map[string]bool) (int64, error) {
	var keep []int
	var cols []string
	for i, c := range t.cols {
		if have[c] {
			keep = append(keep, i)
			cols = append(cols, pq.QuoteIdentifier(c))
		}
	}
	c, err := conn.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, `SET session_replication_role = replica`); err != nil {
		return 0, err
	}
	defer c.ExecContext(context.Background(), `RESET session_replication_role`) //nolint:errcheck // the connection is closed anyway
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	stmt, err := tx.PrepareContext(ctx, "COPY "+pq.QuoteIdentifier(t.name)+" ("+strings.Join(cols, ", ")+") FROM STDIN")
	if err != nil {
		return 0, err
	}
	var n int64
	row := make([]any, len(keep))
	err = t.gen(func(vals ...any) error {
		if len(vals) != len(t.cols) {
			return fmt.Errorf("generator gave %d values for %d columns", len(vals), len(t.cols))
		}
		for i, k := range keep {
			row[i] = vals[k]
		}
		n++
		_, err := stmt.ExecContext(ctx, row...)
		return err
	})
	if err != nil {
		stmt.Close()
		return 0, err
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return 0, err
	}
	if err := stmt.Close(); err != nil {
		return 0, err
	}
	return n, tx.Commit()
}

// seededTenant is what the generator decided about one tenant.
type seededTenant struct {
	id, name, domain, plan string
	created                time.Time
	key                    string // an API key holding every tenant permission
	large                  bool   // has EventsPerLarge raw usage events
}

// dataset generates every table deterministically (a fixed PRNG seed)
// around today, so the current month always has usage and invoices.
type dataset struct {
	o       SeedOptions
	ring    *keyring.Keyring
	now     time.Time
	today   time.Time
	tenants []seededTenant
}

var plansByShare = []struct {
	id    string
	share float64
	price int64
}{{"starter", 0.50, 4900}, {"professional", 0.35, 29900}, {"enterprise", 0.15, 299900}}

func newDataset(o SeedOptions, ring *keyring.Keyring) *dataset {
	now := time.Now().UTC()
	d := &dataset{o: o, ring: ring, now: now, today: time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range o.Tenants {
		p := r.Float64()
		plan := plansByShare[2].id
		if p < plansByShare[0].share {
			plan = plansByShare[0].id
		} else if p < plansByShare[0].share+plansByShare[1].share {
			plan = plansByShare[1].id
		}
		large := i < o.LargeTenants
		if large {
			plan = "enterprise"
		}
		d.tenants = append(d.tenants, seededTenant{
			id:      uuidFrom(r),
			name:    fmt.Sprintf("%s %s %d", words[r.IntN(len(words))], suffixes[r.IntN(len(suffixes))], i),
			domain:  fmt.Sprintf("tenant-%05d.bench.example", i),
			plan:    plan,
			created: d.today.AddDate(-2, -3, 0).Add(-time.Duration(r.IntN(700*24)) * time.Hour),
			key:     tenant.NewAPIKey(),
			large:   large,
		})
	}
	return d
}

func uuidFrom(r *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func date(t time.Time) string { return t.Format("2006-01-02") }

// writeKeys writes "tenant id, plan, API key" per line, for the load driver.
func (d *dataset) writeKeys(path string) error {
	var b strings.Builder
	for _, t := range d.tenants {
		fmt.Fprintf(&b, "%s\t%s\t%s\n", t.id, t.plan, t.key)
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

var (
	words    = []string{"Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Tyrell", "Cyberdyne", "Soylent", "Hooli", "Vandelay", "Wonka", "Gringotts", "Oceanic", "Massive", "Dunder"}
	suffixes = []string{"Corporation", "Industries", "Labs", "Group", "Systems", "Holdings", "SA", "GmbH"}
	kwords   = []string{"casino", "gambling", "crypto", "exchange", "replica", "watches", "pharmacy", "loans", "payday", "forex", "betting", "adult", "firearms", "tobacco", "vape", "lottery", "bitcoin", "escrow", "wire", "transfer"}
	checks   = []string{"DOMAIN_AGE", "SSL_CERTIFICATE", "WHOIS_PRIVACY", "CONTENT_KEYWORDS", "BLACKLIST", "SOCIAL_PRESENCE", "CONTACT_INFO", "BUSINESS_REGISTRY"}
	sectors  = []string{"11", "21", "22", "23", "31-33", "42", "44-45", "48-49", "51", "52", "53", "54", "55", "56", "61", "62", "71", "72", "81", "92"}
	events   = []string{"SCREENING_COMPLETED", "WEB_VALIDATION_COMPLETED", "RISK_ALERT", "WATCHLIST_MATCH", "WATCHLIST_SEATS_LOW", "CREDITS_LOW", "QUOTA_EXCEEDED", "SUBSCRIPTION_CHANGED", "INVOICE_ISSUED"}
)

// dailyVolume is a plausible number of interactions a day for a plan,
// below its monthly quota (starter 10,000, professional 1,000,000).
func dailyVolume(r *rand.Rand, plan string) int64 {
	switch plan {
	case "starter":
		return 50 + r.Int64N(250)
	case "professional":
		return 1000 + r.Int64N(20000)
	}
	return 10000 + r.Int64N(90000)
}

func usersFor(r *rand.Rand, plan string) int {
	switch plan {
	case "starter":
		return 2 + r.IntN(3)
	case "professional":
		return 5 + r.IntN(10)
	}
	return 20 + r.IntN(10)
}

// tables lists every table the seeder fills, tenants first.
func (d *dataset) tables() []table {
	var ts []table
	add := func(name string, cols []string, gen func(emit func(vals ...any) error) error) {
		ts = append(ts, table{name: name, cols: cols, gen: gen})
	}
	perTenant := func(seed uint64, f func(r *rand.Rand, i int, t *seededTenant, emit func(vals ...any) error) error) func(emit func(vals ...any) error) error {
		return func(emit func(vals ...any) error) error {
			r := rand.New(rand.NewPCG(seed, 7))
			for i := range d.tenants {
				if err := f(r, i, &d.tenants[i], emit); err != nil {
					return err
				}
			}
			return nil
		}
	}
	now := d.now
	add("tenants", []string{"id", "name", "domain", "plan_id", "status", "owner_id", "owner_email", "created_at", "created_by", "modified_at", "modified_by", "version"},
		perTenant(10, func(r *rand.Rand, i int, t *seededTenant, emit func(...any) error) error {
			return emit(t.id, t.name, t.domain, t.plan, "ACTIVE", uuidFrom(r), "it@"+t.domain, t.created, "bench", t.created, "bench", 1)
		}))
	add("tenant_settings", []string{"tenant_id", "data_residency", "encryption_enabled", "audit_log_retention_days", "sso_enabled", "ip_allowlist", "deduplicate_tokens", "version", "updated_at", "updated_by"},
		perTenant(11, func(r *rand.Rand, i int, t *seededTenant, emit func(...any) error) error {
			res := "EU"
			if r.IntN(3) == 0 {
				res = "US"
			}
			return emit(t.id, res, true, 365, true, pq.StringArray{}, r.IntN(2) == 0, 1+r.IntN(5), t.created, "bench")
		}))
	add("usage_counters", []string{"tenant_id", "policies"},
		perTenant(12, func(r *rand.Rand, i int, t *seededTenant, emit func(...any) error) error {
			return emit(t.id, r.IntN(20))
		}))
	// Five keys a tenant: the first holds every tenant permission (the
	// load driver's), then narrower ones, one revoked and one expired.
	all := tenant.TenantPermissions()
	allStr := make(pq.StringArray, len(all))
	for i, p := range all {
		allStr[i] = string(p)
	}
	add("api_keys", []string{"tenant_id", "id", "name", "prefix", "key_hash", "permissions", "created_at", "created_by", "expires_at", "last_used_at", "revoked_at", "revoked_by"},
		perTenant(13, func(r *rand.Rand, i int, t *seededTenant, emit func(...any) error) error {
			for k := range 5 {
				key, perms := t.key, allStr
				var expires, revoked, revokedBy any
				if k > 0 {
					key = tenant.NewAPIKey()
					perms = pq.StringArray{string(tenant.PermTenantRead), string(tenant.PermReportRead)}
				}
				switch k {
				case 3:
					revoked, revokedBy = now.AddDate(0, -1, 0), "bench"
				case 4:
					expires = now.AddDate(0, 0, -10)
				}
				if err := emit(t.id, uuidFrom(r), fmt.Sprintf("key %d", k+1), tenant.KeyDisplayPrefix(key), tenant.HashKey(key), perms,
					t.created, "bench", expires, nil, revoked, revokedBy); err != nil {
					return err
				}
			}
			return nil
		}))
	// 365 days of daily roll-ups up to today.
	add("usage_daily", []string{"tenant_id", "day", "interactions", "logged", "coached", "blocked", "high_risk", "tokenized"},
		perTenant(14, func(r *rand.Rand, i int, t *seededTenant, emit func(...any) error) error {
			base := dailyVolume(r, t.plan)
			for back := 364; back >= 0; back-- {
				n := base/2 + r.Int64N(base)
				blocked, coached := n/50, n/20
				if err := emit(t.id, date(d.today.AddDate(0, 0, -back)), n, n-blocked-coached, coached, blocked, n/100, n/10); err != nil {
					return err
				}
			}
			return nil
		}))
	add("usage_monthly_users", []string{"tenant_id", "month", "user_id"},
		perTenant(15, func(r *rand.Rand, i int, t *seededTenant, emit func(...any) error) error {
			m := time.Date(d.today.Year(), d.today.Month(), 1, 0, 0, 0, 0, time.UTC)
			for back := range 2 {
				for u := range usersFor(r, t.plan) {
					if err := emit(t.id, date(m.AddDate(0, -back, 0)), fmt.Sprintf("user-%d", u)); err != nil {
						return err
					}
				}
			}
			return nil
		}))
	// Distinct users and platforms per day, over the last 31 days (what a
	// 30-day stats query reads).
	add("usage_daily_users", []string{"tenant_id", "day", "user_id"},
		perTenant(16, func(r *rand.Rand, i int, t *seededTenant, emit func(...any) error) error {
			n := usersFor(r, t.plan)
			for back := 30; back >= 0; back-- {
				for u := range n {
					if err := emit(t.id, date(d.today.AddDate(0, 0, -back)), fmt.Sprintf("user-%d", u)); err != nil {
						return err
					}
				}
			}
			return nil
		}))
	add("usage_daily_platforms", []string{"tenant_id", "day", "platform"},
		perTenant(17, func(r *rand.Rand, i int, t *seededTenant, emit func(...any) error) error {
			for back := 30; back >= 0; back-- {
				for _, p := range []string{"chatgpt", "copilot", "gemini"}[:1+r.IntN(3)] {
					if err := emit(t.id, date(d.today.AddDate(0, 0, -back)), p); err != nil {
						return err
					}
				}
			}
			return nil
		}))
	add("usage_token_types", []string{"tenant_id", "token_type", "count", "last_created_at"},
		perTenant(18, func(r *rand.Rand, i int, t *seededTenant, emit func(...any) error) error {
			for _, tt := range []string{"token", "card", "bank"} {
				if err := emit(t.id, tt, 100+r.Int64N(100000), now.Add(-time.Duration(r.IntN(3600))*time.Second)); err != nil {
					return err
				}
			}
			return nil
		}))
	add("usage_events", []string{"tenant_id", "event_id", "occurred_at", "recorded_at"},
		perTenant(19, func(r *rand.Rand, i int, t *seededTenant, emit func(...any) error) error {
			if !t.large {
				return nil
			}
			for e := range d.o.EventsPerLarge {
				at := now.Add(-time.Duration(r.Int64N(int64(30 * 24 * time.Hour))))
				if err := emit(t.id, fmt.Sprintf("evt-%07d", e), at, at.Add(time.Second)); err != nil {
					return err
				}
			}
			return nil
		}))
	add("credit_grants", []string{"tenant_id", "id", "amount", "used", "expires_at", "reason", "created_at", "created_by"},
		perTenant(20, func(r *rand.Rand, i int, t *seededTenant, emit func(...any) error) error {
			if i%5 != 0 {
				return nil
			}
			amount := int64(1000 + r.IntN(9000))
			return emit(t.id, uuidFrom(r), amount, amount/3, now.AddDate(0, 6, 0), "welcome credits", t.created, "bench")
		}))
	add("sso_configs", []string{"tenant_id", "type", "status", "client_id", "client_secret_sealed", "client_secret_hint", "discovery_url", "redirect_uri",
		"directory_tenant_id", "last_test_at", "last_test_result", "version", "updated_at", "updated_by"},
		perTenant(21, func(r *rand.Rand, i int, t *seededTenant, emit func(...any) error) error {
			secret := fmt.Sprintf("client-secret-%016x", r.Uint64())
			sealed := d.ring.Seal(t.id, []byte(secret))
			hint := "…" + secret[len(secret)-4:]
			if i%10 < 7 {
				return emit(t.id, "OIDC", "ACTIVE", "portal-"+t.domain, sealed, hint, "https://idp."+t.domain+"/.well-known/openid-configuration",
					"https://app."+t.domain+"/auth/callback", nil, now.AddDate(0, 0, -3), "SUCCESS", 2, now.AddDate(0, 0, -3), "bench")
			}
			return emit(t.id, "ENTRA_ID", "CONFIGURED", uuidFrom(r), sealed, hint, nil, nil, uuidFrom(r), nil, nil, 1, t.created, "bench")
		}))
	add("notification_channels", []string{"tenant_id", "emails", "webhook_url", "events", "webhook_secret_sealed", "webhook_secret_tail", "webhook_secret_created_at", "version", "updated_at", "updated_by"},
		perTenant(22, func(r *rand.Rand, i int, t *seededTenant, emit func(...any) error) error {
			var secret [32]byte
			for j := range secret {
				secret[j] = byte(r.UintN(256))
			}
			s := "whsec_" + hex.EncodeToString(secret[:])
			ev := slices.Clone(events)
			r.Shuffle(len(ev), func(a, b int) { ev[a], ev[b] = ev[b], ev[a] })
			return emit(t.id, pq.StringArray{"security@" + t.domain, "ops@" + t.domain}, "https://hooks."+t.domain+"/tenant-api",
				pq.StringArray(ev[:3+r.IntN(5)]), d.ring.Seal(t.id, []byte(s)), s[len(s)-4:], t.created, 1, t.created, "bench")
		}))
	add("screening_keywords", []string{"tenant_id", "keywords", "version", "updated_at", "updated_by"},
		perTenant(23, func(r *rand.Rand, i int, t *seededTenant, emit func(...any) error) error {
			kw := make(pq.StringArray, 50)
			for k := range kw {
				kw[k] = fmt.Sprintf("%s %s %d", kwords[r.IntN(len(kwords))], kwords[r.IntN(len(kwords))], k)
			}
			return emit(t.id, kw, 1, t.created, "bench")
		}))
	add("screening_industries", []string{"tenant_id", "allowed", "blocked", "version", "updated_at", "updated_by"},
		perTenant(24, func(r *rand.Rand, i int, t *seededTenant, emit func(...any) error) error {
			s := slices.Clone(sectors)
			r.Shuffle(len(s), func(a, b int) { s[a], s[b] = s[b], s[a] })
			return emit(t.id, pq.StringArray(s[:4]), pq.StringArray(s[4:6]), 1, t.created, "bench")
		}))
	add("risk_matrices", []string{"tenant_id", "version", "updated_at", "updated_by"},
		perTenant(25, func(r *rand.Rand, i int, t *seededTenant, emit func(...any) error) error {
			return emit(t.id, 1, t.created, "bench")
		}))
	add("risk_matrix_weights", []string{"tenant_id", "web_check", "weight"},
		perTenant(26, func(r *rand.Rand, i int, t *seededTenant, emit func(...any) error) error {
			for j, w := range []string{"0.3000", "0.2500", "0.2000", "0.1500", "0.1000"} {
				if err := emit(t.id, checks[(i+j)%len(checks)], w); err != nil {
					return err
				}
			}
			return nil
		}))
	add("website_configs", []string{"tenant_id", "enabled_checks", "timeout_seconds", "pass_threshold", "review_threshold", "follow_redirects", "max_redirects", "version", "updated_at", "updated_by"},
		perTenant(27, func(r *rand.Rand, i int, t *seededTenant, emit func(...any) error) error {
			return emit(t.id, pq.StringArray(checks[:5]), 10, 70, 40, true, 5, 1, t.created, "bench")
		}))
	add("watchlist_seats", []string{"tenant_id", "available_seats", "active_subjects", "version", "updated_at", "updated_by"},
		perTenant(28, func(r *rand.Rand, i int, t *seededTenant, emit func(...any) error) error {
			return emit(t.id, 100, r.IntN(100), 1, t.created, "bench")
		}))
	add("billing_accounts", []string{"tenant_id", "status", "billing_period", "next_billing_date", "anchor_day", "payment_type", "payment_brand", "payment_last4", "billing_email", "version", "updated_at", "updated_by"},
		perTenant(29, func(r *rand.Rand, i int, t *seededTenant, emit func(...any) error) error {
			status := "ACTIVE"
			if pastDue(i) {
				status = "PAST_DUE"
			}
			next := time.Date(d.today.Year(), d.today.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, 0)
			ptype, brand := "CREDIT_CARD", any([]string{"VISA", "MASTERCARD", "AMEX"}[r.IntN(3)])
			if r.IntN(4) == 0 {
				ptype, brand = "SEPA_DEBIT", nil
			}
			return emit(t.id, status, "MONTHLY", date(next), 1, ptype, brand, fmt.Sprintf("%04d", r.IntN(10000)), "billing@"+t.domain, 1, t.created, "bench")
		}))
	// 24 monthly invoices, the oldest first; the current month's is OPEN.
	add("invoices", []string{"tenant_id", "id", "number", "year", "seq", "period", "status", "date", "due_date", "period_start", "period_end", "plan_id", "billing_period",
		"amount_cents", "currency", "description", "created_at", "created_by", "paid_at", "snapshot"},
		perTenant(30, func(r *rand.Rand, i int, t *seededTenant, emit func(...any) error) error {
			var price int64
			name := ""
			for _, p := range plansByShare {
				if p.id == t.plan {
					price = p.price
				}
			}
			name = strings.ToUpper(t.plan[:1]) + t.plan[1:]
			month := time.Date(d.today.Year(), d.today.Month(), 1, 0, 0, 0, 0, time.UTC)
			seqs := map[int]int{}
			for back := 23; back >= 0; back-- {
				start := month.AddDate(0, -back, 0)
				end := start.AddDate(0, 1, -1)
				seqs[start.Year()]++
				seq := seqs[start.Year()]
				status, paid := "PAID", any(start.AddDate(0, 0, 5).Add(10*time.Hour))
				if back == 0 {
					status, paid = "OPEN", nil
				}
				desc := fmt.Sprintf("%s plan, %s", name, start.Format("January 2006"))
				// What the invoice prints, frozen at issue (as migration
				// 00019 froze the invoices issued before it).
				snap, _ := json.Marshal(map[string]any{
					"seller": map[string]any{"name": "Tenant API", "address": []string{"1 Example Street", "75001 Paris, France"}, "email": "billing@tenantapi.example"},
					"billTo": map[string]any{"name": t.name, "address": []string{}, "domain": t.domain, "email": "billing@" + t.domain},
					"lines": []map[string]any{{"description": desc, "periodStart": date(start), "periodEnd": date(end), "quantity": 1,
						"unitAmountCents": price, "amountCents": price, "currency": "EUR"}},
					"subtotalCents": price, "taxRateBasisPoints": 0, "taxCents": 0, "currency": "EUR", "paymentTerms": "NET_30"})
				if err := emit(t.id, uuidFrom(r), fmt.Sprintf("INV-%d-%03d", start.Year(), seq), start.Year(), seq, start.Format("2006-01"), status,
					date(start), date(start.AddDate(0, 0, 30)), date(start), date(end), t.plan, "MONTHLY", price, "EUR",
					desc, start.Add(time.Hour), "billing-run", paid, string(snap)); err != nil {
					return err
				}
			}
			return nil
		}))
	return ts
}
