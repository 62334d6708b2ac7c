-- +goose Up
-- Portable SQL: the same file runs on PostgreSQL and SQLite. Dates are ISO 8601
-- text, which compares correctly; focus is a comma-separated list of codes.
CREATE TABLE activities (
    org_number  TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    kommun_code TEXT    NOT NULL,
    lan_code    TEXT    NOT NULL,
    focus       TEXT    NOT NULL,
    capacity    INTEGER NOT NULL,
    start_date  TEXT    NOT NULL,
    end_date    TEXT    NOT NULL,
    create_time TEXT    NOT NULL,
    update_time TEXT    NOT NULL,
    PRIMARY KEY (org_number, id)
);
CREATE INDEX activities_kommun ON activities (kommun_code, org_number, id);
CREATE INDEX activities_lan ON activities (lan_code, org_number, id);

-- +goose Down
DROP TABLE activities;
