// Package tosspayments is the pg.Connector for Toss Payments automatic
// billing (자동결제): key-in issuance, charges by billing key, lookups by
// orderId and cancels, over Toss's public v1 REST API.
//
// How a repeat is made safe: every POST carries an Idempotency-Key header
// (Toss replays the first answer for 15 days, whatever the body), and a
// charge's orderId is derived from our idempotency key, so even a repeat
// after the Idempotency-Key expired is refused as DUPLICATED_ORDER_ID rather
// than charged twice.
//
// How an unknown outcome is resolved: GET /v1/payments/orders/{orderId} with
// the same derived orderId. A refund is found among the payment's cancels by
// the reference tag its cancelReason carries.
package tosspayments

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/billkey/billkey/internal/pg"
)

// Provider is the i'mport pg code of this connector.
const Provider = "tosspayments"

// DefaultBaseURL is Toss's production API host (test keys use it too).
const DefaultBaseURL = "https://api.tosspayments.com"

// DefaultTimeout follows Toss: billing approval can take up to 60 s.
const DefaultTimeout = 60 * time.Second

// Config is one Toss contract (one MID): its secret key and where to reach it.
type Config struct {
	BaseURL   string
	SecretKey string // test_sk_… or live_sk_…
	Timeout   time.Duration
	// Transport replaces the default HTTP transport (tests).
	Transport http.RoundTripper
}

// Client implements pg.Connector for one Toss contract.
type Client struct {
	base    string
	auth    string
	timeout time.Duration
	hc      *http.Client
}

var _ pg.Connector = (*Client)(nil)

// New checks cfg and makes a client.
func New(cfg Config) (*Client, error) {
	if cfg.SecretKey == "" {
		return nil, errors.New("tosspayments: secret key is required")
	}
	if strings.ContainsAny(cfg.SecretKey, ": \t\r\n") {
		return nil, errors.New("tosspayments: secret key has a colon or whitespace (copied with extra characters?)")
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	if _, err := url.Parse(base); err != nil {
		return nil, fmt.Errorf("tosspayments: base URL: %w", err)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	tr := cfg.Transport
	if tr == nil {
		tr = &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
		}
	}
	return &Client{
		base:    base,
		auth:    "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.SecretKey+":")),
		timeout: timeout,
		hc:      &http.Client{Transport: tr},
	}, nil
}

// IsLiveKey reports whether a secret key moves real money.
func IsLiveKey(secretKey string) bool { return strings.HasPrefix(secretKey, "live_") }

// APIError is Toss's error body, {"code","message"}.
type APIError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("tosspayments HTTP %d: [%s] %s", e.Status, e.Code, e.Message)
}

type kind int

const (
	mutating kind = iota
	lookup
)

// do sends one request. Transport failures after the connection was made
// wrap pg.ErrUnknownOutcome; a failure to connect at all is a *pg.Error for
// a mutating call (nothing reached Toss) and unknown for a lookup.
func (c *Client) do(ctx context.Context, k kind, method, path, idemKey string, in, out any) error {
	status, raw, err := pg.Exchange(ctx, c.hc, c.timeout, method, c.base+path, in, func(h http.Header) {
		h.Set("Authorization", c.auth)
		h.Set("Accept", "application/json")
		if idemKey != "" {
			// With this header net/http may resend the POST on a dead pooled
			// connection; that is safe here because Toss dedupes on it.
			h.Set("Idempotency-Key", idemKey)
		}
	})
	var te *pg.TransportError
	switch {
	case errors.As(err, &te) && te.NeverSent && k == mutating:
		return &pg.Error{Provider: Provider, Code: "NETWORK", Message: "토스페이먼츠 서버에 연결할 수 없습니다: " + te.Reason()}
	case te != nil:
		return fmt.Errorf("%w: tosspayments %s %s: %w", pg.ErrUnknownOutcome, method, path, err)
	case err != nil:
		return err
	}
	if status >= 200 && status < 300 {
		if out == nil || len(bytes.TrimSpace(raw)) == 0 {
			return nil
		}
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%w: tosspayments %s %s: bad response: %w", pg.ErrUnknownOutcome, method, path, err)
		}
		return nil
	}
	ae := &APIError{Status: status}
	if json.Unmarshal(raw, ae) != nil || ae.Code == "" {
		// Not Toss's own answer (a proxy, a load balancer).
		return fmt.Errorf("%w: tosspayments %s %s: HTTP %d", pg.ErrUnknownOutcome, method, path, status)
	}
	return ae
}

// outcomeUnknown lists the answers after which only a lookup can tell what
// happened: a repeat still running, or an order Toss already knows.
var outcomeUnknown = map[string]bool{
	"IDEMPOTENT_REQUEST_PROCESSING": true,
	"DUPLICATED_ORDER_ID":           true,
	"ALREADY_PROCESSED_PAYMENT":     true,
}

// softDeclines may clear on a later try (funds, limits, a card company's
// transient trouble); dunning retries these. REJECT_CARD_COMPANY is counted
// soft: the issuer's refusal is often temporary, and dunning gives up after
// its configured tries anyway.
var softDeclines = map[string]bool{
	"REJECT_CARD_PAYMENT":            true,
	"REJECT_ACCOUNT_PAYMENT":         true,
	"REJECT_CARD_COMPANY":            true,
	"EXCEED_MAX_DAILY_PAYMENT_COUNT": true,
	"EXCEED_MAX_PAYMENT_AMOUNT":      true,
	"EXCEED_MAX_ONE_DAY_AMOUNT":      true,
	"EXCEED_MAX_AMOUNT":              true,
	"NOT_AVAILABLE_PAYMENT":          true,
	"PROVIDER_ERROR":                 true,
	"CARD_PROCESSING_ERROR":          true,
	"FORBIDDEN_CONSECUTIVE_REQUEST":  true,
}

// hardDeclines need a new card.
var hardDeclines = map[string]bool{
	"INVALID_STOPPED_CARD":        true,
	"INVALID_CARD_LOST_OR_STOLEN": true,
	"INVALID_CARD_EXPIRATION":     true,
	"INVALID_CARD_NUMBER":         true,
	"INVALID_REJECT_CARD":         true,
	"NOT_SUPPORTED_CARD_TYPE":     true,
	"NOT_REGISTERED_CARD_COMPANY": true,
	"INVALID_BILL_KEY_REQUEST":    true,
	"NOT_FOUND_BILLING":           true,
	"ALREADY_REMOVED_BILLING_KEY": true,
	"EXCEED_MAX_AUTH_COUNT":       true,
	"FDS_ERROR":                   true,
}

// reason is the V1 fail_reason: Toss's own text with its code, the way
// Korean PGs print theirs.
func reason(code, message string) string {
	return "[" + code + "] " + message
}

func pgError(ae *APIError) *pg.Error {
	return &pg.Error{Provider: Provider, Code: ae.Code, Message: reason(ae.Code, ae.Message),
		Unsupported: ae.Code == "NOT_SUPPORTED_METHOD"}
}

// classify turns an error of a mutating call into what the charge engine
// branches on: a *pg.Error (nothing happened) or pg.ErrUnknownOutcome.
func classify(err error) error {
	var ae *APIError
	if !errors.As(err, &ae) {
		return err
	}
	if ae.Status >= 500 || outcomeUnknown[ae.Code] {
		return fmt.Errorf("%w: %w", pg.ErrUnknownOutcome, ae)
	}
	return pgError(ae)
}

var orderIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{6,64}$`)

// OrderID is the Toss orderId of the charge with our idempotency key: the
// key itself when Toss accepts it, else a digest of it. Deterministic, so a
// lookup after a lost answer asks for the very order the charge used.
func OrderID(idempotencyKey string) string {
	if orderIDRe.MatchString(idempotencyKey) {
		return idempotencyKey
	}
	sum := sha256.Sum256([]byte(idempotencyKey))
	return "bk_" + hex.EncodeToString(sum[:20])
}

// customerKey is derived from the issuance's idempotency key: Toss allows
// only [A-Za-z0-9-_=.@] and our customer_uid may hold anything.
func customerKey(idempotencyKey string) string {
	sum := sha256.Sum256([]byte("customer|" + idempotencyKey))
	return "bk-" + hex.EncodeToString(sum[:16])
}

// Toss charges need both the billingKey and the customerKey it was issued
// for, so the billing key Billkey seals is the pair.
func joinKey(customerKey, billingKey string) string { return customerKey + ":" + billingKey }

func splitKey(s string) (customerKey, billingKey string, err error) {
	ck, bk, ok := strings.Cut(s, ":")
	if !ok || ck == "" || bk == "" {
		return "", "", &pg.Error{Provider: Provider, Code: "INVALID_BILL_KEY_REQUEST", Message: "토스페이먼츠 빌링키 형식이 아닙니다."}
	}
	return ck, bk, nil
}

type cardIn struct {
	CustomerKey            string `json:"customerKey"`
	CardNumber             string `json:"cardNumber"`
	CardExpirationYear     string `json:"cardExpirationYear"`
	CardExpirationMonth    string `json:"cardExpirationMonth"`
	CardPassword           string `json:"cardPassword,omitempty"`
	CustomerIdentityNumber string `json:"customerIdentityNumber,omitempty"`
}

// Billing is Toss's billing-key object.
type Billing struct {
	MID         string   `json:"mId"`
	CustomerKey string   `json:"customerKey"`
	BillingKey  string   `json:"billingKey"`
	Method      string   `json:"method"`
	Card        *CardObj `json:"card"`
	CardCompany string   `json:"cardCompany"`
	CardNumber  string   `json:"cardNumber"`
}

// CardObj is the card part of Billing and Payment.
type CardObj struct {
	IssuerCode            string       `json:"issuerCode"`
	AcquirerCode          *string      `json:"acquirerCode"`
	Number                string       `json:"number"`
	CardType              string       `json:"cardType"`
	OwnerType             string       `json:"ownerType"`
	ApproveNo             string       `json:"approveNo"`
	InstallmentPlanMonths int          `json:"installmentPlanMonths"`
	Amount                *json.Number `json:"amount"`
}

// IssueBillingKey stores a card by key-in (the separate key-in contract).
func (c *Client) IssueBillingKey(ctx context.Context, req pg.IssueKeyRequest) (*pg.IssueKeyResult, error) {
	in, err := cardBody(req.Card)
	if err != nil {
		return nil, err
	}
	in.CustomerKey = customerKey(req.IdempotencyKey)
	var out Billing
	if err := c.do(ctx, mutating, http.MethodPost, "/v1/billing/authorizations/card", req.IdempotencyKey, in, &out); err != nil {
		var ae *APIError
		if errors.As(err, &ae) {
			// A refused issuance charged nothing whatever the status.
			return nil, pgError(ae)
		}
		return nil, err
	}
	if out.BillingKey == "" {
		return nil, fmt.Errorf("%w: tosspayments issued no billingKey", pg.ErrUnknownOutcome)
	}
	ck := out.CustomerKey
	if ck == "" {
		ck = in.CustomerKey
	}
	info := cardInfo(out.Card)
	if info.CardNumber == "" {
		info.CardNumber = out.CardNumber
	}
	if info.CardName == "" && out.CardCompany != "" {
		info.CardName = out.CardCompany + "카드"
	}
	return &pg.IssueKeyResult{BillingKey: joinKey(ck, out.BillingKey), Card: info}, nil
}

func cardBody(card pg.Card) (*cardIn, error) {
	y, m, ok := strings.Cut(card.Expiry, "-")
	if !ok || len(y) != 4 || len(m) != 2 {
		return nil, &pg.Error{Provider: Provider, Code: "INVALID_CARD_EXPIRATION", Message: "유효기간은 YYYY-MM 형식이어야 합니다."}
	}
	return &cardIn{
		CardNumber: card.Number, CardExpirationYear: y[2:], CardExpirationMonth: m,
		CardPassword: card.Pwd2Digit, CustomerIdentityNumber: card.Birth,
	}, nil
}

// DeleteBillingKey removes the key at Toss; a key already removed is fine.
func (c *Client) DeleteBillingKey(ctx context.Context, _ pg.Target, billingKey string) error {
	_, bk, err := splitKey(billingKey)
	if err != nil {
		return err
	}
	err = c.do(ctx, mutating, http.MethodDelete, "/v1/billing/"+url.PathEscape(bk), "", nil, nil)
	var ae *APIError
	if errors.As(err, &ae) && ae.Code == "ALREADY_REMOVED_BILLING_KEY" {
		return nil
	}
	return classify(err)
}

type chargeIn struct {
	CustomerKey         string `json:"customerKey"`
	Amount              int64  `json:"amount"`
	OrderID             string `json:"orderId"`
	OrderName           string `json:"orderName"`
	CardInstallmentPlan *int   `json:"cardInstallmentPlan,omitempty"`
}

// Payment is Toss's payment object (fields Billkey reads).
type Payment struct {
	PaymentKey    string                `json:"paymentKey"`
	Type          string                `json:"type"`
	OrderID       string                `json:"orderId"`
	Status        string                `json:"status"`
	Currency      string                `json:"currency"`
	TotalAmount   json.Number           `json:"totalAmount"`
	BalanceAmount json.Number           `json:"balanceAmount"`
	ApprovedAt    *string               `json:"approvedAt"`
	Card          *CardObj              `json:"card"`
	Cancels       []Cancel              `json:"cancels"`
	Receipt       *struct{ URL string } `json:"receipt"`
	Failure       *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"failure"`
}

// Cancel is one entry of Payment.cancels.
type Cancel struct {
	CancelAmount   json.Number `json:"cancelAmount"`
	CancelReason   string      `json:"cancelReason"`
	CanceledAt     string      `json:"canceledAt"`
	TransactionKey string      `json:"transactionKey"`
	CancelStatus   string      `json:"cancelStatus"`
}

// Charge charges a billing key. A card refusal is a declined result; a
// request Toss rejects as malformed is a *pg.Error. Key-in charges without a
// stored key issue a key for the card, charge it, and delete it again.
func (c *Client) Charge(ctx context.Context, req pg.ChargeRequest) (*pg.ChargeResult, error) {
	if req.Currency != "" && req.Currency != "KRW" {
		return nil, &pg.Error{Provider: Provider, Code: "NOT_SUPPORTED_CURRENCY", Unsupported: true,
			Message: "토스페이먼츠 자동결제는 원화(KRW)만 지원합니다."}
	}
	key := req.BillingKey
	if key == "" {
		if req.Card == nil {
			return nil, &pg.Error{Provider: Provider, Code: "INVALID_REQUEST", Message: "빌링키나 카드 정보가 필요합니다."}
		}
		issued, err := c.IssueBillingKey(ctx, pg.IssueKeyRequest{Target: req.Target, IdempotencyKey: "keyin-" + req.IdempotencyKey, Card: *req.Card})
		if err != nil {
			var pe *pg.Error
			if errors.As(err, &pe) && (softDeclines[pe.Code] || hardDeclines[pe.Code]) {
				return &pg.ChargeResult{Status: pg.ChargeDeclined, DeclineCode: pe.Code, DeclineReason: pe.Message,
					Retryable: softDeclines[pe.Code], Amount: req.Amount}, nil
			}
			return nil, err
		}
		key = issued.BillingKey
		defer func() { _ = c.DeleteBillingKey(context.WithoutCancel(ctx), req.Target, key) }()
	}
	ck, bk, err := splitKey(key)
	if err != nil {
		return nil, err
	}
	in := chargeIn{CustomerKey: ck, Amount: req.Amount, OrderID: OrderID(req.IdempotencyKey), OrderName: orderName(req.OrderName)}
	if req.CardQuota >= 2 {
		q := req.CardQuota
		in.CardInstallmentPlan = &q
	}
	var out Payment
	err = c.do(ctx, mutating, http.MethodPost, "/v1/billing/"+url.PathEscape(bk), req.IdempotencyKey, in, &out)
	if err == nil {
		return chargeResult(&out)
	}
	var ae *APIError
	if errors.As(err, &ae) && (softDeclines[ae.Code] || hardDeclines[ae.Code]) && ae.Status < 500 {
		return &pg.ChargeResult{Status: pg.ChargeDeclined, DeclineCode: ae.Code, DeclineReason: reason(ae.Code, ae.Message),
			Retryable: softDeclines[ae.Code], Amount: req.Amount}, nil
	}
	return nil, classify(err)
}

func orderName(s string) string {
	if s == "" {
		return "정기결제"
	}
	if r := []rune(s); len(r) > 100 {
		return string(r[:100])
	}
	return s
}

func chargeResult(p *Payment) (*pg.ChargeResult, error) {
	total, err := won(p.TotalAmount)
	if err != nil {
		return nil, err
	}
	res := &pg.ChargeResult{PGTID: p.PaymentKey, Amount: total, Card: cardInfo(p.Card)}
	if p.Receipt != nil {
		res.ReceiptURL = p.Receipt.URL
	}
	switch p.Status {
	case "DONE", "CANCELED", "PARTIAL_CANCELED":
		balance, err := won(p.BalanceAmount)
		if err != nil {
			return nil, err
		}
		res.Status, res.Cancelled = pg.ChargeApproved, total-balance
		if p.Card != nil {
			res.ApplyNum = p.Card.ApproveNo
		}
		if p.ApprovedAt != nil {
			res.ApprovedAt, _ = time.Parse(time.RFC3339, *p.ApprovedAt)
		}
	case "ABORTED", "EXPIRED":
		res.Status = pg.ChargeDeclined
		if p.Failure != nil {
			res.DeclineCode, res.DeclineReason = p.Failure.Code, reason(p.Failure.Code, p.Failure.Message)
			res.Retryable = softDeclines[p.Failure.Code]
		}
	default:
		// READY / IN_PROGRESS: Toss has not decided yet.
		return nil, fmt.Errorf("%w: tosspayments payment %s is %s", pg.ErrUnknownOutcome, p.OrderID, p.Status)
	}
	return res, nil
}

// won reads a KRW amount; Toss sends amounts as JSON numbers that may carry
// fractions in other currencies, which billing never uses.
func won(n json.Number) (int64, error) {
	if n == "" {
		return 0, nil
	}
	v, err := n.Int64()
	if err != nil {
		return 0, fmt.Errorf("%w: tosspayments amount %q is not whole won", pg.ErrUnknownOutcome, n)
	}
	return v, nil
}

// Toss issuer codes of the domestic card companies, with the KFTC codes the
// V1 card_code field uses.
var issuers = map[string]struct{ name, kftc string }{
	"41": {"신한카드", "366"}, "51": {"삼성카드", "365"}, "61": {"현대카드", "367"},
	"11": {"KB국민카드", "381"}, "71": {"롯데카드", "368"}, "21": {"하나카드", "374"},
	"31": {"BC카드", "361"}, "91": {"NH농협카드", "371"}, "W1": {"우리카드", "041"},
	"36": {"씨티카드", "370"}, "15": {"카카오뱅크", ""}, "24": {"토스뱅크", ""},
	"3A": {"케이뱅크", ""}, "3K": {"기업BC", ""}, "33": {"우리(BC)", ""}, "34": {"수협", ""},
	"35": {"전북은행", ""}, "37": {"우체국", ""}, "38": {"새마을금고", ""}, "39": {"저축은행", ""},
	"42": {"제주은행", ""}, "46": {"광주은행", ""}, "30": {"KDB산업은행", ""}, "62": {"신협", ""},
}

func cardInfo(c *CardObj) pg.CardInfo {
	if c == nil {
		return pg.CardInfo{}
	}
	info := pg.CardInfo{CardNumber: c.Number}
	if is, ok := issuers[c.IssuerCode]; ok {
		info.CardName, info.CardCode = is.name, is.kftc
	}
	if c.CardType == "체크" {
		info.CardType = 1
	}
	return info
}

// LookupCharge finds the charge by its derived orderId.
func (c *Client) LookupCharge(ctx context.Context, _ pg.Target, idempotencyKey string) (*pg.ChargeResult, error) {
	p, err := c.payment(ctx, idempotencyKey)
	if err != nil {
		return nil, err
	}
	return chargeResult(p)
}

func (c *Client) payment(ctx context.Context, chargeKey string) (*Payment, error) {
	var out Payment
	err := c.do(ctx, lookup, http.MethodGet, "/v1/payments/orders/"+url.PathEscape(OrderID(chargeKey)), "", nil, &out)
	var ae *APIError
	switch {
	case err == nil:
		return &out, nil
	case errors.As(err, &ae) && ae.Status == http.StatusNotFound && (ae.Code == "NOT_FOUND_PAYMENT" || ae.Code == "NOT_FOUND"):
		return nil, pg.ErrNoSuchCharge
	case errors.As(err, &ae):
		return nil, fmt.Errorf("%w: lookup failed: %w", pg.ErrUnknownOutcome, ae)
	default:
		return nil, err
	}
}

type cancelIn struct {
	CancelReason string `json:"cancelReason"`
	CancelAmount *int64 `json:"cancelAmount,omitempty"`
}

// refTag marks a cancelReason with our refund's idempotency key: Toss has no
// lookup by Idempotency-Key, and this is how LookupCancel recognises it.
func refTag(idempotencyKey string) string { return " [ref " + idempotencyKey + "]" }

// Cancel refunds req.Amount (0: the whole balance) of the charge.
func (c *Client) Cancel(ctx context.Context, req pg.CancelRequest) (*pg.CancelResult, error) {
	p, err := c.payment(ctx, req.ChargeKey)
	if errors.Is(err, pg.ErrNoSuchCharge) {
		return nil, fmt.Errorf("%w: %w", pg.ErrNoSuchCharge,
			&pg.Error{Provider: Provider, Code: "NOT_FOUND_PAYMENT", Message: "[NOT_FOUND_PAYMENT] 존재하지 않는 결제 정보 입니다."})
	}
	if err != nil {
		// Nothing was sent to cancel: the refund did not happen.
		return nil, &pg.Error{Provider: Provider, Code: "LOOKUP_FAILED", Message: "토스페이먼츠 결제 조회에 실패해 취소하지 못했습니다: " + err.Error()}
	}
	why := req.Reason
	if why == "" {
		why = "고객 요청 취소"
	}
	tag := refTag(req.IdempotencyKey)
	if r := []rune(why); len(r)+len([]rune(tag)) > 200 {
		why = string(r[:200-len([]rune(tag))])
	}
	in := cancelIn{CancelReason: why + tag}
	if req.Amount > 0 {
		a := req.Amount
		in.CancelAmount = &a
	}
	var out Payment
	if err := c.do(ctx, mutating, http.MethodPost, "/v1/payments/"+url.PathEscape(p.PaymentKey)+"/cancel", req.IdempotencyKey, in, &out); err != nil {
		return nil, classify(err)
	}
	if cr := findCancel(&out, req.IdempotencyKey); cr != nil {
		return cr, nil
	}
	return nil, fmt.Errorf("%w: tosspayments cancel answer has no cancel tagged %s", pg.ErrUnknownOutcome, req.IdempotencyKey)
}

func findCancel(p *Payment, idempotencyKey string) *pg.CancelResult {
	tag := refTag(idempotencyKey)
	for i := len(p.Cancels) - 1; i >= 0; i-- {
		x := p.Cancels[i]
		if !strings.HasSuffix(x.CancelReason, tag) || x.CancelStatus == "ABORTED" {
			continue
		}
		at, _ := time.Parse(time.RFC3339, x.CanceledAt)
		cr := &pg.CancelResult{PGTID: x.TransactionKey, CancelledAt: at}
		if p.Receipt != nil {
			cr.ReceiptURL = p.Receipt.URL
		}
		return cr
	}
	return nil
}

// LookupCancel finds the refund among the charge's cancels by its tag.
func (c *Client) LookupCancel(ctx context.Context, _ pg.Target, chargeKey, idempotencyKey string) (*pg.CancelResult, error) {
	p, err := c.payment(ctx, chargeKey)
	if err != nil {
		return nil, err
	}
	if cr := findCancel(p, idempotencyKey); cr != nil {
		return cr, nil
	}
	return nil, pg.ErrNoSuchCharge
}
