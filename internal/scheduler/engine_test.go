package scheduler_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/testenv"
)

// The PG approves and the response is lost: the entry shows the attempt but
// stays unfinished, re-running the scheduler charges nothing, and the
// reconciler's look-up finishes the entry as paid.
func TestUnknownOutcomeStaysPendingUntilReconciled(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		e.issue("lost", cardLost, core.Buyer{})
		e.book("lost", entry{"u-1", 60, 7000})
		e.Clock.Advance(time.Minute)
		s := newScheduler(e, 4)
		if n, err := s.RunDue(ctx); err != nil || n != 1 {
			t.Fatalf("run due: %d %v", n, err)
		}
		got := e.get("u-1")
		if got.ScheduleStatus != "scheduled" || got.ImpUID == nil || got.PaymentStatus != nil || got.ExecutedAt != 0 {
			t.Fatalf("entry with unknown outcome %+v", got)
		}
		var pay payment
		e.ok("GET", "/payments/"+*got.ImpUID, nil, &pay)
		if pay.Status != "ready" {
			t.Fatalf("unknown payment shows %q, want ready", pay.Status)
		}
		// Unfinished entries can be neither revoked nor moved.
		e.fails("POST", "/subscribe/payments/unschedule", map[string]any{"merchant_uid": "u-1"}, 200, 1, "취소할 예약결제")
		e.fails("PUT", "/subscribe/payments/schedule/u-1", map[string]any{"schedule_at": e.now() + 60}, 400, -1, "변경할 수 없습니다")
		for range 3 {
			if n, err := s.RunDue(ctx); err != nil || n != 0 {
				t.Fatalf("re-run must find nothing: %d %v", n, err)
			}
		}
		if n := len(e.App.Sim.Ledger()); n != 1 {
			t.Fatalf("ledger %d, want 1", n)
		}
		if n, err := e.App.Service.Reconcile(ctx); err != nil || n != 1 {
			t.Fatalf("reconcile: %d %v", n, err)
		}
		got = e.get("u-1")
		if got.ScheduleStatus != "executed" || str(got.PaymentStatus) != "paid" || got.ExecutedAt == 0 {
			t.Fatalf("after reconcile %+v", got)
		}
		events, _ := e.App.Store.Events(ctx, e.Merchant.ID, *got.ImpUID)
		if len(events) != 1 || events[0].Payload["status"] != "paid" {
			t.Fatalf("paid event after reconcile: %+v", events)
		}
		if n := len(e.App.Sim.Ledger()); n != 1 {
			t.Fatalf("ledger %d after reconcile, want 1", n)
		}
	})
}

// A PG error (5xx, nothing charged) is a stored failure, webhook included.
func TestPGErrorFailsEntry(t *testing.T) {
	t.Parallel()
	s, e := setup(t, testenv.SQLite(t))
	e.IssueKey(t, "err", cardOK)
	e.bookAll(s, "err", entry{"pe-1", 60, 100})
	e.Sim.SetConfig(simErrors(1))
	e.runAfter(s, 60)
	got := e.schedule("pe-1")
	if got.Status != core.ScheduleExecuted || got.PaymentStatus != core.StatusFailed || got.FailReason == "" {
		t.Fatalf("entry after a PG error %+v", got)
	}
	events, _ := e.Store.Events(context.Background(), e.Merchant.ID, got.ImpUID)
	if len(events) != 1 || events[0].Payload["status"] != "failed" {
		t.Fatalf("failed event: %+v", events)
	}
}

// Two (and more) scheduler instances on one database claim concurrently:
// every entry runs exactly once. Run with -race.
func TestConcurrentSchedulersExecuteEachOnce(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		_, e := setup(t, b)
		ctx := context.Background()
		const n = 150
		for i := range 5 {
			e.IssueKey(t, fmt.Sprintf("c%d", i), cardOK)
		}
		for i := range 5 {
			var es []entry
			for j := range n / 5 {
				es = append(es, entry{fmt.Sprintf("cc-%d-%03d", i, j), 1, int64(100 + j)})
			}
			e.bookAll(e.newScheduler(1), fmt.Sprintf("c%d", i), es...)
		}
		e.Clock.Advance(time.Second)
		// Background loops and synchronous drains at once.
		runCtx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for range 2 {
			s := e.newScheduler(6)
			wg.Add(1)
			go func() { defer wg.Done(); s.Run(runCtx) }()
		}
		var total sync.Map
		for i := range 2 {
			s := e.newScheduler(4)
			wg.Add(1)
			go func() {
				defer wg.Done()
				k, err := s.RunDue(ctx)
				if err != nil {
					t.Errorf("run due: %v", err)
				}
				total.Store(i, k)
			}()
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			stats, err := e.Store.ScheduleStats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if stats[core.ScheduleExecuted] == n {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("not drained: %v", stats)
			}
			time.Sleep(10 * time.Millisecond)
		}
		stop()
		wg.Wait()
		per := e.approvedPerOrder()
		if len(per) != n {
			t.Fatalf("%d orders approved, want %d", len(per), n)
		}
		for mu, c := range per {
			if c != 1 {
				t.Fatalf("%s approved %d times", mu, c)
			}
		}
		if got := len(e.Sim.Ledger()); got != n {
			t.Fatalf("ledger has %d charges, want %d", got, n)
		}
	})
}

// startAttempt plays a node that claimed an entry and recorded its attempt,
// then died; it returns the attempt and the PG request it would have sent.
func startAttempt(t *testing.T, e *testBundle, mu string) (*core.Payment, pg.ChargeRequest) {
	t.Helper()
	ctx := context.Background()
	now := e.Clock.Now()
	claimed, err := e.Store.ClaimDueSchedules(ctx, now, now.Add(time.Minute), "dead-node", 10)
	if err != nil || len(claimed) != 1 || claimed[0].MerchantUID != mu {
		t.Fatalf("claim: %+v %v", claimed, err)
	}
	sc := claimed[0]
	k, err := e.Store.GetBillingKey(ctx, e.Merchant.ID, sc.CustomerUID)
	if err != nil {
		t.Fatal(err)
	}
	p, req := e.Service.PrepareAgain(e.Merchant.ID, charge.PayInput{
		MerchantUID: sc.MerchantUID, Amount: sc.Amount, Currency: sc.Currency, CustomerUID: sc.CustomerUID, Usage: core.UsageScheduled,
	}, k)
	p.ImpUID = charge.NewImpUID()
	err = e.Store.InTx(ctx, func(tx *store.Tx) error {
		ok, err := tx.StartScheduleAttempt(ctx, &sc, "dead-node", p, now)
		if err != nil || !ok {
			return fmt.Errorf("start: %v %v", ok, err)
		}
		return tx.BeginAttempt(ctx, p)
	})
	if err != nil {
		t.Fatal(err)
	}
	req.IdempotencyKey, req.Amount, req.Currency = p.ImpUID, p.Amount, p.Currency
	req.Target = pg.Target{Provider: p.PGProvider, MID: p.PGID, Sandbox: p.Sandbox}
	return p, req
}

// Killed after the PG approved, before the outcome was stored: the
// reconciler finds the approval and finishes the entry; nothing is charged
// twice however often the scheduler runs.
func TestCrashAfterApprovalIsReconciled(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		s, e := setup(t, b)
		ctx := context.Background()
		e.IssueKey(t, "cust", cardOK)
		e.bookAll(s, "cust", entry{"crash-1", 60, 3000})
		e.Clock.Advance(time.Minute)
		_, req := startAttempt(t, e, "crash-1")
		if res, err := e.PG.Charge(ctx, req); err != nil || res.Status != pg.ChargeApproved {
			t.Fatalf("charge at PG: %+v %v", res, err)
		}
		s = e.newScheduler(2)
		for range 3 {
			if n, _ := s.RunDue(ctx); n != 0 {
				t.Fatalf("an executing entry must not be claimed again (%d)", n)
			}
			e.Clock.Advance(10 * time.Minute)
		}
		if _, err := e.Service.Reconcile(ctx); err != nil {
			t.Fatal(err)
		}
		got := e.schedule("crash-1")
		if got.Status != core.ScheduleExecuted || got.PaymentStatus != core.StatusPaid {
			t.Fatalf("after reconcile %+v", got)
		}
		if per := e.approvedPerOrder(); per["crash-1"] != 1 || len(e.Sim.Ledger()) != 1 {
			t.Fatalf("approvals %v", per)
		}
	})
}

// Killed after recording the attempt, before calling the PG: the look-ups
// prove nothing was charged, the entry goes back to waiting and then runs
// once; it is not lost.
func TestCrashBeforePGCallIsRearmed(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		s, e := setup(t, b)
		ctx := context.Background()
		e.IssueKey(t, "cust", cardOK)
		e.bookAll(s, "cust", entry{"crash-2", 60, 3000})
		e.Clock.Advance(time.Minute)
		dead, _ := startAttempt(t, e, "crash-2")
		for range 4 {
			e.Clock.Advance(time.Minute)
			if _, err := e.Service.Reconcile(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if got := e.schedule("crash-2"); got.Status != core.ScheduleScheduled || got.ImpUID != "" {
			t.Fatalf("entry whose attempt never reached the PG: %+v", got)
		}
		if n, err := e.newScheduler(2).RunDue(ctx); err != nil || n != 1 {
			t.Fatalf("re-run: %d %v", n, err)
		}
		got := e.schedule("crash-2")
		if got.Status != core.ScheduleExecuted || got.PaymentStatus != core.StatusPaid || got.ImpUID == dead.ImpUID {
			t.Fatalf("after re-run %+v", got)
		}
		if per := e.approvedPerOrder(); per["crash-2"] != 1 {
			t.Fatalf("approvals %v", per)
		}
	})
}

// A node that claimed rows and died before starting them holds them only
// until the lease runs out; a revoke meanwhile wins over the stale claim.
func TestExpiredLeaseIsTakenOver(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		e.issue("cust", cardOK, core.Buyer{})
		e.book("cust", entry{"lease-1", 1, 100}, entry{"lease-2", 1, 100})
		e.Clock.Advance(time.Second)
		now := e.Clock.Now()
		claimed, err := e.App.Store.ClaimDueSchedules(ctx, now, now.Add(time.Minute), "dead-node", 10)
		if err != nil || len(claimed) != 2 {
			t.Fatalf("claim %d %v", len(claimed), err)
		}
		e.ok("POST", "/subscribe/payments/unschedule", map[string]any{"merchant_uid": "lease-2"}, nil)
		s := newScheduler(e, 2)
		// Not yet: the lease holds (RunDue waits for the other runner, so use a short context).
		short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		n, _ := s.RunDue(short)
		cancel()
		if n != 0 {
			t.Fatalf("claimed rows taken before the lease ran out: %d", n)
		}
		e.Clock.Advance(time.Minute)
		if n, err := s.RunDue(ctx); err != nil || n != 1 {
			t.Fatalf("after the lease: %d %v", n, err)
		}
		// The dead node's stale claim can no longer start anything.
		sc := claimed[0]
		err = e.App.Store.InTx(ctx, func(tx *store.Tx) error {
			ok, err := tx.StartScheduleAttempt(ctx, &sc, "dead-node", &core.Payment{ImpUID: "imp_stale"}, e.Clock.Now())
			if ok {
				return fmt.Errorf("stale claim started an attempt")
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if s := e.get("lease-1"); str(s.PaymentStatus) != "paid" {
			t.Fatalf("lease-1 %+v", s)
		}
		if s := e.get("lease-2"); s.ScheduleStatus != "revoked" {
			t.Fatalf("lease-2 %+v", s)
		}
		if n := len(e.App.Sim.Ledger()); n != 1 {
			t.Fatalf("ledger %d", n)
		}
	})
}

// A merchant who pays the order with `again` before the entry is due gets
// no second charge: the entry ends failed as a duplicate.
func TestOrderPaidElsewhereIsNotChargedAgain(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		s, e := setup(t, b)
		e.IssueKey(t, "cust", cardOK)
		e.bookAll(s, "cust", entry{"dup-1", 60, 100})
		if _, err := e.Service.Again(context.Background(), e.Merchant.ID, againInput("cust", "dup-1")); err != nil {
			t.Fatal(err)
		}
		e.runAfter(s, 60)
		got := e.schedule("dup-1")
		if got.Status != core.ScheduleExecuted || got.PaymentStatus != core.StatusFailed || got.FailReason == "" {
			t.Fatalf("entry for a paid order %+v", got)
		}
		if per := e.approvedPerOrder(); per["dup-1"] != 1 {
			t.Fatalf("approvals %v", per)
		}
	})
}

// A refund after execution shows on the schedule as payment_status cancelled.
func TestRefundShowsOnSchedule(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.SQLite(t))
	e.issue("cust", cardOK, core.Buyer{})
	e.book("cust", entry{"ref-1", 60, 100})
	e.advance(60)
	e.ok("POST", "/payments/cancel", map[string]any{"merchant_uid": "ref-1"}, nil)
	if got := e.get("ref-1"); str(got.PaymentStatus) != "cancelled" || got.ScheduleStatus != "executed" {
		t.Fatalf("after refund %+v", got)
	}
}

// A claim never takes more rows than asked for (a Postgres planner rescan
// of a LIMIT ... SKIP LOCKED subquery once made LIMIT 2 claim 400).
func TestClaimHonoursLimit(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		s, e := setup(t, b)
		e.IssueKey(t, "c", cardOK)
		var es []entry
		for i := range 300 {
			es = append(es, entry{fmt.Sprintf("lim-%03d", i), 1, 100})
		}
		e.bookAll(s, "c", es...)
		e.Clock.Advance(time.Second)
		now := e.Clock.Now()
		seen := map[string]bool{}
		for i := range 5 {
			l, err := e.Store.ClaimDueSchedules(context.Background(), now, now.Add(time.Minute), fmt.Sprint("tok", i), 2)
			if err != nil || len(l) != 2 {
				t.Fatalf("claim %d: got %d rows, %v; want 2", i, len(l), err)
			}
			for _, sc := range l {
				if seen[sc.MerchantUID] {
					t.Fatalf("%s claimed twice", sc.MerchantUID)
				}
				seen[sc.MerchantUID] = true
			}
		}
	})
}
