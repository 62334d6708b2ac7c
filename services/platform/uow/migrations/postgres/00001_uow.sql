-- +goose Up
-- Client request ids (AIP-155): the first result of a change is kept so a
-- repeat of the same request returns it instead of applying it again.
CREATE TABLE request_ids (
    method      TEXT NOT NULL,
    caller      TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    response    BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (method, caller, request_id)
);
CREATE INDEX request_ids_created_at_idx ON request_ids (created_at);

-- +goose Down
DROP TABLE request_ids;
