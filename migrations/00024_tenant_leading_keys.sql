-- +goose Up
-- Every unique key of a table holding tenant data leads with tenant_id
-- (TestTenantKeysLeadWithTenantID; docs/scaling.md, Outgrowing one
-- PostgreSQL): such a key is checked within one tenant, which is what a
-- database sharded by tenant (Citus) can enforce.
--
-- These four unique indexes on id alone served the lookups of an object by
-- its id before its tenant is known (an operator's node(id:), revokeApiKey,
-- an invoice's PDF link, a member or session by id); their uniqueness added
-- nothing: ids are random UUIDs (gen_random_uuid), and each table's primary
-- key (tenant_id, id) already holds them unique within their tenant. The
-- lookups keep an index on id, no longer unique.
CREATE INDEX api_keys_by_id ON api_keys (id);
DROP INDEX api_keys_id;
CREATE INDEX invoices_by_id ON invoices (id);
DROP INDEX invoices_id;
CREATE INDEX members_by_id ON members (id);
DROP INDEX members_id;
CREATE INDEX sessions_by_id ON sessions (id);
DROP INDEX sessions_id;

-- +goose Down
CREATE UNIQUE INDEX sessions_id ON sessions (id);
DROP INDEX sessions_by_id;
CREATE UNIQUE INDEX members_id ON members (id);
DROP INDEX members_by_id;
CREATE UNIQUE INDEX invoices_id ON invoices (id);
DROP INDEX invoices_by_id;
CREATE UNIQUE INDEX api_keys_id ON api_keys (id);
DROP INDEX api_keys_by_id;
