// Package period is the billing-period calendar: which instant the n-th
// charge of a recurring plan falls on, in the merchant's time zone.
//
// Every date is derived from the original anchor (n periods after the start
// date), never by stepping from the previous charge, so month-end clamping
// can't decay (Jan 31 → Feb 28 → Mar 31, not Mar 28) and a missed or retried
// run can't shift later dates. Arithmetic is done on civil dates; only the
// final step resolves a date and a wall-clock time to an instant (Resolve), so
// DST changes can neither repeat nor skip a billing day.
package period

import (
	"errors"
	"fmt"
	"time"
)

// Plan is a D24 subscription_plan value.
type Plan string

const (
	Daily    Plan = "DAILY"
	Weekly   Plan = "WEEKLY"
	Monthly  Plan = "MONTHLY"
	Annually Plan = "ANNUALLY"
	// Test charges every minute from the anchor instant; sandbox only.
	Test Plan = "TEST"
)

// ErrInvalidPlan is wrapped by ParsePlan errors.
var ErrInvalidPlan = errors.New("period: invalid plan")

// ParsePlan accepts the exact upper-case wire values; the dialect's enum is
// case-sensitive and accepting "monthly" would let a typo pass in sandbox and
// fail against the real gateway.
func ParsePlan(s string) (Plan, error) {
	p := Plan(s)
	if !p.Valid() {
		return "", fmt.Errorf("%w %q: want one of DAILY, WEEKLY, MONTHLY, ANNUALLY, TEST", ErrInvalidPlan, s)
	}
	return p, nil
}

// Valid reports whether p is a known plan.
func (p Plan) Valid() bool {
	switch p {
	case Daily, Weekly, Monthly, Annually, Test:
		return true
	}
	return false
}

// SandboxOnly reports whether p may only be used in test mode.
func (p Plan) SandboxOnly() bool { return p == Test }

// MaxEndYear bounds computed dates to what the YYYY-MM-DD wire format holds.
const MaxEndYear = 9999

// Schedule is a recurring charge cadence. The zero Loc means DefaultLocation.
// Construct it with NewSchedule (or check Validate): the methods panic on an
// unknown Plan because silently picking a cadence would charge at the wrong
// time.
type Schedule struct {
	Plan     Plan
	Anchor   Date      // start_date: the civil date of charge 0
	ChargeAt TimeOfDay // wall-clock time of every charge, in Loc
	Loc      *time.Location
}

// NewSchedule validates and returns a Schedule.
func NewSchedule(p Plan, anchor Date, at TimeOfDay, loc *time.Location) (Schedule, error) {
	s := Schedule{Plan: p, Anchor: anchor, ChargeAt: at, Loc: loc}
	return s, s.Validate()
}

// Validate reports whether s can be computed.
func (s Schedule) Validate() error {
	switch {
	case !s.Plan.Valid():
		return fmt.Errorf("%w %q", ErrInvalidPlan, string(s.Plan))
	case !s.Anchor.Valid():
		return fmt.Errorf("%w %v", ErrInvalidDate, s.Anchor)
	case !s.ChargeAt.Valid():
		return fmt.Errorf("period: invalid time of day %v", s.ChargeAt)
	}
	return nil
}

func (s Schedule) loc() *time.Location {
	if s.Loc == nil {
		return defaultLoc
	}
	return s.Loc
}

// NthDate is the civil date of charge n (n = 0 is the anchor; negative n
// counts backwards). For TEST it is the local date of Nth(n).
func (s Schedule) NthDate(n int) Date {
	switch s.Plan {
	case Daily:
		return s.Anchor.AddDays(n)
	case Weekly:
		return s.Anchor.AddDays(7 * n)
	case Monthly:
		return s.Anchor.AddMonthsClamped(n, s.Anchor.Day)
	case Annually:
		// Feb 29 anchors clamp to Feb 28 in common years and return to
		// Feb 29 in leap years because the day comes from the anchor.
		return s.Anchor.AddMonthsClamped(12*n, s.Anchor.Day)
	case Test:
		return DateOf(s.Nth(n))
	}
	panic(fmt.Sprintf("period: unknown plan %q", string(s.Plan)))
}

// Nth is the instant of charge n: NthDate(n) at ChargeAt in Loc (see Resolve
// for DST), or for TEST the anchor instant plus n minutes.
func (s Schedule) Nth(n int) time.Time {
	if s.Plan == Test {
		return Resolve(s.Anchor, s.ChargeAt, s.loc()).Add(time.Duration(n) * time.Minute)
	}
	return Resolve(s.NthDate(n), s.ChargeAt, s.loc())
}

// PeriodStart is Nth(n); period n is the half-open interval [Nth(n), Nth(n+1)).
func (s Schedule) PeriodStart(n int) time.Time { return s.Nth(n) }

// PeriodEnd is the exclusive end of period n, Nth(n+1).
func (s Schedule) PeriodEnd(n int) time.Time { return s.Nth(n + 1) }

// Index returns the n with Nth(n) <= t < Nth(n+1): the period containing t.
// It is negative before the anchor. Because it depends only on the anchor and
// t, it is a stable key for "exactly one charge per period" (e.g. a unique
// (subscription, period) row) even across retries, restarts and DST.
func (s Schedule) Index(t time.Time) int {
	loc := s.loc()
	var n int
	switch s.Plan {
	case Test:
		n = int(floorDiv64(int64(t.Sub(s.Nth(0))), int64(time.Minute)))
	case Daily, Weekly:
		days := DateOf(t.In(loc)).DaysSince(s.Anchor)
		if s.Plan == Weekly {
			days = floorDiv(days, 7)
		}
		n = days
	case Monthly, Annually:
		d := DateOf(t.In(loc))
		n = (d.Year*12 + int(d.Month)) - (s.Anchor.Year*12 + int(s.Anchor.Month))
		if s.Plan == Annually {
			n = floorDiv(n, 12)
		}
	default:
		panic(fmt.Sprintf("period: unknown plan %q", string(s.Plan)))
	}
	// The estimate is off by at most one period (charge time later in the
	// day than t, clamped month ends, DST gap shifts); settle it exactly.
	for s.Nth(n).After(t) {
		n--
	}
	for !s.Nth(n + 1).After(t) {
		n++
	}
	return n
}

// Next returns the first charge strictly after t and its index.
func (s Schedule) Next(t time.Time) (int, time.Time) {
	n := s.Index(t) + 1
	return n, s.Nth(n)
}

// EndDate is the D24 end_date for units billing periods: the civil date of
// charge number units (the start of the first period not paid for). For TEST
// it is the local date of the minute after the last charge.
func (s Schedule) EndDate(units int) Date { return s.NthDate(units) }

// EndDate computes D24's end_date = start_date + plan_unit periods (e.g.
// 2020-10-10 WEEKLY ×1 → 2020-10-17). The wire carries only a date, so for
// TEST the start is taken as midnight; use Schedule.EndDate when the charge
// time and zone are known.
func EndDate(start Date, p Plan, units int) (Date, error) {
	if !p.Valid() {
		return Date{}, fmt.Errorf("%w %q", ErrInvalidPlan, string(p))
	}
	if !start.Valid() {
		return Date{}, fmt.Errorf("%w %v", ErrInvalidDate, start)
	}
	if units < 1 {
		return Date{}, fmt.Errorf("period: plan_unit must be at least 1, got %d", units)
	}
	// Bound units before multiplying so a huge plan_unit can't overflow.
	if units > 10000*366 {
		return Date{}, fmt.Errorf("period: plan_unit %d puts end_date past year %d", units, MaxEndYear)
	}
	var end Date
	if p == Test {
		end = DateOf(time.Date(start.Year, start.Month, start.Day, 0, units, 0, 0, time.UTC))
	} else {
		end = Schedule{Plan: p, Anchor: start, Loc: time.UTC}.NthDate(units)
	}
	if end.Year > MaxEndYear {
		return Date{}, fmt.Errorf("period: plan_unit %d puts end_date past year %d", units, MaxEndYear)
	}
	return end, nil
}

func floorDiv64(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
