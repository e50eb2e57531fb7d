package sim

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/billkey/billkey/internal/pg"
)

// The Toss Payments personality speaks Toss's own v1 wire format (paths,
// JSON fields, {code,message} error bodies, status codes), mounted under
// TossPrefix, so the tosspayments connector is tested against what Toss
// documents rather than against the simulator's neutral protocol. Every
// shape here comes from Toss's public reference (docs.tosspayments.com
// /reference, /reference/error-codes, /reference/using-api/req-res); the
// fixtures in testdata/tosspayments name the page each came from.
//
//	POST   /v1/billing/authorizations/card   key-in issuance → Billing
//	POST   /v1/billing/{billingKey}          charge → Payment (type BILLING)
//	DELETE /v1/billing/{billingKey}          → 200, empty body
//	GET    /v1/payments/{paymentKey}         → Payment
//	GET    /v1/payments/orders/{orderId}     → Payment
//	POST   /v1/payments/{paymentKey}/cancel  → Payment with cancels[]
//
// Test cards behave as on the other personalities: 0002 is refused at
// issuance (INVALID_REJECT_CARD), 0069 too (INVALID_CARD_EXPIRATION), 9995
// issues and its charges decline REJECT_CARD_PAYMENT, 0341 issues and its
// charges decline REJECT_CARD_COMPANY, 0119 answers 500 with nothing
// charged, 0259 approves and drops the answer.
const TossPrefix = "/tosspayments"

// TossProvider is the ledger provider of Toss charges.
const TossProvider = "tosspayments"

var (
	tossCustomerKeyRe = regexp.MustCompile(`^[A-Za-z0-9\-_=.@]{2,300}$`)
	tossOrderIDRe     = regexp.MustCompile(`^[A-Za-z0-9\-_]{6,64}$`)
)

// tossErrors are the status and message of each code the personality
// answers with (docs.tosspayments.com/reference/error-codes). Messages are
// Toss's own where the reference records them (NOT_MATCHES_CUSTOMER_KEY,
// REJECT_CARD_PAYMENT, IDEMPOTENT_REQUEST_PROCESSING, DUPLICATED_ORDER_ID,
// INVALID_IDEMPOTENCY_KEY, ALREADY_REMOVED_BILLING_KEY); the others are our
// wording, which is why clients (and our connector) match on code only.
var tossErrors = map[string]struct {
	status int
	msg    string
}{
	"UNAUTHORIZED_KEY":                  {401, "인증되지 않은 시크릿 키 혹은 클라이언트 키 입니다."},
	"INCORRECT_BASIC_AUTH_FORMAT":       {403, "잘못된 요청입니다. ':' 를 포함해 인코딩해주세요."},
	"INVALID_REQUEST":                   {400, "잘못된 요청입니다."},
	"INVALID_CARD_NUMBER":               {400, "카드번호를 다시 확인해주세요."},
	"INVALID_CARD_EXPIRATION":           {400, "카드 정보를 다시 확인해주세요. (유효기간)"},
	"INVALID_REJECT_CARD":               {400, "카드 사용이 거절되었습니다. 카드사 문의가 필요합니다."},
	"INVALID_STOPPED_CARD":              {400, "정지된 카드 입니다."},
	"INVALID_BILL_KEY_REQUEST":          {400, "빌링 인증이 완료되지 않았거나 유효하지 않은 빌링 키 입니다."},
	"ALREADY_REMOVED_BILLING_KEY":       {400, "이미 삭제된 빌링키입니다"},
	"NOT_MATCHES_CUSTOMER_KEY":          {400, "빌링 인증 고객키와 결제 요청 고객키가 일치하지 않습니다."},
	"DUPLICATED_ORDER_ID":               {400, "이미 승인 및 취소가 진행된 중복된 주문번호 입니다. 다른 주문번호로 진행해주세요."},
	"BELOW_MINIMUM_AMOUNT":              {400, "신용카드는 결제금액이 100원 이상, 계좌는 200원이상부터 결제가 가능합니다."},
	"INVALID_IDEMPOTENCY_KEY":           {400, "멱등키는 300자 이하여야 합니다."},
	"ALREADY_CANCELED_PAYMENT":          {400, "이미 취소된 결제 입니다."},
	"PROVIDER_ERROR":                    {400, "일시적인 오류가 발생했습니다. 잠시 후 다시 시도해주세요."},
	"REJECT_CARD_PAYMENT":               {403, "한도초과 혹은 잔액부족으로 결제에 실패했습니다."},
	"REJECT_CARD_COMPANY":               {403, "결제 승인이 거절되었습니다."},
	"NOT_CANCELABLE_AMOUNT":             {403, "취소 할 수 없는 금액 입니다."},
	"NOT_FOUND_PAYMENT":                 {404, "존재하지 않는 결제 정보 입니다."},
	"IDEMPOTENT_REQUEST_PROCESSING":     {409, "이전 멱등 요청이 처리중입니다."},
	"FAILED_INTERNAL_SYSTEM_PROCESSING": {500, "내부 시스템 처리 작업이 실패했습니다. 잠시 후 다시 시도해주세요."},
	"COMMON_ERROR":                      {500, "일시적인 오류가 발생했습니다. 잠시 후 다시 시도해주세요."},
}

type tossErr struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	status  int
}

func tossError(code string) *tossErr {
	e, ok := tossErrors[code]
	if !ok {
		e.status, e.msg = 400, "잘못된 요청입니다."
	}
	return &tossErr{Code: code, Message: e.msg, status: e.status}
}

// Toss's card-company codes (issuerCode) of the simulator's issuers.
var tossIssuerCodes = map[string]string{
	"신한카드": "41", "삼성카드": "51", "현대카드": "61", "KB국민카드": "11", "롯데카드": "71",
	"하나카드": "21", "BC카드": "31", "NH농협카드": "91", "우리카드": "W1", "씨티카드": "36",
}

type tossCard struct {
	IssuerCode            string  `json:"issuerCode"`
	AcquirerCode          *string `json:"acquirerCode"`
	Number                string  `json:"number"`
	InstallmentPlanMonths *int    `json:"installmentPlanMonths,omitempty"`
	IsInterestFree        *bool   `json:"isInterestFree,omitempty"`
	InterestPayer         *string `json:"interestPayer"`
	ApproveNo             *string `json:"approveNo,omitempty"`
	UseCardPoint          *bool   `json:"useCardPoint,omitempty"`
	CardType              string  `json:"cardType"`
	OwnerType             string  `json:"ownerType"`
	AcquireStatus         *string `json:"acquireStatus,omitempty"`
	Amount                *int64  `json:"amount,omitempty"`
}

type tossBilling struct {
	MID             string    `json:"mId"`
	CustomerKey     string    `json:"customerKey"`
	AuthenticatedAt string    `json:"authenticatedAt"`
	Method          string    `json:"method"`
	BillingKey      string    `json:"billingKey"`
	Card            *tossCard `json:"card"`
	CardCompany     string    `json:"cardCompany"`
	CardNumber      string    `json:"cardNumber"`
}

type tossCancel struct {
	CancelReason           string  `json:"cancelReason"`
	CanceledAt             string  `json:"canceledAt"`
	CancelAmount           int64   `json:"cancelAmount"`
	TaxFreeAmount          int64   `json:"taxFreeAmount"`
	TaxExemptionAmount     int64   `json:"taxExemptionAmount"`
	RefundableAmount       int64   `json:"refundableAmount"`
	CardDiscountAmount     int64   `json:"cardDiscountAmount"`
	TransferDiscountAmount int64   `json:"transferDiscountAmount"`
	EasyPayDiscountAmount  int64   `json:"easyPayDiscountAmount"`
	TransactionKey         string  `json:"transactionKey"`
	ReceiptKey             *string `json:"receiptKey"`
	CancelStatus           string  `json:"cancelStatus"`
	CancelRequestID        *string `json:"cancelRequestId"`
}

type tossURL struct {
	URL string `json:"url"`
}

type tossFailure struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// tossPayment is Toss's Payment object; nullable fields Billkey's billing
// card payments never fill are kept as null, as Toss sends them.
type tossPayment struct {
	MID                 string       `json:"mId"`
	Version             string       `json:"version"`
	PaymentKey          string       `json:"paymentKey"`
	Status              string       `json:"status"`
	LastTransactionKey  *string      `json:"lastTransactionKey"`
	OrderID             string       `json:"orderId"`
	OrderName           string       `json:"orderName"`
	RequestedAt         string       `json:"requestedAt"`
	ApprovedAt          *string      `json:"approvedAt"`
	UseEscrow           bool         `json:"useEscrow"`
	CultureExpense      bool         `json:"cultureExpense"`
	Card                *tossCard    `json:"card"`
	VirtualAccount      any          `json:"virtualAccount"`
	Transfer            any          `json:"transfer"`
	MobilePhone         any          `json:"mobilePhone"`
	GiftCertificate     any          `json:"giftCertificate"`
	CashReceipt         any          `json:"cashReceipt"`
	CashReceipts        any          `json:"cashReceipts"`
	Discount            any          `json:"discount"`
	Cancels             []tossCancel `json:"cancels"`
	Secret              any          `json:"secret"`
	Type                string       `json:"type"`
	EasyPay             any          `json:"easyPay"`
	Country             string       `json:"country"`
	Failure             *tossFailure `json:"failure"`
	IsPartialCancelable bool         `json:"isPartialCancelable"`
	Receipt             *tossURL     `json:"receipt"`
	Checkout            *tossURL     `json:"checkout"`
	Currency            string       `json:"currency"`
	TotalAmount         int64        `json:"totalAmount"`
	BalanceAmount       int64        `json:"balanceAmount"`
	SuppliedAmount      int64        `json:"suppliedAmount"`
	Vat                 int64        `json:"vat"`
	TaxFreeAmount       int64        `json:"taxFreeAmount"`
	Metadata            any          `json:"metadata"`
	TaxExemptionAmount  int64        `json:"taxExemptionAmount"`
	Method              string       `json:"method"`
	ledger              *charge      // the simulator ledger entry
	mid                 string       // owner
}

const tossTime = "2006-01-02T15:04:05-07:00"

var kst = time.FixedZone("KST", 9*60*60)

type tossKey struct {
	billing    tossBilling
	behaviour  behaviour
	mid        string
	deleted    bool
	cardNumber string // masked
}

type tossIdem struct {
	done   bool
	status int
	body   []byte
	lose   bool
}

// tossState is the personality's own state, guarded by Server.mu like the
// rest of the ledger. Idempotency entries are kept for the process's life
// (Toss keeps them 15 days).
type tossState struct {
	keys     map[string]*tossKey        // billingKey →
	payments map[string]*tossPayment    // paymentKey →
	orders   map[[2]string]*tossPayment // (mId, orderId) →
	idem     map[[4]string]*tossIdem    // (secret, method, path, key) →
	txSeq    uint64
}

func newTossState() *tossState {
	return &tossState{
		keys: map[string]*tossKey{}, payments: map[string]*tossPayment{},
		orders: map[[2]string]*tossPayment{}, idem: map[[4]string]*tossIdem{},
	}
}

// tossMID derives a stable mId (≤14 chars) from a secret key: each key is
// its own merchant, as each Toss MID has its own key pair.
func tossMID(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return "tbk" + hex.EncodeToString(h[:5])
}

func (s *Server) tossRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/billing/authorizations/card", s.tossAuth(s.tossIssue))
	mux.HandleFunc("POST /v1/billing/{billingKey}", s.tossAuth(s.tossCharge))
	mux.HandleFunc("DELETE /v1/billing/{billingKey}", s.tossAuth(s.tossDelete))
	mux.HandleFunc("GET /v1/payments/orders/{orderId}", s.tossAuth(s.tossGetOrder))
	mux.HandleFunc("GET /v1/payments/{paymentKey}", s.tossAuth(s.tossGetPayment))
	mux.HandleFunc("POST /v1/payments/{paymentKey}/cancel", s.tossAuth(s.tossCancel))
	return http.StripPrefix(TossPrefix, mux)
}

type tossCall struct {
	secret string
	mid    string
	test   bool
	body   []byte
}

type tossHandler func(w http.ResponseWriter, r *http.Request, c tossCall) (status int, body any, lose bool)

// tossAuth checks Basic auth, honours TossPayments-Test-Code on test keys,
// and replays POSTs by Idempotency-Key: identity is (key, secret, path,
// method), the body is not compared, and the first answer is replayed
// whatever its status.
func (s *Server) tossAuth(h tossHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.stats.requests.Add(1)
		secret, ferr := tossSecret(r.Header.Get("Authorization"))
		if ferr != nil {
			writeJSON(w, ferr.status, ferr)
			return
		}
		c := tossCall{secret: secret, mid: tossMID(secret), test: strings.HasPrefix(secret, "test_")}
		if code := r.Header.Get("TossPayments-Test-Code"); code != "" && c.test {
			writeJSON(w, tossError(code).status, tossError(code))
			return
		}
		body := make([]byte, 0, 512)
		if r.Body != nil {
			buf := make([]byte, 4096)
			lr := http.MaxBytesReader(w, r.Body, maxBody)
			for {
				n, err := lr.Read(buf)
				body = append(body, buf[:n]...)
				if err != nil {
					break
				}
			}
		}
		c.body = body
		key := r.Header.Get("Idempotency-Key")
		if key == "" || r.Method != http.MethodPost {
			status, out, lose := h(w, r, c)
			s.delay(r.Context())
			tossWrite(w, status, out, lose)
			return
		}
		if len(key) > 300 {
			e := tossError("INVALID_IDEMPOTENCY_KEY")
			writeJSON(w, e.status, e)
			return
		}
		ik := [4]string{secret, r.Method, r.URL.Path, key}
		s.mu.Lock()
		prev, ok := s.toss.idem[ik]
		if ok && !prev.done {
			s.mu.Unlock()
			e := tossError("IDEMPOTENT_REQUEST_PROCESSING")
			writeJSON(w, e.status, e)
			return
		}
		if !ok {
			s.toss.idem[ik] = &tossIdem{}
		}
		s.mu.Unlock()
		if ok {
			s.stats.replays.Add(1)
			s.delay(r.Context())
			if prev.lose {
				dropResponse(w)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(prev.status)
			_, _ = w.Write(prev.body)
			return
		}
		status, out, lose := h(w, r, c)
		raw, _ := json.Marshal(out)
		s.mu.Lock()
		s.toss.idem[ik] = &tossIdem{done: true, status: status, body: raw, lose: lose}
		s.mu.Unlock()
		s.delay(r.Context())
		tossWrite(w, status, out, lose)
	}
}

func tossWrite(w http.ResponseWriter, status int, out any, lose bool) {
	if lose {
		dropResponse(w)
		return
	}
	if out == nil {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, out)
}

// tossSecret reads "Basic base64(secret:)"; padded and unpadded base64 are
// both accepted, a value without the colon is INCORRECT_BASIC_AUTH_FORMAT.
func tossSecret(h string) (string, *tossErr) {
	v, ok := strings.CutPrefix(h, "Basic ")
	if !ok || v == "" {
		return "", tossError("UNAUTHORIZED_KEY")
	}
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(v)
	}
	if err != nil {
		return "", tossError("INCORRECT_BASIC_AUTH_FORMAT")
	}
	secret, ok := strings.CutSuffix(string(raw), ":")
	if !ok || strings.Contains(secret, ":") {
		return "", tossError("INCORRECT_BASIC_AUTH_FORMAT")
	}
	if !strings.HasPrefix(secret, "test_sk_") && !strings.HasPrefix(secret, "live_sk_") {
		return "", tossError("UNAUTHORIZED_KEY")
	}
	return secret, nil
}

func tossNow(s *Server) string { return s.clock().In(kst).Format(tossTime) }

func (s *Server) tossIssue(_ http.ResponseWriter, _ *http.Request, c tossCall) (int, any, bool) {
	var in struct {
		CustomerKey            string `json:"customerKey"`
		CardNumber             string `json:"cardNumber"`
		CardExpirationYear     string `json:"cardExpirationYear"`
		CardExpirationMonth    string `json:"cardExpirationMonth"`
		CardPassword           string `json:"cardPassword"`
		CustomerIdentityNumber string `json:"customerIdentityNumber"`
	}
	if json.Unmarshal(c.body, &in) != nil || !tossCustomerKeyRe.MatchString(in.CustomerKey) {
		return tossFail("INVALID_REQUEST")
	}
	n := normalizeNumber(in.CardNumber)
	if len(n) > 20 || !luhnValid(n) {
		return tossFail("INVALID_CARD_NUMBER")
	}
	if len(in.CardExpirationYear) != 2 || !validExpiry("20"+in.CardExpirationYear+"-"+in.CardExpirationMonth) {
		return tossFail("INVALID_CARD_EXPIRATION")
	}
	if s.chance(s.cfg.Load().ErrorRate) {
		s.stats.errors.Add(1)
		return tossFail("COMMON_ERROR")
	}
	b := behaviourOf(n)
	switch b {
	case bPGError:
		s.stats.errors.Add(1)
		return tossFail("COMMON_ERROR")
	case bDecline:
		return tossFail("INVALID_REJECT_CARD")
	case bExpired:
		return tossFail("INVALID_CARD_EXPIRATION")
	}
	is := LookupIssuer(n)
	cardType := "신용"
	if is.Check {
		cardType = "체크"
	}
	masked := n[:8] + "****" + n[12:15] + "*"
	code := tossIssuerCodes[is.Name]
	acq := code
	k := &tossKey{behaviour: b, mid: c.mid, cardNumber: masked, billing: tossBilling{
		MID: c.mid, CustomerKey: in.CustomerKey, AuthenticatedAt: tossNow(s), Method: "카드",
		BillingKey:  tossToken(44),
		Card:        &tossCard{IssuerCode: code, AcquirerCode: &acq, Number: masked, CardType: cardType, OwnerType: "개인"},
		CardCompany: strings.TrimSuffix(is.Name, "카드"), CardNumber: masked,
	}}
	s.mu.Lock()
	s.toss.keys[k.billing.BillingKey] = k
	s.mu.Unlock()
	s.stats.issuedKeys.Add(1)
	return http.StatusOK, k.billing, false
}

// tossToken is a random base64-like token of n characters, the shape of
// Toss's billing and payment keys.
func tossToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}

func tossFail(code string) (int, any, bool) {
	e := tossError(code)
	return e.status, e, false
}

func (s *Server) tossDelete(_ http.ResponseWriter, r *http.Request, c tossCall) (int, any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.toss.keys[r.PathValue("billingKey")]
	switch {
	case !ok || k.mid != c.mid:
		return tossFail("INVALID_BILL_KEY_REQUEST")
	case k.deleted:
		return tossFail("ALREADY_REMOVED_BILLING_KEY")
	}
	k.deleted = true
	return http.StatusOK, nil, false
}

func (s *Server) tossCharge(_ http.ResponseWriter, r *http.Request, c tossCall) (int, any, bool) {
	var in struct {
		CustomerKey         string `json:"customerKey"`
		Amount              *int64 `json:"amount"`
		OrderID             string `json:"orderId"`
		OrderName           string `json:"orderName"`
		CardInstallmentPlan *int   `json:"cardInstallmentPlan"`
	}
	if json.Unmarshal(c.body, &in) != nil || in.Amount == nil || !tossOrderIDRe.MatchString(in.OrderID) ||
		in.OrderName == "" || len([]rune(in.OrderName)) > 100 {
		return tossFail("INVALID_REQUEST")
	}
	if *in.Amount < 100 {
		return tossFail("BELOW_MINIMUM_AMOUNT")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.toss.keys[r.PathValue("billingKey")]
	switch {
	case !ok || k.mid != c.mid:
		return tossFail("INVALID_BILL_KEY_REQUEST")
	case k.deleted:
		return tossFail("ALREADY_REMOVED_BILLING_KEY")
	case k.billing.CustomerKey != in.CustomerKey:
		return tossFail("NOT_MATCHES_CUSTOMER_KEY")
	}
	ok2 := [2]string{c.mid, in.OrderID}
	if prev, ok := s.toss.orders[ok2]; ok && prev.Status != "ABORTED" {
		return tossFail("DUPLICATED_ORDER_ID")
	}
	if s.chance(s.cfg.Load().ErrorRate) || k.behaviour == bPGError {
		s.stats.errors.Add(1)
		return tossFail("FAILED_INTERNAL_SYSTEM_PROCESSING")
	}
	now := tossNow(s)
	s.seq++
	amount := *in.Amount
	p := &tossPayment{
		MID: c.mid, Version: "2022-11-16", PaymentKey: tossPaymentKey(c.mid, s.clock()),
		OrderID: in.OrderID, OrderName: in.OrderName, RequestedAt: now, Type: "BILLING",
		Country: "KR", Currency: "KRW", Method: "카드", TotalAmount: amount, mid: c.mid,
		IsPartialCancelable: true,
	}
	p.Checkout = &tossURL{URL: "https://api.tosspayments.com/v1/payments/" + p.PaymentKey + "/checkout"}
	months := 0
	if in.CardInstallmentPlan != nil {
		months = *in.CardInstallmentPlan
	}
	f, acqStatus := false, "READY"
	card := *k.billing.Card
	card.InstallmentPlanMonths, card.IsInterestFree, card.UseCardPoint = &months, &f, &f
	card.AcquireStatus, card.Amount = &acqStatus, &amount
	p.Card = &card
	led := &charge{Charge: Charge{
		IdempotencyKey: in.OrderID, Provider: TossProvider, MID: c.mid, Sandbox: c.test,
		Amount: amount, Currency: "KRW", BillingKey: k.billing.BillingKey, OrderName: in.OrderName,
		CreatedAt: s.clock(), PGTID: p.PaymentKey, Card: CardInfoFor(strings.ReplaceAll(k.cardNumber, "*", "0")),
	}}
	led.Card.CardNumber = k.cardNumber
	p.ledger = led
	var decline string
	switch k.behaviour {
	case bInsufficient:
		decline = "REJECT_CARD_PAYMENT"
	case bBillingDeclines:
		decline = "REJECT_CARD_COMPANY"
	}
	if decline != "" {
		e := tossError(decline)
		p.Status, p.Failure, p.BalanceAmount = "ABORTED", &tossFailure{Code: e.Code, Message: e.Message}, 0
		p.IsPartialCancelable = false
		led.Status, led.DeclineCode, led.DeclineReason = pg.ChargeDeclined, e.Code, e.Message
		led.Retryable = true
		s.tossStore(p)
		s.stats.declined.Add(1)
		return e.status, e, false
	}
	approveNo := fmt.Sprintf("%08d", (s.seq*7919+1234)%100000000)
	p.Card.ApproveNo = &approveNo
	p.Status, p.ApprovedAt, p.BalanceAmount = "DONE", &now, amount
	p.Vat = (amount + 5) / 11
	p.SuppliedAmount = amount - p.Vat
	p.Receipt = &tossURL{URL: "https://dashboard-sandbox.tosspayments.com/receipt/redirection?transactionId=" + p.PaymentKey + "&ref=PX"}
	tx := tossTxKey(&s.toss.txSeq)
	p.LastTransactionKey = &tx
	led.Status, led.ApplyNum, led.ReceiptURL = pg.ChargeApproved, approveNo, p.Receipt.URL
	s.tossStore(p)
	s.stats.approved.Add(1)
	lose := k.behaviour == bLost || s.chance(s.cfg.Load().LostRate)
	if lose {
		s.stats.lost.Add(1)
	}
	return http.StatusOK, p, lose
}

// tossStore records a payment; s.mu is held.
func (s *Server) tossStore(p *tossPayment) {
	s.toss.payments[p.PaymentKey] = p
	s.toss.orders[[2]string{p.mid, p.OrderID}] = p
	s.order = append(s.order, p.ledger)
	s.byTID[p.PaymentKey] = p.ledger
	s.stats.charges.Add(1)
}

// tossPaymentKey has the recent shape: 5 mId characters, the time, 5 more.
func tossPaymentKey(mid string, now time.Time) string {
	return mid[:5] + now.In(kst).Format("20060102150405") + tossToken(5)
}

func tossTxKey(seq *uint64) string {
	*seq++
	h := sha256.Sum256(fmt.Appendf(nil, "%d|%s", *seq, rand.Text()))
	return strings.ToUpper(hex.EncodeToString(h[:16]))
}

func (s *Server) tossGetOrder(_ http.ResponseWriter, r *http.Request, c tossCall) (int, any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.toss.orders[[2]string{c.mid, r.PathValue("orderId")}]
	if !ok {
		return tossFail("NOT_FOUND_PAYMENT")
	}
	return http.StatusOK, tossView(p), false
}

func (s *Server) tossGetPayment(_ http.ResponseWriter, r *http.Request, c tossCall) (int, any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.toss.payments[r.PathValue("paymentKey")]
	if !ok || p.mid != c.mid {
		return tossFail("NOT_FOUND_PAYMENT")
	}
	return http.StatusOK, tossView(p), false
}

// tossView copies a payment so the answer does not race later cancels.
func tossView(p *tossPayment) tossPayment {
	v := *p
	v.Cancels = append([]tossCancel(nil), p.Cancels...)
	return v
}

func (s *Server) tossCancel(_ http.ResponseWriter, r *http.Request, c tossCall) (int, any, bool) {
	var in struct {
		CancelReason string `json:"cancelReason"`
		CancelAmount *int64 `json:"cancelAmount"`
	}
	if json.Unmarshal(c.body, &in) != nil || in.CancelReason == "" || len([]rune(in.CancelReason)) > 200 ||
		in.CancelAmount != nil && *in.CancelAmount <= 0 {
		return tossFail("INVALID_REQUEST")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.toss.payments[r.PathValue("paymentKey")]
	if !ok || p.mid != c.mid || p.Status == "ABORTED" {
		return tossFail("NOT_FOUND_PAYMENT")
	}
	if p.Status == "CANCELED" {
		return tossFail("ALREADY_CANCELED_PAYMENT")
	}
	amt := p.BalanceAmount
	if in.CancelAmount != nil {
		amt = *in.CancelAmount
	}
	if amt > p.BalanceAmount || p.BalanceAmount == 0 {
		return tossFail("NOT_CANCELABLE_AMOUNT")
	}
	if s.chance(s.cfg.Load().ErrorRate) {
		s.stats.errors.Add(1)
		return tossFail("FAILED_INTERNAL_SYSTEM_PROCESSING")
	}
	tx := tossTxKey(&s.toss.txSeq)
	p.BalanceAmount -= amt
	p.Cancels = append(p.Cancels, tossCancel{
		CancelReason: in.CancelReason, CanceledAt: tossNow(s), CancelAmount: amt,
		RefundableAmount: p.BalanceAmount, TransactionKey: tx, CancelStatus: "DONE",
	})
	p.LastTransactionKey = &tx
	if len(p.Cancels) == 1 && p.BalanceAmount == 0 {
		p.Status = "CANCELED"
	} else {
		// Partial cancels stay PARTIAL_CANCELED even at zero balance.
		p.Status = "PARTIAL_CANCELED"
	}
	p.Vat = (p.BalanceAmount + 5) / 11
	p.SuppliedAmount = p.BalanceAmount - p.Vat
	led := p.ledger
	led.Cancelled += amt
	led.Cancellations = append(led.Cancellations, Cancellation{
		IdempotencyKey: r.Header.Get("Idempotency-Key"), PGTID: tx, Amount: amt, Reason: in.CancelReason, CancelledAt: s.clock(),
	})
	s.stats.cancels.Add(1)
	return http.StatusOK, tossView(p), false
}
