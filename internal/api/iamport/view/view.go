// Package view is how every V1 surface renders values — the REST views, the
// payment window's callback, the demo page: an absent string is null, a
// timestamp that does not apply is 0, and a payment whose outcome is not
// known yet is "ready".
package view

import (
	"time"

	"github.com/billkey/billkey/internal/core"
)

// Str renders V1's "absent string is null".
func Str(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Unix renders V1's "timestamp that does not apply is 0".
func Unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// Status hides the internal in-flight states: to V1 a payment whose outcome
// is not known yet is simply not paid yet.
func Status(s core.PaymentStatus) string {
	switch s {
	case core.StatusPending, core.StatusUnknown, "":
		return string(core.StatusReady)
	}
	return string(s)
}
