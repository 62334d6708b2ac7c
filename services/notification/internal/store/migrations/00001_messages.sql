-- +goose Up
-- One row per recipient per event: the unique key makes a redelivered event
-- harmless even if the consumer's own bookkeeping were lost.
CREATE TABLE messages (
    recipient        TEXT NOT NULL,
    id               TEXT NOT NULL,
    topic            TEXT NOT NULL,
    title            TEXT NOT NULL,
    body             TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    subject_resource TEXT NOT NULL,
    create_time      TEXT NOT NULL,
    read_time        TEXT,
    PRIMARY KEY (recipient, id),
    UNIQUE (recipient, event_id)
);
CREATE INDEX messages_inbox ON messages (recipient, create_time);

-- +goose Down
DROP TABLE messages;
