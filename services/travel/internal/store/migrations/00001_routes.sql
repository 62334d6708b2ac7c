-- +goose Up
-- Portable SQL: the same file runs on PostgreSQL and SQLite. Dates are ISO 8601
-- text, which compares correctly.
CREATE TABLE routes (
    id               TEXT             NOT NULL PRIMARY KEY,
    from_kommun_code TEXT             NOT NULL,
    to_kommun_code   TEXT             NOT NULL,
    valid_from       TEXT             NOT NULL,
    valid_to         TEXT             NOT NULL,
    reason           TEXT             NOT NULL,
    distance_km      DOUBLE PRECISION NOT NULL,
    create_time      TEXT             NOT NULL
);

-- A route is compensated in both directions, so "the routes of a kommun" are
-- those with the kommun at either end. One row per end turns that question
-- into an index lookup instead of an OR over two columns.
CREATE TABLE route_ends (
    kommun_code TEXT NOT NULL,
    route_id    TEXT NOT NULL REFERENCES routes (id),
    PRIMARY KEY (kommun_code, route_id)
);
CREATE INDEX route_ends_route ON route_ends (route_id);

-- +goose Down
DROP TABLE route_ends;
DROP TABLE routes;
