-- +goose Up
-- One organization may run one tenant per environment (reference 004:
-- development, QA, production) under the same domain: a tenant has an
-- environment, chosen at creation and fixed afterwards (no mutation writes
-- it), and the uniqueness rule becomes (domain, environment). Existing
-- tenants are PRODUCTION. As before, a soft-deleted tenant keeps its pair
-- until it is purged, so it can still be restored.
ALTER TABLE tenants ADD COLUMN environment text NOT NULL DEFAULT 'PRODUCTION'
    CHECK (environment IN ('DEVELOPMENT', 'QA', 'PRODUCTION'));
CREATE UNIQUE INDEX tenants_domain_environment_key ON tenants (domain, environment);
DROP INDEX tenants_domain_key;

-- +goose Down
-- Fails while two tenants share a domain: delete or rename one first.
CREATE UNIQUE INDEX tenants_domain_key ON tenants (domain);
DROP INDEX tenants_domain_environment_key;
ALTER TABLE tenants DROP COLUMN environment;
