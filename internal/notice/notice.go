// Package notice is the i'mport V1 notification dialect: it subscribes to
// settled outcomes and writes the V1 webhook (notice_url) outbox rows in the
// settling transaction. The payload is i'mport's: imp_uid, merchant_uid,
// status, and cancellation_id for a refund.
//
// V1 notifies paid payments, scheduled executions whether paid or failed,
// and refunds whose requester asked for it. Payments another dialect owns
// (v3 renewals) are left to that dialect.
package notice

import (
	"context"

	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/reqid"
	"github.com/billkey/billkey/internal/scheduler"
	"github.com/billkey/billkey/internal/store"
)

// ScheduleTexts are the scheduler's words in V1: the fail reasons of entries
// that end without a payment attempt are what `again` answers in the same
// situations.
var ScheduleTexts = scheduler.Texts{
	NoKey:        "등록되지 않은 구매자입니다.",
	Duplicate:    "이미 주문이 이루어진 건입니다. (동일한 merchant_uid로 결제 또는 취소된 기록이 있습니다)",
	CheckName:    "카드 유효성 확인",
	CheckRefund:  "checking_amount 자동취소",
	CheckUnknown: "카드사 응답을 확인하지 못했습니다. 잠시 후 다시 시도해주세요.",
}

// Notifier writes V1 webhook events.
type Notifier struct {
	clock clock.Clock
}

// New returns a notifier stamping events with clk's time.
func New(clk clock.Clock) *Notifier {
	if clk == nil {
		clk = clock.Real{}
	}
	return &Notifier{clock: clk}
}

// Events are the V1 webhooks an outcome fires.
func (n *Notifier) Events(ctx context.Context, p *core.Payment, o charge.Outcome) []core.Event {
	if p.Dialect != core.DialectV1 {
		return nil
	}
	switch {
	case o.Refund != nil:
		if !o.RefundNotify {
			return nil
		}
		return []core.Event{n.event(ctx, p, "cancelled", o.Refund.ID)}
	case p.Status == core.StatusPaid, p.Status == core.StatusFailed && p.CustomerUIDUsage == core.UsageScheduled:
		return []core.Event{n.event(ctx, p, string(p.Status), "")}
	}
	return nil
}

// Settled is the charge.SettleHook.
func (n *Notifier) Settled(ctx context.Context, tx *store.Tx, p *core.Payment, o charge.Outcome) error {
	events := n.Events(ctx, p, o)
	if len(events) == 0 {
		return nil
	}
	return tx.InsertEvents(ctx, events)
}

func (n *Notifier) event(ctx context.Context, p *core.Payment, status, cancellationID string) core.Event {
	payload := map[string]string{"imp_uid": p.ImpUID, "merchant_uid": p.MerchantUID, "status": status}
	if cancellationID != "" {
		payload["cancellation_id"] = cancellationID
	}
	return core.Event{
		ID: charge.NewEventID(), MerchantID: p.MerchantID, Type: "payment." + status, ImpUID: p.ImpUID,
		Payload: payload, URL: p.NoticeURL, CreatedAt: n.clock.Now(), RequestID: reqid.From(ctx),
	}
}
