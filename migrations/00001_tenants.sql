-- +goose Up
-- Every table holding a tenant's data carries tenant_id and leads its primary
-- and unique keys with it, so the schema can later be sharded by tenant.

CREATE TABLE plans (
    id                      text PRIMARY KEY,
    name                    text NOT NULL,
    description             text NOT NULL,
    rank                    int NOT NULL UNIQUE,           -- order: higher is a bigger plan
    users                   int CHECK (users > 0),          -- NULL = unlimited
    policies                int CHECK (policies > 0),       -- NULL = unlimited
    interactions_per_month  int CHECK (interactions_per_month > 0), -- NULL = unlimited
    api_requests_per_minute int NOT NULL CHECK (api_requests_per_minute > 0),
    monthly_price_cents     bigint NOT NULL CHECK (monthly_price_cents >= 0),
    currency                text NOT NULL CHECK (currency ~ '^[A-Z]{3}$')
);

INSERT INTO plans (id, name, description, rank, users, policies, interactions_per_month, api_requests_per_minute, monthly_price_cents, currency) VALUES
  ('starter', 'Starter', 'For small teams getting started: 5 users, 20 policies, 10,000 interactions a month, 100 API requests a minute. 49 EUR a month (a price this API sets; the reference documents none).', 1, 5, 20, 10000, 100, 4900, 'EUR'),
  ('professional', 'Professional', 'For growing organizations: 50 users, 100 policies, 1,000,000 interactions a month, 1,000 API requests a minute. 299 EUR a month.', 2, 50, 100, 1000000, 1000, 29900, 'EUR'),
  ('enterprise', 'Enterprise', 'Unlimited users, policies and interactions; 5,000 API requests a minute. 2,999 EUR a month.', 3, NULL, NULL, NULL, 5000, 299900, 'EUR');

CREATE TABLE tenants (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    domain      text NOT NULL CHECK (domain = lower(domain)),
    plan_id     text NOT NULL REFERENCES plans (id),
    status      text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'SUSPENDED', 'DELETED')),
    owner_id    uuid,
    owner_email text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL,
    modified_at timestamptz NOT NULL DEFAULT now(),
    modified_by text NOT NULL,
    deleted_at  timestamptz,
    version     int NOT NULL DEFAULT 1,
    CHECK ((status = 'DELETED') = (deleted_at IS NOT NULL))
);
-- A domain belongs to one tenant, including a soft-deleted one that can
-- still be restored.
CREATE UNIQUE INDEX tenants_domain_key ON tenants (domain);
-- Keyset pagination of the admin list.
CREATE INDEX tenants_created_at_id ON tenants (created_at, id);

CREATE TABLE tenant_settings (
    tenant_id                uuid PRIMARY KEY REFERENCES tenants (id),
    data_residency           text NOT NULL CHECK (data_residency IN ('EU', 'US')),
    encryption_enabled       boolean NOT NULL DEFAULT true,
    audit_log_retention_days int NOT NULL DEFAULT 365 CHECK (audit_log_retention_days BETWEEN 90 AND 2555),
    sso_enabled              boolean NOT NULL DEFAULT false,
    ip_allowlist             text[] NOT NULL DEFAULT '{}', -- canonical prefixes, validated in Go (tenant.NormalizeAllowlist)
    deduplicate_tokens       boolean NOT NULL DEFAULT false,
    version                  int NOT NULL DEFAULT 1,
    updated_at               timestamptz NOT NULL DEFAULT now(),
    updated_by               text NOT NULL
);

CREATE TABLE api_keys (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    prefix       text NOT NULL,
    key_hash     bytea NOT NULL CHECK (length(key_hash) = 32),
    permissions  text[] NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text NOT NULL,
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    revoked_by   text,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, key_hash)
);
-- Authentication looks a key up by its hash alone (the tenant is not known
-- yet); revocation by id alone for operators.
CREATE INDEX api_keys_key_hash ON api_keys (key_hash);
CREATE UNIQUE INDEX api_keys_id ON api_keys (id);

-- Usage roll-ups: one row per tenant per UTC day, so reads never scan events.
CREATE TABLE usage_daily (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    day          date NOT NULL,
    interactions bigint NOT NULL DEFAULT 0,
    logged       bigint NOT NULL DEFAULT 0,
    coached      bigint NOT NULL DEFAULT 0,
    blocked      bigint NOT NULL DEFAULT 0,
    high_risk    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day)
);

-- The distinct users seen per tenant per calendar month (active users).
CREATE TABLE usage_monthly_users (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    month     date NOT NULL CHECK (extract(day FROM month) = 1),
    user_id   text NOT NULL,
    PRIMARY KEY (tenant_id, month, user_id)
);

-- Counters other services report (the number of policies a tenant defined).
CREATE TABLE usage_counters (
    tenant_id uuid PRIMARY KEY REFERENCES tenants (id),
    policies  int NOT NULL DEFAULT 0 CHECK (policies >= 0)
);

-- +goose Down
DROP TABLE usage_counters, usage_monthly_users, usage_daily, api_keys, tenant_settings, tenants, plans;
