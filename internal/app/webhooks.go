package app

import (
	"context"
	"sync"

	"github.com/billkey/billkey/internal/webhook"
)

// webhookServices holds each App's webhook service. It lives here rather
// than in an App field so that the webhook wiring stays in this file.
var webhookServices sync.Map // *App → *webhook.Service

// setupWebhooks wires the webhook outbox delivery (see internal/webhook):
// the delivery worker and the merchant-facing /webhooks/ endpoints.
func (a *App) setupWebhooks(ctx context.Context) error {
	svc := webhook.New(webhook.Options{
		Store:        a.Store,
		Vault:        a.Vault,
		Clock:        a.Config.Clock,
		Logger:       a.Log.With("component", "webhook"),
		Registerer:   a.registry,
		Authenticate: a.Service.Authenticate,
		AllowPrivate: a.Config.WebhookAllowPrivate,
	})
	if a.Config.WebhookAllowPrivate {
		a.Log.Warn("webhooks may be delivered to private, loopback and link-local addresses (BILLKEY_WEBHOOK_ALLOW_PRIVATE)")
	}
	webhookServices.Store(a, svc)
	a.closers = append(a.closers, func() error { webhookServices.Delete(a); return nil })
	a.workers = append(a.workers, svc.Run)
	for _, r := range svc.Routes() {
		a.mounts = append(a.mounts, mount{pattern: r.Pattern, handler: r.Handler})
	}
	return nil
}

// Webhooks is the webhook delivery service (nil after Close).
func (a *App) Webhooks() *webhook.Service {
	if v, ok := webhookServices.Load(a); ok {
		return v.(*webhook.Service)
	}
	return nil
}
