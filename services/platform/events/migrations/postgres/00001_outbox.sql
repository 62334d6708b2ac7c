-- +goose Up
-- Transactional outbox: rows are written in the same transaction as the
-- state change they describe and relayed to NATS JetStream afterwards.
CREATE TABLE outbox (
    id           TEXT PRIMARY KEY,            -- UUIDv7, also the JetStream Nats-Msg-Id
    seq          BIGSERIAL NOT NULL,          -- relay order
    subject      TEXT NOT NULL,
    type         TEXT NOT NULL,               -- protobuf full name of the payload
    payload      BYTEA NOT NULL,
    headers      TEXT NOT NULL DEFAULT '{}',  -- JSON object of string -> []string (W3C trace context etc.)
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at TIMESTAMPTZ NULL
);

-- The relay's hot path: unpublished rows in seq order.
CREATE INDEX outbox_unpublished_idx ON outbox (seq) WHERE published_at IS NULL;
-- Retention clean-up of published rows.
CREATE INDEX outbox_published_at_idx ON outbox (published_at) WHERE published_at IS NOT NULL;

-- Inbox side: one row per event a consumer has applied, written in the
-- consumer's transaction so redeliveries are skipped.
CREATE TABLE processed_events (
    consumer     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- +goose Down
DROP TABLE processed_events;
DROP TABLE outbox;
