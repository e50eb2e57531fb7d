-- +goose Up
-- Merchant console: operator accounts, their server-side sessions and the
-- audit log. Passwords are argon2id hashes; session ids and one-time
-- password-set tokens are stored as SHA-256 hashes only.
CREATE TABLE console_users (
    id               INTEGER PRIMARY KEY,
    merchant_id      INTEGER NOT NULL REFERENCES merchants(id),
    email            TEXT    NOT NULL UNIQUE,
    role             TEXT    NOT NULL,
    password_hash    TEXT    NOT NULL DEFAULT '',
    setup_token_hash BLOB,
    setup_expires_at INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX console_users_by_merchant ON console_users (merchant_id, email);
CREATE UNIQUE INDEX console_users_setup ON console_users (setup_token_hash) WHERE setup_token_hash IS NOT NULL;

CREATE TABLE console_sessions (
    id_hash      BLOB    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES console_users(id),
    merchant_id  INTEGER NOT NULL REFERENCES merchants(id),
    csrf         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX console_sessions_by_user ON console_sessions (user_id);

CREATE TABLE console_audit (
    id          INTEGER PRIMARY KEY,
    merchant_id INTEGER NOT NULL REFERENCES merchants(id),
    user_id     INTEGER NOT NULL DEFAULT 0,
    email       TEXT    NOT NULL DEFAULT '',
    action      TEXT    NOT NULL,
    target      TEXT    NOT NULL DEFAULT '',
    detail      TEXT    NOT NULL DEFAULT '',
    ip          TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
CREATE INDEX console_audit_by_merchant ON console_audit (merchant_id, id);

-- +goose Down
DROP TABLE console_audit;
DROP TABLE console_sessions;
DROP TABLE console_users;
