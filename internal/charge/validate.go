package charge

import (
	"errors"
	"fmt"
	"strings"

	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/wellformed"
)

// The one place identifiers and orders are checked: charges, payment
// windows and scheduled bookings all validate through these.

// ValidateUID checks an identifier (merchant_uid, customer_uid): present,
// at most maxLen characters, and well-formed.
func ValidateUID(field, v string, maxLen int) error {
	if strings.TrimSpace(v) == "" {
		return &ValidationError{Field: field, Reason: "required"}
	}
	if len([]rune(v)) > maxLen {
		return &ValidationError{Field: field, Reason: fmt.Sprintf("longer than %d characters", maxLen)}
	}
	var ie *wellformed.IdentifierError
	if err := wellformed.Identifier(field, v, maxLen); errors.As(err, &ie) {
		return &ValidationError{Field: field, Reason: ie.Reason}
	}
	return nil
}

// validateOrderID checks what names an order: its merchant_uid and a known
// currency (KRW when absent, as i'mport defaults). Field names get prefix.
func validateOrderID(prefix, merchantUID string, currency *string) error {
	if err := ValidateUID(prefix+"merchant_uid", merchantUID, 40); err != nil {
		return err
	}
	if *currency == "" {
		*currency = "KRW"
	}
	if _, err := core.CurrencyScale(*currency); err != nil {
		return &ValidationError{Field: prefix + "currency", Reason: "unknown currency"}
	}
	return nil
}

// ValidateOrder checks an order to charge now or later: merchant_uid,
// currency (KRW when empty), a positive amount, tax_free within it and a
// name of at most MaxNameLength characters. Field names get prefix
// ("schedules[0].").
func ValidateOrder(prefix, merchantUID string, amount, taxFree int64, currency *string, name string) error {
	if err := validateOrderID(prefix, merchantUID, currency); err != nil {
		return err
	}
	if amount <= 0 {
		return &ValidationError{Field: prefix + "amount", Reason: "must be greater than 0"}
	}
	if taxFree < 0 || taxFree > amount {
		return &ValidationError{Field: prefix + "tax_free", Reason: "must be between 0 and amount"}
	}
	if len([]rune(name)) > MaxNameLength {
		return &ValidationError{Field: prefix + "name", Reason: fmt.Sprintf("longer than %d characters", MaxNameLength)}
	}
	return nil
}
