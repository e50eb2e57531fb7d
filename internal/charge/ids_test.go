package charge

import (
	"regexp"
	"testing"
	"time"
)

// Event IDs keep the shape webhooks have always carried, and a later
// millisecond sorts after an earlier one whatever the random part.
func TestEventIDsGrowWithTime(t *testing.T) {
	t.Parallel()
	shape := regexp.MustCompile(`^msg_[0-9a-f]{24}$`)
	at := time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	prev := ""
	for i := range 2000 {
		now := at.Add(time.Duration(i/4) * time.Millisecond) // four per millisecond
		id := eventID(now)
		if !shape.MatchString(id) {
			t.Fatalf("event id %q: not msg_ and 24 hex characters", id)
		}
		if seen[id] {
			t.Fatalf("event id %q issued twice", id)
		}
		seen[id] = true
		if i%4 == 0 && prev != "" && id <= prev {
			t.Fatalf("event id %q at %s sorts before %q of the millisecond before", id, now.Format(time.RFC3339Nano), prev)
		}
		prev = id
	}
	// The whole range of the wall clock fits: 48 bits of milliseconds
	// reach the year 10889.
	if a, b := eventID(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)), eventID(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); a <= b {
		t.Fatalf("an id of 9999 (%s) sorts before one of 2026 (%s)", a, b)
	}
}
