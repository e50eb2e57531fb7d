// Package provider is the catalog of PGs Billkey knows, one entry per i'mport
// pg code, following each PG's i'mport billing guide: what it can do over its
// REST API and in its payment window, its display name and its sandbox
// contracts. Production code (the payment window, merchant provisioning)
// reads capabilities here; the simulator enforces the same entries.
package provider

import (
	"slices"
	"time"
	"unicode/utf8"
)

// Window payment methods, spelled as i'mport's pay_method.
const (
	MethodCard  = "card"
	MethodTrans = "trans"
	MethodPhone = "phone"
	// MethodPoint is a wallet's own balance (KakaoMoney), as i'mport reports it.
	MethodPoint = "point"
)

// AmountRule is what a PG's billing window does with the amount it is given.
type AmountRule int

const (
	// AmountKeyOrCharge: 0 issues the key only; more issues the key and
	// approves that amount (JTNet, Kakao Pay, Danal card).
	AmountKeyOrCharge AmountRule = iota
	// AmountDisplayOnly: the amount is only shown to the buyer; nothing is
	// ever approved at issuance (CHAI, INICIS, PAYCO, KCP, KICC, Naver Pay).
	AmountDisplayOnly
	// AmountChargeRequired: a key is only issued together with a real first
	// charge (Danal phone, KG Mobilians, Paymentwall).
	AmountChargeRequired
)

// PG is one PG's capabilities.
type PG struct {
	Provider string // i'mport pg code, e.g. "nice"
	Name     string // display name used in the PG's own messages
	TestMID  string // the shared test MID merchants usually start with

	RESTKeyIn bool // issue a key only over REST (POST /subscribe/customers/{uid})
	// RESTIssueWithCharge: issue a key over REST together with a first
	// charge (onetime with customer_uid). Hecto (Settlebank) and Paymentwall
	// issue keys only this way.
	RESTIssueWithCharge bool
	KeyInCharge         bool // charge card data over REST without storing it
	BillingKeyCharge    bool // charge a stored billing key over REST
	Cancel              bool
	PartialCancel       bool
	Window              []string // methods its payment window can issue billing keys for
	// WindowAnyMethod: the window ignores pay_method; the buyer picks how to
	// pay inside the PG's app (Kakao Pay, PAYCO), and that method is kept.
	WindowAnyMethod bool
	WindowAmount    AmountRule
	// TestAuthAmount is what the PG itself approves at a key-only issuance to
	// check the card, and cancels TestAuthCancelAfter later (Danal card).
	TestAuthAmount      int64
	TestAuthCancelAfter time.Duration
	// SameAmountMonthly: charges by key must be the first charge's amount,
	// once a month on the first charge's day ±5 days (phone billing).
	SameAmountMonthly bool
	// PCRedirect: the window redirects to m_redirect_url on PC as on mobile
	// (CHAI); CallbackOnMobile: the window calls back on mobile as on PC.
	PCRedirect       bool
	CallbackOnMobile bool
	// OrderNameMaxBytes is the width of the PG's order-name field, in
	// EUC-KR bytes (a Hangul syllable takes two); 0 = wide enough for any.
	OrderNameMaxBytes int
	Wallet            bool     // a wallet app (Naver Pay, Kakao Pay, PAYCO): sign in, then pay
	RequiredBuyer     []string // request_pay fields the window refuses to open without
	// SameBuyerEmail: charges by key need the buyer_email the key was
	// issued with (Paymentwall).
	SameBuyerEmail bool
}

// SupportsWindowMethod reports whether the PG's payment window can issue a
// billing key for method.
func (p PG) SupportsWindowMethod(method string) bool {
	return p.WindowAnyMethod && len(p.Window) > 0 || slices.Contains(p.Window, method)
}

// FitName shortens an order name to the PG's field, on a character boundary;
// names that fit, and PGs without a limit, keep it whole.
func (p PG) FitName(name string) string {
	if p.OrderNameMaxBytes <= 0 || NameBytes(name) <= p.OrderNameMaxBytes {
		return name
	}
	n := 0
	for i, r := range name {
		w := 1
		if r >= utf8.RuneSelf {
			w = 2
		}
		if n+w > p.OrderNameMaxBytes {
			return name[:i]
		}
		n += w
	}
	return name
}

// NameBytes counts s as the EUC-KR order-name fields of Korean PGs do: two
// bytes for a Hangul (or other non-ASCII) character, one for ASCII.
func NameBytes(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= utf8.RuneSelf {
			n++
		}
	}
	return n
}

func (p PG) clone() PG {
	p.Window = slices.Clone(p.Window)
	p.RequiredBuyer = slices.Clone(p.RequiredBuyer)
	return p
}

var catalog = func() map[string]PG {
	rest := func(provider, name, mid string) PG {
		return PG{Provider: provider, Name: name, TestMID: mid,
			RESTKeyIn: true, RESTIssueWithCharge: true, KeyInCharge: true, BillingKeyCharge: true, Cancel: true, PartialCancel: true}
	}
	win := func(provider, name, mid string, amount AmountRule, window ...string) PG {
		return PG{Provider: provider, Name: name, TestMID: mid,
			BillingKeyCharge: true, Cancel: true, PartialCancel: true, Window: window, WindowAmount: amount}
	}
	// The window half of a PG that also has a REST contract.
	withWindow := func(p PG, amount AmountRule, window ...string) PG {
		p.Window, p.WindowAmount = window, amount
		return p
	}

	nice := rest("nice", "나이스페이", "nictest04m")
	nice.OrderNameMaxBytes = 40
	// KCP's REST billing and its billing window are separate contracts
	// (kcp and kcp_billing); the window only shows the amount, and not on PC.
	kcp := rest("kcp", "NHN KCP", "T0000")
	kcp.OrderNameMaxBytes = 100
	kcpBilling := win("kcp_billing", "NHN KCP", "T0001", AmountDisplayOnly, MethodCard)
	inicis := withWindow(rest("html5_inicis", "KG이니시스", "INIBillTst"), AmountDisplayOnly, MethodCard)
	activeX := inicis
	activeX.Provider = "inicis"
	jtnet := withWindow(rest("jtnet", "JTNet", "tpaytest2m"), AmountKeyOrCharge, MethodCard)
	jtnet.OrderNameMaxBytes = 40
	settle := rest("settle", "세틀뱅크", "M2103135")
	settle.RESTKeyIn = false
	daou := rest("daou", "페이조아", "CTS16826")

	danalCard := win("danal_tpay", "다날", "A010002002", AmountKeyOrCharge, MethodCard)
	danalCard.TestAuthAmount, danalCard.TestAuthCancelAfter = 10, 30*time.Minute
	danalCard.CallbackOnMobile = true
	// Phone payments are billed by carriers, which refuse partial refunds.
	danalPhone := win("danal", "다날 휴대폰결제", "9810030929", AmountChargeRequired, MethodPhone)
	danalPhone.PartialCancel, danalPhone.SameAmountMonthly, danalPhone.CallbackOnMobile = false, true, true
	mobilians := win("mobilians", "KG모빌리언스", "170622040674", AmountChargeRequired, MethodPhone)
	mobilians.PartialCancel, mobilians.SameAmountMonthly, mobilians.CallbackOnMobile = false, true, true

	chai := win("chai", "차이", "chai_test", AmountDisplayOnly, MethodTrans)
	chai.PCRedirect = true
	kakao := win("kakaopay", "카카오페이", "TCSUBSCRIP", AmountKeyOrCharge, MethodCard, MethodPoint)
	kakao.WindowAnyMethod, kakao.Wallet, kakao.CallbackOnMobile = true, true, true
	payco := win("payco", "페이코", "PAYCOTEST", AmountDisplayOnly, MethodCard)
	payco.WindowAnyMethod, payco.Wallet, payco.CallbackOnMobile = true, true, true
	naver := win("naverpay", "네이버페이", "np_test", AmountDisplayOnly, MethodCard)
	naver.Wallet, naver.RequiredBuyer = true, []string{"buyer_tel"}
	kicc := win("kicc", "KICC 이지페이", "T5102001", AmountDisplayOnly, MethodCard)
	pw := win("paymentwall", "Paymentwall", "pw_test", AmountChargeRequired, MethodCard)
	pw.RESTIssueWithCharge, pw.KeyInCharge, pw.RequiredBuyer = true, true, []string{"buyer_email"}
	pw.SameBuyerEmail = true

	all := []PG{nice, kcp, kcpBilling, inicis, activeX, jtnet, settle, daou,
		danalCard, danalPhone, mobilians, chai, kakao, payco, naver, kicc, pw}
	m := make(map[string]PG, len(all))
	for _, p := range all {
		m[p.Provider] = p
	}
	return m
}()

// All lists every PG in the catalog, sorted by provider code.
func All() []PG {
	out := make([]PG, 0, len(catalog))
	for _, p := range catalog {
		out = append(out, p.clone())
	}
	slices.SortFunc(out, func(a, b PG) int {
		if a.Provider < b.Provider {
			return -1
		}
		if a.Provider > b.Provider {
			return 1
		}
		return 0
	})
	return out
}

// Lookup finds a PG by its i'mport provider code.
func Lookup(code string) (PG, bool) {
	p, ok := catalog[code]
	if !ok {
		return PG{}, false
	}
	return p.clone(), true
}
