#!/usr/bin/env bash
# Create a subscription with the v3 API: Authorization is
# "D24 " + hex HMAC-SHA256(api_signature, X-Date + X-Login + body).
set -euo pipefail
BODY='{"invoice_id":"INV-'$(date +%s%N)'","amount":19.90,"currency":"USD","country":"US",
"payer":{"id":"user_42","email":"jane@example.com","first_name":"Jane","last_name":"Doe"},
"description":"Premium","subscription":{"plan":"MONTHLY","plan_unit":12,"auto_renewal":true},
"credit_card":{"holder_name":"Jane Doe","card_number":"4242424242424242","cvv":"123",
"expiration_month":"12","expiration_year":"30"}}'
XDATE=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
SIG=$(printf '%s%s%s' "$XDATE" "$X_LOGIN" "$BODY" \
  | openssl dgst -sha256 -hmac "$API_SIGNATURE" | sed 's/^.* //')
curl -s -w ' %{http_code}\n' -X POST "$BILLKEY_URL/v3/subscriptions" \
  -H 'Content-Type: application/json' -H "X-Date: $XDATE" -H "X-Login: $X_LOGIN" \
  -H "Authorization: D24 $SIG" --data-binary "$BODY"
