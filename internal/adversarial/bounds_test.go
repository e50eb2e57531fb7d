package adversarial_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/testenv"
)

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

func arrayQuery(key string, vals []string) string {
	var sb strings.Builder
	for i, v := range vals {
		if i > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(url.QueryEscape(key+"[]") + "=" + url.QueryEscape(v))
	}
	return sb.String()
}

// TestIdentifiersAndBounds: identifiers outside their character set and
// length, oversized id lists, bookings and free fields, currencies nobody
// pays in, amounts beyond what a PG takes and dates beyond the horizon are
// each a 400 in the dialect's envelope, and none of them stores anything.
func TestIdentifiersAndBounds(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b)
		tok := e.Token(e.Cred)
		issueKey(t, e, tok, "cust_1")
		card := map[string]any{"card_number": "4242-4242-4242-4242", "expiry": "2030-12", "birth": "800101", "pwd_2digit": "12"}
		again := func(extra map[string]any) []byte {
			body := map[string]any{"customer_uid": "cust_1", "merchant_uid": "order_b1", "amount": 1000, "name": "plan"}
			for k, v := range extra {
				body[k] = v
			}
			return mustJSON(body)
		}
		entries := make([]map[string]any, 1001)
		for i := range entries {
			entries[i] = map[string]any{"merchant_uid": fmt.Sprintf("s%d", i), "schedule_at": e.Clock.Now().Add(time.Hour).Unix(), "amount": 1000}
		}
		pci := func(mut func(m, sub map[string]any)) []byte {
			sub := map[string]any{"start_date": apptest.Start.Format("2006-01-02"), "plan": "MONTHLY", "plan_unit": 1}
			m := map[string]any{"invoice_id": "INV-B", "amount": 19.90, "currency": "USD", "country": "US",
				"payer": map[string]any{"id": "P1", "email": "a@example.com"}, "subscription": sub,
				"credit_card": map[string]any{"holder_name": "A B", "card_number": "4242424242424242", "cvv": "123", "expiration_month": "12", "expiration_year": "30"}}
			mut(m, sub)
			return mustJSON(m)
		}
		v1 := []struct {
			name, method, path string
			body               []byte
		}{
			{"customer_uid with CRLF", "POST", "/subscribe/customers/" + url.PathEscape("a\r\nX-Injected: 1"), mustJSON(card)},
			{"customer_uid with a zero-width space", "POST", "/subscribe/customers/" + url.PathEscape("a\u200bb"), mustJSON(card)},
			{"customer_uid with a bidi override", "POST", "/subscribe/customers/" + url.PathEscape("abc\u202egpj.exe"), mustJSON(card)},
			{"customer_uid of 81 characters", "POST", "/subscribe/customers/" + strings.Repeat("c", 81), mustJSON(card)},
			{"merchant_uid with a tab", "POST", "/subscribe/payments/again", again(map[string]any{"merchant_uid": "a\tb"})},
			{"merchant_uid with CRLF inside", "POST", "/subscribe/payments/again", again(map[string]any{"merchant_uid": "order\r\nX-Injected: 1"})},
			{"merchant_uid of 41 characters", "POST", "/subscribe/payments/again", again(map[string]any{"merchant_uid": strings.Repeat("m", 41)})},
			{"onetime customer_uid with LF", "POST", "/subscribe/payments/onetime", mustJSON(map[string]any{"merchant_uid": "o1", "amount": 1000,
				"customer_uid": "x\nSet-Cookie: a", "card_number": "4242-4242-4242-4242", "expiry": "2030-12", "birth": "800101", "pwd_2digit": "12"})},
			{"1,001 customer_uid[]", "GET", "/subscribe/customers?" + arrayQuery("customer_uid", ids("c", 1001)), nil},
			{"1,001 imp_uid[]", "GET", "/payments?" + arrayQuery("imp_uid", ids("imp_", 1001)), nil},
			{"70,000 merchant_uid to unschedule", "POST", "/subscribe/payments/unschedule", mustJSON(map[string]any{"merchant_uid": ids("m", 70_000)})},
			{"1,001 entries in one booking", "POST", "/subscribe/payments/schedule", mustJSON(map[string]any{"customer_uid": "cust_1", "schedules": entries})},
			{"notice_url of 3,000 characters", "POST", "/subscribe/payments/again", again(map[string]any{"notice_url": "https://x.example/" + strings.Repeat("n", 3000)})},
			{"custom_data of 20 KiB", "POST", "/subscribe/payments/again", again(map[string]any{"custom_data": map[string]any{"k": strings.Repeat("d", 20<<10)}})},
			{"cancel reason of 2,000 characters", "POST", "/payments/cancel", mustJSON(map[string]any{"merchant_uid": "order_b1", "reason": strings.Repeat("r", 2000)})},
			{"customer_id of 2,000 characters", "POST", "/subscribe/customers/cust_2", mustJSON(map[string]any{"card_number": "4242-4242-4242-4242",
				"expiry": "2030-12", "birth": "800101", "pwd_2digit": "12", "customer_id": strings.Repeat("i", 2000)})},
			{"currency XXX", "POST", "/subscribe/payments/again", again(map[string]any{"currency": "XXX"})},
			{"currency XTS", "POST", "/subscribe/payments/again", again(map[string]any{"currency": "XTS"})},
			{"currency XAU", "POST", "/subscribe/payments/again", again(map[string]any{"currency": "xau"})},
			{"amount of 100 billion KRW", "POST", "/subscribe/payments/again", again(map[string]any{"amount": 100_000_000_000})},
			{"amount of 1e12 USD cents", "POST", "/subscribe/payments/again", again(map[string]any{"amount": "10000000000.00", "currency": "USD"})},
			{"schedule_at six years ahead", "POST", "/subscribe/payments/schedule", mustJSON(map[string]any{"customer_uid": "cust_1",
				"schedules": []map[string]any{{"merchant_uid": "far", "schedule_at": e.Clock.Now().AddDate(6, 0, 0).Unix(), "amount": 1000}}})},
		}
		v3 := []struct {
			name string
			body []byte
		}{
			{"currency XAU", pci(func(m, _ map[string]any) { m["currency"] = "XAU" })},
			{"currency xts", pci(func(m, _ map[string]any) { m["currency"] = "xts" })},
			{"amount beyond the maximum", pci(func(m, _ map[string]any) { m["amount"] = 1e12 })},
			{"start_date two years ahead", pci(func(_, sub map[string]any) {
				sub["start_date"] = apptest.Start.AddDate(2, 0, 0).Format("2006-01-02")
			})},
			{"invoice_id with CRLF", pci(func(m, _ map[string]any) { m["invoice_id"] = "INV\r\nX-Injected: 1" })},
			{"invoice_id of 129 characters", pci(func(m, _ map[string]any) { m["invoice_id"] = strings.Repeat("i", 129) })},
			{"description of 2,000 characters", pci(func(m, _ map[string]any) { m["description"] = strings.Repeat("d", 2000) })},
			{"customer_uid with a zero-width joiner", pci(func(m, _ map[string]any) {
				delete(m, "credit_card")
				m["customer_uid"] = "cust\u200d1"
			})},
		}
		before := rowCounts(t, e)
		for _, c := range v1 {
			r := send(t, e.Server.URL, c.method, c.path, bearer(tok), c.body)
			if r.status != 400 || !v1Failed(r) {
				t.Errorf("V1 %s: HTTP %d %.300s", c.name, r.status, r.raw)
			}
		}
		for _, c := range v3 {
			r := send(t, e.Server.URL, "POST", "/v3/subscriptions", signD24(e, e.Cred, nil, c.body), c.body)
			if r.status != 400 || r.json["type"] != "VALIDATION_ERROR" {
				t.Errorf("v3 %s: HTTP %d %.300s", c.name, r.status, r.raw)
			}
		}
		after := rowCounts(t, e)
		for table, n := range before {
			if after[table] != n {
				t.Errorf("%s: %d rows before, %d after refused requests", table, n, after[table])
			}
		}
		if n := e.App.Sim.ChargeCount(true); n != 0 {
			t.Errorf("%d charges at the PG from refused requests", n)
		}
		// What is within bounds still works: a Korean identifier, 1,000 ids,
		// a lower-case v3 currency stored upper-case.
		if r := send(t, e.Server.URL, "POST", "/subscribe/payments/again", bearer(tok), again(map[string]any{"merchant_uid": "주문-0001"})); r.status != 200 || v1Failed(r) {
			t.Errorf("Korean merchant_uid: %d %s", r.status, r.raw)
		}
		if r := send(t, e.Server.URL, "GET", "/subscribe/customers?"+arrayQuery("customer_uid", append(ids("c", 999), "cust_1")), bearer(tok), nil); r.status >= 400 {
			t.Errorf("1,000 customer_uid[]: %d %.300s", r.status, r.raw)
		}
		body := pci(func(m, _ map[string]any) { m["currency"] = " usd" })
		r := send(t, e.Server.URL, "POST", "/v3/subscriptions", signD24(e, e.Cred, nil, body), body)
		if r.status != 200 {
			t.Fatalf("lower-case currency: %d %s", r.status, r.raw)
		}
		sub, err := e.App.Subscriptions().Get(t.Context(), e.Merchant.ID, int64(r.json["subscription_id"].(float64)))
		if err != nil || sub.Currency != "USD" {
			t.Errorf("stored currency: %+v %v", sub, err)
		}
		t.Logf("%s: %d V1 and %d v3 out-of-bounds requests refused with 400, nothing stored or charged", b.Name, len(v1), len(v3))
	})
}
