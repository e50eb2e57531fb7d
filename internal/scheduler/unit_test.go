package scheduler_test

import (
	"context"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/charge/chargetest"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/scheduler"
	"github.com/billkey/billkey/internal/testenv"
)

// testBundle is what a unit test of the scheduler drives besides the
// scheduler: the charge protocol's bundle (store, sandbox PG, test clock).
type testBundle struct {
	*chargetest.Bundle
	t *testing.T
}

// setup builds just the scheduler on the charge protocol, a real store and
// the sandbox PG (River's setup + testBundle), not the whole app.
func setup(t *testing.T, b testenv.Backend) (*scheduler.Scheduler, *testBundle) {
	t.Helper()
	bd := chargetest.New(t, b)
	s := scheduler.New(bd.Service, bd.Store, scheduler.Config{Workers: 4, Poll: 5 * time.Millisecond, Logger: bd.Log,
		Texts: scheduler.Texts{NoKey: "no key here", Duplicate: "paid elsewhere"}})
	s.Attach()
	return s, &testBundle{Bundle: bd, t: t}
}

func book(t *testing.T, s *scheduler.Scheduler, bd *testBundle, uid, order string, at time.Time) {
	t.Helper()
	_, err := s.Schedule(context.Background(), bd.Merchant.ID, scheduler.Booking{CustomerUID: uid,
		Entries: []scheduler.Entry{{MerchantUID: order, ScheduleAt: at, Amount: 5000, Name: "plan"}}})
	if err != nil {
		t.Fatalf("book %s: %v", order, err)
	}
}

// bookAll books entries of (merchant_uid, seconds from now, amount) for customerUID.
func (bd *testBundle) bookAll(s *scheduler.Scheduler, customerUID string, entries ...entry) {
	bd.t.Helper()
	var list []scheduler.Entry
	for _, en := range entries {
		list = append(list, scheduler.Entry{MerchantUID: en.mu, ScheduleAt: bd.Clock.Now().Add(time.Duration(en.in) * time.Second),
			Amount: en.amount, Name: "월간 이용권"})
	}
	if _, err := s.Schedule(context.Background(), bd.Merchant.ID, scheduler.Booking{CustomerUID: customerUID, Entries: list}); err != nil {
		bd.t.Fatalf("book for %s: %v", customerUID, err)
	}
}

// approvedPerOrder counts approvals at the simulated PG per merchant_uid.
func (bd *testBundle) approvedPerOrder() map[string]int {
	bd.t.Helper()
	return approvedPerOrder(bd.t, bd.Sim, bd.Store, bd.Merchant.ID)
}

// runAfter moves the test clock seconds on and runs everything due, as the
// sandbox clock endpoint does.
func (bd *testBundle) runAfter(s *scheduler.Scheduler, seconds int64) {
	bd.t.Helper()
	bd.Clock.Advance(time.Duration(seconds) * time.Second)
	if _, err := s.RunDue(context.Background()); err != nil {
		bd.t.Fatal(err)
	}
}

// schedule reads an entry's row.
func (bd *testBundle) schedule(mu string) *core.Schedule {
	bd.t.Helper()
	sc, err := bd.Store.GetSchedule(context.Background(), bd.Merchant.ID, mu)
	if err != nil {
		bd.t.Fatalf("schedule %s: %v", mu, err)
	}
	return sc
}

// newScheduler is another node on the same store and service.
func (bd *testBundle) newScheduler(workers int) *scheduler.Scheduler {
	return scheduler.New(bd.Service, bd.Store, scheduler.Config{Workers: workers, Batch: max(1, workers/2), Poll: 5 * time.Millisecond,
		Lease: time.Minute, Logger: bd.Log})
}

// A scheduled entry is charged once at its time; its schedule row and its
// V1 notification are settled with the payment.
func TestUnitEntrySettlesWithScheduleAndNotice(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		s, bd := setup(t, b)
		ctx := context.Background()
		bd.IssueKey(t, "ok", cardOK)
		bd.IssueKey(t, "later", cardLaterDecl)
		at := bd.Clock.Now().Add(time.Hour)
		book(t, s, bd, "ok", "s-paid", at)
		book(t, s, bd, "later", "s-declined", at)
		if n, err := s.RunDue(ctx); err != nil || n != 0 {
			t.Fatalf("nothing is due yet: %d %v", n, err)
		}
		bd.Clock.Advance(time.Hour)
		if n, err := s.RunDue(ctx); err != nil || n != 2 {
			t.Fatalf("run due: %d %v", n, err)
		}
		for order, want := range map[string]core.PaymentStatus{"s-paid": core.StatusPaid, "s-declined": core.StatusFailed} {
			sc, err := s.Get(ctx, bd.Merchant.ID, order)
			if err != nil || sc.Status != core.ScheduleExecuted || sc.PaymentStatus != want || sc.ImpUID == "" {
				t.Fatalf("%s: %+v %v", order, sc, err)
			}
			events, err := bd.Store.Events(ctx, bd.Merchant.ID, sc.ImpUID)
			if err != nil || len(events) != 1 || events[0].Type != "payment."+string(want) || events[0].Payload["merchant_uid"] != order {
				t.Fatalf("%s: V1 notification %+v %v", order, events, err)
			}
		}
		if n, err := s.RunDue(ctx); err != nil || n != 0 {
			t.Fatalf("nothing runs twice: %d %v", n, err)
		}
		if n := len(bd.Sim.Ledger()); n != 2 {
			t.Fatalf("PG ledger %d, want 2", n)
		}
	})
}

// An entry whose key vanished ends with the fail reason the dialect gave
// the scheduler, not a text of the scheduler's own.
func TestUnitMissingKeyUsesDialectText(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		s, bd := setup(t, b)
		ctx := context.Background()
		bd.IssueKey(t, "gone", cardOK)
		book(t, s, bd, "gone", "s-gone", bd.Clock.Now())
		// Behind the service's back, so that no revoke hook runs.
		if _, err := bd.Store.DeleteBillingKey(ctx, bd.Merchant.ID, "gone", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		sc, err := s.Get(ctx, bd.Merchant.ID, "s-gone")
		if err != nil || sc.Status != core.ScheduleExecuted || sc.PaymentStatus != core.StatusFailed || sc.FailReason != "no key here" {
			t.Fatalf("schedule %+v %v", sc, err)
		}
		if n := len(bd.Sim.Ledger()); n != 0 {
			t.Fatalf("PG ledger %d, want 0", n)
		}
	})
}
