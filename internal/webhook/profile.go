package webhook

import (
	"fmt"
	"sort"
	"time"
)

// Profile is a retry schedule: Delays[i] is the wait after the (i+1)th
// failed attempt, so an event gets 1+len(Delays) attempts before it fails.
type Profile struct {
	Name   string
	Delays []time.Duration
}

// Profiles are the retry schedules a merchant can choose.
var Profiles = map[string]Profile{
	// About three days of exponential backoff (70h21m after the first try),
	// so a receiver down over a long weekend still gets every event.
	"default": {Name: "default", Delays: []time.Duration{
		time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 3 * time.Hour,
		6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 24 * time.Hour,
	}},
	// i'mport's optional retry: up to 5 retries, 1 minute apart.
	"iamport": {Name: "iamport", Delays: []time.Duration{time.Minute, time.Minute, time.Minute, time.Minute, time.Minute}},
	// D24 / OneKey: 5, 25, 125, 625 minutes, and the 3125 that completes the
	// documented "up to 5 more times" on the same ×5 pattern.
	"d24": {Name: "d24", Delays: []time.Duration{
		5 * time.Minute, 25 * time.Minute, 125 * time.Minute, 625 * time.Minute, 3125 * time.Minute,
	}},
}

// DefaultProfile is used when a merchant has not chosen one.
const DefaultProfile = "default"

// ProfileNames lists the known profiles, sorted.
func ProfileNames() []string {
	var out []string
	for n := range Profiles {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// LookupProfile resolves a profile name; empty means the default.
func LookupProfile(name string) (Profile, error) {
	if name == "" {
		name = DefaultProfile
	}
	p, ok := Profiles[name]
	if !ok {
		return Profile{}, fmt.Errorf("unknown webhook retry profile %q (want one of %v)", name, ProfileNames())
	}
	return p, nil
}

// maxRetryAfter caps how long a receiver's Retry-After may push an attempt
// back, so that a bogus header cannot park an event for months.
const maxRetryAfter = 24 * time.Hour

// nextDelay tells how long to wait after failed attempt number n (1-based,
// counted from the last operator requeue), honouring a Retry-After that asks
// for longer; ok is false when the schedule is exhausted.
func (p Profile) nextDelay(n int, retryAfter time.Duration) (time.Duration, bool) {
	if n < 1 || n > len(p.Delays) {
		return 0, false
	}
	return max(p.Delays[n-1], min(retryAfter, maxRetryAfter)), true
}
