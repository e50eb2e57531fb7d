package charge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/store"
)

// The attempt lifecycle: start (one attempt, or a batch in one
// transaction), execute at the PG, settle with every subscriber's rows in
// one transaction, reconcile (reconciler.go) what stayed unknown.

// Outcome says how an attempt or a refund was settled, in no dialect's
// words. Dialects (the V1 notifier, the v3 engine) and the scheduler
// subscribe with OnSettled and write their own rows in the settling
// transaction.
type Outcome struct {
	// Reconciled: settled by the reconciler's look-up at the PG rather than
	// by the call that started the attempt.
	Reconciled bool
	// NeverReached: look-ups past the attempt's deadline never found it at
	// the PG (its process died before the call). Nothing was charged, and
	// the attempt failed without the card or the merchant refusing anything.
	NeverReached bool
	// Refund, when set, is a refund that is now done; the payment is as it
	// stands after it.
	Refund *core.Cancellation
	// RefundNotify: whoever asked for the refund asked to be notified.
	RefundNotify bool
}

// SettleHook runs inside the transaction that stores an outcome. It must
// write only through tx, and may be called twice for one outcome: once
// recorded, to find out whether Postgres can store everything as one
// statement, and once for real when it cannot (see store.SettleAttempt).
type SettleHook func(ctx context.Context, tx *store.Tx, p *core.Payment, o Outcome) error

// OrderOwner tells whether a dialect other than V1 owns an order a payment
// window is paying (the v3 OneShot page opens Billkey's window for its
// billing key), so that the window's payment is notified by that dialect.
type OrderOwner func(ctx context.Context, merchantID int64, merchantUID string) (core.Dialect, bool)

// OnWindowOrder registers an OrderOwner; register before serving.
func (s *Service) OnWindowOrder(o OrderOwner) { s.orderOwners = append(s.orderOwners, o) }

func (s *Service) windowDialect(ctx context.Context, merchantID int64, merchantUID string) core.Dialect {
	for _, o := range s.orderOwners {
		if d, ok := o(ctx, merchantID, merchantUID); ok {
			return d
		}
	}
	return core.DialectV1
}

// OnSettled subscribes h to every settled outcome. Hooks run in the order
// they were registered; register before serving.
func (s *Service) OnSettled(h SettleHook) { s.settleHooks = append(s.settleHooks, h) }

func (s *Service) runSettleHooks(ctx context.Context, tx *store.Tx, p *core.Payment, o Outcome) error {
	for _, h := range s.settleHooks {
		if err := h(ctx, tx, p, o); err != nil {
			return err
		}
	}
	return nil
}

// Bind runs in the transaction that records an attempt, right after the
// attempt row: the caller ties its own work to the attempt (a schedule row
// moves to executing). false means that work is no longer the caller's,
// and the attempt is discarded unstarted.
type Bind func(ctx context.Context, tx *store.Tx, p *core.Payment) (bool, error)

// ErrUnbound: the attempt's Bind reported its work gone; nothing was recorded.
var ErrUnbound = errors.New("attempt no longer bound to its work")

// Start is one attempt of a batch (StartBatch).
type Start struct {
	Payment *core.Payment
	Bind    Bind
	// Set by StartBatch: Started when the attempt is recorded (and bound);
	// Held when the merchant_uid is held by this other payment.
	Started bool
	Held    *core.Payment
}

// insert records p under a fresh imp_uid, drawing another on a collision.
// With key, p is recorded only if that billing key is still at its version.
func insert(ctx context.Context, tx *store.Tx, p *core.Payment, key *store.KeyVersion) error {
	for tries := 0; ; tries++ {
		p.ImpUID = NewImpUID()
		var err error
		if key != nil {
			err = tx.BeginAttemptOnKey(ctx, p, *key)
		} else {
			err = tx.BeginAttempt(ctx, p)
		}
		if errors.Is(err, store.ErrIDTaken) && tries < 5 {
			continue
		}
		return err
	}
}

// startIn records one attempt and binds it, in tx.
func startIn(ctx context.Context, tx *store.Tx, p *core.Payment, bind Bind, key *store.KeyVersion) error {
	if err := insert(ctx, tx, p, key); err != nil {
		return err
	}
	if bind == nil {
		return nil
	}
	ok, err := bind(ctx, tx, p)
	if err != nil || ok {
		return err
	}
	if err := tx.DiscardAttempt(ctx, p); err != nil {
		return err
	}
	return ErrUnbound
}

// start records an attempt (bind, when given, in the same transaction).
// When the merchant_uid is held by an attempt whose outcome is unknown past
// its deadline, it first tries to resolve that attempt, so a merchant
// retrying after a crash gets the truth instead of a second charge.
func (s *Service) start(ctx context.Context, p *core.Payment, bind Bind, key *store.KeyVersion) error {
	// A caller gone before anything is recorded starts nothing. From here
	// on the charge goes through: a cancel arriving mid-commit would leave
	// an attempt that may be stored but is never sent, holding the order
	// until the reconciler calls it never made.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("begin attempt %s: %w", p.MerchantUID, err)
	}
	ctx = context.WithoutCancel(ctx)
	for tries := 0; ; tries++ {
		var err error
		if bind == nil {
			err = s.store.Statements(ctx, func(tx *store.Tx) error { return startIn(ctx, tx, p, nil, key) })
		} else {
			err = s.store.InTx(ctx, func(tx *store.Tx) error { return startIn(ctx, tx, p, bind, key) })
		}
		var held *store.OrderHeldError
		if !errors.As(err, &held) {
			return err
		}
		existing := held.Existing
		if existing.Status.Unresolved() && tries < 5 && s.clock.Now().After(existing.AttemptDeadline) {
			resolved, rerr := s.resolve(ctx, *existing)
			if rerr == nil && resolved.Status == core.StatusFailed {
				continue // the slot is free again: the earlier attempt never charged
			}
			if rerr == nil {
				existing = resolved
			}
		}
		if existing.Status.Unresolved() {
			return &InProgressError{Existing: existing}
		}
		return &DuplicateOrderError{Existing: existing}
	}
}

// Start records one attempt built by PrepareAgain, bound to the caller's
// work (nil: none). Errors: *InProgressError, *DuplicateOrderError,
// ErrUnbound.
func (s *Service) Start(ctx context.Context, p *core.Payment, bind Bind) error {
	return s.start(ctx, p, bind, nil)
}

// StartBatch records a batch of attempts in ONE transaction: for each item
// the attempt is recorded and bound, or neither (bind reported its work
// gone, or the merchant_uid is held: Held names the holder). One commit per
// batch instead of per attempt is what lets a billing run keep up with the
// database.
func (s *Service) StartBatch(ctx context.Context, items []Start) error {
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		for i := range items {
			it := &items[i]
			it.Started, it.Held = false, nil
			err := startIn(ctx, tx, it.Payment, it.Bind, nil)
			var held *store.OrderHeldError
			switch {
			case err == nil:
				it.Started = true
			case errors.As(err, &held):
				it.Held = held.Existing
			case errors.Is(err, ErrUnbound):
			default:
				return err
			}
		}
		return nil
	})
}

// Execute calls the PG for a started attempt and settles its outcome. A
// decline returns the failed payment and a nil error, a PG refusal a
// *PGRefusedError carrying it; an outcome that is unknown — no PG answer,
// or an answer we could not store — returns the payment unresolved, for
// the reconciler to settle.
func (s *Service) Execute(ctx context.Context, p *core.Payment, req pg.ChargeRequest) (*core.Payment, error) {
	return s.execute(ctx, p, req, nil)
}

func (s *Service) execute(ctx context.Context, p *core.Payment, req pg.ChargeRequest, also func(*store.Tx) error) (*core.Payment, error) {
	req.IdempotencyKey = p.ImpUID
	req.Amount, req.Currency, req.OrderName, req.CardQuota = p.Amount, p.Currency, p.Name, p.CardQuota
	req.BuyerEmail = p.Buyer.Email
	req.Target = pg.Target{MerchantID: p.MerchantID, Provider: p.PGProvider, MID: p.PGID, Sandbox: p.Sandbox}
	// A merchant hanging up must not abort a charge half-way: that would only
	// turn a known outcome into an unknown one.
	var (
		res *pg.ChargeResult
		err error
	)
	if req.BillingKey == "" && req.Card == nil {
		// The stored key could not be opened (see OpenKey): nothing to send.
		err = &pg.Error{Provider: p.PGProvider, Code: "KEY_SEALED", Message: "저장된 빌링키를 열 수 없습니다 (" + errKeySealed.Error() + ")"}
	} else {
		pgctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.pgTimeout)
		res, err = s.pg.Charge(pgctx, req)
		cancel()
	}
	// The PG has acted: its answer is stored whether or not the caller is
	// still there. A caller's cancel here would leave an answered charge
	// pending until the reconciler found it, past the attempt deadline.
	ctx = context.WithoutCancel(ctx)
	var pgErr *pg.Error
	switch {
	case err == nil:
		s.applyResult(p, res)
	case errors.As(err, &pgErr):
		now := clock.For(s.clock, p.MerchantID)
		p.Status, p.FailedAt, p.FailReason, p.UpdatedAt = core.StatusFailed, now, pgErr.Message, now
	default:
		// Unknown: keep the order held and let the reconciler ask the PG.
		s.charges.WithLabelValues("unknown").Inc()
		now := s.clock.Now()
		next := now.Add(checkDelay(0))
		s.log.Warn("charge outcome unknown", "imp_uid", p.ImpUID, "merchant_uid", p.MerchantUID, "err", err)
		if merr := s.store.MarkUnknown(ctx, p.MerchantID, p.ImpUID, next, now); merr != nil {
			// The row stays pending: past its deadline the reconciler looks it up all the same.
			s.log.Error("record unknown outcome", "imp_uid", p.ImpUID, "err", merr)
			next = p.AttemptDeadline
		}
		p.Status, p.NextCheckAt = core.StatusUnknown, next
		return p, nil
	}
	answered := *p
	if err := s.settle(ctx, p, Outcome{}, also); err != nil {
		// The PG answered (perhaps approved) but the answer is not stored.
		// Saying "error, retry" would invite a new order paid twice: the
		// outcome is unknown to the caller until the reconciler, finding the
		// attempt still pending past its deadline, looks it up.
		s.charges.WithLabelValues("unknown").Inc()
		s.log.Error("charge answered but not stored; the reconciler will settle it", "imp_uid", p.ImpUID,
			"merchant_uid", p.MerchantUID, "pg_status", answered.Status, "err", err)
		*p = answered
		p.Status, p.NextCheckAt, p.PaidAt, p.FailedAt, p.FailReason = core.StatusUnknown, p.AttemptDeadline, time.Time{}, time.Time{}, ""
		return p, nil
	}
	if pgErr != nil {
		s.charges.WithLabelValues("refused").Inc()
		return p, &PGRefusedError{Stage: "charge", Err: pgErr, Payment: p}
	}
	s.charges.WithLabelValues(string(p.Status)).Inc()
	return p, nil
}

// settle stores an attempt's outcome with every subscriber's rows (and
// also's) in one transaction. If the reconciler got there first, its answer
// stands and p becomes it.
func (s *Service) settle(ctx context.Context, p *core.Payment, o Outcome, also func(*store.Tx) error) error {
	events, err := s.store.SettleAttempt(ctx, p, func(tx *store.Tx) error {
		if also != nil {
			if err := also(tx); err != nil {
				return err
			}
		}
		return s.runSettleHooks(ctx, tx, p, o)
	})
	if errors.Is(err, core.ErrConflict) {
		cur, gerr := s.store.GetPayment(ctx, p.MerchantID, p.ImpUID)
		if gerr != nil {
			return fmt.Errorf("charge %s: %w", p.ImpUID, gerr)
		}
		*p = *cur
		return nil
	}
	if err != nil {
		return fmt.Errorf("charge %s: %w", p.ImpUID, err)
	}
	if events > 0 {
		s.eventsWritten()
	}
	p.Checks = 0
	if p.Cancels == nil {
		p.Cancels = []core.Cancellation{}
	}
	return nil
}

// settleCancel stores a refund's outcome; subscribers see the refunds that are done.
func (s *Service) settleCancel(ctx context.Context, merchantID int64, c core.Cancellation) (*core.Payment, error) {
	p, events, err := s.store.FinishCancel(ctx, merchantID, c, func(tx *store.Tx, p *core.Payment, notify bool) error {
		return s.runSettleHooks(ctx, tx, p, Outcome{Refund: &c, RefundNotify: notify})
	})
	if err != nil {
		return nil, err
	}
	if events > 0 {
		s.eventsWritten()
	}
	return p, nil
}
