-- +goose Up
-- What a billing key pays with (card, trans, phone, point): again reports it
-- as the payment's pay_method.
ALTER TABLE billing_keys ADD COLUMN pay_method TEXT NOT NULL DEFAULT 'card';
UPDATE billing_keys SET pay_method = 'phone' WHERE pg_provider IN ('danal_tpay', 'mobilians');
UPDATE billing_keys SET pay_method = 'trans' WHERE pg_provider = 'chai';

-- PG codes as i'mport defines them: danal_tpay is Danal's card window and
-- danal its phone billing (they were the other way round), kcp_billing is
-- KCP's billing window. Keys follow their channel.
UPDATE channels SET provider = CASE provider WHEN 'danal' THEN 'danal_tpay' ELSE 'danal' END,
    name = CASE provider WHEN 'danal' THEN '다날 신용카드 (sandbox)' ELSE '다날 휴대폰 (sandbox)' END,
    channel_key = CASE provider WHEN 'danal' THEN 'channel-key-danal_tpay-' ELSE 'channel-key-danal-' END || mid
    WHERE provider IN ('danal', 'danal_tpay') AND type = 'payment' AND sandbox = 1;
UPDATE billing_keys SET pg_provider = CASE pg_provider WHEN 'danal' THEN 'danal_tpay' ELSE 'danal' END
    WHERE pg_provider IN ('danal', 'danal_tpay') AND sandbox = 1;
UPDATE channels SET provider = 'kcp_billing', name = 'KCP 빌링 결제창 (sandbox)', channel_key = 'channel-key-kcp_billing-T0001'
    WHERE provider = 'kcp' AND mid = 'T0001' AND type = 'payment' AND sandbox = 1;
UPDATE billing_keys SET pg_provider = 'kcp_billing' WHERE pg_provider = 'kcp' AND pg_id = 'T0001' AND sandbox = 1;

-- The sandbox channels merchants with sandbox channels did not have yet.
INSERT INTO channels (merchant_id, provider, mid, sandbox, type, name, channel_key, is_default)
SELECT m.id, n.provider, n.mid, 1, n.type, n.name, 'channel-key-' || n.provider || '-' || n.mid, 0
FROM merchants m
JOIN (SELECT 'daou' AS provider, 'CTS16826' AS mid, 'api_payment' AS type, '페이조아 빌링 (sandbox)' AS name
      UNION ALL SELECT 'paymentwall', 'pw_test', 'api_payment', 'Paymentwall (sandbox)'
      UNION ALL SELECT 'inicis', 'INIpayTest', 'payment', 'KG이니시스 ActiveX 결제창 (sandbox)'
      UNION ALL SELECT 'jtnet', 'tpaytest2m', 'payment', 'JTNet 결제창 (sandbox)'
      UNION ALL SELECT 'paymentwall', 'pw_test', 'payment', 'Paymentwall 결제창 (sandbox)') n ON 1 = 1
WHERE EXISTS (SELECT 1 FROM channels c WHERE c.merchant_id = m.id AND c.sandbox = 1 AND c.provider = 'nice')
  AND NOT EXISTS (SELECT 1 FROM channels c WHERE c.merchant_id = m.id AND c.provider = n.provider
                  AND c.mid = n.mid AND c.type = n.type);

-- The sandbox test clock, one per merchant, so that merchants sharing a
-- sandbox do not move each other's time and a restart never moves it back.
CREATE TABLE sandbox_clocks (
    merchant_id BIGINT NOT NULL PRIMARY KEY REFERENCES merchants(id),
    now_us      BIGINT NOT NULL
);

-- +goose Down
DROP TABLE sandbox_clocks;
DELETE FROM channels WHERE sandbox = 1 AND is_default = 0
    AND ((provider = 'daou' AND mid = 'CTS16826') OR (provider = 'paymentwall' AND mid = 'pw_test')
      OR (provider = 'inicis' AND mid = 'INIpayTest') OR (provider = 'jtnet' AND mid = 'tpaytest2m'));
UPDATE billing_keys SET pg_provider = 'kcp' WHERE pg_provider = 'kcp_billing' AND sandbox = 1;
UPDATE channels SET provider = 'kcp', name = 'KCP 결제창 (sandbox)', channel_key = 'channel-key-kcp-T0001'
    WHERE provider = 'kcp_billing' AND mid = 'T0001' AND type = 'payment' AND sandbox = 1;
UPDATE billing_keys SET pg_provider = CASE pg_provider WHEN 'danal' THEN 'danal_tpay' ELSE 'danal' END
    WHERE pg_provider IN ('danal', 'danal_tpay') AND sandbox = 1;
UPDATE channels SET provider = CASE provider WHEN 'danal' THEN 'danal_tpay' ELSE 'danal' END,
    name = CASE provider WHEN 'danal' THEN '다날 휴대폰 (sandbox)' ELSE '다날 카드 (sandbox)' END,
    channel_key = CASE provider WHEN 'danal' THEN 'channel-key-danal_tpay-' ELSE 'channel-key-danal-' END || mid
    WHERE provider IN ('danal', 'danal_tpay') AND type = 'payment' AND sandbox = 1;
ALTER TABLE billing_keys DROP COLUMN pay_method;
