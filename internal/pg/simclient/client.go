// Package simclient is the pg.Connector that talks HTTP to the sandbox PG
// (internal/pg/sim). Its error mapping is the part that matters: whether a
// failure can have left a charge behind decides between *pg.Error (nothing
// charged) and pg.ErrUnknownOutcome (ask the PG later).
package simclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/pg/provider"
	"github.com/billkey/billkey/internal/pg/simwire"
)

// Client implements pg.Connector against one simulator base URL.
type Client struct {
	base    string
	timeout time.Duration
	hc      *http.Client
}

var _ pg.Connector = (*Client)(nil)

// New makes a client; timeout bounds each call (0 = only the caller's ctx).
func New(baseURL string, timeout time.Duration) *Client {
	tr := &http.Transport{
		Proxy: nil, // loopback PG: an environment proxy would only add a hop
		DialContext: (&net.Dialer{
			Timeout:   5 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		// Benchmarks run thousands of concurrent charges against one host;
		// the default of 2 idle conns per host would churn sockets into
		// TIME_WAIT exhaustion.
		MaxIdleConns:        2048,
		MaxIdleConnsPerHost: 512,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), timeout: timeout, hc: &http.Client{Transport: tr}}
}

// CloseIdleConnections releases pooled connections.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// call kinds decide how an unanswered request is reported.
type kind int

const (
	mutating kind = iota // may have changed state at the PG
	lookup               // read-only; only 404 may be read as "never happened"
)

func (c *Client) do(ctx context.Context, k kind, provider, method, path string, in, out any) error {
	// No Idempotency-Key header on purpose: net/http would then treat the
	// POST as replayable and silently resend it on a dead pooled conn,
	// turning a lost response into a surprise success.
	status, raw, err := pg.Exchange(ctx, c.hc, c.timeout, method, c.base+path, in, nil)
	var te *pg.TransportError
	switch {
	case errors.As(err, &te) && te.NeverSent && k == mutating:
		return &pg.Error{Provider: provider, Code: simwire.CodeNetwork, Message: "PG 서버에 연결할 수 없습니다: " + te.Reason()}
	case te != nil:
		return fmt.Errorf("%w: %s %s: %w", pg.ErrUnknownOutcome, method, path, err)
	case err != nil:
		return err // nothing left our process
	}
	if status >= 200 && status < 300 {
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%w: %s %s: bad response: %w", pg.ErrUnknownOutcome, method, path, err)
		}
		return nil
	}
	return mapStatus(k, provider, method, path, status, raw)
}

func mapStatus(k kind, provider, method, path string, status int, raw []byte) error {
	var we simwire.WireError
	isPG := json.Unmarshal(raw, &we) == nil && we.Code != ""
	if status == http.StatusNotFound && isPG && (we.Code == simwire.CodeNoSuchCharge || we.Code == simwire.CodeNoSuchCancel) {
		if k == lookup {
			return pg.ErrNoSuchCharge
		}
		return fmt.Errorf("%w: %w", pg.ErrNoSuchCharge, toPGError(provider, we))
	}
	if !isPG {
		// Not the PG's own answer (a proxy, a crashed handler): a 5xx may
		// have come after the PG acted, a 4xx means it never got there.
		if status >= 500 || k == lookup {
			return fmt.Errorf("%w: %s %s: HTTP %d", pg.ErrUnknownOutcome, method, path, status)
		}
		return &pg.Error{Provider: provider, Code: fmt.Sprintf("HTTP_%d", status), Message: http.StatusText(status)}
	}
	perr := toPGError(provider, we)
	if k == lookup {
		// A failed lookup says nothing about the charge itself.
		return fmt.Errorf("%w: lookup failed: %w", pg.ErrUnknownOutcome, perr)
	}
	return perr
}

func toPGError(provider string, we simwire.WireError) *pg.Error {
	if we.Provider != "" {
		provider = we.Provider
	}
	return &pg.Error{Provider: provider, Code: we.Code, Message: we.Message, Unsupported: we.Unsupported}
}

func targetQuery(t pg.Target) string {
	return "?" + url.Values{"provider": {t.Provider}, "mid": {t.MID}}.Encode()
}

func wireCard(c pg.Card) *simwire.WireCard {
	return &simwire.WireCard{Number: c.Number, Expiry: c.Expiry, Birth: c.Birth, Pwd2Digit: c.Pwd2Digit, CVC: c.CVC}
}

func cardInfo(w simwire.WireCardInfo) pg.CardInfo {
	return pg.CardInfo{CardName: w.CardName, CardCode: w.CardCode, CardNumber: w.CardNumber, CardType: w.CardType}
}

// IssueBillingKey stores a card by REST key-in.
func (c *Client) IssueBillingKey(ctx context.Context, req pg.IssueKeyRequest) (*pg.IssueKeyResult, error) {
	return c.issue(ctx, req, simwire.ChannelAPI, "")
}

// IssueWindowBillingKey issues a billing key the way the PG's payment window
// would (the hosted checkout uses it): allowed for window-only PGs, and for
// phone/trans methods the card may be empty.
func (c *Client) IssueWindowBillingKey(ctx context.Context, req pg.IssueKeyRequest, method string) (*pg.IssueKeyResult, error) {
	return c.issue(ctx, req, simwire.ChannelWindow, method)
}

func (c *Client) issue(ctx context.Context, req pg.IssueKeyRequest, channel, method string) (*pg.IssueKeyResult, error) {
	in := simwire.WireIssueKey{
		Provider: req.Target.Provider, MID: req.Target.MID, Sandbox: req.Target.Sandbox,
		IdempotencyKey: req.IdempotencyKey, CustomerUID: req.CustomerUID, Channel: channel, Method: method,
		FirstCharge: req.FirstCharge, BuyerTel: req.BuyerTel, BuyerEmail: req.BuyerEmail,
	}
	if req.Card.Number != "" {
		in.Card = wireCard(req.Card)
	}
	var out simwire.WireIssueKeyResult
	if err := c.do(ctx, mutating, req.Target.Provider, http.MethodPost, "/v1/billing-keys", in, &out); err != nil {
		return nil, err
	}
	return &pg.IssueKeyResult{BillingKey: out.BillingKey, Card: cardInfo(out.Card), Method: out.Method, WindowCharge: out.WindowCharge}, nil
}

// DeleteBillingKey removes a stored card; deleting twice succeeds.
func (c *Client) DeleteBillingKey(ctx context.Context, target pg.Target, billingKey string) error {
	return c.do(ctx, mutating, target.Provider, http.MethodDelete,
		"/v1/billing-keys/"+url.PathEscape(billingKey)+targetQuery(target), nil, nil)
}

// Charge charges a billing key or a card. A declined charge is a result,
// not an error.
func (c *Client) Charge(ctx context.Context, req pg.ChargeRequest) (*pg.ChargeResult, error) {
	in := simwire.WireCharge{
		Provider: req.Target.Provider, MID: req.Target.MID, Sandbox: req.Target.Sandbox,
		IdempotencyKey: req.IdempotencyKey, BillingKey: req.BillingKey, Amount: req.Amount,
		Currency: req.Currency, OrderName: req.OrderName, CardQuota: req.CardQuota, BuyerEmail: req.BuyerEmail,
	}
	if p, ok := provider.Lookup(req.Target.Provider); ok {
		// i'mport takes longer names than some PGs' order-name fields: the
		// payment keeps the whole name, the PG gets what fits.
		in.OrderName = p.FitName(req.OrderName)
	}
	if req.Card != nil {
		in.Card = wireCard(*req.Card)
	}
	var out simwire.WireChargeResult
	if err := c.do(ctx, mutating, req.Target.Provider, http.MethodPost, "/v1/charges", in, &out); err != nil {
		return nil, err
	}
	return chargeResult(out), nil
}

func chargeResult(w simwire.WireChargeResult) *pg.ChargeResult {
	return &pg.ChargeResult{
		Status: pg.ChargeStatus(w.Status), PGTID: w.PGTID, ApplyNum: w.ApplyNum, Card: cardInfo(w.Card),
		DeclineCode: w.DeclineCode, DeclineReason: w.DeclineReason, Retryable: w.Retryable, Amount: w.Amount, Cancelled: w.Cancelled,
		ApprovedAt: w.ApprovedAt, ReceiptURL: w.ReceiptURL,
	}
}

// LookupCharge asks the PG what became of a charge. Only pg.ErrNoSuchCharge
// means it never happened; every other error wraps pg.ErrUnknownOutcome.
func (c *Client) LookupCharge(ctx context.Context, target pg.Target, idempotencyKey string) (*pg.ChargeResult, error) {
	var out simwire.WireChargeResult
	if err := c.do(ctx, lookup, target.Provider, http.MethodGet,
		"/v1/charges/"+url.PathEscape(idempotencyKey)+targetQuery(target), nil, &out); err != nil {
		return nil, err
	}
	return chargeResult(out), nil
}

// Cancel refunds req.Amount, or everything still refundable when it is 0. An
// unknown charge gives an error matching both pg.ErrNoSuchCharge and *pg.Error.
func (c *Client) Cancel(ctx context.Context, req pg.CancelRequest) (*pg.CancelResult, error) {
	in := simwire.WireCancel{
		Provider: req.Target.Provider, MID: req.Target.MID, IdempotencyKey: req.IdempotencyKey,
		Amount: req.Amount, Reason: req.Reason,
	}
	var out simwire.WireCancelResult
	if err := c.do(ctx, mutating, req.Target.Provider, http.MethodPost,
		"/v1/charges/"+url.PathEscape(req.ChargeKey)+"/cancels", in, &out); err != nil {
		return nil, err
	}
	return &pg.CancelResult{PGTID: out.PGTID, ReceiptURL: out.ReceiptURL, CancelledAt: out.CancelledAt}, nil
}

// LookupCancel finds a refund by its own idempotency key; the simulator
// indexes refunds by that key alone, so chargeKey is not needed.
func (c *Client) LookupCancel(ctx context.Context, target pg.Target, _, idempotencyKey string) (*pg.CancelResult, error) {
	var out simwire.WireCancelResult
	if err := c.do(ctx, lookup, target.Provider, http.MethodGet,
		"/v1/cancels/"+url.PathEscape(idempotencyKey)+targetQuery(target), nil, &out); err != nil {
		return nil, err
	}
	return &pg.CancelResult{PGTID: out.PGTID, ReceiptURL: out.ReceiptURL, CancelledAt: out.CancelledAt}, nil
}
