// Package charge is the charge protocol: billing keys, payments and refunds
// with exactly-once effects at the PG.
//
// The protocol for every charge:
//  1. The attempt is recorded (status pending) before the PG is called. A
//     unique index lets only one attempt hold a merchant_uid at a time, so
//     concurrent duplicates never reach the PG.
//  2. The PG is called with the attempt's imp_uid as idempotency key.
//  3. The outcome is settled: stored in one transaction with what every
//     subscriber (OnSettled) writes for it — outbox events, the schedule
//     row, a deposit.
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
)

// Sealer encrypts card data at rest (the vault).
type Sealer interface {
	Seal(plaintext, aad []byte) (ciphertext []byte, keyID string, err error)
}

// Config wires a Service.
type Config struct {
	Store  Store
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
	store     Store
	pg        pg.Connector
	vault     Sealer
	clock     clock.Clock
	log       *slog.Logger
	pgTimeout time.Duration

	channelsOf  Channels
	receiptBase string
	keys        *keyCache

	charges *prometheus.CounterVec
	refunds refundMetrics

	keyDeleteHooks []BeforeKeyDelete
	eventHooks     []func()
	settleHooks    []SettleHook
	orderOwners    []OrderOwner
}

// New builds the service.
func New(cfg Config) *Service {
	s := &Service{
		store: cfg.Store, pg: cfg.PG, vault: cfg.Vault, clock: cfg.Clock, log: cfg.Logger, pgTimeout: cfg.PGTimeout,
		channelsOf: cfg.Channels, receiptBase: strings.TrimRight(cfg.ReceiptBase, "/"),
		keys: newKeyCache(defaultKeyCacheSize),
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

// NewEventID returns "msg_" + 24 hex characters: the wall clock's
// milliseconds (12), then 48 random bits. Outbox events are written on
// every charge; IDs that grow with time put each new key at the right edge
// of the events' primary key, where the previous one went, instead of on a
// random page of it (on Postgres, a full-page image in the WAL for each
// first touch after a checkpoint).
func NewEventID() string { return eventID(time.Now()) }

func eventID(now time.Time) string {
	var b [12]byte
	ms := uint64(now.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	if _, err := rand.Read(b[6:]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return "msg_" + hex.EncodeToString(b[:])
}

// attemptGrace is how long after its PG call deadline a pending attempt is
// left alone before the reconciler may consider its process gone.
const attemptGrace = 30 * time.Second

// newAttempt fills the fields every attempt shares.
func (s *Service) newAttempt(merchantID int64, in PayInput, ch core.Channel, usage string) *core.Payment {
	// Billing times are the merchant's (its own on a sandbox test clock);
	// the reconciler's deadlines stay on the shared time it runs by.
	now := clock.For(s.clock, merchantID)
	channel := in.Channel
	if channel == "" {
		channel = "api"
	}
	if in.Usage != "" {
		usage = in.Usage
	}
	if in.Dialect == "" {
		in.Dialect = core.DialectV1
	}
	deadline := s.clock.Now().Add(s.pgTimeout + attemptGrace)
	return &core.Payment{
		MerchantID: merchantID, MerchantUID: in.MerchantUID, Status: core.StatusPending, PayMethod: "card", Channel: channel,
		PGProvider: ch.Provider, PGID: ch.MID, Sandbox: ch.Sandbox, CardQuota: in.CardQuota, Name: in.Name,
		Amount: in.Amount, Currency: in.Currency, TaxFree: in.TaxFree, VatAmount: in.VatAmount, Buyer: in.Buyer,
		CustomData: in.CustomData, NoticeURL: in.NoticeURL, CustomerUID: in.CustomerUID, CustomerUIDUsage: usage, Dialect: in.Dialect,
		StartedAt: now, AttemptDeadline: deadline, NextCheckAt: deadline, UpdatedAt: now,
	}
}

func (s *Service) applyResult(p *core.Payment, res *pg.ChargeResult) {
	now := clock.For(s.clock, p.MerchantID)
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
