-- +goose Up
-- Portable SQL: the same file runs on PostgreSQL and SQLite. Reference dates
-- are ISO 8601 text, which compares correctly; the dimensions are stored as
-- short codes ("ABE", "kvinna", "18-24"). BIGINT is a 64-bit integer on both.
CREATE TABLE snapshots (
    reference_date TEXT   NOT NULL PRIMARY KEY,
    cell_count     BIGINT NOT NULL,
    total          BIGINT NOT NULL,
    import_time    TEXT   NOT NULL
);

-- One row per combination of dimensions. lan_code is derived from the kommun
-- at import and kept here so that filtering and grouping by län need no
-- lookup.
CREATE TABLE snapshot_cells (
    reference_date TEXT   NOT NULL REFERENCES snapshots (reference_date),
    kommun_code    TEXT   NOT NULL,
    lan_code       TEXT   NOT NULL,
    housing_type   TEXT   NOT NULL,
    sex            TEXT   NOT NULL,
    age_band       TEXT   NOT NULL,
    adults         BIGINT NOT NULL,
    PRIMARY KEY (reference_date, kommun_code, housing_type, sex, age_band)
);
CREATE INDEX snapshot_cells_lan ON snapshot_cells (reference_date, lan_code);

-- +goose Down
DROP TABLE snapshot_cells;
DROP TABLE snapshots;
