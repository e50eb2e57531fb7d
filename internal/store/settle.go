package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/billkey/billkey/internal/core"
)

// errNeedsTx is what a recorded Tx answers to a statement it cannot fold
// into a one-statement settlement; SettleAttempt then runs a transaction.
var errNeedsTx = errors.New("settlement needs a transaction")

// recording collects the writes of settle hooks that Postgres can fold into
// the outcome's own statement: outbox events and the schedule row of the
// attempt.
type recording struct {
	events   []core.Event
	schedule *scheduleDone
	needsTx  bool
}

type scheduleDone struct {
	status     core.PaymentStatus
	reason     string
	executedAt time.Time
	now        time.Time
}

func (r *recording) refuse() error {
	r.needsTx = true
	return errNeedsTx
}

// Statements runs fn's row operations. On Postgres each statement commits on
// its own, saving the BEGIN/COMMIT round trips where one statement is atomic
// by itself; on SQLite fn is a write transaction (the single writer).
func (s *Store) Statements(ctx context.Context, fn func(*Tx) error) error {
	if s.dialect == Postgres {
		return fn(&Tx{s: s, q: s.db})
	}
	return s.InTx(ctx, fn)
}

// SettleAttempt stores the outcome of an attempt that is still pending or
// unknown and, in the same transaction, whatever hooks writes (outbox
// events, the schedule row, a subscription's deposit). core.ErrConflict
// means someone else settled the attempt first; nothing is written then.
// It returns how many outbox events were written.
//
// On Postgres, when hooks only write outbox events and the attempt's
// schedule row, everything is one statement: the hot path of every charge
// and billing run is one round trip. hooks must therefore write only through
// the Tx it is given (it may be called twice: recorded, then for real).
func (s *Store) SettleAttempt(ctx context.Context, p *core.Payment, hooks func(*Tx) error) (int, error) {
	if hooks == nil {
		hooks = func(*Tx) error { return nil }
	}
	if s.dialect == Postgres {
		rec := &Tx{s: s, rec: &recording{}}
		err := hooks(rec)
		if !rec.rec.needsTx {
			if err != nil {
				return 0, err
			}
			return s.settleOneStatement(ctx, p, rec.rec)
		}
	}
	events := 0
	err := s.InTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, settleAttemptSQL, settleArgs(p)...)
		if err != nil {
			return fmt.Errorf("settle attempt %s: %w", p.ImpUID, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("settle attempt %s: %w", p.ImpUID, core.ErrConflict)
		}
		if err := hooks(tx); err != nil {
			return err
		}
		events = tx.events
		return nil
	})
	return events, err
}

var settleAttemptSQL = `UPDATE payments SET status = ?, pg_tid = ?, apply_num = ?, card_code = ?, card_name = ?,
	card_number = ?, card_type = ?, paid_at = ?, failed_at = ?, fail_reason = ?, receipt_url = ?, next_check_at = ?,
	checks = ?, updated_at = ?
	WHERE merchant_id = ? AND imp_uid = ? AND ` + stillUnresolved

func settleArgs(p *core.Payment) []any {
	return []any{string(p.Status), p.PGTID, p.ApplyNum, p.CardCode, p.CardName, p.CardNumber, nullInt(p.CardType), us(p.PaidAt), us(p.FailedAt),
		p.FailReason, p.ReceiptURL, us(p.NextCheckAt), p.Checks, us(p.UpdatedAt), p.MerchantID, p.ImpUID}
}

// settleOneStatement writes the outcome with the recorded writes as one
// Postgres statement: every write is conditional on the payment update.
func (s *Store) settleOneStatement(ctx context.Context, p *core.Payment, rec *recording) (int, error) {
	args := settleArgs(p)
	if sc := rec.schedule; sc != nil {
		args = append(args, string(sc.status), sc.reason, us(sc.executedAt), us(sc.now), p.MerchantID, p.MerchantUID)
	}
	for _, e := range rec.events {
		ev, err := eventArgs(e)
		if err != nil {
			return 0, err
		}
		args = append(args, ev...)
	}
	q := settleSQL(rec.schedule != nil, len(rec.events))
	var updated int
	if err := s.db.QueryRowContext(ctx, q, args...).Scan(&updated); err != nil {
		return 0, fmt.Errorf("settle attempt %s: %w", p.ImpUID, err)
	}
	if updated != 1 {
		return 0, fmt.Errorf("settle attempt %s: %w", p.ImpUID, core.ErrConflict)
	}
	return len(rec.events), nil
}

// settleSQL is the one-statement settlement (Postgres numbering) for its
// shape: with or without the schedule row, and how many events. A handful
// of shapes exist; each is built once.
func settleSQL(schedule bool, events int) string {
	key := settleShape{schedule, events}
	if q, ok := settleSQLs.Load(key); ok {
		return q.(string)
	}
	var q strings.Builder
	q.WriteString(`WITH u AS (` + settleAttemptSQL + ` RETURNING imp_uid)`)
	if schedule {
		q.WriteString(`, sc AS (` + scheduleDoneSQL + ` AND imp_uid IN (SELECT imp_uid FROM u) RETURNING 1)`)
	}
	for i := range events {
		q.WriteString(`, ev` + strconv.Itoa(i) + ` AS (INSERT INTO events (` + eventCols + `) SELECT ` + eventValues + ` FROM u RETURNING 1)`)
	}
	q.WriteString(` SELECT COUNT(*) FROM u`)
	numbered := numberPlaceholders(q.String())
	settleSQLs.Store(key, numbered)
	return numbered
}

type settleShape struct {
	schedule bool
	events   int
}

var settleSQLs sync.Map // settleShape → string

// scheduleDoneSQL marks executed the schedule whose running attempt this is.
const scheduleDoneSQL = `UPDATE schedules SET status = 'executed', payment_status = ?, fail_reason = ?, executed_at = ?, updated_at = ?
	WHERE merchant_id = ? AND merchant_uid = ? AND status = 'executing'`

// FinishScheduleAttempt records the outcome of a schedule's attempt in the
// transaction that settles the payment. Only the schedule whose running
// attempt this is changes.
func (tx *Tx) FinishScheduleAttempt(ctx context.Context, p *core.Payment, now time.Time) error {
	d := &scheduleDone{status: p.Status, executedAt: p.PaidAt, now: now}
	if p.Status != core.StatusPaid {
		d.executedAt = p.FailedAt
	}
	if d.executedAt.IsZero() {
		d.executedAt = now
	}
	if p.Status == core.StatusFailed {
		d.reason = p.FailReason
	}
	if tx.rec != nil {
		if tx.rec.schedule != nil {
			return tx.rec.refuse()
		}
		tx.rec.schedule = d
		return nil
	}
	_, err := tx.exec(ctx, scheduleDoneSQL+` AND imp_uid = ?`,
		string(d.status), d.reason, us(d.executedAt), us(d.now), p.MerchantID, p.MerchantUID, p.ImpUID)
	if err != nil {
		return fmt.Errorf("finish schedule %s: %w", p.MerchantUID, err)
	}
	return nil
}

// InsertEvents writes outbox events in the caller's transaction.
func (tx *Tx) InsertEvents(ctx context.Context, events []core.Event) error {
	if tx.rec != nil {
		tx.rec.events = append(tx.rec.events, events...)
		return nil
	}
	for _, e := range events {
		args, err := eventArgs(e)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO events (`+eventCols+`) VALUES (`+eventValues+`)`, args...); err != nil {
			return fmt.Errorf("insert event %s: %w", e.Type, err)
		}
		tx.events++
	}
	return nil
}
