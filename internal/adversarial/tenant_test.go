package adversarial_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/testenv"
)

// TestTenantProbe: merchant B, with valid credentials of its own in every
// dialect, names merchant A's customer_uid, imp_uid, merchant_uid, schedule,
// webhook event, subscription and deposit on every route that takes one.
// None of it is read, changed or charged, and A's data is intact after.
func TestTenantProbe(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b)
		credB, _ := e.NewMerchant("B")
		tokA, tokB := e.Token(e.Cred), e.Token(credB)
		issueKey(t, e, tokA, "cust_a")
		r := send(t, e.Server.URL, "POST", "/subscribe/payments/again", bearer(tokA),
			mustJSON(map[string]any{"customer_uid": "cust_a", "merchant_uid": "order_a", "amount": 5000}))
		impUID, _ := r.json["response"].(map[string]any)["imp_uid"].(string)
		if r.status != 200 || impUID == "" {
			t.Fatalf("A pays: %d %s", r.status, r.raw)
		}
		at := e.Clock.Now().Add(48 * time.Hour).Unix()
		if r := send(t, e.Server.URL, "POST", "/subscribe/payments/schedule", bearer(tokA), mustJSON(map[string]any{"customer_uid": "cust_a",
			"schedules": []map[string]any{{"merchant_uid": "sched_a", "schedule_at": at, "amount": 3000}}})); r.status != 200 || v1Failed(r) {
			t.Fatalf("A schedules: %d %s", r.status, r.raw)
		}
		if r := send(t, e.Server.URL, "POST", "/payments/prepare", bearer(tokA), mustJSON(map[string]any{"merchant_uid": "prep_a", "amount": 700})); r.status != 200 {
			t.Fatalf("A prepares: %d %s", r.status, r.raw)
		}
		body := mustJSON(map[string]any{"invoice_id": "INV-A", "amount": 10, "currency": "USD", "country": "US", "customer_uid": "cust_a",
			"subscription": map[string]any{"start_date": apptest.Start.Format("2006-01-02"), "plan": "MONTHLY"}})
		r = send(t, e.Server.URL, "POST", "/v3/subscriptions", signD24(e, e.Cred, nil, body), body)
		subID, _ := r.json["subscription_id"].(float64)
		if r.status != 200 || subID == 0 {
			t.Fatalf("A subscribes: %d %s", r.status, r.raw)
		}
		deps, err := e.App.Store.Deposits(t.Context(), e.Merchant.ID, int64(subID))
		if err != nil || len(deps) == 0 {
			t.Fatalf("A's deposits: %v %v", deps, err)
		}
		var eventID string
		if r := send(t, e.Server.URL, "GET", "/webhooks/events", bearer(tokA), nil); r.status == 200 {
			if list, _ := r.json["response"].([]any); len(list) > 0 {
				ev, _ := list[0].(map[string]any)
				eventID = fmt.Sprint(ev["id"])
			}
		}
		if eventID == "" {
			t.Fatal("A has no webhook event to probe")
		}
		ledger := len(e.App.Sim.Ledger())

		v1 := []struct{ method, path string }{
			{"GET", "/subscribe/customers/cust_a"},
			{"GET", "/subscribe/customers?customer_uid[]=cust_a"},
			{"GET", "/subscribe/customers/cust_a/payments"},
			{"GET", "/subscribe/customers/cust_a/schedules"},
			{"GET", "/subscribe/payments/schedule/customers/cust_a"},
			{"GET", "/payments/" + impUID},
			{"GET", "/payments?imp_uid[]=" + impUID + "&merchant_uid[]=order_a"},
			{"GET", "/payments/find/order_a"},
			{"GET", "/payments/findAll/order_a"},
			{"GET", "/payments/prepare/prep_a"},
			{"GET", "/subscribe/payments/schedule/sched_a"},
			{"PUT", "/subscribe/payments/schedule/sched_a"},
			{"POST", "/subscribe/payments/schedule/sched_a/retry"},
			{"POST", "/subscribe/payments/schedule/sched_a/reschedule"},
			{"POST", "/subscribe/payments/unschedule"},
			{"POST", "/subscribe/payments/again"},
			{"POST", "/payments/cancel"},
			{"DELETE", "/subscribe/customers/cust_a"},
			{"GET", "/webhooks/events/" + eventID},
			{"GET", "/webhooks/events/" + eventID + "/attempts"},
			{"POST", "/webhooks/events/" + eventID + "/resend"},
		}
		probeBody := mustJSON(map[string]any{"customer_uid": "cust_a", "merchant_uid": "order_a", "imp_uid": impUID, "amount": 5000,
			"schedule_at": at + 3600})
		probes := 0
		for _, p := range v1 {
			r := send(t, e.Server.URL, p.method, p.path, bearer(tokB), probeBody)
			probes++
			if r.status >= 500 || (r.status == 200 && !v1Failed(r) && !emptyAnswer(r)) {
				t.Errorf("B %s %s: HTTP %d %.300s", p.method, p.path, r.status, r.raw)
			}
			if strings.Contains(string(r.raw), impUID) || strings.Contains(string(r.raw), "cust_a\",\"pg_provider") {
				t.Errorf("B %s %s: the answer names A's data: %.300s", p.method, p.path, r.raw)
			}
		}
		for _, p := range []struct{ method, path string }{
			{"GET", fmt.Sprintf("/v3/subscriptions/%d", int64(subID))},
			{"DELETE", fmt.Sprintf("/v3/subscriptions/%d", int64(subID))},
			{"GET", fmt.Sprintf("/v3/deposits/%d", deps[0].ID)},
		} {
			r := send(t, e.Server.URL, p.method, p.path, signD24(e, credB, nil, nil), nil)
			probes++
			if r.status < 400 || r.status >= 500 {
				t.Errorf("B %s %s: HTTP %d %.300s", p.method, p.path, r.status, r.raw)
			}
		}
		// A's data is as it was.
		if r := send(t, e.Server.URL, "GET", "/payments/"+impUID, bearer(tokA), nil); r.status != 200 ||
			r.json["response"].(map[string]any)["status"] != "paid" || r.json["response"].(map[string]any)["cancel_amount"] != 0.0 {
			t.Errorf("A's payment: %d %.300s", r.status, r.raw)
		}
		if r := send(t, e.Server.URL, "GET", "/subscribe/payments/schedule/sched_a", bearer(tokA), nil); r.status != 200 ||
			r.json["response"].(map[string]any)["schedule_status"] != "scheduled" || r.json["response"].(map[string]any)["schedule_at"] != float64(at) {
			t.Errorf("A's schedule: %d %.300s", r.status, r.raw)
		}
		if r := send(t, e.Server.URL, "GET", fmt.Sprintf("/v3/subscriptions/%d", int64(subID)), signD24(e, e.Cred, nil, nil), nil); r.status != 200 || r.json["status"] == "CANCELLED" {
			t.Errorf("A's subscription: %d %.300s", r.status, r.raw)
		}
		if n := len(e.App.Sim.Ledger()); n != ledger {
			t.Errorf("the PG ledger went from %d to %d entries during B's probes", ledger, n)
		}
		t.Logf("%s: %d cross-tenant probes by merchant B, all refused or empty; A's payment, key, schedule and subscription intact", b.Name, probes)
	})
}

// emptyAnswer is a successful V1 answer with nothing in it (an empty list),
// which is what a lookup of another merchant's ids should find.
func emptyAnswer(r reply) bool {
	switch v := r.json["response"].(type) {
	case nil:
		return true
	case []any:
		return len(v) == 0
	case map[string]any:
		list, _ := v["list"].([]any)
		total, _ := v["total"].(float64)
		return v["list"] != nil && len(list) == 0 && total == 0
	}
	return false
}
