// Package subscription is the recurring engine behind the v3 (OneKey/D24)
// dialect: plans, renewals, dunning and deposits. It owns no timer of its
// own: every renewal is a row of the scheduler's table, executed by the same
// claim loop (and with the same exactly-once guarantees) as a v1 scheduled
// payment, and every deposit is a core payment seen through the v3 lens.
//
// Exactly one charge per subscription per period is a store rule: each
// period has its own merchant_uid ("v3s<id>-p<n>"), and the payments table
// lets only one attempt per merchant_uid be paid; the deposits table also
// allows only one COMPLETED deposit per (subscription, period).
package subscription

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/period"
	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/reqid"
	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/wellformed"
)

// Runner is the scheduler as the engine uses it.
type Runner interface {
	// ExecuteNow runs one due entry synchronously.
	ExecuteNow(ctx context.Context, merchantID int64, merchantUID string) (*core.Payment, error)
}

// Config tunes the engine.
type Config struct {
	// Dunning is the delay before each retry of a soft-declined renewal,
	// counted from the failure. Card networks cap retries (Visa: 15 in 30
	// days; Mastercard: 10 in 24 hours): the default, 1, 3 and 7 days,
	// stays far inside both.
	Dunning []time.Duration
	// CheckoutTTL is how long a OneShot hosted-page link stays valid.
	CheckoutTTL time.Duration
	Logger      *slog.Logger
}

// Engine runs subscriptions.
type Engine struct {
	svc    *charge.Service
	st     Store
	runner Runner
	clock  clock.Clock
	cfg    Config
	log    *slog.Logger
}

// New builds the engine and subscribes it to settled outcomes.
func New(svc *charge.Service, st Store, runner Runner, cfg Config) *Engine {
	if cfg.Dunning == nil {
		cfg.Dunning = []time.Duration{24 * time.Hour, 3 * 24 * time.Hour, 7 * 24 * time.Hour}
	}
	if cfg.CheckoutTTL == 0 {
		cfg.CheckoutTTL = 30 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	e := &Engine{svc: svc, st: st, runner: runner, clock: svc.Clock(), cfg: cfg, log: cfg.Logger}
	svc.OnSettled(e.settled)
	svc.OnWindowOrder(e.ownsWindowOrder)
	return e
}

// KeyOrderUID is the merchant_uid of the window that issues a OneShot
// subscription's billing key.
func KeyOrderUID(subID int64) string { return fmt.Sprintf("v3s%d-key", subID) }

// ownsWindowOrder claims the key window of a OneShot subscription: v3 tells
// the merchant about it with its own deposit notifications, so the window's
// payment sends no V1 webhook.
func (e *Engine) ownsWindowOrder(ctx context.Context, merchantID int64, merchantUID string) (core.Dialect, bool) {
	if _, ok := e.WindowSubscription(ctx, merchantID, merchantUID); !ok {
		return "", false
	}
	return core.DialectV3, true
}

// WindowSubscription is the OneShot subscription whose key window has
// order merchantUID (KeyOrderUID), if any.
func (e *Engine) WindowSubscription(ctx context.Context, merchantID int64, merchantUID string) (*core.Subscription, bool) {
	rest, ok := strings.CutPrefix(merchantUID, "v3s")
	if !ok {
		return nil, false
	}
	idText, ok := strings.CutSuffix(rest, "-key")
	if !ok {
		return nil, false
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || KeyOrderUID(id) != merchantUID {
		return nil, false
	}
	sub, err := e.st.GetSubscription(ctx, merchantID, id)
	if err != nil || sub.Flow != core.FlowOneShot {
		return nil, false
	}
	return sub, true
}

// Errors the v3 dialect maps to its codes.
var (
	ErrNotFound         = errors.New("subscription not found")
	ErrAlreadyCancelled = errors.New("subscription already cancelled")
	ErrTerminated       = errors.New("subscription terminated")
	ErrInvoiceExists    = errors.New("invoice_id already used")
	ErrCheckoutExpired  = errors.New("checkout link expired or used")
)

// ValidationError is bad input (400 VALIDATION_ERROR).
type ValidationError struct{ Field, Reason string }

func (e *ValidationError) Error() string { return e.Field + ": " + e.Reason }

// CardError is a card the PG refused at key issuance (422).
type CardError struct{ Err error }

func (e *CardError) Error() string { return "card refused: " + e.Err.Error() }
func (e *CardError) Unwrap() error { return e.Err }

// CreateInput is POST /v3/subscriptions.
type CreateInput struct {
	InvoiceID   string
	Amount      int64 // minor units
	Currency    string
	Country     string
	Description string
	Payer       json.RawMessage
	Plan        string
	PlanUnit    int
	AutoRenewal bool
	StartDate   string // YYYY-MM-DD; empty = today
	// Exactly one of Card (PCI), CustomerUID (an existing v1 billing key,
	// Billkey's extension) or neither (OneShot: the hosted page asks).
	Card        *pg.Card
	CustomerUID string
	// HolderName is the card's holder as sent (credit_card.holder_name);
	// deposits report it as card_detail.card_holder.
	HolderName      string
	NotificationURL string
	BackURL         string
	SuccessURL      string
	ErrorURL        string
	ClientIP        string
}

// Schedule returns the billing calendar of a subscription.
func Schedule(sub *core.Subscription) (period.Schedule, error) {
	loc, err := period.LoadLocation(sub.TimeZone)
	if err != nil {
		return period.Schedule{}, err
	}
	start, err := period.ParseDate(sub.StartDate)
	if err != nil {
		return period.Schedule{}, err
	}
	plan, err := period.ParsePlan(sub.Plan)
	if err != nil {
		return period.Schedule{}, err
	}
	at := period.TimeOfDay{Hour: sub.ChargeTime / 3600, Minute: sub.ChargeTime / 60 % 60, Second: sub.ChargeTime % 60}
	return period.NewSchedule(plan, start, at, loc)
}

// OrderUID is the merchant_uid of period n of a subscription.
func OrderUID(subID int64, n int) string { return fmt.Sprintf("v3s%d-p%d", subID, n) }

func parseOrderUID(uid string) (sub int64, n int, ok bool) {
	rest, found := strings.CutPrefix(uid, "v3s")
	if !found {
		return 0, 0, false
	}
	a, b, found := strings.Cut(rest, "-p")
	if !found {
		return 0, 0, false
	}
	sub, err1 := strconv.ParseInt(a, 10, 64)
	n, err2 := strconv.Atoi(b)
	return sub, n, err1 == nil && err2 == nil
}

// StartDateHorizonDays is how far ahead a subscription's start_date may be.
const StartDateHorizonDays = 366

func (e *Engine) validate(merchantID int64, in *CreateInput, loc *time.Location) (period.Date, error) {
	switch {
	case wellformed.Identifier("invoice_id", in.InvoiceID, 128) != nil:
		return period.Date{}, &ValidationError{"invoice_id", "required, 1 to 128 printable characters without leading or trailing spaces"}
	case in.Amount <= 0:
		return period.Date{}, &ValidationError{"amount", "must be greater than 0"}
	case len(in.Country) != 2 || strings.ToUpper(in.Country) != in.Country:
		return period.Date{}, &ValidationError{"country", "must be an ISO 3166-1 alpha-2 code"}
	case in.PlanUnit < 1 || in.PlanUnit > 1000:
		return period.Date{}, &ValidationError{"subscription.plan_unit", "must be between 1 and 1000"}
	case in.Card != nil && in.CustomerUID != "":
		return period.Date{}, &ValidationError{"credit_card", "send either credit_card or customer_uid, not both"}
	}
	if _, err := core.CurrencyScale(in.Currency); err != nil {
		return period.Date{}, &ValidationError{"currency", "must be an ISO 4217 code"}
	}
	if _, err := period.ParsePlan(in.Plan); err != nil {
		return period.Date{}, &ValidationError{"subscription.plan", "must be DAILY, WEEKLY, MONTHLY, ANNUALLY or TEST"}
	}
	today := period.DateOf(e.now(merchantID).In(loc))
	if in.StartDate == "" {
		return today, nil
	}
	start, err := period.ParseDate(in.StartDate)
	if err != nil {
		return period.Date{}, &ValidationError{"subscription.start_date", "must be YYYY-MM-DD"}
	}
	if start.Before(today) {
		return period.Date{}, &ValidationError{"subscription.start_date", "must not be in the past"}
	}
	if start.After(today.AddDays(StartDateHorizonDays)) {
		return period.Date{}, &ValidationError{"subscription.start_date", fmt.Sprintf("must be within %d days from today", StartDateHorizonDays)}
	}
	return start, nil
}

// Create makes a subscription. PCI and billing-key subscriptions book their
// first charge at once (and run it inline when start_date is today); OneShot
// subscriptions wait for the hosted page.
func (e *Engine) Create(ctx context.Context, merchantID int64, in CreateInput) (*core.Subscription, error) {
	m, err := e.st.MerchantByID(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	loc, err := period.LoadLocation(m.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("merchant time zone %q: %w", m.TimeZone, err)
	}
	start, err := e.validate(merchantID, &in, loc)
	if err != nil {
		return nil, err
	}
	now := e.now(merchantID)
	local := now.In(loc)
	payer := string(in.Payer)
	if payer == "" {
		payer = "{}"
	}
	sub := &core.Subscription{
		MerchantID: merchantID, InvoiceID: in.InvoiceID, Status: core.SubPending, Amount: in.Amount, Currency: in.Currency,
		Country: in.Country, Description: in.Description, Payer: payer, Plan: in.Plan, PlanUnit: in.PlanUnit,
		AutoRenewal: in.AutoRenewal, StartDate: start.String(), TimeZone: loc.String(),
		// Every charge falls at the time of day the subscription was made,
		// so that a start today charges now and later periods keep the rhythm.
		ChargeTime:      local.Hour()*3600 + local.Minute()*60 + local.Second(),
		NotificationURL: in.NotificationURL, BackURL: in.BackURL, SuccessURL: in.SuccessURL, ErrorURL: in.ErrorURL,
		ClientIP: in.ClientIP, CreatedAt: now, UpdatedAt: now,
	}
	switch {
	case in.Card != nil:
		sub.Flow = core.FlowPCI
		// The key comes first: a refused card leaves no subscription behind,
		// as D24 answers a declined create.
		sub.CustomerUID = charge.NewID("d24_")
		customer := buyerOf(in.Payer)
		if h := strings.TrimSpace(in.HolderName); h != "" {
			// The key's customer is the card's holder, as a V1 key's
			// customer_name is.
			customer.Name = h
		}
		_, err := e.svc.IssueBillingKey(ctx, merchantID, charge.IssueKeyInput{CustomerUID: sub.CustomerUID, Card: *in.Card,
			CustomerID: in.InvoiceID, Customer: customer})
		if err != nil {
			var inv *charge.InvalidCardError
			var refused *charge.PGRefusedError
			if errors.As(err, &inv) || errors.As(err, &refused) {
				return nil, &CardError{Err: err}
			}
			return nil, err
		}
	case in.CustomerUID != "":
		sub.Flow, sub.CustomerUID = core.FlowKey, in.CustomerUID
		if _, err := e.svc.GetBillingKey(ctx, merchantID, in.CustomerUID); err != nil {
			if errors.Is(err, charge.ErrCustomerNotFound) {
				return nil, &ValidationError{"customer_uid", "no billing key with this customer_uid"}
			}
			return nil, err
		}
	default:
		sub.Flow = core.FlowOneShot
		sub.CheckoutToken = charge.NewID("")
		sub.CheckoutExpires = now.Add(e.cfg.CheckoutTTL)
	}
	err = e.st.CreateSubscription(ctx, sub, func(tx *store.Tx) error {
		if sub.Flow == core.FlowOneShot {
			return nil
		}
		return e.book(ctx, tx, sub, 0)
	})
	if errors.Is(err, store.ErrInvoiceExists) {
		return nil, ErrInvoiceExists
	}
	if err != nil {
		return nil, err
	}
	if sub.Flow != core.FlowOneShot {
		if err := e.runIfDue(ctx, sub, 0); err != nil {
			return nil, err
		}
	}
	got, err := e.Get(ctx, merchantID, sub.ID)
	if err != nil {
		// The subscription is committed and its first charge may have been
		// approved with the database gone before the answer was stored: an
		// error now would invite a create under a new invoice_id that pays
		// twice. Answer it as committed, PENDING; the reconciler settles the
		// charge into the first deposit (or the scheduler runs it again).
		e.log.Warn("subscription created, state not re-read; answering it pending", "subscription_id", sub.ID, "err", err)
		sub.Status = e.Effective(sub)
		return sub, nil
	}
	return got, nil
}

func buyerOf(payer json.RawMessage) core.Buyer {
	var p struct {
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
		Email     string `json:"email"`
		Phone     string `json:"phone"`
	}
	json.Unmarshal(payer, &p)
	return core.Buyer{Name: strings.TrimSpace(p.FirstName + " " + p.LastName), Email: p.Email, Tel: p.Phone}
}

// book adds period n's charge to the scheduler's table.
func (e *Engine) book(ctx context.Context, tx *store.Tx, sub *core.Subscription, n int) error {
	cal, err := Schedule(sub)
	if err != nil {
		return err
	}
	at := cal.Nth(n)
	if now := e.now(sub.MerchantID); at.Before(now) {
		at = now
	}
	return tx.BookRenewal(ctx, core.Schedule{
		MerchantID: sub.MerchantID, MerchantUID: OrderUID(sub.ID, n), CustomerUID: sub.CustomerUID, CustomerID: sub.InvoiceID,
		Status: core.ScheduleScheduled, ScheduleAt: at, Amount: sub.Amount, Currency: sub.Currency, Name: name(sub),
		SubscriptionID: sub.ID, CreatedAt: e.now(sub.MerchantID), UpdatedAt: e.now(sub.MerchantID),
	})
}

func name(sub *core.Subscription) string {
	n := sub.Description
	if n == "" {
		n = "Subscription " + sub.InvoiceID
	}
	if r := []rune(n); len(r) > 40 {
		n = string(r[:40])
	}
	return n
}

// runIfDue executes period n now when it is due (start_date today), so that
// the create call answers after the first charge as D24's PCI flow does.
func (e *Engine) runIfDue(ctx context.Context, sub *core.Subscription, n int) error {
	cal, err := Schedule(sub)
	if err != nil {
		return err
	}
	if cal.Nth(n).After(e.now(sub.MerchantID)) {
		return nil
	}
	if _, err := e.runner.ExecuteNow(ctx, sub.MerchantID, OrderUID(sub.ID, n)); err != nil {
		// The row stays booked and due: the scheduler's loop runs it.
		e.log.Warn("first charge deferred to the scheduler", "subscription_id", sub.ID, "err", err)
	}
	return nil
}

// settled turns a settled renewal into a deposit, a notification and the
// subscription's next step, in the outcome's own transaction. A renewal
// that never reached the PG is not a try: the scheduler runs it again.
func (e *Engine) settled(ctx context.Context, tx *store.Tx, p *core.Payment, o charge.Outcome) error {
	if p.Dialect != core.DialectV3 || o.Refund != nil || o.NeverReached {
		return nil
	}
	subID, n, ok := parseOrderUID(p.MerchantUID)
	if !ok {
		return nil
	}
	sub, err := tx.LockSubscription(ctx, p.MerchantID, subID)
	if err != nil {
		return err
	}
	now := e.now(p.MerchantID)
	d := &core.Deposit{MerchantID: p.MerchantID, SubscriptionID: sub.ID, Period: n, Try: sub.Tries + 1, ImpUID: p.ImpUID,
		Status: core.DepositRejected, CreatedAt: now, UpdatedAt: now}
	if p.Status == core.StatusPaid {
		d.Status = core.DepositCompleted
	}
	changed, err := tx.UpsertDeposit(ctx, d)
	if err != nil {
		return err
	}
	if changed {
		if err := tx.InsertEvents(ctx, []core.Event{e.depositEvent(ctx, sub, d)}); err != nil {
			return err
		}
	}
	sub.UpdatedAt = now
	switch {
	case sub.Status == core.SubCancelled:
		// Cancelled while this charge ran: record it, book nothing more.
	case p.Status == core.StatusPaid:
		err = e.advance(ctx, tx, sub, n)
	default:
		err = e.dun(ctx, tx, sub, n, p)
	}
	if err != nil {
		return err
	}
	return tx.UpdateSubscription(ctx, sub)
}

// advance moves past a paid period: ACTIVE, the term's end, the next booking.
func (e *Engine) advance(ctx context.Context, tx *store.Tx, sub *core.Subscription, n int) error {
	cal, err := Schedule(sub)
	if err != nil {
		return err
	}
	if sub.Status == core.SubPending {
		sub.Status = core.SubActive
	}
	sub.PeriodsPaid, sub.Tries = n+1, 0
	u := sub.PlanUnit
	sub.EndAt = cal.Nth((n/u + 1) * u)
	next := n + 1
	if next%u == 0 && !sub.AutoRenewal {
		return nil // the term ends at EndAt; Status reads TERMINATED from then on
	}
	return e.book(ctx, tx, sub, next)
}

// dun applies the dunning policy to a failed renewal: soft declines are
// retried on the Dunning schedule (the subscription keeps its status
// meanwhile), hard declines and the last failed try cancel it.
func (e *Engine) dun(ctx context.Context, tx *store.Tx, sub *core.Subscription, n int, p *core.Payment) error {
	sub.Tries++
	if p.DeclineRetryable && sub.Tries <= len(e.cfg.Dunning) {
		at := e.now(sub.MerchantID).Add(e.cfg.Dunning[sub.Tries-1])
		e.log.Info("renewal declined; retrying", "subscription_id", sub.ID, "period", n, "try", sub.Tries, "at", at)
		return tx.RearmRenewal(ctx, sub.MerchantID, OrderUID(sub.ID, n), at)
	}
	e.log.Info("renewal failed for good; subscription cancelled", "subscription_id", sub.ID, "period", n, "tries", sub.Tries,
		"reason", p.FailReason)
	sub.Status, sub.CancelledAt = core.SubCancelled, e.now(sub.MerchantID)
	return nil
}

func (e *Engine) depositEvent(ctx context.Context, sub *core.Subscription, d *core.Deposit) core.Event {
	return core.Event{
		ID: charge.NewEventID(), MerchantID: sub.MerchantID, Type: "deposit." + strings.ToLower(d.Status), ImpUID: d.ImpUID,
		Body: fmt.Sprintf(`{"deposit_id":%d}`, d.ID), BodyFormat: "json", Profile: "d24",
		URL: sub.NotificationURL, CreatedAt: e.clock.Now(), RequestID: reqid.From(ctx),
	}
}

// now is merchantID's billing time: its own on a sandbox test clock (see
// clock.For).
func (e *Engine) now(merchantID int64) time.Time { return clock.For(e.clock, merchantID) }

// Effective is the status as of now: a term that ended without renewal
// reads TERMINATED.
func (e *Engine) Effective(sub *core.Subscription) core.SubscriptionStatus {
	if Abandoned(sub, e.now(sub.MerchantID)) {
		return core.SubCancelled
	}
	if (sub.Status == core.SubActive || sub.Status == core.SubPending) && !sub.AutoRenewal &&
		sub.PeriodsPaid > 0 && sub.PeriodsPaid%sub.PlanUnit == 0 && !e.now(sub.MerchantID).Before(sub.EndAt) {
		return core.SubTerminated
	}
	return sub.Status
}

// Abandoned reports a OneShot subscription whose customer never completed
// the hosted page before its link expired (expiration_date): it reads
// CANCELLED from then on, and no charge is ever made for it.
func Abandoned(sub *core.Subscription, now time.Time) bool {
	return sub.Flow == core.FlowOneShot && sub.Status == core.SubPending && sub.CustomerUID == "" &&
		!sub.CheckoutExpires.IsZero() && !now.Before(sub.CheckoutExpires)
}

// Get returns a subscription with its effective status.
func (e *Engine) Get(ctx context.Context, merchantID, id int64) (*core.Subscription, error) {
	sub, err := e.st.GetSubscription(ctx, merchantID, id)
	if errors.Is(err, core.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	sub.Status = e.Effective(sub)
	return sub, nil
}

// Cancel ends a subscription now: waiting renewals are revoked; past charges
// are not refunded.
func (e *Engine) Cancel(ctx context.Context, merchantID, id int64) (*core.Subscription, error) {
	var out *core.Subscription
	err := e.st.InTx(ctx, func(tx *store.Tx) error {
		sub, err := tx.LockSubscription(ctx, merchantID, id)
		if errors.Is(err, core.ErrNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		switch e.Effective(sub) {
		case core.SubCancelled:
			return ErrAlreadyCancelled
		case core.SubTerminated:
			return ErrTerminated
		}
		now := e.now(sub.MerchantID)
		sub.Status, sub.CancelledAt, sub.UpdatedAt, sub.CheckoutToken = core.SubCancelled, now, now, ""
		if err := tx.RevokeSubscriptionSchedules(ctx, merchantID, id, now); err != nil {
			return err
		}
		out = sub
		return tx.UpdateSubscription(ctx, sub)
	})
	return out, err
}

// Deposit is a deposit with the payment behind it.
type Deposit struct {
	core.Deposit
	Subscription *core.Subscription
	Payment      *core.Payment
}

// GetDeposit returns a deposit with its payment and subscription.
func (e *Engine) GetDeposit(ctx context.Context, merchantID, id int64) (*Deposit, error) {
	d, err := e.st.GetDeposit(ctx, merchantID, id)
	if errors.Is(err, core.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	p, err := e.svc.GetPayment(ctx, merchantID, d.ImpUID)
	if err != nil {
		return nil, err
	}
	sub, err := e.st.GetSubscription(ctx, merchantID, d.SubscriptionID)
	if err != nil {
		return nil, err
	}
	return &Deposit{Deposit: *d, Subscription: sub, Payment: p}, nil
}

// Checkout is a OneShot subscription waiting for its hosted page.
func (e *Engine) Checkout(ctx context.Context, token string) (*core.Subscription, *core.Merchant, error) {
	sub, err := e.st.SubscriptionByCheckout(ctx, token)
	if errors.Is(err, core.ErrNotFound) {
		return nil, nil, ErrCheckoutExpired
	}
	if err != nil {
		return nil, nil, err
	}
	if sub.Status != core.SubPending || !e.now(sub.MerchantID).Before(sub.CheckoutExpires) {
		return nil, nil, ErrCheckoutExpired
	}
	m, err := e.st.MerchantByID(ctx, sub.MerchantID)
	if err != nil {
		return nil, nil, err
	}
	return sub, m, nil
}

// CheckoutCustomerUID is the billing key a OneShot page issues.
func CheckoutCustomerUID(sub *core.Subscription) string { return fmt.Sprintf("v3sub_%d", sub.ID) }

// CompleteCheckout attaches the key the hosted page issued (verified through
// its key-only payment record, as a merchant would verify imp_uid) and books
// the first charge.
func (e *Engine) CompleteCheckout(ctx context.Context, token, impUID string) (*core.Subscription, error) {
	sub, _, err := e.Checkout(ctx, token)
	if err != nil {
		return nil, err
	}
	p, err := e.svc.GetPayment(ctx, sub.MerchantID, impUID)
	if err != nil || p.Status != core.StatusPaid || p.CustomerUID != CheckoutCustomerUID(sub) {
		return nil, ErrCheckoutExpired
	}
	err = e.st.InTx(ctx, func(tx *store.Tx) error {
		cur, err := tx.LockSubscription(ctx, sub.MerchantID, sub.ID)
		if err != nil {
			return err
		}
		if cur.CheckoutToken != token || cur.Status != core.SubPending {
			return ErrCheckoutExpired // completed or cancelled meanwhile
		}
		cur.CustomerUID, cur.CheckoutToken, cur.UpdatedAt = CheckoutCustomerUID(sub), "", e.now(sub.MerchantID)
		sub = cur
		if err := tx.UpdateSubscription(ctx, cur); err != nil {
			return err
		}
		return e.book(ctx, tx, cur, 0)
	})
	if err != nil {
		return nil, err
	}
	if err := e.runIfDue(ctx, sub, 0); err != nil {
		return nil, err
	}
	return e.Get(ctx, sub.MerchantID, sub.ID)
}
