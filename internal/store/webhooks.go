package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/billkey/billkey/internal/core"
)

// Outbox event statuses. pending → delivered | failed (retries exhausted or
// undeliverable) | skipped (no URL to deliver to).
const (
	EventPending   = "pending"
	EventDelivered = "delivered"
	EventFailed    = "failed"
	EventSkipped   = "skipped"
)

// OutboxEvent is an outbox row with its delivery state.
type OutboxEvent struct {
	core.Event
	// BodyFormat is '' for a v1 field map (encoded per the merchant's
	// webhook_format), or 'json' / 'form' when Body is the exact body to send.
	BodyFormat    string
	Body          string // the payload column as stored
	Status        string
	Attempts      int // attempts made over the event's life
	RetryBase     int // Attempts when the event was last queued by an operator
	NextAttemptAt time.Time
	DeliveredAt   time.Time
	LeasedUntil   time.Time // non-zero while a worker holds the event
}

// WebhookAttempt is one delivery attempt in the log.
type WebhookAttempt struct {
	ID         int64
	EventID    string
	MerchantID int64
	AttemptNo  int
	URL        string
	StatusCode int // 0 when no HTTP response arrived
	Latency    time.Duration
	Error      string
	CreatedAt  time.Time
}

// WebhookSecret is a sealed signing secret. ExpiresAt zero marks the current one.
type WebhookSecret struct {
	MerchantID int64
	ID         string
	Cipher     []byte
	KeyID      string
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// WebhookSettings is where and how a merchant's webhooks go.
type WebhookSettings struct {
	MerchantID int64
	URL        string // default URL; a payment's notice_url replaces it
	Format     string // "json" or "form"
	Profile    string // retry profile name
}

// DueEvent names an event whose attempt is due, for the dispatcher to pick from.
type DueEvent struct {
	ID         string
	MerchantID int64
}

// DeliveryResult is what a finished attempt changes on its event.
type DeliveryResult struct {
	EventID    string
	MerchantID int64
	// Attempts and LeasedUntil as claimed: a worker whose lease ran out and
	// was overtaken by another must not overwrite the newer outcome.
	ClaimedAttempts int
	LeasedUntil     time.Time
	Status          string
	NextAttemptAt   time.Time
	DeliveredAt     time.Time
	Attempt         WebhookAttempt
}

const outboxCols = `id, merchant_id, type, imp_uid, payload, url, body_format, profile, status, attempts, retry_base,
	next_attempt_at, delivered_at, leased_until, created_at, request_id`

func scanOutbox(row interface{ Scan(...any) error }) (*OutboxEvent, error) {
	var e OutboxEvent
	var next, delivered, leased, created int64
	err := row.Scan(&e.ID, &e.MerchantID, &e.Type, &e.ImpUID, &e.Body, &e.URL, &e.BodyFormat, &e.Profile, &e.Status, &e.Attempts, &e.RetryBase,
		&next, &delivered, &leased, &created, &e.RequestID)
	if err != nil {
		return nil, err
	}
	// Only v1 field maps decode into Payload; exact bodies stay in Body.
	if e.BodyFormat == "" {
		if err := json.Unmarshal([]byte(e.Body), &e.Payload); err != nil {
			return nil, fmt.Errorf("event %s payload: %w", e.ID, err)
		}
	}
	e.NextAttemptAt, e.DeliveredAt, e.LeasedUntil, e.CreatedAt = tm(next), tm(delivered), tm(leased), tm(created)
	return &e, nil
}

func scanOutboxRows(rows *sql.Rows) ([]OutboxEvent, error) {
	defer rows.Close()
	var out []OutboxEvent
	for rows.Next() {
		e, err := scanOutbox(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *e)
	}
	return out, rows.Err()
}

// DueEvents lists up to limit pending events whose attempt is due, oldest
// due first, leaving out merchants whose receivers already have all the
// concurrency they may get: otherwise one merchant's backlog would fill every
// batch and starve the others. It spans merchants: it is the webhook worker's
// work queue. Nothing is locked; ClaimEvents does that.
//
// It works merchant by merchant on the (merchant_id, next_attempt_at) index
// of pending events, so that a left-out merchant costs nothing: first each
// merchant with pending events and its earliest due time (two index probes
// per merchant), then the due events of the merchants that may have more,
// each list cut at limit. A single scan in due order that filtered out the
// busy merchants read the whole backlog of a merchant whose receiver was
// slow, on every claim pass. perMerchant (0: limit) caps what one merchant
// contributes: a worker can start only so many of one merchant's deliveries
// in a pass, and reading a backlog's first limit rows on every pass to use
// four of them cost the database and the worker's heap alike.
func (s *Store) DueEvents(ctx context.Context, now time.Time, excludeMerchants []int64, limit, perMerchant int) ([]DueEvent, error) {
	if limit <= 0 {
		return nil, nil
	}
	if perMerchant <= 0 || perMerchant > limit {
		perMerchant = limit
	}
	// Each probe is an ORDER BY … LIMIT 1, not MIN(): given a large
	// backlog, Postgres planned the first MIN() as an aggregate over every
	// pending event.
	rows, err := s.query(ctx, `WITH RECURSIVE m(id) AS (
			SELECT (SELECT merchant_id FROM events WHERE status = 'pending' ORDER BY merchant_id LIMIT 1)
			UNION ALL
			SELECT (SELECT merchant_id FROM events WHERE status = 'pending' AND merchant_id > m.id ORDER BY merchant_id LIMIT 1)
			FROM m WHERE m.id IS NOT NULL
		)
		SELECT id, COALESCE((SELECT next_attempt_at FROM events WHERE status = 'pending' AND merchant_id = m.id
			ORDER BY next_attempt_at LIMIT 1), ?)
		FROM m WHERE id IS NOT NULL`, int64(math.MaxInt64)) // none left since the first probe: not due
	if err != nil {
		return nil, fmt.Errorf("due events: merchants: %w", err)
	}
	excluded := make(map[int64]bool, len(excludeMerchants))
	for _, m := range excludeMerchants {
		excluded[m] = true
	}
	type merchantDue struct {
		id  int64
		due int64
	}
	var due []merchantDue
	for rows.Next() {
		var m merchantDue
		if err := rows.Scan(&m.id, &m.due); err != nil {
			rows.Close()
			return nil, fmt.Errorf("due events: merchants: %w", err)
		}
		if m.due <= us(now) && !excluded[m.id] {
			due = append(due, m)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("due events: merchants: %w", err)
	}
	if len(due) == 0 {
		return nil, nil
	}
	// The merchants whose oldest event waits longest first; past limit of
	// them none could contribute to the batch.
	slices.SortFunc(due, func(a, b merchantDue) int { return cmp.Compare(a.due, b.due) })
	due = due[:min(len(due), limit)]
	var q strings.Builder
	var args []any
	for i, m := range due {
		if i > 0 {
			q.WriteString(` UNION ALL `)
		}
		q.WriteString(`SELECT * FROM (SELECT id, merchant_id, next_attempt_at FROM events
			WHERE status = 'pending' AND merchant_id = ? AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?) AS d` + strconv.Itoa(i))
		args = append(args, m.id, us(now), perMerchant)
	}
	rows, err = s.query(ctx, q.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("due events: %w", err)
	}
	defer rows.Close()
	type dueEvent struct {
		DueEvent
		at int64
	}
	var found []dueEvent
	for rows.Next() {
		var d dueEvent
		if err := rows.Scan(&d.ID, &d.MerchantID, &d.at); err != nil {
			return nil, err
		}
		found = append(found, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("due events: %w", err)
	}
	slices.SortStableFunc(found, func(a, b dueEvent) int { return cmp.Compare(a.at, b.at) })
	out := make([]DueEvent, 0, min(len(found), limit))
	for _, d := range found[:min(len(found), limit)] {
		out = append(out, d.DueEvent)
	}
	return out, nil
}

// claimEventsSQL leases n events by id (ClaimEvents).
func (s *Store) claimEventsSQL(n int) string {
	return `UPDATE events SET next_attempt_at = ?, leased_until = ?
		WHERE id IN (SELECT id FROM events WHERE id IN ` + inList(n) + `
			AND ` + stillPending + ` AND next_attempt_at <= ?` + s.skipLocked() + `)
		RETURNING ` + outboxCols
}

// stillPending is the guard of the statements that address events by id.
// Written as "status = 'pending'" it lets the planner read the partial
// index of pending events instead of the primary key, and it did: with
// statistics from a quiet moment (few pending events) that index looks
// nearly empty, so under a backlog of 19,000 events every finished
// delivery scanned the merchant's whole backlog (12.5 ms and 10,000
// buffers per statement). As a keyGuard the row is found by its key.
var stillPending = keyGuard("status = 'pending'")

// ClaimEvents leases the given events if they are still pending and due:
// next_attempt_at and leased_until move to leaseUntil, so another node skips
// them, and a worker that crashes mid-delivery just lets the lease run out.
// Events another node claimed first are silently left out.
func (s *Store) ClaimEvents(ctx context.Context, ids []string, now, leaseUntil time.Time) ([]OutboxEvent, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []OutboxEvent
	// One statement, atomic by itself: no BEGIN/COMMIT round trips.
	err := s.Statements(ctx, func(tx *Tx) error {
		args := []any{us(leaseUntil), us(leaseUntil)}
		for _, id := range ids {
			args = append(args, id)
		}
		args = append(args, us(now))
		rows, err := tx.query(ctx, s.claimEventsSQL(len(ids)), args...)
		if err != nil {
			return fmt.Errorf("claim events: %w", err)
		}
		out, err = scanOutboxRows(rows)
		return err
	})
	return out, err
}

// FinishDelivery logs an attempt and moves its event on. It reports false
// when the claim was lost (the lease ran out and another worker took the
// event); the attempt is logged all the same, since it did happen.
func (s *Store) FinishDelivery(ctx context.Context, r DeliveryResult) (bool, error) {
	applied, err := s.FinishDeliveries(ctx, []DeliveryResult{r})
	if err != nil {
		return false, err
	}
	return applied[0], nil
}

// FinishDeliveries is FinishDelivery for several attempts at once, in one
// write: applied[i] reports whether rs[i] still held its claim.
//
// On Postgres all of them are one statement, atomic by itself: a claim
// pass's outcomes cost the worker one round trip and one commit instead of
// one per event (or four, as BEGIN, UPDATE, INSERT, COMMIT), database time
// the charges compete for. SQLite writes them in one transaction, which the
// group-commit writer batches with others.
func (s *Store) FinishDeliveries(ctx context.Context, rs []DeliveryResult) ([]bool, error) {
	applied := make([]bool, len(rs))
	if len(rs) == 0 {
		return applied, nil
	}
	if s.dialect == Postgres {
		cols := struct {
			eventID, status, url, errText                                   []string
			merchantID, next, delivered, claimed, leased, no, code, latency []int64
			created                                                         []int64
		}{}
		for _, r := range rs {
			a := r.Attempt
			cols.eventID = append(cols.eventID, r.EventID)
			cols.merchantID = append(cols.merchantID, r.MerchantID)
			cols.status = append(cols.status, r.Status)
			cols.next = append(cols.next, us(r.NextAttemptAt))
			cols.delivered = append(cols.delivered, us(r.DeliveredAt))
			cols.claimed = append(cols.claimed, int64(r.ClaimedAttempts))
			cols.leased = append(cols.leased, us(r.LeasedUntil))
			cols.no = append(cols.no, int64(a.AttemptNo))
			cols.url = append(cols.url, a.URL)
			cols.code = append(cols.code, int64(a.StatusCode))
			cols.latency = append(cols.latency, a.Latency.Microseconds())
			cols.errText = append(cols.errText, a.Error)
			cols.created = append(cols.created, us(a.CreatedAt))
		}
		// Data-modifying CTEs run to completion whether or not the outer
		// query reads them, so every attempt row is written even when a
		// claim was lost and u updates nothing for it.
		rows, err := s.db.QueryContext(ctx, finishDeliveriesSQL, cols.eventID, cols.merchantID, cols.status, cols.next,
			cols.delivered, cols.claimed, cols.leased, cols.no, cols.url, cols.code, cols.latency, cols.errText, cols.created)
		if err != nil {
			return nil, fmt.Errorf("finish %d deliveries: %w", len(rs), err)
		}
		defer rows.Close()
		done := map[string]bool{}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return nil, fmt.Errorf("finish %d deliveries: %w", len(rs), err)
			}
			done[id] = true
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("finish %d deliveries: %w", len(rs), err)
		}
		for i, r := range rs {
			applied[i] = done[r.EventID]
		}
		return applied, nil
	}
	err := s.InTx(ctx, func(tx *Tx) error {
		for i, r := range rs {
			a := r.Attempt
			res, err := tx.exec(ctx, finishEventSQL, r.Status, us(r.NextAttemptAt), us(r.DeliveredAt), r.MerchantID, r.EventID,
				r.ClaimedAttempts, us(r.LeasedUntil))
			if err != nil {
				return fmt.Errorf("finish delivery %s: %w", r.EventID, err)
			}
			n, _ := res.RowsAffected()
			applied[i] = n == 1
			if _, err := tx.exec(ctx, logAttemptSQL, r.EventID, r.MerchantID, a.AttemptNo, a.URL, a.StatusCode,
				a.Latency.Microseconds(), a.Error, us(a.CreatedAt)); err != nil {
				return fmt.Errorf("log attempt of %s: %w", r.EventID, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return applied, nil
}

// finishDeliveriesSQL is finishEventSQL and logAttemptSQL over arrays, one
// element per attempt (Postgres only). The guard on status is the CASE form
// of stillPending, which keeps the planner on the primary key.
var finishDeliveriesSQL = `WITH r AS (
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[],
			$8::bigint[], $9::text[], $10::bigint[], $11::bigint[], $12::text[], $13::bigint[])
			AS r(event_id, merchant_id, status, next_attempt_at, delivered_at, claimed_attempts, leased_until,
				attempt_no, url, status_code, latency_us, error, created_at)
	), u AS (
		UPDATE events e SET status = r.status, attempts = e.attempts + 1, next_attempt_at = r.next_attempt_at,
			delivered_at = r.delivered_at, leased_until = 0
		FROM r WHERE e.merchant_id = r.merchant_id AND e.id = r.event_id AND ` + keyGuard("e.status = 'pending'") + `
			AND e.attempts = r.claimed_attempts AND e.leased_until = r.leased_until
		RETURNING e.id
	), a AS (
		INSERT INTO webhook_attempts (event_id, merchant_id, attempt_no, url, status_code, latency_us, error, created_at)
		SELECT event_id, merchant_id, attempt_no, url, status_code, latency_us, error, created_at FROM r
	)
	SELECT id FROM u`

// finishEventSQL moves a claimed event on, only while the claim still holds.
var finishEventSQL = `UPDATE events SET status = ?, attempts = attempts + 1, next_attempt_at = ?, delivered_at = ?, leased_until = 0
	WHERE merchant_id = ? AND id = ? AND ` + stillPending + ` AND attempts = ? AND leased_until = ?`

const logAttemptSQL = `INSERT INTO webhook_attempts (event_id, merchant_id, attempt_no, url, status_code, latency_us, error, created_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?)`

// ReleaseEvent gives back a claim without an attempt (the worker is shutting
// down), making the event due at now instead of when the lease runs out.
func (s *Store) ReleaseEvent(ctx context.Context, merchantID int64, id string, claimedAttempts int, leasedUntil, now time.Time) error {
	_, err := s.exec(ctx, `UPDATE events SET next_attempt_at = ?, leased_until = 0
		WHERE merchant_id = ? AND id = ? AND `+stillPending+` AND attempts = ? AND leased_until = ?`,
		us(now), merchantID, id, claimedAttempts, us(leasedUntil))
	if err != nil {
		return fmt.Errorf("release event %s: %w", id, err)
	}
	return nil
}

// EventFilter selects outbox events for the operator view. Empty fields match all.
type EventFilter struct {
	ImpUID  string
	EventID string
	Status  string
	Limit   int // default 100
}

// OutboxEvents lists a merchant's events with their delivery state, newest first.
func (s *Store) OutboxEvents(ctx context.Context, merchantID int64, f EventFilter) ([]OutboxEvent, error) {
	q := `SELECT ` + outboxCols + ` FROM events WHERE merchant_id = ?`
	args := []any{merchantID}
	if f.ImpUID != "" {
		q += ` AND imp_uid = ?`
		args = append(args, f.ImpUID)
	}
	if f.EventID != "" {
		q += ` AND id = ?`
		args = append(args, f.EventID)
	}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, f.Status)
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	q += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("outbox events: %w", err)
	}
	return scanOutboxRows(rows)
}

// OutboxEvent finds one of a merchant's events.
func (s *Store) OutboxEvent(ctx context.Context, merchantID int64, id string) (*OutboxEvent, error) {
	e, err := scanOutbox(s.queryRow(ctx, `SELECT `+outboxCols+` FROM events WHERE merchant_id = ? AND id = ?`, merchantID, id))
	if err != nil {
		return nil, notFound(err, "event "+id)
	}
	return e, nil
}

// WebhookAttempts lists an event's delivery attempts, first first.
func (s *Store) WebhookAttempts(ctx context.Context, merchantID int64, eventID string) ([]WebhookAttempt, error) {
	rows, err := s.query(ctx, `SELECT id, event_id, merchant_id, attempt_no, url, status_code, latency_us, error, created_at
		FROM webhook_attempts WHERE merchant_id = ? AND event_id = ? ORDER BY id`, merchantID, eventID)
	if err != nil {
		return nil, fmt.Errorf("webhook attempts of %s: %w", eventID, err)
	}
	defer rows.Close()
	var out []WebhookAttempt
	for rows.Next() {
		var a WebhookAttempt
		var lat, created int64
		if err := rows.Scan(&a.ID, &a.EventID, &a.MerchantID, &a.AttemptNo, &a.URL, &a.StatusCode, &lat, &a.Error, &created); err != nil {
			return nil, err
		}
		a.Latency, a.CreatedAt = time.Duration(lat)*time.Microsecond, tm(created)
		out = append(out, a)
	}
	return out, rows.Err()
}

// RequeueEvent makes one event due now with a fresh retry schedule, whatever
// its status: resending a delivered event replays it under the same id. It
// fails with core.ErrConflict while a worker is delivering it.
func (s *Store) RequeueEvent(ctx context.Context, merchantID int64, id string, now time.Time) error {
	res, err := s.exec(ctx, `UPDATE events SET status = 'pending', next_attempt_at = ?, retry_base = attempts
		WHERE merchant_id = ? AND id = ? AND leased_until <= ?`, us(now), merchantID, id, us(now))
	if err != nil {
		return fmt.Errorf("requeue event %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	if _, err := s.OutboxEvent(ctx, merchantID, id); err != nil {
		return err
	}
	return fmt.Errorf("requeue event %s: delivery in progress: %w", id, core.ErrConflict)
}

// RequeueFailedEvents makes every failed event of the merchant due now with a
// fresh retry schedule, and counts them.
func (s *Store) RequeueFailedEvents(ctx context.Context, merchantID int64, now time.Time) (int, error) {
	res, err := s.exec(ctx, `UPDATE events SET status = 'pending', next_attempt_at = ?, retry_base = attempts
		WHERE merchant_id = ? AND status = 'failed'`, us(now), merchantID)
	if err != nil {
		return 0, fmt.Errorf("requeue failed events: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// WebhookQueueDepth counts undelivered events by status across merchants
// (an aggregate for metrics, no tenant data).
func (s *Store) WebhookQueueDepth(ctx context.Context) (map[string]int, error) {
	rows, err := s.query(ctx, `SELECT status, COUNT(*) FROM events WHERE status IN ('pending', 'failed') GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("webhook queue depth: %w", err)
	}
	defer rows.Close()
	out := map[string]int{EventPending: 0, EventFailed: 0}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}

// WebhookSecrets lists the merchant's secrets still valid at now, newest first.
func (s *Store) WebhookSecrets(ctx context.Context, merchantID int64, now time.Time) ([]WebhookSecret, error) {
	rows, err := s.query(ctx, `SELECT merchant_id, id, cipher, key_id, created_at, expires_at FROM webhook_secrets
		WHERE merchant_id = ? AND (expires_at = 0 OR expires_at > ?) ORDER BY expires_at = 0 DESC, created_at DESC, id DESC`,
		merchantID, us(now))
	if err != nil {
		return nil, fmt.Errorf("webhook secrets: %w", err)
	}
	defer rows.Close()
	var out []WebhookSecret
	for rows.Next() {
		var w WebhookSecret
		var created, expires int64
		if err := rows.Scan(&w.MerchantID, &w.ID, &w.Cipher, &w.KeyID, &created, &expires); err != nil {
			return nil, err
		}
		w.CreatedAt, w.ExpiresAt = tm(created), tm(expires)
		out = append(out, w)
	}
	return out, rows.Err()
}

// AddFirstWebhookSecret stores w as the merchant's current secret unless one
// exists already (another node won the race); it reports whether w was stored.
func (s *Store) AddFirstWebhookSecret(ctx context.Context, w WebhookSecret) (bool, error) {
	res, err := s.exec(ctx, `INSERT INTO webhook_secrets (merchant_id, id, cipher, key_id, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT DO NOTHING`, w.MerchantID, w.ID, w.Cipher, w.KeyID, us(w.CreatedAt))
	if err != nil {
		return false, fmt.Errorf("add webhook secret: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// RotateWebhookSecret makes w the current secret; the previous current one
// keeps signing until oldExpiresAt. Secrets already expired are deleted.
func (s *Store) RotateWebhookSecret(ctx context.Context, w WebhookSecret, oldExpiresAt time.Time) error {
	return s.InTx(ctx, func(tx *Tx) error {
		// Locking the merchant row serializes concurrent rotations, so that
		// exactly one secret ends up current.
		var id int64
		if err := tx.queryRow(ctx, `SELECT id FROM merchants WHERE id = ?`+s.forUpdate(), w.MerchantID).Scan(&id); err != nil {
			return notFound(err, "merchant")
		}
		now := us(w.CreatedAt)
		if _, err := tx.exec(ctx, `DELETE FROM webhook_secrets WHERE merchant_id = ? AND expires_at <> 0 AND expires_at <= ?`, w.MerchantID, now); err != nil {
			return fmt.Errorf("sweep webhook secrets: %w", err)
		}
		if _, err := tx.exec(ctx, `UPDATE webhook_secrets SET expires_at = ? WHERE merchant_id = ? AND expires_at = 0`,
			max(us(oldExpiresAt), now), w.MerchantID); err != nil {
			return fmt.Errorf("retire webhook secret: %w", err)
		}
		if _, err := tx.exec(ctx, `INSERT INTO webhook_secrets (merchant_id, id, cipher, key_id, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, 0)`, w.MerchantID, w.ID, w.Cipher, w.KeyID, now); err != nil {
			return fmt.Errorf("add webhook secret: %w", err)
		}
		return nil
	})
}

// GetWebhookSettings returns where and how the merchant's webhooks go.
func (s *Store) GetWebhookSettings(ctx context.Context, merchantID int64) (WebhookSettings, error) {
	w := WebhookSettings{MerchantID: merchantID}
	var profile sql.NullString
	err := s.queryRow(ctx, `SELECT m.webhook_url, m.webhook_format, ws.profile FROM merchants m
		LEFT JOIN webhook_settings ws ON ws.merchant_id = m.id WHERE m.id = ?`, merchantID).Scan(&w.URL, &w.Format, &profile)
	if err != nil {
		return w, notFound(err, "webhook settings")
	}
	w.Profile = profile.String
	return w, nil
}

// SetWebhookSettings stores the merchant's URL, format and retry profile together.
func (s *Store) SetWebhookSettings(ctx context.Context, w WebhookSettings, now time.Time) error {
	return s.InTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE merchants SET webhook_url = ?, webhook_format = ? WHERE id = ?`, w.URL, w.Format, w.MerchantID)
		if err != nil {
			return fmt.Errorf("set webhook settings: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("set webhook settings: merchant %d: %w", w.MerchantID, core.ErrNotFound)
		}
		if _, err := tx.exec(ctx, `INSERT INTO webhook_settings (merchant_id, profile, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (merchant_id) DO UPDATE SET profile = excluded.profile, updated_at = excluded.updated_at`,
			w.MerchantID, w.Profile, us(now)); err != nil {
			return fmt.Errorf("set webhook profile: %w", err)
		}
		return nil
	})
}
