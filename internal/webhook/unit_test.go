package webhook_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/testenv"
)

// A settled charge's outbox row reaches the merchant's endpoint with the V1
// payload, once.
func TestUnitSettledChargeIsDelivered(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		svc, bd := setup(t, b, true)
		rc := newReceiver(t, func(int, http.ResponseWriter) {})
		if err := bd.Store.SetMerchantWebhook(ctx, bd.Merchant.ID, rc.URL, "json"); err != nil {
			t.Fatal(err)
		}
		bd.IssueKey(t, "cust", "4242-4242-4242-4242")
		p, err := bd.Service.Again(ctx, bd.Merchant.ID, charge.PayInput{CustomerUID: "cust", MerchantUID: "o-1", Amount: 1000})
		if err != nil || p.Status != core.StatusPaid {
			t.Fatalf("again: %+v %v", p, err)
		}
		if n, err := svc.DeliverDue(ctx); err != nil || n != 1 {
			t.Fatalf("deliver: %d %v", n, err)
		}
		if n, err := svc.DeliverDue(ctx); err != nil || n != 0 {
			t.Fatalf("delivered twice: %d %v", n, err)
		}
		got := rc.deliveries()
		if len(got) != 1 {
			t.Fatalf("%d deliveries, want 1", len(got))
		}
		var body map[string]string
		if err := json.Unmarshal(got[0].Body, &body); err != nil || body["imp_uid"] != p.ImpUID || body["status"] != "paid" || body["merchant_uid"] != "o-1" {
			t.Fatalf("payload %s %v", got[0].Body, err)
		}
	})
}
