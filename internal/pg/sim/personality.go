package sim

import (
	"slices"
	"unicode/utf8"

	"github.com/billkey/billkey/internal/pg/provider"
)

// Window payment methods and amount rules are the catalog's: the simulator
// enforces what internal/pg/provider says each PG can do.
const (
	MethodCard  = provider.MethodCard
	MethodTrans = provider.MethodTrans
	MethodPhone = provider.MethodPhone
	MethodPoint = provider.MethodPoint
)

// AmountRule is what a PG's billing window does with the amount it is given.
type AmountRule = provider.AmountRule

const (
	AmountKeyOrCharge    = provider.AmountKeyOrCharge
	AmountDisplayOnly    = provider.AmountDisplayOnly
	AmountChargeRequired = provider.AmountChargeRequired
)

// Personality is one PG as the simulator models it: the catalog entry's
// capabilities, which the simulator enforces, and how the PG words its
// refusals and numbers its transactions.
type Personality struct {
	provider.PG

	tidPrefix string
	texts     map[errKind]pgText
	rules     map[errKind]pgText // texts of the PG's own rules, over texts
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

// voices is how each catalog PG speaks: its transaction id prefix, its
// refusal texts and the texts of its own rules.
var voices = map[string]struct {
	tidPrefix    string
	texts, rules map[errKind]pgText
}{
	"nice":         {"nictest04m0116", niceTexts, nil},
	"kcp":          {"KCP", kcpTexts, nil},
	"kcp_billing":  {"KCB", kcpTexts, nil},
	"html5_inicis": {"StdpayCARDINIBillTst", inicisTexts, nil},
	"inicis":       {"StdpayCARDINIBillTst", inicisTexts, nil},
	"jtnet":        {"JTN", jtnetTexts, nil},
	"settle":       {"STL", settleTexts, settleRuleTexts},
	"daou":         {"DAO", daouTexts, nil},
	"danal_tpay":   {"DNL", windowTexts, nil},
	"danal":        {"DTP", windowTexts, danalPhoneTexts},
	"mobilians":    {"MBL", windowTexts, mobiliansTexts},
	"chai":         {"CHI", windowTexts, nil},
	"kakaopay":     {"T", windowTexts, nil},
	"payco":        {"PCO", windowTexts, nil},
	"naverpay":     {"NPY", windowTexts, naverpayTexts},
	"kicc":         {"KIC", windowTexts, nil},
	"paymentwall":  {"PW", windowTexts, paymentwallTexts},
}

// personalities models every catalog PG; a catalog entry without a voice
// speaks the window PGs' generic texts.
var personalities = func() map[string]Personality {
	all := provider.All()
	m := make(map[string]Personality, len(all))
	for _, pg := range all {
		v, ok := voices[pg.Provider]
		if !ok {
			v.tidPrefix, v.texts = "SIM", windowTexts
		}
		m[pg.Provider] = Personality{PG: pg, tidPrefix: v.tidPrefix, texts: v.texts, rules: v.rules}
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
