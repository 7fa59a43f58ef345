-- +goose Up
-- Email deliveries and disabled webhook endpoints.
--
-- One delivery table carries both channels: an EMAIL delivery is one event
-- owed to one address of the tenant's `emails` (url 'mailto:<address>'),
-- so retries, leases, per-endpoint concurrency and the delivery log work
-- per address exactly as for a webhook URL.
ALTER TABLE webhook_deliveries
    ADD COLUMN channel text NOT NULL DEFAULT 'WEBHOOK' CHECK (channel IN ('WEBHOOK', 'EMAIL'));

-- A webhook endpoint that has failed every attempt for WEBHOOK_DISABLE_AFTER
-- is disabled: no deliveries are made to it until enableWebhookEndpoint (or
-- a new webhookUrl). The columns are audited like the rest of the row, so
-- disabling writes the event webhook_endpoint.disabled.
ALTER TABLE notification_channels
    ADD COLUMN webhook_disabled_at timestamptz,
    ADD COLUMN webhook_disabled_reason text,
    ADD CHECK ((webhook_disabled_at IS NULL) = (webhook_disabled_reason IS NULL));

-- Since when a tenant's webhook endpoint (url) has failed without a
-- success in between: bookkeeping of the delivery workers, not audited (it
-- changes on every failure). A success, a new URL or disabling removes it.
CREATE TABLE webhook_failures (
    tenant_id uuid PRIMARY KEY REFERENCES tenants (id),
    url       text NOT NULL,
    since     timestamptz NOT NULL
);

INSERT INTO event_types (type, object, by_id) VALUES
    ('webhook_endpoint.disabled', 'notification_channels', false),
    ('webhook_endpoint.enabled', 'notification_channels', false);

-- event_type now also types the changes to webhook_disabled_at; every
-- other entry is typed as before (event_type_base, 00010's function).
ALTER FUNCTION event_type(text, text, text, jsonb) RENAME TO event_type_base;
-- +goose StatementBegin
CREATE FUNCTION event_type(action text, tbl text, op text, changes jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN action = 'enableWebhookEndpoint' THEN 'webhook_endpoint.enabled'
        WHEN tbl = 'notification_channels' AND op = 'UPDATE'
            AND changes -> 'webhook_disabled_at' ->> 'before' IS NULL
            AND changes -> 'webhook_disabled_at' ->> 'after' IS NOT NULL THEN 'webhook_endpoint.disabled'
        ELSE event_type_base(action, tbl, op, changes) END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION event_type(text, text, text, jsonb);
ALTER FUNCTION event_type_base(text, text, text, jsonb) RENAME TO event_type;
DELETE FROM webhook_deliveries WHERE channel = 'EMAIL';
DELETE FROM events WHERE type IN ('webhook_endpoint.disabled', 'webhook_endpoint.enabled');
DELETE FROM event_types WHERE type IN ('webhook_endpoint.disabled', 'webhook_endpoint.enabled');
DROP TABLE webhook_failures;
ALTER TABLE notification_channels DROP COLUMN webhook_disabled_at, DROP COLUMN webhook_disabled_reason;
ALTER TABLE webhook_deliveries DROP COLUMN channel;
