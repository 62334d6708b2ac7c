-- +goose Up
-- Retention: the pruner deletes processed event ids by age.
CREATE INDEX processed_events_processed_at_idx ON processed_events (processed_at);

-- +goose Down
DROP INDEX processed_events_processed_at_idx;
