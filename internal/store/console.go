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

// ConsoleUser is a merchant console account.
type ConsoleUser struct {
	ID           int64
	MerchantID   int64
	Email        string
	Role         core.OperatorRole
	PasswordHash string // argon2id encoded; empty until the owner of the account sets it
	// SetupTokenHash is the SHA-256 of the one-time password-set token, nil when none.
	SetupTokenHash []byte
	SetupExpires   time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// ErrEmailTaken: another console account already uses that e-mail address.
var ErrEmailTaken = errors.New("e-mail already has a console account")

const consoleUserCols = `id, merchant_id, email, role, password_hash, setup_token_hash, setup_expires_at, created_at, updated_at`

func scanConsoleUser(row interface{ Scan(...any) error }) (*ConsoleUser, error) {
	var u ConsoleUser
	var role string
	var expires, created, updated int64
	if err := row.Scan(&u.ID, &u.MerchantID, &u.Email, &role, &u.PasswordHash, &u.SetupTokenHash, &expires, &created, &updated); err != nil {
		return nil, err
	}
	u.Role, u.SetupExpires, u.CreatedAt, u.UpdatedAt = core.OperatorRole(role), tm(expires), tm(created), tm(updated)
	return &u, nil
}

// CreateConsoleUser inserts u and sets its id; ErrEmailTaken if the address is in use.
func (s *Store) CreateConsoleUser(ctx context.Context, u *ConsoleUser) error {
	var exists int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM console_users WHERE email = ?`, u.Email).Scan(&exists)
	if err != nil {
		return fmt.Errorf("check console user %s: %w", u.Email, err)
	}
	if exists > 0 {
		return ErrEmailTaken
	}
	err = s.InTx(ctx, func(tx *Tx) error {
		return tx.queryRow(ctx, `INSERT INTO console_users (merchant_id, email, role, password_hash, setup_token_hash, setup_expires_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			u.MerchantID, u.Email, string(u.Role), u.PasswordHash, u.SetupTokenHash, us(u.SetupExpires), us(u.CreatedAt), us(u.UpdatedAt)).Scan(&u.ID)
	})
	if err != nil && strings.Contains(strings.ToLower(err.Error()), "unique") {
		return ErrEmailTaken
	}
	if err != nil {
		return fmt.Errorf("insert console user %s: %w", u.Email, err)
	}
	return nil
}

// ConsoleUserByEmail finds an account by its (lower-cased) e-mail address.
func (s *Store) ConsoleUserByEmail(ctx context.Context, email string) (*ConsoleUser, error) {
	u, err := scanConsoleUser(s.queryRow(ctx, `SELECT `+consoleUserCols+` FROM console_users WHERE email = ?`, email))
	if err != nil {
		return nil, notFound(err, "console user "+email)
	}
	return u, nil
}

// ConsoleUserBySetupToken finds the account a still valid password-set token belongs to.
func (s *Store) ConsoleUserBySetupToken(ctx context.Context, tokenHash []byte, now time.Time) (*ConsoleUser, error) {
	u, err := scanConsoleUser(s.queryRow(ctx, `SELECT `+consoleUserCols+` FROM console_users
		WHERE setup_token_hash = ? AND setup_expires_at > ?`, tokenHash, us(now)))
	if err != nil {
		return nil, notFound(err, "console setup token")
	}
	return u, nil
}

// ConsoleUsers lists a merchant's accounts.
func (s *Store) ConsoleUsers(ctx context.Context, merchantID int64) ([]ConsoleUser, error) {
	rows, err := s.query(ctx, `SELECT `+consoleUserCols+` FROM console_users WHERE merchant_id = ? ORDER BY email`, merchantID)
	if err != nil {
		return nil, fmt.Errorf("list console users: %w", err)
	}
	defer rows.Close()
	var out []ConsoleUser
	for rows.Next() {
		u, err := scanConsoleUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *u)
	}
	return out, rows.Err()
}

// SetConsoleSetupToken gives an account a new one-time password-set token.
func (s *Store) SetConsoleSetupToken(ctx context.Context, userID int64, tokenHash []byte, expires, now time.Time) error {
	_, err := s.exec(ctx, `UPDATE console_users SET setup_token_hash = ?, setup_expires_at = ?, updated_at = ? WHERE id = ?`,
		tokenHash, us(expires), us(now), userID)
	if err != nil {
		return fmt.Errorf("set console setup token: %w", err)
	}
	return nil
}

// SetConsolePassword stores a new password hash, spending the setup token
// if it is still the one given, and ends every session of the account.
// It reports false when the token was already used or replaced.
func (s *Store) SetConsolePassword(ctx context.Context, userID int64, tokenHash []byte, passwordHash string, now time.Time) (bool, error) {
	ok := false
	err := s.InTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE console_users SET password_hash = ?, setup_token_hash = NULL, setup_expires_at = 0, updated_at = ?
			WHERE id = ? AND setup_token_hash = ? AND setup_expires_at > ?`, passwordHash, us(now), userID, tokenHash, us(now))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			return err
		}
		ok = true
		_, err = tx.exec(ctx, `DELETE FROM console_sessions WHERE user_id = ?`, userID)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("set console password: %w", err)
	}
	return ok, nil
}

// ConsoleSession is a signed-in browser. The session id itself is only in
// the browser's cookie; the store keeps its SHA-256.
type ConsoleSession struct {
	IDHash     []byte
	UserID     int64
	MerchantID int64
	CSRF       string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	User       ConsoleUser // filled by ConsoleSessionByID
}

// CreateConsoleSession stores a new session and drops the account's expired ones.
func (s *Store) CreateConsoleSession(ctx context.Context, cs ConsoleSession) error {
	err := s.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `DELETE FROM console_sessions WHERE user_id = ? AND expires_at <= ?`, cs.UserID, us(cs.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `INSERT INTO console_sessions (id_hash, user_id, merchant_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			cs.IDHash, cs.UserID, cs.MerchantID, cs.CSRF, us(cs.CreatedAt), us(cs.ExpiresAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("create console session: %w", err)
	}
	return nil
}

// ConsoleSessionByID returns an unexpired session with its account.
func (s *Store) ConsoleSessionByID(ctx context.Context, idHash []byte, now time.Time) (*ConsoleSession, error) {
	var cs ConsoleSession
	var created, expires int64
	var role string
	var uexp, ucreated, uupdated int64
	err := s.queryRow(ctx, `SELECT s.id_hash, s.user_id, s.merchant_id, s.csrf, s.created_at, s.expires_at,
			u.id, u.merchant_id, u.email, u.role, u.password_hash, u.setup_token_hash, u.setup_expires_at, u.created_at, u.updated_at
		FROM console_sessions s JOIN console_users u ON u.id = s.user_id AND u.merchant_id = s.merchant_id
		WHERE s.id_hash = ? AND s.expires_at > ?`, idHash, us(now)).Scan(
		&cs.IDHash, &cs.UserID, &cs.MerchantID, &cs.CSRF, &created, &expires,
		&cs.User.ID, &cs.User.MerchantID, &cs.User.Email, &role, &cs.User.PasswordHash, &cs.User.SetupTokenHash, &uexp, &ucreated, &uupdated)
	if err != nil {
		return nil, notFound(err, "console session")
	}
	cs.CreatedAt, cs.ExpiresAt = tm(created), tm(expires)
	cs.User.Role, cs.User.SetupExpires, cs.User.CreatedAt, cs.User.UpdatedAt = core.OperatorRole(role), tm(uexp), tm(ucreated), tm(uupdated)
	return &cs, nil
}

// DeleteConsoleSession signs one browser out.
func (s *Store) DeleteConsoleSession(ctx context.Context, idHash []byte) error {
	_, err := s.exec(ctx, `DELETE FROM console_sessions WHERE id_hash = ?`, idHash)
	if err != nil {
		return fmt.Errorf("delete console session: %w", err)
	}
	return nil
}

// DeleteConsoleSessions signs an account out everywhere and counts the sessions ended.
func (s *Store) DeleteConsoleSessions(ctx context.Context, merchantID, userID int64) (int, error) {
	res, err := s.exec(ctx, `DELETE FROM console_sessions WHERE merchant_id = ? AND user_id = ?`, merchantID, userID)
	if err != nil {
		return 0, fmt.Errorf("delete console sessions: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// AuditEntry is one line of a merchant's console audit log.
type AuditEntry struct {
	ID         int64
	MerchantID int64
	UserID     int64
	Email      string
	Action     string
	Target     string
	Detail     string
	IP         string
	CreatedAt  time.Time
}

// AddAudit appends to the audit log.
func (s *Store) AddAudit(ctx context.Context, e AuditEntry) error {
	_, err := s.exec(ctx, `INSERT INTO console_audit (merchant_id, user_id, email, action, target, detail, ip, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.MerchantID, e.UserID, e.Email, e.Action, e.Target, e.Detail, e.IP, us(e.CreatedAt))
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// AuditLog lists a merchant's audit entries, newest first, below id before (0 = from the newest).
func (s *Store) AuditLog(ctx context.Context, merchantID, before int64, limit int) ([]AuditEntry, error) {
	q := `SELECT id, merchant_id, user_id, email, action, target, detail, ip, created_at FROM console_audit WHERE merchant_id = ?`
	args := []any{merchantID}
	if before > 0 {
		q += ` AND id < ?`
		args = append(args, before)
	}
	rows, err := s.query(ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var created int64
		if err := rows.Scan(&e.ID, &e.MerchantID, &e.UserID, &e.Email, &e.Action, &e.Target, &e.Detail, &e.IP, &created); err != nil {
			return nil, err
		}
		e.CreatedAt = tm(created)
		out = append(out, e)
	}
	return out, rows.Err()
}

// PaymentSearch is the console's payment filter. Zero fields do not filter.
type PaymentSearch struct {
	Status      core.PaymentStatus // internal status; StatusReady also matches pending and unknown
	MerchantUID string             // prefix
	CustomerUID string             // exact
	ImpUID      string             // exact
	PGProvider  string
	MinAmount   int64
	MaxAmount   int64
	From, To    time.Time // started_at, From inclusive, To exclusive
	Page, Limit int
}

// SearchPayments pages through a merchant's payments, newest first.
func (s *Store) SearchPayments(ctx context.Context, merchantID int64, q PaymentSearch) (core.PaymentPage, error) {
	where := " WHERE merchant_id = ?"
	args := []any{merchantID}
	add := func(cond string, v any) { where += " AND " + cond; args = append(args, v) }
	switch q.Status {
	case "":
	case core.StatusReady:
		where += " AND status IN ('ready', 'pending', 'unknown')"
	default:
		add("status = ?", string(q.Status))
	}
	if q.MerchantUID != "" {
		// A prefix match that LIKE wildcards in the input cannot widen.
		add("substr(merchant_uid, 1, ?) = ?", len(q.MerchantUID))
		args = append(args, q.MerchantUID)
	}
	if q.CustomerUID != "" {
		add("customer_uid = ?", q.CustomerUID)
	}
	if q.ImpUID != "" {
		add("imp_uid = ?", q.ImpUID)
	}
	if q.PGProvider != "" {
		add("pg_provider = ?", q.PGProvider)
	}
	if q.MinAmount > 0 {
		add("amount >= ?", q.MinAmount)
	}
	if q.MaxAmount > 0 {
		add("amount <= ?", q.MaxAmount)
	}
	if !q.From.IsZero() {
		add("started_at >= ?", us(q.From))
	}
	if !q.To.IsZero() {
		add("started_at < ?", us(q.To))
	}
	page := core.PaymentPage{Pager: core.Pager{Page: max(q.Page, 1), Limit: q.Limit}}
	if page.Limit <= 0 {
		page.Limit = 20
	}
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM payments`+where, args...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("count payments: %w", err)
	}
	list, err := s.listPayments(ctx, `SELECT `+paymentCols+` FROM payments`+where+` ORDER BY started_at DESC, imp_uid LIMIT ? OFFSET ?`,
		append(args, page.Limit, (page.Page-1)*page.Limit)...)
	if err != nil {
		return page, err
	}
	page.Payments = list
	return page, nil
}

// DayTotal is one day's figures of a series. Day counts days since the
// Unix epoch in the zone the series was asked for.
type DayTotal struct {
	Day    int64
	Amount int64
	Count  int
}

const dayUS = int64(24 * time.Hour / time.Microsecond)

func (s *Store) daySeries(ctx context.Context, q string, args ...any) ([]DayTotal, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DayTotal
	for rows.Next() {
		var d DayTotal
		var amount sql.NullInt64
		if err := rows.Scan(&d.Day, &amount, &d.Count); err != nil {
			return nil, err
		}
		d.Amount = amount.Int64
		out = append(out, d)
	}
	return out, rows.Err()
}

// DailyFigures are a merchant's daily series over [From, To).
type DailyFigures struct {
	Billed    []DayTotal // paid charges by paid_at (amount > 0)
	Refunded  []DayTotal // completed refunds by their time
	Failed    []DayTotal // failed charge attempts by failed_at
	Recurring []DayTotal // paid scheduled charges (v1 schedules and v3 renewals)
	Upcoming  []DayTotal // waiting schedules by schedule_at
}

// Daily computes the series; offset is the zone's UTC offset, so that days
// start at local midnight.
// Only amounts in currency are counted: sums of different currencies mean nothing.
func (s *Store) Daily(ctx context.Context, merchantID int64, currency string, from, to time.Time, offset time.Duration, upcomingTo time.Time) (DailyFigures, error) {
	var f DailyFigures
	off := int64(offset / time.Microsecond)
	var err error
	day := func(col string) string { return fmt.Sprintf("(%s + %d) / %d", col, off, dayUS) }
	if f.Billed, err = s.daySeries(ctx, `SELECT `+day("paid_at")+` AS d, CAST(SUM(amount) AS BIGINT), COUNT(*) FROM payments
		WHERE merchant_id = ? AND currency = ? AND status IN ('paid', 'cancelled') AND amount > 0 AND paid_at >= ? AND paid_at < ? GROUP BY d ORDER BY d`,
		merchantID, currency, us(from), us(to)); err != nil {
		return f, fmt.Errorf("billed series: %w", err)
	}
	if f.Refunded, err = s.daySeries(ctx, `SELECT `+day("c.cancelled_at")+` AS d, CAST(SUM(c.amount) AS BIGINT), COUNT(*) FROM cancellations c
		JOIN payments p ON p.imp_uid = c.imp_uid AND p.merchant_id = c.merchant_id
		WHERE c.merchant_id = ? AND p.currency = ? AND c.status = 'done' AND c.cancelled_at >= ? AND c.cancelled_at < ? GROUP BY d ORDER BY d`,
		merchantID, currency, us(from), us(to)); err != nil {
		return f, fmt.Errorf("refund series: %w", err)
	}
	if f.Failed, err = s.daySeries(ctx, `SELECT `+day("failed_at")+` AS d, CAST(SUM(amount) AS BIGINT), COUNT(*) FROM payments
		WHERE merchant_id = ? AND currency = ? AND status = 'failed' AND failed_at >= ? AND failed_at < ? GROUP BY d ORDER BY d`,
		merchantID, currency, us(from), us(to)); err != nil {
		return f, fmt.Errorf("failure series: %w", err)
	}
	if f.Recurring, err = s.daySeries(ctx, `SELECT `+day("paid_at")+` AS d, CAST(SUM(amount) AS BIGINT), COUNT(*) FROM payments
		WHERE merchant_id = ? AND currency = ? AND status IN ('paid', 'cancelled') AND customer_uid_usage = ? AND paid_at >= ? AND paid_at < ? GROUP BY d ORDER BY d`,
		merchantID, currency, core.UsageScheduled, us(from), us(to)); err != nil {
		return f, fmt.Errorf("recurring series: %w", err)
	}
	if f.Upcoming, err = s.daySeries(ctx, `SELECT `+day("schedule_at")+` AS d, CAST(SUM(amount) AS BIGINT), COUNT(*) FROM schedules
		WHERE merchant_id = ? AND currency = ? AND status = 'scheduled' AND schedule_at >= ? AND schedule_at < ? GROUP BY d ORDER BY d`,
		merchantID, currency, us(to), us(upcomingTo)); err != nil {
		return f, fmt.Errorf("upcoming series: %w", err)
	}
	return f, nil
}

// RecurringState is what a merchant's recurring billing looks like now.
type RecurringState struct {
	// Subscriptions are the v3 subscriptions still billing (PENDING or ACTIVE).
	Subscriptions []core.Subscription
	// ScheduledCustomers have at least one waiting v1 schedule.
	ScheduledCustomers int
	// FailedRenewals are scheduled charges that failed since the time asked for.
	FailedRenewals int
	// V1Next30Days is what waiting v1 schedules (not v3 renewals) will charge in the window asked for.
	V1Next30Days int64
}

// Recurring reads the recurring state.
func (s *Store) Recurring(ctx context.Context, merchantID int64, currency string, failedSince, from, to time.Time) (RecurringState, error) {
	var r RecurringState
	rows, err := s.query(ctx, `SELECT `+subscriptionCols+` FROM subscriptions WHERE merchant_id = ? AND currency = ? AND status IN ('PENDING', 'ACTIVE') ORDER BY id`,
		merchantID, currency)
	if err != nil {
		return r, fmt.Errorf("active subscriptions: %w", err)
	}
	for rows.Next() {
		sub, err := scanSubscription(rows)
		if err != nil {
			rows.Close()
			return r, err
		}
		r.Subscriptions = append(r.Subscriptions, *sub)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return r, err
	}
	if err := s.queryRow(ctx, `SELECT COUNT(DISTINCT customer_uid) FROM schedules WHERE merchant_id = ? AND status = 'scheduled' AND subscription_id = 0`,
		merchantID).Scan(&r.ScheduledCustomers); err != nil {
		return r, fmt.Errorf("scheduled customers: %w", err)
	}
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM schedules WHERE merchant_id = ? AND status = 'executed' AND payment_status = 'failed' AND executed_at >= ?`,
		merchantID, us(failedSince)).Scan(&r.FailedRenewals); err != nil {
		return r, fmt.Errorf("failed renewals: %w", err)
	}
	var next sql.NullInt64
	if err := s.queryRow(ctx, `SELECT CAST(SUM(amount) AS BIGINT) FROM schedules WHERE merchant_id = ? AND currency = ? AND status = 'scheduled'
		AND subscription_id = 0 AND schedule_at >= ? AND schedule_at < ?`, merchantID, currency, us(from), us(to)).Scan(&next); err != nil {
		return r, fmt.Errorf("upcoming v1 schedules: %w", err)
	}
	r.V1Next30Days = next.Int64
	return r, nil
}

// ListSubscriptions pages through a merchant's v3 subscriptions, newest first.
func (s *Store) ListSubscriptions(ctx context.Context, merchantID int64, page, limit int) ([]core.Subscription, int, error) {
	var total int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM subscriptions WHERE merchant_id = ?`, merchantID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count subscriptions: %w", err)
	}
	rows, err := s.query(ctx, `SELECT `+subscriptionCols+` FROM subscriptions WHERE merchant_id = ? ORDER BY id DESC LIMIT ? OFFSET ?`,
		merchantID, limit, (max(page, 1)-1)*limit)
	if err != nil {
		return nil, 0, fmt.Errorf("list subscriptions: %w", err)
	}
	defer rows.Close()
	var out []core.Subscription
	for rows.Next() {
		sub, err := scanSubscription(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *sub)
	}
	return out, total, rows.Err()
}

// ListBillingKeys pages through a merchant's billing keys, newest first;
// search matches a customer_uid prefix.
func (s *Store) ListBillingKeys(ctx context.Context, merchantID int64, search string, page, limit int) ([]core.BillingKey, int, error) {
	where := ` WHERE merchant_id = ?`
	args := []any{merchantID}
	if search != "" {
		where += ` AND substr(customer_uid, 1, ?) = ?`
		args = append(args, len(search), search)
	}
	var total int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM billing_keys`+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count billing keys: %w", err)
	}
	rows, err := s.query(ctx, `SELECT `+billingKeyCols+` FROM billing_keys`+where+` ORDER BY inserted_at DESC, customer_uid LIMIT ? OFFSET ?`,
		append(args, limit, (max(page, 1)-1)*limit)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list billing keys: %w", err)
	}
	defer rows.Close()
	var out []core.BillingKey
	for rows.Next() {
		k, err := scanBillingKey(rows)
		if err != nil {
			return nil, 0, err
		}
		k.CardCipher, k.PGBillingKey = nil, "" // the console never needs them
		out = append(out, *k)
	}
	return out, total, rows.Err()
}

// SetImpSecretHash replaces a merchant's V1 imp_secret (stored hashed).
func (s *Store) SetImpSecretHash(ctx context.Context, merchantID int64, hash []byte) error {
	res, err := s.exec(ctx, `UPDATE merchants SET imp_secret_hash = ? WHERE id = ?`, hash, merchantID)
	if err != nil {
		return fmt.Errorf("set imp_secret of merchant %d: %w", merchantID, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("merchant %d: %w", merchantID, core.ErrNotFound)
	}
	return nil
}

// D24Login is the merchant's v3 X-Login.
func (s *Store) D24Login(ctx context.Context, merchantID int64) (string, error) {
	var login string
	if err := s.queryRow(ctx, `SELECT x_login FROM d24_credentials WHERE merchant_id = ?`, merchantID).Scan(&login); err != nil {
		return "", notFound(err, "d24 credential")
	}
	return login, nil
}

// DeleteConsoleUser removes an account of the merchant and its sessions
// (its audit entries stay, with its e-mail address).
func (s *Store) DeleteConsoleUser(ctx context.Context, merchantID, userID int64) error {
	return s.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `DELETE FROM console_sessions WHERE merchant_id = ? AND user_id = ?`, merchantID, userID); err != nil {
			return fmt.Errorf("delete sessions of console user %d: %w", userID, err)
		}
		res, err := tx.exec(ctx, `DELETE FROM console_users WHERE merchant_id = ? AND id = ?`, merchantID, userID)
		if err != nil {
			return fmt.Errorf("delete console user %d: %w", userID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("console user %d: %w", userID, core.ErrNotFound)
		}
		return nil
	})
}
