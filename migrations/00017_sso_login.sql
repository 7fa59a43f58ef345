-- +goose Up
-- SSO login served by this deployment (docs/sso.md): the role a first SSO
-- login creates a member with (just-in-time provisioning; never OWNER),
-- whether password login is refused while SSO is ACTIVE, the pending
-- authorization requests of the OIDC code flow (state, nonce and PKCE
-- verifier kept server-side, single use, short-lived) and the SAML
-- assertion ids already accepted (each accepted once until it expires).
ALTER TABLE sso_configs
    ADD COLUMN default_role text NOT NULL DEFAULT 'VIEWER' CHECK (default_role IN ('ADMIN', 'BILLING', 'DEVELOPER', 'VIEWER')),
    ADD COLUMN enforced boolean NOT NULL DEFAULT false,
    -- Entra ID: the national cloud whose login host serves the directory.
    ADD COLUMN entra_cloud text CHECK (entra_cloud IN ('GLOBAL', 'US_GOVERNMENT', 'CHINA'));
-- Entra ID directories are named by id (a UUID) or by a verified domain
-- (contoso.onmicrosoft.com).
ALTER TABLE sso_configs ALTER COLUMN directory_tenant_id TYPE text USING directory_tenant_id::text;

CREATE TABLE sso_login_states (
    state_hash bytea PRIMARY KEY CHECK (length(state_hash) = 32),  -- SHA-256 of the state
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    nonce      text NOT NULL,
    verifier   text NOT NULL,  -- the PKCE code verifier
    return_to  text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX sso_login_states_expires ON sso_login_states (expires_at);

CREATE TABLE saml_assertions_seen (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    assertion_id text NOT NULL CHECK (char_length(assertion_id) <= 256),
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, assertion_id)
);
CREATE INDEX saml_assertions_seen_expires ON saml_assertions_seen (expires_at);

-- +goose Down
DROP TABLE saml_assertions_seen;
DROP TABLE sso_login_states;
ALTER TABLE sso_configs ALTER COLUMN directory_tenant_id TYPE uuid USING directory_tenant_id::uuid;
ALTER TABLE sso_configs DROP COLUMN entra_cloud, DROP COLUMN enforced, DROP COLUMN default_role;
