-- +goose Up
-- The hourly prune of usage event ids (Store.PruneUsageEvents) finds the
-- old ones by occurred_at. A BRIN index summarizes each range of table
-- blocks by its smallest and largest occurred_at: events are recorded in
-- roughly the order they occur (at most 35 days late), so the prune reads
-- only the old blocks, and the index costs recordUsage almost nothing.
CREATE INDEX usage_events_occurred_at ON usage_events USING brin (occurred_at);

-- +goose Down
DROP INDEX usage_events_occurred_at;
