-- +goose NO TRANSACTION
-- +goose Up
-- The webhook worker finds due events merchant by merchant (see DueEvents):
-- with one index over all pending events in due order, skipping a merchant
-- whose receiver already had its share meant reading that merchant's whole
-- backlog on every claim pass. Built CONCURRENTLY so that an upgrade does
-- not block outbox writes (every charge writes one) while it runs; an
-- INVALID leftover of an interrupted run is dropped first.
DROP INDEX CONCURRENTLY IF EXISTS events_pending_by_merchant;
CREATE INDEX CONCURRENTLY events_pending_by_merchant ON events (merchant_id, next_attempt_at) WHERE status = 'pending';
DROP INDEX CONCURRENTLY IF EXISTS events_due;

-- +goose Down
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_due ON events (next_attempt_at) WHERE status = 'pending';
DROP INDEX CONCURRENTLY IF EXISTS events_pending_by_merchant;
