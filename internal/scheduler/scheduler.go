// Package scheduler is durable scheduled work: v1 scheduled payments
// (POST /subscribe/payments/schedule and friends) executed exactly once at
// their time, on one node or many.
//
// The schedules table is the source of truth; there is no in-memory timer
// list. Every node runs the same loop:
//
//  1. Claim: lease a batch of due rows (FOR UPDATE SKIP LOCKED on Postgres,
//     the write lock on SQLite), stamping them with a claim token.
//  2. Start: the charge protocol records the batch's attempts in ONE
//     transaction (charge.StartBatch), each bound to its row: the row moves
//     to "executing" with the attempt's imp_uid only if it is still waiting
//     and still carries our token. A revoke, a move, or another node that
//     re-claimed the row after our lease ran out unbinds it and the attempt
//     is discarded unstarted. The payments table's unique index on held
//     merchant_uids backs this up.
//  3. Execute through the charge protocol. The scheduler subscribes to
//     settled outcomes (charge.OnSettled): the settling transaction marks the
//     schedule executed.
//
// A crash after 2 leaves an executing row whose attempt the reconciler
// settles by looking it up at the PG (never by charging again); the same
// subscription marks the schedule executed in that transaction — or puts
// it back to waiting when the outcome says the attempt never reached the
// PG. A crash before 2 only leaves a lease that runs out. So every entry
// runs at most once, and none is lost.
package scheduler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/store"
)

// Config tunes the execution loop. Zero values pick the defaults.
type Config struct {
	// Poll is how often an idle node looks for due work (default 1s). A busy
	// node claims again as soon as workers free up.
	Poll time.Duration
	// Workers bounds concurrent executions per node (default 64). PG calls
	// take 100-500 ms, so throughput is about Workers / PG latency.
	Workers int
	// Batch caps the rows one claim takes (default Workers).
	Batch int
	// Claimers is how many claims a node runs at once (default 2). A claim
	// records its rows' attempts in one transaction, two statements per row
	// in turn; with one claimer a slow PG's workers freed up faster than
	// that transaction could hand them new rows.
	Claimers int
	// Lease is how long a claim keeps other nodes off a row before the
	// charge starts (default 1m). It only covers claim-to-start, which takes
	// milliseconds; a node killed in between delays the row by Lease.
	Lease time.Duration
	// RetryDelay is how long a row waits after a transient error (default 30s).
	RetryDelay time.Duration
	// Texts are the words the scheduler stores and answers with; the
	// dialect that shows schedules supplies its own.
	Texts      Texts
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Texts are what the scheduler writes in words: fail reasons of entries
// that end without a payment attempt, and the card check of a booking.
type Texts struct {
	NoKey     string // fail_reason: the customer's billing key is gone
	Duplicate string // fail_reason: the merchant_uid was paid by another request
	// CheckName, CheckRefund: the order name and refund reason of a
	// checking_amount approval; CheckUnknown: a booking refused because
	// the check's outcome is not known.
	CheckName, CheckRefund, CheckUnknown string
}

func (c *Config) defaults() {
	for _, d := range []struct {
		dst *string
		v   string
	}{
		{&c.Texts.NoKey, "billing key not found"},
		{&c.Texts.Duplicate, "merchant_uid already paid by another payment"},
		{&c.Texts.CheckName, "card check"},
		{&c.Texts.CheckRefund, "card check refund"},
		{&c.Texts.CheckUnknown, "the card check's outcome is not known yet; try again later"},
	} {
		if *d.dst == "" {
			*d.dst = d.v
		}
	}
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.Workers <= 0 {
		c.Workers = 64
	}
	if c.Batch <= 0 {
		c.Batch = c.Workers
	}
	if c.Claimers <= 0 {
		c.Claimers = 2
	}
	if c.Lease <= 0 {
		c.Lease = time.Minute
	}
	if c.RetryDelay <= 0 {
		c.RetryDelay = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Scheduler books, changes and executes scheduled payments.
type Scheduler struct {
	svc   *charge.Service
	st    Store
	clock clock.Clock
	cfg   Config
	log   *slog.Logger

	inflight atomic.Int64
	// claiming is the rows the claims in progress may still start: the
	// claimers do not take, between them, more rows than workers are free.
	claiming   atomic.Int64
	executions *prometheus.CounterVec
	lateness   prometheus.Histogram
}

// New builds a scheduler on the charge service and st. Call Attach once per
// service to wire the hooks, then Run (background) or RunDue (synchronous).
func New(svc *charge.Service, st Store, cfg Config) *Scheduler {
	cfg.defaults()
	s := &Scheduler{svc: svc, st: st, clock: svc.Clock(), cfg: cfg, log: cfg.Logger}
	s.executions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "billkey_schedule_executions_total",
		Help: "Scheduled payment executions by outcome (paid, failed, unknown, skipped, error).",
	}, []string{"outcome"})
	s.lateness = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "billkey_schedule_lateness_seconds",
		Help:    "Delay between schedule_at and the start of its execution.",
		Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
	})
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(s.executions, s.lateness)
	}
	return s
}

// Attach registers the hooks that keep schedules consistent with payments
// and billing keys. Register them once per service: they are idempotent,
// but there is no reason to run them twice.
func (s *Scheduler) Attach() {
	s.svc.OnSettled(s.settled)
	s.svc.OnKeyDelete(s.onKeyDelete)
}

// Config returns the effective configuration.
func (s *Scheduler) Config() Config { return s.cfg }

// settled runs in every settling transaction: the schedule whose attempt
// this is gets the outcome atomically with the payment.
func (s *Scheduler) settled(ctx context.Context, tx *store.Tx, p *core.Payment, o charge.Outcome) error {
	if p.CustomerUIDUsage != core.UsageScheduled || o.Refund != nil {
		return nil
	}
	now := s.now(p.MerchantID)
	if o.NeverReached {
		// Nothing was charged and the merchant did not ask for a failure:
		// run the entry again rather than lose it.
		ok, err := tx.RearmSchedule(ctx, p, now)
		if ok {
			s.log.Info("schedule re-armed: its attempt never reached the PG", "merchant_uid", p.MerchantUID, "imp_uid", p.ImpUID)
		}
		return err
	}
	return tx.FinishScheduleAttempt(ctx, p, now)
}

// onKeyDelete revokes the customer's waiting schedules in the deletion
// transaction, so none can ever run against a missing key. Entries already
// executing keep their recorded attempt; the PG decides them.
func (s *Scheduler) onKeyDelete(ctx context.Context, tx *store.Tx, merchantID int64, customerUID string, now time.Time) error {
	n, err := tx.RevokeCustomerSchedules(ctx, merchantID, customerUID, now)
	if err != nil {
		return err
	}
	if n > 0 {
		s.log.Info("billing key deleted: schedules revoked", "customer_uid", customerUID, "revoked", n)
	}
	return nil
}

// --- errors the dialects map ---

var (
	// ErrNotFound: no schedule with that merchant_uid.
	ErrNotFound = errors.New("schedule not found")
	// ErrNothingToRevoke: unschedule matched no waiting entry.
	ErrNothingToRevoke = errors.New("nothing to unschedule")
)

// StateError: the entry's state forbids the operation.
type StateError struct {
	Op     string // "update", "reschedule", "retry"
	Status core.ScheduleStatus
	Paid   core.PaymentStatus
}

func (e *StateError) Error() string {
	return fmt.Sprintf("cannot %s a schedule that is %s %s", e.Op, e.Status, e.Paid)
}

// ExistsError: a merchant_uid of a booking is already scheduled or paid.
type ExistsError struct {
	MerchantUID string
	Paid        bool
}

func (e *ExistsError) Error() string {
	return "merchant_uid " + e.MerchantUID + " already scheduled or paid"
}

// CheckFailedError: the checking_amount approval did not go through.
type CheckFailedError struct {
	Reason string
	Err    error
}

func (e *CheckFailedError) Error() string { return "card check failed: " + e.Reason }
func (e *CheckFailedError) Unwrap() error { return e.Err }

// --- booking and changes ---

// Entry is one schedule of a booking.
type Entry struct {
	MerchantUID string
	ScheduleAt  time.Time
	Amount      int64 // minor units of Currency
	Currency    string
	TaxFree     int64
	VatAmount   *int64
	Name        string
	Buyer       core.Buyer
	CustomData  *string
	NoticeURL   string
	CardQuota   int
	PromotionID string
}

// Booking is POST /subscribe/payments/schedule.
type Booking struct {
	CustomerUID string
	CustomerID  string
	// CheckingAmount > 0 approves that amount and refunds it at once to
	// prove the card works before anything is booked.
	CheckingAmount int64
	// Card issues the billing key first when CustomerUID has none; ignored
	// when the key exists.
	Card    *pg.Card
	PG      string
	Entries []Entry
}

// pastGrace tolerates clock skew between merchant and gateway: a
// schedule_at up to this far in the past is accepted and runs at once.
const pastGrace = time.Minute

func (s *Scheduler) checkTime(merchantID int64, field string, at time.Time) error {
	if at.IsZero() || at.Unix() <= 0 {
		return &charge.ValidationError{Field: field, Reason: "required"}
	}
	if at.Before(s.now(merchantID).Add(-pastGrace)) {
		return &charge.ValidationError{Field: field, Reason: "in the past"}
	}
	return nil
}

func (s *Scheduler) validate(merchantID int64, b *Booking) error {
	if err := charge.ValidateUID("customer_uid", b.CustomerUID, 80); err != nil {
		return err
	}
	if len(b.Entries) == 0 {
		return &charge.ValidationError{Field: "schedules", Reason: "required"}
	}
	if b.CheckingAmount < 0 {
		return &charge.ValidationError{Field: "checking_amount", Reason: "must not be negative"}
	}
	seen := map[string]bool{}
	for i := range b.Entries {
		e := &b.Entries[i]
		f := func(name string) string { return fmt.Sprintf("schedules[%d].%s", i, name) }
		if err := charge.ValidateUID(f("merchant_uid"), e.MerchantUID, 40); err != nil {
			return err
		}
		if seen[e.MerchantUID] {
			return &charge.ValidationError{Field: f("merchant_uid"), Reason: "duplicated in the request"}
		}
		seen[e.MerchantUID] = true
		if err := s.checkTime(merchantID, f("schedule_at"), e.ScheduleAt); err != nil {
			return err
		}
		if err := charge.ValidateOrder(f(""), e.MerchantUID, e.Amount, e.TaxFree, &e.Currency, e.Name); err != nil {
			return err
		}
	}
	return nil
}

func newOrderUID(prefix string) string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return prefix + hex.EncodeToString(b[:])
}

// Schedule books entries for one customer, issuing the billing key from
// card data first when the customer has none. All entries are booked or
// none is.
func (s *Scheduler) Schedule(ctx context.Context, merchantID int64, b Booking) ([]core.Schedule, error) {
	if err := s.validate(merchantID, &b); err != nil {
		return nil, err
	}
	uids := make([]string, len(b.Entries))
	for i, e := range b.Entries {
		uids[i] = e.MerchantUID
	}
	// Refuse duplicates before touching the PG (key issuance, card check);
	// the insert re-checks atomically.
	if ex, err := s.st.ScheduleExists(ctx, merchantID, uids); err != nil {
		return nil, err
	} else if ex != nil {
		return nil, &ExistsError{MerchantUID: ex.MerchantUID, Paid: ex.Paid}
	}
	key, err := s.svc.GetBillingKey(ctx, merchantID, b.CustomerUID)
	issued := false
	switch {
	case errors.Is(err, charge.ErrCustomerNotFound) && b.Card != nil && b.Card.Number != "":
		key, err = s.svc.IssueBillingKey(ctx, merchantID, charge.IssueKeyInput{
			CustomerUID: b.CustomerUID, Card: *b.Card, PG: b.PG, CustomerID: b.CustomerID,
		})
		if err != nil {
			return nil, err
		}
		issued = true
	case err != nil:
		return nil, err
	}
	// Nothing half-written: a key issued for this booking goes away again
	// when the booking fails.
	undo := func() {
		if !issued {
			return
		}
		if _, derr := s.svc.DeleteBillingKey(context.WithoutCancel(ctx), merchantID, b.CustomerUID, "schedule booking failed"); derr != nil {
			s.log.Error("remove billing key issued for a failed booking", "customer_uid", b.CustomerUID, "err", derr)
		}
	}
	if b.CheckingAmount > 0 {
		if err := s.checkCard(ctx, merchantID, b.CustomerUID, b.CheckingAmount); err != nil {
			undo()
			return nil, err
		}
	}
	now := s.now(merchantID)
	customerID := b.CustomerID
	if customerID == "" {
		customerID = key.CustomerID
	}
	list := make([]core.Schedule, len(b.Entries))
	for i, e := range b.Entries {
		list[i] = core.Schedule{
			MerchantID: merchantID, MerchantUID: e.MerchantUID, CustomerUID: b.CustomerUID, CustomerID: customerID,
			Status: core.ScheduleScheduled, ScheduleAt: e.ScheduleAt.Truncate(time.Second), Amount: e.Amount, Currency: e.Currency,
			TaxFree: e.TaxFree, VatAmount: e.VatAmount, Name: e.Name, Buyer: e.Buyer, CustomData: e.CustomData,
			NoticeURL: e.NoticeURL, CardQuota: e.CardQuota, PromotionID: e.PromotionID,
			PGProvider: key.PGProvider, PGID: key.PGID, CreatedAt: now, UpdatedAt: now,
		}
	}
	err = s.st.InsertSchedules(ctx, list)
	var ex *store.ScheduleExistsError
	if errors.As(err, &ex) {
		undo()
		return nil, &ExistsError{MerchantUID: ex.MerchantUID, Paid: ex.Paid}
	}
	if err != nil {
		undo()
		return nil, fmt.Errorf("book schedules for %s: %w", b.CustomerUID, err)
	}
	return list, nil
}

// checkCard approves amount on the customer's key and refunds it at once.
func (s *Scheduler) checkCard(ctx context.Context, merchantID int64, customerUID string, amount int64) error {
	p, err := s.svc.Again(ctx, merchantID, charge.PayInput{
		CustomerUID: customerUID, MerchantUID: newOrderUID("chk_"), Amount: amount, Currency: "KRW", Name: s.cfg.Texts.CheckName,
	})
	var refused *charge.PGRefusedError
	switch {
	case errors.As(err, &refused):
		return &CheckFailedError{Reason: refused.Err.Message, Err: err}
	case err != nil:
		return err
	case p.Status == core.StatusFailed:
		return &CheckFailedError{Reason: p.FailReason}
	case p.Status != core.StatusPaid:
		// Unknown outcome: the reconciler settles the payment; the booking
		// is refused because the card was not proven.
		return &CheckFailedError{Reason: s.cfg.Texts.CheckUnknown}
	}
	if _, err := s.svc.Cancel(ctx, merchantID, charge.CancelInput{ImpUID: p.ImpUID, Reason: s.cfg.Texts.CheckRefund}); err != nil {
		// The check passed; a refund the PG did not confirm is settled by the
		// reconciler (ErrCancelUnknown) or needs an operator.
		s.log.Error("refund of checking_amount failed", "imp_uid", p.ImpUID, "err", err)
	}
	return nil
}

// Unschedule revokes waiting entries: the customer's, the listed
// merchant_uids, or the listed ones of that customer.
func (s *Scheduler) Unschedule(ctx context.Context, merchantID int64, customerUID string, merchantUIDs []string) ([]core.Schedule, error) {
	if customerUID == "" && len(merchantUIDs) == 0 {
		return nil, &charge.ValidationError{Field: "customer_uid", Reason: "customer_uid or merchant_uid required"}
	}
	list, err := s.st.RevokeSchedules(ctx, merchantID, customerUID, merchantUIDs, s.now(merchantID))
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, ErrNothingToRevoke
	}
	return list, nil
}

// Get returns one schedule.
func (s *Scheduler) Get(ctx context.Context, merchantID int64, merchantUID string) (*core.Schedule, error) {
	sc, err := s.st.GetSchedule(ctx, merchantID, merchantUID)
	if errors.Is(err, core.ErrNotFound) {
		return nil, ErrNotFound
	}
	return sc, err
}

// Update moves a waiting entry to a new time (PUT).
func (s *Scheduler) Update(ctx context.Context, merchantID int64, merchantUID string, at time.Time) (*core.Schedule, error) {
	return s.move(ctx, merchantID, merchantUID, at, false)
}

// Reschedule re-arms a failed or revoked entry for a new time.
func (s *Scheduler) Reschedule(ctx context.Context, merchantID int64, merchantUID string, at time.Time) (*core.Schedule, error) {
	return s.move(ctx, merchantID, merchantUID, at, true)
}

func (s *Scheduler) move(ctx context.Context, merchantID int64, merchantUID string, at time.Time, rearm bool) (*core.Schedule, error) {
	if err := s.checkTime(merchantID, "schedule_at", at); err != nil {
		return nil, err
	}
	cur, err := s.Get(ctx, merchantID, merchantUID)
	if err != nil {
		return nil, err
	}
	if rearm {
		// A revoked entry may have lost its key; re-arming it would only
		// fail at execution.
		if _, err := s.svc.GetBillingKey(ctx, merchantID, cur.CustomerUID); err != nil {
			return nil, err
		}
	}
	sc, err := s.st.MoveSchedule(ctx, merchantID, merchantUID, at.Truncate(time.Second), s.now(merchantID), rearm)
	switch {
	case errors.Is(err, store.ErrScheduleState):
		op := "update"
		if rearm {
			op = "reschedule"
		}
		return nil, &StateError{Op: op, Status: cur.Status, Paid: cur.PaymentStatus}
	case errors.Is(err, core.ErrNotFound):
		return nil, ErrNotFound
	}
	return sc, err
}

// List pages through schedules in a schedule_at window.
func (s *Scheduler) List(ctx context.Context, merchantID int64, q core.ScheduleQuery) (core.SchedulePage, error) {
	switch q.Status {
	case "", string(core.ScheduleScheduled), string(core.ScheduleExecuted), string(core.ScheduleRevoked):
	default:
		return core.SchedulePage{}, &charge.ValidationError{Field: "schedule_status", Reason: "must be scheduled, executed or revoked"}
	}
	if q.From.IsZero() || q.To.IsZero() || !q.To.After(q.From) {
		return core.SchedulePage{}, &charge.ValidationError{Field: "schedule_to", Reason: "must be after schedule_from"}
	}
	if q.To.After(MaxWindowEnd(q.From)) {
		return core.SchedulePage{}, &charge.ValidationError{Field: "schedule_to", Reason: "window longer than 3 months"}
	}
	if q.Limit <= 0 {
		q.Limit = 20
	}
	if q.Limit > 1000 {
		return core.SchedulePage{}, &charge.ValidationError{Field: "limit", Reason: "must be at most 1000"}
	}
	q.Page = max(q.Page, 1)
	return s.st.ListSchedules(ctx, merchantID, q)
}

// MaxWindowEnd is the latest exclusive end of a list window starting at
// from: three calendar months.
func MaxWindowEnd(from time.Time) time.Time { return from.AddDate(0, 3, 0) }
