package charge

import (
	"context"
	"time"

	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/store"
)

// Store is what the charge protocol needs of the database: row operations,
// each atomic, and the transactions that group them. internal/store
// implements it; tests wrap it to make the database fail on purpose.
type Store interface {
	InTx(ctx context.Context, fn func(*store.Tx) error) error
	Statements(ctx context.Context, fn func(*store.Tx) error) error

	// Attempts.
	SettleAttempt(ctx context.Context, p *core.Payment, hooks func(*store.Tx) error) (int, error)
	MarkUnknown(ctx context.Context, merchantID int64, impUID string, nextCheck, now time.Time) error
	ClaimUnresolved(ctx context.Context, now, leaseUntil time.Time, limit int) ([]core.Payment, error)
	RescheduleCheck(ctx context.Context, merchantID int64, impUID string, next time.Time, checks int) error
	NoteNotSeen(ctx context.Context, merchantID int64, impUID string, next time.Time, checks int) (int, error)
	ReconcileBacklog(ctx context.Context) ([]store.Backlog, error)
	GetPayment(ctx context.Context, merchantID int64, impUID string) (*core.Payment, error)
	GetPayments(ctx context.Context, merchantID int64, impUIDs []string) ([]core.Payment, error)
	FindPayment(ctx context.Context, merchantID int64, merchantUID, status, sorting string) (*core.Payment, error)
	ListPayments(ctx context.Context, merchantID int64, q core.PaymentQuery) (core.PaymentPage, error)

	// Refunds.
	ReserveCancel(ctx context.Context, merchantID int64, target store.CancelTarget, c *core.Cancellation, amount, checksum *int64, enableWebhook bool) (*core.Payment, error)
	FinishCancel(ctx context.Context, merchantID int64, c core.Cancellation, hooks func(tx *store.Tx, p *core.Payment, enableWebhook bool) error) (*core.Payment, int, error)
	StalePendingCancels(ctx context.Context, olderThan, now time.Time, limit int) ([]store.PendingCancel, error)
	RescheduleCancelCheck(ctx context.Context, merchantID int64, id string, next time.Time, checks int) error

	// Prepared amounts.
	PutPrepared(ctx context.Context, p core.Prepared) error
	UpdatePrepared(ctx context.Context, p core.Prepared) error
	GetPrepared(ctx context.Context, merchantID int64, merchantUID string) (*core.Prepared, error)

	// Billing keys.
	GetBillingKey(ctx context.Context, merchantID int64, customerUID string) (*core.BillingKey, error)
	GetBillingKeys(ctx context.Context, merchantID int64, uids []string) ([]core.BillingKey, error)
	PutBillingKey(ctx context.Context, k *core.BillingKey) error
	DeleteBillingKey(ctx context.Context, merchantID int64, customerUID string, also func(*store.Tx) error) (*core.BillingKey, error)
}

var _ Store = (*store.Store)(nil)
