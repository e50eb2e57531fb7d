-- +goose Up
-- Access tokens are stored hashed, like imp_secret: the table keeps the
-- SHA-256 of each token and the nonce it is derived from with the
-- merchant's imp_secret, so a copy of the database holds no usable token.
-- Live tokens issued before this migration are dropped; clients get 401
-- and call getToken again, as they do when a token expires.
DROP TABLE tokens;
CREATE TABLE tokens (
    token_hash  BYTEA   PRIMARY KEY,
    nonce       TEXT    NOT NULL,
    merchant_id BIGINT NOT NULL REFERENCES merchants(id),
    issued_at   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX tokens_merchant ON tokens (merchant_id, expires_at);

-- +goose Down
DROP TABLE tokens;
CREATE TABLE tokens (
    token       TEXT    PRIMARY KEY,
    merchant_id BIGINT NOT NULL REFERENCES merchants(id),
    issued_at   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX tokens_merchant ON tokens (merchant_id, expires_at);
