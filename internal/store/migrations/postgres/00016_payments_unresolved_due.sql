-- +goose NO TRANSACTION
-- +goose Up
-- Statements that address one payment by id and guard on its status
-- ("AND status IN ('pending', 'unknown')": settle, mark unknown, the
-- reconciler's updates) could be planned through the partial index of
-- unresolved attempts, whose predicate they imply. With statistics from a
-- quiet moment that index looks nearly empty, so the planner preferred it
-- to the primary key, and every settlement read it from its start, dead
-- entries of the attempts settled since the last vacuum included. The extra
-- term "next_check_at >= 0" (true of every row) is implied only by queries
-- that state it: the reconciler's claim and the backlog count do; by-id
-- statements do not, so they use the key. Built CONCURRENTLY so that an
-- upgrade does not block charges while it runs.
DROP INDEX CONCURRENTLY IF EXISTS payments_unresolved_due;
CREATE INDEX CONCURRENTLY payments_unresolved_due ON payments (next_check_at)
    WHERE status IN ('pending', 'unknown') AND next_check_at >= 0;
DROP INDEX CONCURRENTLY IF EXISTS payments_unresolved;

-- +goose Down
CREATE INDEX CONCURRENTLY IF NOT EXISTS payments_unresolved ON payments (next_check_at) WHERE status IN ('pending', 'unknown');
DROP INDEX CONCURRENTLY IF EXISTS payments_unresolved_due;
