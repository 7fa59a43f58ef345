-- +goose NO TRANSACTION
-- +goose Up
-- node(id:) looks an id up in every table whose rows are Nodes (db/node.go).
-- For a caller confined to its tenant the primary keys (tenant_id, id)
-- serve; for the operator and tenant:manage keys, which reach every tenant,
-- the lookup is by id alone. tenants, api_keys, invoices, members and
-- sessions have an index on id already; these are the others. Not unique:
-- the ids are generated UUIDs, and a unique key that does not lead with
-- tenant_id could not be kept once tables are distributed by tenant.
-- CONCURRENTLY: the event and delivery logs can be large, and writes to
-- them go on while the indexes are built.
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_id ON events (id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS webhook_deliveries_id ON webhook_deliveries (id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS credit_grants_id ON credit_grants (id);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS credit_grants_id;
DROP INDEX CONCURRENTLY IF EXISTS webhook_deliveries_id;
DROP INDEX CONCURRENTLY IF EXISTS events_id;
