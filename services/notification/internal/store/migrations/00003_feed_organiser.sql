-- +goose Up
-- The organiser of each activity in the feed, so that the organisers active
-- in a län are found from the activities without a row of their own.
ALTER TABLE feed_activities ADD COLUMN organiser TEXT NOT NULL DEFAULT '';
CREATE INDEX feed_activities_organiser ON feed_activities (lan_code, organiser);

-- +goose Down
DROP INDEX feed_activities_organiser;
ALTER TABLE feed_activities DROP COLUMN organiser;
