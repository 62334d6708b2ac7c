-- +goose Up
-- The cell-key method of disclosure control: per cell, the sum (modulo 256)
-- of the record keys drawn for its people at import. Persons are still not
-- stored; keys add up like counts. Cells imported before this column have
-- no key (NULL): the service draws one, once, when it first loads them.
ALTER TABLE snapshot_cells ADD COLUMN cell_key BIGINT;

-- +goose Down
ALTER TABLE snapshot_cells DROP COLUMN cell_key;
