package charge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/vault"
)

// --- Billing keys ---

// validateCard normalizes card data and refuses what no PG would accept.
func (s *Service) validateCard(c pg.Card) (pg.Card, error) {
	num, err := vault.NormalizeCardNumber(c.Number)
	if err != nil {
		return c, &InvalidCardError{Reason: "card_number"}
	}
	exp, err := vault.NormalizeExpiry(c.Expiry)
	if err != nil {
		return c, &InvalidCardError{Reason: "expiry"}
	}
	if vault.ExpiryPassed(exp, s.clock.Now()) {
		return c, &InvalidCardError{Reason: "expired"}
	}
	c.Number, c.Expiry = num, exp
	return c, nil
}

// IssueBillingKey stores a card at the PG and keeps its billing key under
// customer_uid, replacing any earlier card for that customer_uid.
func (s *Service) IssueBillingKey(ctx context.Context, merchantID int64, in IssueKeyInput) (*core.BillingKey, error) {
	if err := ValidateUID("customer_uid", in.CustomerUID, 80); err != nil {
		return nil, err
	}
	card, err := s.validateCard(in.Card)
	if err != nil {
		return nil, err
	}
	ch, err := s.channelsOf.ResolveChannel(ctx, merchantID, in.PG)
	if err != nil {
		return nil, err
	}
	return s.issueKey(ctx, merchantID, in, card, ch, nil)
}

// issueKey calls the PG and stores the key; extra runs in the storing transaction.
func (s *Service) issueKey(ctx context.Context, merchantID int64, in IssueKeyInput, card pg.Card, ch core.Channel, extra func(*store.Tx) error) (*core.BillingKey, error) {
	target := pg.Target{MerchantID: ch.MerchantID, Provider: ch.Provider, MID: ch.MID, Sandbox: ch.Sandbox}
	pgctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.pgTimeout)
	res, err := s.pg.IssueBillingKey(pgctx, pg.IssueKeyRequest{Target: target, IdempotencyKey: NewID("bk_"), CustomerUID: in.CustomerUID, Card: card, FirstCharge: in.FirstCharge})
	cancel()
	ctx = context.WithoutCancel(ctx) // the PG has acted: store its answer even if the caller left
	var pgErr *pg.Error
	if errors.As(err, &pgErr) {
		return nil, &PGRefusedError{Stage: "issue", Err: pgErr}
	}
	if err != nil {
		// Nothing is stored on our side, so repeating the request is safe; a
		// key the PG may have made meanwhile is never referenced.
		return nil, fmt.Errorf("issue billing key %s: %w", in.CustomerUID, err)
	}
	now := clock.For(s.clock, merchantID)
	ct := res.Card.CardType
	k := &core.BillingKey{
		MerchantID: merchantID, CustomerUID: in.CustomerUID, CustomerID: in.CustomerID, PGProvider: ch.Provider, PGID: ch.MID,
		Sandbox: ch.Sandbox, PGBillingKey: res.BillingKey, CardName: res.Card.CardName, CardCode: res.Card.CardCode,
		CardNumber: res.Card.CardNumber, CardType: &ct, Customer: in.Customer,
		Inserted: now, Updated: now,
	}
	if k.CardNumber == "" {
		k.CardNumber = vault.Mask(card.Number)
	}
	if err := s.sealKey(k, card.Expiry); err != nil {
		return nil, err
	}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		row := storable(k)
		if err := tx.PutBillingKey(ctx, row); err != nil {
			return err
		}
		k.Inserted, k.Version = row.Inserted, row.Version
		if extra != nil {
			return extra(tx)
		}
		return nil
	})
	// A copy kept for charges would only fail its version check; dropping it
	// saves that round.
	s.keys.drop(merchantID, in.CustomerUID)
	if err != nil {
		return nil, err
	}
	return k, nil
}

func (s *Service) GetBillingKey(ctx context.Context, merchantID int64, customerUID string) (*core.BillingKey, error) {
	k, err := s.store.GetBillingKey(ctx, merchantID, customerUID)
	if errors.Is(err, core.ErrNotFound) {
		return nil, ErrCustomerNotFound
	}
	return k, err
}

// GetBillingKeys returns the keys found, in request order; unknown uids are skipped.
func (s *Service) GetBillingKeys(ctx context.Context, merchantID int64, customerUIDs []string) ([]core.BillingKey, error) {
	keys, err := s.store.GetBillingKeys(ctx, merchantID, customerUIDs)
	if err != nil {
		return nil, err
	}
	byUID := make(map[string]core.BillingKey, len(keys))
	for _, k := range keys {
		byUID[k.CustomerUID] = k
	}
	out := make([]core.BillingKey, 0, len(keys))
	seen := map[string]bool{}
	for _, u := range customerUIDs {
		if k, ok := byUID[u]; ok && !seen[u] {
			out = append(out, k)
			seen[u] = true
		}
	}
	return out, nil
}

// BeforeKeyDelete lets other packages act in the deleting transaction (the
// scheduler revokes the key's pending schedules there).
type BeforeKeyDelete func(ctx context.Context, tx *store.Tx, merchantID int64, customerUID string, now time.Time) error

// OnKeyDelete registers a hook run inside every billing-key deletion.
func (s *Service) OnKeyDelete(h BeforeKeyDelete) { s.keyDeleteHooks = append(s.keyDeleteHooks, h) }

// DeleteBillingKey removes the key here and at the PG.
func (s *Service) DeleteBillingKey(ctx context.Context, merchantID int64, customerUID, reason string) (*core.BillingKey, error) {
	now := clock.For(s.clock, merchantID)
	k, err := s.store.DeleteBillingKey(ctx, merchantID, customerUID, func(tx *store.Tx) error {
		for _, h := range s.keyDeleteHooks {
			if err := h(ctx, tx, merchantID, customerUID, now); err != nil {
				return err
			}
		}
		return nil
	})
	s.keys.drop(merchantID, customerUID)
	if errors.Is(err, core.ErrNotFound) {
		return nil, ErrCustomerNotFound
	}
	if err != nil {
		return nil, err
	}
	// Our row is gone, so the key can never be charged through Billkey again;
	// revoking it at the PG is hygiene, and a failure there is only logged.
	if err := s.OpenKey(k); err != nil {
		s.log.Warn("revoke billing key at PG skipped", "customer_uid", customerUID, "pg", k.PGProvider, "err", err)
		return k, nil
	}
	pgctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.pgTimeout)
	defer cancel()
	if err := s.pg.DeleteBillingKey(pgctx, pg.Target{MerchantID: k.MerchantID, Provider: k.PGProvider, MID: k.PGID, Sandbox: k.Sandbox}, k.PGBillingKey); err != nil {
		s.log.Warn("revoke billing key at PG failed", "customer_uid", customerUID, "pg", k.PGProvider, "err", err)
	}
	return k, nil
}

// --- Payments ---

func (s *Service) validatePay(in *PayInput) error {
	return ValidateOrder("", in.MerchantUID, in.Amount, in.TaxFree, &in.Currency, in.Name)
}

// Onetime charges card data (key-in), storing it as a billing key when
// in.CustomerUID is set. A decline returns the failed payment and nil error.
func (s *Service) Onetime(ctx context.Context, merchantID int64, in PayInput) (*core.Payment, error) {
	if err := s.validatePay(&in); err != nil {
		return nil, err
	}
	if in.Card == nil {
		return nil, &ValidationError{Field: "card_number", Reason: "required"}
	}
	card, err := s.validateCard(*in.Card)
	if err != nil {
		return nil, err
	}
	ch, err := s.channelsOf.ResolveChannel(ctx, merchantID, in.PG)
	if err != nil {
		return nil, err
	}
	if in.CustomerUID == "" {
		p := s.newAttempt(merchantID, in, ch, "")
		p.CardNumber = vault.Mask(card.Number)
		if err := s.start(ctx, p, nil, nil); err != nil {
			return nil, err
		}
		return s.execute(ctx, p, pg.ChargeRequest{Card: &card}, nil)
	}
	if err := ValidateUID("customer_uid", in.CustomerUID, 80); err != nil {
		return nil, err
	}
	// Hold the order first so that a duplicate merchant_uid neither charges
	// nor replaces the customer's stored card.
	p := s.newAttempt(merchantID, in, ch, core.UsageIssue)
	p.CardNumber = vault.Mask(card.Number)
	if err := s.start(ctx, p, nil, nil); err != nil {
		return nil, err
	}
	k, err := s.issueKey(ctx, merchantID, IssueKeyInput{CustomerUID: in.CustomerUID, Card: card, PG: in.PG, Customer: in.Buyer, FirstCharge: in.Amount}, card, ch, nil)
	if err != nil {
		// The key was never made, so nothing was charged: release the order.
		reason := err.Error()
		var refused *PGRefusedError
		if errors.As(err, &refused) {
			reason = refused.Err.Message
		}
		now := clock.For(s.clock, merchantID)
		p.Status, p.FailedAt, p.FailReason, p.UpdatedAt = core.StatusFailed, now, reason, now
		if ferr := s.settle(ctx, p, Outcome{}, nil); ferr != nil {
			return nil, ferr
		}
		if refused != nil {
			refused.Payment = p
		}
		return nil, err
	}
	return s.execute(ctx, p, pg.ChargeRequest{BillingKey: k.PGBillingKey}, nil)
}

// Again charges a stored billing key. A decline returns the failed payment and
// nil error; an unknown outcome returns the payment in StatusUnknown.
func (s *Service) Again(ctx context.Context, merchantID int64, in PayInput) (*core.Payment, error) {
	if err := ValidateUID("customer_uid", in.CustomerUID, 80); err != nil {
		return nil, err
	}
	if err := s.validatePay(&in); err != nil {
		return nil, err
	}
	for tries := 0; ; tries++ {
		k, err := s.keyForCharge(ctx, merchantID, in.CustomerUID)
		if err != nil {
			return nil, err
		}
		p, req := s.PrepareAgain(merchantID, in, k)
		err = s.start(ctx, p, nil, versionOf(k))
		if errors.Is(err, store.ErrKeyChanged) && tries < 3 {
			s.keys.drop(merchantID, in.CustomerUID)
			continue
		}
		if err != nil {
			return nil, err
		}
		return s.execute(ctx, p, req, nil)
	}
}

// keyForCharge is the key to build a charge from: the copy kept in memory,
// else the stored row (then kept). The attempt's insert checks its version.
func (s *Service) keyForCharge(ctx context.Context, merchantID int64, customerUID string) (*core.BillingKey, error) {
	if k, ok := s.keys.get(merchantID, customerUID); ok {
		return &k, nil
	}
	k, err := s.store.GetBillingKey(ctx, merchantID, customerUID)
	if errors.Is(err, core.ErrNotFound) {
		return nil, ErrCustomerNotFound
	}
	if err != nil {
		return nil, err
	}
	s.keys.put(*k)
	return k, nil
}

// PrepareAgain builds the attempt and PG request for charging key k: buyer
// fields the caller left empty come from the key's customer fields.
func (s *Service) PrepareAgain(merchantID int64, in PayInput, k *core.BillingKey) (*core.Payment, pg.ChargeRequest) {
	b := &in.Buyer
	for _, f := range []struct {
		dst *string
		src string
	}{
		{&b.Name, k.Customer.Name}, {&b.Email, k.Customer.Email}, {&b.Tel, k.Customer.Tel},
		{&b.Addr, k.Customer.Addr}, {&b.Postcode, k.Customer.Postcode},
	} {
		if *f.dst == "" {
			*f.dst = f.src
		}
	}
	ch := core.Channel{Provider: k.PGProvider, MID: k.PGID, Sandbox: k.Sandbox}
	p := s.newAttempt(merchantID, in, ch, core.UsagePayment)
	p.CardName, p.CardCode, p.CardNumber, p.CardType = k.CardName, k.CardCode, k.CardNumber, k.CardType
	if k.PayMethod != "" {
		p.PayMethod = k.PayMethod // a phone, transfer or wallet-money key is not charged as a card
	}
	if err := s.OpenKey(k); err != nil {
		// Execute fails the attempt without calling the PG: an empty key
		// with no card is never sent.
		s.log.Error("open billing key", "customer_uid", k.CustomerUID, "err", err)
		return p, pg.ChargeRequest{}
	}
	return p, pg.ChargeRequest{BillingKey: k.PGBillingKey}
}

func (s *Service) GetPayment(ctx context.Context, merchantID int64, impUID string) (*core.Payment, error) {
	p, err := s.store.GetPayment(ctx, merchantID, impUID)
	if errors.Is(err, core.ErrNotFound) {
		return nil, ErrPaymentNotFound
	}
	return p, err
}

// FindPayment returns the first payment of a merchant_uid by sorting
// (default "-started"), optionally only with a v1 status.
func (s *Service) FindPayment(ctx context.Context, merchantID int64, merchantUID, status, sorting string) (*core.Payment, error) {
	if !store.ValidSorting(sorting) {
		return nil, &ValidationError{Field: "sorting", Reason: "unknown sorting"}
	}
	p, err := s.store.FindPayment(ctx, merchantID, merchantUID, status, sorting)
	if errors.Is(err, core.ErrNotFound) {
		return nil, ErrPaymentNotFound
	}
	return p, err
}

// GetPayments returns the payments found for the given imp_uids and
// merchant_uids (the latest per merchant_uid), each payment once even when
// both lists name it, and how many distinct ids found nothing.
func (s *Service) GetPayments(ctx context.Context, merchantID int64, impUIDs, merchantUIDs []string) ([]core.Payment, int, error) {
	found, err := s.store.GetPayments(ctx, merchantID, impUIDs)
	if err != nil {
		return nil, 0, err
	}
	byID := map[string]core.Payment{}
	for _, p := range found {
		byID[p.ImpUID] = p
	}
	var out []core.Payment
	seen := map[string]bool{}
	missing := 0
	add := func(p core.Payment) {
		if !seen[p.ImpUID] {
			seen[p.ImpUID] = true
			out = append(out, p)
		}
	}
	asked := map[string]bool{}
	for _, id := range impUIDs {
		if asked[id] {
			continue
		}
		asked[id] = true
		if p, ok := byID[id]; ok {
			add(p)
		} else {
			missing++
		}
	}
	askedMU := map[string]bool{}
	for _, mu := range merchantUIDs {
		if askedMU[mu] {
			continue
		}
		askedMU[mu] = true
		p, err := s.store.FindPayment(ctx, merchantID, mu, "", "")
		if errors.Is(err, core.ErrNotFound) {
			missing++
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		add(*p)
	}
	return out, missing, nil
}

func (s *Service) ListPayments(ctx context.Context, merchantID int64, q core.PaymentQuery) (core.PaymentPage, error) {
	if !store.ValidSorting(q.Sorting) {
		return core.PaymentPage{}, &ValidationError{Field: "sorting", Reason: "unknown sorting"}
	}
	switch q.Status {
	case "", "all", "ready", "paid", "failed", "cancelled":
	default:
		return core.PaymentPage{}, &ValidationError{Field: "payment_status", Reason: "unknown status"}
	}
	if q.Limit <= 0 {
		q.Limit = 20
	}
	if q.Limit > 1000 {
		return core.PaymentPage{}, &ValidationError{Field: "limit", Reason: "must be at most 1000"}
	}
	return s.store.ListPayments(ctx, merchantID, q)
}

// ErrCancelUnknown: the PG did not answer a refund; the reconciler will
// confirm it and the reservation keeps the balance from being refunded twice.
var ErrCancelUnknown = errors.New("cancel outcome unknown")

func (s *Service) Cancel(ctx context.Context, merchantID int64, in CancelInput) (*core.Payment, error) {
	if in.ImpUID == "" && in.MerchantUID == "" {
		return nil, &ValidationError{Field: "imp_uid", Reason: "imp_uid or merchant_uid required"}
	}
	now := s.clock.Now()
	c := core.Cancellation{ID: NewID("cncl_"), TaxFree: in.TaxFree, Reason: in.Reason, CreatedAt: now}
	p, err := s.store.ReserveCancel(ctx, merchantID, store.CancelTarget{ImpUID: in.ImpUID, MerchantUID: in.MerchantUID}, &c, in.Amount, in.Checksum, in.EnableWebhook)
	switch {
	case errors.Is(err, store.ErrNothingToCancel):
		return nil, ErrNothingToCancel
	case errors.Is(err, store.ErrChecksumMismatch):
		return nil, ErrChecksumMismatch
	case errors.Is(err, store.ErrCancelExceeds):
		return nil, ErrCancelExceeds
	case err != nil:
		return nil, err
	}
	target := pg.Target{MerchantID: p.MerchantID, Provider: p.PGProvider, MID: p.PGID, Sandbox: p.Sandbox}
	pgctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.pgTimeout)
	res, err := s.pg.Cancel(pgctx, pg.CancelRequest{Target: target, ChargeKey: p.ImpUID, IdempotencyKey: c.ID, Amount: c.Amount, Reason: c.Reason})
	cancel()
	ctx = context.WithoutCancel(ctx) // the PG has acted: store its answer even if the caller left
	var pgErr *pg.Error
	switch {
	case err == nil:
		c.Status, c.PGTID, c.ReceiptURL, c.CancelledAt = core.CancelDone, res.PGTID, s.receiptURL(res.ReceiptURL, p.ImpUID, c.ID), clock.For(s.clock, p.MerchantID)
	case errors.As(err, &pgErr):
		c.Status = core.CancelFailed
	default:
		s.log.Warn("cancel outcome unknown", "imp_uid", p.ImpUID, "cancellation_id", c.ID, "err", err)
		s.refunds.refunds.WithLabelValues(refundUnknown).Inc()
		return nil, fmt.Errorf("cancel %s: %w", p.ImpUID, ErrCancelUnknown)
	}
	done, err := s.settleCancel(ctx, merchantID, c)
	if err != nil {
		return nil, fmt.Errorf("cancel %s: %w", p.ImpUID, err)
	}
	if c.Status == core.CancelDone {
		s.refunds.refunds.WithLabelValues(refundDone).Inc()
		s.refunds.amount.WithLabelValues(p.Currency).Add(float64(c.Amount))
	} else {
		s.refunds.refunds.WithLabelValues(refundRefused).Inc()
	}
	if pgErr != nil {
		return nil, &PGRefusedError{Stage: "cancel", Err: pgErr, Payment: done}
	}
	return done, nil
}

// Prepare registers (update=false) or changes (update=true) the amount a
// payment-window payment for merchantUID must have.
func (s *Service) Prepare(ctx context.Context, merchantID int64, merchantUID string, amount int64, currency string, update bool) (*core.Prepared, error) {
	if err := ValidateUID("merchant_uid", merchantUID, 40); err != nil {
		return nil, err
	}
	if currency == "" {
		currency = "KRW"
	}
	if amount <= 0 {
		return nil, &ValidationError{Field: "amount", Reason: "must be greater than 0"}
	}
	p := core.Prepared{MerchantID: merchantID, MerchantUID: merchantUID, Amount: amount, Currency: currency, CreatedAt: s.clock.Now()}
	var err error
	if update {
		err = s.store.UpdatePrepared(ctx, p)
	} else {
		err = s.store.PutPrepared(ctx, p)
	}
	switch {
	case errors.Is(err, core.ErrConflict):
		return nil, ErrPrepareExists
	case errors.Is(err, core.ErrNotFound):
		return nil, ErrPrepareNotFound
	case err != nil:
		return nil, err
	}
	return &p, nil
}

func (s *Service) GetPrepared(ctx context.Context, merchantID int64, merchantUID string) (*core.Prepared, error) {
	p, err := s.store.GetPrepared(ctx, merchantID, merchantUID)
	if errors.Is(err, core.ErrNotFound) {
		return nil, ErrPrepareNotFound
	}
	return p, err
}
