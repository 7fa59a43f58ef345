-- +goose Up
-- Domain events (the transactional outbox): every change the audit log
-- records also writes one event per tenant and type in the same
-- transaction, so there is no event without its change and no change
-- without its event, and a crash after commit loses nothing (delivery reads
-- this table). The choke point is the audit log itself: a trigger on
-- audit_log turns the entries of one transaction into one event per
-- (tenant, type), typed by the mutation (app.action) or, for a job, by the
-- table and what changed; a deferred trigger fills the payload at commit,
-- from the object as the transaction leaves it. A rolled-back transaction
-- (a refused mutation, validateOnly) writes none.

-- The catalog of event types: the GraphQL enum EventType
-- (schema/events.graphqls) lists the same wire names, which a test checks.
-- object is the table whose row is the payload (NULL: the audit summary);
-- by_id says that row is one of many of the tenant, keyed by the event's
-- subject.
CREATE TABLE event_types (
    type   text PRIMARY KEY CHECK (type ~ '^[a-z_]+\.[a-z_]+$'),
    object text,
    by_id  boolean NOT NULL DEFAULT false
);
INSERT INTO event_types (type, object, by_id) VALUES
    ('tenant.created', 'tenants', false),
    ('tenant.updated', 'tenants', false),
    ('tenant.suspended', 'tenants', false),
    ('tenant.deleted', 'tenants', false),
    ('tenant.restored', 'tenants', false),
    ('settings.updated', 'tenant_settings', false),
    ('api_key.created', 'api_keys', true),
    ('api_key.updated', 'api_keys', true),
    ('api_key.revoked', 'api_keys', true),
    ('sso.updated', 'sso_configs', false),
    ('sso.tested', 'sso_configs', false),
    ('notification_channels.updated', 'notification_channels', false),
    ('keywords.updated', 'screening_keywords', false),
    ('industries.updated', 'screening_industries', false),
    ('risk_matrix.updated', 'risk_matrices', false),
    ('website_config.updated', 'website_configs', false),
    ('watchlist.updated', 'watchlist_seats', false),
    ('subscription.changed', 'billing_accounts', false),
    ('billing.updated', 'billing_accounts', false),
    ('invoice.issued', 'invoices', true),
    ('invoice.paid', 'invoices', true),
    ('invoice.voided', 'invoices', true),
    ('credits.granted', 'credit_grants', true),
    ('usage.recorded', NULL, false);

CREATE TABLE events (
    tenant_id  uuid NOT NULL REFERENCES tenants (id),
    -- A UUIDv7: its first 48 bits are the transaction's time in
    -- milliseconds, so ids sort by time (and the id is the webhook-id a
    -- receiver deduplicates by).
    id         uuid NOT NULL,
    type       text NOT NULL REFERENCES event_types (type),
    at         timestamptz NOT NULL,
    actor      text NOT NULL,
    action     text NOT NULL,
    -- The id of the object the payload describes (the tenant's id for
    -- objects a tenant has one of).
    subject    text,
    -- The object after the change, in the API's camelCase, secrets left
    -- out; filled at commit (event_payload).
    payload    jsonb,
    request_id text,
    -- When a delivery worker fanned the event out to its subscribers; NULL
    -- while it waits (the worker's queue: SELECT … WHERE dispatched_at IS
    -- NULL ORDER BY id FOR UPDATE SKIP LOCKED).
    dispatched_at timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX events_undispatched ON events (id) WHERE dispatched_at IS NULL;
-- The purge looks for old events across tenants.
CREATE INDEX events_at ON events (at);

-- uuid7 is a UUIDv7 for the instant at: 48 bits of Unix milliseconds, the
-- version and variant bits, and random bits.
-- +goose StatementBegin
CREATE FUNCTION uuid7(at timestamptz) RETURNS uuid LANGUAGE sql VOLATILE AS $$
    SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
        PLACING substring(int8send(floor(extract(epoch FROM at) * 1000)::bigint) FROM 3)
        FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
$$;
-- +goose StatementEnd

-- event_camel renames a row's columns to the API's camelCase and leaves
-- out the tenant id and secrets (audit_secret).
-- +goose StatementBegin
CREATE FUNCTION event_camel(r jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT COALESCE(jsonb_object_agg(
        (SELECT string_agg(CASE WHEN p.n = 1 THEN p.w ELSE initcap(p.w) END, '' ORDER BY p.n)
         FROM unnest(string_to_array(e.key, '_')) WITH ORDINALITY AS p(w, n)),
        e.value), '{}')
    FROM jsonb_each(r) AS e
    WHERE e.key <> 'tenant_id' AND NOT audit_secret(e.key)
$$;
-- +goose StatementEnd

-- event_type types one audit entry: by the mutation that wrote it when it
-- is one, otherwise (a job) by the table and what changed. NULL: the entry
-- is bookkeeping another event of the transaction reports (a billing run
-- moving the next billing date next to its invoice).
-- +goose StatementBegin
CREATE FUNCTION event_type(action text, tbl text, op text, changes jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE action
        WHEN 'createTenant' THEN 'tenant.created'
        WHEN 'updateTenant' THEN 'tenant.updated'
        WHEN 'deleteTenant' THEN 'tenant.deleted'
        WHEN 'restoreTenant' THEN 'tenant.restored'
        WHEN 'updateTenantSettings' THEN 'settings.updated'
        WHEN 'createApiKey' THEN 'api_key.created'
        WHEN 'revokeApiKey' THEN 'api_key.revoked'
        WHEN 'enableSso' THEN 'sso.updated'
        WHEN 'disableSso' THEN 'sso.updated'
        WHEN 'testSso' THEN 'sso.tested'
        WHEN 'updateNotificationChannels' THEN 'notification_channels.updated'
        WHEN 'rotateWebhookSecret' THEN 'notification_channels.updated'
        WHEN 'updateKeywords' THEN 'keywords.updated'
        WHEN 'updateIndustries' THEN 'industries.updated'
        WHEN 'updateRiskMatrix' THEN 'risk_matrix.updated'
        WHEN 'updateWebsiteConfig' THEN 'website_config.updated'
        WHEN 'updateWatchlistSeats' THEN 'watchlist.updated'
        WHEN 'changePlan' THEN 'subscription.changed'
        WHEN 'cancelPlanChange' THEN 'subscription.changed'
        WHEN 'updateBilling' THEN 'billing.updated'
        WHEN 'runBilling' THEN 'invoice.issued'
        WHEN 'markInvoicePaid' THEN 'invoice.paid'
        WHEN 'voidInvoice' THEN 'invoice.voided'
        WHEN 'grantCredits' THEN 'credits.granted'
        WHEN 'recordUsage' THEN 'usage.recorded'
        ELSE CASE tbl
            WHEN 'tenants' THEN CASE
                WHEN op = 'INSERT' THEN 'tenant.created'
                WHEN changes -> 'status' ->> 'after' = 'DELETED' THEN 'tenant.deleted'
                WHEN changes -> 'status' ->> 'after' = 'SUSPENDED' THEN 'tenant.suspended'
                WHEN changes -> 'status' ->> 'after' = 'ACTIVE' THEN 'tenant.restored'
                WHEN (SELECT bool_and(k IN ('plan_id', 'version')) FROM jsonb_object_keys(changes) AS k) THEN 'subscription.changed'
                ELSE 'tenant.updated' END
            WHEN 'tenant_settings' THEN 'settings.updated'
            WHEN 'api_keys' THEN CASE
                WHEN op = 'INSERT' THEN 'api_key.created'
                WHEN changes -> 'revoked_at' ->> 'after' IS NOT NULL THEN 'api_key.revoked'
                ELSE 'api_key.updated' END
            WHEN 'sso_configs' THEN CASE
                WHEN (SELECT bool_and(k LIKE 'last\_test\_%' OR k IN ('status', 'version')) FROM jsonb_object_keys(changes) AS k) THEN 'sso.tested'
                ELSE 'sso.updated' END
            WHEN 'notification_channels' THEN 'notification_channels.updated'
            WHEN 'screening_keywords' THEN 'keywords.updated'
            WHEN 'screening_industries' THEN 'industries.updated'
            WHEN 'risk_matrices' THEN 'risk_matrix.updated'
            WHEN 'risk_matrix_weights' THEN 'risk_matrix.updated'
            WHEN 'website_configs' THEN 'website_config.updated'
            WHEN 'watchlist_seats' THEN 'watchlist.updated'
            WHEN 'billing_accounts' THEN CASE
                WHEN (SELECT bool_and(k IN ('next_billing_date', 'version')) FROM jsonb_object_keys(changes) AS k) THEN NULL
                ELSE 'subscription.changed' END
            WHEN 'invoices' THEN CASE
                WHEN op = 'INSERT' THEN 'invoice.issued'
                WHEN changes -> 'status' ->> 'after' = 'PAID' THEN 'invoice.paid'
                WHEN changes -> 'status' ->> 'after' = 'VOID' THEN 'invoice.voided'
                ELSE 'invoice.issued' END
            WHEN 'credit_grants' THEN 'credits.granted'
            WHEN 'usage_daily' THEN 'usage.recorded'
            ELSE 'tenant.updated' END
        END
$$;
-- +goose StatementEnd

-- event_from_audit is the choke point: for each audit entry it finds the
-- transaction's event of the entry's tenant and type, or writes it, and
-- takes its subject from the first entry about the event's object. The
-- transaction-local setting app.ev_<md5(tenant/type)> remembers the event
-- within the transaction (rolled back with a savepoint, gone at commit), so
-- no index of transaction ids is needed.
-- +goose StatementBegin
CREATE FUNCTION event_from_audit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    t text;
    et event_types;
    slot text;
    ev text;
    subj text;
BEGIN
    t := event_type(NEW.action, NEW.target_type, NEW.operation, NEW.changes);
    IF t IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT * INTO et FROM event_types WHERE type = t;
    IF et.object IS NOT DISTINCT FROM NEW.target_type THEN
        subj := NEW.target_id;
        IF NOT et.by_id AND NEW.target_type <> 'tenants' THEN
            subj := NEW.tenant_id::text;
        END IF;
    END IF;
    slot := 'app.ev_' || md5(NEW.tenant_id::text || '/' || t);
    ev := NULLIF(current_setting(slot, true), '');
    IF ev IS NOT NULL THEN
        IF subj IS NOT NULL THEN
            UPDATE events SET subject = subj WHERE tenant_id = NEW.tenant_id AND id = ev::uuid AND subject IS NULL;
        END IF;
        RETURN NULL;
    END IF;
    ev := uuid7(NEW.at)::text;
    INSERT INTO events (tenant_id, id, type, at, actor, action, subject, payload, request_id)
    VALUES (NEW.tenant_id, ev::uuid, t, NEW.at, NEW.actor, NEW.action,
        COALESCE(subj, CASE WHEN NOT et.by_id THEN NEW.tenant_id::text END),
        CASE WHEN et.object IS NULL THEN jsonb_build_object('changes', NEW.changes) END,
        NEW.request_id);
    PERFORM set_config(slot, ev, true);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_event AFTER INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION event_from_audit();

-- event_payload fills an event's payload at commit, when its object is as
-- the transaction leaves it: the object's row (camelCase, secrets left
-- out), a subscription with its current plan, a risk matrix with its
-- weights. An object deleted by the transaction reads as its id and
-- "deleted": true.
-- +goose StatementBegin
CREATE FUNCTION event_payload() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    et event_types;
    subj text;
    p jsonb;
BEGIN
    SELECT * INTO et FROM event_types WHERE type = NEW.type;
    IF et.object IS NULL THEN
        RETURN NULL;
    END IF;
    -- NEW is the row as inserted; a later entry of the transaction may have
    -- set its subject since.
    SELECT e.subject INTO subj FROM events e WHERE e.tenant_id = NEW.tenant_id AND e.id = NEW.id;
    IF et.object = 'tenants' THEN
        SELECT to_jsonb(t) INTO p FROM tenants t WHERE t.id = NEW.tenant_id;
    ELSIF et.by_id THEN
        EXECUTE format('SELECT to_jsonb(t) FROM %I t WHERE t.tenant_id = $1 AND t.id::text = $2', et.object)
            INTO p USING NEW.tenant_id, subj;
    ELSE
        EXECUTE format('SELECT to_jsonb(t) FROM %I t WHERE t.tenant_id = $1', et.object)
            INTO p USING NEW.tenant_id;
    END IF;
    IF p IS NULL THEN
        p := jsonb_build_object('id', subj, 'deleted', true);
    ELSE
        p := event_camel(p);
        IF et.object <> 'tenants' AND NOT et.by_id THEN
            p := jsonb_build_object('tenantId', NEW.tenant_id) || p;
        END IF;
    END IF;
    IF et.object = 'billing_accounts' THEN
        -- A tenant without a billing row yet has the defaults: its plan.
        p := (p - 'deleted' - 'id') || jsonb_build_object('tenantId', NEW.tenant_id,
            'planId', (SELECT plan_id FROM tenants WHERE id = NEW.tenant_id));
    ELSIF et.object = 'risk_matrices' THEN
        p := p || jsonb_build_object('weights', COALESCE((SELECT jsonb_agg(event_camel(to_jsonb(w)) ORDER BY w.web_check)
            FROM risk_matrix_weights w WHERE w.tenant_id = NEW.tenant_id), '[]'));
    END IF;
    UPDATE events SET payload = p WHERE tenant_id = NEW.tenant_id AND id = NEW.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE CONSTRAINT TRIGGER events_payload AFTER INSERT ON events
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION event_payload();

-- +goose Down
DROP TRIGGER audit_event ON audit_log;
DROP TABLE events, event_types;
DROP FUNCTION event_payload(), event_from_audit(), event_type(text, text, text, jsonb), event_camel(jsonb), uuid7(timestamptz);
