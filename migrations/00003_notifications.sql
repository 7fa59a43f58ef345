-- +goose Up
-- Where and about what each tenant is notified (reference 003's
-- notification channels), and the secret its webhooks are signed with.
-- A tenant without a row reads as the defaults (nothing configured).
CREATE TABLE notification_channels (
    tenant_id   uuid PRIMARY KEY REFERENCES tenants (id),
    emails      text[] NOT NULL DEFAULT '{}' CHECK (cardinality(emails) <= 20),
    webhook_url text CHECK (webhook_url LIKE 'https://%' AND char_length(webhook_url) <= 2048),
    events      text[] NOT NULL DEFAULT '{}',
    -- The signing secret, sealed by the keyring (AES-256-GCM, the tenant id
    -- as additional data, "<key id>:<base64>"): never the secret in clear.
    -- Its last four characters are kept apart for the masked hint, so reads
    -- never decrypt.
    webhook_secret_sealed     text,
    webhook_secret_tail       text CHECK (webhook_secret_tail ~ '^[0-9a-f]{4}$'),
    webhook_secret_created_at timestamptz,
    -- The secret a rotation replaced, sealed; deliveries are signed with it
    -- too until it expires, so receivers can switch without losing any.
    previous_webhook_secret_sealed     text,
    previous_webhook_secret_expires_at timestamptz,
    version    int NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL,
    CHECK ((webhook_secret_sealed IS NULL) = (webhook_secret_created_at IS NULL)
       AND (webhook_secret_sealed IS NULL) = (webhook_secret_tail IS NULL)),
    CHECK ((previous_webhook_secret_sealed IS NULL) = (previous_webhook_secret_expires_at IS NULL))
);

-- +goose Down
DROP TABLE notification_channels;
