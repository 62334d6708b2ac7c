-- +goose Up
-- snapshot_cells is written in bulk, some 10,000 rows an import, by one
-- statement of the store (Replace) that writes the snapshot's header first in
-- the same transaction; snapshots are never deleted. Two things cost every
-- import without serving anyone:
--   - the foreign key to snapshots, checked row by row (on PostgreSQL a third
--     of an import of a million people);
--   - the index on (reference_date, lan_code), which no query of the service
--     uses: the service answers from the whole grid of a date, read through
--     the primary key's reference_date prefix.
-- The table is rebuilt without them (SQLite cannot drop a constraint; the
-- same statements run on both databases).
CREATE TABLE snapshot_cells_bulk (
    reference_date TEXT   NOT NULL,
    kommun_code    TEXT   NOT NULL,
    lan_code       TEXT   NOT NULL,
    housing_type   TEXT   NOT NULL,
    sex            TEXT   NOT NULL,
    age_band       TEXT   NOT NULL,
    adults         BIGINT NOT NULL,
    cell_key       BIGINT,
    PRIMARY KEY (reference_date, kommun_code, housing_type, sex, age_band)
);
INSERT INTO snapshot_cells_bulk (reference_date, kommun_code, lan_code, housing_type, sex, age_band, adults, cell_key)
    SELECT reference_date, kommun_code, lan_code, housing_type, sex, age_band, adults, cell_key FROM snapshot_cells;
DROP TABLE snapshot_cells;
ALTER TABLE snapshot_cells_bulk RENAME TO snapshot_cells;

-- +goose Down
CREATE TABLE snapshot_cells_checked (
    reference_date TEXT   NOT NULL REFERENCES snapshots (reference_date),
    kommun_code    TEXT   NOT NULL,
    lan_code       TEXT   NOT NULL,
    housing_type   TEXT   NOT NULL,
    sex            TEXT   NOT NULL,
    age_band       TEXT   NOT NULL,
    adults         BIGINT NOT NULL,
    cell_key       BIGINT,
    PRIMARY KEY (reference_date, kommun_code, housing_type, sex, age_band)
);
INSERT INTO snapshot_cells_checked (reference_date, kommun_code, lan_code, housing_type, sex, age_band, adults, cell_key)
    SELECT reference_date, kommun_code, lan_code, housing_type, sex, age_band, adults, cell_key FROM snapshot_cells;
DROP TABLE snapshot_cells;
ALTER TABLE snapshot_cells_checked RENAME TO snapshot_cells;
CREATE INDEX snapshot_cells_lan ON snapshot_cells (reference_date, lan_code);
