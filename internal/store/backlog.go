package store

import (
	"context"
	"fmt"
	"time"
)

// Backlog is the reconciler's outstanding work of one kind: how many rows
// wait for a look-up at the PG and since when the oldest has.
type Backlog struct {
	Kind   string // BacklogUnknown, BacklogPending or BacklogCancelPending
	Count  int
	Oldest time.Time // zero when Count is 0
}

// Backlog kinds.
const (
	// BacklogUnknown: charges whose PG answer was lost.
	BacklogUnknown = "payment_unknown"
	// BacklogPending: charges recorded and not yet answered (in flight, or
	// left by a process that died mid-call).
	BacklogPending = "payment_pending"
	// BacklogCancelPending: refunds reserved and not yet confirmed.
	BacklogCancelPending = "cancel_pending"
)

const unresolvedBacklogSQL = `SELECT status, COUNT(*), COALESCE(MIN(started_at), 0) FROM payments
	WHERE ` + unresolved + ` GROUP BY status`

// ReconcileBacklog counts unresolved charges and refunds across merchants
// (an aggregate for metrics, no tenant data). Both queries are served by the
// partial indexes the reconciler claims through.
func (s *Store) ReconcileBacklog(ctx context.Context) ([]Backlog, error) {
	out := []Backlog{{Kind: BacklogUnknown}, {Kind: BacklogPending}, {Kind: BacklogCancelPending}}
	rows, err := s.query(ctx, unresolvedBacklogSQL)
	if err != nil {
		return nil, fmt.Errorf("reconcile backlog: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n int
		var oldest int64
		if err := rows.Scan(&st, &n, &oldest); err != nil {
			return nil, fmt.Errorf("reconcile backlog: %w", err)
		}
		i := 1
		if st == "unknown" {
			i = 0
		}
		out[i].Count, out[i].Oldest = n, tm(oldest)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reconcile backlog: %w", err)
	}
	var n int
	var oldest int64
	if err := s.queryRow(ctx, `SELECT COUNT(*), COALESCE(MIN(created_at), 0) FROM cancellations WHERE status = 'pending'`).Scan(&n, &oldest); err != nil {
		return nil, fmt.Errorf("reconcile backlog (cancels): %w", err)
	}
	out[2].Count, out[2].Oldest = n, tm(oldest)
	return out, nil
}
