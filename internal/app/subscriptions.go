package app

import (
	"context"
	"errors"
	"time"

	v3 "github.com/billkey/billkey/internal/api/v3"
	"github.com/billkey/billkey/internal/reqid"
	"github.com/billkey/billkey/internal/subscription"
)

// setupSubscriptions wires the v3 (OneKey/D24) dialect: the subscription
// engine on the scheduler, and the /v3/ routes.
func (a *App) setupSubscriptions(ctx context.Context) error {
	sched := a.Scheduler()
	if sched == nil {
		return errors.New("subscriptions need the scheduler")
	}
	a.subscriptions = subscription.New(a.Service, a.Store, sched, subscription.Config{
		Dunning: a.Config.Dunning, Logger: a.Log.With("component", "subscription"),
	})
	h := v3.New(v3.Options{
		Engine: a.subscriptions, Service: a.Service, Store: a.Store, Vault: a.Vault, Clock: a.Config.Clock, WallClock: a.Config.WallClock,
		Logger: a.Log.With("component", "v3"), Window: a.Config.D24Window, Registerer: a.registry,
	})
	// v3 requests get the same access line as V1 ones.
	access := a.Log.With("component", "v3")
	for _, r := range h.Routes() {
		a.mounts = append(a.mounts, mount{pattern: r.Pattern, handler: reqid.AccessLog(access, "v3 request", r.Handler)})
	}
	return nil
}

// Subscriptions is the v3 subscription engine.
func (a *App) Subscriptions() *subscription.Engine { return a.subscriptions }

// D24WindowDefault is the accepted X-Date skew on signed v3 requests.
const D24WindowDefault = 5 * time.Minute
