package sim

import (
	"slices"
	"unicode/utf8"
)

// Window payment methods, spelled as i'mport's pay_method.
const (
	MethodCard  = "card"
	MethodTrans = "trans"
	MethodPhone = "phone"
)

// Personality is one PG as the simulator models it: what it can do over its
// REST API and in its payment window, and how it words its refusals.
type Personality struct {
	Provider string // i'mport pg code, e.g. "nice"
	Name     string // display name used in the PG's own messages
	TestMID  string // the shared test MID merchants usually start with

	RESTKeyIn        bool // issue a billing key from card data over REST
	KeyInCharge      bool // charge card data over REST without storing it
	BillingKeyCharge bool // charge a stored billing key over REST
	Cancel           bool
	PartialCancel    bool
	Window           []string // methods its payment window can issue billing keys for

	tidPrefix string
	texts     map[errKind]pgText
}

// SupportsWindowMethod reports whether the PG's payment window can issue a
// billing key for method.
func (p Personality) SupportsWindowMethod(method string) bool {
	return slices.Contains(p.Window, method)
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
	rest := func(provider, name, mid, tid string, texts map[errKind]pgText, window ...string) Personality {
		return Personality{Provider: provider, Name: name, TestMID: mid, tidPrefix: tid, texts: texts,
			RESTKeyIn: true, KeyInCharge: true, BillingKeyCharge: true, Cancel: true, PartialCancel: true, Window: window}
	}
	win := func(provider, name, mid, tid string, partial bool, window ...string) Personality {
		return Personality{Provider: provider, Name: name, TestMID: mid, tidPrefix: tid, texts: windowTexts,
			BillingKeyCharge: true, Cancel: true, PartialCancel: partial, Window: window}
	}
	all := []Personality{
		rest("nice", "나이스페이", "nictest04m", "nictest04m0116", niceTexts, MethodCard),
		rest("kcp", "NHN KCP", "T0000", "KCP", kcpTexts, MethodCard),
		rest("html5_inicis", "KG이니시스", "INIpayTest", "StdpayCARDINIpayTest", inicisTexts, MethodCard, MethodPhone),
		rest("jtnet", "JTNet", "tpaytest0m", "JTN", jtnetTexts, MethodCard),
		rest("settle", "세틀뱅크", "M2103135", "STL", settleTexts),
		win("danal", "다날", "A010002002", "DNL", true, MethodCard),
		// Phone payments are billed by carriers, which refuse partial refunds.
		win("danal_tpay", "다날 휴대폰결제", "9810030929", "DTP", false, MethodPhone),
		win("kicc", "KICC 이지페이", "T5102001", "KIC", true, MethodCard),
		win("payco", "페이코", "PAYCOTEST", "PCO", true, MethodCard),
		win("kakaopay", "카카오페이", "TCSUBSCRIP", "T", true, MethodCard),
		win("naverpay", "네이버페이", "np_test", "NPY", true, MethodCard),
		win("mobilians", "모빌리언스", "M19010000", "MBL", false, MethodPhone),
		win("chai", "차이", "chai_test", "CHI", true, MethodTrans),
	}
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

var methodNames = map[string]string{MethodCard: "카드", MethodTrans: "계좌이체", MethodPhone: "휴대폰"}
