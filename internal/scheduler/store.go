package scheduler

import (
	"context"
	"time"

	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/store"
)

// Store is what the scheduler needs of the database: the schedules table
// as a work queue, and the billing keys its entries charge.
type Store interface {
	InTx(ctx context.Context, fn func(*store.Tx) error) error

	// Booking and changes.
	ScheduleExists(ctx context.Context, merchantID int64, merchantUIDs []string) (*store.ScheduleExistsError, error)
	InsertSchedules(ctx context.Context, list []core.Schedule) error
	GetSchedule(ctx context.Context, merchantID int64, merchantUID string) (*core.Schedule, error)
	ListSchedules(ctx context.Context, merchantID int64, q core.ScheduleQuery) (core.SchedulePage, error)
	RevokeSchedules(ctx context.Context, merchantID int64, customerUID string, merchantUIDs []string, now time.Time) ([]core.Schedule, error)
	MoveSchedule(ctx context.Context, merchantID int64, merchantUID string, at, now time.Time, rearm bool) (*core.Schedule, error)

	// The work queue.
	ClaimDueSchedules(ctx context.Context, now, leaseUntil time.Time, token string, limit int) ([]core.Schedule, error)
	ClaimSchedule(ctx context.Context, merchantID int64, merchantUID string, now, leaseUntil time.Time, token string) ([]core.Schedule, error)
	CountDue(ctx context.Context, now time.Time) (int, error)
	ClaimMerchantDueSchedules(ctx context.Context, merchantID int64, dueAt, now, leaseUntil time.Time, token string, limit int) ([]core.Schedule, error)
	CountMerchantDue(ctx context.Context, merchantID int64, now time.Time) (int, error)
	FailClaimedSchedule(ctx context.Context, sc *core.Schedule, token, reason string, now time.Time) (bool, error)
	DeferClaim(ctx context.Context, sc *core.Schedule, token string, retryAt time.Time) error
	GetBillingKeys(ctx context.Context, merchantID int64, uids []string) ([]core.BillingKey, error)
}

var _ Store = (*store.Store)(nil)
