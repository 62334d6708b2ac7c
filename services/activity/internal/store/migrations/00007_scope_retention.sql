-- +goose Up
-- The county board that registered an organiser: a county board changes only
-- organisers of its own län (issue 11.4), and one it registered is one of
-- them until the organiser has activities, agreements or contacts there.
ALTER TABLE organisers ADD COLUMN registered_by_lan TEXT NOT NULL DEFAULT '';
-- The retention job finds certificates that still hold a dossier number
-- through their activity's last day.
CREATE INDEX activities_end ON activities (end_date);

-- +goose Down
DROP INDEX activities_end;
ALTER TABLE organisers DROP COLUMN registered_by_lan;
