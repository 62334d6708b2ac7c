-- +goose Up
-- Planned changes to the target group (an accommodation opening or closing)
-- that Migrationsverket registers; projections add them to the latest
-- snapshot. Dates are ISO 8601 text.
CREATE TABLE planned_changes (
    id             TEXT   NOT NULL PRIMARY KEY,
    kommun_code    TEXT   NOT NULL,
    lan_code       TEXT   NOT NULL,
    housing_type   TEXT   NOT NULL,
    effective_date TEXT   NOT NULL,
    adults_delta   BIGINT NOT NULL,
    description    TEXT   NOT NULL,
    create_time    TEXT   NOT NULL
);
CREATE INDEX planned_changes_date ON planned_changes (effective_date);

-- +goose Down
DROP TABLE planned_changes;
