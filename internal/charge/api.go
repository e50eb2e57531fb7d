package charge

import (
	"errors"
	"fmt"

	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/pg"
)

// IssueKeyInput issues (or replaces) the billing key of a customer_uid.
type IssueKeyInput struct {
	CustomerUID string
	Card        pg.Card // Number digits only, Expiry YYYY-MM
	PG          string  // "provider" or "provider.mid"; empty = default channel
	CustomerID  string
	Customer    core.Buyer
	// FirstCharge is the amount charged with the key right after issuance
	// (onetime with customer_uid, a schedule's checking_amount); 0 issues
	// the key only, which some PGs refuse.
	FirstCharge int64
}

// MaxNameLength bounds an order name (name) in characters. i'mport's API
// gives name no maximum (its seed example for schedules uses 42 characters),
// so this is only Billkey's guard against abuse; connectors shorten names for
// PGs whose fields are narrower.
const MaxNameLength = 256

// PayInput is one charge: key-in (Onetime) or by billing key (Again).
type PayInput struct {
	MerchantUID string
	Amount      int64 // minor units
	Currency    string
	TaxFree     int64
	VatAmount   *int64
	Name        string
	Buyer       core.Buyer
	CardQuota   int
	CustomData  *string
	NoticeURL   string
	PG          string
	// Card is required for Onetime. With CustomerUID set, Onetime also stores
	// the card as that customer's billing key.
	Card        *pg.Card
	CustomerUID string
	// Usage overrides customer_uid_usage (the scheduler sets payment.scheduled).
	Usage string
	// Channel is "api" unless the payment window makes the payment.
	Channel string
	// Dialect owns the payment and notifies its outcome (default V1).
	Dialect core.Dialect
}

// CancelInput refunds all or part of a payment.
type CancelInput struct {
	ImpUID      string
	MerchantUID string
	// Amount nil or 0 refunds the whole remaining balance.
	Amount  *int64
	TaxFree int64
	// Checksum is the refundable balance the merchant believes is left; nil
	// skips the check.
	Checksum      *int64
	Reason        string
	EnableWebhook bool
}

// Errors the dialects map to their own codes and messages.
var (
	ErrCustomerNotFound = errors.New("billing key not found")
	ErrPaymentNotFound  = errors.New("payment not found")
	ErrNothingToCancel  = errors.New("nothing to cancel")
	ErrChecksumMismatch = errors.New("checksum does not match the refundable balance")
	ErrCancelExceeds    = errors.New("cancel amount exceeds the refundable balance")
	ErrPrepareNotFound  = errors.New("prepared amount not found")
	ErrPrepareExists    = errors.New("prepared amount already registered")
)

// ValidationError is bad input: which field and why.
type ValidationError struct {
	Field  string
	Reason string
}

func (e *ValidationError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Reason) }

// InvalidCardError is card data that fails validation before any PG call
// (Luhn, expiry format, expired).
type InvalidCardError struct{ Reason string }

func (e *InvalidCardError) Error() string { return "invalid card: " + e.Reason }

// DuplicateOrderError: the merchant_uid already has a paid or cancelled payment.
type DuplicateOrderError struct{ Existing *core.Payment }

func (e *DuplicateOrderError) Error() string {
	return fmt.Sprintf("merchant_uid %s already paid (%s)", e.Existing.MerchantUID, e.Existing.ImpUID)
}

// InProgressError: another attempt for the merchant_uid is running or its
// outcome is still unknown; nothing new is charged until it is resolved.
type InProgressError struct{ Existing *core.Payment }

func (e *InProgressError) Error() string {
	return fmt.Sprintf("merchant_uid %s has an attempt in progress (%s, %s)", e.Existing.MerchantUID, e.Existing.ImpUID, e.Existing.Status)
}

// PGRefusedError: the PG refused the request before approving anything
// (issuance declined, PG error, unsupported operation). Payment, when an
// attempt was recorded, is that failed attempt.
type PGRefusedError struct {
	Stage   string // "issue", "charge", "cancel"
	Err     *pg.Error
	Payment *core.Payment
}

func (e *PGRefusedError) Error() string { return fmt.Sprintf("%s refused: %v", e.Stage, e.Err) }
func (e *PGRefusedError) Unwrap() error { return e.Err }
