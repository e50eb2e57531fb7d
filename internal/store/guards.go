package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

func randomToken() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // the OS RNG failing is not recoverable
	}
	return hex.EncodeToString(b[:])
}

// RememberD24Request records the fingerprint of a verified signed request
// until until, and reports whether it was not already recorded (an entry
// past its own expiry counts as absent). One INSERT decides it, so two
// nodes receiving the same request at once accept it exactly once.
func (s *Store) RememberD24Request(ctx context.Context, fingerprint string, until, now time.Time) (bool, error) {
	var fresh bool
	err := s.InTx(ctx, func(tx *Tx) error {
		fresh = false
		res, err := tx.exec(ctx, `INSERT INTO d24_seen (fingerprint, expires_at) VALUES (?, ?)
			ON CONFLICT (fingerprint) DO UPDATE SET expires_at = excluded.expires_at WHERE d24_seen.expires_at < ?`,
			fingerprint, us(until), us(now))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		fresh = n == 1
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("remember d24 request: %w", err)
	}
	return fresh, nil
}

// Pruned counts what PruneExpired deleted.
type Pruned struct {
	IdempotencyKeys  int64
	D24Requests      int64
	CheckoutSessions int64
}

// PruneExpired deletes idempotency keys older than retention, replay
// fingerprints past their window and payment-window sessions expired for
// more than sessionGrace, at most limit rows of each per call.
// D24 fingerprints expire on wall, the clock their X-Date window is checked
// on; the rest on now.
func (s *Store) PruneExpired(ctx context.Context, now, wall time.Time, retention, sessionGrace time.Duration, limit int) (Pruned, error) {
	var p Pruned
	for _, q := range []struct {
		n    *int64
		stmt string
		arg  int64
	}{
		{&p.IdempotencyKeys, `DELETE FROM idempotency_keys WHERE (merchant_id, idem_key) IN
			(SELECT merchant_id, idem_key FROM idempotency_keys WHERE created_at < ? LIMIT ?)`, us(now.Add(-retention))},
		{&p.D24Requests, `DELETE FROM d24_seen WHERE fingerprint IN (SELECT fingerprint FROM d24_seen WHERE expires_at < ? LIMIT ?)`, us(wall)},
		{&p.CheckoutSessions, `DELETE FROM checkout_sessions WHERE id IN (SELECT id FROM checkout_sessions WHERE expires_at < ? LIMIT ?)`,
			us(now.Add(-sessionGrace))},
	} {
		res, err := s.exec(ctx, q.stmt, q.arg, limit)
		if err != nil {
			return p, fmt.Errorf("prune expired: %w", err)
		}
		*q.n, _ = res.RowsAffected()
	}
	return p, nil
}
