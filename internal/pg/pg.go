// Package pg is the boundary to payment processors: the Connector interface
// the charge engine calls, and the typed errors it branches on. The built-in
// connector talks HTTP to the sandbox simulator in pg/sim.
package pg

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Card is card data as the customer typed it. Birth, Pwd2Digit and CVC only
// ever travel to the PG; Billkey never stores them.
type Card struct {
	Number    string // digits only
	Expiry    string // YYYY-MM
	Birth     string
	Pwd2Digit string
	CVC       string
}

// Target names the PG contract a call goes to: the merchant's channel of
// that provider and MID (a processor channel holds its own credentials).
type Target struct {
	MerchantID int64
	Provider   string
	MID        string
	Sandbox    bool
}

// CardInfo is what a PG tells about a card.
type CardInfo struct {
	CardName   string // e.g. 신한카드
	CardCode   string // KFTC 3-digit code
	CardNumber string // masked
	CardType   int    // 0 credit, 1 check
}

// IssueKeyRequest asks the PG to store a card and return its billing key.
type IssueKeyRequest struct {
	Target         Target
	IdempotencyKey string
	CustomerUID    string
	Card           Card
	// FirstCharge is the amount the caller charges with the key right after
	// issuance (REST onetime with customer_uid), or the amount a payment
	// window was opened with. Some PGs issue keys only with a first charge.
	FirstCharge int64
	// The buyer's contact, which some windows require (Naver Pay: phone;
	// Paymentwall: e-mail).
	BuyerTel, BuyerEmail string
}

// IssueKeyResult is a stored card at the PG.
type IssueKeyResult struct {
	BillingKey string
	Card       CardInfo
	// Method is what the key pays with (card, trans, phone, point): a
	// wallet's buyer picks it inside the wallet.
	Method string
	// WindowCharge is the amount the payment window approves with the key
	// (the caller charges it by key); 0 when the PG's window only displays
	// the amount or was opened key-only.
	WindowCharge int64
}

// ChargeRequest charges either a billing key or, for key-in payments without
// a stored key, a card.
type ChargeRequest struct {
	Target         Target
	IdempotencyKey string // our imp_uid: the PG dedupes on it and it is how we look a charge up
	BillingKey     string
	Card           *Card
	Amount         int64
	Currency       string
	OrderName      string
	CardQuota      int
	// BuyerEmail is the payer's e-mail; Paymentwall charges a key only for
	// the e-mail it was issued to.
	BuyerEmail string
}

// ChargeStatus is the PG's verdict on a charge.
type ChargeStatus string

const (
	ChargeApproved ChargeStatus = "approved"
	ChargeDeclined ChargeStatus = "declined"
)

// ChargeResult is a charge as the PG recorded it.
type ChargeResult struct {
	Status        ChargeStatus
	PGTID         string
	ApplyNum      string
	Card          CardInfo
	DeclineCode   string
	DeclineReason string
	// Retryable marks a soft decline (insufficient funds, a generic issuer
	// refusal) that a later try may clear; hard declines (expired, invalid,
	// blocked cards) are not worth retrying. Dunning policies use it.
	Retryable  bool
	Amount     int64
	Cancelled  int64
	ApprovedAt time.Time
	ReceiptURL string
}

// CancelRequest refunds part or all of an approved charge.
type CancelRequest struct {
	Target         Target
	ChargeKey      string // the charge's idempotency key
	IdempotencyKey string // the cancellation's own key
	Amount         int64
	Reason         string
}

// CancelResult is a refund as the PG recorded it.
type CancelResult struct {
	PGTID       string
	ReceiptURL  string
	CancelledAt time.Time
}

// Connector is one way of reaching PGs. Every method is safe to repeat with
// the same idempotency key: that is what makes retries and reconciliation safe.
type Connector interface {
	IssueBillingKey(ctx context.Context, req IssueKeyRequest) (*IssueKeyResult, error)
	DeleteBillingKey(ctx context.Context, target Target, billingKey string) error
	Charge(ctx context.Context, req ChargeRequest) (*ChargeResult, error)
	// LookupCharge finds a charge by our idempotency key; ErrNoSuchCharge if
	// the PG never saw it.
	LookupCharge(ctx context.Context, target Target, idempotencyKey string) (*ChargeResult, error)
	Cancel(ctx context.Context, req CancelRequest) (*CancelResult, error)
	// LookupCancel finds a refund of the charge chargeKey by the refund's own
	// idempotency key; ErrNoSuchCharge if the PG never saw it. Processors that
	// index refunds under their payment need chargeKey to find it.
	LookupCancel(ctx context.Context, target Target, chargeKey, idempotencyKey string) (*CancelResult, error)
}

// ErrUnknownOutcome means the PG may or may not have acted: the request left
// and no answer came back (timeout, reset connection). Never retry blindly.
var ErrUnknownOutcome = errors.New("pg: outcome unknown")

// ErrNoSuchCharge is returned by lookups for keys the PG never saw.
var ErrNoSuchCharge = errors.New("pg: no such charge")

// NeverReachedReason is the fail_reason of an attempt the reconciler found
// never reached its PG. Another Billkey serving as an i'mport upstream shows
// it on such a payment: nothing was charged and no card refused it, so the
// iamport connector reads it as no charge at all, not as a decline.
const NeverReachedReason = "PG에 결제 요청이 도달하지 않았습니다 (charge never reached the PG)"

// Error is a definite refusal by the PG (validation, unsupported operation,
// 5xx before anything was charged). Nothing was charged.
type Error struct {
	Provider string
	Code     string
	Message  string // the PG's own text, shown to merchants
	// Unsupported marks an operation the PG personality cannot do at all.
	Unsupported bool
}

func (e *Error) Error() string {
	return fmt.Sprintf("pg %s: [%s] %s", e.Provider, e.Code, e.Message)
}
