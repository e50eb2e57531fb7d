// Package iamport is the pg.Connector that forwards to a merchant's own
// upstream PortOne V1 (i'mport) account: key issuance, billing-key charges
// (`again`), lookups and cancels over the public REST API at
// api.iamport.kr (or any i'mport-compatible host, such as another Billkey).
//
// How a repeat is made safe: the upstream merchant_uid of a charge is
// derived from our idempotency key, and i'mport pays a merchant_uid at most
// once; a repeat is refused as a duplicate order and resolved by lookup.
// A cancel carries `checksum` (the balance before it), so a blind repeat of
// a refund that already went through is refused instead of refunding twice,
// and its reason carries a reference tag by which it is found again.
//
// How an unknown outcome is resolved: GET /payments/find/{merchant_uid} with
// the same derived merchant_uid (and the tag in cancel_history for refunds).
package iamport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/billkey/billkey/internal/pg"
)

// Provider is the pg code of this connector.
const Provider = "iamport"

// DefaultAPIURL is PortOne V1's API host.
const DefaultAPIURL = "https://api.iamport.kr"

// DefaultTimeout bounds one upstream call.
const DefaultTimeout = 30 * time.Second

// Config is one upstream i'mport account.
type Config struct {
	APIURL    string
	ImpKey    string
	ImpSecret string
	// PG is the upstream `pg` value ("provider" or "provider.mid") sent
	// with issuance; empty uses the upstream account's default channel.
	PG        string
	Timeout   time.Duration
	Transport http.RoundTripper
	// Now is the clock token expiry is judged by (tests); default time.Now.
	Now func() time.Time
}

// Client implements pg.Connector for one upstream account.
type Client struct {
	base    string
	cfg     Config
	timeout time.Duration
	hc      *http.Client
	now     func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
}

var _ pg.Connector = (*Client)(nil)

// New checks cfg and makes a client.
func New(cfg Config) (*Client, error) {
	if cfg.ImpKey == "" || cfg.ImpSecret == "" {
		return nil, errors.New("iamport: imp_key and imp_secret are required")
	}
	base := strings.TrimRight(cfg.APIURL, "/")
	if base == "" {
		base = DefaultAPIURL
	}
	if u, err := url.Parse(base); err != nil || u.Host == "" {
		return nil, fmt.Errorf("iamport: API URL %q is not an absolute URL", cfg.APIURL)
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
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Client{base: base, cfg: cfg, timeout: timeout, hc: &http.Client{Transport: tr}, now: now}, nil
}

// envelope is i'mport's {code, message, response}.
type envelope struct {
	Code     int             `json:"code"`
	Message  *string         `json:"message"`
	Response json.RawMessage `json:"response"`
}

func (e *envelope) text() string {
	if e.Message == nil {
		return ""
	}
	return *e.Message
}

// APIError is an upstream answer with code ≠ 0 (or a non-2xx status).
type APIError struct {
	Status  int
	Code    int
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("iamport HTTP %d code %d: %s", e.Status, e.Code, e.Message)
}

var errUnauthorized = errors.New("iamport: unauthorized")

// accessToken follows i'mport's reuse rule: a token is good until its
// expired_at; asking again in its last minute extends it, so we renew a
// minute early and all callers share one token.
func (c *Client) accessToken(ctx context.Context, force bool) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !force && c.token != "" && c.now().Add(time.Minute).Before(c.expires) {
		return c.token, nil
	}
	var out struct {
		AccessToken string `json:"access_token"`
		Now         int64  `json:"now"`
		ExpiredAt   int64  `json:"expired_at"`
	}
	err := c.call(ctx, http.MethodPost, "/users/getToken", "", map[string]string{"imp_key": c.cfg.ImpKey, "imp_secret": c.cfg.ImpSecret}, &out)
	if err != nil {
		if errors.Is(err, errUnauthorized) {
			return "", &pg.Error{Provider: Provider, Code: "UNAUTHORIZED", Message: "i'mport 인증에 실패했습니다: imp_key/imp_secret을 확인하세요."}
		}
		return "", err
	}
	if out.AccessToken == "" {
		return "", fmt.Errorf("iamport: getToken returned no access_token")
	}
	// Judge expiry on our clock, by the lifetime the upstream granted.
	life := time.Duration(out.ExpiredAt-out.Now) * time.Second
	if life <= 0 {
		life = 30 * time.Minute
	}
	c.token, c.expires = out.AccessToken, c.now().Add(life)
	return c.token, nil
}

// call sends one request and decodes the envelope's response into out.
// Transport failures after connecting wrap pg.ErrUnknownOutcome; a refused
// connection is a *pg.Error; an upstream code ≠ 0 is an *APIError.
func (c *Client) call(ctx context.Context, method, path, token string, in, out any) error {
	status, raw, err := pg.Exchange(ctx, c.hc, c.timeout, method, c.base+path, in, func(h http.Header) {
		if token != "" {
			h.Set("Authorization", "Bearer "+token)
		}
	})
	var te *pg.TransportError
	switch {
	case errors.As(err, &te) && te.NeverSent:
		return &pg.Error{Provider: Provider, Code: "NETWORK", Message: "i'mport 서버에 연결할 수 없습니다: " + te.Reason()}
	case te != nil:
		return fmt.Errorf("%w: iamport %s %s: %w", pg.ErrUnknownOutcome, method, path, err)
	case err != nil:
		return err
	}
	if status == http.StatusUnauthorized {
		return errUnauthorized
	}
	var env envelope
	if json.Unmarshal(raw, &env) != nil {
		return fmt.Errorf("%w: iamport %s %s: HTTP %d without an i'mport body", pg.ErrUnknownOutcome, method, path, status)
	}
	if status >= 500 {
		return fmt.Errorf("%w: %w", pg.ErrUnknownOutcome, &APIError{Status: status, Code: env.Code, Message: env.text()})
	}
	if env.Code != 0 || status >= 300 {
		return &APIError{Status: status, Code: env.Code, Message: env.text()}
	}
	if out != nil && len(env.Response) > 0 && string(env.Response) != "null" {
		if err := json.Unmarshal(env.Response, out); err != nil {
			return fmt.Errorf("%w: iamport %s %s: bad response: %w", pg.ErrUnknownOutcome, method, path, err)
		}
	}
	return nil
}

// do calls with the cached token, renewing it once on 401: a 401 means the
// upstream refused before doing anything, so the retry is safe.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	tok, err := c.accessToken(ctx, false)
	if err != nil {
		return err
	}
	err = c.call(ctx, method, path, tok, in, out)
	if !errors.Is(err, errUnauthorized) {
		return err
	}
	if tok, err = c.accessToken(ctx, true); err != nil {
		return err
	}
	err = c.call(ctx, method, path, tok, in, out)
	if errors.Is(err, errUnauthorized) {
		return &pg.Error{Provider: Provider, Code: "UNAUTHORIZED", Message: "i'mport가 토큰을 거부했습니다."}
	}
	return err
}

// MerchantUID is the upstream merchant_uid of the charge with our
// idempotency key (i'mport allows 40 characters).
func MerchantUID(idempotencyKey string) string {
	if len(idempotencyKey) <= 37 && !strings.ContainsAny(idempotencyKey, "/?#% ") {
		return "bk-" + idempotencyKey
	}
	sum := sha256.Sum256([]byte(idempotencyKey))
	return "bh-" + hex.EncodeToString(sum[:18])
}

// IdempotencyKeyOf inverts MerchantUID for keys it kept verbatim (ours,
// imp_ + 12 digits, always are), which is how an upstream notification is
// traced back to our attempt.
func IdempotencyKeyOf(merchantUID string) (string, bool) {
	k, ok := strings.CutPrefix(merchantUID, "bk-")
	return k, ok && k != "" && MerchantUID(k) == merchantUID
}

func customerUID(idempotencyKey string) string {
	sum := sha256.Sum256([]byte("customer|" + idempotencyKey))
	return "bk_" + hex.EncodeToString(sum[:20])
}

// Customer is i'mport's billing-key object (fields read here).
type Customer struct {
	CustomerUID string `json:"customer_uid"`
	CardName    string `json:"card_name"`
	CardCode    string `json:"card_code"`
	CardNumber  string `json:"card_number"`
	CardType    *int   `json:"card_type"`
	PGProvider  string `json:"pg_provider"`
}

// Payment is i'mport's payment object (fields read here).
type Payment struct {
	ImpUID        string          `json:"imp_uid"`
	MerchantUID   string          `json:"merchant_uid"`
	Status        string          `json:"status"`
	Amount        json.Number     `json:"amount"`
	CancelAmount  json.Number     `json:"cancel_amount"`
	PGTID         *string         `json:"pg_tid"`
	ApplyNum      *string         `json:"apply_num"`
	CardName      *string         `json:"card_name"`
	CardCode      *string         `json:"card_code"`
	CardNumber    *string         `json:"card_number"`
	CardType      *int            `json:"card_type"`
	FailReason    *string         `json:"fail_reason"`
	PaidAt        int64           `json:"paid_at"`
	ReceiptURL    *string         `json:"receipt_url"`
	CancelHistory []CancelHistory `json:"cancel_history"`
}

// CancelHistory is one refund of a payment.
type CancelHistory struct {
	PGTID          string      `json:"pg_tid"`
	Amount         json.Number `json:"amount"`
	CancelledAt    int64       `json:"cancelled_at"`
	Reason         *string     `json:"reason"`
	ReceiptURL     *string     `json:"receipt_url"`
	CancellationID *string     `json:"cancellation_id"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func pgError(ae *APIError) *pg.Error {
	return &pg.Error{Provider: Provider, Code: fmt.Sprintf("%d", ae.Code), Message: ae.Message}
}

// IssueBillingKey registers the card at the upstream account.
func (c *Client) IssueBillingKey(ctx context.Context, req pg.IssueKeyRequest) (*pg.IssueKeyResult, error) {
	uid := customerUID(req.IdempotencyKey)
	in := map[string]any{
		"card_number": req.Card.Number, "expiry": req.Card.Expiry,
		"birth": req.Card.Birth, "pwd_2digit": req.Card.Pwd2Digit,
	}
	if req.Card.CVC != "" {
		in["cvc"] = req.Card.CVC
	}
	if c.cfg.PG != "" {
		in["pg"] = c.cfg.PG
	}
	var out Customer
	// Registering the same customer_uid again replaces its card, so a
	// repeat is harmless.
	err := c.do(ctx, http.MethodPost, "/subscribe/customers/"+url.PathEscape(uid), in, &out)
	var ae *APIError
	if errors.As(err, &ae) {
		return nil, pgError(ae)
	}
	if err != nil {
		return nil, err
	}
	info := pg.CardInfo{CardName: out.CardName, CardCode: out.CardCode, CardNumber: out.CardNumber}
	if out.CardType != nil {
		info.CardType = *out.CardType
	}
	return &pg.IssueKeyResult{BillingKey: uid, Card: info}, nil
}

// DeleteBillingKey deletes the upstream customer; one already gone is fine.
func (c *Client) DeleteBillingKey(ctx context.Context, _ pg.Target, billingKey string) error {
	err := c.do(ctx, http.MethodDelete, "/subscribe/customers/"+url.PathEscape(billingKey), nil, nil)
	var ae *APIError
	if errors.As(err, &ae) {
		if ae.Status == http.StatusNotFound {
			return nil
		}
		return pgError(ae)
	}
	return err
}

// duplicateOrder recognises i'mport's refusal of a merchant_uid it already
// paid (code 1, "이미 주문이 이루어진 건입니다" / "이미 결제…").
func duplicateOrder(ae *APIError) bool {
	return strings.Contains(ae.Message, "이미 주문") || strings.Contains(ae.Message, "이미 결제") ||
		strings.Contains(ae.Message, "already")
}

// Charge charges the billing key with `again` (or a card with `onetime`).
func (c *Client) Charge(ctx context.Context, req pg.ChargeRequest) (*pg.ChargeResult, error) {
	in := map[string]any{
		"merchant_uid": MerchantUID(req.IdempotencyKey),
		"amount":       req.Amount,
		"name":         orderName(req.OrderName),
	}
	if req.Currency != "" {
		in["currency"] = req.Currency
	}
	if req.CardQuota > 0 {
		in["card_quota"] = req.CardQuota
	}
	path := "/subscribe/payments/again"
	if req.BillingKey != "" {
		in["customer_uid"] = req.BillingKey
	} else {
		if req.Card == nil {
			return nil, &pg.Error{Provider: Provider, Code: "-1", Message: "빌링키나 카드 정보가 필요합니다."}
		}
		path = "/subscribe/payments/onetime"
		in["card_number"], in["expiry"], in["birth"], in["pwd_2digit"] = req.Card.Number, req.Card.Expiry, req.Card.Birth, req.Card.Pwd2Digit
		if c.cfg.PG != "" {
			in["pg"] = c.cfg.PG
		}
	}
	var out Payment
	err := c.do(ctx, http.MethodPost, path, in, &out)
	var ae *APIError
	switch {
	case err == nil:
		return chargeResult(&out)
	case errors.As(err, &ae) && duplicateOrder(ae):
		return nil, fmt.Errorf("%w: upstream already has order %s: %w", pg.ErrUnknownOutcome, in["merchant_uid"], ae)
	case errors.As(err, &ae) && !errors.Is(err, pg.ErrUnknownOutcome):
		return nil, pgError(ae)
	default:
		return nil, err
	}
}

func orderName(s string) string {
	if s == "" {
		return "정기결제"
	}
	return s
}

func chargeResult(p *Payment) (*pg.ChargeResult, error) {
	amount, err := whole(p.Amount)
	if err != nil {
		return nil, err
	}
	res := &pg.ChargeResult{PGTID: str(p.PGTID), ApplyNum: str(p.ApplyNum), Amount: amount, ReceiptURL: str(p.ReceiptURL),
		Card: pg.CardInfo{CardName: str(p.CardName), CardCode: str(p.CardCode), CardNumber: str(p.CardNumber)}}
	if res.PGTID == "" {
		res.PGTID = p.ImpUID
	}
	if p.CardType != nil {
		res.Card.CardType = *p.CardType
	}
	switch p.Status {
	case "paid", "cancelled":
		cancelled, err := whole(p.CancelAmount)
		if err != nil {
			return nil, err
		}
		res.Status, res.Cancelled = pg.ChargeApproved, cancelled
		if p.PaidAt > 0 {
			res.ApprovedAt = time.Unix(p.PaidAt, 0)
		}
	case "failed":
		res.Status, res.DeclineReason = pg.ChargeDeclined, str(p.FailReason)
		// i'mport reports no soft/hard split; insufficient funds and issuer
		// refusals are worth a later try, the words PGs use for them say so.
		res.Retryable = retryableText(res.DeclineReason)
	default:
		// ready: the upstream itself does not know yet.
		return nil, fmt.Errorf("%w: upstream payment %s is %q", pg.ErrUnknownOutcome, p.MerchantUID, p.Status)
	}
	return res, nil
}

func retryableText(reason string) bool {
	for _, w := range []string{"잔액부족", "한도초과", "승인거절", "거래거절 카드사", "일시"} {
		if strings.Contains(reason, w) {
			return !strings.Contains(reason, "유효기간") && !strings.Contains(reason, "분실") && !strings.Contains(reason, "도난")
		}
	}
	return false
}

// whole reads an amount; billing amounts are whole minor units.
func whole(n json.Number) (int64, error) {
	if n == "" {
		return 0, nil
	}
	if v, err := n.Int64(); err == nil {
		return v, nil
	}
	f, err := n.Float64()
	if err != nil || f != float64(int64(f)) {
		return 0, fmt.Errorf("%w: upstream amount %q is not whole", pg.ErrUnknownOutcome, n)
	}
	return int64(f), nil
}

func (c *Client) find(ctx context.Context, chargeKey string) (*Payment, error) {
	var out Payment
	err := c.do(ctx, http.MethodGet, "/payments/find/"+url.PathEscape(MerchantUID(chargeKey)), nil, &out)
	var ae *APIError
	switch {
	case err == nil:
		return &out, nil
	case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
		return nil, pg.ErrNoSuchCharge
	case errors.Is(err, pg.ErrUnknownOutcome):
		return nil, err
	default:
		return nil, fmt.Errorf("%w: upstream lookup: %w", pg.ErrUnknownOutcome, err)
	}
}

// LookupCharge finds the charge by its derived merchant_uid. An upstream
// Billkey that found our request never reached its own PG (we died or hung
// up mid-call) failed it without any card refusing it: that is no charge
// here either, so our reconciler runs the work again instead of recording
// a decline.
func (c *Client) LookupCharge(ctx context.Context, _ pg.Target, idempotencyKey string) (*pg.ChargeResult, error) {
	p, err := c.find(ctx, idempotencyKey)
	if err != nil {
		return nil, err
	}
	if p.Status == "failed" && str(p.FailReason) == pg.NeverReachedReason {
		return nil, fmt.Errorf("%w: upstream payment %s never reached its PG", pg.ErrNoSuchCharge, p.MerchantUID)
	}
	return chargeResult(p)
}

func refTag(idempotencyKey string) string { return " [ref " + idempotencyKey + "]" }

func findCancel(p *Payment, idempotencyKey string) *pg.CancelResult {
	tag := refTag(idempotencyKey)
	for _, h := range p.CancelHistory {
		if strings.HasSuffix(str(h.Reason), tag) {
			return &pg.CancelResult{PGTID: h.PGTID, ReceiptURL: str(h.ReceiptURL), CancelledAt: time.Unix(h.CancelledAt, 0)}
		}
	}
	return nil
}

// Cancel refunds req.Amount (0: the rest) of the charge, guarded by checksum.
func (c *Client) Cancel(ctx context.Context, req pg.CancelRequest) (*pg.CancelResult, error) {
	p, err := c.find(ctx, req.ChargeKey)
	if errors.Is(err, pg.ErrNoSuchCharge) {
		return nil, fmt.Errorf("%w: %w", pg.ErrNoSuchCharge, &pg.Error{Provider: Provider, Code: "-1", Message: "존재하지 않는 결제정보입니다."})
	}
	if err != nil {
		return nil, &pg.Error{Provider: Provider, Code: "LOOKUP_FAILED", Message: "i'mport 결제 조회에 실패해 취소하지 못했습니다: " + err.Error()}
	}
	if done := findCancel(p, req.IdempotencyKey); done != nil {
		return done, nil // a repeat of a refund that went through
	}
	amount, err := whole(p.Amount)
	if err != nil {
		return nil, err
	}
	cancelled, err := whole(p.CancelAmount)
	if err != nil {
		return nil, err
	}
	why := req.Reason
	if why == "" {
		why = "고객 요청 취소"
	}
	in := map[string]any{
		"merchant_uid": MerchantUID(req.ChargeKey),
		"checksum":     amount - cancelled,
		"reason":       why + refTag(req.IdempotencyKey),
	}
	if req.Amount > 0 {
		in["amount"] = req.Amount
	}
	var out Payment
	err = c.do(ctx, http.MethodPost, "/payments/cancel", in, &out)
	var ae *APIError
	switch {
	case err == nil:
	case errors.As(err, &ae) && !errors.Is(err, pg.ErrUnknownOutcome):
		return nil, pgError(ae)
	default:
		return nil, err
	}
	if done := findCancel(&out, req.IdempotencyKey); done != nil {
		return done, nil
	}
	return nil, fmt.Errorf("%w: upstream cancel answer has no refund tagged %s", pg.ErrUnknownOutcome, req.IdempotencyKey)
}

// LookupCancel finds the refund in the payment's cancel_history by its tag.
func (c *Client) LookupCancel(ctx context.Context, _ pg.Target, chargeKey, idempotencyKey string) (*pg.CancelResult, error) {
	p, err := c.find(ctx, chargeKey)
	if err != nil {
		return nil, err
	}
	if done := findCancel(p, idempotencyKey); done != nil {
		return done, nil
	}
	return nil, pg.ErrNoSuchCharge
}

// Notice is what an upstream notification (notice_url) claims; it is never
// trusted as such.
type Notice struct {
	ImpUID      string `json:"imp_uid"`
	MerchantUID string `json:"merchant_uid"`
	Status      string `json:"status"`
}

// VerifyNotice looks the notified payment up at the upstream and returns
// our idempotency key for it with the upstream's verdict, so that the
// reconciler, not the notification, decides the outcome.
func (c *Client) VerifyNotice(ctx context.Context, n Notice) (string, *pg.ChargeResult, error) {
	if n.ImpUID == "" {
		return "", nil, errors.New("iamport notice without imp_uid")
	}
	var p Payment
	if err := c.do(ctx, http.MethodGet, "/payments/"+url.PathEscape(n.ImpUID), nil, &p); err != nil {
		return "", nil, fmt.Errorf("verify notice %s: %w", n.ImpUID, err)
	}
	key, ok := IdempotencyKeyOf(p.MerchantUID)
	if !ok {
		return "", nil, fmt.Errorf("verify notice %s: merchant_uid %q was not made by Billkey", n.ImpUID, p.MerchantUID)
	}
	res, err := chargeResult(&p)
	return key, res, err
}
