// Package charge is the charge protocol: billing keys, payments and refunds
// with exactly-once effects at the PG.
//
// The protocol for every charge:
//  1. The attempt is recorded (status pending) before the PG is called. A
//     unique index lets only one attempt hold a merchant_uid at a time, so
//     concurrent duplicates never reach the PG.
//  2. The PG is called with the attempt's imp_uid as idempotency key.
//  3. The outcome is stored with its outbox events in one transaction.
//
// An attempt whose outcome is unknown (timeout, lost response, process killed
// between 2 and 3) is resolved by the reconciler looking the charge up by its
// idempotency key — never by charging again — and the merchant_uid stays held
// until then.
package charge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/store"
)

// Sealer encrypts card data at rest (the vault).
type Sealer interface {
	Seal(plaintext, aad []byte) (ciphertext []byte, keyID string, err error)
}

// Config wires a Service.
type Config struct {
	Store  *store.Store
	PG     pg.Connector
	Vault  Sealer
	Clock  clock.Clock
	Logger *slog.Logger
	// PGTimeout bounds one PG call; past it the outcome is unknown.
	PGTimeout time.Duration
	// Registerer receives the charge metrics; nil skips them.
	Registerer prometheus.Registerer
	// Channels resolves a V1 pg value to the merchant's PG channel.
	Channels Channels
	// ReceiptBase is Billkey's public URL (e.g. https://billkey.example.com):
	// receipt_url and cancel_receipt_urls point at its /receipts pages, which
	// stay put whichever PG (or simulator port) made the charge. Empty keeps
	// the PG's own receipt URLs.
	ReceiptBase string
}

// Channels resolves the PG channel a charge goes through (the merchant's
// channel catalog, internal/merchant).
type Channels interface {
	ResolveChannel(ctx context.Context, merchantID int64, pgValue string) (core.Channel, error)
	WindowChannel(ctx context.Context, merchantID int64, pgValue string) (core.Channel, error)
}

// Service is the core the API dialects call.
type Service struct {
	store     *store.Store
	pg        pg.Connector
	vault     Sealer
	clock     clock.Clock
	log       *slog.Logger
	pgTimeout time.Duration

	channelsOf  Channels
	receiptBase string

	charges *prometheus.CounterVec
	refunds refundMetrics

	keyDeleteHooks []BeforeKeyDelete
	eventHooks     []func()
	resolveHooks   []ResolveHook
}

// New builds the service.
func New(cfg Config) *Service {
	s := &Service{
		store: cfg.Store, pg: cfg.PG, vault: cfg.Vault, clock: cfg.Clock, log: cfg.Logger, pgTimeout: cfg.PGTimeout,
		channelsOf: cfg.Channels, receiptBase: strings.TrimRight(cfg.ReceiptBase, "/"),
	}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.pgTimeout <= 0 {
		s.pgTimeout = 30 * time.Second
	}
	s.charges = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "billkey_charges_total",
		Help: "Charge attempts by outcome (paid, failed, unknown, refused).",
	}, []string{"outcome"})
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(s.charges)
	}
	s.refunds = newRefundMetrics(cfg.Registerer)
	return s
}

// Store exposes the store to packages built on the service (scheduler, webhooks).
func (s *Service) Store() *store.Store { return s.store }

// Clock is the service's time source.
func (s *Service) Clock() clock.Clock { return s.clock }

// NewImpUID returns "imp_" + 12 random digits, the v1 shape.
func NewImpUID() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000_000_000))
	if err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // the OS RNG failing is not recoverable
	}
	return fmt.Sprintf("imp_%012d", n.Int64())
}

// NewID returns prefix + 24 random hex characters.
func NewID(prefix string) string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return prefix + hex.EncodeToString(b[:])
}

// attemptGrace is how long after its PG call deadline a pending attempt is
// left alone before the reconciler may consider its process gone.
const attemptGrace = 30 * time.Second

// newAttempt fills the fields every attempt shares.
func (s *Service) newAttempt(merchantID int64, in PayInput, ch core.Channel, usage string) *core.Payment {
	now := s.clock.Now()
	channel := in.Channel
	if channel == "" {
		channel = "api"
	}
	if in.Usage != "" {
		usage = in.Usage
	}
	deadline := now.Add(s.pgTimeout + attemptGrace)
	return &core.Payment{
		MerchantID: merchantID, MerchantUID: in.MerchantUID, Status: core.StatusPending, PayMethod: "card", Channel: channel,
		PGProvider: ch.Provider, PGID: ch.MID, Sandbox: ch.Sandbox, CardQuota: in.CardQuota, Name: in.Name,
		Amount: in.Amount, Currency: in.Currency, TaxFree: in.TaxFree, VatAmount: in.VatAmount, Buyer: in.Buyer,
		CustomData: in.CustomData, NoticeURL: in.NoticeURL, CustomerUID: in.CustomerUID, CustomerUIDUsage: usage, Notify: in.Notify,
		StartedAt: now, AttemptDeadline: deadline, NextCheckAt: deadline, UpdatedAt: now,
	}
}

// begin records the attempt. When the merchant_uid is held by an attempt
// whose outcome is unknown, it first tries to resolve that attempt, so a
// merchant retrying after a crash gets the truth instead of a second charge.
func (s *Service) begin(ctx context.Context, p *core.Payment) error {
	for tries := 0; ; tries++ {
		p.ImpUID = NewImpUID()
		err := s.store.BeginAttempt(ctx, p)
		var held *store.OrderHeldError
		switch {
		case err == nil:
			return nil
		case errors.Is(err, store.ErrIDTaken) && tries < 5:
			continue
		case errors.As(err, &held):
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
		default:
			return err
		}
	}
}

// execute calls the PG for a recorded attempt and stores the outcome.
func (s *Service) execute(ctx context.Context, p *core.Payment, req pg.ChargeRequest, also func(*store.Tx, *core.Payment) error) (*core.Payment, error) {
	return s.executeWith(ctx, p, req, func() error { return s.finish(ctx, p, also) })
}

// ExecuteScheduled runs a recorded scheduled attempt and stores its outcome
// together with its schedule row's (executed, payment status, fail reason)
// and its webhook: one statement on Postgres, the hot path of a billing run.
func (s *Service) ExecuteScheduled(ctx context.Context, p *core.Payment, req pg.ChargeRequest) (*core.Payment, error) {
	return s.executeWith(ctx, p, req, func() error {
		err := s.store.FinishScheduleOutcome(ctx, p, s.outcomeEvents(p), s.clock.Now())
		return s.settled(ctx, p, err)
	})
}

func (s *Service) executeWith(ctx context.Context, p *core.Payment, req pg.ChargeRequest, finish func() error) (*core.Payment, error) {
	req.IdempotencyKey = p.ImpUID
	req.Amount, req.Currency, req.OrderName, req.CardQuota = p.Amount, p.Currency, p.Name, p.CardQuota
	req.Target = pg.Target{MerchantID: p.MerchantID, Provider: p.PGProvider, MID: p.PGID, Sandbox: p.Sandbox}
	// A merchant hanging up must not abort a charge half-way: that would only
	// turn a known outcome into an unknown one.
	pgctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.pgTimeout)
	res, err := s.pg.Charge(pgctx, req)
	cancel()
	var pgErr *pg.Error
	switch {
	case err == nil:
		s.applyResult(p, res)
	case errors.As(err, &pgErr):
		now := s.clock.Now()
		p.Status, p.FailedAt, p.FailReason, p.UpdatedAt = core.StatusFailed, now, pgErr.Message, now
	default:
		// Unknown: keep the order held and let the reconciler ask the PG.
		s.charges.WithLabelValues("unknown").Inc()
		now := s.clock.Now()
		next := now.Add(checkDelay(0))
		s.log.Warn("charge outcome unknown", "imp_uid", p.ImpUID, "merchant_uid", p.MerchantUID, "err", err)
		if merr := s.store.MarkUnknown(ctx, p.MerchantID, p.ImpUID, next, now); merr != nil {
			return nil, fmt.Errorf("charge %s: record unknown outcome: %w", p.ImpUID, merr)
		}
		p.Status, p.NextCheckAt = core.StatusUnknown, next
		return p, nil
	}
	if err := finish(); err != nil {
		return nil, err
	}
	if pgErr != nil {
		s.charges.WithLabelValues("refused").Inc()
		return p, &PGRefusedError{Stage: "charge", Err: pgErr, Payment: p}
	}
	s.charges.WithLabelValues(string(p.Status)).Inc()
	return p, nil
}

func (s *Service) applyResult(p *core.Payment, res *pg.ChargeResult) {
	now := s.clock.Now()
	p.PGTID, p.ApplyNum, p.ReceiptURL, p.UpdatedAt = res.PGTID, res.ApplyNum, s.receiptURL(res.ReceiptURL, p.ImpUID, ""), now
	if res.Card.CardName != "" {
		ct := res.Card.CardType
		p.CardName, p.CardCode, p.CardNumber, p.CardType = res.Card.CardName, res.Card.CardCode, res.Card.CardNumber, &ct
	}
	if res.Status == pg.ChargeApproved {
		p.Status, p.PaidAt = core.StatusPaid, now
		return
	}
	p.Status, p.FailedAt, p.FailReason, p.DeclineRetryable = core.StatusFailed, now, res.DeclineReason, res.Retryable
	if p.FailReason == "" {
		p.FailReason = "카드사 승인 거절"
	}
}

// finish stores the outcome; if the reconciler got there first, its answer stands.
func (s *Service) finish(ctx context.Context, p *core.Payment, also func(*store.Tx, *core.Payment) error) error {
	var extra func(*store.Tx) error
	if also != nil {
		extra = func(tx *store.Tx) error { return also(tx, p) }
	}
	return s.settled(ctx, p, s.store.FinishAttempt(ctx, p, s.outcomeEvents(p), extra))
}

// settled completes storing an outcome: if the reconciler got there first
// (ErrConflict), its answer stands and p becomes it.
func (s *Service) settled(ctx context.Context, p *core.Payment, err error) error {
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
	if p.Status == core.StatusPaid || p.CustomerUIDUsage == core.UsageScheduled {
		s.eventsWritten()
	}
	p.Checks = 0
	if p.Cancels == nil {
		p.Cancels = []core.Cancellation{}
	}
	return nil
}

// outcomeEvents are the webhooks an outcome fires: v1 notifies paid
// payments, and scheduled executions whether paid or failed.
func (s *Service) outcomeEvents(p *core.Payment) []core.Event {
	if p.Notify == "v3" {
		return nil
	}
	if p.Status != core.StatusPaid && !(p.Status == core.StatusFailed && p.CustomerUIDUsage == core.UsageScheduled) {
		return nil
	}
	return []core.Event{s.paymentEvent(p, string(p.Status), "")}
}

func (s *Service) paymentEvent(p *core.Payment, status, cancellationID string) core.Event {
	payload := map[string]string{"imp_uid": p.ImpUID, "merchant_uid": p.MerchantUID, "status": status}
	if cancellationID != "" {
		payload["cancellation_id"] = cancellationID
	}
	return core.Event{
		ID: NewID("msg_"), MerchantID: p.MerchantID, Type: "payment." + status, ImpUID: p.ImpUID,
		Payload: payload, URL: p.NoticeURL, CreatedAt: s.clock.Now(),
	}
}

// OnEventsWritten registers a callback run after a transaction wrote outbox
// events, so that the webhook worker delivers them without waiting for its
// next tick. Callbacks must not block.
func (s *Service) OnEventsWritten(f func()) { s.eventHooks = append(s.eventHooks, f) }

func (s *Service) eventsWritten() {
	for _, f := range s.eventHooks {
		f()
	}
}

// receiptURL is Billkey's receipt page for a payment, or for one of its
// cancellations; pgURL (the PG's own) when no public base is configured.
func (s *Service) receiptURL(pgURL, impUID, cancellationID string) string {
	if s.receiptBase == "" {
		return pgURL
	}
	u := s.receiptBase + "/receipts/" + url.PathEscape(impUID)
	if cancellationID != "" {
		u += "/cancellations/" + url.PathEscape(cancellationID)
	}
	return u
}
