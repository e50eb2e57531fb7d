package vault

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLuhn(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"4242424242424242", true},
		{"4000000000000002", true},
		{"4000000000009995", true},
		{"79927398713", true},
		{"0", true},
		{"4242424242424241", false},
		{"79927398710", false},
		{"", false},
		{"4242 4242", false},
		{"42a2", false},
	}
	for _, tt := range tests {
		if got := Luhn(tt.in); got != tt.want {
			t.Errorf("Luhn(%q) = %v", tt.in, got)
		}
	}
}

func TestNormalizeCardNumber(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{"4242-4242-4242-4242", "4242424242424242", nil},
		{"4242424242424242", "4242424242424242", nil},
		{"4242 4242 4242 4242", "4242424242424242", nil},
		{"  4000-0000-0000-0341 ", "4000000000000341", nil},
		{"378282246310005", "378282246310005", nil},         // Amex, 15
		{"4222222222222", "4222222222222", nil},             // 13
		{"6011111111111111110", "6011111111111111110", nil}, // 19
		{"4242424242424241", "", ErrCardNumberLuhn},
		{"424242424242", "", ErrCardNumberFormat},         // 12
		{"42424242424242424242", "", ErrCardNumberFormat}, // 20
		{"4242.4242.4242.4242", "", ErrCardNumberFormat},
		{"4242424242424242x", "", ErrCardNumberFormat},
		{"４２４２４２４２４２４２４２４２", "", ErrCardNumberFormat}, // full-width digits
		{"", "", ErrCardNumberFormat},
		{"----", "", ErrCardNumberFormat},
	}
	for _, tt := range tests {
		got, err := NormalizeCardNumber(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("NormalizeCardNumber(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestNormalizeExpiry(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"2030-12", "2030-12"},
		{"203012", "2030-12"},
		{"2030/01", "2030-01"},
		{"12/30", "2030-12"},
		{" 01/29 ", "2029-01"},
		{"2030-13", ""},
		{"2030-00", ""},
		{"00/30", ""},
		{"13/30", ""},
		{"1230", ""}, // MMYY: ambiguous, not accepted
		{"1999-12", ""},
		{"2100-01", ""},
		{"2030-1", ""},
		{"2030.12", ""},
		{"2030-1a", ""},
		{"+030-12", ""},
		{"12-30", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, err := NormalizeExpiry(tt.in)
		if got != tt.want || (tt.want == "") != errors.Is(err, ErrExpiryFormat) {
			t.Errorf("NormalizeExpiry(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestExpiryPassed(t *testing.T) {
	kst := time.FixedZone("KST", 9*3600)
	tests := []struct {
		expiry string
		now    time.Time
		want   bool
	}{
		{"2030-12", time.Date(2030, 12, 31, 23, 59, 59, 0, time.UTC), false},
		{"2030-12", time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"2030-02", time.Date(2030, 2, 28, 12, 0, 0, 0, time.UTC), false},
		{"2030-02", time.Date(2030, 3, 1, 0, 0, 0, 0, time.UTC), true},
		{"12/30", time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), false},
		{"2024-01", time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), true},
		// Evaluated in now's location.
		{"2030-12", time.Date(2031, 1, 1, 0, 0, 0, 0, kst), true},
		{"2030-12", time.Date(2030, 12, 31, 23, 0, 0, 0, kst), false},
		{"garbage", time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), true},
	}
	for _, tt := range tests {
		if got := ExpiryPassed(tt.expiry, tt.now); got != tt.want {
			t.Errorf("ExpiryPassed(%q, %v) = %v", tt.expiry, tt.now, got)
		}
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"4242424242424242", "424242******4242"},
		{"4242-4242-4242-4242", "424242******4242"},
		{"378282246310005", "378282*****0005"},
		{"4222222222222", "422222***2222"},
		{"6011111111111111110", "601111*********1110"},
		{"12345678901", "123456*8901"},
		{"1234567890", "**********"},
		{"1234", "****"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if strings.Contains(Mask("4000000000000341"), "0000000") {
		t.Error("mask leaks middle digits")
	}
}
