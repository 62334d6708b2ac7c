-- +goose Up
-- Facts about the registry itself, e.g. the day the report scheduler first
-- ran (reports cover only periods the registry was running for).
CREATE TABLE registry_state (
    name  TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);

-- +goose Down
DROP TABLE registry_state;
