package merchant

import (
	"sync"
	"time"

	"github.com/billkey/billkey/internal/clock"
)

// TokenThrottle limits failed getToken attempts, per imp_key and per client
// address, so that imp_secrets cannot be guessed at request speed. Counts
// are per node: with n nodes an attacker gets at most n times the budget,
// still far below what guessing a 160-bit secret would need.
type TokenThrottle struct {
	clock   clock.Clock
	perKey  int
	perAddr int
	window  time.Duration

	mu     sync.Mutex
	counts map[string]*failures
}

type failures struct {
	n     int
	since time.Time
}

// Throttle defaults: 10 failures per imp_key and 100 per address in 5 minutes.
const (
	DefaultFailuresPerKey  = 10
	DefaultFailuresPerAddr = 100
	DefaultThrottleWindow  = 5 * time.Minute
	maxThrottleEntries     = 100_000
)

// NewTokenThrottle builds a throttle; zero values take the defaults.
func NewTokenThrottle(clk clock.Clock, perKey, perAddr int, window time.Duration) *TokenThrottle {
	if clk == nil {
		clk = clock.Real{}
	}
	if perKey <= 0 {
		perKey = DefaultFailuresPerKey
	}
	if perAddr <= 0 {
		perAddr = DefaultFailuresPerAddr
	}
	if window <= 0 {
		window = DefaultThrottleWindow
	}
	return &TokenThrottle{clock: clk, perKey: perKey, perAddr: perAddr, window: window, counts: map[string]*failures{}}
}

// Limited says whether impKey or addr has used up its failures; by is
// "imp_key" or "address", retryAfter when the window ends.
func (t *TokenThrottle) Limited(impKey, addr string) (by string, retryAfter time.Duration, limited bool) {
	now := t.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if d, over := t.over("k:"+impKey, t.perKey, now); over {
		return "imp_key", d, true
	}
	if d, over := t.over("a:"+addr, t.perAddr, now); over {
		return "address", d, true
	}
	return "", 0, false
}

func (t *TokenThrottle) over(key string, limit int, now time.Time) (time.Duration, bool) {
	f, ok := t.counts[key]
	if !ok || now.Sub(f.since) >= t.window {
		return 0, false
	}
	return t.window - now.Sub(f.since), f.n >= limit
}

// Failed records a failed attempt for both impKey and addr.
func (t *TokenThrottle) Failed(impKey, addr string) {
	now := t.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.counts) >= maxThrottleEntries {
		for k, f := range t.counts {
			if now.Sub(f.since) >= t.window {
				delete(t.counts, k)
			}
		}
		if len(t.counts) >= maxThrottleEntries {
			// Still full of live entries: an address-spraying attack. Start
			// over rather than grow without bound.
			t.counts = map[string]*failures{}
		}
	}
	for _, k := range []string{"k:" + impKey, "a:" + addr} {
		f, ok := t.counts[k]
		if !ok || now.Sub(f.since) >= t.window {
			t.counts[k] = &failures{n: 1, since: now}
			continue
		}
		f.n++
	}
}

// Succeeded clears impKey's failures: only the secret's holder gets here.
// The address keeps its count, so that an attacker's own valid key cannot
// reset the budget of the address it guesses from.
func (t *TokenThrottle) Succeeded(impKey string) {
	t.mu.Lock()
	delete(t.counts, "k:"+impKey)
	t.mu.Unlock()
}
