-- +goose Up
-- A tenant's people (docs/members.md): members with a role, their sessions,
-- and the single-use tokens emailed to them (invitations, password resets).
-- Every secret is stored only as its SHA-256 (tokens) or argon2id hash
-- (passwords).

CREATE TABLE members (
    tenant_id         uuid NOT NULL REFERENCES tenants (id),
    id                uuid NOT NULL DEFAULT gen_random_uuid(),
    email             text NOT NULL CHECK (email = lower(email) AND char_length(email) BETWEEN 3 AND 254),
    name              text NOT NULL DEFAULT '' CHECK (char_length(name) <= 200),
    role              text NOT NULL CHECK (role IN ('OWNER', 'ADMIN', 'BILLING', 'DEVELOPER', 'VIEWER')),
    status            text NOT NULL CHECK (status IN ('INVITED', 'ACTIVE', 'DEACTIVATED')),
    password_hash     text,  -- PHC argon2id; NULL = no password (invited, or SSO only)
    last_login_method text CHECK (last_login_method IN ('PASSWORD', 'SSO')),
    last_login_at     timestamptz,
    created_at        timestamptz NOT NULL,
    created_by        text NOT NULL,
    invited_by        text,
    deactivated_at    timestamptz,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, email),
    CHECK ((status = 'DEACTIVATED') = (deactivated_at IS NOT NULL))
);
CREATE UNIQUE INDEX members_id ON members (id);
-- At most one owner per tenant; the store keeps it at least one (the owner
-- is neither demoted nor deactivated, only replaced by transferOwnership).
CREATE UNIQUE INDEX members_one_owner ON members (tenant_id) WHERE role = 'OWNER';
-- Login finds an address's memberships.
CREATE INDEX members_email ON members (email);

CREATE TABLE sessions (
    tenant_id    uuid NOT NULL,
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    member_id    uuid NOT NULL,
    token_hash   bytea NOT NULL CHECK (length(token_hash) = 32),
    method       text NOT NULL CHECK (method IN ('PASSWORD', 'SSO')),
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,  -- the absolute lifetime (SESSION_MAX_AGE)
    revoked_at   timestamptz,
    ip_address   text,
    user_agent   text CHECK (char_length(user_agent) <= 300),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX sessions_token_hash ON sessions (token_hash);
CREATE UNIQUE INDEX sessions_id ON sessions (id);
CREATE INDEX sessions_member ON sessions (tenant_id, member_id, last_seen_at DESC);

-- Invitation and password-reset tokens: single use (used_at), expiring.
CREATE TABLE member_tokens (
    tenant_id  uuid NOT NULL,
    id         uuid NOT NULL DEFAULT gen_random_uuid(),
    member_id  uuid NOT NULL,
    purpose    text NOT NULL CHECK (purpose IN ('INVITATION', 'RESET')),
    token_hash bytea NOT NULL CHECK (length(token_hash) = 32),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX member_tokens_hash ON member_tokens (token_hash);
CREATE INDEX member_tokens_member ON member_tokens (tenant_id, member_id, purpose);

-- Hashes never enter the audit log either (password_hash).
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_secret(col text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT col LIKE '%\_sealed' OR col = 'key_hash' OR col LIKE '%\_hash'
        OR (col LIKE '%secret%' AND col NOT LIKE '%\_hint' AND col NOT LIKE '%\_tail' AND col NOT LIKE '%\_at')
$$;
-- +goose StatementEnd
-- Members are audited (who invited whom, role changes); sessions and tokens
-- are not: a row per login, like usage.
SELECT audit_attach('members');

-- The owner recorded on each existing tenant becomes its OWNER member,
-- invited (no password yet): resendInvitation sends them a link.
INSERT INTO members (tenant_id, email, role, status, created_at, created_by)
SELECT id, lower(owner_email), 'OWNER', 'INVITED', created_at, 'migration'
FROM tenants WHERE owner_email IS NOT NULL AND owner_email <> '';

-- +goose Down
DROP TABLE member_tokens;
DROP TABLE sessions;
DROP TABLE members;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_secret(col text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT col LIKE '%\_sealed' OR col = 'key_hash'
        OR (col LIKE '%secret%' AND col NOT LIKE '%\_hint' AND col NOT LIKE '%\_tail' AND col NOT LIKE '%\_at')
$$;
-- +goose StatementEnd
