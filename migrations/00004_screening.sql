-- +goose Up
-- Screening configuration (reference 003): keywords, industries, the
-- web-validation risk matrix, website validation defaults, watchlist seats.
-- A tenant without a row reads the defaults (version 0); the first change
-- inserts the row at version 1. The rules are checked in Go with messages
-- that say what is allowed; the CHECKs below are the safety net.

CREATE TABLE screening_keywords (
    tenant_id  uuid PRIMARY KEY REFERENCES tenants (id),
    -- In the order given, trimmed, without case-insensitive duplicates.
    keywords   text[] NOT NULL CHECK (cardinality(keywords) <= 500),
    version    int NOT NULL CHECK (version > 0),
    updated_at timestamptz NOT NULL,
    updated_by text NOT NULL
);

-- NAICS 2022 sector codes: tenant.IndustryCatalog.
CREATE TABLE screening_industries (
    tenant_id  uuid PRIMARY KEY REFERENCES tenants (id),
    allowed    text[] NOT NULL,
    blocked    text[] NOT NULL,
    version    int NOT NULL CHECK (version > 0),
    updated_at timestamptz NOT NULL,
    updated_by text NOT NULL,
    CHECK (NOT (allowed && blocked)),
    CHECK ((allowed || blocked) <@ ARRAY['11', '21', '22', '23', '31-33', '42', '44-45', '48-49', '51', '52',
        '53', '54', '55', '56', '61', '62', '71', '72', '81', '92'])
);

CREATE TABLE risk_matrices (
    tenant_id  uuid PRIMARY KEY REFERENCES tenants (id),
    version    int NOT NULL CHECK (version > 0),
    updated_at timestamptz NOT NULL,
    updated_by text NOT NULL
);

-- One row per check a tenant uses; the weights of a tenant sum to 1.0000
-- (within 0.0001), checked in Go. numeric keeps them exact.
CREATE TABLE risk_matrix_weights (
    tenant_id uuid NOT NULL,
    web_check text NOT NULL CHECK (web_check IN ('DOMAIN_AGE', 'SSL_CERTIFICATE', 'WHOIS_PRIVACY', 'CONTENT_KEYWORDS',
        'BLACKLIST', 'SOCIAL_PRESENCE', 'CONTACT_INFO', 'BUSINESS_REGISTRY')),
    weight    numeric(5, 4) NOT NULL CHECK (weight > 0 AND weight <= 1),
    PRIMARY KEY (tenant_id, web_check),
    FOREIGN KEY (tenant_id) REFERENCES tenants (id),
    FOREIGN KEY (tenant_id) REFERENCES risk_matrices (tenant_id)
);

CREATE TABLE website_configs (
    tenant_id        uuid PRIMARY KEY REFERENCES tenants (id),
    enabled_checks   text[] NOT NULL CHECK (cardinality(enabled_checks) >= 1 AND enabled_checks <@ ARRAY['DOMAIN_AGE',
        'SSL_CERTIFICATE', 'WHOIS_PRIVACY', 'CONTENT_KEYWORDS', 'BLACKLIST', 'SOCIAL_PRESENCE', 'CONTACT_INFO', 'BUSINESS_REGISTRY']),
    timeout_seconds  int NOT NULL CHECK (timeout_seconds BETWEEN 1 AND 60),
    pass_threshold   int NOT NULL CHECK (pass_threshold BETWEEN 0 AND 100),
    review_threshold int NOT NULL CHECK (review_threshold BETWEEN 0 AND 100),
    follow_redirects boolean NOT NULL,
    max_redirects    int NOT NULL CHECK (max_redirects BETWEEN 0 AND 10),
    version          int NOT NULL CHECK (version > 0),
    updated_at       timestamptz NOT NULL,
    updated_by       text NOT NULL,
    CHECK (review_threshold <= pass_threshold)
);

-- available_seats is set by the operator (version counts those changes);
-- active_subjects is reported by the screening service, so a row can exist
-- at version 0 before the operator grants any seat.
CREATE TABLE watchlist_seats (
    tenant_id       uuid PRIMARY KEY REFERENCES tenants (id),
    available_seats int NOT NULL DEFAULT 0 CHECK (available_seats BETWEEN 0 AND 1000000),
    active_subjects int NOT NULL DEFAULT 0 CHECK (active_subjects >= 0),
    version         int NOT NULL DEFAULT 0 CHECK (version >= 0),
    updated_at      timestamptz,
    updated_by      text
);

-- +goose Down
DROP TABLE watchlist_seats, website_configs, risk_matrix_weights, risk_matrices, screening_industries, screening_keywords;
