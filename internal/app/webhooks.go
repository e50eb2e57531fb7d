package app

import (
	"context"
)

// setupWebhooks wires the webhook outbox delivery (see internal/webhook):
// the delivery worker; the V1 dialect serves the /webhooks/ endpoints.
func (a *App) setupWebhooks(ctx context.Context) error {
	svc := a.Core.Webhooks()
	if a.Config.WebhookAllowPrivate {
		a.Log.Warn("webhooks may be delivered to private, loopback and link-local addresses (BILLKEY_WEBHOOK_ALLOW_PRIVATE)")
	}
	// Events written by a charge are delivered at once instead of at the next tick.
	a.Service.OnEventsWritten(svc.Wake)
	a.workers = append(a.workers, svc.Run)
	return nil
}
