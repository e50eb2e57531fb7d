package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/billkey/billkey/internal/core"
)

// ScheduleExistsError: a merchant_uid in a booking is already scheduled
// (in any state) or already paid. Nothing of the booking was written.
type ScheduleExistsError struct {
	MerchantUID string
	Paid        bool // held by a payment rather than by another schedule
}

func (e *ScheduleExistsError) Error() string {
	if e.Paid {
		return fmt.Sprintf("merchant_uid %s already has a payment", e.MerchantUID)
	}
	return fmt.Sprintf("merchant_uid %s already scheduled", e.MerchantUID)
}

// ErrScheduleState: the schedule exists but is not in a state that allows
// the change (move a running entry, reschedule a paid one...).
var ErrScheduleState = errors.New("schedule is not in a state that allows this")

// scheduleFields are the stored columns; reads add the payment's current
// status so that a refunded execution shows as cancelled.
var scheduleFields = []string{"id", "merchant_id", "merchant_uid", "customer_uid", "customer_id", "status", "schedule_at", "amount", "currency",
	"tax_free", "vat_amount", "name", "buyer_name", "buyer_email", "buyer_tel", "buyer_addr", "buyer_postcode", "custom_data",
	"notice_url", "card_quota", "promotion_id", "pg_provider", "pg_id", "imp_uid", "payment_status", "fail_reason",
	"executed_at", "revoked_at", "created_at", "updated_at", "subscription_id"}

func scheduleCols(alias string) string {
	if alias == "" {
		return strings.Join(scheduleFields, ", ")
	}
	return alias + "." + strings.Join(scheduleFields, ", "+alias+".")
}

// scheduleSelect reads schedules joined with their payment's live status.
var scheduleSelect = `SELECT ` + scheduleCols("s") + `, COALESCE(p.status, '') FROM schedules s
	LEFT JOIN payments p ON p.imp_uid = s.imp_uid AND p.merchant_id = s.merchant_id AND s.imp_uid <> ''`

func scanSchedule(row interface{ Scan(...any) error }, withPayment bool) (*core.Schedule, error) {
	var sc core.Schedule
	var status, payStatus, livePay string
	var at, executed, revoked, created, updated int64
	var vat sql.NullInt64
	var custom sql.NullString
	dst := []any{&sc.ID, &sc.MerchantID, &sc.MerchantUID, &sc.CustomerUID, &sc.CustomerID, &status, &at, &sc.Amount, &sc.Currency,
		&sc.TaxFree, &vat, &sc.Name, &sc.Buyer.Name, &sc.Buyer.Email, &sc.Buyer.Tel, &sc.Buyer.Addr, &sc.Buyer.Postcode, &custom,
		&sc.NoticeURL, &sc.CardQuota, &sc.PromotionID, &sc.PGProvider, &sc.PGID, &sc.ImpUID, &payStatus, &sc.FailReason,
		&executed, &revoked, &created, &updated, &sc.SubscriptionID}
	if withPayment {
		dst = append(dst, &livePay)
	}
	if err := row.Scan(dst...); err != nil {
		return nil, err
	}
	sc.Status, sc.PaymentStatus = core.ScheduleStatus(status), core.PaymentStatus(payStatus)
	// A refund after execution is the one later change V1 shows on the schedule.
	if sc.Status == core.ScheduleExecuted && livePay == string(core.StatusCancelled) {
		sc.PaymentStatus = core.StatusCancelled
	}
	sc.VatAmount, sc.CustomData = int64Ptr(vat), strPtr(custom)
	sc.ScheduleAt, sc.ExecutedAt, sc.RevokedAt, sc.CreatedAt, sc.UpdatedAt = tm(at), tm(executed), tm(revoked), tm(created), tm(updated)
	return &sc, nil
}

func collectSchedules(rows *sql.Rows, withPayment bool) ([]core.Schedule, error) {
	defer rows.Close()
	out := []core.Schedule{}
	for rows.Next() {
		sc, err := scanSchedule(rows, withPayment)
		if err != nil {
			return nil, err
		}
		out = append(out, *sc)
	}
	return out, rows.Err()
}

// InsertSchedules books a batch atomically: if any merchant_uid is already
// scheduled or paid, nothing is written and *ScheduleExistsError names it.
func (s *Store) InsertSchedules(ctx context.Context, list []core.Schedule) error {
	return s.InTx(ctx, func(tx *Tx) error {
		for i := range list {
			sc := &list[i]
			var held int
			err := tx.queryRow(ctx, `SELECT COUNT(*) FROM payments WHERE merchant_id = ? AND merchant_uid = ?
				AND status IN ('pending', 'unknown', 'paid', 'cancelled')`, sc.MerchantID, sc.MerchantUID).Scan(&held)
			if err != nil {
				return fmt.Errorf("book schedule %s: %w", sc.MerchantUID, err)
			}
			if held > 0 {
				return &ScheduleExistsError{MerchantUID: sc.MerchantUID, Paid: true}
			}
			// ON CONFLICT DO NOTHING rather than catching the unique
			// violation: on Postgres an error would abort the transaction.
			err = tx.queryRow(ctx, `INSERT INTO schedules (merchant_id, merchant_uid, customer_uid, customer_id, status, schedule_at,
				amount, currency, tax_free, vat_amount, name, buyer_name, buyer_email, buyer_tel, buyer_addr, buyer_postcode,
				custom_data, notice_url, card_quota, promotion_id, pg_provider, pg_id, created_at, updated_at)
				VALUES (`+placeholders(24)+`) ON CONFLICT DO NOTHING RETURNING id`,
				sc.MerchantID, sc.MerchantUID, sc.CustomerUID, sc.CustomerID, string(core.ScheduleScheduled), us(sc.ScheduleAt),
				sc.Amount, sc.Currency, sc.TaxFree, nullInt64(sc.VatAmount), sc.Name, sc.Buyer.Name, sc.Buyer.Email, sc.Buyer.Tel,
				sc.Buyer.Addr, sc.Buyer.Postcode, nullStr(sc.CustomData), sc.NoticeURL, sc.CardQuota, sc.PromotionID,
				sc.PGProvider, sc.PGID, us(sc.CreatedAt), us(sc.UpdatedAt)).Scan(&sc.ID)
			if errors.Is(err, sql.ErrNoRows) {
				return &ScheduleExistsError{MerchantUID: sc.MerchantUID}
			}
			if err != nil {
				return fmt.Errorf("book schedule %s: %w", sc.MerchantUID, err)
			}
			sc.Status = core.ScheduleScheduled
		}
		return nil
	})
}

// ScheduleExists reports which of merchantUIDs are already scheduled or
// paid, so that a booking can be refused before a billing key is issued.
func (s *Store) ScheduleExists(ctx context.Context, merchantID int64, merchantUIDs []string) (*ScheduleExistsError, error) {
	if len(merchantUIDs) == 0 {
		return nil, nil
	}
	args := []any{merchantID}
	for _, m := range merchantUIDs {
		args = append(args, m)
	}
	var mu string
	err := s.queryRow(ctx, `SELECT merchant_uid FROM schedules WHERE merchant_id = ? AND merchant_uid IN `+inList(len(merchantUIDs))+` LIMIT 1`, args...).Scan(&mu)
	if err == nil {
		return &ScheduleExistsError{MerchantUID: mu}, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("check schedules: %w", err)
	}
	err = s.queryRow(ctx, `SELECT merchant_uid FROM payments WHERE merchant_id = ? AND merchant_uid IN `+inList(len(merchantUIDs))+`
		AND status IN ('pending', 'unknown', 'paid', 'cancelled') LIMIT 1`, args...).Scan(&mu)
	if err == nil {
		return &ScheduleExistsError{MerchantUID: mu, Paid: true}, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("check payments: %w", err)
	}
	return nil, nil
}

// GetSchedule returns one schedule by merchant_uid.
func (s *Store) GetSchedule(ctx context.Context, merchantID int64, merchantUID string) (*core.Schedule, error) {
	sc, err := scanSchedule(s.queryRow(ctx, scheduleSelect+` WHERE s.merchant_id = ? AND s.merchant_uid = ?`, merchantID, merchantUID), true)
	if err != nil {
		return nil, notFound(err, "schedule "+merchantUID)
	}
	return sc, nil
}

// ListSchedules pages through a merchant's schedules in a schedule_at window.
func (s *Store) ListSchedules(ctx context.Context, merchantID int64, q core.ScheduleQuery) (core.SchedulePage, error) {
	where := ` WHERE s.merchant_id = ? AND s.schedule_at >= ? AND s.schedule_at < ?`
	args := []any{merchantID, us(q.From), us(q.To)}
	if q.CustomerUID != "" {
		where += ` AND s.customer_uid = ?`
		args = append(args, q.CustomerUID)
	}
	switch q.Status {
	case "":
	case string(core.ScheduleScheduled):
		// Executing entries have not finished: to V1 they are still scheduled.
		where += ` AND s.status IN ('scheduled', 'executing')`
	default:
		where += ` AND s.status = ?`
		args = append(args, q.Status)
	}
	page := core.SchedulePage{Pager: core.Pager{Page: max(q.Page, 1), Limit: q.Limit}}
	if page.Limit <= 0 {
		page.Limit = 20
	}
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM schedules s`+where, args...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("count schedules: %w", err)
	}
	order := "DESC"
	if q.Ascending {
		order = "ASC"
	}
	rows, err := s.query(ctx, scheduleSelect+where+` ORDER BY s.schedule_at `+order+`, s.id `+order+` LIMIT ? OFFSET ?`,
		append(args, page.Limit, (page.Page-1)*page.Limit)...)
	if err != nil {
		return page, fmt.Errorf("list schedules: %w", err)
	}
	page.Schedules, err = collectSchedules(rows, true)
	return page, err
}

// RevokeSchedules revokes a merchant's waiting schedules: those of
// customerUID, those among merchantUIDs, or those matching both when both
// are given. Running and finished entries are left alone. It returns the
// revoked rows (none is not an error).
func (s *Store) RevokeSchedules(ctx context.Context, merchantID int64, customerUID string, merchantUIDs []string, now time.Time) ([]core.Schedule, error) {
	var out []core.Schedule
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		out, err = tx.revokeSchedules(ctx, merchantID, customerUID, merchantUIDs, now)
		return err
	})
	return out, err
}

// RevokeCustomerSchedules revokes every waiting schedule of a customer in the
// caller's transaction (billing-key deletion).
func (tx *Tx) RevokeCustomerSchedules(ctx context.Context, merchantID int64, customerUID string, now time.Time) (int, error) {
	list, err := tx.revokeSchedules(ctx, merchantID, customerUID, nil, now)
	return len(list), err
}

func (tx *Tx) revokeSchedules(ctx context.Context, merchantID int64, customerUID string, merchantUIDs []string, now time.Time) ([]core.Schedule, error) {
	if customerUID == "" && len(merchantUIDs) == 0 {
		return nil, errors.New("revoke schedules: customer_uid or merchant_uid required")
	}
	where := ` WHERE merchant_id = ? AND status = 'scheduled'`
	args := []any{us(now), us(now), merchantID}
	if customerUID != "" {
		where += ` AND customer_uid = ?`
		args = append(args, customerUID)
	}
	if len(merchantUIDs) > 0 {
		where += ` AND merchant_uid IN ` + inList(len(merchantUIDs))
		for _, m := range merchantUIDs {
			args = append(args, m)
		}
	}
	// Clearing the claim makes a node that claimed the row before the revoke
	// fail its start condition instead of charging.
	rows, err := tx.query(ctx, `UPDATE schedules SET status = 'revoked', revoked_at = ?, updated_at = ?, lease_until = 0, claimed_by = ''`+
		where+` RETURNING `+scheduleCols(""), args...)
	if err != nil {
		return nil, fmt.Errorf("revoke schedules: %w", err)
	}
	list, err := collectSchedules(rows, false)
	if err != nil {
		return nil, fmt.Errorf("revoke schedules: %w", err)
	}
	return list, nil
}

// stillScheduled guards the statements that address one schedule by id or
// merchant_uid. Plainly written it matched schedules_due: with statistics
// taken after a billing run (every entry executed), each attempt of the next
// run read every waiting entry.
var stillScheduled = keyGuard("status = 'scheduled'")

// MoveSchedule sets a new schedule_at. With rearm false only a waiting entry
// may move (PUT); with rearm true only a failed or revoked one, which is
// reset to waiting (reschedule). ErrScheduleState when the state forbids it.
func (s *Store) MoveSchedule(ctx context.Context, merchantID int64, merchantUID string, at, now time.Time, rearm bool) (*core.Schedule, error) {
	cond := stillScheduled
	if rearm {
		cond = `(status = 'revoked' OR (status = 'executed' AND payment_status = 'failed'))`
	}
	res, err := s.exec(ctx, `UPDATE schedules SET status = 'scheduled', schedule_at = ?, updated_at = ?, lease_until = 0, claimed_by = '',
		imp_uid = '', payment_status = '', fail_reason = '', executed_at = 0, revoked_at = 0
		WHERE merchant_id = ? AND merchant_uid = ? AND `+cond, us(at), us(now), merchantID, merchantUID)
	if err != nil {
		return nil, fmt.Errorf("move schedule %s: %w", merchantUID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		if _, gerr := s.GetSchedule(ctx, merchantID, merchantUID); gerr != nil {
			return nil, gerr
		}
		return nil, fmt.Errorf("move schedule %s: %w", merchantUID, ErrScheduleState)
	}
	return s.GetSchedule(ctx, merchantID, merchantUID)
}

// --- execution (the scheduler's work queue; it spans merchants) ---

// ClaimDueSchedules leases up to limit waiting schedules due at now whose
// earlier lease (if any) has run out, marking them with token. A claim only
// reserves the row: the charge starts with StartScheduleAttempt, which
// checks the token again.
func (s *Store) ClaimDueSchedules(ctx context.Context, now, leaseUntil time.Time, token string, limit int) ([]core.Schedule, error) {
	q, args := s.claimSQL(claim{
		table: "schedules", key: "id", still: `status = 'scheduled'`,
		due: `schedule_at <= ? AND lease_until <= ?`, dueArgs: []any{us(now), us(now)}, order: "schedule_at", limit: limit,
		set: `lease_until = ?, claimed_by = ?`, setArgs: []any{us(leaseUntil), token}, returning: scheduleCols(""),
	})
	var out []core.Schedule
	err := s.InTx(ctx, func(tx *Tx) error {
		rows, err := tx.query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("claim schedules: %w", err)
		}
		out, err = collectSchedules(rows, false)
		return err
	})
	return out, err
}

// ClaimMerchantDueSchedules is ClaimDueSchedules for one merchant's rows
// due by dueAt, that merchant's own time (a sandbox merchant whose test
// clock runs ahead of the shared one); leases stay on the shared time now.
func (s *Store) ClaimMerchantDueSchedules(ctx context.Context, merchantID int64, dueAt, now, leaseUntil time.Time, token string, limit int) ([]core.Schedule, error) {
	q, args := s.claimSQL(claim{
		table: "schedules", key: "id", still: `status = 'scheduled'`,
		due:     `merchant_id = ? AND schedule_at <= ? AND lease_until <= ?`,
		dueArgs: []any{merchantID, us(dueAt), us(now)}, order: "schedule_at", limit: limit,
		set: `lease_until = ?, claimed_by = ?`, setArgs: []any{us(leaseUntil), token}, returning: scheduleCols(""),
	})
	var out []core.Schedule
	err := s.InTx(ctx, func(tx *Tx) error {
		rows, err := tx.query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("claim schedules of merchant %d: %w", merchantID, err)
		}
		out, err = collectSchedules(rows, false)
		return err
	})
	return out, err
}

var claimScheduleSQL = `UPDATE schedules SET lease_until = ?, claimed_by = ?
	WHERE merchant_id = ? AND merchant_uid = ? AND ` + stillScheduled + ` AND schedule_at <= ? AND lease_until <= ?
	RETURNING `

// ClaimSchedule claims one due, unclaimed row by merchant_uid (a run
// started by the API instead of the loop, e.g. a v3 first charge).
func (s *Store) ClaimSchedule(ctx context.Context, merchantID int64, merchantUID string, now, leaseUntil time.Time, token string) ([]core.Schedule, error) {
	var out []core.Schedule
	err := s.InTx(ctx, func(tx *Tx) error {
		rows, err := tx.query(ctx, claimScheduleSQL+scheduleCols(""), us(leaseUntil), token, merchantID, merchantUID, us(now), us(now))
		if err != nil {
			return fmt.Errorf("claim schedule %s: %w", merchantUID, err)
		}
		out, err = collectSchedules(rows, false)
		return err
	})
	return out, err
}

// CountDue counts waiting schedules due at now, claimed or not.
func (s *Store) CountDue(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM schedules WHERE status = 'scheduled' AND schedule_at <= ?`, us(now)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count due schedules: %w", err)
	}
	return n, nil
}

// CountMerchantDue counts one merchant's waiting schedules due at its time.
func (s *Store) CountMerchantDue(ctx context.Context, merchantID int64, now time.Time) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM schedules WHERE merchant_id = ? AND status = 'scheduled' AND schedule_at <= ?`,
		merchantID, us(now)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count due schedules of merchant %d: %w", merchantID, err)
	}
	return n, nil
}

var startScheduleAttemptSQL = `UPDATE schedules SET status = 'executing', imp_uid = ?, pg_provider = ?, pg_id = ?, updated_at = ?,
	lease_until = 0, claimed_by = ''
	WHERE id = ? AND merchant_id = ? AND ` + stillScheduled + ` AND claimed_by = ? AND schedule_at <= ?`

// StartScheduleAttempt moves a claimed schedule to executing with the
// attempt's imp_uid, in the transaction that records the attempt. It
// reports false when the claim is no longer valid (revoked, moved, or
// re-claimed by another node after the lease ran out).
func (tx *Tx) StartScheduleAttempt(ctx context.Context, sc *core.Schedule, token string, p *core.Payment, now time.Time) (bool, error) {
	res, err := tx.exec(ctx, startScheduleAttemptSQL,
		p.ImpUID, p.PGProvider, p.PGID, us(now), sc.ID, sc.MerchantID, token, us(now))
	if err != nil {
		return false, fmt.Errorf("start schedule %s: %w", sc.MerchantUID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// RestartScheduleAttempt is StartScheduleAttempt for an immediate retry of
// a failed or revoked schedule.
func (tx *Tx) RestartScheduleAttempt(ctx context.Context, sc *core.Schedule, p *core.Payment, now time.Time) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE schedules SET status = 'executing', imp_uid = ?, pg_provider = ?, pg_id = ?, updated_at = ?,
		payment_status = '', fail_reason = '', executed_at = 0, revoked_at = 0, lease_until = 0, claimed_by = ''
		WHERE id = ? AND merchant_id = ? AND (status = 'revoked' OR (status = 'executed' AND payment_status = 'failed'))`,
		p.ImpUID, p.PGProvider, p.PGID, us(now), sc.ID, sc.MerchantID)
	if err != nil {
		return false, fmt.Errorf("restart schedule %s: %w", sc.MerchantUID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

var (
	adoptRunningSQL = `UPDATE schedules SET status = 'executing', imp_uid = ?, updated_at = ?, lease_until = 0, claimed_by = ''
	WHERE id = ? AND ` + stillScheduled + ` AND claimed_by = ?`
	adoptSettledSQL = `UPDATE schedules SET status = 'executed', imp_uid = ?, payment_status = ?, fail_reason = ?, executed_at = ?,
	updated_at = ?, lease_until = 0, claimed_by = ''
	WHERE id = ? AND ` + stillScheduled + ` AND claimed_by = ?`
)

// AdoptAttempt links a claimed schedule to an attempt that already holds its
// merchant_uid (found after a crash): executing while that attempt is
// unresolved, executed with its outcome otherwise. The payment row is read
// under lock so that a concurrent resolution either sees the schedule
// executing (and finishes it) or is seen here as resolved.
func (tx *Tx) AdoptAttempt(ctx context.Context, sc *core.Schedule, token, impUID string, now time.Time) (bool, error) {
	var status, failReason string
	var paid, failed int64
	err := tx.queryRow(ctx, `SELECT status, fail_reason, paid_at, failed_at FROM payments WHERE merchant_id = ? AND imp_uid = ?`+tx.s.forUpdate(),
		sc.MerchantID, impUID).Scan(&status, &failReason, &paid, &failed)
	if err != nil {
		return false, notFound(err, "adopt attempt "+impUID)
	}
	st := core.PaymentStatus(status)
	if st.Unresolved() {
		res, err := tx.exec(ctx, adoptRunningSQL, impUID, us(now), sc.ID, token)
		if err != nil {
			return false, fmt.Errorf("adopt attempt %s: %w", impUID, err)
		}
		n, _ := res.RowsAffected()
		return n == 1, nil
	}
	at := now
	if t := tm(max(paid, failed)); !t.IsZero() {
		at = t
	}
	res, err := tx.exec(ctx, adoptSettledSQL, impUID, status, failReason, us(at), us(now), sc.ID, token)
	if err != nil {
		return false, fmt.Errorf("adopt attempt %s: %w", impUID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// RearmSchedule puts an executing schedule back to waiting because its
// attempt provably never reached the PG (the process died before the
// call). Reports whether it did.
func (tx *Tx) RearmSchedule(ctx context.Context, p *core.Payment, now time.Time) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE schedules SET status = 'scheduled', imp_uid = '', updated_at = ?, lease_until = 0, claimed_by = ''
		WHERE merchant_id = ? AND merchant_uid = ? AND status = 'executing' AND imp_uid = ?`,
		us(now), p.MerchantID, p.MerchantUID, p.ImpUID)
	if err != nil {
		return false, fmt.Errorf("rearm schedule %s: %w", p.MerchantUID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

var failClaimedScheduleSQL = `UPDATE schedules SET status = 'executed', payment_status = 'failed', fail_reason = ?, executed_at = ?,
	updated_at = ?, lease_until = 0, claimed_by = ''
	WHERE id = ? AND ` + stillScheduled + ` AND claimed_by = ?`

// FailClaimedSchedule ends a claimed schedule as executed and failed without
// a payment (its billing key is gone, or its merchant_uid was paid by
// another request). Reports whether the claim was still valid.
func (s *Store) FailClaimedSchedule(ctx context.Context, sc *core.Schedule, token, reason string, now time.Time) (bool, error) {
	res, err := s.exec(ctx, failClaimedScheduleSQL, reason, us(now), us(now), sc.ID, token)
	if err != nil {
		return false, fmt.Errorf("fail schedule %s: %w", sc.MerchantUID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

var deferClaimSQL = `UPDATE schedules SET lease_until = ?, claimed_by = '' WHERE id = ? AND ` + stillScheduled + ` AND claimed_by = ?`

// DeferClaim keeps a claimed schedule waiting until retryAt after a
// transient error (database hiccup), instead of spinning on it.
func (s *Store) DeferClaim(ctx context.Context, sc *core.Schedule, token string, retryAt time.Time) error {
	_, err := s.exec(ctx, deferClaimSQL,
		us(retryAt), sc.ID, token)
	if err != nil {
		return fmt.Errorf("defer schedule %s: %w", sc.MerchantUID, err)
	}
	return nil
}

// ScheduleStats counts schedules by status (operators, benchmarks, tests).
func (s *Store) ScheduleStats(ctx context.Context) (map[core.ScheduleStatus]int, error) {
	rows, err := s.query(ctx, `SELECT status, COUNT(*) FROM schedules GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("schedule stats: %w", err)
	}
	defer rows.Close()
	out := map[core.ScheduleStatus]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[core.ScheduleStatus(st)] = n
	}
	return out, rows.Err()
}

// The guard is a keyGuard: plainly written it matched the (merchant_id,
// status, …) index, and statistics never see many pending attempts.
var discardAttemptSQL = `DELETE FROM payments WHERE merchant_id = ? AND imp_uid = ? AND ` + keyGuard("status = 'pending'")

// DiscardAttempt removes an attempt that was recorded in this transaction
// but whose work was taken away before it could run (a schedule revoked,
// moved or re-claimed since the claim): it never reached the PG, so it
// simply never existed.
func (tx *Tx) DiscardAttempt(ctx context.Context, p *core.Payment) error {
	if _, err := tx.exec(ctx, discardAttemptSQL, p.MerchantID, p.ImpUID); err != nil {
		return fmt.Errorf("discard attempt %s: %w", p.ImpUID, err)
	}
	return nil
}
