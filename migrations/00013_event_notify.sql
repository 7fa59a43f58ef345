-- +goose Up
-- Live subscriptions (docs/events.md: Live subscriptions): every event
-- written NOTIFYs the channel tenant_events with "<tenant id>:<event id>"
-- (73 bytes, far below PostgreSQL's 8000-byte limit). PostgreSQL delivers
-- notifications only when the transaction commits, in commit order, and
-- never for a rolled-back one; by then the deferred trigger has filled the
-- payload. Each instance LISTENs on one connection (live/) and fans the
-- notification out to its subscribers and its webhook worker; subscribers
-- read the event rows back through the store, with the tenant scope in the
-- SQL, so the notification carries nothing but ids.
-- +goose StatementBegin
CREATE FUNCTION event_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tenant_events', NEW.tenant_id::text || ':' || NEW.id::text);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION event_notify();

-- +goose Down
DROP TRIGGER events_notify ON events;
DROP FUNCTION event_notify();
