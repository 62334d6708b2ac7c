-- +goose Up
-- A route decision covers travel in both directions, so the copy keeps one
-- row per direction. The län of a kommun is the first two digits of its code.
CREATE TABLE route_legs (
    name        TEXT NOT NULL,
    from_kommun TEXT NOT NULL,
    from_lan    TEXT NOT NULL,
    to_kommun   TEXT NOT NULL,
    valid_from  TEXT NOT NULL,
    valid_to    TEXT NOT NULL,
    PRIMARY KEY (name, from_kommun)
);
INSERT INTO route_legs (name, from_kommun, from_lan, to_kommun, valid_from, valid_to)
    SELECT name, from_kommun, from_lan, to_kommun, valid_from, valid_to FROM routes;
INSERT INTO route_legs (name, from_kommun, from_lan, to_kommun, valid_from, valid_to)
    SELECT name, to_kommun, SUBSTR(to_kommun, 1, 2), from_kommun, valid_from, valid_to FROM routes
    WHERE to_kommun <> from_kommun;
DROP TABLE routes;
ALTER TABLE route_legs RENAME TO routes;
CREATE INDEX routes_from ON routes (from_kommun, valid_to);
CREATE INDEX routes_from_lan ON routes (from_lan, valid_to);

-- +goose Down
DELETE FROM routes WHERE from_kommun > to_kommun AND EXISTS (
    SELECT 1 FROM routes r WHERE r.name = routes.name AND r.from_kommun = routes.to_kommun);
