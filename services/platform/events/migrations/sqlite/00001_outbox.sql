-- +goose Up
-- Transactional outbox: rows are written in the same transaction as the
-- state change they describe and relayed to NATS JetStream afterwards.
--
-- SQLite only auto-increments an INTEGER PRIMARY KEY, so here seq is the
-- primary key and id (the UUIDv7 event id) is UNIQUE. The columns and their
-- meaning are the same as on PostgreSQL. AUTOINCREMENT guarantees seq is
-- never reused, even after the retention clean-up deleted the newest rows.
-- Timestamps are UTC text in a format SQLite's date functions understand.
CREATE TABLE outbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    subject      TEXT NOT NULL,
    type         TEXT NOT NULL,
    payload      BLOB NOT NULL,
    headers      TEXT NOT NULL DEFAULT '{}',
    created_at   TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    published_at TIMESTAMP NULL
);

CREATE INDEX outbox_unpublished_idx ON outbox (seq) WHERE published_at IS NULL;
CREATE INDEX outbox_published_at_idx ON outbox (published_at) WHERE published_at IS NOT NULL;

CREATE TABLE processed_events (
    consumer     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    processed_at TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    PRIMARY KEY (consumer, event_id)
);

-- +goose Down
DROP TABLE processed_events;
DROP TABLE outbox;
