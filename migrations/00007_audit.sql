-- +goose Up
-- The audit log: one entry per changed row of every table holding a
-- tenant's configuration, written by triggers in the transaction that makes
-- the change, so no code path can change configuration without a trace and
-- no entry survives a rolled-back change. Store.inTx sets the context of
-- each transaction in one statement (transaction-local settings, read back
-- here): app.actor, app.action (the GraphQL mutation), app.request_id,
-- app.client_ip, app.now (the transaction's clock). A setting that was never
-- set in this transaction reads as '' (PostgreSQL keeps a transaction-local
-- custom setting's name on a pooled connection after commit), so '' means
-- unknown everywhere below.

CREATE TABLE audit_log (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    id          bigint GENERATED ALWAYS AS IDENTITY,
    at          timestamptz NOT NULL,
    -- "admin", "key:<id>", or "system" for jobs without a caller.
    actor       text NOT NULL,
    -- The GraphQL mutation (updateTenantSettings), or "<table>.<operation>"
    -- for a change made outside one.
    action      text NOT NULL,
    operation   text NOT NULL CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE', 'EVENT')),
    target_type text NOT NULL, -- the table
    target_id   text NOT NULL, -- the row's key within the tenant (the tenant id for one-row-per-tenant tables)
    -- {"column": {"before": <json>, "after": <json>}}, only the columns that
    -- changed; secrets as "[redacted]".
    changes     jsonb NOT NULL,
    request_id  text,
    client_ip   inet,
    PRIMARY KEY (tenant_id, id)
);
-- Pages read newest first per tenant.
CREATE INDEX audit_log_tenant_at ON audit_log (tenant_id, at DESC, id DESC);
-- The purge looks for old entries across tenants.
CREATE INDEX audit_log_at ON audit_log (at);

-- audit_secret names the columns whose values never enter the log: sealed
-- secrets, key hashes, anything called a secret except the masked hints,
-- tails and timestamps the API shows anyway.
-- +goose StatementBegin
CREATE FUNCTION audit_secret(col text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT col LIKE '%\_sealed' OR col = 'key_hash'
        OR (col LIKE '%secret%' AND col NOT LIKE '%\_hint' AND col NOT LIKE '%\_tail' AND col NOT LIKE '%\_at')
$$;
-- +goose StatementEnd

-- audit_row writes one entry for the row a statement changed. TG_ARGV holds
-- the row's key columns within the tenant (none for one-row-per-tenant
-- tables). An UPDATE that changed nothing but bookkeeping columns writes
-- nothing (API keys' lastUsedAt is written once a minute per key).
-- +goose StatementBegin
CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o jsonb;
    n jsonb;
    r jsonb;
    changes jsonb := '{}';
    col text;
    b jsonb;
    a jsonb;
    target text;
    i int;
BEGIN
    IF current_setting('app.audit_rows', true) = 'off' THEN
        RETURN NULL; -- the transaction writes its own summary (auditEvent)
    END IF;
    IF TG_OP <> 'INSERT' THEN o := to_jsonb(OLD); END IF;
    IF TG_OP <> 'DELETE' THEN n := to_jsonb(NEW); END IF;
    r := COALESCE(n, o);
    FOR col IN SELECT jsonb_object_keys(r) LOOP
        -- Bookkeeping the entry itself records (id, time, actor) or that
        -- changes on every use.
        CONTINUE WHEN col IN ('tenant_id', 'id', 'created_at', 'created_by', 'updated_at', 'updated_by',
            'modified_at', 'modified_by', 'last_used_at');
        b := COALESCE(o -> col, 'null');
        a := COALESCE(n -> col, 'null');
        CONTINUE WHEN b = a;
        IF audit_secret(col) THEN
            IF b <> 'null' THEN b := '"[redacted]"'; END IF;
            IF a <> 'null' THEN a := '"[redacted]"'; END IF;
        END IF;
        changes := changes || jsonb_build_object(col, jsonb_build_object('before', b, 'after', a));
    END LOOP;
    IF changes = '{}' THEN
        RETURN NULL;
    END IF;
    IF TG_NARGS = 0 THEN
        target := r ->> 'tenant_id';
    ELSE
        target := r ->> TG_ARGV[0];
        FOR i IN 1 .. TG_NARGS - 1 LOOP
            target := target || '/' || (r ->> TG_ARGV[i]);
        END LOOP;
    END IF;
    INSERT INTO audit_log (tenant_id, at, actor, action, operation, target_type, target_id, changes, request_id, client_ip)
    VALUES (
        COALESCE(r ->> 'tenant_id', r ->> 'id')::uuid,
        COALESCE(NULLIF(current_setting('app.now', true), '')::timestamptz, now()),
        COALESCE(NULLIF(current_setting('app.actor', true), ''), 'system'),
        COALESCE(NULLIF(current_setting('app.action', true), ''), TG_TABLE_NAME || '.' || lower(TG_OP)),
        TG_OP, TG_TABLE_NAME, target, changes,
        NULLIF(current_setting('app.request_id', true), ''),
        NULLIF(current_setting('app.client_ip', true), '')::inet);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- audit_attach puts audit_row on a table, with its key columns other than
-- tenant_id as the trigger's arguments. A later migration that adds a
-- configuration table calls it: SELECT audit_attach('my_table');
-- +goose StatementBegin
CREATE FUNCTION audit_attach(tbl regclass) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    cols text;
BEGIN
    SELECT string_agg(quote_literal(a.attname), ', ' ORDER BY k.ord) INTO cols
    FROM pg_index x
    CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord)
    JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
    WHERE x.indrelid = tbl AND x.indisprimary AND a.attname <> 'tenant_id';
    EXECUTE format('CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION audit_row(%s)',
        tbl, COALESCE(cols, ''));
END
$$;
-- +goose StatementEnd

-- Every table with a tenant_id, and tenants itself, except high-volume
-- usage data (events and their roll-ups, which recordUsage summarises in one
-- entry of its own) and the log itself.
-- +goose StatementBegin
DO $$
DECLARE
    t text;
BEGIN
    PERFORM audit_attach('tenants');
    FOR t IN
        SELECT c.table_name FROM information_schema.columns c
        JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
        WHERE c.table_schema = current_schema() AND c.column_name = 'tenant_id' AND tb.table_type = 'BASE TABLE'
          AND c.table_name NOT IN ('audit_log', 'usage_events', 'usage_daily', 'usage_daily_users',
              'usage_daily_platforms', 'usage_monthly_users', 'usage_token_types', 'usage_counters')
        ORDER BY c.table_name
    LOOP
        PERFORM audit_attach(t);
    END LOOP;
END
$$;
-- +goose StatementEnd

-- Entries are immutable, enforced here whatever the role: no UPDATE, no
-- TRUNCATE, and a DELETE only of entries older than their tenant's
-- audit_log_retention_days (what Store.PurgeAudit does), checked in the
-- trigger itself, so not even the application can delete a recent entry.
-- +goose StatementBegin
CREATE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.at < now() - make_interval(days => (SELECT s.audit_log_retention_days
                FROM tenant_settings s WHERE s.tenant_id = OLD.tenant_id)) THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit log entries cannot be changed or deleted (% refused): only entries older than their tenant''s audit log retention may be deleted', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_immutable BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_guard();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_guard();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;

-- Idempotency-Key records (httpapi's idempotency middleware): per
-- credential ("admin" or "key:<id>"), kept 24 hours. The response is sealed
-- by the keyring (it may hold a secret shown once, such as a new API key),
-- bound to the credential and the key.
CREATE TABLE idempotency_keys (
    scope           text NOT NULL,
    key             text NOT NULL CHECK (key ~ '^[ -~]{1,255}$'),
    request_hash    bytea NOT NULL CHECK (length(request_hash) = 32),
    -- RUNNING while a request holds the claim, DONE once its response is stored.
    state           text NOT NULL CHECK (state IN ('RUNNING', 'DONE')),
    claim           uuid NOT NULL,      -- the request holding it
    status          int,
    content_type    text,
    response_sealed text,
    created_at      timestamptz NOT NULL,
    claimed_at      timestamptz NOT NULL,
    PRIMARY KEY (scope, key),
    CHECK ((state = 'DONE') = (response_sealed IS NOT NULL))
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
-- The claims whose work committed: the transaction of the mutation itself
-- inserts its claim here, so a retry never runs it again, even when the
-- response was lost with the connection. A table of its own rather than a
-- column: the mutation must not lock the key's row, or a duplicate request
-- would wait for it instead of hearing "in progress".
CREATE TABLE idempotency_applied (
    claim      uuid PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idempotency_applied_created_at ON idempotency_applied (created_at);

-- +goose Down
DROP TABLE idempotency_applied, idempotency_keys;
-- +goose StatementBegin
DO $$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT event_object_table FROM information_schema.triggers
        WHERE trigger_schema = current_schema() AND trigger_name = 'audit' GROUP BY event_object_table
    LOOP
        EXECUTE format('DROP TRIGGER audit ON %I', t);
    END LOOP;
END
$$;
-- +goose StatementEnd
DROP TABLE audit_log;
DROP FUNCTION audit_log_guard(), audit_attach(regclass), audit_row(), audit_secret(text);
