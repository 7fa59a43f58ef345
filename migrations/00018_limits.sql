-- +goose Up
-- Limits enforced and meters that move (issue 15 §1): the distinct named
-- tokens of each month (monthly active tokens), and the request ids of
-- capacity reservations (reserveCapacity), kept for a week so a retry gets
-- the first answer.

-- The distinct tokens (UsageEventInput.tokenId) seen per tenant per
-- calendar month. Events with a tokenType and no tokenId are still counted
-- in usage_daily.tokenized, each as a token of its own.
CREATE TABLE usage_monthly_tokens (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    month     date NOT NULL CHECK (extract(day FROM month) = 1),
    token_id  text NOT NULL CHECK (char_length(token_id) BETWEEN 1 AND 100),
    PRIMARY KEY (tenant_id, month, token_id)
);

-- One row per reserveCapacity request id: what it asked and the answer it
-- got (used and limit after it). A refused request leaves no row, so it
-- can be retried.
CREATE TABLE capacity_requests (
    tenant_id  uuid NOT NULL REFERENCES tenants (id),
    request_id text NOT NULL CHECK (char_length(request_id) BETWEEN 1 AND 100),
    resource   text NOT NULL CHECK (resource IN ('POLICIES', 'WATCHLIST_SUBJECTS')),
    quantity   int NOT NULL CHECK (quantity <> 0),
    used       int NOT NULL CHECK (used >= 0),
    lim        int, -- NULL = unlimited
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, request_id)
);
CREATE INDEX capacity_requests_created_at ON capacity_requests USING brin (created_at);

-- +goose Down
DROP TABLE capacity_requests, usage_monthly_tokens;
