package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/billkey/billkey/internal/core"
)

// OrderHeldError: another payment already holds the merchant_uid (running,
// unknown, paid or cancelled). The unique index raised it, not a check in code.
type OrderHeldError struct{ Existing *core.Payment }

func (e *OrderHeldError) Error() string {
	return fmt.Sprintf("merchant_uid %s held by %s (%s)", e.Existing.MerchantUID, e.Existing.ImpUID, e.Existing.Status)
}

// ErrIDTaken: the generated imp_uid collided; generate another.
var ErrIDTaken = errors.New("imp_uid already taken")

const paymentCols = `imp_uid, merchant_id, merchant_uid, status, pay_method, channel, pg_provider, pg_id, pg_tid, sandbox,
	apply_num, card_code, card_name, card_number, card_type, card_quota, name, amount, cancel_amount, currency,
	tax_free, vat_amount, buyer_name, buyer_email, buyer_tel, buyer_addr, buyer_postcode, custom_data, notice_url,
	customer_uid, customer_uid_usage, started_at, paid_at, failed_at, cancelled_at, fail_reason, cancel_reason,
	receipt_url, attempt_deadline, next_check_at, checks, updated_at, notify`

func paymentArgs(p *core.Payment) []any {
	return []any{p.ImpUID, p.MerchantID, p.MerchantUID, string(p.Status), p.PayMethod, p.Channel, p.PGProvider, p.PGID, p.PGTID, b2i(p.Sandbox),
		p.ApplyNum, p.CardCode, p.CardName, p.CardNumber, nullInt(p.CardType), p.CardQuota, p.Name, p.Amount, p.CancelAmount, p.Currency,
		p.TaxFree, nullInt64(p.VatAmount), p.Buyer.Name, p.Buyer.Email, p.Buyer.Tel, p.Buyer.Addr, p.Buyer.Postcode, nullStr(p.CustomData), p.NoticeURL,
		p.CustomerUID, p.CustomerUIDUsage, us(p.StartedAt), us(p.PaidAt), us(p.FailedAt), us(p.CancelledAt), p.FailReason, p.CancelReason,
		p.ReceiptURL, us(p.AttemptDeadline), us(p.NextCheckAt), p.Checks, us(p.UpdatedAt), dialectOf(p)}
}

func dialectOf(p *core.Payment) string {
	if p.Dialect == "" {
		return string(core.DialectV1)
	}
	return string(p.Dialect)
}

func scanPayment(row interface{ Scan(...any) error }) (*core.Payment, error) {
	var p core.Payment
	var status, dialect string
	var sandbox, started, paid, failed, cancelled, deadline, next, updated int64
	var cardType, vat sql.NullInt64
	var custom sql.NullString
	err := row.Scan(&p.ImpUID, &p.MerchantID, &p.MerchantUID, &status, &p.PayMethod, &p.Channel, &p.PGProvider, &p.PGID, &p.PGTID, &sandbox,
		&p.ApplyNum, &p.CardCode, &p.CardName, &p.CardNumber, &cardType, &p.CardQuota, &p.Name, &p.Amount, &p.CancelAmount, &p.Currency,
		&p.TaxFree, &vat, &p.Buyer.Name, &p.Buyer.Email, &p.Buyer.Tel, &p.Buyer.Addr, &p.Buyer.Postcode, &custom, &p.NoticeURL,
		&p.CustomerUID, &p.CustomerUIDUsage, &started, &paid, &failed, &cancelled, &p.FailReason, &p.CancelReason,
		&p.ReceiptURL, &deadline, &next, &p.Checks, &updated, &dialect)
	if err != nil {
		return nil, err
	}
	p.Status, p.Sandbox, p.Dialect = core.PaymentStatus(status), sandbox != 0, core.Dialect(dialect)
	p.CardType, p.VatAmount, p.CustomData = intPtr(cardType), int64Ptr(vat), strPtr(custom)
	p.StartedAt, p.PaidAt, p.FailedAt, p.CancelledAt = tm(started), tm(paid), tm(failed), tm(cancelled)
	p.AttemptDeadline, p.NextCheckAt, p.UpdatedAt = tm(deadline), tm(next), tm(updated)
	return &p, nil
}

// BeginAttempt records a payment attempt before the PG is called. It fails
// with *OrderHeldError when the merchant_uid is already held, and ErrIDTaken
// on an imp_uid collision.
func (s *Store) BeginAttempt(ctx context.Context, p *core.Payment) error {
	return s.Statements(ctx, func(tx *Tx) error { return tx.BeginAttempt(ctx, p) })
}

// BeginAttempt is BeginAttempt inside a transaction.
func (tx *Tx) BeginAttempt(ctx context.Context, p *core.Payment) error {
	return tx.beginAttempt(ctx, p, nil)
}

// ErrKeyChanged: the billing key an attempt was built from is no longer
// the stored one (re-issued, re-wrapped or deleted since it was read).
var ErrKeyChanged = errors.New("billing key changed since it was read")

// KeyVersion names the stored state of a billing key an attempt is built
// from: the attempt is recorded only if the key is still at that version.
type KeyVersion struct {
	CustomerUID string
	Version     int64
}

// BeginAttemptOnKey is BeginAttempt for a charge built from a billing key
// read earlier (possibly from memory): in the same statement it checks that
// the key is still at k's version, and fails with ErrKeyChanged otherwise.
// That check is what lets a node keep keys in memory without a read per
// charge and still never charge a key replaced or deleted elsewhere.
func (tx *Tx) BeginAttemptOnKey(ctx context.Context, p *core.Payment, k KeyVersion) error {
	return tx.beginAttempt(ctx, p, &k)
}

// The attempt inserts, built once: a charge is on the hot path.
var (
	beginAttemptSQL = `INSERT INTO payments (` + paymentCols + `) VALUES (` + placeholders(43) + `) ON CONFLICT DO NOTHING`
	// SQLite needs the WHERE to read ON CONFLICT as the upsert clause.
	beginAttemptOnKeySQL = `INSERT INTO payments (` + paymentCols + `) SELECT ` + placeholders(43) + `
		WHERE EXISTS (SELECT 1 FROM billing_keys WHERE merchant_id = ? AND customer_uid = ? AND version = ?)
		ON CONFLICT DO NOTHING`
)

func (tx *Tx) beginAttempt(ctx context.Context, p *core.Payment, k *KeyVersion) error {
	q, args := beginAttemptSQL, paymentArgs(p)
	if k != nil {
		q, args = beginAttemptOnKeySQL, append(args, p.MerchantID, k.CustomerUID, k.Version)
	}
	res, err := tx.exec(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("begin attempt %s: %w", p.MerchantUID, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	held, err := scanPayment(tx.queryRow(ctx, `SELECT `+paymentCols+` FROM payments
		WHERE merchant_id = ? AND merchant_uid = ? AND status IN ('pending', 'unknown', 'paid', 'cancelled')`, p.MerchantID, p.MerchantUID))
	if err == nil {
		return &OrderHeldError{Existing: held}
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("begin attempt %s: %w", p.MerchantUID, err)
	}
	if k != nil {
		var v int64
		err := tx.queryRow(ctx, `SELECT version FROM billing_keys WHERE merchant_id = ? AND customer_uid = ?`, p.MerchantID, k.CustomerUID).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && v != k.Version) {
			return fmt.Errorf("begin attempt %s on key %s: %w", p.MerchantUID, k.CustomerUID, ErrKeyChanged)
		}
		if err != nil {
			return fmt.Errorf("begin attempt %s: %w", p.MerchantUID, err)
		}
	}
	return ErrIDTaken
}

// SetWindowTerms corrects what a payment window turned out to be once the PG
// answered: the amount it approved (0 when its window only displays the
// amount) and the method the buyer chose inside a wallet.
func (tx *Tx) SetWindowTerms(ctx context.Context, merchantID int64, impUID string, amount int64, payMethod string) error {
	_, err := tx.exec(ctx, `UPDATE payments SET vat_amount = CASE WHEN amount = ? THEN vat_amount ELSE 0 END,
		tax_free = CASE WHEN amount = ? THEN tax_free ELSE 0 END, amount = ?, pay_method = ?
		WHERE merchant_id = ? AND imp_uid = ?`, amount, amount, amount, payMethod, merchantID, impUID)
	if err != nil {
		return fmt.Errorf("set window terms %s: %w", impUID, err)
	}
	return nil
}

var markUnknownSQL = `UPDATE payments SET status = 'unknown', next_check_at = ?, updated_at = ?
	WHERE merchant_id = ? AND imp_uid = ? AND ` + stillUnresolved

// MarkUnknown moves a pending attempt to unknown with its next look-up time.
func (s *Store) MarkUnknown(ctx context.Context, merchantID int64, impUID string, nextCheck, now time.Time) error {
	_, err := s.exec(ctx, markUnknownSQL, us(nextCheck), us(now), merchantID, impUID)
	if err != nil {
		return fmt.Errorf("mark unknown %s: %w", impUID, err)
	}
	return nil
}

// unresolved is the status of an attempt the reconciler may still have to
// look up, as the claim states it to read the partial index of such attempts.
const unresolved = `status IN ('pending', 'unknown')`

// stillUnresolved is unresolved for statements that address one payment by
// id. Plainly written it matched the partial indexes payments_unresolved and
// payments_order_holder: settlements read 27 entries of the first in a 15 s
// run, and after an ANALYZE of an empty table every held order of the
// merchant through the second.
var stillUnresolved = keyGuard(unresolved)

// ClaimUnresolved leases up to limit attempts whose look-up is due: their
// next_check_at moves to leaseUntil so another node does not take them too.
// It spans merchants: it is the reconciler's work queue.
func (s *Store) ClaimUnresolved(ctx context.Context, now, leaseUntil time.Time, limit int) ([]core.Payment, error) {
	q, args := s.claimSQL(claim{
		table: "payments", key: "imp_uid", still: unresolved,
		due: `next_check_at <= ?`, dueArgs: []any{us(now)}, order: "next_check_at", limit: limit,
		set: `next_check_at = ?`, setArgs: []any{us(leaseUntil)}, returning: paymentCols,
	})
	var out []core.Payment
	err := s.InTx(ctx, func(tx *Tx) error {
		rows, err := tx.query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("claim unresolved: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			p, err := scanPayment(rows)
			if err != nil {
				return err
			}
			out = append(out, *p)
		}
		return rows.Err()
	})
	return out, err
}

var rescheduleCheckSQL = `UPDATE payments SET status = 'unknown', next_check_at = ?, checks = ?
	WHERE merchant_id = ? AND imp_uid = ? AND ` + stillUnresolved

// RescheduleCheck sets when an unresolved attempt is looked up next.
func (s *Store) RescheduleCheck(ctx context.Context, merchantID int64, impUID string, next time.Time, checks int) error {
	_, err := s.exec(ctx, rescheduleCheckSQL, us(next), checks, merchantID, impUID)
	return err
}

var noteNotSeenSQL = `UPDATE payments SET status = 'unknown', next_check_at = ?, checks = ?, not_seen = not_seen + 1
	WHERE merchant_id = ? AND imp_uid = ? AND ` + stillUnresolved + ` RETURNING not_seen`

// NoteNotSeen records a look-up past the attempt deadline that found no
// trace of the charge and schedules the next one, returning how many such
// look-ups the attempt has had. It reports 0 when the attempt is no longer
// unresolved (another node settled it meanwhile).
func (s *Store) NoteNotSeen(ctx context.Context, merchantID int64, impUID string, next time.Time, checks int) (int, error) {
	var n int
	err := s.InTx(ctx, func(tx *Tx) error {
		err := tx.queryRow(ctx, noteNotSeenSQL, us(next), checks, merchantID, impUID).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			n = 0
			return nil
		}
		return err
	})
	return n, err
}

// GetPayment returns one payment with its refunds.
func (s *Store) GetPayment(ctx context.Context, merchantID int64, impUID string) (*core.Payment, error) {
	p, err := scanPayment(s.queryRow(ctx, `SELECT `+paymentCols+` FROM payments WHERE merchant_id = ? AND imp_uid = ?`, merchantID, impUID))
	if err != nil {
		return nil, notFound(err, "payment "+impUID)
	}
	if err := s.loadCancels(ctx, s.db, []*core.Payment{p}); err != nil {
		return nil, err
	}
	return p, nil
}

// PaymentByImpUID finds a payment by imp_uid alone (imp_uids are unique
// across merchants), with its cancellations: for pages addressed by imp_uid,
// such as receipts.
func (s *Store) PaymentByImpUID(ctx context.Context, impUID string) (*core.Payment, error) {
	p, err := scanPayment(s.queryRow(ctx, `SELECT `+paymentCols+` FROM payments WHERE imp_uid = ?`, impUID))
	if err != nil {
		return nil, notFound(err, "payment "+impUID)
	}
	if err := s.loadCancels(ctx, s.db, []*core.Payment{p}); err != nil {
		return nil, err
	}
	return p, nil
}

// GetPayments returns the merchant's payments among impUIDs.
func (s *Store) GetPayments(ctx context.Context, merchantID int64, impUIDs []string) ([]core.Payment, error) {
	if len(impUIDs) == 0 {
		return nil, nil
	}
	args := []any{merchantID}
	for _, u := range impUIDs {
		args = append(args, u)
	}
	return s.listPayments(ctx, `SELECT `+paymentCols+` FROM payments WHERE merchant_id = ? AND imp_uid IN (`+placeholders(len(impUIDs))+`)`, args...)
}

var sortings = map[string]string{
	"":         "started_at DESC",
	"-started": "started_at DESC",
	"started":  "started_at ASC",
	"-paid":    "paid_at DESC",
	"paid":     "paid_at ASC",
	"-updated": "updated_at DESC",
	"updated":  "updated_at ASC",
}

// ValidSorting reports whether a v1 sorting value is known.
func ValidSorting(s string) bool { _, ok := sortings[s]; return ok }

var timeFields = map[string]string{
	"": "started_at", "started": "started_at", "paid": "paid_at", "failed": "failed_at",
	"cancelled": "cancelled_at", "updated": "updated_at",
}

// statusFilter turns a v1 status into SQL: "ready" covers attempts whose
// outcome Billkey does not know yet.
func statusFilter(status string) (string, []any) {
	switch status {
	case "", "all":
		return "", nil
	case "ready":
		return " AND status IN ('ready', 'pending', 'unknown')", nil
	default:
		return " AND status = ?", []any{status}
	}
}

// ListPayments pages through a merchant's payments.
func (s *Store) ListPayments(ctx context.Context, merchantID int64, q core.PaymentQuery) (core.PaymentPage, error) {
	where := " WHERE merchant_id = ?"
	args := []any{merchantID}
	if q.MerchantUID != "" {
		where += " AND merchant_uid = ?"
		args = append(args, q.MerchantUID)
	}
	if q.CustomerUID != "" {
		where += " AND customer_uid = ?"
		args = append(args, q.CustomerUID)
	}
	sf, sa := statusFilter(q.Status)
	where += sf
	args = append(args, sa...)
	col, ok := timeFields[q.TimeField]
	if !ok {
		return core.PaymentPage{}, fmt.Errorf("time field %q: %w", q.TimeField, core.ErrConflict)
	}
	if !q.From.IsZero() {
		where += " AND " + col + " >= ?"
		args = append(args, us(q.From))
	}
	if !q.To.IsZero() {
		where += " AND " + col + " < ?"
		args = append(args, us(q.To))
	}
	order, ok := sortings[q.Sorting]
	if !ok {
		order = sortings[""]
	}
	page := core.PaymentPage{Pager: core.Pager{Page: max(q.Page, 1), Limit: q.Limit}}
	if page.Limit <= 0 {
		page.Limit = 20
	}
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM payments`+where, args...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("count payments: %w", err)
	}
	list, err := s.listPayments(ctx, `SELECT `+paymentCols+` FROM payments`+where+` ORDER BY `+order+`, imp_uid LIMIT ? OFFSET ?`,
		append(args, page.Limit, (page.Page-1)*page.Limit)...)
	if err != nil {
		return page, err
	}
	page.Payments = list
	return page, nil
}

// FindPayment returns the first payment of a merchant_uid by sorting.
func (s *Store) FindPayment(ctx context.Context, merchantID int64, merchantUID, status, sorting string) (*core.Payment, error) {
	page, err := s.ListPayments(ctx, merchantID, core.PaymentQuery{MerchantUID: merchantUID, Status: status, Sorting: sorting, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(page.Payments) == 0 {
		return nil, fmt.Errorf("payment for %s: %w", merchantUID, core.ErrNotFound)
	}
	return &page.Payments[0], nil
}

func (s *Store) listPayments(ctx context.Context, q string, args ...any) ([]core.Payment, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list payments: %w", err)
	}
	var list []*core.Payment
	for rows.Next() {
		p, err := scanPayment(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		list = append(list, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := s.loadCancels(ctx, s.db, list); err != nil {
		return nil, err
	}
	out := make([]core.Payment, len(list))
	for i, p := range list {
		out[i] = *p
	}
	return out, nil
}

// An outbox row as inserted; eventValues has one placeholder per eventArgs value.
const (
	eventCols   = `id, merchant_id, type, imp_uid, payload, url, body_format, profile, status, next_attempt_at, created_at, request_id`
	eventValues = `?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?`
)

// eventArgs encodes an event for eventCols: a v1 field map is stored as
// JSON and encoded per merchant at delivery; an exact body as given.
func eventArgs(e core.Event) ([]any, error) {
	body := e.Body
	if e.BodyFormat == "" {
		b, err := json.Marshal(e.Payload)
		if err != nil {
			return nil, fmt.Errorf("event %s payload: %w", e.Type, err)
		}
		body = string(b)
	}
	return []any{e.ID, e.MerchantID, e.Type, e.ImpUID, body, e.URL, e.BodyFormat, e.Profile, us(e.CreatedAt), us(e.CreatedAt), e.RequestID}, nil
}

// Events lists the outbox events of a payment (tests, operator view).
func (s *Store) Events(ctx context.Context, merchantID int64, impUID string) ([]core.Event, error) {
	rows, err := s.query(ctx, `SELECT id, merchant_id, type, imp_uid, payload, url, body_format, profile, created_at FROM events
		WHERE merchant_id = ? AND imp_uid = ? ORDER BY created_at, id`, merchantID, impUID)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	defer rows.Close()
	var out []core.Event
	for rows.Next() {
		var e core.Event
		var body string
		var created int64
		if err := rows.Scan(&e.ID, &e.MerchantID, &e.Type, &e.ImpUID, &body, &e.URL, &e.BodyFormat, &e.Profile, &created); err != nil {
			return nil, err
		}
		if e.BodyFormat != "" {
			e.Body = body
		} else if err := json.Unmarshal([]byte(body), &e.Payload); err != nil {
			return nil, fmt.Errorf("event %s payload: %w", e.ID, err)
		}
		e.CreatedAt = tm(created)
		out = append(out, e)
	}
	return out, rows.Err()
}

func inList(n int) string { return "(" + strings.TrimSuffix(strings.Repeat("?,", n), ",") + ")" }
