-- +goose Up
-- The län of a county board's or Migrationsverket's regional inbox, so that
-- Migrationsverket's national view can be filtered by län.
ALTER TABLE messages ADD COLUMN lan TEXT NOT NULL DEFAULT '';
UPDATE messages SET lan = substr(recipient, 18) WHERE recipient LIKE 'migrationsverket-%';
UPDATE messages SET lan = substr(recipient, 14) WHERE recipient LIKE 'lansstyrelse-%';
CREATE INDEX messages_lan ON messages (lan, create_time);
-- Retention finds old messages and finished deliveries by time.
CREATE INDEX messages_created ON messages (create_time);
CREATE INDEX deliveries_finished ON deliveries (state, create_time);

-- The participant contacts organisers keep in the activity registry
-- (OrganiserContactsChanged): the contact directory of each län lists them
-- next to the contacts entered here, so an organiser enters a contact once.
CREATE TABLE registry_contacts (
    lan                TEXT NOT NULL,
    organiser          TEXT NOT NULL,
    position           INTEGER NOT NULL,
    actor_display_name TEXT NOT NULL,
    person_name        TEXT NOT NULL,
    email              TEXT NOT NULL,
    phone              TEXT NOT NULL,
    PRIMARY KEY (lan, organiser, position)
);
-- The registry's version of each organiser's contacts: an older event
-- changes nothing.
CREATE TABLE registry_organisers (
    organiser   TEXT NOT NULL PRIMARY KEY,
    update_time TEXT NOT NULL
);

-- Scheduled jobs that must run once across replicas take a lease here.
CREATE TABLE jobs (
    name        TEXT NOT NULL PRIMARY KEY,
    holder      TEXT NOT NULL,
    lease_until BIGINT NOT NULL,
    last_run    BIGINT NOT NULL
);

-- +goose Down
DROP TABLE jobs;
DROP TABLE registry_organisers;
DROP TABLE registry_contacts;
DROP INDEX deliveries_finished;
DROP INDEX messages_created;
DROP INDEX messages_lan;
ALTER TABLE messages DROP COLUMN lan;
