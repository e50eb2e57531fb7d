package period

import (
	"time"
	// Embedded zone data (~450 KB) so that Asia/Seoul and every merchant zone
	// resolve on distroless/scratch images and Windows, where
	// /usr/share/zoneinfo is absent; without it LoadLocation fails there and
	// billing dates would silently fall back to UTC or refuse to compute.
	_ "time/tzdata"
)

// DefaultZone is the merchant time zone used when none is configured.
const DefaultZone = "Asia/Seoul"

var defaultLoc = func() *time.Location {
	loc, err := time.LoadLocation(DefaultZone)
	if err != nil {
		// Unreachable with time/tzdata linked in; KST has had no DST since 1988.
		return time.FixedZone("KST", 9*60*60)
	}
	return loc
}()

// DefaultLocation returns Asia/Seoul.
func DefaultLocation() *time.Location { return defaultLoc }

// LoadLocation is time.LoadLocation with "" meaning DefaultZone (not UTC, as
// time.LoadLocation would have it), because an unset merchant zone means Seoul.
func LoadLocation(name string) (*time.Location, error) {
	if name == "" {
		return defaultLoc, nil
	}
	return time.LoadLocation(name)
}

// Resolve turns the civil date d at wall-clock time tod in loc into an
// instant. It is deterministic where time.Date is explicitly not:
//
//   - Gap (spring forward: the wall time never happens, e.g. 02:30 on a
//     US spring-forward day): the first instant after the gap, i.e. the
//     transition itself (03:00 EDT). The charge moves later, never earlier, so
//     it can't land in the previous period, and it stays on the same civil day.
//   - Overlap (fall back: the wall time happens twice, e.g. 01:30 on a US
//     fall-back day): the earlier of the two instants, so the charge happens
//     once, at the first occurrence; the period index of that day is still one
//     integer, so "exactly one charge per period" holds.
//
// A nil loc means DefaultLocation.
func Resolve(d Date, tod TimeOfDay, loc *time.Location) time.Time {
	if loc == nil {
		loc = defaultLoc
	}
	// w is the wall clock read as if it were UTC; an instant u shows wall
	// time w in loc iff u + offset(u) == w.
	w := time.Date(d.Year, d.Month, d.Day, tod.Hour, tod.Minute, tod.Second, 0, time.UTC).Unix()
	off := func(u int64) int64 {
		_, o := time.Unix(u, 0).In(loc).Zone()
		return int64(o)
	}

	// Offsets in force a day either side of w cover any single transition;
	// following offset(w-o) picks up a second one in exotic historical zones.
	cands := []int64{off(w - 86400), off(w), off(w + 86400)}
	for i := 0; i < len(cands) && len(cands) < 8; i++ {
		if o := off(w - cands[i]); !contains(cands, o) {
			cands = append(cands, o)
		}
	}

	var best int64
	found := false
	lo, hi := w-cands[0], w-cands[0]
	for _, o := range cands {
		u := w - o
		lo, hi = min(lo, u), max(hi, u)
		if off(u) == o && (!found || u < best) {
			best, found = u, true
		}
	}
	if !found {
		// Gap: smallest u whose wall time is at or past w. Wall time is
		// monotonic across a single forward jump, so bisection is exact.
		for lo < hi {
			mid := lo + (hi-lo)/2
			if mid+off(mid) >= w {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		best = lo
	}
	return time.Unix(best, 0).In(loc)
}

func contains(s []int64, v int64) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
