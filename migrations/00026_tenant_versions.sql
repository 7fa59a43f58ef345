-- +goose Up
-- Every tenant has a data version, changed by each transaction that writes
-- any of its rows; one more row (the nil uuid) is the version of what all
-- tenants share (plans). The association cache (db/assoccache.go) keeps a
-- read only under the versions its request saw at authentication, so a
-- read after a committed write, on any instance, never sees older data.
--
-- A version is the writing transaction's id: unique, so two writes never
-- leave the same version. A tenant without a row has not been written
-- since this migration: readers take 1 for it (no transaction has that
-- id). Rows are never deleted (no foreign key): a version that came back
-- would match entries kept under it.
--
-- The triggers are deferred constraint triggers: they run at commit, so
-- the version row is locked only for the end of the transaction, and a
-- transaction that writes 20 rows of one tenant changes its version once
-- (the update is skipped when the version is already this transaction's).
CREATE TABLE tenant_versions (
    tenant_id uuid PRIMARY KEY,
    version   bigint NOT NULL
);

-- +goose StatementBegin
CREATE FUNCTION tenant_version_bump(id uuid) RETURNS void LANGUAGE sql AS $$
    INSERT INTO tenant_versions AS v (tenant_id, version) VALUES (id, pg_current_xact_id()::text::bigint)
    ON CONFLICT (tenant_id) DO UPDATE SET version = EXCLUDED.version WHERE v.version <> EXCLUDED.version
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION tenant_version_by_tenant_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.tenant_id IS NOT NULL THEN
        PERFORM tenant_version_bump(OLD.tenant_id);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.tenant_id IS NOT NULL AND (TG_OP = 'INSERT' OR NEW.tenant_id IS DISTINCT FROM OLD.tenant_id) THEN
        PERFORM tenant_version_bump(NEW.tenant_id);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION tenant_version_by_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM tenant_version_bump(OLD.id);
    ELSE
        PERFORM tenant_version_bump(NEW.id);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION tenant_version_global() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tenant_version_bump('00000000-0000-0000-0000-000000000000');
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- tenant_version_attach gives table its trigger: every table with a
-- tenant_id column has one (TestTenantVersionTriggers checks it, so a
-- later migration's table calls this too). touch names a column whose
-- change alone is bookkeeping no cached read shows (an API key's
-- last_used_at, a session's last_seen_at): updates of only that column
-- leave the version as it is.
-- +goose StatementBegin
CREATE FUNCTION tenant_version_attach(tbl text, touch text DEFAULT NULL) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF touch IS NULL THEN
        EXECUTE format('CREATE CONSTRAINT TRIGGER tenant_version AFTER INSERT OR UPDATE OR DELETE ON %I
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tenant_version_by_tenant_id()', tbl);
        RETURN;
    END IF;
    EXECUTE format('CREATE CONSTRAINT TRIGGER tenant_version AFTER INSERT OR DELETE ON %I
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tenant_version_by_tenant_id()', tbl);
    EXECUTE format('CREATE CONSTRAINT TRIGGER tenant_version_update AFTER UPDATE ON %I
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
        WHEN ((to_jsonb(OLD) - %L) IS DISTINCT FROM (to_jsonb(NEW) - %L))
        EXECUTE FUNCTION tenant_version_by_tenant_id()', tbl, touch, touch);
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT c.table_name FROM information_schema.columns c
        JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
        WHERE c.table_schema = current_schema() AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE'
          AND c.table_name NOT IN ('tenant_versions', 'api_keys', 'sessions')
    LOOP
        PERFORM tenant_version_attach(r.table_name);
    END LOOP;
END
$$;
-- +goose StatementEnd
SELECT tenant_version_attach('api_keys', 'last_used_at');
SELECT tenant_version_attach('sessions', 'last_seen_at');

CREATE CONSTRAINT TRIGGER tenant_version AFTER INSERT OR UPDATE OR DELETE ON tenants
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tenant_version_by_id();
CREATE CONSTRAINT TRIGGER tenant_version AFTER INSERT OR UPDATE OR DELETE ON plans
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tenant_version_global();

-- +goose Down
-- +goose StatementBegin
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT DISTINCT event_object_table AS t, trigger_name AS n FROM information_schema.triggers
        WHERE trigger_schema = current_schema() AND trigger_name IN ('tenant_version', 'tenant_version_update')
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %I', r.n, r.t);
    END LOOP;
END
$$;
-- +goose StatementEnd
DROP FUNCTION tenant_version_attach(text, text);
DROP FUNCTION tenant_version_global();
DROP FUNCTION tenant_version_by_id();
DROP FUNCTION tenant_version_by_tenant_id();
DROP FUNCTION tenant_version_bump(uuid);
DROP TABLE tenant_versions;
