package app

import (
	"context"

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
