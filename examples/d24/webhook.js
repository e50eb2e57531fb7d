// Deposit notifications (Node 18+, no dependencies): verify the Standard
// Webhooks signature, answer 2xx at once, then read the deposit over the
// signed v3 API. Notifications may come more than once: dedupe on webhook-id.
const http = require("node:http");
const crypto = require("node:crypto");
const { BILLKEY_URL, X_LOGIN, API_SIGNATURE, WEBHOOK_SECRET, PORT = "8082" } = process.env;
const key = Buffer.from(WEBHOOK_SECRET.replace(/^whsec_/, ""), "base64");
const seen = new Set();

function verified(headers, body) {
  const id = headers["webhook-id"], ts = headers["webhook-timestamp"];
  if (!id || Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false; // replay window
  const want = crypto.createHmac("sha256", key).update(`${id}.${ts}.`).update(body).digest();
  return (headers["webhook-signature"] || "").split(" ").some((s) => {
    const got = Buffer.from(s.replace(/^v1,/, ""), "base64");
    return s.startsWith("v1,") && got.length === want.length && crypto.timingSafeEqual(got, want);
  });
}

async function v3get(path) {
  const xDate = new Date().toISOString();
  const signature = crypto.createHmac("sha256", API_SIGNATURE).update(xDate + X_LOGIN).digest("hex");
  const res = await fetch(BILLKEY_URL + path, {
    headers: { "X-Date": xDate, "X-Login": X_LOGIN, "Authorization": "D24 " + signature } });
  return res.json();
}

http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", async () => {
    const body = Buffer.concat(chunks);
    if (!verified(req.headers, body)) return res.writeHead(401).end();
    res.writeHead(204).end();
    const id = req.headers["webhook-id"];
    if (seen.has(id)) return;
    seen.add(id);
    const { deposit_id } = JSON.parse(body);
    const d = await v3get("/v3/deposits/" + deposit_id);
    console.log(`deposit ${d.deposit_id} of subscription ${d.subscription_id}: ${d.status}`);
  });
}).listen(Number(PORT), () => console.log("listening on " + PORT));
