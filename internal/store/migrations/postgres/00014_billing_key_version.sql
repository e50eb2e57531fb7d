-- +goose Up
-- Bumped on every change to a billing key (re-issue, vault re-wrap, format
-- conversion): a node that kept the key in memory records an attempt only
-- if the version it read is still the stored one, so a key replaced or
-- deleted through another node is never charged from a stale copy.
ALTER TABLE billing_keys ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

-- +goose Down
ALTER TABLE billing_keys DROP COLUMN version;
