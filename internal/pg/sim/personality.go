package sim

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

// Personality is one PG as the simulator models it, following the PG's
// i'mport billing guide: what it can do over its REST API and in its payment
// window, and how it words its refusals.
type Personality struct {
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

	tidPrefix string
	texts     map[errKind]pgText
	rules     map[errKind]pgText // texts of the PG's own rules, over texts
}

// SupportsWindowMethod reports whether the PG's payment window can issue a
// billing key for method.
func (p Personality) SupportsWindowMethod(method string) bool {
	return p.WindowAnyMethod && len(p.Window) > 0 || slices.Contains(p.Window, method)
}

type errKind int

const (
	kInvalidCard errKind = iota
	kInvalidExpiry
	kDecline
	kInsufficient
	kExpired
	kBillingRefused
	kSystem
	kUnknownBillingKey
	kOverRefund
	kAlreadyCancelled
	kNotApproved
	kKeyOnlyRefused    // the PG issues keys only together with a first charge
	kSameAmount        // phone billing: a charge by key must repeat the first amount
	kOutsideCycle      // phone billing: only monthly, on the first charge's day ±5 days
	kBuyerTelRequired  // Naver Pay
	kBuyerEmailRequire // Paymentwall
	kNameTooLong       // the order name does not fit the PG's field
	kBuyerEmailChanged // Paymentwall: again with another buyer_email than at issuance
)

type pgText struct{ code, msg string }

// Every style keeps the words 거래거절 / 잔액부족 / 유효기간 in the matching
// texts: merchants (and our tests) grep for them regardless of the PG.
var (
	niceTexts = map[errKind]pgText{
		kInvalidCard:       {"F113", "[F113]거래거절 카드번호틀림"},
		kInvalidExpiry:     {"F114", "[F114]거래거절 유효기간오류"},
		kDecline:           {"F102", "[F102]거래거절 카드사 승인거절"},
		kInsufficient:      {"F105", "[F105]거래거절 잔액부족"},
		kExpired:           {"F104", "[F104]거래거절 유효기간 경과"},
		kBillingRefused:    {"F106", "[F106]거래거절 빌링 승인거절"},
		kSystem:            {"9999", "[9999]시스템 오류입니다. 잠시 후 다시 시도하세요."},
		kUnknownBillingKey: {"F112", "[F112]유효하지 않은 빌키입니다."},
		kOverRefund:        {"2032", "[2032]취소금액이 취소가능금액보다 큽니다."},
		kAlreadyCancelled:  {"2013", "[2013]이미 취소된 거래입니다."},
		kNotApproved:       {"2012", "[2012]취소할 수 없는 거래입니다(승인되지 않은 거래)."},
		kNameTooLong:       {"F121", "[F121]상품명(GoodsName)은 40Byte를 초과할 수 없습니다."},
	}
	// KCP calls billing keys 배치키 and puts its code after the text.
	kcpTexts = map[errKind]pgText{
		kInvalidCard:       {"8155", "카드번호 오류 (8155)"},
		kInvalidExpiry:     {"8127", "유효기간 오류 (8127)"},
		kDecline:           {"8100", "거래거절 - 카드사 승인거절 (8100)"},
		kInsufficient:      {"8125", "잔액부족 또는 한도초과 (8125)"},
		kExpired:           {"8124", "유효기간 경과 카드 (8124)"},
		kBillingRefused:    {"8130", "거래거절 - 배치키 승인거절 (8130)"},
		kSystem:            {"9502", "KCP 시스템 오류 (9502)"},
		kUnknownBillingKey: {"8163", "등록되지 않은 배치키 (8163)"},
		kOverRefund:        {"8133", "부분취소 금액이 취소가능금액을 초과 (8133)"},
		kAlreadyCancelled:  {"8132", "이미 취소된 거래 (8132)"},
		kNotApproved:       {"8131", "취소할 수 없는 거래 - 미승인 (8131)"},
		kNameTooLong:       {"8201", "상품명(good_name) 길이 초과 (8201)"},
	}
	inicisTexts = map[errKind]pgText{
		kInvalidCard:       {"V808", "[V808]유효하지않은 카드번호를 입력하셨습니다."},
		kInvalidExpiry:     {"V809", "[V809]유효기간을 잘못 입력하셨습니다."},
		kDecline:           {"V801", "[V801]카드사 거래거절"},
		kInsufficient:      {"V803", "[V803]잔액부족 또는 한도초과"},
		kExpired:           {"V805", "[V805]유효기간 경과 카드입니다."},
		kBillingRefused:    {"V810", "[V810]빌링 승인 거래거절"},
		kSystem:            {"500", "[500]이니시스 시스템 장애입니다."},
		kUnknownBillingKey: {"V811", "[V811]등록되지 않은 빌링키입니다."},
		kOverRefund:        {"V812", "[V812]부분취소 요청금액이 취소가능금액을 초과합니다."},
		kAlreadyCancelled:  {"V813", "[V813]기취소 거래입니다."},
		kNotApproved:       {"V814", "[V814]승인되지 않은 거래는 취소할 수 없습니다."},
	}
	jtnetTexts = map[errKind]pgText{
		kInvalidCard:       {"E101", "카드번호오류[E101]"},
		kInvalidExpiry:     {"E102", "유효기간오류[E102]"},
		kDecline:           {"E201", "거래거절[E201]"},
		kInsufficient:      {"E205", "잔액부족[E205]"},
		kExpired:           {"E204", "유효기간 경과[E204]"},
		kBillingRefused:    {"E206", "빌키 거래거절[E206]"},
		kSystem:            {"E999", "시스템오류[E999]"},
		kUnknownBillingKey: {"E301", "빌키 없음[E301]"},
		kOverRefund:        {"E402", "취소금액 초과[E402]"},
		kAlreadyCancelled:  {"E401", "기취소 거래[E401]"},
		kNotApproved:       {"E403", "미승인 거래 취소불가[E403]"},
		kNameTooLong:       {"E121", "상품명 길이초과[E121]"},
	}
	settleTexts = map[errKind]pgText{
		kInvalidCard:       {"ST11", "카드번호가 올바르지 않습니다."},
		kInvalidExpiry:     {"ST12", "카드 유효기간이 올바르지 않습니다."},
		kDecline:           {"ST21", "카드사 거래거절"},
		kInsufficient:      {"ST25", "잔액부족(한도초과)"},
		kExpired:           {"ST24", "유효기간 경과 카드"},
		kBillingRefused:    {"ST26", "정기결제 거래거절"},
		kSystem:            {"ST99", "세틀뱅크 시스템 오류"},
		kUnknownBillingKey: {"ST31", "등록되지 않은 빌키입니다."},
		kOverRefund:        {"ST42", "취소가능금액 초과"},
		kAlreadyCancelled:  {"ST41", "이미 취소된 거래입니다."},
		kNotApproved:       {"ST43", "승인되지 않은 거래입니다."},
	}
	daouTexts = map[errKind]pgText{
		kInvalidCard:       {"D1101", "[D1101] 카드번호 오류"},
		kInvalidExpiry:     {"D1102", "[D1102] 유효기간 오류"},
		kDecline:           {"D2001", "[D2001] 카드사 거래거절"},
		kInsufficient:      {"D2005", "[D2005] 거래거절 잔액부족(한도초과)"},
		kExpired:           {"D2004", "[D2004] 거래거절 유효기간 경과"},
		kBillingRefused:    {"D2006", "[D2006] 자동결제 거래거절"},
		kSystem:            {"D9999", "[D9999] 페이조아 시스템 오류"},
		kUnknownBillingKey: {"D3001", "[D3001] 등록되지 않은 자동결제키"},
		kOverRefund:        {"D4002", "[D4002] 취소가능금액 초과"},
		kAlreadyCancelled:  {"D4001", "[D4001] 이미 취소된 거래"},
		kNotApproved:       {"D4003", "[D4003] 미승인 거래 취소불가"},
	}
	// Rules of single PGs, in each PG's wording.
	danalPhoneTexts = map[errKind]pgText{
		kKeyOnlyRefused: {"DN303", "[DN303] 휴대폰 정기결제는 첫 결제와 함께 등록해야 합니다. (결제금액 필요)"},
		kSameAmount:     {"DN301", "[DN301] 정기결제 금액이 최초 결제 금액과 다릅니다."},
		kOutsideCycle:   {"DN302", "[DN302] 정기결제는 최초 결제일 기준 매월 같은 날(±5일)에만 가능합니다."},
	}
	mobiliansTexts = map[errKind]pgText{
		kKeyOnlyRefused: {"MB43", "자동결제 등록은 첫 결제와 함께 해야 합니다. (결제금액 필요)"},
		kSameAmount:     {"MB41", "자동결제 금액이 최초 결제금액과 일치하지 않습니다."},
		kOutsideCycle:   {"MB42", "자동결제 가능일이 아닙니다. (최초 결제일 기준 매월 ±5일)"},
	}
	settleRuleTexts = map[errKind]pgText{
		kKeyOnlyRefused: {"ST51", "빌키 단독 발급은 지원하지 않습니다. 최초 결제와 함께 발급하세요."},
	}
	paymentwallTexts = map[errKind]pgText{
		kKeyOnlyRefused:    {"PW02", "Paymentwall issues a billing key only together with a payment."},
		kBuyerEmailRequire: {"PW01", "buyer_email is required."},
		kBuyerEmailChanged: {"PW03", "buyer_email must be the e-mail the billing key was issued with."},
	}
	naverpayTexts = map[errKind]pgText{
		kBuyerTelRequired: {"NP01", "네이버페이 정기결제 등록에는 구매자 휴대폰번호(buyer_tel)가 필요합니다."},
	}
	// Window-only PGs only ever refuse billing-key charges and cancels over
	// REST, so one wording serves them; the codes differ by prefix.
	windowTexts = map[errKind]pgText{
		kInvalidCard:       {"C011", "유효하지 않은 카드번호입니다."},
		kInvalidExpiry:     {"C012", "유효기간이 올바르지 않습니다."},
		kDecline:           {"C021", "카드사 거래거절"},
		kInsufficient:      {"C025", "잔액부족"},
		kExpired:           {"C024", "유효기간 경과"},
		kBillingRefused:    {"C026", "정기결제 거래거절"},
		kSystem:            {"C999", "일시적인 시스템 오류입니다."},
		kUnknownBillingKey: {"C031", "유효하지 않은 빌링키(정기결제 키)입니다."},
		kOverRefund:        {"C042", "취소 요청금액이 취소가능금액을 초과합니다."},
		kAlreadyCancelled:  {"C041", "이미 취소된 결제입니다."},
		kNotApproved:       {"C043", "승인되지 않은 결제는 취소할 수 없습니다."},
	}
)

var personalities = func() map[string]Personality {
	rest := func(provider, name, mid, tid string, texts map[errKind]pgText) Personality {
		return Personality{Provider: provider, Name: name, TestMID: mid, tidPrefix: tid, texts: texts,
			RESTKeyIn: true, RESTIssueWithCharge: true, KeyInCharge: true, BillingKeyCharge: true, Cancel: true, PartialCancel: true}
	}
	win := func(provider, name, mid, tid string, amount AmountRule, window ...string) Personality {
		return Personality{Provider: provider, Name: name, TestMID: mid, tidPrefix: tid, texts: windowTexts,
			BillingKeyCharge: true, Cancel: true, PartialCancel: true, Window: window, WindowAmount: amount}
	}
	// The window half of a PG that also has a REST contract.
	withWindow := func(p Personality, amount AmountRule, window ...string) Personality {
		p.Window, p.WindowAmount = window, amount
		return p
	}

	nice := rest("nice", "나이스페이", "nictest04m", "nictest04m0116", niceTexts)
	nice.OrderNameMaxBytes = 40
	// KCP's REST billing and its billing window are separate contracts
	// (kcp and kcp_billing); the window only shows the amount, and not on PC.
	kcp := rest("kcp", "NHN KCP", "T0000", "KCP", kcpTexts)
	kcp.OrderNameMaxBytes = 100
	kcpBilling := win("kcp_billing", "NHN KCP", "T0001", "KCB", AmountDisplayOnly, MethodCard)
	kcpBilling.texts = kcpTexts
	inicis := withWindow(rest("html5_inicis", "KG이니시스", "INIBillTst", "StdpayCARDINIBillTst", inicisTexts), AmountDisplayOnly, MethodCard)
	activeX := inicis
	activeX.Provider = "inicis"
	jtnet := withWindow(rest("jtnet", "JTNet", "tpaytest2m", "JTN", jtnetTexts), AmountKeyOrCharge, MethodCard)
	jtnet.OrderNameMaxBytes = 40
	settle := rest("settle", "세틀뱅크", "M2103135", "STL", settleTexts)
	settle.RESTKeyIn, settle.rules = false, settleRuleTexts
	daou := rest("daou", "페이조아", "CTS16826", "DAO", daouTexts)

	danalCard := win("danal_tpay", "다날", "A010002002", "DNL", AmountKeyOrCharge, MethodCard)
	danalCard.TestAuthAmount, danalCard.TestAuthCancelAfter = 10, 30*time.Minute
	danalCard.CallbackOnMobile = true
	// Phone payments are billed by carriers, which refuse partial refunds.
	danalPhone := win("danal", "다날 휴대폰결제", "9810030929", "DTP", AmountChargeRequired, MethodPhone)
	danalPhone.PartialCancel, danalPhone.SameAmountMonthly, danalPhone.CallbackOnMobile = false, true, true
	danalPhone.rules = danalPhoneTexts
	mobilians := win("mobilians", "KG모빌리언스", "170622040674", "MBL", AmountChargeRequired, MethodPhone)
	mobilians.PartialCancel, mobilians.SameAmountMonthly, mobilians.CallbackOnMobile = false, true, true
	mobilians.rules = mobiliansTexts

	chai := win("chai", "차이", "chai_test", "CHI", AmountDisplayOnly, MethodTrans)
	chai.PCRedirect = true
	kakao := win("kakaopay", "카카오페이", "TCSUBSCRIP", "T", AmountKeyOrCharge, MethodCard, MethodPoint)
	kakao.WindowAnyMethod, kakao.Wallet, kakao.CallbackOnMobile = true, true, true
	payco := win("payco", "페이코", "PAYCOTEST", "PCO", AmountDisplayOnly, MethodCard)
	payco.WindowAnyMethod, payco.Wallet, payco.CallbackOnMobile = true, true, true
	naver := win("naverpay", "네이버페이", "np_test", "NPY", AmountDisplayOnly, MethodCard)
	naver.Wallet, naver.RequiredBuyer, naver.rules = true, []string{"buyer_tel"}, naverpayTexts
	kicc := win("kicc", "KICC 이지페이", "T5102001", "KIC", AmountDisplayOnly, MethodCard)
	pw := win("paymentwall", "Paymentwall", "pw_test", "PW", AmountChargeRequired, MethodCard)
	pw.RESTIssueWithCharge, pw.KeyInCharge, pw.RequiredBuyer, pw.rules = true, true, []string{"buyer_email"}, paymentwallTexts
	pw.SameBuyerEmail = true

	all := []Personality{nice, kcp, kcpBilling, inicis, activeX, jtnet, settle, daou,
		danalCard, danalPhone, mobilians, chai, kakao, payco, naver, kicc, pw}
	m := make(map[string]Personality, len(all))
	for _, p := range all {
		m[p.Provider] = p
	}
	return m
}()

// Personalities lists every modelled PG, sorted by provider.
func Personalities() []Personality {
	out := make([]Personality, 0, len(personalities))
	for _, p := range personalities {
		p.Window = slices.Clone(p.Window)
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Personality) int {
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

// Lookup finds a PG personality by its i'mport provider code.
func Lookup(provider string) (Personality, bool) {
	p, ok := personalities[provider]
	if ok {
		p.Window = slices.Clone(p.Window)
	}
	return p, ok
}

// SupportsRESTKeyIn reports whether provider issues billing keys from card
// data over REST (as opposed to only through its payment window).
func SupportsRESTKeyIn(provider string) bool {
	return personalities[provider].RESTKeyIn
}

// WindowMethods lists the methods provider's payment window issues billing
// keys for; nil for unknown providers.
func WindowMethods(provider string) []string {
	return slices.Clone(personalities[provider].Window)
}

func (p Personality) text(k errKind) pgText {
	if t, ok := p.rules[k]; ok {
		return t
	}
	if t, ok := p.texts[k]; ok {
		return t
	}
	return windowTexts[k]
}

// topic appends the Korean topic particle 은/는, which depends on whether the
// last syllable ends in a consonant; non-Hangul endings get the neutral form.
func topic(name string) string {
	r, _ := utf8.DecodeLastRuneInString(name)
	if r < 0xAC00 || r > 0xD7A3 {
		return name + "은(는)"
	}
	if (r-0xAC00)%28 != 0 {
		return name + "은"
	}
	return name + "는"
}

var methodNames = map[string]string{MethodCard: "카드", MethodTrans: "계좌이체", MethodPhone: "휴대폰", MethodPoint: "포인트(머니)"}

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

// FitName shortens an order name to the PG's field, on a character boundary;
// names that fit, and PGs without a limit, keep it whole.
func (p Personality) FitName(name string) string {
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
