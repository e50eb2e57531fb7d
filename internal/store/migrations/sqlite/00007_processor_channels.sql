-- +goose Up
-- A channel can be a real processor: where to reach it and its credentials,
-- sealed by the vault (never stored or shown in clear).
ALTER TABLE channels ADD COLUMN api_url TEXT NOT NULL DEFAULT '';
ALTER TABLE channels ADD COLUMN credentials BLOB;
ALTER TABLE channels ADD COLUMN credentials_key_id TEXT NOT NULL DEFAULT '';
ALTER TABLE channels ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;

-- The demo merchant can never use live credentials.
ALTER TABLE merchants ADD COLUMN demo INTEGER NOT NULL DEFAULT 0;

-- Billing keys keep no card number: card_cipher holds the PG's billing key
-- sealed (key_format 1); rows still holding the sealed "PAN|expiry" of
-- earlier versions (key_format 0) are converted by the binary at start,
-- since only it holds the vault key.
ALTER TABLE billing_keys ADD COLUMN card_expiry TEXT NOT NULL DEFAULT '';
ALTER TABLE billing_keys ADD COLUMN key_format INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE billing_keys DROP COLUMN key_format;
ALTER TABLE billing_keys DROP COLUMN card_expiry;
ALTER TABLE merchants DROP COLUMN demo;
ALTER TABLE channels DROP COLUMN updated_at;
ALTER TABLE channels DROP COLUMN credentials_key_id;
ALTER TABLE channels DROP COLUMN credentials;
ALTER TABLE channels DROP COLUMN api_url;
