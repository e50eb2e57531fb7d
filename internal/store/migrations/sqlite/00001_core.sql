-- +goose Up
-- Timestamps are unix microseconds (0 = absent); amounts are minor units.
CREATE TABLE merchants (
    id              INTEGER PRIMARY KEY,
    code            TEXT    NOT NULL UNIQUE,
    name            TEXT    NOT NULL,
    imp_key         TEXT    NOT NULL UNIQUE,
    imp_secret_hash BLOB    NOT NULL,
    webhook_url     TEXT    NOT NULL DEFAULT '',
    webhook_format  TEXT    NOT NULL DEFAULT 'json',
    time_zone       TEXT    NOT NULL DEFAULT 'Asia/Seoul',
    created_at      INTEGER NOT NULL
);

CREATE TABLE channels (
    id          INTEGER PRIMARY KEY,
    merchant_id INTEGER NOT NULL REFERENCES merchants(id),
    provider    TEXT    NOT NULL,
    mid         TEXT    NOT NULL,
    sandbox     INTEGER NOT NULL,
    type        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    channel_key TEXT    NOT NULL,
    is_default  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (merchant_id, provider, mid, type)
);

CREATE TABLE tokens (
    token       TEXT    PRIMARY KEY,
    merchant_id INTEGER NOT NULL REFERENCES merchants(id),
    issued_at   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX tokens_merchant ON tokens (merchant_id, expires_at);

CREATE TABLE vault_keys (
    id         TEXT    PRIMARY KEY,
    wrapped    BLOB    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE billing_keys (
    merchant_id       INTEGER NOT NULL REFERENCES merchants(id),
    customer_uid      TEXT    NOT NULL,
    customer_id       TEXT    NOT NULL DEFAULT '',
    pg_provider       TEXT    NOT NULL,
    pg_id             TEXT    NOT NULL,
    sandbox           INTEGER NOT NULL,
    pg_billing_key    TEXT    NOT NULL,
    card_name         TEXT    NOT NULL DEFAULT '',
    card_code         TEXT    NOT NULL DEFAULT '',
    card_number       TEXT    NOT NULL DEFAULT '',
    card_type         INTEGER,
    card_cipher       BLOB    NOT NULL,
    card_key_id       TEXT    NOT NULL,
    customer_name     TEXT    NOT NULL DEFAULT '',
    customer_tel      TEXT    NOT NULL DEFAULT '',
    customer_email    TEXT    NOT NULL DEFAULT '',
    customer_addr     TEXT    NOT NULL DEFAULT '',
    customer_postcode TEXT    NOT NULL DEFAULT '',
    inserted_at       INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, customer_uid)
);
CREATE INDEX billing_keys_vault ON billing_keys (card_key_id);

CREATE TABLE payments (
    imp_uid            TEXT    PRIMARY KEY,
    merchant_id        INTEGER NOT NULL REFERENCES merchants(id),
    merchant_uid       TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    pay_method         TEXT    NOT NULL,
    channel            TEXT    NOT NULL,
    pg_provider        TEXT    NOT NULL,
    pg_id              TEXT    NOT NULL,
    pg_tid             TEXT    NOT NULL DEFAULT '',
    sandbox            INTEGER NOT NULL,
    apply_num          TEXT    NOT NULL DEFAULT '',
    card_code          TEXT    NOT NULL DEFAULT '',
    card_name          TEXT    NOT NULL DEFAULT '',
    card_number        TEXT    NOT NULL DEFAULT '',
    card_type          INTEGER,
    card_quota         INTEGER NOT NULL DEFAULT 0,
    name               TEXT    NOT NULL DEFAULT '',
    amount             INTEGER NOT NULL,
    cancel_amount      INTEGER NOT NULL DEFAULT 0,
    currency           TEXT    NOT NULL,
    tax_free           INTEGER NOT NULL DEFAULT 0,
    vat_amount         INTEGER,
    buyer_name         TEXT    NOT NULL DEFAULT '',
    buyer_email        TEXT    NOT NULL DEFAULT '',
    buyer_tel          TEXT    NOT NULL DEFAULT '',
    buyer_addr         TEXT    NOT NULL DEFAULT '',
    buyer_postcode     TEXT    NOT NULL DEFAULT '',
    custom_data        TEXT,
    notice_url         TEXT    NOT NULL DEFAULT '',
    customer_uid       TEXT    NOT NULL DEFAULT '',
    customer_uid_usage TEXT    NOT NULL DEFAULT '',
    billing_key        TEXT    NOT NULL DEFAULT '',
    started_at         INTEGER NOT NULL,
    paid_at            INTEGER NOT NULL DEFAULT 0,
    failed_at          INTEGER NOT NULL DEFAULT 0,
    cancelled_at       INTEGER NOT NULL DEFAULT 0,
    fail_reason        TEXT    NOT NULL DEFAULT '',
    cancel_reason      TEXT    NOT NULL DEFAULT '',
    receipt_url        TEXT    NOT NULL DEFAULT '',
    attempt_deadline   INTEGER NOT NULL DEFAULT 0,
    next_check_at      INTEGER NOT NULL DEFAULT 0,
    checks             INTEGER NOT NULL DEFAULT 0,
    updated_at         INTEGER NOT NULL
);
-- The exactly-once rule lives here, not only in code: one merchant_uid can
-- have many failed attempts but only one that is running, unknown, paid or
-- cancelled.
CREATE UNIQUE INDEX payments_order_holder ON payments (merchant_id, merchant_uid)
    WHERE status IN ('pending', 'unknown', 'paid', 'cancelled');
CREATE INDEX payments_by_order ON payments (merchant_id, merchant_uid, started_at);
CREATE INDEX payments_by_status ON payments (merchant_id, status, started_at);
CREATE INDEX payments_by_customer ON payments (merchant_id, customer_uid, started_at);
CREATE INDEX payments_unresolved ON payments (next_check_at) WHERE status IN ('pending', 'unknown');

CREATE TABLE cancellations (
    id             TEXT    PRIMARY KEY,
    imp_uid        TEXT    NOT NULL REFERENCES payments(imp_uid),
    merchant_id    INTEGER NOT NULL,
    status         TEXT    NOT NULL,
    amount         INTEGER NOT NULL,
    tax_free       INTEGER NOT NULL DEFAULT 0,
    reason         TEXT    NOT NULL DEFAULT '',
    pg_tid         TEXT    NOT NULL DEFAULT '',
    receipt_url    TEXT    NOT NULL DEFAULT '',
    enable_webhook INTEGER NOT NULL DEFAULT 0,
    cancelled_at   INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
);
CREATE INDEX cancellations_by_payment ON cancellations (imp_uid, created_at);
CREATE INDEX cancellations_pending ON cancellations (created_at) WHERE status = 'pending';

CREATE TABLE prepared (
    merchant_id  INTEGER NOT NULL REFERENCES merchants(id),
    merchant_uid TEXT    NOT NULL,
    amount       INTEGER NOT NULL,
    currency     TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, merchant_uid)
);

-- The outbox: rows are written in the transaction of the state change that
-- caused them; the webhook worker delivers them.
CREATE TABLE events (
    id              TEXT    PRIMARY KEY,
    merchant_id     INTEGER NOT NULL REFERENCES merchants(id),
    type            TEXT    NOT NULL,
    imp_uid         TEXT    NOT NULL DEFAULT '',
    payload         TEXT    NOT NULL,
    url             TEXT    NOT NULL DEFAULT '',
    status          TEXT    NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    delivered_at    INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);
CREATE INDEX events_due ON events (next_attempt_at) WHERE status = 'pending';
CREATE INDEX events_by_payment ON events (merchant_id, imp_uid);

-- +goose Down
DROP TABLE events;
DROP TABLE prepared;
DROP TABLE cancellations;
DROP TABLE payments;
DROP TABLE billing_keys;
DROP TABLE vault_keys;
DROP TABLE tokens;
DROP TABLE channels;
DROP TABLE merchants;
