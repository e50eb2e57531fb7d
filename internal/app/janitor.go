package app

import (
	"context"
	"time"

	"github.com/billkey/billkey/internal/api/v3/d24"
	"github.com/billkey/billkey/internal/store"
)

// sessionGrace keeps an expired payment-window session readable a while, so
// that a late close or reload answers "expired" rather than "not found".
const sessionGrace = 10 * time.Minute

// PruneExpired deletes, on every node's schedule, what has outlived its
// purpose: X-Idempotency-Key answers past their 24 hours, D24 replay
// fingerprints past their window and payment-window sessions past their
// grace. It deletes in batches until nothing is left.
func (a *App) PruneExpired(ctx context.Context) (store.Pruned, error) {
	var total store.Pruned
	const batch = 1000
	for {
		p, err := a.Store.PruneExpired(ctx, a.Config.Clock.Now(), a.Config.WallClock.Now(), d24.IdempotencyRetention, sessionGrace, batch)
		total.IdempotencyKeys += p.IdempotencyKeys
		total.D24Requests += p.D24Requests
		total.CheckoutSessions += p.CheckoutSessions
		if err != nil || (p.IdempotencyKeys < batch && p.D24Requests < batch && p.CheckoutSessions < batch) {
			return total, err
		}
	}
}

func (a *App) pruneLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if p, err := a.PruneExpired(ctx); err != nil {
			a.Log.Error("prune expired rows", "err", err)
		} else if p != (store.Pruned{}) {
			a.Log.Debug("pruned expired rows", "idempotency_keys", p.IdempotencyKeys, "d24_requests", p.D24Requests,
				"checkout_sessions", p.CheckoutSessions)
		}
	}
}
