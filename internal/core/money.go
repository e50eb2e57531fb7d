package core

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/text/currency"
)

// Amounts are int64 minor units of their currency (KRW has none, USD has 2);
// floats never touch money.

// notMoney are ISO 4217 codes that no card can be charged in: precious
// metals, bond-market and accounting units, the testing code, "no
// currency", and the fund codes that exist beside a country's currency.
var notMoney = map[string]bool{
	"XAU": true, "XAG": true, "XPD": true, "XPT": true, // metals
	"XBA": true, "XBB": true, "XBC": true, "XBD": true, // bond-market units
	"XDR": true, "XSU": true, "XUA": true, // SDR, Sucre, ADB unit of account
	"XTS": true, "XXX": true, // testing, no currency
	"BOV": true, "CHE": true, "CHW": true, "CLF": true, "COU": true, "MXV": true, "USN": true, "UYI": true, "UYW": true, // funds
}

// ErrNotMoney refuses a code that is ISO 4217 but not a currency for payments.
var ErrNotMoney = errors.New("not a currency payments are made in")

// CurrencyScale returns the number of minor-unit digits of an ISO 4217
// currency code, which must be upper-case and a currency payments are made
// in (see NormalizeCurrency for client input).
func CurrencyScale(code string) (int, error) {
	if len(code) != 3 || strings.ToUpper(code) != code {
		return 0, fmt.Errorf("currency %q: not an upper-case ISO 4217 code", code)
	}
	if notMoney[code] {
		return 0, fmt.Errorf("currency %q: %w", code, ErrNotMoney)
	}
	u, err := currency.ParseISO(code)
	if err != nil {
		return 0, fmt.Errorf("currency %q: %w", code, err)
	}
	scale, _ := currency.Standard.Rounding(u)
	return scale, nil
}

// NormalizeCurrency turns client input (" usd") into the code ("USD") and
// checks it with CurrencyScale.
func NormalizeCurrency(s string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(s))
	if _, err := CurrencyScale(c); err != nil {
		return "", err
	}
	return c, nil
}

// MaxAmount is the largest amount, in minor units of any currency, that
// Billkey takes: the 11 digits that Korean PGs' amount fields hold
// (99,999,999,999 KRW; 999,999,999.99 USD).
const MaxAmount = 99_999_999_999

// ErrBadAmount is returned for amounts that are not a plain non-negative
// decimal with at most the currency's number of fraction digits.
var ErrBadAmount = errors.New("invalid amount")

// ParseAmount turns a decimal text ("1000", "10.50", "1e3" is refused) into
// minor units of the currency.
func ParseAmount(text, currencyCode string) (int64, error) {
	scale, err := CurrencyScale(currencyCode)
	if err != nil {
		return 0, err
	}
	s := strings.TrimSpace(text)
	if s == "" || strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		return 0, ErrBadAmount
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || (hasDot && frac == "") {
		return 0, ErrBadAmount
	}
	// Trailing zeros beyond the currency's scale are harmless ("1000.0" KRW).
	frac = strings.TrimRight(frac, "0")
	if len(frac) > scale {
		return 0, ErrBadAmount
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, ErrBadAmount
		}
	}
	frac += strings.Repeat("0", scale-len(frac))
	if len(whole) > 15 {
		return 0, ErrBadAmount
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || n > MaxAmount {
		return 0, ErrBadAmount
	}
	return n, nil
}

// FormatAmount renders minor units as a JSON-number-compatible decimal text
// ("1000", "10.5").
func FormatAmount(minor int64, currencyCode string) string {
	scale, err := CurrencyScale(currencyCode)
	if err != nil || scale == 0 {
		return strconv.FormatInt(minor, 10)
	}
	neg := minor < 0
	if neg {
		minor = -minor
	}
	s := strconv.FormatInt(minor, 10)
	for len(s) <= scale {
		s = "0" + s
	}
	whole, frac := s[:len(s)-scale], strings.TrimRight(s[len(s)-scale:], "0")
	out := whole
	if frac != "" {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}
