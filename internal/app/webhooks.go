package app

import "context"

// setupWebhooks wires the webhook outbox delivery (see internal/webhook).
func (a *App) setupWebhooks(ctx context.Context) error { return nil }
