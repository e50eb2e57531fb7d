-- +goose Up
-- The OneKey/D24 Subscriptions API v3 on the same core: a subscription books
-- its renewals as rows of the schedules table (subscription_id set), each
-- execution is a core payment, and a deposit is that payment seen through
-- the v3 lens.

-- Which dialect's notification a payment's outcome fires: 'v1' (imp_uid,
-- merchant_uid, status) or 'v3' ({deposit_id}, written by the subscription
-- engine in the same transaction).
ALTER TABLE payments ADD COLUMN notify TEXT NOT NULL DEFAULT 'v1';
ALTER TABLE schedules ADD COLUMN subscription_id INTEGER NOT NULL DEFAULT 0;
-- Per-event retry profile (v3 notifications retry 5/25/125/625 minutes
-- whatever the merchant's v1 setting).
ALTER TABLE events ADD COLUMN profile TEXT NOT NULL DEFAULT '';

-- D24 credentials: X-Login and the API signature secret. The secret must be
-- usable to verify signatures, so it is sealed by the vault, not hashed.
CREATE TABLE d24_credentials (
    merchant_id   INTEGER PRIMARY KEY REFERENCES merchants(id),
    x_login       TEXT    NOT NULL UNIQUE,
    secret_cipher BLOB    NOT NULL,
    secret_key_id TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE subscriptions (
    id               INTEGER PRIMARY KEY,
    merchant_id      INTEGER NOT NULL REFERENCES merchants(id),
    invoice_id       TEXT    NOT NULL,
    flow             TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    amount           INTEGER NOT NULL,
    currency         TEXT    NOT NULL,
    country          TEXT    NOT NULL,
    description      TEXT    NOT NULL DEFAULT '',
    payer            TEXT    NOT NULL DEFAULT '{}',
    plan             TEXT    NOT NULL,
    plan_unit        INTEGER NOT NULL,
    auto_renewal     INTEGER NOT NULL,
    start_date       TEXT    NOT NULL,
    charge_time      INTEGER NOT NULL,
    time_zone        TEXT    NOT NULL,
    customer_uid     TEXT    NOT NULL DEFAULT '',
    notification_url TEXT    NOT NULL DEFAULT '',
    back_url         TEXT    NOT NULL DEFAULT '',
    success_url      TEXT    NOT NULL DEFAULT '',
    error_url        TEXT    NOT NULL DEFAULT '',
    client_ip        TEXT    NOT NULL DEFAULT '',
    checkout_token   TEXT    NOT NULL DEFAULT '',
    checkout_expires INTEGER NOT NULL DEFAULT 0,
    -- Billing periods charged successfully and the failed tries of the
    -- period being charged now (dunning).
    periods_paid     INTEGER NOT NULL DEFAULT 0,
    tries            INTEGER NOT NULL DEFAULT 0,
    end_at           INTEGER NOT NULL DEFAULT 0,
    cancelled_at     INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (merchant_id, invoice_id)
);
CREATE UNIQUE INDEX subscriptions_checkout ON subscriptions (checkout_token) WHERE checkout_token <> '';

CREATE TABLE deposits (
    id              INTEGER PRIMARY KEY,
    merchant_id     INTEGER NOT NULL REFERENCES merchants(id),
    subscription_id INTEGER NOT NULL REFERENCES subscriptions(id),
    period          INTEGER NOT NULL,
    try             INTEGER NOT NULL,
    imp_uid         TEXT    NOT NULL UNIQUE,
    status          TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
-- One completed charge per subscription per period, enforced by the store
-- (the payments order index already allows one paid attempt per
-- merchant_uid, and each period has its own merchant_uid).
CREATE UNIQUE INDEX deposits_one_per_period ON deposits (subscription_id, period) WHERE status = 'COMPLETED';
CREATE INDEX deposits_by_subscription ON deposits (merchant_id, subscription_id, id);

-- X-Idempotency-Key: the first response to a POST, replayed for 24 hours.
CREATE TABLE idempotency_keys (
    merchant_id  INTEGER NOT NULL,
    idem_key     TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    status_code  INTEGER NOT NULL DEFAULT 0,
    body         BLOB,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, idem_key)
);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE deposits;
DROP TABLE subscriptions;
DROP TABLE d24_credentials;
ALTER TABLE events DROP COLUMN profile;
ALTER TABLE schedules DROP COLUMN subscription_id;
ALTER TABLE payments DROP COLUMN notify;
