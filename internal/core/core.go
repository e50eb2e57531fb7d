// Package core holds Billkey's domain types and the rules both API dialects
// share. It knows nothing about HTTP or SQL.
package core

import (
	"errors"
	"time"
)

// Merchant is a tenant. Every other row belongs to exactly one merchant.
type Merchant struct {
	ID            int64
	Code          string // "imp" + 8 digits, what IMP.init takes
	Name          string
	ImpKey        string
	ImpSecretHash []byte // only verified, never used: stored hashed
	WebhookURL    string
	WebhookFormat string // "json" or "form"
	TimeZone      string
	// CheckoutOrigins are the merchant's sites that may open and embed its
	// payment window (CSP-style patterns such as https://shop.example.com).
	CheckoutOrigins []string
	CreatedAt       time.Time
	// Demo marks the sandbox demo merchant: it never holds live credentials.
	Demo bool
}

// Channel is one PG contract ("pg" in the v1 API: provider or provider.mid).
type Channel struct {
	ID         int64
	MerchantID int64
	Provider   string
	MID        string
	Sandbox    bool
	Type       string // "api_payment" (key-in / billing API) or "payment" (window)
	Name       string
	Key        string // channel_key
	IsDefault  bool
	// APIURL is where a processor channel is reached ("" = the
	// processor's production host); sandbox PGs leave it empty.
	APIURL string
	// HasCredentials marks a real processor channel: its credentials are
	// sealed in the store and only the PG router ever opens them.
	HasCredentials bool
}

// Buyer is the customer data attached to a payment.
type Buyer struct {
	Name, Email, Tel, Addr, Postcode string
}

// KeyFormat says what a billing key's CardCipher holds.
type KeyFormat int

const (
	// KeyLegacyPAN rows (written before migration 7) hold the sealed
	// "PAN|YYYY-MM" and the PG's key in clear; the binary converts them at
	// start.
	KeyLegacyPAN KeyFormat = 0
	// KeySealedPG rows hold the PG's billing key sealed, and no card number.
	KeySealedPG KeyFormat = 1
)

// BillingKey is a saved card addressed by the merchant's customer_uid.
type BillingKey struct {
	MerchantID  int64
	CustomerUID string
	CustomerID  string
	PGProvider  string
	PGID        string
	Sandbox     bool
	// PGBillingKey is the PG's token for the card, in memory only: it is
	// stored sealed in CardCipher (KeySealedPG) and opened by the charge
	// service when a charge needs it.
	PGBillingKey string
	CardName     string
	CardCode     string
	CardNumber   string // masked
	CardType     *int
	CardCipher   []byte // vault ciphertext of the PG's billing key (see KeyFormat)
	CardExpiry   string // YYYY-MM; the full card number is never kept
	KeyFormat    KeyFormat
	CardKeyID    string
	// PayMethod is what the key pays with, as i'mport's pay_method: card,
	// trans, phone, or point (a wallet's balance). "" reads as card.
	PayMethod string
	Customer  Buyer
	Inserted  time.Time
	Updated   time.Time
	// Version is bumped by the store on every change to the row.
	Version int64
}

// PaymentStatus is the internal state of a payment attempt. Pending and
// Unknown show as "ready" in the v1 dialect.
type PaymentStatus string

const (
	// StatusPending: the attempt is recorded and the PG is being called.
	StatusPending PaymentStatus = "pending"
	// StatusUnknown: the PG did not answer; the reconciler will look it up.
	StatusUnknown   PaymentStatus = "unknown"
	StatusPaid      PaymentStatus = "paid"
	StatusFailed    PaymentStatus = "failed"
	StatusCancelled PaymentStatus = "cancelled"
	// StatusReady: created by the payment window / prepare, not yet attempted.
	StatusReady PaymentStatus = "ready"
)

// Holds reports whether a payment in this status owns its merchant_uid:
// no other attempt may start for the same order meanwhile.
func (s PaymentStatus) Holds() bool {
	return s == StatusPending || s == StatusUnknown || s == StatusPaid || s == StatusCancelled
}

// Unresolved reports whether the outcome at the PG is not known yet.
func (s PaymentStatus) Unresolved() bool { return s == StatusPending || s == StatusUnknown }

// Customer-uid usages (v1 enum).
const (
	UsageIssue     = "issue"
	UsagePayment   = "payment"
	UsageScheduled = "payment.scheduled"
)

// Dialect names an API dialect that owns payments and notifies their outcomes.
type Dialect string

const (
	// DialectV1 is i'mport V1 (webhook {imp_uid, merchant_uid, status}).
	DialectV1 Dialect = "v1"
	// DialectV3 is the v3 subscription engine (webhook {deposit_id}).
	DialectV3 Dialect = "v3"
)

// Payment is one attempt to take money for a merchant_uid.
type Payment struct {
	MerchantID       int64
	ImpUID           string
	MerchantUID      string
	Status           PaymentStatus
	PayMethod        string
	Channel          string // "api", "pc", "mobile"
	PGProvider       string
	PGID             string
	PGTID            string
	Sandbox          bool
	ApplyNum         string
	CardCode         string
	CardName         string
	CardNumber       string // masked
	CardType         *int
	CardQuota        int
	Name             string
	Amount           int64
	CancelAmount     int64
	Currency         string
	TaxFree          int64
	VatAmount        *int64
	Buyer            Buyer
	CustomData       *string
	NoticeURL        string
	CustomerUID      string
	CustomerUIDUsage string
	// Dialect is the API dialect that owns the payment: its notifier, and
	// only its, tells the merchant about the outcome.
	Dialect      Dialect
	StartedAt    time.Time
	PaidAt       time.Time
	FailedAt     time.Time
	CancelledAt  time.Time
	FailReason   string
	CancelReason string
	// DeclineRetryable is the PG's soft-decline flag of the outcome just
	// stored (not persisted: only the code acting on the outcome needs it).
	DeclineRetryable bool
	ReceiptURL       string
	Cancels          []Cancellation
	// AttemptDeadline is when a pending attempt whose process vanished may be
	// treated as unknown by the reconciler.
	AttemptDeadline time.Time
	// NextCheckAt and Checks drive the reconciler's look-up schedule.
	NextCheckAt time.Time
	Checks      int
	UpdatedAt   time.Time
}

// CancelStatus of one refund.
type CancelStatus string

const (
	CancelPending CancelStatus = "pending"
	CancelDone    CancelStatus = "done"
	CancelFailed  CancelStatus = "failed"
)

// Cancellation is one (partial or full) refund of a payment.
type Cancellation struct {
	ID          string // cancellation_id
	ImpUID      string
	Status      CancelStatus
	Amount      int64
	TaxFree     int64
	Reason      string
	PGTID       string
	ReceiptURL  string
	CancelledAt time.Time
	CreatedAt   time.Time
}

// Prepared is an amount pre-registered with /payments/prepare.
type Prepared struct {
	MerchantID  int64
	MerchantUID string
	Amount      int64
	Currency    string
	CreatedAt   time.Time
}

// Token is an API access token (v1 getToken).
type Token struct {
	Token      string
	MerchantID int64
	IssuedAt   time.Time
	ExpiresAt  time.Time
}

// Event is an outbox entry, written in the same transaction as the state
// change that caused it and delivered later by the webhook worker.
type Event struct {
	ID         string
	MerchantID int64
	Type       string // e.g. "payment.paid"
	ImpUID     string
	// Payload is the v1 body (imp_uid, merchant_uid, status...), encoded per
	// the merchant's webhook format.
	Payload map[string]string
	// Body, when set, is the exact body to send instead (v3: {"deposit_id": N}),
	// with its BodyFormat ("json").
	Body       string
	BodyFormat string
	// Profile overrides the merchant's retry profile (v3 uses "d24").
	Profile   string
	URL       string
	CreatedAt time.Time
	// RequestID is the X-Request-Id of the API request that caused the
	// event ("" for the scheduler's and the reconciler's own work).
	RequestID string
}

// Sentinel errors callers branch on.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)
