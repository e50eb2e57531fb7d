package core

import "time"

// SubscriptionStatus is the v3 lifecycle: PENDING → ACTIVE → CANCELLED | TERMINATED.
type SubscriptionStatus string

const (
	SubPending    SubscriptionStatus = "PENDING"
	SubActive     SubscriptionStatus = "ACTIVE"
	SubCancelled  SubscriptionStatus = "CANCELLED"
	SubTerminated SubscriptionStatus = "TERMINATED"
)

// Subscription flows.
const (
	FlowOneShot = "oneshot" // card entered on Billkey's hosted page
	FlowPCI     = "pci"     // card in the request body
	FlowKey     = "key"     // an existing v1 billing key (Billkey extension)
)

// Subscription is a v3 recurring plan owned by Billkey's engine.
type Subscription struct {
	ID              int64
	MerchantID      int64
	InvoiceID       string
	Flow            string
	Status          SubscriptionStatus
	Amount          int64 // minor units per period
	Currency        string
	Country         string
	Description     string
	Payer           string // JSON object as received
	Plan            string
	PlanUnit        int
	AutoRenewal     bool
	StartDate       string // YYYY-MM-DD in TimeZone
	ChargeTime      int    // seconds after local midnight each charge is due
	TimeZone        string
	CustomerUID     string // the billing key charged
	NotificationURL string
	BackURL         string
	SuccessURL      string
	ErrorURL        string
	ClientIP        string
	CheckoutToken   string
	CheckoutExpires time.Time
	// PeriodsPaid counts billing periods charged successfully; Tries counts
	// failed tries of the period being charged now.
	PeriodsPaid int
	Tries       int
	// EndAt is when the current term ends if it is not renewed.
	EndAt       time.Time
	CancelledAt time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// DepositStatus values Billkey uses (a subset of D24's).
const (
	DepositPending   = "PENDING"
	DepositCompleted = "COMPLETED"
	DepositRejected  = "REJECTED"
)

// Deposit is one charge attempt of a subscription period.
type Deposit struct {
	ID             int64
	MerchantID     int64
	SubscriptionID int64
	Period         int
	Try            int
	ImpUID         string
	Status         string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}
