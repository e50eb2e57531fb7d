package subscription_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/charge/chargetest"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/scheduler"
	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/subscription"
	"github.com/billkey/billkey/internal/testenv"
)

// outage is a database that goes down at the write storing a charge's
// outcome and stays down until restored.
type outage struct {
	down    atomic.Bool
	armed   atomic.Bool
	errDown error
}

type outageChargeStore struct {
	charge.Store
	o *outage
}

func (s outageChargeStore) SettleAttempt(ctx context.Context, p *core.Payment, hooks func(*store.Tx) error) (int, error) {
	if s.o.armed.CompareAndSwap(true, false) {
		s.o.down.Store(true)
	}
	if s.o.down.Load() {
		return 0, s.o.errDown
	}
	return s.Store.SettleAttempt(ctx, p, hooks)
}

type outageSubStore struct {
	subscription.Store
	o *outage
}

func (s outageSubStore) GetSubscription(ctx context.Context, merchantID, id int64) (*core.Subscription, error) {
	if s.o.down.Load() {
		return nil, s.o.errDown
	}
	return s.Store.GetSubscription(ctx, merchantID, id)
}

// The PG approved a subscription's first charge but the database went down
// before the approval was stored: the create must not fail (a client
// retrying under a new invoice_id would pay twice). It answers the
// subscription, PENDING, and the reconciler settles the charge from the
// PG's records into the first deposit.
func TestCreateApprovedButNotStoredIsPending(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		o := &outage{errDown: errors.New("database down")}
		bd := chargetest.New(t, b, func(opts *chargetest.Options) {
			opts.WrapStore = func(s charge.Store) charge.Store { return outageChargeStore{s, o} }
		})
		s := scheduler.New(bd.Service, bd.Store, scheduler.Config{Workers: 2, Logger: bd.Log})
		s.Attach()
		e := subscription.New(bd.Service, outageSubStore{bd.Store, o}, s, subscription.Config{Logger: bd.Log})
		bd.IssueKey(t, "user_42", "4242-4242-4242-4242")

		o.armed.Store(true)
		sub, err := e.Create(ctx, bd.Merchant.ID, subscription.CreateInput{InvoiceID: "inv-1", Amount: 9900, Currency: "KRW",
			Country: "KR", Plan: "MONTHLY", PlanUnit: 1, AutoRenewal: true, CustomerUID: "user_42"})
		if err != nil {
			t.Fatalf("create with the database down after approval: %v, want the pending subscription", err)
		}
		if sub.ID == 0 || sub.Status != core.SubPending {
			t.Fatalf("answer %+v, want the subscription PENDING", sub)
		}
		if ledger := bd.Sim.Ledger(); len(ledger) != 1 || ledger[0].Status != pg.ChargeApproved {
			t.Fatalf("PG ledger %+v, want one approval", ledger)
		}

		o.down.Store(false)
		bd.Clock.Advance(time.Minute) // past the attempt deadline
		if _, err := bd.Service.Reconcile(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := e.Get(ctx, bd.Merchant.ID, sub.ID)
		if err != nil || got.Status != core.SubActive || got.PeriodsPaid != 1 {
			t.Fatalf("after reconcile %+v %v, want ACTIVE with one period paid", got, err)
		}
		ds, err := bd.Store.Deposits(ctx, bd.Merchant.ID, sub.ID)
		if err != nil || len(ds) != 1 || ds[0].Status != core.DepositCompleted {
			t.Fatalf("deposits %+v %v, want one completed", ds, err)
		}
		if n := len(bd.Sim.Ledger()); n != 1 {
			t.Fatalf("PG ledger %d charges, want 1", n)
		}
	})
}
