-- +goose Up
-- Threshold and lifecycle events that no single audit entry types: quota
-- at 80 % and 100 % of the plan, credits low, watchlist seats low, an API
-- key expiring within 7 days, a failed SSO test, and a plan change
-- scheduled or applied. The store writes them (db/thresholds.go) in the
-- transaction of the change that crosses the threshold, through the same
-- outbox (events); their payload is given when written (object NULL: the
-- deferred event_payload leaves it alone).
INSERT INTO event_types (type, object, by_id) VALUES
    ('quota.threshold', NULL, false),
    ('quota.exceeded', NULL, false),
    ('credits.low', NULL, false),
    ('watchlist.seats_low', NULL, false),
    ('api_key.expiring', NULL, false),
    ('sso.test_failed', NULL, false),
    ('plan_change.scheduled', NULL, false),
    ('plan_change.applied', NULL, false);

-- event_marks makes a threshold fire once per period: a row per (tenant,
-- kind, period) whose threshold has fired. period is the month
-- (`2026-11`) for the quota, `current` for credits and seats (the mark is
-- dropped when they are back above the threshold, so the next fall fires
-- again), the key's id for an expiring API key.
CREATE TABLE event_marks (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    kind      text NOT NULL REFERENCES event_types (type),
    period    text NOT NULL,
    at        timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, kind, period)
);

-- emit_event writes one event with its payload, stamped like the audit
-- log's entries: the transaction's time, actor, mutation and request id
-- (db/audit.go sets them); a job's event gets action.
-- +goose StatementBegin
CREATE FUNCTION emit_event(p_tenant uuid, p_type text, p_subject text, p_payload jsonb, p_action text) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    v_at timestamptz := COALESCE(NULLIF(current_setting('app.now', true), '')::timestamptz, now());
    v_id uuid := uuid7(v_at);
BEGIN
    INSERT INTO events (tenant_id, id, type, at, actor, action, subject, payload, request_id)
    VALUES (p_tenant, v_id, p_type, v_at,
        COALESCE(NULLIF(current_setting('app.actor', true), ''), 'system'),
        COALESCE(NULLIF(current_setting('app.action', true), ''), p_action),
        p_subject, p_payload, NULLIF(current_setting('app.request_id', true), ''));
    RETURN v_id;
END
$$;
-- +goose StatementEnd

-- emit_threshold writes the event typ unless its mark (tenant, typ,
-- period) is already set, and sets it; it reports whether it fired.
-- +goose StatementBegin
CREATE FUNCTION emit_threshold(p_tenant uuid, p_type text, p_period text, p_subject text, p_payload jsonb, p_action text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO event_marks (tenant_id, kind, period, at)
    VALUES (p_tenant, p_type, p_period, COALESCE(NULLIF(current_setting('app.now', true), '')::timestamptz, now()))
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM emit_event(p_tenant, p_type, p_subject, p_payload, p_action);
    RETURN true;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION emit_threshold(uuid, text, text, text, jsonb, text), emit_event(uuid, text, text, jsonb, text);
DROP TABLE event_marks;
DELETE FROM events WHERE type IN ('quota.threshold', 'quota.exceeded', 'credits.low', 'watchlist.seats_low',
    'api_key.expiring', 'sso.test_failed', 'plan_change.scheduled', 'plan_change.applied');
DELETE FROM event_types WHERE type IN ('quota.threshold', 'quota.exceeded', 'credits.low', 'watchlist.seats_low',
    'api_key.expiring', 'sso.test_failed', 'plan_change.scheduled', 'plan_change.applied');
