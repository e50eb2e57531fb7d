package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/testenv"
)

// The reconciler backlog is read from the store at scrape time: a charge
// whose PG answer was lost shows as one unknown outcome whose age grows with
// the clock; refunds are counted with their amount; processor calls carry
// provider, operation and outcome.
func TestOperationalMetrics(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b)
		tok := e.Token(e.Cred)
		card := func(n string) map[string]string {
			return map[string]string{"card_number": n, "expiry": "2030-12", "birth": "800101", "pwd_2digit": "12"}
		}
		for uid, n := range map[string]string{"good": "4242424242424242", "lost": "4000000000000259"} {
			if st := e.Do("POST", "/subscribe/customers/"+uid, tok, card(n), nil); st != 200 {
				t.Fatalf("issue %s: %d", uid, st)
			}
		}
		e.Do("POST", "/subscribe/payments/again", tok, map[string]any{"customer_uid": "good", "merchant_uid": "o1", "amount": 8900, "name": "plan"}, nil)
		e.Do("POST", "/subscribe/payments/again", tok, map[string]any{"customer_uid": "lost", "merchant_uid": "o2", "amount": 5000, "name": "plan"}, nil)
		e.Do("POST", "/payments/cancel", tok, map[string]any{"merchant_uid": "o1", "amount": 900, "reason": "partial"}, nil)
		e.Clock.Advance(90 * time.Second)

		reg := e.App.Registry()
		want := `
# HELP billkey_reconciler_backlog Charges and refunds waiting for the reconciler to learn their outcome at the PG, by kind (payment_unknown, payment_pending, cancel_pending).
# TYPE billkey_reconciler_backlog gauge
billkey_reconciler_backlog{kind="cancel_pending"} 0
billkey_reconciler_backlog{kind="payment_pending"} 0
billkey_reconciler_backlog{kind="payment_unknown"} 1
# HELP billkey_reconciler_oldest_seconds Age of the oldest unresolved charge or refund of each kind (0 when there is none).
# TYPE billkey_reconciler_oldest_seconds gauge
billkey_reconciler_oldest_seconds{kind="cancel_pending"} 0
billkey_reconciler_oldest_seconds{kind="payment_pending"} 0
billkey_reconciler_oldest_seconds{kind="payment_unknown"} 90
# HELP billkey_refunded_amount_total Amount refunded, in minor units of the currency.
# TYPE billkey_refunded_amount_total counter
billkey_refunded_amount_total{currency="KRW"} 900
# HELP billkey_refunds_total Refunds (cancels) by outcome: done, refused by the PG, unknown (no answer; the reconciler confirms it), reconciled_done, reconciled_failed.
# TYPE billkey_refunds_total counter
billkey_refunds_total{outcome="done"} 1
`
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "billkey_reconciler_backlog", "billkey_reconciler_oldest_seconds",
			"billkey_refunds_total", "billkey_refunded_amount_total"); err != nil {
			t.Fatal(err)
		}
		calls := map[string]float64{}
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() != "billkey_pg_calls_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				l := map[string]string{}
				for _, lp := range m.GetLabel() {
					l[lp.GetName()] = lp.GetValue()
				}
				calls[l["provider"]+" "+l["operation"]+" "+l["outcome"]] += m.GetCounter().GetValue()
			}
		}
		for k, n := range map[string]float64{"nice issue_key ok": 2, "nice charge approved": 1, "nice charge unknown": 1, "nice cancel ok": 1} {
			if calls[k] != n {
				t.Errorf("billkey_pg_calls_total %s = %v, want %v (all: %v)", k, calls[k], n, calls)
			}
		}
	})
}
