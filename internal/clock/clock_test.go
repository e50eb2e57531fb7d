package clock_test

import (
	"testing"
	"time"

	"github.com/billkey/billkey/internal/clock"
)

// Each merchant's time on a test clock is the shared time plus its own
// advances: one merchant's advance never moves another's, a shared advance
// moves everyone's, and nothing ever goes backwards.
func TestPerMerchantTime(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	c := clock.NewTest(start)
	const a, b = 1, 2
	steps := []struct {
		name       string
		do         func()
		shared     time.Duration
		aAt, bAt   time.Duration
		aheadCount int
	}{
		{"start", func() {}, 0, 0, 0, 0},
		{"A advances 30 days", func() { c.AdvanceFor(a, 30*24*time.Hour) }, 0, 30 * 24 * time.Hour, 0, 1},
		{"A never goes back", func() { c.AdvanceFor(a, -time.Hour) }, 0, 30 * 24 * time.Hour, 0, 1},
		{"shared advance moves everyone", func() { c.Advance(time.Hour) }, time.Hour, 30*24*time.Hour + time.Hour, time.Hour, 1},
		{"restore B behind is ignored", func() { c.SetFor(b, start) }, time.Hour, 30*24*time.Hour + time.Hour, time.Hour, 1},
		{"restore B ahead", func() { c.SetFor(b, start.Add(48*time.Hour)) }, time.Hour, 30*24*time.Hour + time.Hour, 48 * time.Hour, 2},
	}
	for _, s := range steps {
		s.do()
		if got := c.Now(); !got.Equal(start.Add(s.shared)) {
			t.Fatalf("%s: shared time %v, want %v", s.name, got, start.Add(s.shared))
		}
		if got := clock.For(c, a); !got.Equal(start.Add(s.aAt)) {
			t.Fatalf("%s: A's time %v, want %v", s.name, got, start.Add(s.aAt))
		}
		if got := c.NowFor(b); !got.Equal(start.Add(s.bAt)) {
			t.Fatalf("%s: B's time %v, want %v", s.name, got, start.Add(s.bAt))
		}
		if got := c.Ahead(); len(got) != s.aheadCount {
			t.Fatalf("%s: ahead %v, want %d merchants", s.name, got, s.aheadCount)
		}
	}
	if got := clock.For(clock.Real{}, a); time.Since(got) > time.Minute {
		t.Fatalf("the wall clock has no per-merchant time: %v", got)
	}
}
