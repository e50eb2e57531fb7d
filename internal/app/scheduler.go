package app

import "context"

// setupScheduler wires scheduled payments (see internal/scheduler).
func (a *App) setupScheduler(ctx context.Context) error { return nil }
