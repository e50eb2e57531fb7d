-- Billkey's two statements of an `again` on Postgres, as internal/store
-- sends them (the attempt INSERT of BeginAttemptOnKey, the settlement of
-- settleSQL with one event), with the values of a sandbox charge inlined, for
-- pgbench: how fast Postgres alone runs a charge, without HTTP, JSON or the
-- gateway process. A copy: check it against the store after schema changes.
--   psql -d DB -f seed.sql
--   pgbench -n -M prepared -c 32 -j 2 -T 15 -f charge.sql DB
\set k random(1, 200)
\set id random(1, 9000000000000000)
INSERT INTO payments (imp_uid, merchant_id, merchant_uid, status, pay_method, channel, pg_provider, pg_id, pg_tid, sandbox,
	apply_num, card_code, card_name, card_number, card_type, card_quota, name, amount, cancel_amount, currency,
	tax_free, vat_amount, buyer_name, buyer_email, buyer_tel, buyer_addr, buyer_postcode, custom_data, notice_url,
	customer_uid, customer_uid_usage, started_at, paid_at, failed_at, cancelled_at, fail_reason, cancel_reason,
	receipt_url, attempt_deadline, next_check_at, checks, updated_at, notify) SELECT 'imps_' || :id, 1, 'order_' || :id, 'pending', 'card', 'api', 'sandbox', 'sandbox', '', 1, '', '361', 'BC카드', '536510******1234', 0, 0, '월간 구독', 9900, 0, 'KRW', 0, NULL, '홍길동', 'a@b.c', '010-1234-5678', '', '', NULL, '', 'cust_' || :k, 'payment', 1764547200000000, 0, 0, 0, '', '', '', 1764547260000000, 1764547260000000, 0, 1764547200000000, 'v1'
		WHERE EXISTS (SELECT 1 FROM billing_keys WHERE merchant_id = 1 AND customer_uid = 'cust_' || :k AND version = 1)
		ON CONFLICT DO NOTHING;
WITH u AS (UPDATE payments SET status = 'paid', pg_tid = 'sim_' || :id, apply_num = '12345678', card_code = '361', card_name = 'BC카드',
	card_number = '536510******1234', card_type = 0, paid_at = 1764547200100000, failed_at = 0, fail_reason = '', receipt_url = 'http://127.0.0.1:8080/receipts/imps_' || :id, next_check_at = 0,
	checks = 0, updated_at = 1764547200100000
	WHERE merchant_id = 1 AND imp_uid = 'imps_' || :id AND CASE WHEN status IN ('pending', 'unknown') THEN 1 ELSE 0 END = 1 RETURNING imp_uid),
 ev0 AS (INSERT INTO events (id, merchant_id, type, imp_uid, payload, url, body_format, profile, status, next_attempt_at, created_at, request_id) SELECT 'evt_' || :id, 1, 'payment.paid', 'imps_' || :id, '{"imp_uid":"imps_' || :id || '","merchant_uid":"order_' || :id || '","status":"paid","customer_uid":"cust_' || :k || '"}', 'http://127.0.0.1:1/hook', 'json', '', 'pending', 1764547200100000, 1764547200100000, '' FROM u RETURNING 1)
 SELECT COUNT(*) FROM u;
