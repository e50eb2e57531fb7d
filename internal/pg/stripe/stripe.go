// Package stripe is the pg.Connector for Stripe, through the official
// stripe-go client: a PaymentMethod from the card (or a Stripe token), one
// Customer per billing key, off-session PaymentIntents, and Refunds.
//
// How a repeat is made safe: every POST carries an Idempotency-Key derived
// from ours (Stripe replays the first answer for 24 hours), and stripe-go's
// own network retries reuse it.
//
// How an unknown outcome is resolved: every PaymentIntent and Refund carries
// our idempotency key in its metadata; LookupCharge searches PaymentIntents
// by that metadata and LookupCancel lists the intent's refunds for it.
// Stripe's search index can lag writes by up to a minute, which is why the
// reconciler needs two "not found" answers past the attempt deadline before
// it calls a charge never made.
package stripe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	stripego "github.com/stripe/stripe-go/v82"

	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/vault"
)

// Provider is the pg code of this connector.
const Provider = "stripe"

// Metadata keys Billkey writes on Stripe objects.
const (
	MetaCharge     = "billkey_charge"
	MetaRefund     = "billkey_refund"
	MetaBillingKey = "billkey_billing_key"
)

// DefaultTimeout bounds one Stripe call.
const DefaultTimeout = 30 * time.Second

// Config is one Stripe account.
type Config struct {
	SecretKey string // sk_test_… / sk_live_… (or a restricted rk_…)
	BaseURL   string // default https://api.stripe.com; stripe-mock in tests
	Timeout   time.Duration
	Transport http.RoundTripper
}

// Client implements pg.Connector for one Stripe account.
type Client struct {
	sc *stripego.Client
}

var _ pg.Connector = (*Client)(nil)

// New checks cfg and makes a client.
func New(cfg Config) (*Client, error) {
	if cfg.SecretKey == "" {
		return nil, errors.New("stripe: secret key is required")
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
	bc := &stripego.BackendConfig{
		HTTPClient: &http.Client{Transport: tr, Timeout: timeout},
		// Retrying is the reconciler's job: it knows the attempt deadline.
		MaxNetworkRetries: stripego.Int64(0),
		LeveledLogger:     &stripego.LeveledLogger{Level: stripego.LevelNull},
		EnableTelemetry:   stripego.Bool(false),
	}
	if cfg.BaseURL != "" {
		bc.URL = stripego.String(strings.TrimRight(cfg.BaseURL, "/"))
	}
	return &Client{sc: stripego.NewClient(cfg.SecretKey, stripego.WithBackends(stripego.NewBackendsWithConfig(bc)))}, nil
}

// IsLiveKey reports whether a secret key moves real money.
func IsLiveKey(secretKey string) bool {
	return strings.HasPrefix(secretKey, "sk_live_") || strings.HasPrefix(secretKey, "rk_live_")
}

// Stripe's billing key is the Customer and its PaymentMethod.
func joinKey(customer, pm string) string { return customer + ":" + pm }

func splitKey(s string) (customer, pm string, err error) {
	c, p, ok := strings.Cut(s, ":")
	if !ok || !strings.HasPrefix(c, "cus_") || p == "" {
		return "", "", &pg.Error{Provider: Provider, Code: "invalid_billing_key", Message: "Stripe 빌링키 형식이 아닙니다."}
	}
	return c, p, nil
}

func withKey(p *stripego.Params, key string) {
	if key != "" {
		p.SetIdempotencyKey(key)
	}
}

// IssueBillingKey creates a PaymentMethod from the card (a number, or a
// Stripe token/PaymentMethod id passed as the number) and a Customer that
// holds it.
func (c *Client) IssueBillingKey(ctx context.Context, req pg.IssueKeyRequest) (*pg.IssueKeyResult, error) {
	pm, info, err := c.paymentMethod(ctx, req.IdempotencyKey, req.Card)
	if err != nil {
		return nil, issueError(err)
	}
	cp := &stripego.CustomerCreateParams{PaymentMethod: stripego.String(pm)}
	cp.InvoiceSettings = &stripego.CustomerCreateInvoiceSettingsParams{DefaultPaymentMethod: stripego.String(pm)}
	cp.AddMetadata(MetaBillingKey, req.IdempotencyKey)
	if req.CustomerUID != "" {
		cp.AddMetadata("customer_uid", req.CustomerUID)
	}
	withKey(&cp.Params, suffixed(req.IdempotencyKey, "customer"))
	cus, err := c.sc.V1Customers.Create(ctx, cp)
	if err != nil {
		return nil, issueError(err)
	}
	return &pg.IssueKeyResult{BillingKey: joinKey(cus.ID, pm), Card: info}, nil
}

func suffixed(key, what string) string {
	if key == "" {
		return ""
	}
	return key + "-" + what
}

func (c *Client) paymentMethod(ctx context.Context, idemKey string, card pg.Card) (string, pg.CardInfo, error) {
	if strings.HasPrefix(card.Number, "pm_") {
		pm, err := c.sc.V1PaymentMethods.Retrieve(ctx, card.Number, nil)
		if err != nil {
			return "", pg.CardInfo{}, err
		}
		return pm.ID, pmInfo(pm, ""), nil
	}
	cp := &stripego.PaymentMethodCreateCardParams{}
	if strings.HasPrefix(card.Number, "tok_") {
		cp.Token = stripego.String(card.Number)
	} else {
		y, m, ok := strings.Cut(card.Expiry, "-")
		year, yerr := strconv.ParseInt(y, 10, 64)
		month, merr := strconv.ParseInt(m, 10, 64)
		if !ok || yerr != nil || merr != nil {
			return "", pg.CardInfo{}, &pg.Error{Provider: Provider, Code: "invalid_expiry_year", Message: "유효기간은 YYYY-MM 형식이어야 합니다."}
		}
		cp.Number, cp.ExpYear, cp.ExpMonth = stripego.String(card.Number), stripego.Int64(year), stripego.Int64(month)
		if card.CVC != "" {
			cp.CVC = stripego.String(card.CVC)
		}
	}
	params := &stripego.PaymentMethodCreateParams{Type: stripego.String("card"), Card: cp}
	withKey(&params.Params, suffixed(idemKey, "pm"))
	pm, err := c.sc.V1PaymentMethods.Create(ctx, params)
	if err != nil {
		return "", pg.CardInfo{}, err
	}
	masked := ""
	if !strings.HasPrefix(card.Number, "tok_") {
		masked = vault.Mask(card.Number)
	}
	return pm.ID, pmInfo(pm, masked), nil
}

func pmInfo(pm *stripego.PaymentMethod, masked string) pg.CardInfo {
	info := pg.CardInfo{CardNumber: masked}
	if pm == nil || pm.Card == nil {
		return info
	}
	info.CardName = brandName(string(pm.Card.Brand))
	if pm.Card.Funding == stripego.CardFundingDebit || pm.Card.Funding == stripego.CardFundingPrepaid {
		info.CardType = 1
	}
	if masked == "" && pm.Card.Last4 != "" {
		info.CardNumber = "************" + pm.Card.Last4
	}
	return info
}

func brandName(b string) string {
	switch b {
	case "visa":
		return "VISA"
	case "mastercard":
		return "MASTER"
	case "amex":
		return "AMEX"
	case "jcb":
		return "JCB"
	case "unionpay":
		return "UnionPay"
	case "diners":
		return "Diners"
	case "discover":
		return "Discover"
	}
	return strings.ToUpper(b)
}

// DeleteBillingKey deletes the Customer, which detaches its cards.
func (c *Client) DeleteBillingKey(ctx context.Context, _ pg.Target, billingKey string) error {
	cus, _, err := splitKey(billingKey)
	if err != nil {
		return err
	}
	_, err = c.sc.V1Customers.Delete(ctx, cus, nil)
	var se *stripego.Error
	if errors.As(err, &se) && se.Code == stripego.ErrorCodeResourceMissing {
		return nil // already gone: the caller may be retrying
	}
	return classify(err)
}

// softDeclines are the decline codes Stripe documents as worth retrying
// later (funds, velocity, a busy issuer); the rest need a new card.
var softDeclines = map[string]bool{
	"insufficient_funds": true, "card_velocity_exceeded": true, "withdrawal_count_limit_exceeded": true,
	"try_again_later": true, "issuer_not_available": true, "processing_error": true, "reenter_transaction": true,
	"approve_with_id": true, "do_not_honor": true, "generic_decline": true, "call_issuer": true,
	"authentication_required": true, "card_declined": true,
}

// Charge confirms an off-session PaymentIntent on the billing key's card.
// Card-number charges without a key make a one-off PaymentMethod first.
func (c *Client) Charge(ctx context.Context, req pg.ChargeRequest) (*pg.ChargeResult, error) {
	params := &stripego.PaymentIntentCreateParams{
		Amount:             stripego.Int64(req.Amount),
		Currency:           stripego.String(strings.ToLower(currency(req.Currency))),
		Confirm:            stripego.Bool(true),
		PaymentMethodTypes: []*string{stripego.String("card")},
	}
	if req.OrderName != "" {
		params.Description = stripego.String(req.OrderName)
	}
	if req.BillingKey != "" {
		cus, pm, err := splitKey(req.BillingKey)
		if err != nil {
			return nil, err
		}
		params.Customer, params.PaymentMethod, params.OffSession = stripego.String(cus), stripego.String(pm), stripego.Bool(true)
	} else {
		if req.Card == nil {
			return nil, &pg.Error{Provider: Provider, Code: "parameter_missing", Message: "빌링키나 카드 정보가 필요합니다."}
		}
		pm, _, err := c.paymentMethod(ctx, req.IdempotencyKey, *req.Card)
		if err != nil {
			if res, ok := declined(err, req.Amount); ok {
				return res, nil
			}
			return nil, classify(err)
		}
		params.PaymentMethod = stripego.String(pm)
	}
	params.AddMetadata(MetaCharge, req.IdempotencyKey)
	withKey(&params.Params, req.IdempotencyKey)
	pi, err := c.sc.V1PaymentIntents.Create(ctx, params)
	if err != nil {
		if res, ok := declined(err, req.Amount); ok {
			return res, nil
		}
		return nil, classify(err)
	}
	return c.intentResult(ctx, pi)
}

func currency(c string) string {
	if c == "" {
		return "KRW"
	}
	return c
}

// declined turns a card_error into a declined result, keeping Stripe's code
// and message as the fail reason.
func declined(err error, amount int64) (*pg.ChargeResult, bool) {
	var se *stripego.Error
	if !errors.As(err, &se) || se.Type != stripego.ErrorTypeCard {
		return nil, false
	}
	code := string(se.DeclineCode)
	if code == "" {
		code = string(se.Code)
	}
	res := &pg.ChargeResult{Status: pg.ChargeDeclined, DeclineCode: code, DeclineReason: "[" + code + "] " + se.Msg,
		Retryable: softDeclines[code], Amount: amount}
	if se.PaymentIntent != nil {
		res.PGTID = se.PaymentIntent.ID
	}
	return res, true
}

func (c *Client) intentResult(ctx context.Context, pi *stripego.PaymentIntent) (*pg.ChargeResult, error) {
	res := &pg.ChargeResult{PGTID: pi.ID, Amount: pi.Amount}
	if pi.PaymentMethod != nil && pi.PaymentMethod.Card != nil {
		res.Card = pmInfo(pi.PaymentMethod, "")
	}
	switch pi.Status {
	case stripego.PaymentIntentStatusSucceeded:
		res.Status = pg.ChargeApproved
		res.ApprovedAt = time.Unix(pi.Created, 0)
		if pi.LatestCharge != nil {
			res.ApplyNum = pi.LatestCharge.ID
			ch := pi.LatestCharge
			if ch.AmountRefunded == 0 && ch.Amount == 0 && ch.ID != "" {
				// Only the id came back: read the charge for refunds and receipt.
				if full, err := c.sc.V1Charges.Retrieve(ctx, ch.ID, nil); err == nil {
					ch = full
				}
			}
			res.Cancelled, res.ReceiptURL = ch.AmountRefunded, ch.ReceiptURL
		}
		return res, nil
	case stripego.PaymentIntentStatusRequiresPaymentMethod, stripego.PaymentIntentStatusCanceled, stripego.PaymentIntentStatusRequiresAction:
		res.Status = pg.ChargeDeclined
		code, msg := "payment_failed", "결제가 승인되지 않았습니다."
		if e := pi.LastPaymentError; e != nil {
			if e.DeclineCode != "" {
				code = string(e.DeclineCode)
			} else if e.Code != "" {
				code = string(e.Code)
			}
			if e.Msg != "" {
				msg = e.Msg
			}
		}
		if pi.Status == stripego.PaymentIntentStatusRequiresAction {
			code, msg = "authentication_required", "The card requires the customer to authenticate (3-D Secure); off-session charges cannot do that."
		}
		res.DeclineCode, res.DeclineReason, res.Retryable = code, "["+code+"] "+msg, softDeclines[code]
		return res, nil
	default:
		// processing, requires_confirmation, requires_capture: not final.
		return nil, fmt.Errorf("%w: stripe payment intent %s is %s", pg.ErrUnknownOutcome, pi.ID, pi.Status)
	}
}

// classify turns a failed Stripe call into a *pg.Error (Stripe refused it,
// nothing happened) or pg.ErrUnknownOutcome (it may have happened).
func classify(err error) error {
	if err == nil {
		return nil
	}
	var se *stripego.Error
	if errors.As(err, &se) {
		switch {
		case se.Type == stripego.ErrorTypeIdempotency:
			// The key was used with other parameters: the first attempt exists.
			return fmt.Errorf("%w: %w", pg.ErrUnknownOutcome, err)
		case se.HTTPStatusCode >= 500 || se.Type == stripego.ErrorTypeAPI:
			return fmt.Errorf("%w: stripe: %s", pg.ErrUnknownOutcome, se.Msg)
		}
		code := string(se.Code)
		if se.DeclineCode != "" {
			code = string(se.DeclineCode)
		}
		if code == "" {
			code = string(se.Type)
		}
		return &pg.Error{Provider: Provider, Code: code, Message: "[" + code + "] " + se.Msg}
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return &pg.Error{Provider: Provider, Code: "NETWORK", Message: "Stripe 서버에 연결할 수 없습니다: " + op.Err.Error()}
	}
	if errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: stripe: %w", pg.ErrUnknownOutcome, err)
}

// issueError: a refused issuance charged nothing, so even a card_error is
// a plain refusal.
func issueError(err error) error {
	var se *stripego.Error
	if errors.As(err, &se) && se.Type == stripego.ErrorTypeCard {
		code := string(se.DeclineCode)
		if code == "" {
			code = string(se.Code)
		}
		return &pg.Error{Provider: Provider, Code: code, Message: "[" + code + "] " + se.Msg}
	}
	return classify(err)
}

// lookupErr: a failed lookup says nothing about the charge.
func lookupErr(err error) error {
	if errors.Is(err, pg.ErrNoSuchCharge) || errors.Is(err, pg.ErrUnknownOutcome) {
		return err
	}
	return fmt.Errorf("%w: stripe lookup: %w", pg.ErrUnknownOutcome, err)
}

func (c *Client) findIntent(ctx context.Context, chargeKey string) (*stripego.PaymentIntent, error) {
	sp := &stripego.PaymentIntentSearchParams{}
	sp.Query = fmt.Sprintf("metadata['%s']:'%s'", MetaCharge, strings.ReplaceAll(chargeKey, "'", `\'`))
	sp.AddExpand("data.latest_charge")
	sp.AddExpand("data.payment_method")
	for pi, err := range c.sc.V1PaymentIntents.Search(ctx, sp) {
		if err != nil {
			return nil, lookupErr(err)
		}
		// The search language is fuzzy on some characters; the metadata
		// must match exactly.
		if pi.Metadata[MetaCharge] == chargeKey {
			return pi, nil
		}
	}
	return nil, pg.ErrNoSuchCharge
}

// LookupCharge finds the PaymentIntent by our key in its metadata.
func (c *Client) LookupCharge(ctx context.Context, _ pg.Target, idempotencyKey string) (*pg.ChargeResult, error) {
	pi, err := c.findIntent(ctx, idempotencyKey)
	if err != nil {
		return nil, err
	}
	res, err := c.intentResult(ctx, pi)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Cancel refunds req.Amount (0: what is left) of the charge.
func (c *Client) Cancel(ctx context.Context, req pg.CancelRequest) (*pg.CancelResult, error) {
	pi, err := c.findIntent(ctx, req.ChargeKey)
	if errors.Is(err, pg.ErrNoSuchCharge) {
		return nil, fmt.Errorf("%w: %w", pg.ErrNoSuchCharge,
			&pg.Error{Provider: Provider, Code: "resource_missing", Message: "Stripe에 해당 결제가 없습니다 (no PaymentIntent for this charge)."})
	}
	if err != nil {
		return nil, &pg.Error{Provider: Provider, Code: "LOOKUP_FAILED", Message: "Stripe 결제 조회에 실패해 취소하지 못했습니다: " + err.Error()}
	}
	rp := &stripego.RefundCreateParams{PaymentIntent: stripego.String(pi.ID)}
	if req.Amount > 0 {
		rp.Amount = stripego.Int64(req.Amount)
	}
	rp.Reason = stripego.String(string(stripego.RefundReasonRequestedByCustomer))
	rp.AddMetadata(MetaRefund, req.IdempotencyKey)
	if req.Reason != "" {
		rp.AddMetadata("reason", truncate(req.Reason, 500))
	}
	withKey(&rp.Params, req.IdempotencyKey)
	r, err := c.sc.V1Refunds.Create(ctx, rp)
	if err != nil {
		return nil, classify(err)
	}
	return refundResult(r)
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

func refundResult(r *stripego.Refund) (*pg.CancelResult, error) {
	switch r.Status {
	case stripego.RefundStatusSucceeded, stripego.RefundStatusPending:
		return &pg.CancelResult{PGTID: r.ID, CancelledAt: time.Unix(r.Created, 0)}, nil
	case stripego.RefundStatusFailed, stripego.RefundStatusCanceled:
		return nil, &pg.Error{Provider: Provider, Code: "refund_" + string(r.Status),
			Message: "Stripe refund " + string(r.Status) + ": " + string(r.FailureReason)}
	default:
		return nil, fmt.Errorf("%w: stripe refund %s is %s", pg.ErrUnknownOutcome, r.ID, r.Status)
	}
}

// LookupCancel lists the charge's refunds and finds ours by its metadata.
func (c *Client) LookupCancel(ctx context.Context, _ pg.Target, chargeKey, idempotencyKey string) (*pg.CancelResult, error) {
	pi, err := c.findIntent(ctx, chargeKey)
	if err != nil {
		return nil, err
	}
	lp := &stripego.RefundListParams{PaymentIntent: stripego.String(pi.ID)}
	for r, err := range c.sc.V1Refunds.List(ctx, lp) {
		if err != nil {
			return nil, lookupErr(err)
		}
		if r.Metadata[MetaRefund] == idempotencyKey {
			return refundResult(r)
		}
	}
	return nil, pg.ErrNoSuchCharge
}
