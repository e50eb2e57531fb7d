package store

import (
	"context"
	"fmt"
	"time"
)

// CheckoutState is where a payment window is in its one-way life.
type CheckoutState int

const (
	CheckoutOpen       CheckoutState = iota // the form may be (re)submitted after a validation error
	CheckoutProcessing                      // one submission is at the PG; others wait for its answer
	CheckoutDone                            // the outcome is final; every later request sees it
)

// CheckoutSession is a payment window as every node sees it. Params and
// Result are the window package's own encoding; the store only moves the
// state forward, atomically, so that one submission reaches the PG however
// many nodes receive it.
type CheckoutSession struct {
	ID         string
	MerchantID int64
	CSRF       string
	Params     []byte
	State      CheckoutState
	Attempts   int
	Result     []byte
	LeaseUntil time.Time // while processing: after it, the submitting node is presumed dead
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// CreateCheckoutSession stores a new window.
func (s *Store) CreateCheckoutSession(ctx context.Context, cs *CheckoutSession) error {
	_, err := s.exec(ctx, `INSERT INTO checkout_sessions (id, merchant_id, csrf, params, state, attempts, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, 0, ?, ?)`, cs.ID, cs.MerchantID, cs.CSRF, cs.Params, int64(CheckoutOpen), us(cs.CreatedAt), us(cs.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create checkout session: %w", err)
	}
	return nil
}

// CheckoutSession reads a window; core.ErrNotFound when there is none.
func (s *Store) CheckoutSession(ctx context.Context, id string) (*CheckoutSession, error) {
	var cs CheckoutSession
	var state, attempts, lease, created, expires int64
	err := s.queryRow(ctx, `SELECT id, merchant_id, csrf, params, state, attempts, result, lease_until, created_at, expires_at
		FROM checkout_sessions WHERE id = ?`, id).
		Scan(&cs.ID, &cs.MerchantID, &cs.CSRF, &cs.Params, &state, &attempts, &cs.Result, &lease, &created, &expires)
	if err != nil {
		return nil, notFound(err, "checkout session")
	}
	cs.State, cs.Attempts = CheckoutState(state), int(attempts)
	cs.LeaseUntil, cs.CreatedAt, cs.ExpiresAt = tm(lease), tm(created), tm(expires)
	return &cs, nil
}

// ClaimCheckoutSession moves an open, unexpired window with fewer than
// maxAttempts submissions to processing, for lease, and counts the attempt.
// It reports false when another request (on any node) holds or finished it,
// or it expired or ran out of attempts: the caller reads it again to see which.
func (s *Store) ClaimCheckoutSession(ctx context.Context, id string, now time.Time, maxAttempts int, lease time.Duration) (bool, error) {
	res, err := s.exec(ctx, `UPDATE checkout_sessions SET state = ?, attempts = attempts + 1, lease_until = ?
		WHERE id = ? AND state = ? AND attempts < ? AND expires_at >= ?`,
		int64(CheckoutProcessing), us(now.Add(lease)), id, int64(CheckoutOpen), maxAttempts, us(now))
	if err != nil {
		return false, fmt.Errorf("claim checkout session: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ReopenCheckoutSession gives a processing window back to the customer
// after input they can fix.
func (s *Store) ReopenCheckoutSession(ctx context.Context, id string) error {
	_, err := s.exec(ctx, `UPDATE checkout_sessions SET state = ?, lease_until = 0 WHERE id = ? AND state = ?`,
		int64(CheckoutOpen), id, int64(CheckoutProcessing))
	if err != nil {
		return fmt.Errorf("reopen checkout session: %w", err)
	}
	return nil
}

// FinishCheckoutSession records a window's final result if it has none
// yet; the first result wins. from limits which states may finish (a
// customer's cancel only ends an open window).
func (s *Store) FinishCheckoutSession(ctx context.Context, id string, result []byte, from ...CheckoutState) (bool, error) {
	q := `UPDATE checkout_sessions SET state = ?, result = ?, lease_until = 0 WHERE id = ? AND state <> ?`
	args := []any{int64(CheckoutDone), result, id, int64(CheckoutDone)}
	if len(from) > 0 {
		q += ` AND state IN (`
		for i, st := range from {
			if i > 0 {
				q += `, `
			}
			q += `?`
			args = append(args, int64(st))
		}
		q += `)`
	}
	res, err := s.exec(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("finish checkout session: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// FinishAbandonedCheckoutSession ends a window still processing after its
// lease (the node running its submission died) with result.
func (s *Store) FinishAbandonedCheckoutSession(ctx context.Context, id string, result []byte, now time.Time) (bool, error) {
	res, err := s.exec(ctx, `UPDATE checkout_sessions SET state = ?, result = ?, lease_until = 0
		WHERE id = ? AND state = ? AND lease_until < ?`, int64(CheckoutDone), result, id, int64(CheckoutProcessing), us(now))
	if err != nil {
		return false, fmt.Errorf("finish abandoned checkout session: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
