-- +goose Up
-- A tenant's single sign-on configuration: at most one identity provider per
-- tenant, saved by enableSso. Whether SSO is on lives in one place only,
-- tenant_settings.sso_enabled: disableSso clears it and keeps this row.
-- Client secrets are stored sealed (AES-256-GCM, the tenant id bound as
-- additional data, the key id in front of the ciphertext), never in clear.
CREATE TABLE sso_configs (
    tenant_id            uuid PRIMARY KEY REFERENCES tenants (id),
    type                 text NOT NULL CHECK (type IN ('OIDC', 'SAML', 'ENTRA_ID')),
    -- CONFIGURED after a change, ACTIVE or ERROR after a test of that change.
    status               text NOT NULL CHECK (status IN ('CONFIGURED', 'ACTIVE', 'ERROR')),
    client_id            text,
    client_secret_sealed text,       -- "<key id>:<base64(nonce || ciphertext || tag)>"
    client_secret_hint   text,       -- "…" + the last 4 characters, or NULL for short secrets
    discovery_url        text,
    redirect_uri         text,
    entity_id            text,
    idp_metadata_url     text,
    idp_metadata_xml     text,
    sp_x509_cert         text,       -- PEM, public
    idp_x509_cert        text,       -- PEM, public
    sp_cert_expires_at   timestamptz,
    idp_cert_expires_at  timestamptz,
    directory_tenant_id  uuid,       -- Entra ID directory
    last_test_at         timestamptz,
    last_test_result     text CHECK (last_test_result IN ('SUCCESS', 'FAILURE')),
    last_test_error      text,
    version              int NOT NULL DEFAULT 1 CHECK (version >= 1),
    updated_at           timestamptz NOT NULL,
    updated_by           text NOT NULL,
    -- Each type has its own fields and none of the others'.
    CHECK (type <> 'OIDC' OR (client_id IS NOT NULL AND client_secret_sealed IS NOT NULL
        AND discovery_url IS NOT NULL AND redirect_uri IS NOT NULL
        AND entity_id IS NULL AND idp_metadata_url IS NULL AND idp_metadata_xml IS NULL
        AND sp_x509_cert IS NULL AND idp_x509_cert IS NULL AND directory_tenant_id IS NULL)),
    CHECK (type <> 'SAML' OR (entity_id IS NOT NULL AND (idp_metadata_url IS NULL) <> (idp_metadata_xml IS NULL)
        AND sp_x509_cert IS NOT NULL AND idp_x509_cert IS NOT NULL
        AND sp_cert_expires_at IS NOT NULL AND idp_cert_expires_at IS NOT NULL
        AND client_id IS NULL AND client_secret_sealed IS NULL AND discovery_url IS NULL
        AND redirect_uri IS NULL AND directory_tenant_id IS NULL)),
    CHECK (type <> 'ENTRA_ID' OR (directory_tenant_id IS NOT NULL AND client_id IS NOT NULL
        AND client_secret_sealed IS NOT NULL
        AND discovery_url IS NULL AND redirect_uri IS NULL AND entity_id IS NULL
        AND idp_metadata_url IS NULL AND idp_metadata_xml IS NULL
        AND sp_x509_cert IS NULL AND idp_x509_cert IS NULL)),
    CHECK ((last_test_at IS NULL) = (last_test_result IS NULL)),
    CHECK (last_test_error IS NULL OR last_test_result = 'FAILURE')
);

-- +goose Down
DROP TABLE sso_configs;
