-- +goose Up
-- Webhook deliveries: one row per (event, endpoint) a delivery worker owes
-- a tenant, and one row per HTTP attempt at it (the delivery log). Workers
-- in every instance share them through PostgreSQL: a worker claims due
-- rows with FOR UPDATE SKIP LOCKED in a short transaction and leases them
-- (locked_until, lease); a worker killed mid-attempt leaves a lease that
-- expires, and another worker claims the row again.
CREATE TABLE webhook_deliveries (
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    -- A UUIDv7 (uuid7): the log sorts by id, newest first.
    id              uuid NOT NULL,
    event_id        uuid NOT NULL,
    -- The endpoint as it was when the delivery was created.
    url             text NOT NULL,
    status          text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED')),
    attempts        integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    -- A claimed row: which claim (lease) holds it, until when.
    locked_until    timestamptz,
    lease           uuid,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, event_id) REFERENCES events (tenant_id, id) ON DELETE CASCADE
);
-- The workers' queue: pending rows by due time.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'PENDING';
-- The delivery log, newest first per tenant, and by event (redelivery).
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (tenant_id, id DESC);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (tenant_id, event_id);

CREATE TABLE webhook_attempts (
    tenant_id     uuid NOT NULL,
    delivery_id   uuid NOT NULL,
    id            uuid NOT NULL,
    at            timestamptz NOT NULL,
    -- NULL: no response arrived (timeout, refused address, TLS, …).
    http_status   integer,
    latency_ms    integer NOT NULL,
    -- The first 1 KB of the response body.
    response_body text,
    error         text,
    PRIMARY KEY (tenant_id, delivery_id, id),
    FOREIGN KEY (tenant_id, delivery_id) REFERENCES webhook_deliveries (tenant_id, id) ON DELETE CASCADE
);

-- Events written before deliveries existed are not sent: a receiver
-- configured long ago would otherwise get up to EVENT_RETENTION of history
-- at once. redeliverEvent sends any of them on request.
UPDATE events SET dispatched_at = now() WHERE dispatched_at IS NULL;

-- +goose Down
DROP TABLE webhook_attempts, webhook_deliveries;
