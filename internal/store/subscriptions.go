package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/billkey/billkey/internal/core"
)

const subscriptionCols = `id, merchant_id, invoice_id, flow, status, amount, currency, country, description, payer, plan, plan_unit,
	auto_renewal, start_date, charge_time, time_zone, customer_uid, notification_url, back_url, success_url, error_url, client_ip,
	checkout_token, checkout_expires, periods_paid, tries, end_at, cancelled_at, created_at, updated_at`

func scanSubscription(row interface{ Scan(...any) error }) (*core.Subscription, error) {
	var s core.Subscription
	var status string
	var auto, expires, end, cancelled, created, updated int64
	err := row.Scan(&s.ID, &s.MerchantID, &s.InvoiceID, &s.Flow, &status, &s.Amount, &s.Currency, &s.Country, &s.Description, &s.Payer,
		&s.Plan, &s.PlanUnit, &auto, &s.StartDate, &s.ChargeTime, &s.TimeZone, &s.CustomerUID, &s.NotificationURL, &s.BackURL,
		&s.SuccessURL, &s.ErrorURL, &s.ClientIP, &s.CheckoutToken, &expires, &s.PeriodsPaid, &s.Tries, &end, &cancelled, &created, &updated)
	if err != nil {
		return nil, err
	}
	s.Status, s.AutoRenewal = core.SubscriptionStatus(status), auto != 0
	s.CheckoutExpires, s.EndAt, s.CancelledAt, s.CreatedAt, s.UpdatedAt = tm(expires), tm(end), tm(cancelled), tm(created), tm(updated)
	return &s, nil
}

// ErrInvoiceExists: the merchant already has a subscription with that invoice_id.
var ErrInvoiceExists = errors.New("invoice_id already used")

// CreateSubscription inserts sub (setting its id) and runs also in the same transaction.
func (s *Store) CreateSubscription(ctx context.Context, sub *core.Subscription, also func(*Tx) error) error {
	return s.InTx(ctx, func(tx *Tx) error {
		var exists int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM subscriptions WHERE merchant_id = ? AND invoice_id = ?`, sub.MerchantID, sub.InvoiceID).Scan(&exists); err != nil {
			return fmt.Errorf("create subscription: %w", err)
		}
		if exists > 0 {
			return ErrInvoiceExists
		}
		err := tx.queryRow(ctx, `INSERT INTO subscriptions (merchant_id, invoice_id, flow, status, amount, currency, country, description, payer,
			plan, plan_unit, auto_renewal, start_date, charge_time, time_zone, customer_uid, notification_url, back_url, success_url, error_url,
			client_ip, checkout_token, checkout_expires, periods_paid, tries, end_at, cancelled_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			sub.MerchantID, sub.InvoiceID, sub.Flow, string(sub.Status), sub.Amount, sub.Currency, sub.Country, sub.Description, sub.Payer,
			sub.Plan, sub.PlanUnit, b2i(sub.AutoRenewal), sub.StartDate, sub.ChargeTime, sub.TimeZone, sub.CustomerUID, sub.NotificationURL,
			sub.BackURL, sub.SuccessURL, sub.ErrorURL, sub.ClientIP, sub.CheckoutToken, us(sub.CheckoutExpires), sub.PeriodsPaid, sub.Tries,
			us(sub.EndAt), us(sub.CancelledAt), us(sub.CreatedAt), us(sub.UpdatedAt)).Scan(&sub.ID)
		if err != nil {
			return fmt.Errorf("create subscription: %w", err)
		}
		if also != nil {
			return also(tx)
		}
		return nil
	})
}

// GetSubscription returns a merchant's subscription.
func (s *Store) GetSubscription(ctx context.Context, merchantID, id int64) (*core.Subscription, error) {
	sub, err := scanSubscription(s.queryRow(ctx, `SELECT `+subscriptionCols+` FROM subscriptions WHERE merchant_id = ? AND id = ?`, merchantID, id))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("subscription %d", id))
	}
	return sub, nil
}

// SubscriptionByCheckout finds the subscription a hosted-page token belongs to.
func (s *Store) SubscriptionByCheckout(ctx context.Context, token string) (*core.Subscription, error) {
	sub, err := scanSubscription(s.queryRow(ctx, `SELECT `+subscriptionCols+` FROM subscriptions WHERE checkout_token = ?`, token))
	if err != nil {
		return nil, notFound(err, "subscription checkout")
	}
	return sub, nil
}

// LockSubscription reads a subscription for update inside tx.
func (tx *Tx) LockSubscription(ctx context.Context, merchantID, id int64) (*core.Subscription, error) {
	sub, err := scanSubscription(tx.queryRow(ctx, `SELECT `+subscriptionCols+` FROM subscriptions WHERE merchant_id = ? AND id = ?`+tx.s.forUpdate(), merchantID, id))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("subscription %d", id))
	}
	return sub, nil
}

// UpdateSubscription writes the mutable state of sub.
func (tx *Tx) UpdateSubscription(ctx context.Context, sub *core.Subscription) error {
	_, err := tx.exec(ctx, `UPDATE subscriptions SET status = ?, customer_uid = ?, checkout_token = ?, checkout_expires = ?, periods_paid = ?,
		tries = ?, end_at = ?, cancelled_at = ?, updated_at = ? WHERE merchant_id = ? AND id = ?`,
		string(sub.Status), sub.CustomerUID, sub.CheckoutToken, us(sub.CheckoutExpires), sub.PeriodsPaid, sub.Tries, us(sub.EndAt),
		us(sub.CancelledAt), us(sub.UpdatedAt), sub.MerchantID, sub.ID)
	if err != nil {
		return fmt.Errorf("update subscription %d: %w", sub.ID, err)
	}
	return nil
}

// SubscriptionOfSchedule returns the subscription id a schedule row books a
// renewal for (0 for plain v1 schedules).
func (tx *Tx) SubscriptionOfSchedule(ctx context.Context, merchantID int64, merchantUID string) (int64, error) {
	var id int64
	err := tx.queryRow(ctx, `SELECT subscription_id FROM schedules WHERE merchant_id = ? AND merchant_uid = ?`, merchantID, merchantUID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// RevokeSubscriptionSchedules revokes a subscription's waiting renewals.
func (tx *Tx) RevokeSubscriptionSchedules(ctx context.Context, merchantID, subscriptionID int64, now time.Time) error {
	_, err := tx.exec(ctx, `UPDATE schedules SET status = 'revoked', revoked_at = ?, updated_at = ?
		WHERE merchant_id = ? AND subscription_id = ? AND status = 'scheduled'`, us(now), us(now), merchantID, subscriptionID)
	return err
}

const depositCols = `id, merchant_id, subscription_id, period, try, imp_uid, status, created_at, updated_at`

func scanDeposit(row interface{ Scan(...any) error }) (*core.Deposit, error) {
	var d core.Deposit
	var created, updated int64
	if err := row.Scan(&d.ID, &d.MerchantID, &d.SubscriptionID, &d.Period, &d.Try, &d.ImpUID, &d.Status, &created, &updated); err != nil {
		return nil, err
	}
	d.CreatedAt, d.UpdatedAt = tm(created), tm(updated)
	return &d, nil
}

// UpsertDeposit records the deposit of a payment attempt (one per imp_uid),
// returning it with its id and whether its status changed.
func (tx *Tx) UpsertDeposit(ctx context.Context, d *core.Deposit) (bool, error) {
	cur, err := scanDeposit(tx.queryRow(ctx, `SELECT `+depositCols+` FROM deposits WHERE imp_uid = ?`, d.ImpUID))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		err = tx.queryRow(ctx, `INSERT INTO deposits (merchant_id, subscription_id, period, try, imp_uid, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, d.MerchantID, d.SubscriptionID, d.Period, d.Try, d.ImpUID, d.Status,
			us(d.CreatedAt), us(d.UpdatedAt)).Scan(&d.ID)
		if err != nil {
			return false, fmt.Errorf("insert deposit: %w", err)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("deposit of %s: %w", d.ImpUID, err)
	}
	d.ID, d.CreatedAt = cur.ID, cur.CreatedAt
	if cur.Status == d.Status {
		return false, nil
	}
	if _, err := tx.exec(ctx, `UPDATE deposits SET status = ?, updated_at = ? WHERE id = ?`, d.Status, us(d.UpdatedAt), d.ID); err != nil {
		return false, fmt.Errorf("update deposit %d: %w", d.ID, err)
	}
	return true, nil
}

// GetDeposit returns a merchant's deposit.
func (s *Store) GetDeposit(ctx context.Context, merchantID, id int64) (*core.Deposit, error) {
	d, err := scanDeposit(s.queryRow(ctx, `SELECT `+depositCols+` FROM deposits WHERE merchant_id = ? AND id = ?`, merchantID, id))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("deposit %d", id))
	}
	return d, nil
}

// Deposits lists a subscription's deposits, oldest first.
func (s *Store) Deposits(ctx context.Context, merchantID, subscriptionID int64) ([]core.Deposit, error) {
	rows, err := s.query(ctx, `SELECT `+depositCols+` FROM deposits WHERE merchant_id = ? AND subscription_id = ? ORDER BY id`, merchantID, subscriptionID)
	if err != nil {
		return nil, fmt.Errorf("deposits: %w", err)
	}
	defer rows.Close()
	var out []core.Deposit
	for rows.Next() {
		d, err := scanDeposit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	return out, rows.Err()
}

// D24Credential is a merchant's X-Login with its sealed signature secret.
type D24Credential struct {
	MerchantID   int64
	XLogin       string
	SecretCipher []byte
	SecretKeyID  string
	CreatedAt    time.Time
}

// PutD24Credential stores (or replaces) a merchant's D24 credentials.
func (s *Store) PutD24Credential(ctx context.Context, c D24Credential) error {
	_, err := s.exec(ctx, `INSERT INTO d24_credentials (merchant_id, x_login, secret_cipher, secret_key_id, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (merchant_id) DO UPDATE SET x_login = excluded.x_login, secret_cipher = excluded.secret_cipher,
		secret_key_id = excluded.secret_key_id, created_at = excluded.created_at`, c.MerchantID, c.XLogin, c.SecretCipher, c.SecretKeyID, us(c.CreatedAt))
	if err != nil {
		return fmt.Errorf("put d24 credential: %w", err)
	}
	return nil
}

// D24CredentialByLogin finds credentials by X-Login.
func (s *Store) D24CredentialByLogin(ctx context.Context, xLogin string) (*D24Credential, error) {
	var c D24Credential
	var created int64
	err := s.queryRow(ctx, `SELECT merchant_id, x_login, secret_cipher, secret_key_id, created_at FROM d24_credentials WHERE x_login = ?`, xLogin).
		Scan(&c.MerchantID, &c.XLogin, &c.SecretCipher, &c.SecretKeyID, &created)
	if err != nil {
		return nil, notFound(err, "d24 login")
	}
	c.CreatedAt = tm(created)
	return &c, nil
}

// IdempotentResponse is a stored first response to an idempotent POST.
type IdempotentResponse struct {
	RequestHash string
	StatusCode  int // 0 while the first request is still being processed
	Body        []byte
	CreatedAt   time.Time
}

// IdempotencyClaim is the right to answer an X-Idempotency-Key, held by
// one request at a time.
type IdempotencyClaim struct {
	MerchantID int64
	Key        string
	Token      string // random per claim: only its holder can complete it
	TakenOver  bool   // a previous holder's lease had expired
}

// ClaimIdempotencyKey records key for a request. If the key exists (and is
// younger than retention) it returns the stored entry instead and a nil
// claim, unless that entry is a claim still unanswered after lease (its node
// died or hung): then, for the same request hash, the claim passes to this
// request, and the old holder can no longer complete it.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, merchantID int64, key, hash string, now time.Time, retention, lease time.Duration) (*IdempotentResponse, *IdempotencyClaim, error) {
	var out *IdempotentResponse
	var claim *IdempotencyClaim
	token := randomToken()
	err := s.InTx(ctx, func(tx *Tx) error {
		out, claim = nil, nil
		if _, err := tx.exec(ctx, `DELETE FROM idempotency_keys WHERE merchant_id = ? AND idem_key = ? AND created_at < ?`,
			merchantID, key, us(now.Add(-retention))); err != nil {
			return err
		}
		res, err := tx.exec(ctx, `INSERT INTO idempotency_keys (merchant_id, idem_key, request_hash, created_at, claim_token) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, merchantID, key, hash, us(now), token)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			claim = &IdempotencyClaim{MerchantID: merchantID, Key: key, Token: token}
			return nil
		}
		res, err = tx.exec(ctx, `UPDATE idempotency_keys SET claim_token = ?, created_at = ?
			WHERE merchant_id = ? AND idem_key = ? AND request_hash = ? AND status_code = 0 AND created_at < ?`,
			token, us(now), merchantID, key, hash, us(now.Add(-lease)))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			claim = &IdempotencyClaim{MerchantID: merchantID, Key: key, Token: token, TakenOver: true}
			return nil
		}
		var r IdempotentResponse
		var created int64
		if err := tx.queryRow(ctx, `SELECT request_hash, status_code, body, created_at FROM idempotency_keys WHERE merchant_id = ? AND idem_key = ?`,
			merchantID, key).Scan(&r.RequestHash, &r.StatusCode, &r.Body, &created); err != nil {
			return err
		}
		r.CreatedAt = tm(created)
		out = &r
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("idempotency key: %w", err)
	}
	return out, claim, nil
}

// CompleteIdempotencyKey stores the response of a claim; a failed request
// (status 0) releases the key so that a retry runs again. A claim taken
// over by another request meanwhile changes nothing: ok is false.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, c *IdempotencyClaim, status int, body []byte) (ok bool, err error) {
	var res sql.Result
	if status == 0 {
		res, err = s.exec(ctx, `DELETE FROM idempotency_keys WHERE merchant_id = ? AND idem_key = ? AND status_code = 0 AND claim_token = ?`,
			c.MerchantID, c.Key, c.Token)
	} else {
		res, err = s.exec(ctx, `UPDATE idempotency_keys SET status_code = ?, body = ?, claim_token = ''
			WHERE merchant_id = ? AND idem_key = ? AND status_code = 0 AND claim_token = ?`, status, body, c.MerchantID, c.Key, c.Token)
	}
	if err != nil {
		return false, fmt.Errorf("complete idempotency key: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// BookRenewal adds a subscription's period charge to the schedules table
// (idempotent per merchant_uid).
func (tx *Tx) BookRenewal(ctx context.Context, sc core.Schedule) error {
	_, err := tx.exec(ctx, `INSERT INTO schedules (merchant_id, merchant_uid, customer_uid, customer_id, status, schedule_at, amount,
		currency, name, subscription_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, 'scheduled', ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		sc.MerchantID, sc.MerchantUID, sc.CustomerUID, sc.CustomerID, us(sc.ScheduleAt), sc.Amount, sc.Currency, sc.Name,
		sc.SubscriptionID, us(sc.CreatedAt), us(sc.UpdatedAt))
	if err != nil {
		return fmt.Errorf("book renewal %s: %w", sc.MerchantUID, err)
	}
	return nil
}

// RearmRenewal puts an executed (failed) renewal back in the queue at at:
// the dunning retry of the same period, under the same merchant_uid.
func (tx *Tx) RearmRenewal(ctx context.Context, merchantID int64, merchantUID string, at time.Time) error {
	_, err := tx.exec(ctx, `UPDATE schedules SET status = 'scheduled', schedule_at = ?, imp_uid = '', payment_status = '', fail_reason = '',
		executed_at = 0, lease_until = 0, claimed_by = '', updated_at = ? WHERE merchant_id = ? AND merchant_uid = ?`,
		us(at), us(at), merchantID, merchantUID)
	if err != nil {
		return fmt.Errorf("rearm renewal %s: %w", merchantUID, err)
	}
	return nil
}
