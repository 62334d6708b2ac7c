-- +goose Up
-- Consultations (samråd) before route decisions, claims, payment runs.
-- Portable SQL: the same file runs on PostgreSQL and SQLite. Dates are ISO
-- 8601 text; timestamps RFC 3339 UTC text with a fixed width, which sorts.
ALTER TABLE routes ADD COLUMN revoked_from TEXT NOT NULL DEFAULT '';
ALTER TABLE routes ADD COLUMN consultation TEXT NOT NULL DEFAULT '';

CREATE TABLE consultations (
    id          TEXT NOT NULL PRIMARY KEY,
    state       TEXT NOT NULL,
    deadline    TEXT NOT NULL,
    description TEXT NOT NULL,
    proposals   TEXT NOT NULL, -- JSON array of the proposed routes
    lan_codes   TEXT NOT NULL, -- ",01,25," so that a län is a LIKE '%,25,%'
    decision    TEXT NOT NULL DEFAULT '', -- JSON, once decided
    create_time TEXT NOT NULL
);

CREATE TABLE consultation_responses (
    id              TEXT NOT NULL PRIMARY KEY,
    consultation_id TEXT NOT NULL REFERENCES consultations (id),
    stance          INTEGER NOT NULL,
    comment         TEXT NOT NULL,
    respondent      TEXT NOT NULL,
    lan_code        TEXT NOT NULL,
    org_number      TEXT NOT NULL,
    create_time     TEXT NOT NULL
);
CREATE INDEX consultation_responses_parent ON consultation_responses (consultation_id, id);

CREATE TABLE claims (
    id               TEXT    NOT NULL PRIMARY KEY,
    dossier          TEXT    NOT NULL,
    trip_date        TEXT    NOT NULL,
    from_kommun_code TEXT    NOT NULL,
    to_kommun_code   TEXT    NOT NULL,
    activity         TEXT    NOT NULL,
    certificate      TEXT    NOT NULL,
    distance_km      DOUBLE PRECISION NOT NULL,
    cost_ore         BIGINT  NOT NULL,
    ticket_type      INTEGER NOT NULL,
    state            TEXT    NOT NULL,
    reasons          TEXT    NOT NULL, -- reason codes, comma-separated
    decision_reason  TEXT    NOT NULL,
    lan_code         TEXT    NOT NULL,
    request_id       TEXT    NOT NULL,
    submit_time      TEXT    NOT NULL,
    decide_time      TEXT    NOT NULL,
    pay_time         TEXT    NOT NULL,
    payment_run      TEXT    NOT NULL
);
-- A retried submission (same dossier, same request id) finds the first.
CREATE UNIQUE INDEX claims_request ON claims (dossier, request_id) WHERE request_id <> '';
-- Duplicate trips: the same person, day and direction.
CREATE INDEX claims_trip ON claims (dossier, trip_date, from_kommun_code, to_kommun_code);
-- Review queue, pending re-checks and payment runs read by state.
CREATE INDEX claims_state ON claims (state, id);
CREATE INDEX claims_lan ON claims (lan_code, id);
CREATE INDEX claims_certificate ON claims (certificate);

-- Participation that ended, from tia.activity.ParticipationEnded.
CREATE TABLE participation_ends (
    certificate TEXT NOT NULL PRIMARY KEY,
    dossier     TEXT NOT NULL,
    activity    TEXT NOT NULL,
    end_date    TEXT NOT NULL,
    outcome     INTEGER NOT NULL
);

CREATE TABLE payment_runs (
    id            TEXT   NOT NULL PRIMARY KEY,
    state         TEXT   NOT NULL,
    request_id    TEXT   NOT NULL,
    claim_count   BIGINT NOT NULL,
    total_ore     BIGINT NOT NULL,
    create_time   TEXT   NOT NULL,
    complete_time TEXT   NOT NULL
);
-- At most one run at a time.
CREATE UNIQUE INDEX payment_runs_running ON payment_runs (state) WHERE state = 'RUNNING';
CREATE UNIQUE INDEX payment_runs_request ON payment_runs (request_id) WHERE request_id <> '';

-- One payment per claim, ever: the constraint that makes runs exactly-once.
CREATE TABLE payments (
    claim_id    TEXT   NOT NULL PRIMARY KEY REFERENCES claims (id),
    run_id      TEXT   NOT NULL REFERENCES payment_runs (id),
    amount_ore  BIGINT NOT NULL,
    dossier     TEXT   NOT NULL,
    trip_date   TEXT   NOT NULL,
    paid_time   TEXT   NOT NULL
);
CREATE INDEX payments_run ON payments (run_id, claim_id);

-- +goose Down
DROP TABLE payments;
DROP TABLE payment_runs;
DROP TABLE participation_ends;
DROP TABLE claims;
DROP TABLE consultation_responses;
DROP TABLE consultations;
ALTER TABLE routes DROP COLUMN consultation;
ALTER TABLE routes DROP COLUMN revoked_from;
