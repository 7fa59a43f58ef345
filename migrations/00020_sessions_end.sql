-- +goose Up
-- Sessions end in the database when their authority does, not only while
-- it is gone: a tenant suspended or deleted revokes every session of its
-- members (restoring it later does not bring them back), and an IP
-- allowlist change revokes the sessions signed in from an address outside
-- the new list. Requests were already refused at once; this makes the end
-- final.

-- +goose StatementBegin
CREATE FUNCTION sessions_end_with_tenant() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sessions SET revoked_at = COALESCE(NULLIF(current_setting('app.now', true), '')::timestamptz, now())
    WHERE tenant_id = NEW.id AND revoked_at IS NULL;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER tenants_end_sessions AFTER UPDATE OF status ON tenants
    FOR EACH ROW WHEN (NEW.status IN ('SUSPENDED', 'DELETED') AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION sessions_end_with_tenant();

-- safe_inet is the address text as inet, or NULL when it is not one.
-- +goose StatementBegin
CREATE FUNCTION safe_inet(a text) RETURNS inet LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN a::inet;
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION sessions_end_outside_allowlist() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(NEW.ip_allowlist) = 0 THEN
        RETURN NULL; -- any address is allowed again
    END IF;
    UPDATE sessions s SET revoked_at = COALESCE(NULLIF(current_setting('app.now', true), '')::timestamptz, now())
    WHERE s.tenant_id = NEW.tenant_id AND s.revoked_at IS NULL
        AND NOT EXISTS (
            SELECT 1 FROM unnest(NEW.ip_allowlist) AS a(prefix)
            WHERE safe_inet(s.ip_address) <<= safe_inet(a.prefix));
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER tenant_settings_end_sessions AFTER INSERT OR UPDATE OF ip_allowlist ON tenant_settings
    FOR EACH ROW EXECUTE FUNCTION sessions_end_outside_allowlist();

-- +goose Down
DROP TRIGGER tenant_settings_end_sessions ON tenant_settings;
DROP TRIGGER tenants_end_sessions ON tenants;
DROP FUNCTION sessions_end_outside_allowlist(), sessions_end_with_tenant(), safe_inet(text);
