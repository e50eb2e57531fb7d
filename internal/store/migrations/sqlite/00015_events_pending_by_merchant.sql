-- +goose Up
-- The webhook worker finds due events merchant by merchant (see DueEvents):
-- with one index over all pending events in due order, skipping a merchant
-- whose receiver already had its share meant reading that merchant's whole
-- backlog on every claim pass.
CREATE INDEX events_pending_by_merchant ON events (merchant_id, next_attempt_at) WHERE status = 'pending';
DROP INDEX events_due;

-- +goose Down
CREATE INDEX events_due ON events (next_attempt_at) WHERE status = 'pending';
DROP INDEX events_pending_by_merchant;
