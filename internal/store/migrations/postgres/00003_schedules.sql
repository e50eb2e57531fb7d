-- +goose Up
-- Scheduled payments. The row is the source of truth for execution: nodes
-- claim due rows with a lease (lease_until, claimed_by), and the move to
-- 'executing' is committed in the same transaction as the payment attempt,
-- so a row is charged by at most one attempt at a time.
CREATE TABLE schedules (
    id             BIGSERIAL PRIMARY KEY,
    merchant_id    BIGINT  NOT NULL REFERENCES merchants(id),
    merchant_uid   TEXT    NOT NULL,
    customer_uid   TEXT    NOT NULL,
    customer_id    TEXT    NOT NULL DEFAULT '',
    status         TEXT    NOT NULL,
    schedule_at    BIGINT  NOT NULL,
    amount         BIGINT  NOT NULL,
    currency       TEXT    NOT NULL,
    tax_free       BIGINT  NOT NULL DEFAULT 0,
    vat_amount     BIGINT,
    name           TEXT    NOT NULL DEFAULT '',
    buyer_name     TEXT    NOT NULL DEFAULT '',
    buyer_email    TEXT    NOT NULL DEFAULT '',
    buyer_tel      TEXT    NOT NULL DEFAULT '',
    buyer_addr     TEXT    NOT NULL DEFAULT '',
    buyer_postcode TEXT    NOT NULL DEFAULT '',
    custom_data    TEXT,
    notice_url     TEXT    NOT NULL DEFAULT '',
    card_quota     BIGINT  NOT NULL DEFAULT 0,
    promotion_id   TEXT    NOT NULL DEFAULT '',
    pg_provider    TEXT    NOT NULL DEFAULT '',
    pg_id          TEXT    NOT NULL DEFAULT '',
    imp_uid        TEXT    NOT NULL DEFAULT '',
    payment_status TEXT    NOT NULL DEFAULT '',
    fail_reason    TEXT    NOT NULL DEFAULT '',
    executed_at    BIGINT  NOT NULL DEFAULT 0,
    revoked_at     BIGINT  NOT NULL DEFAULT 0,
    lease_until    BIGINT  NOT NULL DEFAULT 0,
    claimed_by     TEXT    NOT NULL DEFAULT '',
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL,
    UNIQUE (merchant_id, merchant_uid)
);
-- The claim queue: only waiting rows, so a million future entries cost an
-- index range scan that stops at "now".
CREATE INDEX schedules_due ON schedules (schedule_at) WHERE status = 'scheduled';
CREATE INDEX schedules_by_time ON schedules (merchant_id, schedule_at);
CREATE INDEX schedules_by_customer ON schedules (merchant_id, customer_uid, schedule_at);

-- +goose Down
DROP TABLE schedules;
