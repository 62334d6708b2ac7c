-- +goose Up
-- Whether ActivityStarted has been published for an activity (1) or not (0).
-- Claimed with an UPDATE ... WHERE started_announced = 0, so that each start
-- is announced once however many replicas run.
ALTER TABLE activities ADD COLUMN started_announced INTEGER NOT NULL DEFAULT 0;
CREATE INDEX activities_due_start ON activities (started_announced, start_date);

-- +goose Down
DROP INDEX activities_due_start;
ALTER TABLE activities DROP COLUMN started_announced;
