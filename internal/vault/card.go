package vault

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

var (
	// ErrCardNumberFormat means the input is not 13–19 digits with optional
	// '-' or space separators.
	ErrCardNumberFormat = errors.New("card number must be 13 to 19 digits")
	// ErrCardNumberLuhn means the digits are well formed but fail the Luhn
	// check: almost always a typo, so it gets its own message.
	ErrCardNumberLuhn = errors.New("card number is not valid (checksum)")
	// ErrExpiryFormat means the expiry is not one of the accepted forms or
	// has a month outside 01..12.
	ErrExpiryFormat = errors.New("card expiry must be YYYY-MM, YYYYMM, YYYY/MM or MM/YY with month 01-12")
)

// Card numbers have 13 to 19 digits (ISO/IEC 7812).
const (
	minPANDigits = 13
	maxPANDigits = 19
)

// NormalizeCardNumber returns the bare digits of a card number. Merchants
// send numbers as typed by customers, so '-' and spaces anywhere are
// dropped; anything else is rejected rather than guessed at.
func NormalizeCardNumber(s string) (string, error) {
	s = strings.TrimSpace(s)
	var b strings.Builder
	b.Grow(maxPANDigits)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			if b.Len() == maxPANDigits {
				return "", ErrCardNumberFormat
			}
			b.WriteByte(c)
		case c == '-' || c == ' ':
		default:
			return "", ErrCardNumberFormat
		}
	}
	d := b.String()
	if len(d) < minPANDigits {
		return "", ErrCardNumberFormat
	}
	if !Luhn(d) {
		return "", ErrCardNumberLuhn
	}
	return d, nil
}

// Luhn reports whether digits (ASCII digits only, non-empty) pass the Luhn
// checksum.
func Luhn(digits string) bool {
	if digits == "" {
		return false
	}
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		c := digits[i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// NormalizeExpiry returns an expiry as YYYY-MM, the form i'mport's API uses.
// Accepted: YYYY-MM, YYYYMM, YYYY/MM and MM/YY (read as 20YY). MMYY is
// deliberately not accepted: four digits are as easily YYMM, and guessing
// wrong stores a card that fails at its first renewal. Years are limited to
// 2000–2099, which covers every card that can still be charged and catches
// swapped fields.
func NormalizeExpiry(s string) (string, error) {
	s = strings.TrimSpace(s)
	var yyyy, mm string
	switch {
	case len(s) == 7 && (s[4] == '-' || s[4] == '/'):
		yyyy, mm = s[:4], s[5:]
	case len(s) == 6:
		yyyy, mm = s[:4], s[4:]
	case len(s) == 5 && s[2] == '/':
		yyyy, mm = "20"+s[3:], s[:2]
	default:
		return "", ErrExpiryFormat
	}
	if !allDigits(yyyy) || !allDigits(mm) || yyyy[:2] != "20" {
		return "", ErrExpiryFormat
	}
	if mm < "01" || mm > "12" {
		return "", ErrExpiryFormat
	}
	return yyyy + "-" + mm, nil
}

// ExpiryPassed reports whether a card with this expiry can no longer be
// used at now. Cards are valid through the last day of the expiry month, in
// now's location. An expiry that does not parse counts as passed, so a bad
// value fails closed.
func ExpiryPassed(expiry string, now time.Time) bool {
	e, err := NormalizeExpiry(expiry)
	if err != nil {
		return true
	}
	y := int(e[0]-'0')*1000 + int(e[1]-'0')*100 + int(e[2]-'0')*10 + int(e[3]-'0')
	m := time.Month(int(e[5]-'0')*10 + int(e[6]-'0'))
	firstOfNext := time.Date(y, m+1, 1, 0, 0, 0, 0, now.Location())
	return !now.Before(firstOfNext)
}

// Mask shows the first 6 and last 4 digits (BIN and last four, which PCI DSS
// allows to be displayed) and stars for the rest, as i'mport returns
// card_number: "4242424242424242" → "424242******4242". Non-digits are
// dropped. Inputs too short to keep 6+4 and still hide something are
// starred entirely, so Mask never reveals a whole number.
func Mask(pan string) string {
	d := make([]byte, 0, len(pan))
	for i := 0; i < len(pan); i++ {
		if c := pan[i]; '0' <= c && c <= '9' {
			d = append(d, c)
		}
	}
	if len(d) <= 10 {
		return strings.Repeat("*", len(d))
	}
	for i := 6; i < len(d)-4; i++ {
		d[i] = '*'
	}
	return string(d)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// ChannelCredentialsAAD binds a processor channel's sealed credentials to
// their merchant and channel.
func ChannelCredentialsAAD(merchantID int64, provider, mid string) []byte {
	return []byte(fmt.Sprintf("channel_credentials:%d:%s:%s", merchantID, provider, mid))
}

// CardAAD binds a stored billing-key ciphertext to its row: copied to
// another merchant or customer it does not decrypt.
func CardAAD(merchantID int64, customerUID string) []byte {
	return []byte(fmt.Sprintf("billing_key:%d:%s", merchantID, customerUID))
}
