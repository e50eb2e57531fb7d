package scheduler

import (
	"context"
	"fmt"
	"sync"

	"github.com/billkey/billkey/internal/core"
)

// ExecuteNow runs one due entry synchronously (the v3 engine's first charge
// of a subscription starting today) through the same claim-and-start path
// as the loop, so the loop and this call can never both charge it. It
// returns the entry's payment; nil if the row was not due or already taken.
func (s *Scheduler) ExecuteNow(ctx context.Context, merchantID int64, merchantUID string) (*core.Payment, error) {
	now := s.now(merchantID)
	token := newOrderUID("")
	claimed, err := s.st.ClaimSchedule(ctx, merchantID, merchantUID, now, now.Add(s.cfg.Lease), token)
	if err != nil || len(claimed) == 0 {
		return nil, err
	}
	var wg sync.WaitGroup
	_, err = s.runClaimed(ctx, claimed, token, &wg, nil)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	sc, err := s.st.GetSchedule(ctx, merchantID, merchantUID)
	if err != nil || sc.ImpUID == "" {
		return nil, err
	}
	p, err := s.svc.GetPayment(ctx, merchantID, sc.ImpUID)
	if err != nil {
		return nil, fmt.Errorf("execute %s: %w", merchantUID, err)
	}
	return p, nil
}
