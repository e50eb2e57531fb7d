package console

import (
	"net/http"
	"time"

	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/store"
)

// figures are totals over a period.
type figures struct {
	Billed, Refunded, Net int64
	Paid, Failed          int
	SuccessRate           string // "97.5%", or "—" without attempts
}

// chartData feeds assets/console.js: x is unix seconds of each local day.
type chartData struct {
	Days     []int64   `json:"days"`
	Billed   []int64   `json:"billed"`
	Refunded []int64   `json:"refunded"`
	Success  []*int64  `json:"success"` // percent per day, null on days without attempts
	Months   []int64   `json:"months"`
	MRR      []int64   `json:"mrr"`
	Upcoming []int64   `json:"upcoming"`
	UpDays   []int64   `json:"up_days"`
	Labels   chartText `json:"labels"`
}

type chartText struct {
	Billed, Refunded, Success, MRR, Upcoming string
}

type overviewData struct {
	Today, Month        figures
	Currency            string
	MRR                 int64
	ActiveSubscriptions int
	V3Subscriptions     int
	ScheduledCustomers  int
	FailedRenewals      int
	Dunning             int
	Upcoming            int64
	UpcomingCount       int
	Chart               chartData
}

// monthly normalises a v3 plan's per-period amount to a month.
func monthly(sub core.Subscription) int64 {
	switch sub.Plan {
	case "DAILY", "TEST":
		return sub.Amount * 30
	case "WEEKLY":
		return sub.Amount * 52 / 12
	case "ANNUALLY":
		return sub.Amount / 12
	}
	return sub.Amount
}

func sumRange(series []store.DayTotal, from, to int64) (amount int64, count int) {
	for _, d := range series {
		if d.Day >= from && d.Day < to {
			amount += d.Amount
			count += d.Count
		}
	}
	return
}

func rate(paid, failed int) string {
	if paid+failed == 0 {
		return "—"
	}
	x := float64(paid) * 100 / float64(paid+failed)
	return formatPercent(x)
}

func formatPercent(x float64) string {
	s := formatInt(int64(x*10+0.5) / 10)
	if d := int64(x*10+0.5) % 10; d != 0 {
		s += "." + string(rune('0'+d))
	}
	return s + "%"
}

func (h *Handler) overview(w http.ResponseWriter, q *req) {
	ctx := q.Context()
	p := h.base(q, "overview", "개요", "Overview")
	now := clock.For(h.o.Clock, q.merchant.ID).In(p.loc)
	_, off := now.Zone()
	offset := time.Duration(off) * time.Second
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, p.loc)
	monthStart := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, p.loc)
	// Charts: the last 30 days; recurring revenue: the last 12 months.
	chartFrom := today.AddDate(0, 0, -29)
	yearFrom := monthStart.AddDate(0, -11, 0)
	from := chartFrom
	if yearFrom.Before(from) {
		from = yearFrom
	}
	tomorrow := today.AddDate(0, 0, 1)
	// The figures are in won: Korean merchants bill in KRW, and amounts of
	// different currencies cannot be added up.
	const currency = "KRW"
	fig, err := h.o.Store.Daily(ctx, q.merchant.ID, currency, from, tomorrow, offset, tomorrow.AddDate(0, 0, 30))
	if err != nil {
		h.serverError(w, q.Request, err)
		return
	}
	rec, err := h.o.Store.Recurring(ctx, q.merchant.ID, currency, today.AddDate(0, 0, -30), now, now.AddDate(0, 0, 30))
	if err != nil {
		h.serverError(w, q.Request, err)
		return
	}
	dayOf := func(t time.Time) int64 { return (t.Unix() + int64(off)) / 86400 }
	period := func(start time.Time) figures {
		var f figures
		f.Billed, f.Paid = sumRange(fig.Billed, dayOf(start), dayOf(tomorrow))
		f.Refunded, _ = sumRange(fig.Refunded, dayOf(start), dayOf(tomorrow))
		_, f.Failed = sumRange(fig.Failed, dayOf(start), dayOf(tomorrow))
		f.Net = f.Billed - f.Refunded
		f.SuccessRate = rate(f.Paid, f.Failed)
		return f
	}
	d := overviewData{Today: period(today), Month: period(monthStart), Currency: currency,
		V3Subscriptions: len(rec.Subscriptions), ScheduledCustomers: rec.ScheduledCustomers, FailedRenewals: rec.FailedRenewals}
	d.ActiveSubscriptions = d.V3Subscriptions + d.ScheduledCustomers
	for _, s := range rec.Subscriptions {
		d.MRR += monthly(s)
		if s.Tries > 0 {
			d.Dunning++
		}
	}
	// V1 schedules have no plan: what they will bill in the next 30 days is
	// their monthly run rate.
	d.MRR += rec.V1Next30Days
	for _, u := range fig.Upcoming {
		d.Upcoming += u.Amount
		d.UpcomingCount += u.Count
	}

	c := &d.Chart
	c.Labels = chartText{Billed: "결제 Billed", Refunded: "환불 Refunded", Success: "성공률 Success %", MRR: "정기 결제 Recurring", Upcoming: "예정 Upcoming"}
	for day := chartFrom; day.Before(tomorrow); day = day.AddDate(0, 0, 1) {
		n := dayOf(day)
		c.Days = append(c.Days, day.Unix())
		b, paid := sumRange(fig.Billed, n, n+1)
		r, _ := sumRange(fig.Refunded, n, n+1)
		_, failed := sumRange(fig.Failed, n, n+1)
		c.Billed, c.Refunded = append(c.Billed, b), append(c.Refunded, r)
		if paid+failed > 0 {
			v := int64(paid * 100 / (paid + failed))
			c.Success = append(c.Success, &v)
		} else {
			c.Success = append(c.Success, nil)
		}
	}
	for m := yearFrom; m.Before(tomorrow); m = m.AddDate(0, 1, 0) {
		a, _ := sumRange(fig.Recurring, dayOf(m), dayOf(m.AddDate(0, 1, 0)))
		c.Months, c.MRR = append(c.Months, m.Unix()), append(c.MRR, a)
	}
	for day := tomorrow; day.Before(tomorrow.AddDate(0, 0, 30)); day = day.AddDate(0, 0, 1) {
		a, _ := sumRange(fig.Upcoming, dayOf(day), dayOf(day)+1)
		c.UpDays, c.Upcoming = append(c.UpDays, day.Unix()), append(c.Upcoming, a)
	}
	p.Data = d
	h.render(w, q.Request, http.StatusOK, "overview", p)
}
