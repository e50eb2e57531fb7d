-- +goose Up
-- A refund whose PG answer was lost is looked up like a charge: it is failed
-- only after several look-ups found nothing, never after one (a PG's lookup
-- index can lag its cancel path).
ALTER TABLE cancellations ADD COLUMN checks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cancellations ADD COLUMN next_check_at INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE cancellations DROP COLUMN next_check_at;
ALTER TABLE cancellations DROP COLUMN checks;
