package core

import "time"

// ScheduleStatus is the internal state of a scheduled payment. Executing is
// internal only: the v1 dialect shows it as "scheduled" (the entry has not
// finished running) with the attempt's imp_uid.
type ScheduleStatus string

const (
	// ScheduleScheduled: waiting for schedule_at (or claimed by a node that
	// has not started the charge yet).
	ScheduleScheduled ScheduleStatus = "scheduled"
	// ScheduleExecuting: the charge attempt (ImpUID) is recorded and its
	// outcome is not stored yet: the PG is being called, or the outcome is
	// unknown and the reconciler owns it. It can no longer be revoked or moved.
	ScheduleExecuting ScheduleStatus = "executing"
	// ScheduleExecuted: the charge ran; PaymentStatus says how it ended.
	ScheduleExecuted ScheduleStatus = "executed"
	// ScheduleRevoked: unscheduled by the merchant, or its billing key was deleted.
	ScheduleRevoked ScheduleStatus = "revoked"
)

// Schedule is one scheduled payment: charge CustomerUID's billing key at
// ScheduleAt for MerchantUID, exactly once.
type Schedule struct {
	ID          int64
	MerchantID  int64
	MerchantUID string
	CustomerUID string
	CustomerID  string
	Status      ScheduleStatus
	ScheduleAt  time.Time
	Amount      int64 // minor units
	Currency    string
	TaxFree     int64
	VatAmount   *int64
	Name        string
	// Buyer holds what the merchant sent; empty fields fall back to the
	// billing key's customer fields at execution.
	Buyer       Buyer
	CustomData  *string
	NoticeURL   string
	CardQuota   int
	PromotionID string
	PGProvider  string
	PGID        string
	// SubscriptionID is set on the renewals of a v3 subscription (0 for v1
	// schedules); their outcomes notify through the subscription engine.
	SubscriptionID int64
	// ImpUID is the charge attempt, set when execution starts.
	ImpUID string
	// PaymentStatus is the outcome ("" until executed); a later refund shows
	// as cancelled when read together with the payment.
	PaymentStatus PaymentStatus
	FailReason    string
	ExecutedAt    time.Time
	RevokedAt     time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// ScheduleQuery selects a merchant's schedules by schedule_at window.
type ScheduleQuery struct {
	CustomerUID string
	// Status is a v1 schedule_status ("scheduled" includes executing); empty = all.
	Status    string
	From, To  time.Time // From inclusive, To exclusive
	Ascending bool      // v1 sorting=scheduled: oldest schedule_at first
	Page      int       // 1-based
	Limit     int
}

// SchedulePage is one page of schedules with the total matching count.
type SchedulePage struct {
	Pager
	Schedules []Schedule
}

// Dialect is the dialect that owns the payments of a schedule: renewals of
// a v3 subscription belong to the subscription engine.
func (s *Schedule) Dialect() Dialect {
	if s.SubscriptionID != 0 {
		return DialectV3
	}
	return DialectV1
}
