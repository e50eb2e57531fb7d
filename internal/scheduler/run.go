package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/store"
)

// Run executes due schedules until ctx ends, then waits for the executions
// in flight (each is bounded by the PG timeout) so that a graceful stop
// leaves nothing for the reconciler.
func (s *Scheduler) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	freed := make(chan struct{}, 1)
	s.log.Info("scheduler running", "workers", s.cfg.Workers, "batch", s.cfg.Batch, "claimers", s.cfg.Claimers, "poll", s.cfg.Poll, "lease", s.cfg.Lease)
	var claimers sync.WaitGroup
	for range s.cfg.Claimers {
		claimers.Go(func() { s.claimLoop(ctx, &wg, freed) })
	}
	claimers.Wait()
}

// claimLoop claims due rows and starts their executions while workers are
// free. Several run at once: one records its batch's attempts while
// another claims the next.
func (s *Scheduler) claimLoop(ctx context.Context, wg *sync.WaitGroup, freed chan struct{}) {
	// Claiming a handful of rows per transaction amortizes the claim; waiting
	// for a quarter of the workers to free up keeps batches reasonable
	// without idling the pool.
	minClaim := max(1, min(s.cfg.Batch, s.cfg.Workers/4))
	for ctx.Err() == nil {
		busy := int(s.inflight.Load() + s.claiming.Load())
		want := min(s.cfg.Workers-busy, s.cfg.Batch)
		if want < minClaim && busy > 0 {
			// A freed worker or a finished claim wakes one claimer; the
			// poll bounds the wait of the others.
			t := time.NewTimer(s.cfg.Poll)
			select {
			case <-freed:
			case <-t.C:
			case <-ctx.Done():
			}
			t.Stop()
			continue
		}
		if !s.reserve(want) {
			continue // another claimer took the free workers meanwhile
		}
		n, err := s.dispatch(ctx, want, wg, freed)
		s.claiming.Add(-int64(want))
		select {
		case freed <- struct{}{}:
		default:
		}
		if err != nil && ctx.Err() == nil {
			s.log.Error("claim due schedules", "err", err)
		}
		if err == nil && n == want {
			continue // a full batch: more is probably due
		}
		s.idle(ctx)
	}
}

// reserve counts want rows as being claimed if that many workers are still
// free once the other claimers' reservations are counted.
func (s *Scheduler) reserve(want int) bool {
	for {
		claiming := s.claiming.Load()
		if int(s.inflight.Load()+claiming)+want > s.cfg.Workers {
			return false
		}
		if s.claiming.CompareAndSwap(claiming, claiming+int64(want)) {
			return true
		}
	}
}

// idle waits for the next poll, or for the test clock to move.
func (s *Scheduler) idle(ctx context.Context) {
	var changed <-chan struct{}
	if tc, ok := s.clock.(*clock.Test); ok {
		changed = tc.Changed()
	}
	t := time.NewTimer(s.cfg.Poll)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-changed:
	}
}

// RunDue executes everything due at the current time and returns when
// nothing due is left waiting (the sandbox clock and tests use it). Rows
// claimed by another runner are waited for, up to maxWait.
func (s *Scheduler) RunDue(ctx context.Context) (int, error) {
	const maxWait = 2 * time.Minute
	deadline := time.Now().Add(maxWait) // wall time: the test clock does not move by itself
	total := 0
	for {
		var wg sync.WaitGroup
		n, err := s.dispatch(ctx, s.cfg.Batch, &wg, nil)
		wg.Wait()
		total += n
		if err != nil {
			return total, err
		}
		if n > 0 {
			continue
		}
		due, err := s.countDue(ctx)
		if err != nil {
			return total, err
		}
		if due == 0 {
			return total, nil
		}
		if time.Now().After(deadline) {
			return total, fmt.Errorf("run due schedules: %d still claimed by another runner after %s", due, maxWait)
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// WaitIdle waits, up to max of wall time, until no execution this scheduler
// started is in flight: a sandbox advance then also counts what its loop
// happened to pick up meanwhile.
func (s *Scheduler) WaitIdle(ctx context.Context, max time.Duration) {
	deadline := time.Now().Add(max)
	for s.inflight.Load() > 0 && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// dispatch claims up to want due rows, starts their attempts in one
// transaction, and runs one execution per started row.
func (s *Scheduler) dispatch(ctx context.Context, want int, wg *sync.WaitGroup, freed chan struct{}) (int, error) {
	if want <= 0 {
		return 0, nil
	}
	now := s.clock.Now()
	token := newOrderUID("")
	claimed, err := s.st.ClaimDueSchedules(ctx, now, now.Add(s.cfg.Lease), token, want)
	if err != nil {
		return 0, err
	}
	n := 0
	if len(claimed) > 0 {
		if n, err = s.runClaimed(ctx, claimed, token, wg, freed); err != nil {
			return n, err
		}
	}
	// The shared time is never later than a merchant's own, so the claim
	// above is early for no one; a sandbox merchant whose test clock runs
	// ahead also gets its rows due by its own time. On the wall clock there
	// is none and this adds nothing.
	for merchantID, at := range s.ahead() {
		if n >= want {
			break
		}
		claimed, err := s.st.ClaimMerchantDueSchedules(ctx, merchantID, at, now, now.Add(s.cfg.Lease), token, want-n)
		if err != nil {
			return n, err
		}
		if len(claimed) == 0 {
			continue
		}
		m, err := s.runClaimed(ctx, claimed, token, wg, freed)
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// ahead lists the sandbox merchants whose test clock runs ahead of the
// shared time, with their times; nil on the wall clock.
func (s *Scheduler) ahead() map[int64]time.Time {
	if tc, ok := s.clock.(*clock.Test); ok {
		return tc.Ahead()
	}
	return nil
}

// countDue counts the waiting rows due, each by its merchant's time.
func (s *Scheduler) countDue(ctx context.Context) (int, error) {
	due, err := s.st.CountDue(ctx, s.clock.Now())
	if err != nil {
		return 0, err
	}
	for merchantID, at := range s.ahead() {
		n, err := s.st.CountMerchantDue(ctx, merchantID, at)
		if err != nil {
			return 0, err
		}
		// Rows due by the shared time are in both counts; a positive count
		// is all RunDue needs, so the overlap does not matter.
		due += n
	}
	return due, nil
}

// now is merchantID's billing time.
func (s *Scheduler) now(merchantID int64) time.Time { return clock.For(s.clock, merchantID) }

// runClaimed starts the attempts of claimed rows in one transaction and runs
// one execution per started row.
func (s *Scheduler) runClaimed(ctx context.Context, claimed []core.Schedule, token string, wg *sync.WaitGroup, freed chan struct{}) (int, error) {
	keys, err := s.loadKeys(ctx, claimed)
	if err != nil {
		// The leases run out and the rows are claimed again later.
		return 0, err
	}
	// Executions outlive a cancelled ctx: stopping half-way through a
	// charge would only turn a known outcome into an unknown one.
	ectx := context.WithoutCancel(ctx)
	var starts []charge.Start
	var reqs []pg.ChargeRequest
	var rows []*core.Schedule
	var nows []time.Time
	for i := range claimed {
		sc := &claimed[i]
		now := s.now(sc.MerchantID)
		s.lateness.Observe(max(0, now.Sub(sc.ScheduleAt).Seconds()))
		key := keys[keyRef{sc.MerchantID, sc.CustomerUID}]
		if key == nil {
			s.executions.WithLabelValues(s.failNoKey(ectx, sc, token, now)).Inc()
			continue
		}
		p, req := s.svc.PrepareAgain(sc.MerchantID, payInput(sc), key)
		starts = append(starts, charge.Start{Payment: p, Bind: bindClaimed(sc, token, now)})
		reqs = append(reqs, req)
		rows = append(rows, sc)
		nows = append(nows, now)
	}
	if len(starts) == 0 {
		return len(claimed), nil
	}
	if err := s.svc.StartBatch(ectx, starts); err != nil {
		for _, sc := range rows {
			s.claimTrouble(ectx, sc, token, err, s.log)
		}
		return len(claimed), err
	}
	for i := range starts {
		st, req, sc, now := starts[i], reqs[i], rows[i], nows[i]
		s.inflight.Add(1)
		wg.Add(1)
		go func() {
			defer func() {
				s.inflight.Add(-1)
				wg.Done()
				if freed != nil {
					select {
					case freed <- struct{}{}:
					default:
					}
				}
			}()
			var outcome string
			log := s.log.With("merchant_uid", sc.MerchantUID, "customer_uid", sc.CustomerUID)
			switch {
			case st.Started:
				outcome = s.execute(ectx, st.Payment, req, log)
			case st.Held != nil:
				outcome = s.adopt(ectx, sc, token, st.Held, now, log)
			default:
				log.Debug("schedule claim lost (revoked, moved or taken over)")
				outcome = "skipped"
			}
			s.executions.WithLabelValues(outcome).Inc()
		}()
	}
	return len(claimed), nil
}

// bindClaimed moves a claimed row to executing with its attempt, in the
// transaction that records the attempt — only if the row still carries our
// claim (not revoked, moved, or re-claimed after the lease ran out).
func bindClaimed(sc *core.Schedule, token string, now time.Time) charge.Bind {
	return func(ctx context.Context, tx *store.Tx, p *core.Payment) (bool, error) {
		return tx.StartScheduleAttempt(ctx, sc, token, p, now)
	}
}

type keyRef struct {
	merchantID  int64
	customerUID string
}

// loadKeys reads the billing keys of a claimed batch, one query per merchant.
func (s *Scheduler) loadKeys(ctx context.Context, list []core.Schedule) (map[keyRef]*core.BillingKey, error) {
	byMerchant := map[int64][]string{}
	for _, sc := range list {
		byMerchant[sc.MerchantID] = append(byMerchant[sc.MerchantID], sc.CustomerUID)
	}
	out := make(map[keyRef]*core.BillingKey, len(list))
	for mid, uids := range byMerchant {
		keys, err := s.st.GetBillingKeys(ctx, mid, dedupe(uids))
		if err != nil {
			return nil, fmt.Errorf("load billing keys: %w", err)
		}
		for i := range keys {
			out[keyRef{mid, keys[i].CustomerUID}] = &keys[i]
		}
	}
	return out, nil
}

func dedupe(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := in[:0:0]
	for _, v := range in {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func payInput(sc *core.Schedule) charge.PayInput {
	return charge.PayInput{
		MerchantUID: sc.MerchantUID, Amount: sc.Amount, Currency: sc.Currency, TaxFree: sc.TaxFree, VatAmount: sc.VatAmount,
		Name: sc.Name, Buyer: sc.Buyer, CardQuota: sc.CardQuota, CustomData: sc.CustomData, NoticeURL: sc.NoticeURL,
		CustomerUID: sc.CustomerUID, Usage: core.UsageScheduled, Channel: "api", Dialect: sc.Dialect(),
	}
}

// failNoKey ends a claimed schedule whose billing key is gone. Deleting a
// key revokes its schedules in the same transaction, so this is a key
// deleted between claim and start, or data from before that rule; either
// way there is nothing to charge.
func (s *Scheduler) failNoKey(ctx context.Context, sc *core.Schedule, token string, now time.Time) string {
	log := s.log.With("merchant_uid", sc.MerchantUID, "customer_uid", sc.CustomerUID)
	if ok, err := s.st.FailClaimedSchedule(ctx, sc, token, s.cfg.Texts.NoKey, now); err != nil || !ok {
		return s.claimTrouble(ctx, sc, token, err, log)
	}
	log.Warn("schedule failed: billing key not found")
	return "failed"
}

// execute charges a started attempt; the settling transaction also marks
// the schedule executed (see settled). It returns the outcome label.
func (s *Scheduler) execute(ctx context.Context, p *core.Payment, req pg.ChargeRequest, log *slog.Logger) string {
	pay, err := s.svc.Execute(ctx, p, req)
	var refused *charge.PGRefusedError
	switch {
	case errors.As(err, &refused):
		// A PG refusal is a stored failed outcome, schedule included.
		log.Info("schedule executed", "imp_uid", p.ImpUID, "status", core.StatusFailed, "reason", refused.Err.Message)
		return "failed"
	case err != nil:
		// The attempt row is recorded and the schedule is executing: the
		// reconciler settles both. Never charge again from here.
		log.Error("schedule execution: outcome not stored; the reconciler will settle it", "imp_uid", p.ImpUID, "err", err)
		return "error"
	case pay.Status.Unresolved():
		log.Warn("schedule execution outcome unknown; the reconciler will look it up", "imp_uid", p.ImpUID)
		return "unknown"
	}
	log.Debug("schedule executed", "imp_uid", pay.ImpUID, "status", pay.Status)
	return string(pay.Status)
}

// adopt handles a merchant_uid already held by a payment. If that payment
// is this schedule's own earlier attempt (a crash between its start and a
// later claim, or a retry), the schedule follows it; if the merchant paid
// the order some other way, the entry ends failed as a duplicate.
func (s *Scheduler) adopt(ctx context.Context, sc *core.Schedule, token string, existing *core.Payment, now time.Time, log *slog.Logger) string {
	if existing.CustomerUIDUsage == core.UsageScheduled && existing.CustomerUID == sc.CustomerUID {
		var ok bool
		err := s.st.InTx(ctx, func(tx *store.Tx) error {
			var err error
			ok, err = tx.AdoptAttempt(ctx, sc, token, existing.ImpUID, now)
			return err
		})
		if err != nil || !ok {
			return s.claimTrouble(ctx, sc, token, err, log)
		}
		log.Info("schedule follows its earlier attempt", "imp_uid", existing.ImpUID, "status", existing.Status)
		return "adopted"
	}
	ok, err := s.st.FailClaimedSchedule(ctx, sc, token, s.cfg.Texts.Duplicate, now)
	if err != nil || !ok {
		return s.claimTrouble(ctx, sc, token, err, log)
	}
	log.Info("schedule failed: merchant_uid already paid by another payment", "imp_uid", existing.ImpUID)
	return "failed"
}

// claimTrouble backs a row off after a transient error; a nil err means the
// claim was simply lost.
func (s *Scheduler) claimTrouble(ctx context.Context, sc *core.Schedule, token string, err error, log *slog.Logger) string {
	if err == nil {
		return "skipped"
	}
	log.Error("schedule execution deferred", "merchant_uid", sc.MerchantUID, "retry_in", s.cfg.RetryDelay, "err", err)
	if derr := s.st.DeferClaim(ctx, sc, token, s.now(sc.MerchantID).Add(s.cfg.RetryDelay)); derr != nil {
		log.Error("defer schedule", "merchant_uid", sc.MerchantUID, "err", derr)
	}
	return "error"
}

// Retry executes a failed or revoked entry now (POST .../retry) and returns
// the payment; an unknown outcome returns it unresolved (status ready).
func (s *Scheduler) Retry(ctx context.Context, merchantID int64, merchantUID string) (*core.Payment, error) {
	sc, err := s.Get(ctx, merchantID, merchantUID)
	if err != nil {
		return nil, err
	}
	if !(sc.Status == core.ScheduleRevoked || (sc.Status == core.ScheduleExecuted && sc.PaymentStatus == core.StatusFailed)) {
		return nil, &StateError{Op: "retry", Status: sc.Status, Paid: sc.PaymentStatus}
	}
	key, err := s.svc.GetBillingKey(ctx, merchantID, sc.CustomerUID)
	if err != nil {
		return nil, err
	}
	now := s.now(merchantID)
	p, req := s.svc.PrepareAgain(merchantID, payInput(sc), key)
	err = s.svc.Start(ctx, p, func(ctx context.Context, tx *store.Tx, p *core.Payment) (bool, error) {
		return tx.RestartScheduleAttempt(ctx, sc, p, now)
	})
	switch {
	case errors.Is(err, charge.ErrUnbound):
		// Changed under us (a concurrent retry or reschedule).
		cur, gerr := s.Get(ctx, merchantID, merchantUID)
		if gerr != nil {
			return nil, gerr
		}
		return nil, &StateError{Op: "retry", Status: cur.Status, Paid: cur.PaymentStatus}
	case err != nil:
		var inProgress *charge.InProgressError
		var dup *charge.DuplicateOrderError
		if errors.As(err, &inProgress) || errors.As(err, &dup) {
			return nil, err
		}
		return nil, fmt.Errorf("retry schedule %s: %w", merchantUID, err)
	}
	pay, err := s.svc.Execute(ctx, p, req)
	var refused *charge.PGRefusedError
	if errors.As(err, &refused) && refused.Payment != nil {
		// V1 answers a refused retry with the failed payment, like a decline.
		return refused.Payment, nil
	}
	if err != nil {
		return nil, err
	}
	s.executions.WithLabelValues("retry_" + string(pay.Status)).Inc()
	return pay, nil
}
