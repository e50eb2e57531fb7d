package store

import (
	"context"
	"fmt"
	"time"
)

// SaveSandboxClock records where a merchant's sandbox test clock stands, so
// that a restarted sandbox never starts behind it. It only ever moves a
// stored clock forward.
func (s *Store) SaveSandboxClock(ctx context.Context, merchantID int64, now time.Time) error {
	_, err := s.exec(ctx, `INSERT INTO sandbox_clocks (merchant_id, now_us) VALUES (?, ?)
		ON CONFLICT (merchant_id) DO UPDATE SET now_us = excluded.now_us WHERE sandbox_clocks.now_us < excluded.now_us`,
		merchantID, us(now))
	if err != nil {
		return fmt.Errorf("save sandbox clock of merchant %d: %w", merchantID, err)
	}
	return nil
}

// SandboxClocks is where each merchant's sandbox test clock was advanced
// to, by merchant.
func (s *Store) SandboxClocks(ctx context.Context) (map[int64]time.Time, error) {
	rows, err := s.query(ctx, `SELECT merchant_id, now_us FROM sandbox_clocks`)
	if err != nil {
		return nil, fmt.Errorf("sandbox clocks: %w", err)
	}
	defer rows.Close()
	out := map[int64]time.Time{}
	for rows.Next() {
		var id, v int64
		if err := rows.Scan(&id, &v); err != nil {
			return nil, fmt.Errorf("sandbox clocks: %w", err)
		}
		out[id] = tm(v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sandbox clocks: %w", err)
	}
	return out, nil
}

// CountExecutedSchedules counts a merchant's executed schedule entries (V1
// schedules and v3 renewals alike); merchantID 0 counts every merchant's.
func (s *Store) CountExecutedSchedules(ctx context.Context, merchantID int64) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM schedules WHERE status = 'executed' AND (? = 0 OR merchant_id = ?)`,
		merchantID, merchantID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count executed schedules: %w", err)
	}
	return n, nil
}
