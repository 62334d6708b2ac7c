-- +goose Up
-- The language a message was written in.
ALTER TABLE messages ADD COLUMN language TEXT NOT NULL DEFAULT 'sv';

-- One row per message per channel target (an email address, a webhook),
-- written in the same transaction as the message; the dispatcher sends it
-- until it is delivered or dead-lettered. next_attempt_ms is Unix
-- milliseconds: due rows are found by comparing integers.
CREATE TABLE deliveries (
    id              TEXT NOT NULL PRIMARY KEY,
    recipient       TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    channel         TEXT NOT NULL,
    target          TEXT NOT NULL,
    webhook_id      TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms BIGINT NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    deliver_time    TEXT,
    dead_time       TEXT,
    create_time     TEXT NOT NULL,
    UNIQUE (recipient, message_id, channel, target)
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_ms);
CREATE INDEX deliveries_message ON deliveries (recipient, message_id);

-- A recipient's channels and language per topic.
CREATE TABLE subscriptions (
    recipient     TEXT NOT NULL,
    topic         TEXT NOT NULL,
    channels      TEXT NOT NULL,
    language      TEXT NOT NULL,
    email_address TEXT NOT NULL,
    PRIMARY KEY (recipient, topic)
);

CREATE TABLE webhooks (
    recipient   TEXT NOT NULL,
    id          TEXT NOT NULL,
    url         TEXT NOT NULL,
    description TEXT NOT NULL,
    secret      TEXT NOT NULL,
    create_time TEXT NOT NULL,
    PRIMARY KEY (recipient, id)
);

-- The regional forum of each län.
CREATE TABLE forum_members (
    lan          TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    display_name TEXT NOT NULL,
    create_time  TEXT NOT NULL,
    PRIMARY KEY (lan, recipient)
);

-- Forum meetings; agenda and feedback are JSON arrays. Times are UTC
-- 'YYYY-MM-DDTHH:MM:SSZ', which sorts as text.
CREATE TABLE meetings (
    lan         TEXT NOT NULL,
    id          TEXT NOT NULL,
    title       TEXT NOT NULL,
    level       INTEGER NOT NULL,
    start_time  TEXT NOT NULL,
    end_time    TEXT NOT NULL,
    location    TEXT NOT NULL,
    agenda      TEXT NOT NULL,
    minutes     TEXT NOT NULL,
    feedback    TEXT NOT NULL,
    create_time TEXT NOT NULL,
    update_time TEXT NOT NULL,
    PRIMARY KEY (lan, id)
);
CREATE INDEX meetings_start ON meetings (lan, start_time);

-- Whom to contact at each actor in each län.
CREATE TABLE contacts (
    lan                TEXT NOT NULL,
    id                 TEXT NOT NULL,
    actor              TEXT NOT NULL,
    actor_display_name TEXT NOT NULL,
    purpose            TEXT NOT NULL,
    person_name        TEXT NOT NULL,
    email              TEXT NOT NULL,
    phone              TEXT NOT NULL,
    is_public          INTEGER NOT NULL,
    create_time        TEXT NOT NULL,
    PRIMARY KEY (lan, id)
);

-- This service's own copy of the activities it learnt of, for the public
-- feed per kommun, and of which organisers are active in which län, for
-- routing.
CREATE TABLE feed_activities (
    name         TEXT NOT NULL PRIMARY KEY,
    kommun_code  TEXT NOT NULL,
    lan_code     TEXT NOT NULL,
    title        TEXT NOT NULL,
    focus        TEXT NOT NULL,
    capacity     INTEGER NOT NULL,
    start_date   TEXT NOT NULL,
    end_date     TEXT NOT NULL,
    publish_time TEXT NOT NULL
);
CREATE INDEX feed_activities_kommun ON feed_activities (kommun_code, publish_time);

CREATE TABLE active_organisers (
    lan       TEXT NOT NULL,
    recipient TEXT NOT NULL,
    PRIMARY KEY (lan, recipient)
);

-- +goose Down
DROP TABLE active_organisers;
DROP TABLE feed_activities;
DROP TABLE contacts;
DROP TABLE meetings;
DROP TABLE forum_members;
DROP TABLE webhooks;
DROP TABLE subscriptions;
DROP TABLE deliveries;
ALTER TABLE messages DROP COLUMN language;
