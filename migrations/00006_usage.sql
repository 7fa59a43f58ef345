-- +goose Up
-- Usage ingestion (recordUsage), credits and the token usage report. Events
-- are rolled up per tenant per UTC day in the transaction that records
-- them, so statistics and reports never read raw events.

-- The ids of recorded events, for idempotency: an id already here counts
-- once. Only the id and times are kept, not the event. An event older than
-- 35 days is refused, so older rows can be pruned (Store.PruneUsageEvents)
-- without a replay ever counting twice.
CREATE TABLE usage_events (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    event_id    text NOT NULL CHECK (char_length(event_id) BETWEEN 1 AND 100),
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, event_id)
);

-- Events that carried a token type, per day (monthly active tokens).
ALTER TABLE usage_daily ADD COLUMN tokenized bigint NOT NULL DEFAULT 0;

-- The distinct users and platforms seen per tenant per UTC day: unique
-- users and platforms over any period, exactly (whole months inside a
-- period read usage_monthly_users instead of their days).
CREATE TABLE usage_daily_users (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    day       date NOT NULL,
    user_id   text NOT NULL,
    PRIMARY KEY (tenant_id, day, user_id)
);

CREATE TABLE usage_daily_platforms (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    day       date NOT NULL,
    platform  text NOT NULL,
    PRIMARY KEY (tenant_id, day, platform)
);

-- Token metrics per type since the tenant began (tokenization reference).
CREATE TABLE usage_token_types (
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    token_type      text NOT NULL CHECK (token_type ~ '^[a-z0-9][a-z0-9_.-]{0,49}$'),
    count           bigint NOT NULL CHECK (count >= 0),
    last_created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, token_type)
);

-- One-time credit grants (the screening reference's free tier): used,
-- earliest expiry first, for interactions beyond the plan's monthly quota.
CREATE TABLE credit_grants (
    tenant_id  uuid NOT NULL REFERENCES tenants (id),
    id         uuid NOT NULL DEFAULT gen_random_uuid(),
    amount     bigint NOT NULL CHECK (amount > 0),
    used       bigint NOT NULL DEFAULT 0 CHECK (used >= 0 AND used <= amount),
    expires_at timestamptz, -- NULL: never expires
    reason     text NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL,
    created_by text NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- Monthly active tokens included in each plan (the token report).
ALTER TABLE plans ADD COLUMN included_monthly_active_tokens bigint NOT NULL DEFAULT 0
    CHECK (included_monthly_active_tokens >= 0);
UPDATE plans SET included_monthly_active_tokens = CASE id
    WHEN 'starter' THEN 1000 WHEN 'professional' THEN 50000 WHEN 'enterprise' THEN 1000000 ELSE 0 END;

-- +goose Down
ALTER TABLE plans DROP COLUMN included_monthly_active_tokens;
DROP TABLE credit_grants, usage_token_types, usage_daily_platforms, usage_daily_users, usage_events;
ALTER TABLE usage_daily DROP COLUMN tokenized;
