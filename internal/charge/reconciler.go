package charge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/pg"
)

// checkSchedule is when the reconciler looks an unknown charge up again,
// by number of look-ups already made. PGs usually settle within seconds;
// the long tail covers PG outages. After the last step it keeps asking every
// six hours: an unknown charge is never guessed into paid or failed.
var checkSchedule = []time.Duration{
	0, 5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, time.Hour, 6 * time.Hour,
}

func checkDelay(checks int) time.Duration {
	if checks < len(checkSchedule) {
		return checkSchedule[checks]
	}
	return checkSchedule[len(checkSchedule)-1]
}

// notSeenChecks is how many look-ups past the attempt deadline must find no
// trace of a charge (or a refund) before it counts as never made. One is
// not enough: a PG's lookup index can lag its charge path.
const notSeenChecks = 2

// notSeenRecheck is how soon the look-up confirming an empty one comes. It
// does not follow checkSchedule: look-ups that found the charge "not known
// yet" (an upstream gateway settling its own attempt) move that schedule
// to minutes, but say nothing about how soon a lookup index catches up.
const notSeenRecheck = 5 * time.Second

// claimLease keeps other nodes off a claimed attempt while one looks it up:
// long enough for the look-ups of one pass, short enough that an attempt
// whose reconciling node died is looked at again soon (a duplicate look-up
// is harmless).
func (s *Service) claimLease() time.Duration { return 2*s.pgTimeout + 5*time.Second }

// resolve asks the PG about one unresolved attempt and stores the answer.
// It returns the payment as it now stands (possibly still unresolved).
func (s *Service) resolve(ctx context.Context, p core.Payment) (*core.Payment, error) {
	target := pg.Target{MerchantID: p.MerchantID, Provider: p.PGProvider, MID: p.PGID, Sandbox: p.Sandbox}
	pgctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.pgTimeout)
	res, err := s.pg.LookupCharge(pgctx, target, p.ImpUID)
	cancel()
	now := s.clock.Now()
	o := Outcome{Reconciled: true}
	switch {
	case err == nil:
		s.applyResult(&p, res)
		s.log.Info("reconciled charge", "imp_uid", p.ImpUID, "status", p.Status)
	case errors.Is(err, pg.ErrNoSuchCharge) && now.After(p.AttemptDeadline):
		// Only empty look-ups past the deadline count: before it the call
		// may still be on its way, and any other answer proves nothing.
		seen, nerr := s.store.NoteNotSeen(ctx, p.MerchantID, p.ImpUID, now.Add(notSeenRecheck), p.Checks+1)
		if nerr != nil {
			return nil, fmt.Errorf("reconcile %s: %w", p.ImpUID, nerr)
		}
		if seen < notSeenChecks {
			// seen == 0: settled elsewhere meanwhile; the row says how.
			cur, gerr := s.store.GetPayment(ctx, p.MerchantID, p.ImpUID)
			if gerr != nil {
				return nil, fmt.Errorf("reconcile %s: %w", p.ImpUID, gerr)
			}
			return cur, nil
		}
		at := clock.For(s.clock, p.MerchantID)
		p.Status, p.FailedAt, p.UpdatedAt = core.StatusFailed, at, at
		p.FailReason = pg.NeverReachedReason
		o.NeverReached = true
		s.log.Info("reconciled charge as never made", "imp_uid", p.ImpUID)
	default:
		next := now.Add(checkDelay(p.Checks + 1))
		if errors.Is(err, pg.ErrNoSuchCharge) && next.Before(p.AttemptDeadline) {
			next = p.AttemptDeadline
		}
		if rerr := s.store.RescheduleCheck(ctx, p.MerchantID, p.ImpUID, next, p.Checks+1); rerr != nil {
			return nil, fmt.Errorf("reconcile %s: %w", p.ImpUID, rerr)
		}
		p.Status, p.NextCheckAt, p.Checks = core.StatusUnknown, next, p.Checks+1
		return &p, nil
	}
	if err := s.settle(ctx, &p, o, nil); err != nil {
		return nil, err
	}
	s.charges.WithLabelValues("reconciled_" + string(p.Status)).Inc()
	return &p, nil
}

// Reconcile makes one pass over due unresolved attempts and stale refunds,
// returning how many it resolved. Safe to run on every node at once.
func (s *Service) Reconcile(ctx context.Context) (int, error) {
	now := s.clock.Now()
	claimed, err := s.store.ClaimUnresolved(ctx, now, now.Add(s.claimLease()), 100)
	if err != nil {
		return 0, err
	}
	resolved := 0
	for _, p := range claimed {
		out, err := s.resolve(ctx, p)
		if err != nil {
			s.log.Error("reconcile charge", "imp_uid", p.ImpUID, "err", err)
			continue
		}
		if !out.Status.Unresolved() {
			resolved++
		}
	}
	n, err := s.reconcileCancels(ctx, now)
	return resolved + n, err
}

// reconcileCancels settles refunds whose PG answer was lost.
func (s *Service) reconcileCancels(ctx context.Context, now time.Time) (int, error) {
	stale, err := s.store.StalePendingCancels(ctx, now.Add(-(s.pgTimeout + attemptGrace)), now, 100)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, pc := range stale {
		p, err := s.store.GetPayment(ctx, pc.MerchantID, pc.Cancel.ImpUID)
		if err != nil {
			continue
		}
		c := pc.Cancel
		pgctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.pgTimeout)
		res, err := s.pg.LookupCancel(pgctx, pg.Target{MerchantID: p.MerchantID, Provider: p.PGProvider, MID: p.PGID, Sandbox: p.Sandbox}, p.ImpUID, c.ID)
		cancel()
		switch {
		case err == nil:
			c.Status, c.PGTID, c.ReceiptURL, c.CancelledAt = core.CancelDone, res.PGTID, s.receiptURL(res.ReceiptURL, p.ImpUID, c.ID), res.CancelledAt
			if c.CancelledAt.IsZero() {
				c.CancelledAt = now
			}
		case errors.Is(err, pg.ErrNoSuchCharge) && pc.Checks+1 >= notSeenChecks:
			c.Status = core.CancelFailed
			s.log.Info("reconciled refund as never made", "cancellation_id", c.ID)
		case errors.Is(err, pg.ErrNoSuchCharge):
			next := now.Add(checkDelay(pc.Checks + 1))
			if rerr := s.store.RescheduleCancelCheck(ctx, pc.MerchantID, c.ID, next, pc.Checks+1); rerr != nil {
				s.log.Error("reconcile cancel", "cancellation_id", c.ID, "err", rerr)
			}
			continue
		default:
			continue
		}
		if _, err := s.settleCancel(ctx, pc.MerchantID, c); err != nil {
			s.log.Error("reconcile cancel", "cancellation_id", c.ID, "err", err)
			continue
		}
		s.refunds.refunds.WithLabelValues("reconciled_" + string(c.Status)).Inc()
		if c.Status == core.CancelDone {
			s.refunds.amount.WithLabelValues(p.Currency).Add(float64(c.Amount))
		}
		done++
	}
	return done, nil
}

// RunReconciler reconciles every interval until ctx ends.
func (s *Service) RunReconciler(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.Reconcile(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("reconciler pass", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
