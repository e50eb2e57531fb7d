package app

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/billkey/billkey/internal/api/iamport"
	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/notice"
	"github.com/billkey/billkey/internal/scheduler"
)

// setupScheduler wires scheduled payments (see internal/scheduler): the
// execution loop as a worker, the hooks that keep schedules consistent with
// payments and key deletions, and the sandbox clock the V1 dialect serves.
func (a *App) setupScheduler(ctx context.Context) error {
	cfg := a.Config.Scheduler
	cfg.Logger = a.Log.With("component", "scheduler")
	cfg.Registerer = a.registry
	cfg.Texts = notice.ScheduleTexts
	s := scheduler.New(a.Service, a.Store, cfg)
	s.Attach()
	a.scheduler = s
	a.workers = append(a.workers, s.Run)
	a.sandbox = &sandboxClock{app: a, sched: s}
	return nil
}

// Scheduler is the scheduled-payment service.
func (a *App) Scheduler() *scheduler.Scheduler { return a.scheduler }

// scheduleAPI is what the V1 dialect gets: a nil interface, not a typed
// nil, when there is no scheduler.
func (a *App) scheduleAPI() iamport.Schedules {
	if s := a.Scheduler(); s != nil {
		return s
	}
	return nil
}

// sandboxClock serves the test clock (billkey serve --test-clock): a
// merchant advances its own time and everything of its that fell due runs
// before the answer, as if the time had passed.
type sandboxClock struct {
	app   *App
	sched *scheduler.Scheduler
	mu    sync.Mutex // one advance at a time keeps "run everything due" meaningful
}

// Now is merchantID's sandbox time; ok is false on the wall clock.
func (h *sandboxClock) Now(merchantID int64) (time.Time, bool) {
	tc, ok := h.app.Config.Clock.(*clock.Test)
	if !ok {
		return time.Time{}, false
	}
	return tc.NowFor(merchantID), true
}

// Advance moves merchantID's test clock by d (POST /sandbox/clock/advance,
// the console's settings page).
func (h *sandboxClock) Advance(ctx context.Context, merchantID int64, d time.Duration) (time.Time, int, error) {
	tc, ok := h.app.Config.Clock.(*clock.Test)
	if !ok {
		return time.Time{}, 0, errors.New("not running on a test clock")
	}
	if merchantID == 0 {
		return time.Time{}, 0, errors.New("advance sandbox clock: no merchant")
	}
	return h.move(ctx, tc, merchantID, d)
}

// sandboxAPI is what the V1 dialect gets: a nil interface when there is no
// scheduler.
func (a *App) sandboxAPI() iamport.SandboxClock {
	if a.sandbox != nil {
		return a.sandbox
	}
	return nil
}

// move advances merchantID's clock by d, records it so that a restart never
// starts it behind, runs everything that fell due, and counts the schedule
// entries (V1 schedules and v3 renewals) of merchantID that this advance
// executed: entries executed meanwhile, not claims.
func (h *sandboxClock) move(ctx context.Context, tc *clock.Test, merchantID int64, d time.Duration) (time.Time, int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	before, err := h.app.Store.CountExecutedSchedules(ctx, merchantID)
	if err != nil {
		return time.Time{}, 0, err
	}
	now := tc.AdvanceFor(merchantID, d)
	if err := h.app.Store.SaveSandboxClock(ctx, merchantID, now); err != nil {
		return now, 0, err
	}
	if _, err := h.runDue(ctx); err != nil {
		return now, 0, err
	}
	// The loop may have picked up some of the rows meanwhile (it claims by
	// each merchant's time too): the answer counts them once they are done.
	h.sched.WaitIdle(ctx, h.app.Config.PGTimeout+5*time.Second)
	after, err := h.app.Store.CountExecutedSchedules(ctx, merchantID)
	return now, after - before, err
}

// runDue runs due schedules and due reconciler look-ups until neither finds
// work (a look-up can put a schedule back to waiting).
func (h *sandboxClock) runDue(ctx context.Context) (int, error) {
	total := 0
	for range 5 {
		n, err := h.sched.RunDue(ctx)
		total += n
		if err != nil {
			return total, err
		}
		resolved, err := h.app.Service.Reconcile(ctx)
		if err != nil {
			return total, err
		}
		if resolved == 0 {
			break
		}
	}
	return total, nil
}
