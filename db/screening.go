package db

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"tenantapi/tenant"
)

// The screening configuration: keywords, industries, risk matrix, website
// validation defaults and watchlist seats. Each loader batch reads the keys
// through unnest so that a tenant without a row gets its defaults (version
// 0), and carries the caller's scope: another tenant's id gets ENOTFOUND.

// auditRow is the nullable change record of a LEFT JOINed config row.
type auditRow struct {
	Version   sql.NullInt64 `db:"version"`
	UpdatedAt *time.Time    `db:"updated_at"`
	UpdatedBy *string       `db:"updated_by"`
}

func (r auditRow) audit() tenant.ConfigAudit {
	return tenant.ConfigAudit{Version: int(r.Version.Int64), UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy}
}

// scopedKeys and scopedWhere are the FROM and WHERE of the batches: the
// requested ids ($1) that the caller may see ($2 all tenants, $3 own
// tenant). The config rows are LEFT JOINed to them, so a tenant without a
// row still gets one (its defaults); the loaders are only asked about
// tenants the request already loaded.
const (
	scopedKeys  = `unnest($1::uuid[]) AS k(id)`
	scopedWhere = `($2 OR k.id = $3)`
)

// scopedBatch runs a loader batch query taking ($1 ids, $2 all, $3 own) and
// maps its rows back to the keys: a key the scope filtered out gets ENOTFOUND.
func scopedBatch[R any, V any](ctx context.Context, s *Store, ids []string, what, query string, kv func(*R) (string, V)) ([]V, []error) {
	all, own := scope(ctx)
	var rows []R
	err := s.selectBatch(ctx, &rows, query, pq.Array(validIDs(ids)), all, own)
	return inKeyOrder(ids, rows, err, what, kv)
}

// ---- Keywords ----

type keywordsRow struct {
	TenantID string         `db:"tenant_id"`
	Keywords pq.StringArray `db:"keywords"`
	auditRow
}

func (r *keywordsRow) list() *tenant.KeywordList {
	items := []string(r.Keywords)
	if items == nil {
		items = []string{}
	}
	return &tenant.KeywordList{TenantID: r.TenantID, Items: items, ConfigAudit: r.audit()}
}

// KeywordsByTenant loads each tenant's screening keywords, in key order;
// an unconfigured tenant gets an empty list at version 0. It is a loader
// batch. Codes: ENOTFOUND (a tenant the caller may not see).
func (s *Store) KeywordsByTenant(ctx context.Context, ids []string) ([]*tenant.KeywordList, []error) {
	return scopedBatch(ctx, s, ids, "keywords", `SELECT k.id AS tenant_id, c.keywords, c.version, c.updated_at, c.updated_by
		FROM `+scopedKeys+` LEFT JOIN screening_keywords c ON c.tenant_id = k.id WHERE `+scopedWhere,
		func(r *keywordsRow) (string, *tenant.KeywordList) { return r.TenantID, r.list() })
}

// UpdateKeywords replaces a tenant's keywords with in.Keywords (list
// replacement). With in.ValidateOnly it runs every check and saves nothing.
// Codes: EINVALID (a bad keyword, too many), ENOTFOUND, ECONFLICT (version
// mismatch, deleted tenant).
func (s *Store) UpdateKeywords(ctx context.Context, tenantID string, in tenant.KeywordsInput) (*tenant.KeywordList, error) {
	items, err := tenant.NormalizeKeywords("keywords", in.Keywords)
	if err != nil {
		return nil, err
	}
	var out *tenant.KeywordList
	err = s.inTxDry(ctx, in.ValidateOnly, func(tx sqlx.ExtContext, now time.Time) error {
		out, err = updateKeywords(ctx, tx, now, tenantID, items, in.ExpectedVersion)
		return err
	})
	return out, err
}

// updateKeywords saves the normalized keyword list of a tenant, inside the
// caller's transaction.
func updateKeywords(ctx context.Context, tx sqlx.ExtContext, now time.Time, tenantID string, items []string, expected *int) (*tenant.KeywordList, error) {
	if err := lockConfig(ctx, tx, tenantID, "screening_keywords", expected); err != nil {
		return nil, err
	}
	var row keywordsRow
	if err := sqlx.GetContext(ctx, tx, &row, `INSERT INTO screening_keywords AS c (tenant_id, keywords, version, updated_at, updated_by)
		VALUES ($1, $2, 1, $3, $4)
		ON CONFLICT (tenant_id) DO UPDATE SET keywords = EXCLUDED.keywords, version = c.version + 1,
			updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
		RETURNING c.tenant_id, c.keywords, c.version, c.updated_at, c.updated_by`, tenantID, pq.Array(items), now, tenant.ActorFrom(ctx).ActorID()); err != nil {
		return nil, err
	}
	return row.list(), nil
}

// lockConfig locks the tenant (refusing a deleted one) and checks the
// expected version of its row of table, 0 when it has none. table is one of
// this file's constants, never input.
func lockConfig(ctx context.Context, tx sqlx.ExtContext, tenantID, table string, expected *int) error {
	if _, err := lockTenant(ctx, tx, tenantID, false); err != nil {
		return err
	}
	if expected == nil {
		return nil
	}
	var v int
	err := sqlx.GetContext(ctx, tx, &v, `SELECT version FROM `+table+` WHERE tenant_id = $1`, tenantID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return checkVersion("expectedVersion", expected, v)
}

// ---- Industries ----

type industriesRow struct {
	TenantID string         `db:"tenant_id"`
	Allowed  pq.StringArray `db:"allowed"`
	Blocked  pq.StringArray `db:"blocked"`
	auditRow
}

func codes(a pq.StringArray) []tenant.IndustryCode {
	out := make([]tenant.IndustryCode, len(a))
	for i, c := range a {
		out[i] = tenant.IndustryCode(c)
	}
	return out
}

func (r *industriesRow) config() *tenant.IndustryConfig {
	return &tenant.IndustryConfig{TenantID: r.TenantID, Allowed: tenant.Industries(codes(r.Allowed)),
		Blocked: tenant.Industries(codes(r.Blocked)), ConfigAudit: r.audit()}
}

// IndustriesByTenant loads each tenant's allowed and blocked industries, in
// key order; an unconfigured tenant gets two empty lists at version 0. It
// is a loader batch. Codes: ENOTFOUND (a tenant the caller may not see).
func (s *Store) IndustriesByTenant(ctx context.Context, ids []string) ([]*tenant.IndustryConfig, []error) {
	return scopedBatch(ctx, s, ids, "industries", `SELECT k.id AS tenant_id, c.allowed, c.blocked, c.version, c.updated_at, c.updated_by
		FROM `+scopedKeys+` LEFT JOIN screening_industries c ON c.tenant_id = k.id WHERE `+scopedWhere,
		func(r *industriesRow) (string, *tenant.IndustryConfig) { return r.TenantID, r.config() })
}

// UpdateIndustries replaces both industry lists of a tenant. With
// in.ValidateOnly it runs every check and saves nothing.
// Codes: EINVALID (unknown code, a code in both lists), ENOTFOUND,
// ECONFLICT (version mismatch, deleted tenant).
func (s *Store) UpdateIndustries(ctx context.Context, tenantID string, in tenant.IndustriesInput) (*tenant.IndustryConfig, error) {
	if err := in.Normalize(); err != nil {
		return nil, err
	}
	var out *tenant.IndustryConfig
	err := s.inTxDry(ctx, in.ValidateOnly, func(tx sqlx.ExtContext, now time.Time) error {
		var err error
		out, err = updateIndustries(ctx, tx, now, tenantID, &in)
		return err
	})
	return out, err
}

// updateIndustries saves the normalized industry lists of a tenant, inside
// the caller's transaction.
func updateIndustries(ctx context.Context, tx sqlx.ExtContext, now time.Time, tenantID string, in *tenant.IndustriesInput) (*tenant.IndustryConfig, error) {
	strs := func(cs []tenant.IndustryCode) []string {
		out := make([]string, len(cs))
		for i, c := range cs {
			out[i] = string(c)
		}
		return out
	}
	if err := lockConfig(ctx, tx, tenantID, "screening_industries", in.ExpectedVersion); err != nil {
		return nil, err
	}
	var row industriesRow
	if err := sqlx.GetContext(ctx, tx, &row, `INSERT INTO screening_industries AS c (tenant_id, allowed, blocked, version, updated_at, updated_by)
		VALUES ($1, $2, $3, 1, $4, $5)
		ON CONFLICT (tenant_id) DO UPDATE SET allowed = EXCLUDED.allowed, blocked = EXCLUDED.blocked, version = c.version + 1,
			updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
		RETURNING c.tenant_id, c.allowed, c.blocked, c.version, c.updated_at, c.updated_by`,
		tenantID, pq.Array(strs(in.Allowed)), pq.Array(strs(in.Blocked)), now, tenant.ActorFrom(ctx).ActorID()); err != nil {
		return nil, err
	}
	return row.config(), nil
}

// ---- Risk matrix ----

// riskRow is one weight of a tenant's matrix (Check NULL for a tenant
// without a matrix).
type riskRow struct {
	TenantID string         `db:"tenant_id"`
	Check    sql.NullString `db:"web_check"`
	Units    sql.NullInt64  `db:"units"`
	auditRow
}

// riskMatrices folds weight rows, ordered by tenant, into one matrix per
// tenant; a tenant without a matrix gets the default weights.
func riskMatrices(rows []riskRow) []*tenant.RiskMatrix {
	var out []*tenant.RiskMatrix
	for _, r := range rows {
		if len(out) == 0 || out[len(out)-1].TenantID != r.TenantID {
			out = append(out, &tenant.RiskMatrix{TenantID: r.TenantID, ConfigAudit: r.audit(), Weights: []*tenant.RiskWeight{}})
		}
		m := out[len(out)-1]
		if r.Check.Valid {
			m.Weights = append(m.Weights, &tenant.RiskWeight{Check: tenant.WebCheck(r.Check.String), Units: int(r.Units.Int64)})
		}
	}
	for _, m := range out {
		if m.Version == 0 {
			m.Weights = tenant.DefaultRiskWeights()
		}
	}
	return out
}

const riskCols = `m.version, m.updated_at, m.updated_by, w.web_check, (w.weight * 10000)::int AS units`

// riskOrder sorts a matrix's weights in the order of the WebCheck enum.
const riskOrder = `array_position(ARRAY['DOMAIN_AGE', 'SSL_CERTIFICATE', 'WHOIS_PRIVACY', 'CONTENT_KEYWORDS',
	'BLACKLIST', 'SOCIAL_PRESENCE', 'CONTACT_INFO', 'BUSINESS_REGISTRY'], w.web_check)`

// RiskMatricesByTenant loads each tenant's risk matrix, in key order, in
// one statement; an unconfigured tenant gets the default weights at version
// 0. It is a loader batch. Codes: ENOTFOUND (a tenant the caller may not see).
func (s *Store) RiskMatricesByTenant(ctx context.Context, ids []string) ([]*tenant.RiskMatrix, []error) {
	all, own := scope(ctx)
	var rows []riskRow
	// Distinct keys: a repeated key would repeat its weights in the fold.
	keys := slices.Compact(slices.Sorted(slices.Values(validIDs(ids))))
	err := s.selectOrdered(ctx, &rows, `k.id, `+riskOrder, `SELECT k.id AS tenant_id, `+riskCols+`
		FROM `+scopedKeys+` LEFT JOIN risk_matrices m ON m.tenant_id = k.id
		LEFT JOIN risk_matrix_weights w ON w.tenant_id = m.tenant_id
		WHERE `+scopedWhere, pq.Array(keys), all, own)
	ms := riskMatrices(rows)
	return inKeyOrder(ids, ms, err, "risk matrix", func(m **tenant.RiskMatrix) (string, *tenant.RiskMatrix) { return (*m).TenantID, *m })
}

// UpdateRiskMatrix replaces a tenant's risk matrix: exactly the checks
// given, with their weights. With in.ValidateOnly it runs every check and
// saves nothing. Codes: EINVALID (bad weight, duplicate check, sum not
// 1.0), ENOTFOUND, ECONFLICT (version mismatch, deleted tenant).
func (s *Store) UpdateRiskMatrix(ctx context.Context, tenantID string, in tenant.RiskMatrixInput) (*tenant.RiskMatrix, error) {
	weights, err := in.Normalize()
	if err != nil {
		return nil, err
	}
	var out *tenant.RiskMatrix
	err = s.inTxDry(ctx, in.ValidateOnly, func(tx sqlx.ExtContext, now time.Time) error {
		out, err = updateRiskMatrix(ctx, tx, now, tenantID, weights, in.ExpectedVersion)
		return err
	})
	return out, err
}

// updateRiskMatrix saves the normalized weights of a tenant's risk matrix,
// inside the caller's transaction.
func updateRiskMatrix(ctx context.Context, tx sqlx.ExtContext, now time.Time, tenantID string, weights []*tenant.RiskWeight, expected *int) (*tenant.RiskMatrix, error) {
	by := tenant.ActorFrom(ctx).ActorID()
	checks := make([]string, len(weights))
	units := make([]int64, len(weights))
	for i, w := range weights {
		checks[i], units[i] = string(w.Check), int64(w.Units)
	}
	if err := lockConfig(ctx, tx, tenantID, "risk_matrices", expected); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO risk_matrices AS m (tenant_id, version, updated_at, updated_by)
		VALUES ($1, 1, $2, $3)
		ON CONFLICT (tenant_id) DO UPDATE SET version = m.version + 1, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`,
		tenantID, now, by); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM risk_matrix_weights WHERE tenant_id = $1`, tenantID); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO risk_matrix_weights (tenant_id, web_check, weight)
		SELECT $1, c, u::numeric / 10000 FROM unnest($2::text[], $3::int[]) AS x(c, u)`,
		tenantID, pq.Array(checks), pq.Array(units)); err != nil {
		return nil, err
	}
	var rows []riskRow
	if err := sqlx.SelectContext(ctx, tx, &rows, `SELECT m.tenant_id, `+riskCols+`
		FROM risk_matrices m JOIN risk_matrix_weights w ON w.tenant_id = m.tenant_id
		WHERE m.tenant_id = $1 ORDER BY `+riskOrder, tenantID); err != nil {
		return nil, err
	}
	return riskMatrices(rows)[0], nil
}

// ---- Website validation defaults ----

type websiteRow struct {
	TenantID        string         `db:"tenant_id"`
	EnabledChecks   pq.StringArray `db:"enabled_checks"`
	TimeoutSeconds  sql.NullInt64  `db:"timeout_seconds"`
	PassThreshold   sql.NullInt64  `db:"pass_threshold"`
	ReviewThreshold sql.NullInt64  `db:"review_threshold"`
	FollowRedirects sql.NullBool   `db:"follow_redirects"`
	MaxRedirects    sql.NullInt64  `db:"max_redirects"`
	auditRow
}

func (r *websiteRow) config() *tenant.WebsiteConfig {
	if !r.Version.Valid {
		return tenant.DefaultWebsiteConfig(r.TenantID)
	}
	checks := make([]tenant.WebCheck, len(r.EnabledChecks))
	for i, c := range r.EnabledChecks {
		checks[i] = tenant.WebCheck(c)
	}
	return &tenant.WebsiteConfig{
		TenantID: r.TenantID, EnabledChecks: checks, TimeoutSeconds: int(r.TimeoutSeconds.Int64),
		PassThreshold: int(r.PassThreshold.Int64), ReviewThreshold: int(r.ReviewThreshold.Int64),
		FollowRedirects: r.FollowRedirects.Bool, MaxRedirects: int(r.MaxRedirects.Int64), ConfigAudit: r.audit(),
	}
}

const websiteCols = `c.enabled_checks, c.timeout_seconds, c.pass_threshold, c.review_threshold,
	c.follow_redirects, c.max_redirects, c.version, c.updated_at, c.updated_by`

// WebsiteConfigsByTenant loads each tenant's website validation defaults,
// in key order; an unconfigured tenant gets tenant.DefaultWebsiteConfig at
// version 0. It is a loader batch. Codes: ENOTFOUND (a tenant the caller
// may not see).
func (s *Store) WebsiteConfigsByTenant(ctx context.Context, ids []string) ([]*tenant.WebsiteConfig, []error) {
	return scopedBatch(ctx, s, ids, "website config", `SELECT k.id AS tenant_id, `+websiteCols+`
		FROM `+scopedKeys+` LEFT JOIN website_configs c ON c.tenant_id = k.id WHERE `+scopedWhere,
		func(r *websiteRow) (string, *tenant.WebsiteConfig) { return r.TenantID, r.config() })
}

// UpdateWebsiteConfig applies p to a tenant's website validation defaults
// (or to the defaults, the first time) and validates the result as a whole.
// With p.ValidateOnly it runs every check and saves nothing.
// Codes: EINVALID (a value out of range, reviewThreshold above
// passThreshold), ENOTFOUND, ECONFLICT (version mismatch, deleted tenant).
func (s *Store) UpdateWebsiteConfig(ctx context.Context, tenantID string, p tenant.WebsiteConfigPatch) (*tenant.WebsiteConfig, error) {
	var out *tenant.WebsiteConfig
	err := s.inTxDry(ctx, p.ValidateOnly, func(tx sqlx.ExtContext, now time.Time) error {
		var err error
		out, err = updateWebsiteConfig(ctx, tx, now, tenantID, &p)
		return err
	})
	return out, err
}

// updateWebsiteConfig applies p to a tenant's website validation defaults
// inside the caller's transaction, validating the result as a whole.
func updateWebsiteConfig(ctx context.Context, tx sqlx.ExtContext, now time.Time, tenantID string, p *tenant.WebsiteConfigPatch) (*tenant.WebsiteConfig, error) {
	by := tenant.ActorFrom(ctx).ActorID()
	if _, err := lockTenant(ctx, tx, tenantID, false); err != nil {
		return nil, err
	}
	var cur websiteRow
	err := sqlx.GetContext(ctx, tx, &cur, `SELECT c.tenant_id, `+websiteCols+` FROM website_configs c WHERE c.tenant_id = $1`, tenantID)
	if errors.Is(err, sql.ErrNoRows) {
		cur, err = websiteRow{TenantID: tenantID}, nil
	}
	if err != nil {
		return nil, err
	}
	if err := checkVersion("expectedVersion", p.ExpectedVersion, int(cur.Version.Int64)); err != nil {
		return nil, err
	}
	c, err := p.Apply(cur.config())
	if err != nil {
		return nil, err
	}
	checks := make([]string, len(c.EnabledChecks))
	for i, ch := range c.EnabledChecks {
		checks[i] = string(ch)
	}
	var row websiteRow
	if err := sqlx.GetContext(ctx, tx, &row, `INSERT INTO website_configs AS c (tenant_id, enabled_checks, timeout_seconds,
			pass_threshold, review_threshold, follow_redirects, max_redirects, version, updated_at, updated_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9)
		ON CONFLICT (tenant_id) DO UPDATE SET enabled_checks = EXCLUDED.enabled_checks, timeout_seconds = EXCLUDED.timeout_seconds,
			pass_threshold = EXCLUDED.pass_threshold, review_threshold = EXCLUDED.review_threshold,
			follow_redirects = EXCLUDED.follow_redirects, max_redirects = EXCLUDED.max_redirects,
			version = c.version + 1, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
		RETURNING c.tenant_id, `+websiteCols,
		tenantID, pq.Array(checks), c.TimeoutSeconds, c.PassThreshold, c.ReviewThreshold, c.FollowRedirects, c.MaxRedirects, now, by); err != nil {
		return nil, err
	}
	return row.config(), nil
}

// ---- Watchlist seats ----

type watchlistRow struct {
	TenantID       string        `db:"tenant_id"`
	AvailableSeats sql.NullInt64 `db:"available_seats"`
	ActiveSubjects sql.NullInt64 `db:"active_subjects"`
	auditRow
}

func (r *watchlistRow) seats() *tenant.WatchlistSeats {
	return &tenant.WatchlistSeats{TenantID: r.TenantID, AvailableSeats: int(r.AvailableSeats.Int64),
		ActiveSubjects: int(r.ActiveSubjects.Int64), ConfigAudit: r.audit()}
}

const watchlistCols = `c.available_seats, c.active_subjects, c.version, c.updated_at, c.updated_by`

// WatchlistByTenant loads each tenant's watchlist seats, in key order; a
// tenant without a row has 0 seats and 0 subjects at version 0. It is a
// loader batch. Codes: ENOTFOUND (a tenant the caller may not see).
func (s *Store) WatchlistByTenant(ctx context.Context, ids []string) ([]*tenant.WatchlistSeats, []error) {
	return scopedBatch(ctx, s, ids, "watchlist", `SELECT k.id AS tenant_id, `+watchlistCols+`
		FROM `+scopedKeys+` LEFT JOIN watchlist_seats c ON c.tenant_id = k.id WHERE `+scopedWhere,
		func(r *watchlistRow) (string, *tenant.WatchlistSeats) { return r.TenantID, r.seats() })
}

// UpdateWatchlistSeats sets how many watchlist seats a tenant has; never
// fewer than the subjects it monitors. With in.ValidateOnly it runs every
// check and saves nothing; seats left below 10 % free write
// watchlist.seats_low (once until back above). Codes: EINVALID (out of range, below the active
// subjects), ENOTFOUND, ECONFLICT (version mismatch, deleted tenant).
func (s *Store) UpdateWatchlistSeats(ctx context.Context, tenantID string, in tenant.WatchlistSeatsInput) (*tenant.WatchlistSeats, error) {
	by := tenant.ActorFrom(ctx).ActorID()
	var out *tenant.WatchlistSeats
	err := s.inTxDry(ctx, in.ValidateOnly, func(tx sqlx.ExtContext, now time.Time) error {
		if _, err := lockTenant(ctx, tx, tenantID, false); err != nil {
			return err
		}
		// The lock keeps the screening service from enrolling a subject
		// between this check and the write.
		var cur watchlistRow
		err := sqlx.GetContext(ctx, tx, &cur, `SELECT c.tenant_id, `+watchlistCols+` FROM watchlist_seats c WHERE c.tenant_id = $1 FOR UPDATE`, tenantID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := checkVersion("expectedVersion", in.ExpectedVersion, int(cur.Version.Int64)); err != nil {
			return err
		}
		if err := in.Check(int(cur.ActiveSubjects.Int64)); err != nil {
			return err
		}
		var row watchlistRow
		if err := sqlx.GetContext(ctx, tx, &row, `INSERT INTO watchlist_seats AS c (tenant_id, available_seats, version, updated_at, updated_by)
			VALUES ($1, $2, 1, $3, $4)
			ON CONFLICT (tenant_id) DO UPDATE SET available_seats = EXCLUDED.available_seats, version = c.version + 1,
				updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
			RETURNING c.tenant_id, `+watchlistCols, tenantID, in.AvailableSeats, now, by); err != nil {
			return err
		}
		out = row.seats()
		return seatsThreshold(ctx, tx, tenantID)
	})
	return out, err
}

// ReportWatchlistSubjects records how many subjects the screening service
// monitors for a tenant. It is how that service (and tests, and demo data)
// feed activeSubjects; it is not part of the GraphQL API and does not
// change the seats' version. Fewer than 10 % of the seats left free write
// watchlist.seats_low (once until back above). Codes: EINVALID (negative), ENOTFOUND.
func (s *Store) ReportWatchlistSubjects(ctx context.Context, tenantID string, active int) error {
	if active < 0 {
		return tenant.Invalid("activeSubjects", "activeSubjects cannot be negative, got %d", active)
	}
	return s.inTx(ctx, func(tx sqlx.ExtContext, _ time.Time) error {
		if _, err := lockTenant(ctx, tx, tenantID, true); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO watchlist_seats AS c (tenant_id, active_subjects) VALUES ($1, $2)
			ON CONFLICT (tenant_id) DO UPDATE SET active_subjects = EXCLUDED.active_subjects`, tenantID, active)
		if err != nil {
			return err
		}
		return seatsThreshold(ctx, tx, tenantID)
	})
}
