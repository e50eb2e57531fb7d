-- Seeds a migrated Billkey database (billkey migrate) for charge.sql: one
-- merchant and the 200 billing keys its charges draw on.
INSERT INTO merchants (id, code, name, imp_key, imp_secret_hash, webhook_url, created_at) VALUES (1, 'imp00000001', 'm', 'k', '\x00', 'http://127.0.0.1:1/hook', 0) ON CONFLICT DO NOTHING;
INSERT INTO billing_keys (merchant_id, customer_uid, customer_id, pg_provider, pg_id, sandbox, pg_billing_key, card_name, card_code, card_number, card_type, card_cipher, card_key_id, customer_name, customer_tel, customer_email, customer_addr, customer_postcode, inserted_at, updated_at, pay_method, card_expiry, key_format, version)
SELECT 1, 'cust_' || g, '', 'sandbox', 'sandbox', 1, 'bk_' || md5(g::text), 'BC카드', '361', '536510******1234', 0, '', '', '홍길동', '010-1234-5678', 'a@b.c', '', '', 0, 0, 'card', '2030-12', 1, 1 FROM generate_series(1,200) g ON CONFLICT DO NOTHING;
