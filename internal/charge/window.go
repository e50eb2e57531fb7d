package charge

// Payment-window (IMP.request_pay) payments. The hosted checkout page calls
// WindowPay once per submitted window; everything else about the window
// (sessions, CSRF, rendering) lives in internal/checkout.
//
// What a window leaves behind, by request:
//
//   - customer_uid, amount 0 ("key only"): the billing key under customer_uid
//     and a Payment row with amount 0, status paid, customer_uid_usage
//     "issue", so that the merchant can verify the window's imp_uid with GET
//     /payments/{imp_uid} as the i'mport docs tell them to. Nothing is
//     charged at the PG. The row and the key are written in one transaction
//     with the payment.paid outbox event.
//   - customer_uid, amount > 0: the billing key, then a first payment charged
//     by that key (customer_uid_usage "issue"), as Onetime does. A declined
//     first payment keeps the key, like Onetime.
//   - no customer_uid: an ordinary payment. The window authenticates the
//     payment method into a one-off PG key, charges it, and revokes it; the
//     card is not kept.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/vault"
)

// Window payment methods (i'mport pay_method values).
const (
	MethodCard  = "card"
	MethodTrans = "trans"
	MethodPhone = "phone"
	// MethodPoint is a wallet's own money (KakaoMoney).
	MethodPoint = "point"
)

// WindowInput is one submitted payment window.
type WindowInput struct {
	// PayInput carries the order. Amount 0 with CustomerUID set asks for the
	// billing key only; Channel is "pc" (popup/iframe) or "mobile" (redirect).
	PayInput
	// PayMethod is card, trans or phone; Card is required for card only.
	PayMethod string
}

// WindowIssuer is the part of a connector that issues billing keys the way a
// PG's payment window does (the sandbox client implements it). A window-only
// PG refuses REST key-in, so the REST IssueBillingKey cannot stand in.
type WindowIssuer interface {
	IssueWindowBillingKey(ctx context.Context, req pg.IssueKeyRequest, method string) (*pg.IssueKeyResult, error)
}

// ErrWindowUnsupported: the configured PG connector has no payment windows.
var ErrWindowUnsupported = errors.New("the PG connector does not support payment windows")

// AmountMismatchError: the window's amount is not the one the merchant
// pre-registered with /payments/prepare (amount tampering).
type AmountMismatchError struct {
	Prepared *core.Prepared
	Amount   int64
	Currency string
}

func (e *AmountMismatchError) Error() string {
	return fmt.Sprintf("merchant_uid %s: amount %d %s differs from the prepared %d %s",
		e.Prepared.MerchantUID, e.Amount, e.Currency, e.Prepared.Amount, e.Prepared.Currency)
}

// CheckPrepared refuses an amount that differs from the one pre-registered
// for merchantUID; without a registration any amount passes, as in i'mport.
func (s *Service) CheckPrepared(ctx context.Context, merchantID int64, merchantUID string, amount int64, currency string) error {
	if currency == "" {
		currency = "KRW"
	}
	pr, err := s.store.GetPrepared(ctx, merchantID, merchantUID)
	if errors.Is(err, core.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if pr.Amount != amount || !strings.EqualFold(pr.Currency, currency) {
		return &AmountMismatchError{Prepared: pr, Amount: amount, Currency: currency}
	}
	return nil
}

func (s *Service) validateWindow(in *WindowInput) error {
	if err := validateOrderID("", in.MerchantUID, &in.Currency); err != nil {
		return err
	}
	switch {
	case in.Amount < 0, in.Amount == 0 && in.CustomerUID == "":
		// Amount 0 only makes sense as "issue the key, charge nothing".
		return &ValidationError{Field: "amount", Reason: "must be greater than 0"}
	}
	if in.TaxFree < 0 || in.TaxFree > in.Amount {
		return &ValidationError{Field: "tax_free", Reason: "must be between 0 and amount"}
	}
	if len([]rune(in.Name)) > MaxNameLength {
		return &ValidationError{Field: "name", Reason: fmt.Sprintf("longer than %d characters", MaxNameLength)}
	}
	if in.CustomerUID != "" {
		if err := ValidateUID("customer_uid", in.CustomerUID, 80); err != nil {
			return err
		}
	}
	switch in.PayMethod {
	case "":
		in.PayMethod = MethodCard
	case MethodCard, MethodTrans, MethodPhone, MethodPoint:
	default:
		return &ValidationError{Field: "pay_method", Reason: "must be card, trans, phone or point"}
	}
	if in.PayMethod == MethodCard && in.Card == nil {
		return &ValidationError{Field: "card_number", Reason: "required"}
	}
	if in.Channel == "" {
		in.Channel = "pc"
	}
	if in.Channel != "pc" && in.Channel != "mobile" {
		return &ValidationError{Field: "channel", Reason: "must be pc or mobile"}
	}
	return nil
}

// WindowPay carries out one submitted payment window (see the top of this
// file for what each kind of request leaves behind). Like Onetime, the
// attempt is recorded before any PG call, so a duplicate merchant_uid is
// refused before the customer's card is touched, and every PG call carries
// an idempotency key derived from the attempt's imp_uid.
//
// A decline returns the failed payment and a nil error, or, when the PG
// refused to issue the key, a *PGRefusedError whose Payment is the failed
// attempt. The key, when one was stored, is returned too.
func (s *Service) WindowPay(ctx context.Context, merchantID int64, in WindowInput) (*core.Payment, *core.BillingKey, error) {
	if err := s.validateWindow(&in); err != nil {
		return nil, nil, err
	}
	wi, ok := s.pg.(WindowIssuer)
	if !ok {
		return nil, nil, ErrWindowUnsupported
	}
	var card pg.Card
	if in.PayMethod == MethodCard {
		c, err := s.validateCard(*in.Card)
		if err != nil {
			return nil, nil, err
		}
		card = c
	}
	ch, err := s.channelsOf.WindowChannel(ctx, merchantID, in.PG)
	if err != nil {
		return nil, nil, err
	}
	if err := s.CheckPrepared(ctx, merchantID, in.MerchantUID, in.Amount, in.Currency); err != nil {
		return nil, nil, err
	}
	usage := ""
	if in.CustomerUID != "" {
		usage = core.UsageIssue
	}
	in.Dialect = s.windowDialect(ctx, merchantID, in.MerchantUID)
	p := s.newAttempt(merchantID, in.PayInput, ch, usage)
	p.PayMethod = in.PayMethod
	if card.Number != "" {
		p.CardNumber = vault.Mask(card.Number)
	}
	if err := s.start(ctx, p, nil, nil); err != nil {
		return nil, nil, err
	}

	// The key's idempotency key is derived from the attempt, so the PG can
	// tell a repeat of this exact issuance from a new one.
	req := pg.IssueKeyRequest{
		Target:         pg.Target{MerchantID: ch.MerchantID, Provider: ch.Provider, MID: ch.MID, Sandbox: ch.Sandbox},
		IdempotencyKey: "win_" + p.ImpUID, CustomerUID: in.CustomerUID, Card: card,
		FirstCharge: in.Amount, BuyerTel: in.Buyer.Tel, BuyerEmail: in.Buyer.Email,
	}
	pgctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.pgTimeout)
	res, err := wi.IssueWindowBillingKey(pgctx, req, in.PayMethod)
	cancel()
	if err != nil {
		// No key was issued (or none we will ever reference), so nothing was
		// charged: record the attempt as failed, releasing the order.
		var pgErr *pg.Error
		var refused *PGRefusedError
		reason := err.Error()
		if errors.As(err, &pgErr) {
			refused = &PGRefusedError{Stage: "issue", Err: pgErr}
			reason = pgErr.Message
			err = refused
		} else {
			err = fmt.Errorf("issue window billing key %s: %w", in.MerchantUID, err)
		}
		now := s.clock.Now()
		p.Status, p.FailedAt, p.FailReason, p.UpdatedAt = core.StatusFailed, now, reason, now
		if ferr := s.settle(ctx, p, Outcome{}, nil); ferr != nil {
			return nil, nil, ferr
		}
		if refused != nil {
			refused.Payment = p
		}
		return p, nil, err
	}

	if in.CustomerUID == "" {
		// An ordinary window payment: charge the one-off key, then revoke it.
		impUID := p.ImpUID
		paid, err := s.execute(ctx, p, pg.ChargeRequest{BillingKey: res.BillingKey}, nil)
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.pgTimeout)
		if derr := s.pg.DeleteBillingKey(dctx, req.Target, res.BillingKey); derr != nil {
			s.log.Warn("revoke one-off window key failed", "imp_uid", impUID, "pg", ch.Provider, "err", derr)
		}
		cancel()
		return paid, nil, err
	}

	k, err := s.windowKey(merchantID, in, card, ch, res)
	if err != nil {
		return nil, nil, err
	}
	if res.Method != "" {
		p.PayMethod = res.Method
	}
	if res.WindowCharge == 0 {
		// Key only, either asked for (amount 0) or because this PG's billing
		// window only displays the amount: nothing was approved.
		p.Amount = 0
		// Key only: nothing to charge. The amount-0 "paid" row, the key and
		// the webhook event commit together, so the merchant never sees one
		// without the others.
		now := s.clock.Now()
		p.Status, p.PaidAt, p.UpdatedAt = core.StatusPaid, now, now
		p.CardName, p.CardCode, p.CardType = k.CardName, k.CardCode, k.CardType
		if k.CardNumber != "" {
			p.CardNumber = k.CardNumber
		}
		err := s.settle(ctx, p, Outcome{}, func(tx *store.Tx) error {
			if err := tx.SetWindowTerms(ctx, merchantID, p.ImpUID, p.Amount, p.PayMethod); err != nil {
				return err
			}
			return tx.PutBillingKey(ctx, storable(k))
		})
		s.keys.drop(merchantID, k.CustomerUID)
		if err != nil {
			return nil, nil, err
		}
		s.charges.WithLabelValues("issued").Inc()
		return p, k, nil
	}
	err = s.store.PutBillingKey(ctx, storable(k))
	s.keys.drop(merchantID, k.CustomerUID)
	if err != nil {
		return nil, nil, err
	}
	p, err = s.execute(ctx, p, pg.ChargeRequest{BillingKey: k.PGBillingKey}, func(tx *store.Tx) error {
		return tx.SetWindowTerms(ctx, merchantID, p.ImpUID, p.Amount, p.PayMethod)
	})
	return p, k, err
}

// windowKey builds the stored billing key for an issued window key; like
// every key it keeps the PG's key sealed and no card number (trans and
// phone keys have none anyway).
func (s *Service) windowKey(merchantID int64, in WindowInput, card pg.Card, ch core.Channel, res *pg.IssueKeyResult) (*core.BillingKey, error) {
	now := s.clock.Now()
	k := &core.BillingKey{
		MerchantID: merchantID, CustomerUID: in.CustomerUID, PGProvider: ch.Provider, PGID: ch.MID,
		Sandbox: ch.Sandbox, PGBillingKey: res.BillingKey, CardName: res.Card.CardName, CardCode: res.Card.CardCode,
		CardNumber: res.Card.CardNumber, Customer: in.Buyer,
		PayMethod: in.PayMethod, Inserted: now, Updated: now,
	}
	if err := s.sealKey(k, card.Expiry); err != nil {
		return nil, err
	}
	if res.Method != "" {
		k.PayMethod = res.Method
	}
	if in.PayMethod == MethodCard {
		ct := res.Card.CardType
		k.CardType = &ct
		if k.CardNumber == "" {
			k.CardNumber = vault.Mask(card.Number)
		}
	}
	return k, nil
}
