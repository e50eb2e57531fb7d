package app

import (
	"context"
	"errors"
	"time"

	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/console"
)

// setupConsole mounts the merchant console under /console/.
func (a *App) setupConsole(ctx context.Context) error {
	var sandbox console.SandboxClock
	if _, ok := a.Config.Clock.(*clock.Test); ok && a.sandbox != nil {
		sandbox = a.sandbox
	}
	a.console = console.New(console.Options{
		Store: a.Store, Merchants: a.Merchants, Payments: a.Service, Webhooks: a.webhooks, Schedules: a.scheduler, Subscriptions: a.subscriptions,
		Sandbox: sandbox, Clock: a.Config.Clock, Logger: a.Log.With("component", "console"),
	})
	a.mounts = append(a.mounts, mount{pattern: console.Prefix, handler: a.console}, mount{pattern: "/console", handler: a.console})
	return nil
}

// Console is the merchant console (accounts are added through it).
func (a *App) Console() *console.Handler { return a.console }

// AdvanceClock moves the test clock and runs everything that fell due, as
// POST /sandbox/clock/advance does.
func (h *sandboxClock) AdvanceClock(ctx context.Context, d time.Duration) (time.Time, int, error) {
	tc, ok := h.app.Config.Clock.(*clock.Test)
	if !ok {
		return time.Time{}, 0, errors.New("not running on a test clock")
	}
	return h.move(ctx, tc, 0, d)
}
