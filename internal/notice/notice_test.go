package notice_test

import (
	"testing"
	"time"

	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/notice"
)

func TestEvents(t *testing.T) {
	t.Parallel()
	n := notice.New(clock.NewTest(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)))
	pay := func(d core.Dialect, st core.PaymentStatus, usage string) *core.Payment {
		return &core.Payment{MerchantID: 7, ImpUID: "imp_1", MerchantUID: "o1", Status: st, CustomerUIDUsage: usage, Dialect: d,
			NoticeURL: "https://shop.example.com/hook"}
	}
	refund := &core.Cancellation{ID: "cncl_1"}
	for _, c := range []struct {
		name string
		p    *core.Payment
		o    charge.Outcome
		want string // event type, "" for none
	}{
		{"paid", pay(core.DialectV1, core.StatusPaid, core.UsagePayment), charge.Outcome{}, "payment.paid"},
		{"declined", pay(core.DialectV1, core.StatusFailed, core.UsagePayment), charge.Outcome{}, ""},
		{"scheduled declined", pay(core.DialectV1, core.StatusFailed, core.UsageScheduled), charge.Outcome{}, "payment.failed"},
		{"reconciled paid", pay(core.DialectV1, core.StatusPaid, core.UsagePayment), charge.Outcome{Reconciled: true}, "payment.paid"},
		{"refund asked to notify", pay(core.DialectV1, core.StatusCancelled, core.UsagePayment), charge.Outcome{Refund: refund, RefundNotify: true}, "payment.cancelled"},
		{"refund not asked", pay(core.DialectV1, core.StatusCancelled, core.UsagePayment), charge.Outcome{Refund: refund}, ""},
		{"v3 renewal", pay(core.DialectV3, core.StatusPaid, core.UsageScheduled), charge.Outcome{}, ""},
	} {
		events := n.Events(t.Context(), c.p, c.o)
		if c.want == "" {
			if len(events) != 0 {
				t.Errorf("%s: %+v, want none", c.name, events)
			}
			continue
		}
		if len(events) != 1 {
			t.Fatalf("%s: %d events, want 1", c.name, len(events))
		}
		e := events[0]
		if e.Type != c.want || e.MerchantID != 7 || e.ImpUID != "imp_1" || e.URL != c.p.NoticeURL ||
			e.Payload["imp_uid"] != "imp_1" || e.Payload["merchant_uid"] != "o1" || "payment."+e.Payload["status"] != c.want {
			t.Errorf("%s: %+v", c.name, e)
		}
		if c.o.Refund != nil && e.Payload["cancellation_id"] != "cncl_1" {
			t.Errorf("%s: cancellation_id %q", c.name, e.Payload["cancellation_id"])
		}
	}
}
