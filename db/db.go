// Package db is everything that speaks SQL: the Store, its queries and
// transactions, migrations, and the translation of driver errors into
// tenant.Error codes. No driver error text leaves this package.
package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	neturl "net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/pressly/goose/v3"

	"tenantapi/migrations"
	"tenantapi/tenant"
)

// Store is the database of the API. It is safe for concurrent use.
type Store struct {
	db *sqlx.DB
	// Statements counts every statement sent to PostgreSQL; tests use it to
	// prove that nested loads are batched.
	Statements atomic.Int64
	// Now is the clock; tests may replace it.
	Now func() time.Time
	// Sealer encrypts secrets at rest (SSO client secrets, webhook secrets).
	Sealer tenant.Sealer
	// Sessions are the members' session lifetimes (SESSION_IDLE_TIMEOUT,
	// SESSION_MAX_AGE); zero fields take the defaults.
	Sessions tenant.SessionPolicy
	// Seller is who issues invoices (SELLER_* configuration), copied into
	// each invoice when it is issued.
	Seller tenant.Seller

	bg sync.WaitGroup // background writes (lastUsedAt), waited for by Close

	stmts *stmtCache // prepared statements of the pool; nil = Options.NoPrepare

	// The combined statements (db/combine.go) run on their own pool, whose
	// sessions always use the generic plan of a prepared statement: their
	// parameters are tenant ids, dates and flags, for which one plan fits
	// all, and re-planning a statement of ten parts on every call cost more
	// than running it (docs/benchmarks.md). nil = the main pool.
	gen      *sqlx.DB
	genStmts *stmtCache

	migrateURL string // the URL without the statement timeout, for Migrate

	assoc *assocCache // db/assoccache.go; nil = off
}

// Options tune the connection pool.
type Options struct {
	MaxOpenConns int
	MaxIdleConns int
	Sealer       tenant.Sealer // required by stores that keep secrets
	// StatementTimeout makes PostgreSQL cancel any statement of the pool
	// that runs longer (SQLSTATE 57014, answered SERVICE_UNAVAILABLE); 0 =
	// none. Migrations run without it.
	StatementTimeout time.Duration
	// NoPrepare sends every statement unprepared: for a connection pooler
	// in transaction mode that cannot keep prepared statements (PgBouncer
	// before 1.21, or without max_prepared_statements).
	NoPrepare bool
	// AssocCacheBytes bounds the association cache (db/assoccache.go):
	// 0 = DefaultAssocCacheBytes, negative = no cache.
	AssocCacheBytes int64
	// DirectURL reaches the same database without a pooler in transaction
	// mode (DATABASE_DIRECT_URL): migrations run through it, as they may
	// take longer than a pooler lets a transaction run. "" = url.
	DirectURL string
}

// Open connects to the database at url and checks it answers.
func Open(ctx context.Context, url string, o Options) (*Store, error) {
	poolURL, err := WithStatementTimeout(url, o.StatementTimeout)
	if err != nil {
		return nil, fmt.Errorf("database url: %w", err)
	}
	conn, err := sqlx.Open("postgres", withBinaryParameters(withConnectTimeout(poolURL)))
	if err != nil {
		return nil, fmt.Errorf("database url: %w", err)
	}
	if o.MaxOpenConns == 0 {
		o.MaxOpenConns = 20
	}
	if o.MaxIdleConns == 0 {
		o.MaxIdleConns = o.MaxOpenConns
	}
	conn.SetMaxOpenConns(o.MaxOpenConns)
	conn.SetMaxIdleConns(o.MaxIdleConns)
	conn.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := conn.PingContext(pctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("database unreachable: %w", err)
	}
	migrateURL := url
	if o.DirectURL != "" {
		migrateURL = o.DirectURL
	}
	s := &Store{db: conn, Now: time.Now, Sealer: o.Sealer, migrateURL: migrateURL}
	switch {
	case o.AssocCacheBytes == 0:
		s.assoc = newAssocCache(DefaultAssocCacheBytes)
	case o.AssocCacheBytes > 0:
		s.assoc = newAssocCache(o.AssocCacheBytes)
	}
	if !o.NoPrepare {
		s.stmts = newStmtCache(conn)
		if genURL, err := withSessionOption(poolURL, "-c plan_cache_mode=force_generic_plan"); err == nil {
			gen, err := sqlx.Open("postgres", withBinaryParameters(withConnectTimeout(genURL)))
			if err != nil {
				conn.Close()
				return nil, fmt.Errorf("database url: %w", err)
			}
			n := max(2, o.MaxOpenConns/2)
			gen.SetMaxOpenConns(n)
			gen.SetMaxIdleConns(n)
			gen.SetConnMaxIdleTime(5 * time.Minute)
			s.gen, s.genStmts = gen, newStmtCache(gen)
		}
	}
	return s, nil
}

// WithStatementTimeout returns the postgres:// URL rawURL with d as every
// session's statement_timeout (rawURL itself when d is 0): what Open
// connects with, set at connection start-up through the
// "options" parameter (-c statement_timeout=...), as libpq and lib/pq take
// it: no extra round trip, and it survives reconnections. A connection
// pooler in transaction mode (PgBouncer) ignores start-up options; set
// statement_timeout on the database role there instead.
func WithStatementTimeout(rawURL string, d time.Duration) (string, error) {
	if d <= 0 {
		return rawURL, nil
	}
	return withSessionOption(rawURL, fmt.Sprintf("-c statement_timeout=%d", max(d.Milliseconds(), 1)))
}

// withSessionOption appends opt (-c name=value) to the start-up options
// of the postgres:// URL rawURL.
func withSessionOption(rawURL, opt string) (string, error) {
	u, err := neturl.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", errors.New("session options need a postgres:// URL")
	}
	q := u.Query()
	if o := strings.TrimSpace(q.Get("options")); o != "" {
		opt = o + " " + opt // the last setting wins
	}
	q.Set("options", opt)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Stats reports the connection pool (metrics).
func (s *Store) Stats() sql.DBStats { return s.db.Stats() }

// Close waits for background writes and closes the pool.
func (s *Store) Close() error {
	s.bg.Wait()
	if s.stmts != nil {
		s.stmts.close()
	}
	if s.gen != nil {
		s.genStmts.close()
		s.gen.Close()
	}
	return s.db.Close()
}

// WaitBackground waits for background writes (lastUsedAt) to finish; tests
// use it to count statements without stray writes.
func (s *Store) WaitBackground() { s.bg.Wait() }

// Ping checks the database answers (readiness).
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Migrate applies every pending migration and returns how many it applied.
func (s *Store) Migrate(ctx context.Context) (int, error) {
	conn := s.db.DB
	if s.migrateURL != "" {
		// A pool without the statement timeout: building an index on a
		// large table may take longer than any request should.
		c, err := sql.Open("postgres", s.migrateURL)
		if err != nil {
			return 0, fmt.Errorf("migrations: %w", err)
		}
		defer c.Close()
		c.SetMaxOpenConns(1)
		conn = c
	}
	p, err := goose.NewProvider(goose.DialectPostgres, conn, migrations.FS)
	if err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migrate: %w", err)
	}
	return len(res), nil
}

// q returns the pool wrapped so every statement is counted (and prepared,
// db/prepared.go).
func (s *Store) q() sqlx.ExtContext {
	if s.stmts != nil {
		return counted{preparedPool{s.db, s.stmts}, &s.Statements}
	}
	return counted{s.db, &s.Statements}
}

// combinedQ is q for the combined statements: the generic-plan pool.
func (s *Store) combinedQ() sqlx.ExtContext {
	if s.gen != nil {
		return counted{preparedPool{s.gen, s.genStmts}, &s.Statements}
	}
	return s.q()
}

// inTx runs fn in one transaction: committed when fn returns nil, rolled
// back otherwise. fn gets a counted handle and the transaction's one "now".
func (s *Store) inTx(ctx context.Context, fn func(tx sqlx.ExtContext, now time.Time) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	s.Statements.Add(1) // BEGIN
	now := s.Now().UTC()
	c := counted{tx, &s.Statements}
	// The audit triggers read who, what and when from the transaction
	// (db/audit.go); the idempotency claim of the request, if any, is marked
	// applied in this same transaction.
	if _, err := c.ExecContext(ctx, txContext(ctx, now)); err != nil {
		return translate(err)
	}
	if err := fn(c, now); err != nil {
		return translate(err)
	}
	s.Statements.Add(1) // COMMIT
	return translate(tx.Commit())
}

// errDryRun rolls back a validate-only transaction.
var errDryRun = errors.New("dry run")

// inTxDry is inTx that, when dry is set, runs every check and write of fn
// and then rolls back: validateOnly mutations report exactly the errors a
// real run would, and save nothing.
func (s *Store) inTxDry(ctx context.Context, dry bool, fn func(tx sqlx.ExtContext, now time.Time) error) error {
	err := s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		if err := fn(tx, now); err != nil {
			return err
		}
		if dry {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		return nil
	}
	return err
}

// counted wraps a database handle and counts the statements it sends.
type counted struct {
	sqlx.ExtContext
	n *atomic.Int64
}

func (c counted) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	c.n.Add(1)
	return c.ExtContext.QueryContext(ctx, q, args...)
}

func (c counted) QueryxContext(ctx context.Context, q string, args ...any) (*sqlx.Rows, error) {
	c.n.Add(1)
	return c.ExtContext.QueryxContext(ctx, q, args...)
}

func (c counted) QueryRowxContext(ctx context.Context, q string, args ...any) *sqlx.Row {
	c.n.Add(1)
	return c.ExtContext.QueryRowxContext(ctx, q, args...)
}

func (c counted) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	c.n.Add(1)
	return c.ExtContext.ExecContext(ctx, q, args...)
}

// translate maps driver errors to tenant errors; unknown errors pass through
// (the presenter turns them into "internal error" and logs the cause).
func translate(err error) error {
	if err == nil {
		return nil
	}
	var te *tenant.Error
	if errors.As(err, &te) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return tenant.NotFound("record")
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	if connectionLost(err) {
		return &tenant.Error{Code: tenant.EUNAVAILABLE, Message: "the database is unavailable; try again shortly"}
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch pqErr.Code {
		case "23505":
			return &tenant.Error{Code: tenant.ECONFLICT, Message: "a record with the same unique value already exists"}
		case "23503":
			return &tenant.Error{Code: tenant.EINVALID, Message: "a referenced record does not exist"}
		case "22021", "22P05":
			return &tenant.Error{Code: tenant.EINVALID, Message: "a text value contains a NUL character or invalid UTF-8"}
		case "23514", "22P02", "22001", "22003":
			return &tenant.Error{Code: tenant.EINVALID, Message: "a value is out of the allowed range"}
		case "57014":
			return &tenant.Error{Code: tenant.EUNAVAILABLE, Message: "the database took too long to answer; try again"}
		}
		if pqErr.Code.Class() == "08" || pqErr.Code.Class() == "57" || pqErr.Code.Class() == "53" {
			return &tenant.Error{Code: tenant.EUNAVAILABLE, Message: "the database is unavailable; try again shortly"}
		}
		slog.Debug("unmapped database error", "sqlstate", string(pqErr.Code))
	}
	return err
}

// connectionLost reports whether err says the database could not be reached
// or the connection broke: refused or reset connections, a server that went
// away mid-statement (lib/pq's io.EOF, driver.ErrBadConn once database/sql
// gave up retrying), a closed pool or connection.
func connectionLost(err error) bool {
	var opErr *net.OpError
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.As(err, &opErr):
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "connection refused") || strings.Contains(msg, "sql: database is closed") ||
		strings.Contains(msg, "broken pipe") || strings.Contains(msg, "connection reset by peer")
}

// defaultConnectTimeout bounds opening a connection (TCP connect and
// PostgreSQL's startup handshake, which lib/pq does not bound by the
// request's context) when the URL does not set connect_timeout: a database
// that accepts connections but does not answer them must not hang requests.
const defaultConnectTimeout = "5"

// withConnectTimeout returns the database URL (or key=value DSN) with
// connect_timeout set to defaultConnectTimeout seconds unless it sets one.
func withConnectTimeout(dsn string) string {
	return withDefaultParam(dsn, "connect_timeout", defaultConnectTimeout)
}

// withBinaryParameters turns on lib/pq's binary_parameters unless the URL
// sets it: each statement with arguments then goes in one round trip
// instead of two (prepare, then execute). Measured +9-16% throughput on the
// dashboard query (docs/benchmarks.md). The catch, a []byte argument sent as
// binary, suits every []byte this package sends (bytea key hashes).
func withBinaryParameters(dsn string) string {
	return withDefaultParam(dsn, "binary_parameters", "yes")
}

// withDefaultParam sets a connection parameter unless the URL or DSN sets it.
func withDefaultParam(dsn, key, value string) string {
	if strings.Contains(dsn, key) {
		return dsn
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := neturl.Parse(dsn)
		if err != nil {
			return dsn // sqlx.Open reports it
		}
		q := u.Query()
		q.Set(key, value)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return strings.TrimSpace(dsn + " " + key + "=" + value)
}
