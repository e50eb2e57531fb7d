# Create a subscription with the v3 API (Python 3, standard library only).
import hashlib, hmac, json, os, time, urllib.request
from datetime import datetime, timezone

url, login, secret = os.environ["BILLKEY_URL"], os.environ["X_LOGIN"], os.environ["API_SIGNATURE"]
body = json.dumps({
    "invoice_id": f"INV-{time.time_ns()}", "amount": 19.90, "currency": "USD", "country": "US",
    "payer": {"id": "user_42", "email": "jane@example.com", "first_name": "Jane", "last_name": "Doe"},
    "description": "Premium", "subscription": {"plan": "MONTHLY", "plan_unit": 12, "auto_renewal": True},
    "credit_card": {"holder_name": "Jane Doe", "card_number": "4242424242424242", "cvv": "123",
                    "expiration_month": "12", "expiration_year": "30"},
}).encode()
x_date = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
signature = hmac.new(secret.encode(), x_date.encode() + login.encode() + body, hashlib.sha256).hexdigest()

req = urllib.request.Request(url + "/v3/subscriptions", data=body, method="POST", headers={
    "Content-Type": "application/json", "X-Date": x_date, "X-Login": login,
    "Authorization": "D24 " + signature})
with urllib.request.urlopen(req) as res:
    print(res.read().decode(), res.status)
