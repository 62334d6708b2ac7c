-- +goose Up
-- The registry: organisers and their contacts, agreements, participation
-- certificates, and the copies kept from other services' events (the target
-- group from statistics, approved routes from travel). Portable SQL as in
-- 00001: dates as ISO 8601 text, lists as comma-separated text.
ALTER TABLE activities ADD COLUMN funding TEXT NOT NULL DEFAULT '';
ALTER TABLE activities ADD COLUMN programme TEXT NOT NULL DEFAULT '';
ALTER TABLE activities ADD COLUMN agreement TEXT NOT NULL DEFAULT '';
ALTER TABLE activities ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE activities ADD COLUMN schedule TEXT NOT NULL DEFAULT '';
-- Languages as ",sv,ar," so that LIKE '%,ar,%' finds one.
ALTER TABLE activities ADD COLUMN languages TEXT NOT NULL DEFAULT '';
-- Ongoing activities per län and kommun (coverage), and by kommun (catalogue, routes).
CREATE INDEX activities_lan_dates ON activities (lan_code, end_date, start_date, kommun_code, capacity);
CREATE INDEX activities_kommun_dates ON activities (kommun_code, end_date, start_date, capacity);
CREATE INDEX activities_start ON activities (lan_code, start_date);

CREATE TABLE organisers (
    org_number   TEXT NOT NULL PRIMARY KEY,
    display_name TEXT NOT NULL,
    kind         TEXT NOT NULL,
    create_time  TEXT NOT NULL,
    update_time  TEXT NOT NULL
);

CREATE TABLE organiser_contacts (
    org_number   TEXT    NOT NULL,
    position     INTEGER NOT NULL,
    role         TEXT    NOT NULL,
    display_name TEXT    NOT NULL,
    email        TEXT    NOT NULL,
    phone        TEXT    NOT NULL,
    -- ",01,03," or '' for every län
    lan_codes    TEXT    NOT NULL,
    PRIMARY KEY (org_number, position)
);

CREATE TABLE agreements (
    lan_code    TEXT NOT NULL,
    id          TEXT NOT NULL,
    org_number  TEXT NOT NULL,
    sign_date   TEXT NOT NULL,
    start_date  TEXT NOT NULL,
    end_date    TEXT NOT NULL,
    ended_date  TEXT NOT NULL,
    description TEXT NOT NULL,
    create_time TEXT NOT NULL,
    PRIMARY KEY (lan_code, id)
);
CREATE INDEX agreements_org ON agreements (org_number, lan_code);

CREATE TABLE certificates (
    org_number     TEXT NOT NULL,
    activity_id    TEXT NOT NULL,
    id             TEXT NOT NULL,
    dossier_number TEXT NOT NULL,
    valid_from     TEXT NOT NULL,
    valid_to       TEXT NOT NULL,
    renews         TEXT NOT NULL,
    renewed_by     TEXT NOT NULL,
    participation  TEXT NOT NULL,
    end_date       TEXT NOT NULL,
    kommun_code    TEXT NOT NULL,
    lan_code       TEXT NOT NULL,
    create_time    TEXT NOT NULL,
    update_time    TEXT NOT NULL,
    PRIMARY KEY (org_number, activity_id, id)
);
CREATE INDEX certificates_lan_valid ON certificates (lan_code, valid_to, valid_from, kommun_code, participation, end_date);
CREATE INDEX certificates_dossier ON certificates (dossier_number);

-- From tia.statistics.SnapshotPublished: adults per kommun per snapshot.
CREATE TABLE snapshots (
    reference_date TEXT NOT NULL PRIMARY KEY,
    publish_time   TEXT NOT NULL
);
CREATE TABLE target_group (
    reference_date TEXT   NOT NULL,
    kommun_code    TEXT   NOT NULL,
    lan_code       TEXT   NOT NULL,
    adults         BIGINT NOT NULL,
    PRIMARY KEY (reference_date, kommun_code)
);
CREATE INDEX target_group_lan ON target_group (reference_date, lan_code);

-- From tia.statistics.ProjectionPublished.
CREATE TABLE projections (
    projection_date TEXT NOT NULL PRIMARY KEY,
    snapshot        TEXT NOT NULL,
    publish_time    TEXT NOT NULL
);
CREATE TABLE projection_totals (
    projection_date TEXT   NOT NULL,
    kommun_code     TEXT   NOT NULL,
    lan_code        TEXT   NOT NULL,
    adults          BIGINT NOT NULL,
    PRIMARY KEY (projection_date, kommun_code)
);
CREATE INDEX projection_totals_lan ON projection_totals (projection_date, lan_code);

-- From tia.travel.RouteDecided / RouteRevoked: approved travel from a kommun
-- to another.
CREATE TABLE routes (
    name        TEXT NOT NULL PRIMARY KEY,
    from_kommun TEXT NOT NULL,
    from_lan    TEXT NOT NULL,
    to_kommun   TEXT NOT NULL,
    valid_from  TEXT NOT NULL,
    valid_to    TEXT NOT NULL
);
CREATE INDEX routes_from ON routes (from_kommun, valid_to);
CREATE INDEX routes_from_lan ON routes (from_lan, valid_to);

-- Scheduled Folkbildningsrådet reports already sent, so each is sent once.
CREATE TABLE report_runs (
    lan_code     TEXT NOT NULL,
    period_start TEXT NOT NULL,
    create_time  TEXT NOT NULL,
    PRIMARY KEY (lan_code, period_start)
);

-- +goose Down
DROP TABLE report_runs;
DROP TABLE routes;
DROP TABLE projection_totals;
DROP TABLE projections;
DROP TABLE target_group;
DROP TABLE snapshots;
DROP TABLE certificates;
DROP TABLE agreements;
DROP TABLE organiser_contacts;
DROP TABLE organisers;
DROP INDEX activities_start;
DROP INDEX activities_kommun_dates;
DROP INDEX activities_lan_dates;
ALTER TABLE activities DROP COLUMN languages;
ALTER TABLE activities DROP COLUMN schedule;
ALTER TABLE activities DROP COLUMN address;
ALTER TABLE activities DROP COLUMN agreement;
ALTER TABLE activities DROP COLUMN programme;
ALTER TABLE activities DROP COLUMN funding;
