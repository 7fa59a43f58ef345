package db

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"tenantapi/tenant"
)

// DemoDomain is the domain of the demo tenant that `make run` seeds.
const DemoDomain = "acme.fr"

// SeedDemo creates the demo tenant "ACME Corporation" (acme.fr, PRODUCTION,
// professional plan, EU residency) with some usage this month, if it does not exist, and
// returns a working demo API key holding every tenant permission: knownKey
// when it still authenticates for the demo tenant, a new key otherwise.
// Running it again changes nothing else.
func (s *Store) SeedDemo(ctx context.Context, knownKey string) (tenantID, key string, err error) {
	admin := tenant.WithActor(ctx, &tenant.Actor{Kind: tenant.Admin})
	err = s.inTx(admin, func(tx sqlx.ExtContext, now time.Time) error {
		err := sqlx.GetContext(ctx, tx, &tenantID, `SELECT id FROM tenants WHERE domain = $1 AND environment = $2`, DemoDomain, tenant.EnvProduction)
		if err == nil {
			return seedDemoAreas(ctx, tx, tenantID, now)
		}
		if tenant.ErrorCode(translate(err)) != tenant.ENOTFOUND {
			return err
		}
		if err := sqlx.GetContext(ctx, tx, &tenantID, `INSERT INTO tenants
			(id, name, domain, plan_id, owner_email, created_at, created_by, modified_at, modified_by)
			VALUES ('00000000-0000-4000-8000-000000000001', 'ACME Corporation', $1, 'professional', 'it@acme.fr', $2, 'seed', $2, 'seed')
			RETURNING id`, DemoDomain, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO tenant_settings
			(tenant_id, data_residency, encryption_enabled, audit_log_retention_days, ip_allowlist, updated_at, updated_by)
			VALUES ($1, 'EU', true, 365, '{}', $2, 'seed')`, tenantID, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO usage_counters (tenant_id, policies) VALUES ($1, 8)`, tenantID); err != nil {
			return err
		}
		// Some usage this month: a steady daily volume up to today and 12
		// distinct users.
		month := MonthStart(now)
		if _, err := tx.ExecContext(ctx, `INSERT INTO usage_daily (tenant_id, day, interactions, logged, coached, blocked, high_risk)
			SELECT $1, d::date, 7500 + (extract(day FROM d)::int * 37) % 900, 7400, 80, 20, 18
			FROM generate_series($2::date, $3::date, interval '1 day') AS d`, tenantID, month, now); err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `INSERT INTO usage_monthly_users (tenant_id, month, user_id)
			SELECT $1, $2, 'user-' || n FROM generate_series(1, 12) AS n`, tenantID, month); err != nil {
			return err
		}
		return seedDemoAreas(context.WithValue(ctx, sellerKey{}, s.Seller), tx, tenantID, now)
	})
	if err != nil {
		return "", "", err
	}
	if knownKey != "" && tenant.WellFormedKey(knownKey) {
		if a, err := s.Authenticate(ctx, knownKey); err == nil && a.TenantID == tenantID {
			return tenantID, knownKey, nil
		}
	}
	_, key, err = s.CreateAPIKey(admin, tenant.NewAPIKeyInput{
		TenantID: tenantID, Name: "Demo key (make run)", Permissions: tenant.TenantPermissions(),
	})
	return tenantID, key, err
}

// demoSeeders add each area's demo data to the demo tenant. Each must be
// idempotent (ON CONFLICT DO NOTHING): they run on every `make run`.
var demoSeeders = []func(ctx context.Context, tx sqlx.ExtContext, tenantID string, now time.Time) error{
	seedDemoScreening,
	seedDemoBilling, // db/invoices.go
	seedDemoUsage,   // db/usage.go
}

func seedDemoAreas(ctx context.Context, tx sqlx.ExtContext, tenantID string, now time.Time) error {
	for _, seed := range demoSeeders {
		if err := seed(ctx, tx, tenantID, now); err != nil {
			return err
		}
	}
	return nil
}

// seedDemoScreening gives the demo tenant keywords, industries, a risk
// matrix and watchlist seats; the website config stays at its defaults.
func seedDemoScreening(ctx context.Context, tx sqlx.ExtContext, tenantID string, now time.Time) error {
	for _, q := range []string{
		`INSERT INTO screening_keywords (tenant_id, keywords, version, updated_at, updated_by)
		 VALUES ($1, ARRAY['casino','online gambling','crypto exchange','replica watches'], 1, $2, 'seed') ON CONFLICT DO NOTHING`,
		`INSERT INTO screening_industries (tenant_id, allowed, blocked, version, updated_at, updated_by)
		 VALUES ($1, ARRAY['52','44-45','54'], ARRAY['71'], 1, $2, 'seed') ON CONFLICT DO NOTHING`,
		`INSERT INTO risk_matrices (tenant_id, version, updated_at, updated_by) VALUES ($1, 1, $2, 'seed') ON CONFLICT DO NOTHING`,
		`INSERT INTO risk_matrix_weights (tenant_id, web_check, weight)
		 SELECT $1, c, w FROM (VALUES ('BLACKLIST', 0.30), ('CONTENT_KEYWORDS', 0.25), ('DOMAIN_AGE', 0.20), ('SSL_CERTIFICATE', 0.15), ('BUSINESS_REGISTRY', 0.10)) AS v(c, w)
		 WHERE $2::timestamptz IS NOT NULL AND NOT EXISTS (SELECT 1 FROM risk_matrix_weights WHERE tenant_id = $1)`,
		`INSERT INTO watchlist_seats (tenant_id, available_seats, active_subjects, version, updated_at, updated_by)
		 VALUES ($1, 100, 37, 1, $2, 'seed') ON CONFLICT DO NOTHING`,
	} {
		if _, err := tx.ExecContext(ctx, q, tenantID, now); err != nil {
			return err
		}
	}
	return nil
}
