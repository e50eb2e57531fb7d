package core

import "time"

// PaymentQuery selects a merchant's payments for the list endpoints.
type PaymentQuery struct {
	MerchantUID string
	CustomerUID string
	// Status filters by v1 status ("paid", "failed", "cancelled", "ready");
	// empty or "all" means every status.
	Status string
	// From/To bound the time named by TimeField (inclusive From, exclusive To);
	// zero means unbounded.
	From, To  time.Time
	TimeField string // "started", "paid", "failed", "cancelled", "updated"
	// Sorting is one of "-started" (default), "started", "-paid", "paid",
	// "-updated", "updated".
	Sorting string
	Page    int // 1-based
	Limit   int
}

// Pager is the position of one page in a list: v1's paged envelopes.
type Pager struct {
	Total int // matching rows
	Page  int // 1-based
	Limit int
}

// Previous and Next give v1's page numbers, 0 when there is none.
func (p Pager) Previous() int {
	if p.Page > 1 {
		return p.Page - 1
	}
	return 0
}

func (p Pager) Next() int {
	if p.Page*p.Limit < p.Total {
		return p.Page + 1
	}
	return 0
}

// PaymentPage is one page of payments with the total matching count.
type PaymentPage struct {
	Pager
	Payments []Payment
}
