package webhook

import (
	"context"
	"time"

	"github.com/billkey/billkey/internal/store"
)

// Store is what webhook delivery needs of the database: the outbox as a
// work queue, delivery records, and each merchant's secrets and settings.
type Store interface {
	DueEvents(ctx context.Context, now time.Time, excludeMerchants []int64, limit, perMerchant int) ([]store.DueEvent, error)
	ClaimEvents(ctx context.Context, ids []string, now, leaseUntil time.Time) ([]store.OutboxEvent, error)
	FinishDeliveries(ctx context.Context, rs []store.DeliveryResult) ([]bool, error)
	ReleaseEvent(ctx context.Context, merchantID int64, id string, claimedAttempts int, leasedUntil, now time.Time) error
	WebhookQueueDepth(ctx context.Context) (map[string]int, error)

	// Operator views and actions.
	OutboxEvent(ctx context.Context, merchantID int64, id string) (*store.OutboxEvent, error)
	OutboxEvents(ctx context.Context, merchantID int64, f store.EventFilter) ([]store.OutboxEvent, error)
	WebhookAttempts(ctx context.Context, merchantID int64, eventID string) ([]store.WebhookAttempt, error)
	RequeueEvent(ctx context.Context, merchantID int64, id string, now time.Time) error
	RequeueFailedEvents(ctx context.Context, merchantID int64, now time.Time) (int, error)

	// Secrets and settings.
	WebhookSecrets(ctx context.Context, merchantID int64, now time.Time) ([]store.WebhookSecret, error)
	AddFirstWebhookSecret(ctx context.Context, w store.WebhookSecret) (bool, error)
	RotateWebhookSecret(ctx context.Context, w store.WebhookSecret, oldExpiresAt time.Time) error
	GetWebhookSettings(ctx context.Context, merchantID int64) (store.WebhookSettings, error)
	SetWebhookSettings(ctx context.Context, w store.WebhookSettings, now time.Time) error
}

var _ Store = (*store.Store)(nil)
