package subscription_test

import (
	"testing"
	"time"

	"github.com/billkey/billkey/internal/charge/chargetest"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/scheduler"
	"github.com/billkey/billkey/internal/subscription"
	"github.com/billkey/billkey/internal/testenv"
)

// testBundle is what a unit test of the engine drives besides the engine:
// the scheduler running its renewals and the charge protocol's bundle.
type testBundle struct {
	*chargetest.Bundle
	engine *subscription.Engine
	sched  *scheduler.Scheduler
}

// setup builds just the engine on the scheduler and the charge protocol,
// with a real store and the sandbox PG, not the whole app.
func setup(t *testing.T, b testenv.Backend) (*subscription.Engine, *testBundle) {
	t.Helper()
	bd := chargetest.New(t, b)
	s := scheduler.New(bd.Service, bd.Store, scheduler.Config{Workers: 4, Logger: bd.Log})
	s.Attach()
	e := subscription.New(bd.Service, bd.Store, s, subscription.Config{Logger: bd.Log})
	return e, &testBundle{Bundle: bd, engine: e, sched: s}
}

// A renewal is a core payment, but the v3 engine, not the V1 notifier,
// tells the merchant about it: a deposit and its {deposit_id} event, no V1
// payment webhook.
func TestUnitRenewalNotifiesInItsOwnDialect(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e, bd := setup(t, b)
		bd.IssueKey(t, "user_42", "4242-4242-4242-4242")
		sub, err := e.Create(ctx, bd.Merchant.ID, subscription.CreateInput{InvoiceID: "inv-1", Amount: 9900, Currency: "KRW",
			Country: "KR", Plan: "MONTHLY", PlanUnit: 1, AutoRenewal: true, CustomerUID: "user_42"})
		if err != nil {
			t.Fatal(err)
		}
		if sub.Status != core.SubActive {
			t.Fatalf("status %s after the first charge, want ACTIVE", sub.Status)
		}
		bd.Clock.Advance(32 * 24 * time.Hour)
		if _, err := bd.sched.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		ds, err := bd.Store.Deposits(ctx, bd.Merchant.ID, sub.ID)
		if err != nil || len(ds) != 2 {
			t.Fatalf("deposits %+v %v, want two periods", ds, err)
		}
		for _, d := range ds {
			if d.Status != core.DepositCompleted {
				t.Errorf("deposit %d: %s", d.Period, d.Status)
			}
			p, err := bd.Service.GetPayment(ctx, bd.Merchant.ID, d.ImpUID)
			if err != nil || p.Dialect != core.DialectV3 || p.Status != core.StatusPaid {
				t.Fatalf("renewal payment %+v %v", p, err)
			}
			events, err := bd.Store.Events(ctx, bd.Merchant.ID, d.ImpUID)
			if err != nil || len(events) != 1 || events[0].Type != "deposit.completed" || events[0].Profile != "d24" {
				t.Fatalf("period %d events %+v %v, want only the v3 deposit notification", d.Period, events, err)
			}
		}
	})
}
