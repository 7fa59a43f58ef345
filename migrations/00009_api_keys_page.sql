-- +goose Up
-- Tenant.apiKeys is a connection, newest first (created_at DESC, id DESC):
-- each page reads its keys from this index, starting at the cursor, and
-- createApiKey counts the tenant's active keys through it, however many
-- revoked and expired keys the tenant keeps.
CREATE INDEX api_keys_tenant_created ON api_keys (tenant_id, created_at DESC, id DESC);

-- +goose Down
DROP INDEX api_keys_tenant_created;
