-- +goose Up
-- The audit trail of personal data: append-only, each entry carrying the
-- hash of the one before (audit_head holds the newest, and its row lock
-- orders concurrent appends into one chain). One file for both dialects:
-- BIGINT is a 64-bit integer on both, and seq is always given.
CREATE TABLE audit_log (
    seq        BIGINT PRIMARY KEY,
    at         TEXT NOT NULL,
    subject    TEXT NOT NULL,
    role       TEXT NOT NULL,
    scope      TEXT NOT NULL,
    operation  TEXT NOT NULL,
    resource   TEXT NOT NULL,
    person     TEXT NOT NULL,
    trace_id   TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX audit_log_person_idx ON audit_log (person, seq);
CREATE TABLE audit_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   BIGINT NOT NULL,
    hash  TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

-- +goose Down
DROP TABLE audit_head;
DROP TABLE audit_log;
