package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/billkey/billkey/internal/core"
)

// Cancel errors.
var (
	ErrNothingToCancel  = errors.New("nothing to cancel")
	ErrChecksumMismatch = errors.New("checksum mismatch")
	ErrCancelExceeds    = errors.New("cancel exceeds refundable balance")
)

const cancelCols = `id, imp_uid, status, amount, tax_free, reason, pg_tid, receipt_url, cancelled_at, created_at`

func scanCancel(row interface{ Scan(...any) error }) (core.Cancellation, error) {
	var c core.Cancellation
	var status string
	var cancelled, created int64
	err := row.Scan(&c.ID, &c.ImpUID, &status, &c.Amount, &c.TaxFree, &c.Reason, &c.PGTID, &c.ReceiptURL, &cancelled, &created)
	c.Status, c.CancelledAt, c.CreatedAt = core.CancelStatus(status), tm(cancelled), tm(created)
	return c, err
}

func (s *Store) loadCancels(ctx context.Context, q querier, ps []*core.Payment) error {
	var ids []any
	byID := map[string]*core.Payment{}
	for _, p := range ps {
		p.Cancels = []core.Cancellation{}
		// Only payments that ever saw a refund have rows; skip the query otherwise.
		if p.CancelAmount > 0 || p.Status == core.StatusCancelled || p.Status == core.StatusPaid {
			ids = append(ids, p.ImpUID)
			byID[p.ImpUID] = p
		}
	}
	if len(ids) == 0 {
		return nil
	}
	rows, err := q.QueryContext(ctx, s.rebind(`SELECT `+cancelCols+` FROM cancellations WHERE imp_uid IN `+inList(len(ids))+
		` ORDER BY created_at, id`), ids...)
	if err != nil {
		return fmt.Errorf("load cancels: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanCancel(rows)
		if err != nil {
			return err
		}
		p := byID[c.ImpUID]
		p.Cancels = append(p.Cancels, c)
	}
	return rows.Err()
}

// CancelTarget names the payment to refund: imp_uid wins over merchant_uid.
type CancelTarget struct {
	ImpUID      string
	MerchantUID string
}

// ReserveCancel records a pending refund of amount (nil = the whole
// refundable balance). The refundable balance counts pending refunds as
// spent, and the payment row is locked meanwhile, so concurrent cancels can
// never refund more than was paid.
func (s *Store) ReserveCancel(ctx context.Context, merchantID int64, target CancelTarget, c *core.Cancellation, amount, checksum *int64, enableWebhook bool) (*core.Payment, error) {
	var p *core.Payment
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		if target.ImpUID != "" {
			p, err = scanPayment(tx.queryRow(ctx, `SELECT `+paymentCols+` FROM payments WHERE merchant_id = ? AND imp_uid = ?`+s.forUpdate(),
				merchantID, target.ImpUID))
		} else {
			p, err = scanPayment(tx.queryRow(ctx, `SELECT `+paymentCols+` FROM payments WHERE merchant_id = ? AND merchant_uid = ?
				AND status IN ('paid', 'cancelled')`+s.forUpdate(), merchantID, target.MerchantUID))
		}
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNothingToCancel
		}
		if err != nil {
			return fmt.Errorf("cancel lookup: %w", err)
		}
		if p.Status != core.StatusPaid && p.Status != core.StatusCancelled {
			return ErrNothingToCancel
		}
		var pending int64
		if err := tx.queryRow(ctx, pendingRefundsSQL, p.ImpUID).Scan(&pending); err != nil {
			return fmt.Errorf("pending cancels: %w", err)
		}
		refundable := p.Amount - p.CancelAmount - pending
		if refundable <= 0 {
			return ErrNothingToCancel
		}
		if checksum != nil && *checksum != refundable {
			return ErrChecksumMismatch
		}
		c.Amount = refundable
		if amount != nil && *amount > 0 {
			if *amount > refundable {
				return ErrCancelExceeds
			}
			c.Amount = *amount
		}
		c.ImpUID, c.Status = p.ImpUID, core.CancelPending
		_, err = tx.exec(ctx, `INSERT INTO cancellations (id, imp_uid, merchant_id, status, amount, tax_free, reason, enable_webhook, created_at)
			VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?)`, c.ID, c.ImpUID, merchantID, c.Amount, c.TaxFree, c.Reason, b2i(enableWebhook), us(c.CreatedAt))
		if err != nil {
			return fmt.Errorf("reserve cancel: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// FinishCancel settles a pending refund: done adds it to the payment's
// cancelled amount (status becomes cancelled, as v1 does even for partial
// refunds); failed releases the reservation. hooks runs in the same
// transaction only when the refund is done; FinishCancel returns how many
// outbox events it wrote.
func (s *Store) FinishCancel(ctx context.Context, merchantID int64, c core.Cancellation, hooks func(tx *Tx, p *core.Payment, enableWebhook bool) error) (*core.Payment, int, error) {
	var p *core.Payment
	events := 0
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		p, err = scanPayment(tx.queryRow(ctx, `SELECT `+paymentCols+` FROM payments WHERE merchant_id = ? AND imp_uid = ?`+s.forUpdate(),
			merchantID, c.ImpUID))
		if err != nil {
			return notFound(err, "payment "+c.ImpUID)
		}
		var enable int64
		var reason string
		err = tx.queryRow(ctx, pendingRefundSQL+s.forUpdate(),
			c.ID, c.ImpUID).Scan(&enable, &reason)
		if err != nil {
			return notFound(err, "pending cancellation "+c.ID)
		}
		if _, err := tx.exec(ctx, `UPDATE cancellations SET status = ?, pg_tid = ?, receipt_url = ?, cancelled_at = ? WHERE id = ?`,
			string(c.Status), c.PGTID, c.ReceiptURL, us(c.CancelledAt), c.ID); err != nil {
			return fmt.Errorf("finish cancel: %w", err)
		}
		if c.Status != core.CancelDone {
			return nil
		}
		p.CancelAmount += c.Amount
		p.Status, p.CancelledAt, p.CancelReason, p.UpdatedAt = core.StatusCancelled, c.CancelledAt, reason, c.CancelledAt
		if _, err := tx.exec(ctx, `UPDATE payments SET status = 'cancelled', cancel_amount = ?, cancelled_at = ?, cancel_reason = ?, updated_at = ?
			WHERE merchant_id = ? AND imp_uid = ?`, p.CancelAmount, us(p.CancelledAt), p.CancelReason, us(p.UpdatedAt), merchantID, p.ImpUID); err != nil {
			return fmt.Errorf("apply cancel: %w", err)
		}
		if hooks != nil {
			if err := hooks(tx, p, enable != 0); err != nil {
				return err
			}
		}
		events = tx.events
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	if err := s.loadCancels(ctx, s.db, []*core.Payment{p}); err != nil {
		return nil, 0, err
	}
	return p, events, nil
}

// PendingCancel is a refund whose PG outcome was never recorded.
type PendingCancel struct {
	MerchantID int64
	Cancel     core.Cancellation
	// Checks counts the look-ups that found nothing at the PG so far.
	Checks int
}

// StalePendingCancels lists refunds pending since before olderThan whose
// next look-up is due at now, across merchants: the reconciler's work.
func (s *Store) StalePendingCancels(ctx context.Context, olderThan, now time.Time, limit int) ([]PendingCancel, error) {
	rows, err := s.query(ctx, `SELECT merchant_id, checks, `+cancelCols+` FROM cancellations WHERE status = 'pending' AND created_at < ?
		AND next_check_at <= ? ORDER BY created_at LIMIT ?`, us(olderThan), us(now), limit)
	if err != nil {
		return nil, fmt.Errorf("stale cancels: %w", err)
	}
	defer rows.Close()
	var out []PendingCancel
	for rows.Next() {
		var pc PendingCancel
		var status string
		var cancelled, created int64
		c := &pc.Cancel
		if err := rows.Scan(&pc.MerchantID, &pc.Checks, &c.ID, &c.ImpUID, &status, &c.Amount, &c.TaxFree, &c.Reason, &c.PGTID, &c.ReceiptURL, &cancelled, &created); err != nil {
			return nil, err
		}
		c.Status, c.CancelledAt, c.CreatedAt = core.CancelStatus(status), tm(cancelled), tm(created)
		out = append(out, pc)
	}
	return out, rows.Err()
}

// stillPendingRefund guards the statements that address one payment's
// refunds or one refund. Plainly written it matched cancellations_pending,
// every refund in flight (after a PG outage, all of them).
var stillPendingRefund = keyGuard("status = 'pending'")

var (
	pendingRefundsSQL        = `SELECT COALESCE(SUM(amount), 0) FROM cancellations WHERE imp_uid = ? AND ` + stillPendingRefund
	pendingRefundSQL         = `SELECT enable_webhook, reason FROM cancellations WHERE id = ? AND imp_uid = ? AND ` + stillPendingRefund
	rescheduleCancelCheckSQL = `UPDATE cancellations SET checks = ?, next_check_at = ? WHERE merchant_id = ? AND id = ? AND ` + stillPendingRefund
)

// RescheduleCancelCheck records a look-up of a pending refund that found
// nothing at the PG, and when to look again.
func (s *Store) RescheduleCancelCheck(ctx context.Context, merchantID int64, id string, next time.Time, checks int) error {
	_, err := s.exec(ctx, rescheduleCancelCheckSQL,
		checks, us(next), merchantID, id)
	if err != nil {
		return fmt.Errorf("reschedule cancel check %s: %w", id, err)
	}
	return nil
}

// PutPrepared registers an amount; core.ErrConflict if one exists already.
func (s *Store) PutPrepared(ctx context.Context, p core.Prepared) error {
	res, err := s.exec(ctx, `INSERT INTO prepared (merchant_id, merchant_uid, amount, currency, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, p.MerchantID, p.MerchantUID, p.Amount, p.Currency, us(p.CreatedAt))
	if err != nil {
		return fmt.Errorf("prepare %s: %w", p.MerchantUID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("prepare %s: %w", p.MerchantUID, core.ErrConflict)
	}
	return nil
}

// UpdatePrepared changes a registered amount; core.ErrNotFound if none.
func (s *Store) UpdatePrepared(ctx context.Context, p core.Prepared) error {
	res, err := s.exec(ctx, `UPDATE prepared SET amount = ?, currency = ? WHERE merchant_id = ? AND merchant_uid = ?`,
		p.Amount, p.Currency, p.MerchantID, p.MerchantUID)
	if err != nil {
		return fmt.Errorf("update prepared %s: %w", p.MerchantUID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("update prepared %s: %w", p.MerchantUID, core.ErrNotFound)
	}
	return nil
}

// GetPrepared returns a registered amount.
func (s *Store) GetPrepared(ctx context.Context, merchantID int64, merchantUID string) (*core.Prepared, error) {
	p := core.Prepared{MerchantID: merchantID, MerchantUID: merchantUID}
	var created int64
	err := s.queryRow(ctx, `SELECT amount, currency, created_at FROM prepared WHERE merchant_id = ? AND merchant_uid = ?`,
		merchantID, merchantUID).Scan(&p.Amount, &p.Currency, &created)
	if err != nil {
		return nil, notFound(err, "prepared "+merchantUID)
	}
	p.CreatedAt = tm(created)
	return &p, nil
}
