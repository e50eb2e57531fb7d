-- +goose Up
-- Webhook delivery state lives on the outbox row itself (status, attempts,
-- next_attempt_at); these columns add what the worker and operators need.
--   body_format: '' = the payload is a v1 field map encoded per the merchant's
--     webhook_format; 'json' or 'form' = the payload column is the exact body
--     to send (later dialects, e.g. v3 {"deposit_id": 3000000001}).
--   retry_base: attempts already made when the event was last (re)queued by
--     an operator, so a resend gets a fresh retry schedule.
--   leased_until: set while a worker is delivering; a crashed worker's lease
--     simply runs out and the event is claimed again.
ALTER TABLE events ADD COLUMN body_format TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN retry_base INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN leased_until INTEGER NOT NULL DEFAULT 0;
-- Failed events are few and looked at together (resend-failed, the queue
-- depth gauge); pending ones already have events_due.
CREATE INDEX events_failed ON events (merchant_id, created_at) WHERE status = 'failed';

-- One row per delivery attempt: the operator's delivery log.
CREATE TABLE webhook_attempts (
    id          INTEGER PRIMARY KEY,
    event_id    TEXT    NOT NULL REFERENCES events(id),
    merchant_id INTEGER NOT NULL,
    attempt_no  INTEGER NOT NULL,
    url         TEXT    NOT NULL,
    status_code INTEGER NOT NULL DEFAULT 0,
    latency_us  INTEGER NOT NULL DEFAULT 0,
    error       TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_by_event ON webhook_attempts (merchant_id, event_id, id);

-- Standard Webhooks signing secrets, sealed by the vault. expires_at = 0 is
-- the current secret; a rotated-out secret keeps signing until expires_at.
CREATE TABLE webhook_secrets (
    merchant_id INTEGER NOT NULL REFERENCES merchants(id),
    id          TEXT    NOT NULL,
    cipher      BLOB    NOT NULL,
    key_id      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (merchant_id, id)
);
-- Lazily creating the first secret races across nodes; the index lets only
-- one current secret exist per merchant.
CREATE UNIQUE INDEX webhook_secrets_current ON webhook_secrets (merchant_id) WHERE expires_at = 0;

CREATE TABLE webhook_settings (
    merchant_id INTEGER PRIMARY KEY REFERENCES merchants(id),
    profile     TEXT    NOT NULL DEFAULT 'default',
    updated_at  INTEGER NOT NULL
);

-- +goose Down
DROP TABLE webhook_settings;
DROP TABLE webhook_secrets;
DROP TABLE webhook_attempts;
DROP INDEX events_failed;
ALTER TABLE events DROP COLUMN leased_until;
ALTER TABLE events DROP COLUMN retry_base;
ALTER TABLE events DROP COLUMN body_format;
