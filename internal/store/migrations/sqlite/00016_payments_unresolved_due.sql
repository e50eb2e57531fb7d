-- +goose Up
-- By-id statements guarded by "status IN ('pending', 'unknown')" must not be
-- planned through the partial index of unresolved attempts (see the Postgres
-- migration of the same number): only queries that also state
-- "next_check_at >= 0" (true of every row) can use it.
CREATE INDEX payments_unresolved_due ON payments (next_check_at)
    WHERE status IN ('pending', 'unknown') AND next_check_at >= 0;
DROP INDEX payments_unresolved;

-- +goose Down
CREATE INDEX payments_unresolved ON payments (next_check_at) WHERE status IN ('pending', 'unknown');
DROP INDEX payments_unresolved_due;
