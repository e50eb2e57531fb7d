package period

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"
)

func d(s string) Date {
	dt, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return dt
}

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", name, err)
	}
	return loc
}

var zones = []string{"Asia/Seoul", "America/New_York", "Europe/London", "Australia/Lord_Howe", "UTC", "America/Sao_Paulo"}

func TestMonthlyAnchoredJan31TwoYears(t *testing.T) {
	want := []string{
		"2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31", "2026-06-30",
		"2026-07-31", "2026-08-31", "2026-09-30", "2026-10-31", "2026-11-30", "2026-12-31",
		"2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31", "2027-06-30",
		"2027-07-31", "2027-08-31", "2027-09-30", "2027-10-31", "2027-11-30", "2027-12-31",
		"2028-01-31", "2028-02-29", "2028-03-31",
	}
	seoul := mustLoc(t, "Asia/Seoul")
	s, err := NewSchedule(Monthly, d("2026-01-31"), TimeOfDay{9, 0, 0}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for n, w := range want {
		if got := s.NthDate(n).String(); got != w {
			t.Errorf("NthDate(%d) = %s, want %s", n, got, w)
		}
		at := s.Nth(n)
		if got := at.In(seoul).Format("2006-01-02 15:04:05 -07:00"); got != w+" 09:00:00 +09:00" {
			t.Errorf("Nth(%d) = %s, want %s 09:00:00 +09:00", n, got, w)
		}
	}
}

func TestClampTable(t *testing.T) {
	cases := []struct {
		plan   Plan
		anchor string
		n      int
		want   string
	}{
		{Monthly, "2026-01-30", 1, "2026-02-28"},
		{Monthly, "2026-01-30", 2, "2026-03-30"},
		{Monthly, "2028-01-30", 1, "2028-02-29"},
		{Monthly, "2026-01-29", 1, "2026-02-28"},
		{Monthly, "2028-01-29", 1, "2028-02-29"},
		{Monthly, "2026-01-28", 1, "2026-02-28"},
		{Monthly, "2026-03-31", -1, "2026-02-28"},
		{Monthly, "2026-03-31", -3, "2025-12-31"},
		{Monthly, "2026-08-31", 1, "2026-09-30"},
		{Monthly, "2026-08-31", 2, "2026-10-31"},
		{Monthly, "2026-12-31", 2, "2027-02-28"},
		{Annually, "2024-02-29", 1, "2025-02-28"},
		{Annually, "2024-02-29", 2, "2026-02-28"},
		{Annually, "2024-02-29", 4, "2028-02-29"},
		{Annually, "2096-02-29", 4, "2100-02-28"}, // 2100 is not a leap year
		{Annually, "2096-02-29", 8, "2104-02-29"},
		{Annually, "1996-02-29", 4, "2000-02-29"}, // 2000 is
		{Annually, "2026-01-31", 1, "2027-01-31"},
		{Weekly, "2020-10-10", 1, "2020-10-17"},
		{Weekly, "2026-12-29", 1, "2027-01-05"},
		{Daily, "2028-02-28", 1, "2028-02-29"},
		{Daily, "2027-02-28", 1, "2027-03-01"},
		{Daily, "2026-12-31", 1, "2027-01-01"},
	}
	for _, c := range cases {
		s := Schedule{Plan: c.plan, Anchor: d(c.anchor)}
		if got := s.NthDate(c.n).String(); got != c.want {
			t.Errorf("%s %s n=%d: got %s, want %s", c.plan, c.anchor, c.n, got, c.want)
		}
	}
}

func TestEndDate(t *testing.T) {
	cases := []struct {
		start string
		plan  Plan
		units int
		want  string
	}{
		{"2020-10-10", Weekly, 1, "2020-10-17"}, // the notes' status example
		{"2026-01-31", Monthly, 1, "2026-02-28"},
		{"2026-01-31", Monthly, 3, "2026-04-30"},
		{"2026-01-31", Monthly, 24, "2028-01-31"},
		{"2024-02-29", Annually, 1, "2025-02-28"},
		{"2024-02-29", Annually, 4, "2028-02-29"},
		{"2026-03-01", Daily, 31, "2026-04-01"},
		{"2026-03-01", Test, 3, "2026-03-01"},
		{"2026-03-01", Test, 1440, "2026-03-02"},
	}
	for _, c := range cases {
		got, err := EndDate(d(c.start), c.plan, c.units)
		if err != nil || got.String() != c.want {
			t.Errorf("EndDate(%s, %s, %d) = %v, %v; want %s", c.start, c.plan, c.units, got, err, c.want)
		}
	}
	bad := []struct {
		start Date
		plan  Plan
		units int
	}{
		{d("2026-01-01"), Monthly, 0},
		{d("2026-01-01"), Monthly, -1},
		{d("2026-01-01"), "YEARLY", 1},
		{Date{2026, 2, 30}, Monthly, 1},
		{d("9999-12-01"), Monthly, 1},
		{d("2026-01-01"), Daily, 1 << 62},
		{d("2026-01-01"), Annually, 8000},
	}
	for _, c := range bad {
		if got, err := EndDate(c.start, c.plan, c.units); err == nil {
			t.Errorf("EndDate(%v, %s, %d) = %v, want error", c.start, c.plan, c.units, got)
		}
	}
}

func TestParsePlan(t *testing.T) {
	for _, s := range []string{"DAILY", "WEEKLY", "MONTHLY", "ANNUALLY", "TEST"} {
		p, err := ParsePlan(s)
		if err != nil || string(p) != s {
			t.Errorf("ParsePlan(%q) = %q, %v", s, p, err)
		}
	}
	for _, s := range []string{"", "monthly", "YEARLY", " DAILY", "BIWEEKLY"} {
		if _, err := ParsePlan(s); !errors.Is(err, ErrInvalidPlan) {
			t.Errorf("ParsePlan(%q) err = %v, want ErrInvalidPlan", s, err)
		}
	}
	if !Test.SandboxOnly() || Monthly.SandboxOnly() {
		t.Error("SandboxOnly")
	}
}

func TestParseDate(t *testing.T) {
	good := map[string]Date{
		"2026-01-31": {2026, 1, 31},
		"2024-02-29": {2024, 2, 29},
		"0001-01-01": {1, 1, 1},
		"9999-12-31": {9999, 12, 31},
	}
	for s, want := range good {
		got, err := ParseDate(s)
		if err != nil || got != want || got.String() != s {
			t.Errorf("ParseDate(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "2026-1-31", "2026-01-32", "2025-02-29", "2100-02-29", "2026-13-01",
		"2026-00-10", "2026-01-00", "0000-01-01", "2026/01/31", "+026-01-31", "2026-01-3a", "2026-01-31T00:00:00Z", " 2026-01-31"} {
		if got, err := ParseDate(s); !errors.Is(err, ErrInvalidDate) {
			t.Errorf("ParseDate(%q) = %v, %v; want ErrInvalidDate", s, got, err)
		}
	}
}

func TestDateArithmetic(t *testing.T) {
	a := d("2026-03-31")
	if got := a.AddDays(-31).String(); got != "2026-02-28" {
		t.Errorf("AddDays(-31) = %s", got)
	}
	if got := a.AddMonthsClamped(-13, 31).String(); got != "2025-02-28" {
		t.Errorf("AddMonthsClamped(-13) = %s", got)
	}
	if got := d("2028-03-01").DaysSince(d("2028-02-01")); got != 29 {
		t.Errorf("DaysSince = %d", got)
	}
	if !d("2026-01-31").Before(d("2026-02-01")) || !d("2027-01-01").After(d("2026-12-31")) || a.Compare(a) != 0 {
		t.Error("Compare")
	}
}

// DST: spring-forward gaps resolve to the transition (first valid instant
// after the missing wall time); fall-back overlaps resolve to the earlier
// instant.
func TestResolveDST(t *testing.T) {
	cases := []struct {
		zone, date string
		tod        TimeOfDay
		wantUTC    string
		wantLocal  string
	}{
		// New York spring forward 2026-03-08 02:00 EST → 03:00 EDT.
		{"America/New_York", "2026-03-08", TimeOfDay{2, 30, 0}, "2026-03-08T07:00:00Z", "03:00:00 -0400"},
		{"America/New_York", "2026-03-08", TimeOfDay{2, 0, 0}, "2026-03-08T07:00:00Z", "03:00:00 -0400"},
		{"America/New_York", "2026-03-08", TimeOfDay{1, 59, 59}, "2026-03-08T06:59:59Z", "01:59:59 -0500"},
		{"America/New_York", "2026-03-08", TimeOfDay{3, 0, 0}, "2026-03-08T07:00:00Z", "03:00:00 -0400"},
		// New York fall back 2026-11-01 02:00 EDT → 01:00 EST: 01:30 happens twice.
		{"America/New_York", "2026-11-01", TimeOfDay{1, 30, 0}, "2026-11-01T05:30:00Z", "01:30:00 -0400"},
		{"America/New_York", "2026-11-01", TimeOfDay{2, 0, 0}, "2026-11-01T07:00:00Z", "02:00:00 -0500"},
		// London 2026-03-29 01:00 GMT → 02:00 BST; 2026-10-25 02:00 BST → 01:00 GMT.
		{"Europe/London", "2026-03-29", TimeOfDay{1, 30, 0}, "2026-03-29T01:00:00Z", "02:00:00 +0100"},
		{"Europe/London", "2026-10-25", TimeOfDay{1, 30, 0}, "2026-10-25T00:30:00Z", "01:30:00 +0100"},
		// Lord Howe: 30-minute DST. 2026-10-04 02:00 +1030 → 02:30 +11; 2026-04-05 02:00 +11 → 01:30 +1030.
		{"Australia/Lord_Howe", "2026-10-04", TimeOfDay{2, 15, 0}, "2026-10-03T15:30:00Z", "02:30:00 +1100"},
		{"Australia/Lord_Howe", "2026-04-05", TimeOfDay{1, 45, 0}, "2026-04-04T14:45:00Z", "01:45:00 +1100"},
		// São Paulo's old DST started at midnight: 2018-11-04 00:00 → 01:00; the
		// charge stays on the same civil day.
		{"America/Sao_Paulo", "2018-11-04", TimeOfDay{0, 0, 0}, "2018-11-04T03:00:00Z", "01:00:00 -0200"},
		{"America/Sao_Paulo", "2018-11-04", TimeOfDay{0, 30, 0}, "2018-11-04T03:00:00Z", "01:00:00 -0200"},
		// And ended at midnight: 2019-02-17 00:00 -02 → 2019-02-16 23:00 -03; 23:30 on the 16th is ambiguous.
		{"America/Sao_Paulo", "2019-02-16", TimeOfDay{23, 30, 0}, "2019-02-17T01:30:00Z", "23:30:00 -0200"},
		{"Asia/Seoul", "2026-01-31", TimeOfDay{0, 0, 0}, "2026-01-30T15:00:00Z", "00:00:00 +0900"},
		// Samoa skipped 2011-12-30 entirely: the whole day is a gap.
		{"Pacific/Apia", "2011-12-30", TimeOfDay{12, 0, 0}, "2011-12-30T10:00:00Z", "00:00:00 +1400"},
	}
	for _, c := range cases {
		loc := mustLoc(t, c.zone)
		got := Resolve(d(c.date), c.tod, loc)
		if u := got.UTC().Format(time.RFC3339); u != c.wantUTC {
			t.Errorf("%s %s %v: UTC %s, want %s", c.zone, c.date, c.tod, u, c.wantUTC)
		}
		if l := got.Format("15:04:05 -0700"); l != c.wantLocal {
			t.Errorf("%s %s %v: local %s, want %s", c.zone, c.date, c.tod, l, c.wantLocal)
		}
	}
}

// exists reports whether wall time tod on date occurs in loc.
func exists(date Date, tod TimeOfDay, loc *time.Location) bool {
	r := Resolve(date, tod, loc)
	return DateOf(r) == date && TimeOfDayOf(r) == tod
}

func TestPropertiesMonthEndAnchors(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 131))
	tods := []TimeOfDay{{0, 0, 0}, {0, 30, 0}, {1, 30, 0}, {2, 0, 0}, {2, 15, 0}, {2, 30, 0}, {9, 0, 0}, {23, 59, 59}}
	checked := 0
	for _, zone := range zones {
		loc := mustLoc(t, zone)
		for year := 2015; year <= 2027; year++ {
			for m := time.January; m <= time.December; m++ {
				for day := 28; day <= DaysIn(year, m); day++ {
					anchor := Date{year, m, day}
					tod := tods[rng.IntN(len(tods))]
					for _, plan := range []Plan{Monthly, Annually} {
						s := Schedule{Plan: plan, Anchor: anchor, ChargeAt: tod, Loc: loc}
						steps := 30
						if plan == Annually {
							steps = 12
						}
						checkSchedule(t, s, steps)
						checked++
						for n := 1; n <= steps; n++ {
							prev, cur := s.NthDate(n-1), s.NthDate(n)
							switch plan {
							case Monthly:
								if next := prev.AddMonthsClamped(1, 1); cur.Year != next.Year || cur.Month != next.Month {
									t.Fatalf("%s %v: month %v → %v is not +1", zone, anchor, prev, cur)
								}
								if want := min(day, DaysIn(cur.Year, cur.Month)); cur.Day != want {
									t.Fatalf("%s %v n=%d: day %d, want %d", zone, anchor, n, cur.Day, want)
								}
								if n%12 == 0 {
									if want := anchor.AddMonthsClamped(n, day); cur != want || (cur.Month != anchor.Month) {
										t.Fatalf("%s %v n=%d: drifted to %v", zone, anchor, n, cur)
									}
									if anchor.Month != time.February && cur.Day != anchor.Day {
										t.Fatalf("%s %v n=%d: drifted to %v", zone, anchor, n, cur)
									}
								}
							case Annually:
								if cur.Month != m || cur.Year != year+n {
									t.Fatalf("%s %v n=%d: %v", zone, anchor, n, cur)
								}
								if want := min(day, DaysIn(cur.Year, m)); cur.Day != want {
									t.Fatalf("%s %v n=%d: day %d, want %d", zone, anchor, n, cur.Day, want)
								}
							}
						}
					}
				}
			}
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d schedules checked", checked)
	}
}

func TestPropertiesDailyWeeklyAcrossDST(t *testing.T) {
	tods := []TimeOfDay{{0, 0, 0}, {0, 30, 0}, {1, 0, 0}, {1, 30, 0}, {2, 0, 0}, {2, 15, 0}, {2, 30, 0}, {12, 0, 0}, {23, 30, 0}}
	for _, zone := range zones {
		loc := mustLoc(t, zone)
		for _, tod := range tods {
			// Start late 2017 so São Paulo's last DST seasons are included.
			s := Schedule{Plan: Daily, Anchor: d("2017-10-01"), ChargeAt: tod, Loc: loc}
			checkSchedule(t, s, 365*3)
			for n := 1; n <= 365*3; n++ {
				a, b := s.Nth(n-1), s.Nth(n)
				if got := DateOf(b.In(loc)).DaysSince(DateOf(a.In(loc))); got != 1 {
					t.Fatalf("%s %v n=%d: %v → %v is %d civil days", zone, tod, n, a, b, got)
				}
				gap := b.Sub(a)
				if gap < 22*time.Hour || gap > 26*time.Hour {
					t.Fatalf("%s %v n=%d: %v apart", zone, tod, n, gap)
				}
				if exists(s.NthDate(n-1), tod, loc) && exists(s.NthDate(n), tod, loc) {
					_, oa := a.Zone()
					_, ob := b.Zone()
					if want := 24*time.Hour - time.Duration(ob-oa)*time.Second; gap != want {
						t.Fatalf("%s %v n=%d: %v apart, want %v", zone, tod, n, gap, want)
					}
				}
			}
			w := Schedule{Plan: Weekly, Anchor: d("2017-10-01"), ChargeAt: tod, Loc: loc}
			checkSchedule(t, w, 160)
			for n := 1; n <= 160; n++ {
				if got := w.NthDate(n).DaysSince(w.NthDate(n - 1)); got != 7 {
					t.Fatalf("weekly %d days", got)
				}
			}
		}
	}
}

// checkSchedule asserts the properties every cadence shares.
func checkSchedule(t *testing.T, s Schedule, steps int) {
	t.Helper()
	loc := s.loc()
	prev := time.Time{}
	for n := 0; n <= steps; n++ {
		at := s.Nth(n)
		if n > 0 && !at.After(prev) {
			t.Fatalf("%+v: Nth(%d)=%v not after Nth(%d)=%v", s, n, at, n-1, prev)
		}
		prev = at
		local := at.In(loc)
		if s.Plan != Test {
			date := s.NthDate(n)
			if DateOf(local) != date {
				t.Fatalf("%+v n=%d: local date %v, want %v", s, n, DateOf(local), date)
			}
			if TimeOfDayOf(local) != s.ChargeAt {
				// Only allowed in a gap: the requested wall time must not exist,
				// the charge is the first instant after it, and one second
				// earlier the clock still read earlier than requested.
				w := time.Date(date.Year, date.Month, date.Day, s.ChargeAt.Hour, s.ChargeAt.Minute, s.ChargeAt.Second, 0, time.UTC)
				lw := time.Date(local.Year(), local.Month(), local.Day(), local.Hour(), local.Minute(), local.Second(), 0, time.UTC)
				b := at.Add(-time.Second).In(loc)
				bw := time.Date(b.Year(), b.Month(), b.Day(), b.Hour(), b.Minute(), b.Second(), 0, time.UTC)
				if !lw.After(w) || !bw.Before(w) {
					t.Fatalf("%+v n=%d: local %v is not the first instant after a gap at %v", s, n, local, s.ChargeAt)
				}
			}
		}
		if got := s.Index(at); got != n {
			t.Fatalf("%+v: Index(Nth(%d)) = %d", s, n, got)
		}
		if got := s.Index(s.Nth(n + 1).Add(-time.Nanosecond)); got != n {
			t.Fatalf("%+v: Index(Nth(%d)-1ns) = %d", s, n+1, got)
		}
		if s.PeriodEnd(n) != s.Nth(n+1) {
			t.Fatalf("PeriodEnd")
		}
	}
}

func TestIndexRandomInstants(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 24))
	plans := []Plan{Daily, Weekly, Monthly, Annually, Test}
	for i := 0; i < 5000; i++ {
		loc := mustLoc(t, zones[rng.IntN(len(zones))])
		anchor := Date{2010 + rng.IntN(20), time.Month(1 + rng.IntN(12)), 1 + rng.IntN(31)}
		anchor.Day = min(anchor.Day, DaysIn(anchor.Year, anchor.Month))
		s, err := NewSchedule(plans[rng.IntN(len(plans))], anchor, TimeOfDay{rng.IntN(24), rng.IntN(60), rng.IntN(60)}, loc)
		if err != nil {
			t.Fatal(err)
		}
		span := 3 * 365 * 24 * time.Hour
		if s.Plan == Test {
			span = 48 * time.Hour
		}
		at := s.Nth(0).Add(time.Duration(rng.Int64N(int64(2*span))) - span)
		n := s.Index(at)
		if s.Nth(n).After(at) || !s.Nth(n+1).After(at) {
			t.Fatalf("%+v: Index(%v) = %d but Nth(n)=%v Nth(n+1)=%v", s, at, n, s.Nth(n), s.Nth(n+1))
		}
		if m, next := s.Next(at); m != n+1 || !next.After(at) {
			t.Fatalf("Next")
		}
	}
}

func TestTestPlanEveryMinute(t *testing.T) {
	loc := mustLoc(t, "America/New_York")
	// Anchored right before the spring-forward gap: minutes are absolute, so
	// the 30th charge is 30 real minutes later even though the wall clock jumps.
	s := Schedule{Plan: Test, Anchor: d("2026-03-08"), ChargeAt: TimeOfDay{1, 45, 0}, Loc: loc}
	checkSchedule(t, s, 120)
	a := s.Nth(0)
	if got := s.Nth(30).Sub(a); got != 30*time.Minute {
		t.Fatalf("Nth(30)-Nth(0) = %v", got)
	}
	if got := s.Nth(30).Format("15:04 -0700"); got != "03:15 -0400" {
		t.Fatalf("Nth(30) local = %s", got)
	}
	if got := s.EndDate(24 * 60); got.String() != "2026-03-09" {
		t.Fatalf("EndDate = %v", got)
	}
}

func TestNoDriftJan31(t *testing.T) {
	for _, zone := range zones {
		loc := mustLoc(t, zone)
		for y := 2015; y <= 2030; y++ {
			s := Schedule{Plan: Monthly, Anchor: Date{y, 1, 31}, ChargeAt: TimeOfDay{10, 0, 0}, Loc: loc}
			if got, want := s.NthDate(24), (Date{y + 2, 1, 31}); got != want {
				t.Fatalf("%s: NthDate(24) = %v, want %v", zone, got, want)
			}
			if got := s.Nth(24).In(loc).Format("2006-01-02 15:04"); got != (Date{y + 2, 1, 31}).String()+" 10:00" {
				t.Fatalf("%s: Nth(24) = %s", zone, got)
			}
		}
	}
}

func TestDefaultLocation(t *testing.T) {
	if DefaultLocation().String() != "Asia/Seoul" {
		t.Fatalf("default = %v", DefaultLocation())
	}
	loc, err := LoadLocation("")
	if err != nil || loc != DefaultLocation() {
		t.Fatal("LoadLocation(\"\")")
	}
	s := Schedule{Plan: Daily, Anchor: d("2026-05-01"), ChargeAt: TimeOfDay{9, 0, 0}}
	if got := s.Nth(0).UTC().Format(time.RFC3339); got != "2026-05-01T00:00:00Z" {
		t.Fatalf("nil Loc not Seoul: %s", got)
	}
	if _, err := NewSchedule("WEEKLYISH", d("2026-05-01"), TimeOfDay{}, nil); err == nil {
		t.Fatal("NewSchedule accepted a bad plan")
	}
	if _, err := NewSchedule(Daily, d("2026-05-01"), TimeOfDay{24, 0, 0}, nil); err == nil {
		t.Fatal("NewSchedule accepted 24:00")
	}
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-01-31", "2024-02-29", "2025-02-29", "0000-00-00", "9999-12-31", "2026-1-1", "abcd-ef-gh", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		dt, err := ParseDate(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidDate) {
				t.Fatalf("ParseDate(%q) error %v does not wrap ErrInvalidDate", s, err)
			}
			return
		}
		if !dt.Valid() {
			t.Fatalf("ParseDate(%q) = invalid %v", s, dt)
		}
		if dt.String() != s {
			t.Fatalf("ParseDate(%q).String() = %q", s, dt.String())
		}
		tm, err := time.Parse(time.DateOnly, s)
		if err != nil || DateOf(tm) != dt {
			t.Fatalf("time.Parse disagrees on %q: %v %v", s, tm, err)
		}
	})
}
