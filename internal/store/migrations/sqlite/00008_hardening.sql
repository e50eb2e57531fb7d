-- +goose Up
-- D24 replay guard: every accepted (X-Login, X-Date, signature) until its
-- X-Date leaves the accepted window, shared by all nodes.
CREATE TABLE d24_seen (
    fingerprint TEXT    PRIMARY KEY,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX d24_seen_expires ON d24_seen (expires_at);

-- X-Idempotency-Key: the node holding an unanswered claim, so that a claim
-- taken over after its lease cannot be completed by the node that lost it.
ALTER TABLE idempotency_keys ADD COLUMN claim_token TEXT NOT NULL DEFAULT '';
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Payment-window sessions, so that any node serves any step of a window.
CREATE TABLE checkout_sessions (
    id          TEXT    PRIMARY KEY,
    merchant_id INTEGER NOT NULL,
    csrf        TEXT    NOT NULL,
    params      BLOB   NOT NULL,
    state       INTEGER NOT NULL DEFAULT 0,
    attempts    INTEGER NOT NULL DEFAULT 0,
    result      BLOB,
    lease_until INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX checkout_sessions_expires ON checkout_sessions (expires_at);

-- +goose Down
DROP TABLE checkout_sessions;
DROP INDEX idempotency_keys_created;
ALTER TABLE idempotency_keys DROP COLUMN claim_token;
DROP TABLE d24_seen;
