-- +goose Up
-- Origins of a merchant's own sites that may open and embed its payment
-- window (comma-separated CSP-style patterns), on top of the deployment's.
ALTER TABLE merchants ADD COLUMN checkout_origins TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE merchants DROP COLUMN checkout_origins;
