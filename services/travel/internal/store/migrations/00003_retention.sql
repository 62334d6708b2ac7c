-- +goose Up
-- Organisers invited to a consultation (besides those active in the
-- kommuner concerned), comma-separated names.
ALTER TABLE consultations ADD COLUMN invited TEXT NOT NULL DEFAULT '';

-- Claims past the retention window lose their dossier number; the job
-- finds them by submission time.
CREATE INDEX claims_submit ON claims (submit_time);

-- Leases of scheduled jobs: one replica at a time runs a job, the one
-- holding its row until the lease ends.
CREATE TABLE job_leases (
    name   TEXT NOT NULL PRIMARY KEY,
    holder TEXT NOT NULL,
    until  TEXT NOT NULL, -- RFC 3339 UTC, fixed width
    last_run TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE job_leases;
DROP INDEX claims_submit;
ALTER TABLE consultations DROP COLUMN invited;
