-- +goose Up
-- The X-Request-Id of the API request that caused an event ('' for work of
-- the scheduler or the reconciler): deliveries carry it so that a merchant can
-- follow a payment from their call to their receiver.
ALTER TABLE events ADD COLUMN request_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE events DROP COLUMN request_id;
