package sim

import (
	"hash/fnv"
	"strings"

	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/vault"
)

// Test card numbers with a fixed behaviour; any other Luhn-valid number
// approves.
const (
	CardApprove         = "4242424242424242"
	CardDecline         = "4000000000000002"
	CardInsufficient    = "4000000000009995"
	CardExpired         = "4000000000000069"
	CardBillingDeclines = "4000000000000341"
	// CardBillingSoftOnce issues a key whose first charge soft-declines
	// (insufficient funds) and whose later charges approve: a dunning retry
	// recovers.
	CardBillingSoftOnce = "4000000000003220"
	CardPGError         = "4000000000000119"
	CardLostResponse    = "4000000000000259"
)

type behaviour int

const (
	bApprove behaviour = iota
	bDecline
	bInsufficient
	bExpired
	bBillingDeclines // key issues fine, every charge by billing key declines
	bBillingSoftOnce // key issues fine, its first charge declines (insufficient funds), later ones approve
	bPGError
	bLost
)

var testCards = map[string]behaviour{
	CardApprove:         bApprove,
	CardDecline:         bDecline,
	CardInsufficient:    bInsufficient,
	CardExpired:         bExpired,
	CardBillingDeclines: bBillingDeclines,
	CardBillingSoftOnce: bBillingSoftOnce,
	CardPGError:         bPGError,
	CardLostResponse:    bLost,
}

func behaviourOf(number string) behaviour {
	return testCards[number] // zero value is bApprove
}

// Issuer is a Korean card company as PGs report it.
type Issuer struct {
	Name  string // e.g. 신한카드
	Code  string // KFTC 3-digit card company code
	Check bool   // check (debit) card rather than credit
}

var issuers = []Issuer{
	{"신한카드", "366", false},
	{"삼성카드", "365", false},
	{"현대카드", "367", false},
	{"KB국민카드", "381", false},
	{"롯데카드", "368", false},
	{"하나카드", "374", false},
	{"BC카드", "361", false},
	{"NH농협카드", "371", false},
	{"우리카드", "041", false},
	{"씨티카드", "370", false},
}

// binTable maps BIN prefixes to issuers; the longest prefix wins. The test
// cards are pinned here so their card info never changes: 424242 is a
// 신한카드 credit card, 400000 a KB국민카드 check card. The other rows are
// simulated, loosely modelled on real domestic ranges.
var binTable = map[string]Issuer{
	"424242": {"신한카드", "366", false},
	"400000": {"KB국민카드", "381", true},
	"451842": {"신한카드", "366", false},
	"941009": {"신한카드", "366", true},
	"531070": {"삼성카드", "365", false},
	"949013": {"삼성카드", "365", false},
	"433290": {"현대카드", "367", false},
	"949019": {"현대카드", "367", false},
	"540447": {"KB국민카드", "381", false},
	"944541": {"KB국민카드", "381", true},
	"467309": {"롯데카드", "368", false},
	"949094": {"롯데카드", "368", false},
	"465887": {"하나카드", "374", false},
	"942150": {"하나카드", "374", true},
	"9430":   {"BC카드", "361", false},
	"546112": {"NH농협카드", "371", false},
	"941116": {"NH농협카드", "371", true},
	"536648": {"우리카드", "041", false},
	"944603": {"우리카드", "041", true},
	"404825": {"씨티카드", "370", false},
}

// LookupIssuer finds the issuer of a card number by BIN. Unknown BINs get an
// issuer derived from a hash of the first six digits, so a number always
// reports the same card company.
func LookupIssuer(number string) Issuer {
	for n := min(8, len(number)); n >= 4; n-- {
		if is, ok := binTable[number[:n]]; ok {
			return is
		}
	}
	h := fnv.New32a()
	h.Write([]byte(number[:min(6, len(number))]))
	return issuers[h.Sum32()%uint32(len(issuers))]
}

// CardInfoFor is the card info a PG reports for number.
func CardInfoFor(number string) pg.CardInfo {
	is := LookupIssuer(number)
	t := 0
	if is.Check {
		t = 1
	}
	return pg.CardInfo{CardName: is.Name, CardCode: is.Code, CardNumber: MaskCardNumber(number), CardType: t}
}

// MaskCardNumber keeps the BIN and the last four digits, as Korean PGs do:
// 424242******4242.
func MaskCardNumber(number string) string { return vault.Mask(number) }

func normalizeNumber(s string) string {
	return strings.NewReplacer("-", "", " ", "").Replace(s)
}

func luhnValid(number string) bool {
	return len(number) >= 13 && len(number) <= 19 && vault.Luhn(number)
}

// validExpiry accepts YYYY-MM and YYYYMM. Past dates are not refused: the
// sandbox clock may run ahead, and 4000…0069 is the way to test expiry.
func validExpiry(s string) bool {
	s = strings.ReplaceAll(s, "-", "")
	if len(s) != 6 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	m := (s[4]-'0')*10 + s[5] - '0'
	return m >= 1 && m <= 12
}
