package charge_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/charge/chargetest"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/testenv"
)

const (
	cardOK          = "4242-4242-4242-4242"
	cardDecline     = "4000-0000-0000-0002"
	cardLaterDecl   = "4000-0000-0000-0341"
	cardPGError     = "4000-0000-0000-0119"
	cardLost        = "4000-0000-0000-0259"
	cardInsufficent = "4000-0000-0000-9995"
)

func card(n string) pg.Card {
	return pg.Card{Number: n, Expiry: "2030-12", Birth: "800101", Pwd2Digit: "12"}
}

func issue(t *testing.T, bd *chargetest.Bundle, uid, number string) *core.BillingKey {
	t.Helper()
	k, err := bd.Service.IssueBillingKey(context.Background(), bd.Merchant.ID, charge.IssueKeyInput{CustomerUID: uid, Card: card(number)})
	if err != nil {
		t.Fatalf("issue %s: %v", uid, err)
	}
	return k
}

func again(bd *chargetest.Bundle, uid, order string, amount int64) (*core.Payment, error) {
	return bd.Service.Again(context.Background(), bd.Merchant.ID, charge.PayInput{CustomerUID: uid, MerchantUID: order, Amount: amount, Name: "월간 이용권"})
}

func TestAgainOutcomes(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		_, bd := setup(t, b)
		issue(t, bd, "ok", cardOK)
		issue(t, bd, "later", cardLaterDecl)

		p, err := again(bd, "ok", "order-1", 1000)
		if err != nil || p.Status != core.StatusPaid || p.CustomerUIDUsage != core.UsagePayment || p.PaidAt.IsZero() {
			t.Fatalf("again ok: %+v %v", p, err)
		}
		if p.CardNumber != "424242******4242" {
			t.Errorf("card_number %q, want masked", p.CardNumber)
		}

		p, err = again(bd, "later", "order-2", 1000)
		if err != nil || p.Status != core.StatusFailed || p.FailReason == "" || p.FailedAt.IsZero() {
			t.Fatalf("decline must be a failed payment, not an error: %+v %v", p, err)
		}
		// A failed attempt does not hold the order: a retry with a good key may pay it.
		if p, err = again(bd, "ok", "order-2", 1000); err != nil || p.Status != core.StatusPaid {
			t.Fatalf("retry after decline: %+v %v", p, err)
		}
		var dup *charge.DuplicateOrderError
		if _, err = again(bd, "ok", "order-1", 1000); !errors.As(err, &dup) {
			t.Fatalf("second charge of a paid order: %v", err)
		}
		if _, err = again(bd, "nobody", "order-3", 1000); !errors.Is(err, charge.ErrCustomerNotFound) {
			t.Fatalf("unknown customer: %v", err)
		}
		if n := bd.Sim.ChargeCount(true); n != 2 {
			t.Fatalf("simulator approved %d charges, want 2", n)
		}
	})
}

// 50 identical again calls at once: the unique index lets exactly one reach the PG.
func TestConcurrentDuplicateAgainChargesOnce(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		_, bd := setup(t, b)
		issue(t, bd, "cust", cardOK)
		const n = 50
		var wg sync.WaitGroup
		var mu sync.Mutex
		paid, refused := 0, 0
		start := make(chan struct{})
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				p, err := again(bd, "cust", "dup-order", 5000)
				mu.Lock()
				defer mu.Unlock()
				var dup *charge.DuplicateOrderError
				var inProgress *charge.InProgressError
				switch {
				case err == nil && p.Status == core.StatusPaid:
					paid++
				case errors.As(err, &dup), errors.As(err, &inProgress):
					refused++
				default:
					t.Errorf("unexpected outcome: %+v %v", p, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if paid != 1 || refused != n-1 {
			t.Fatalf("paid=%d refused=%d, want 1 and %d", paid, refused, n-1)
		}
		if got := len(bd.Sim.Ledger()); got != 1 {
			t.Fatalf("simulator ledger has %d charges, want exactly 1", got)
		}
	})
}

// The PG approves and the response is lost: the payment stays unknown, the
// order stays held, and the reconciler finds the approval by look-up.
func TestLostResponseIsReconciledNotRecharged(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		svc, bd := setup(t, b)
		issue(t, bd, "lost", cardLost)
		p, err := again(bd, "lost", "order-lost", 7000)
		if err != nil || p.Status != core.StatusUnknown {
			t.Fatalf("lost response: %+v %v", p, err)
		}
		var inProgress *charge.InProgressError
		if _, err := again(bd, "lost", "order-lost", 7000); !errors.As(err, &inProgress) {
			t.Fatalf("retry while unknown must be refused, got %v", err)
		}
		if n := len(bd.Sim.Ledger()); n != 1 {
			t.Fatalf("ledger %d, want 1", n)
		}
		ctx := context.Background()
		if n, err := svc.Reconcile(ctx); err != nil || n != 1 {
			t.Fatalf("reconcile: resolved %d, %v", n, err)
		}
		got, err := svc.GetPayment(ctx, bd.Merchant.ID, p.ImpUID)
		if err != nil || got.Status != core.StatusPaid || got.PGTID == "" {
			t.Fatalf("after reconcile: %+v %v", got, err)
		}
		events, _ := bd.Store.Events(ctx, bd.Merchant.ID, p.ImpUID)
		if len(events) != 1 || events[0].Payload["status"] != "paid" {
			t.Fatalf("paid webhook event: %+v", events)
		}
		var dup *charge.DuplicateOrderError
		if _, err := again(bd, "lost", "order-lost", 7000); !errors.As(err, &dup) {
			t.Fatalf("retry after reconcile: %v", err)
		}
		if n := len(bd.Sim.Ledger()); n != 1 {
			t.Fatalf("ledger %d after retries, want 1", n)
		}
	})
}

// A process dies after the PG approved and before the outcome was stored:
// the attempt row is left pending. The merchant's retry must find the
// approval instead of charging again.
func TestKilledBetweenApprovalAndCommit(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		svc, bd := setup(t, b)
		ctx := context.Background()
		k := issue(t, bd, "cust", cardOK)
		in := charge.PayInput{CustomerUID: "cust", MerchantUID: "order-crash", Amount: 9900, Currency: "KRW"}
		p, req := svc.PrepareAgain(bd.Merchant.ID, in, k)
		if err := svc.Start(ctx, p, nil); err != nil {
			t.Fatal(err)
		}
		req.IdempotencyKey, req.Amount, req.Currency = p.ImpUID, p.Amount, p.Currency
		req.Target = pg.Target{Provider: p.PGProvider, MID: p.PGID, Sandbox: p.Sandbox}
		if res, err := bd.PG.Charge(ctx, req); err != nil || res.Status != pg.ChargeApproved {
			t.Fatalf("charge at PG: %+v %v", res, err)
		}
		// ... and the process is gone: nothing recorded the approval.

		var inProgress *charge.InProgressError
		if _, err := again(bd, "cust", "order-crash", 9900); !errors.As(err, &inProgress) {
			t.Fatalf("retry before the attempt deadline: %v", err)
		}
		bd.Clock.Advance(time.Minute) // past the dead attempt's deadline
		var dup *charge.DuplicateOrderError
		if _, err := again(bd, "cust", "order-crash", 9900); !errors.As(err, &dup) {
			t.Fatalf("retry after the deadline must find the approval: %v", err)
		}
		if n := len(bd.Sim.Ledger()); n != 1 {
			t.Fatalf("simulator ledger %d, want 1", n)
		}
		got, _ := svc.GetPayment(ctx, bd.Merchant.ID, p.ImpUID)
		if got.Status != core.StatusPaid {
			t.Fatalf("recovered payment status %s", got.Status)
		}
	})
}

// A pending attempt whose PG call never happened is released as failed
// after two look-ups past its deadline, and the order can then be paid.
func TestDeadAttemptThatNeverReachedPGIsReleased(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		svc, bd := setup(t, b)
		ctx := context.Background()
		k := issue(t, bd, "cust", cardOK)
		p, _ := svc.PrepareAgain(bd.Merchant.ID, charge.PayInput{CustomerUID: "cust", MerchantUID: "order-x", Amount: 100, Currency: "KRW"}, k)
		if err := svc.Start(ctx, p, nil); err != nil {
			t.Fatal(err)
		}
		bd.Clock.Advance(time.Minute)
		for i := 0; i < 3; i++ {
			if _, err := svc.Reconcile(ctx); err != nil {
				t.Fatal(err)
			}
			bd.Clock.Advance(time.Minute)
		}
		got, _ := svc.GetPayment(ctx, bd.Merchant.ID, p.ImpUID)
		if got.Status != core.StatusFailed {
			t.Fatalf("dead attempt status %s, want failed", got.Status)
		}
		if p, err := again(bd, "cust", "order-x", 100); err != nil || p.Status != core.StatusPaid {
			t.Fatalf("pay after release: %+v %v", p, err)
		}
	})
}

func TestPGErrorChargesNothing(t *testing.T) {
	t.Parallel()
	svc, bd := setup(t, testenv.SQLite(t))
	c := card(cardPGError)
	p, err := svc.Onetime(context.Background(), bd.Merchant.ID, charge.PayInput{MerchantUID: "order-err", Amount: 1000, Card: &c})
	var refused *charge.PGRefusedError
	if !errors.As(err, &refused) || refused.Payment == nil || refused.Payment.Status != core.StatusFailed {
		t.Fatalf("PG error: %+v %v", p, err)
	}
	if n := bd.Sim.ChargeCount(true); n != 0 {
		t.Fatalf("approved %d", n)
	}
}

func TestInvalidCardRejectedBeforePG(t *testing.T) {
	t.Parallel()
	svc, bd := setup(t, testenv.SQLite(t))
	ctx := context.Background()
	for _, c := range []pg.Card{{Number: "4242-4242-4242-4241", Expiry: "2030-12"}, {Number: cardOK, Expiry: "2020-01"}, {Number: cardOK, Expiry: "soon"}} {
		_, err := svc.IssueBillingKey(ctx, bd.Merchant.ID, charge.IssueKeyInput{CustomerUID: "x", Card: c})
		var inv *charge.InvalidCardError
		if !errors.As(err, &inv) {
			t.Errorf("card %+v: %v, want InvalidCardError", c.Expiry, err)
		}
	}
	_, err := svc.IssueBillingKey(ctx, bd.Merchant.ID, charge.IssueKeyInput{CustomerUID: "y", Card: card(cardDecline)})
	var refused *charge.PGRefusedError
	if !errors.As(err, &refused) || refused.Stage != "issue" {
		t.Fatalf("declined issuance: %v", err)
	}
}

// Concurrent partial cancels can never refund more than was paid.
func TestConcurrentCancelsNeverOverRefund(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		svc, bd := setup(t, b)
		ctx := context.Background()
		issue(t, bd, "cust", cardOK)
		p, err := again(bd, "cust", "order-c", 1000)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for i := 0; i < 25; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				amt := int64(100)
				_, err := svc.Cancel(ctx, bd.Merchant.ID, charge.CancelInput{ImpUID: p.ImpUID, Amount: &amt, Reason: "partial"})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, charge.ErrNothingToCancel), errors.Is(err, charge.ErrCancelExceeds):
				default:
					t.Errorf("cancel: %v", err)
				}
			}()
		}
		wg.Wait()
		got, _ := svc.GetPayment(ctx, bd.Merchant.ID, p.ImpUID)
		if ok != 10 || got.CancelAmount != 1000 || len(got.Cancels) != 10 || got.Status != core.StatusCancelled {
			t.Fatalf("ok=%d cancel_amount=%d history=%d status=%s", ok, got.CancelAmount, len(got.Cancels), got.Status)
		}
		for _, c := range bd.Sim.Ledger() {
			if c.Cancelled != 1000 {
				t.Fatalf("simulator refunded %d", c.Cancelled)
			}
		}
	})
}

func TestCancelChecksumAndFull(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		svc, bd := setup(t, b)
		ctx := context.Background()
		issue(t, bd, "cust", cardOK)
		p, _ := again(bd, "cust", "order-k", 1000)
		wrong, amt := int64(999), int64(300)
		if _, err := svc.Cancel(ctx, bd.Merchant.ID, charge.CancelInput{ImpUID: p.ImpUID, Amount: &amt, Checksum: &wrong}); !errors.Is(err, charge.ErrChecksumMismatch) {
			t.Fatalf("checksum mismatch: %v", err)
		}
		right := int64(1000)
		got, err := svc.Cancel(ctx, bd.Merchant.ID, charge.CancelInput{MerchantUID: "order-k", Amount: &amt, Checksum: &right, EnableWebhook: true})
		if err != nil || got.CancelAmount != 300 || got.Status != core.StatusCancelled || len(got.Cancels) != 1 {
			t.Fatalf("partial: %+v %v", got, err)
		}
		got, err = svc.Cancel(ctx, bd.Merchant.ID, charge.CancelInput{ImpUID: p.ImpUID, Reason: "rest"})
		if err != nil || got.CancelAmount != 1000 || len(got.Cancels) != 2 {
			t.Fatalf("full: %+v %v", got, err)
		}
		if _, err := svc.Cancel(ctx, bd.Merchant.ID, charge.CancelInput{ImpUID: p.ImpUID}); !errors.Is(err, charge.ErrNothingToCancel) {
			t.Fatalf("cancel of fully cancelled: %v", err)
		}
		events, _ := bd.Store.Events(ctx, bd.Merchant.ID, p.ImpUID)
		var cancelled int
		for _, ev := range events {
			if ev.Payload["status"] == "cancelled" {
				cancelled++
				if ev.Payload["cancellation_id"] == "" {
					t.Errorf("cancel event without cancellation_id: %+v", ev)
				}
			}
		}
		if cancelled != 1 {
			t.Fatalf("cancel events %d, want 1 (only the cancel with enable_webhook)", cancelled)
		}
	})
}

// setup builds just the charge service on a real store and the sandbox PG
// (with the V1 notifier subscribed), not the whole app.
func setup(t *testing.T, b testenv.Backend, opts ...func(*chargetest.Options)) (*charge.Service, *chargetest.Bundle) {
	t.Helper()
	bd := chargetest.New(t, b, opts...)
	return bd.Service, bd
}
