-- +goose Up
-- How many look-ups past an attempt's deadline found no trace of its charge.
-- Kept apart from checks (every look-up, any answer): only empty look-ups
-- past the deadline may turn an attempt into "never made".
ALTER TABLE payments ADD COLUMN not_seen INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE payments DROP COLUMN not_seen;
