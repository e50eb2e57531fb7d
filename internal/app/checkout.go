package app

import (
	"context"

	"github.com/billkey/billkey/internal/checkout"
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
