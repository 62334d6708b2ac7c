-- +goose Up
-- How often Folkbildningsrådet's report goes to each county board; a län
-- without a row gets it monthly.
CREATE TABLE report_schedules (
    lan_code    TEXT NOT NULL PRIMARY KEY,
    frequency   TEXT NOT NULL,
    update_time TEXT NOT NULL
);

-- +goose Down
DROP TABLE report_schedules;
