// Create a subscription with the v3 API (Node 18+, no dependencies).
const crypto = require("node:crypto");
const { BILLKEY_URL, X_LOGIN, API_SIGNATURE } = process.env;

const body = JSON.stringify({
  invoice_id: "INV-" + Date.now(), amount: 19.9, currency: "USD", country: "US",
  payer: { id: "user_42", email: "jane@example.com", first_name: "Jane", last_name: "Doe" },
  description: "Premium", subscription: { plan: "MONTHLY", plan_unit: 12, auto_renewal: true },
  credit_card: { holder_name: "Jane Doe", card_number: "4242424242424242", cvv: "123",
                 expiration_month: "12", expiration_year: "30" },
});
const xDate = new Date().toISOString(); // 2026-11-30T09:00:00.123Z
const signature = crypto.createHmac("sha256", API_SIGNATURE)
  .update(xDate + X_LOGIN + body).digest("hex"); // sign the exact bytes you send

fetch(BILLKEY_URL + "/v3/subscriptions", {
  method: "POST", body,
  headers: { "Content-Type": "application/json", "X-Date": xDate, "X-Login": X_LOGIN,
             "Authorization": "D24 " + signature },
}).then(async (res) => console.log(await res.text(), res.status));
