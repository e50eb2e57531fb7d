package app

import (
	"context"

	v3 "github.com/billkey/billkey/internal/api/v3"
	"github.com/billkey/billkey/internal/checkout"
	"github.com/billkey/billkey/internal/clock"
)

// setupCheckout builds the payment window (the IMP SDK at /v1/iamport.js,
// the hosted window under /v1/checkout/, the demo merchant page at /demo),
// which the V1 router mounts.
func (a *App) setupCheckout(ctx context.Context) error {
	origins := a.Config.CheckoutOrigins
	demo := !a.Config.DisableDemo
	h, err := checkout.New(checkout.Options{
		Service:   a.Service,
		Merchants: a.Merchants,
		Store:     a.Store,
		Logger:    a.Log.With("component", "checkout"),
		Clock:     a.Config.Clock,
		Origins:   origins,
		Demo:      demo,
		Terms:     a.windowTerms,
	})
	if err != nil {
		return err
	}
	a.Log.Debug("payment window", "frame_ancestors", h.FrameAncestors(), "sdk_integrity", checkout.SDKIntegrity(), "demo", demo)
	a.window = h
	return nil
}

// DemoPath is the demo merchant page for a merchant code ("" when disabled).
func (a *App) DemoPath(merchantCode string) string {
	if a.Config.DisableDemo {
		return ""
	}
	return "/demo?merchant=" + merchantCode
}

// windowTerms states a OneShot subscription's real terms in its key window
// (the first charge follows the key on the server). Subscriptions are set
// up after the window, so the engine is looked up at call time.
func (a *App) windowTerms(ctx context.Context, merchantID int64, merchantUID string) (checkout.Terms, bool) {
	if a.subscriptions == nil {
		return checkout.Terms{}, false
	}
	sub, ok := a.subscriptions.WindowSubscription(ctx, merchantID, merchantUID)
	if !ok {
		return checkout.Terms{}, false
	}
	ko, en := v3.OneShotNotice(sub, clock.For(a.Config.Clock, merchantID))
	return checkout.Terms{Ko: ko, En: en}, true
}
