package period

import (
	"errors"
	"fmt"
	"time"
)

// Date is a civil (calendar) date with no zone. Billing dates are civil
// first and become instants only at the end, so that arithmetic never sees a
// DST offset and "one month later" can't drift by an hour or a day.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ErrInvalidDate is wrapped by ParseDate errors.
var ErrInvalidDate = errors.New("period: invalid date")

// DateOf returns the civil date of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate parses exactly YYYY-MM-DD (the dialect's start_date format).
// It is strict (four-digit year 0001–9999, two-digit month and day, a day that
// exists in that month) so that any accepted input round-trips through String.
func ParseDate(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, fmt.Errorf("%w %q: want YYYY-MM-DD", ErrInvalidDate, s)
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 {
		return Date{}, fmt.Errorf("%w %q: want YYYY-MM-DD", ErrInvalidDate, s)
	}
	dt := Date{y, time.Month(m), d}
	if !dt.Valid() {
		return Date{}, fmt.Errorf("%w %q: no such day", ErrInvalidDate, s)
	}
	return dt, nil
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// String formats the date as YYYY-MM-DD.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// Valid reports whether d is a real day in years 1–9999 (the range that the
// four-digit wire format can carry).
func (d Date) Valid() bool {
	return d.Year >= 1 && d.Year <= 9999 && d.Month >= time.January && d.Month <= time.December &&
		d.Day >= 1 && d.Day <= DaysIn(d.Year, d.Month)
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// DaysIn returns the number of days in the given month (proleptic Gregorian).
func DaysIn(year int, m time.Month) int {
	switch m {
	case time.February:
		if isLeap(year) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// AddDays returns the date n civil days after d (n may be negative).
// Going through UTC midnight is exact: UTC has no DST, so every day is 86400 s.
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 0, 0, 0, 0, time.UTC))
}

// AddMonthsClamped returns the date n months after d with the day set to
// min(anchorDay, days in the target month) — Stripe's month-end rule. Passing
// the ORIGINAL anchor day (not d.Day) is what keeps Jan 31 → Feb 28 → Mar 31
// instead of decaying to Mar 28.
func (d Date) AddMonthsClamped(n, anchorDay int) Date {
	total := d.Year*12 + int(d.Month-1) + n
	y, m := floorDiv(total, 12), time.Month(floorMod(total, 12)+1)
	day := anchorDay
	if dim := DaysIn(y, m); day > dim {
		day = dim
	}
	if day < 1 {
		day = 1
	}
	return Date{y, m, day}
}

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return sign(d.Year - e.Year)
	case d.Month != e.Month:
		return sign(int(d.Month) - int(e.Month))
	}
	return sign(d.Day - e.Day)
}

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// DaysSince returns the number of civil days from e to d (d - e).
func (d Date) DaysSince(e Date) int {
	return int(d.utcMidnight().Sub(e.utcMidnight()) / (24 * time.Hour))
}

func (d Date) utcMidnight() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

// At resolves d at the wall-clock time tod in loc; see Resolve for the
// DST gap/overlap rule.
func (d Date) At(tod TimeOfDay, loc *time.Location) time.Time { return Resolve(d, tod, loc) }

func sign(x int) int {
	switch {
	case x < 0:
		return -1
	case x > 0:
		return 1
	}
	return 0
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int) int { return a - floorDiv(a, b)*b }

// TimeOfDay is a wall-clock time of day (the merchant's "charge at" time).
type TimeOfDay struct {
	Hour, Minute, Second int
}

// Valid reports whether t is within 00:00:00–23:59:59.
func (t TimeOfDay) Valid() bool {
	return t.Hour >= 0 && t.Hour < 24 && t.Minute >= 0 && t.Minute < 60 && t.Second >= 0 && t.Second < 60
}

// String formats t as HH:MM:SS.
func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d:%02d", t.Hour, t.Minute, t.Second) }

// TimeOfDayOf returns the wall-clock time of t in t's location.
func TimeOfDayOf(t time.Time) TimeOfDay {
	h, m, s := t.Clock()
	return TimeOfDay{h, m, s}
}
