// Package clock provides the time source every component takes, so that tests
// and the sandbox test clock can move time without sleeping.
package clock

import (
	"sync"
	"time"
)

// Clock tells the time. Components never call time.Now directly.
type Clock interface {
	Now() time.Time
}

// Real is the wall clock.
type Real struct{}

func (Real) Now() time.Time { return time.Now() }

// Test is a manually advanced clock. Waiters registered with AfterChange are
// woken whenever the time moves, so loops that wait for "the next due item"
// react to Advance without polling.
//
// Each merchant has its own position on a test clock (as Stripe's test
// clocks are per object): the shared time plus what that merchant advanced
// by itself, so merchants sharing a sandbox do not move each other's time.
type Test struct {
	mu      sync.Mutex
	now     time.Time
	ahead   map[int64]time.Duration // merchant → its own advances
	changed chan struct{}
}

// NewTest returns a test clock stopped at start.
func NewTest(start time.Time) *Test {
	return &Test{now: start, ahead: map[int64]time.Duration{}, changed: make(chan struct{})}
}

// Merchants is a clock with a time of its own per merchant.
type Merchants interface {
	Clock
	// NowFor is merchantID's time; Now is the shared time, never later.
	NowFor(merchantID int64) time.Time
}

// For is merchantID's time on c: its own on a per-merchant clock, c's
// time otherwise. Billing times of one merchant's rows read it.
func For(c Clock, merchantID int64) time.Time {
	if m, ok := c.(Merchants); ok {
		return m.NowFor(merchantID)
	}
	return c.Now()
}

// NowFor is merchantID's time: the shared time plus its own advances.
func (c *Test) NowFor(merchantID int64) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now.Add(c.ahead[merchantID])
}

// AdvanceFor moves merchantID's time forward by d (never backwards) and
// returns its new time; other merchants' times stay. Waiters are not woken:
// whoever moves one merchant's time runs what fell due for it, and a loop
// woken meanwhile would only race it for the same rows.
func (c *Test) AdvanceFor(merchantID int64, d time.Duration) time.Time {
	if d < 0 {
		d = 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ahead[merchantID] += d
	return c.now.Add(c.ahead[merchantID])
}

// SetFor moves merchantID's time to t if t is later than its current time
// (a restarted sandbox resumes each merchant where it was).
func (c *Test) SetFor(merchantID int64, t time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d := t.Sub(c.now); d > c.ahead[merchantID] {
		c.ahead[merchantID] = d
	}
	return c.now.Add(c.ahead[merchantID])
}

// Ahead lists the merchants whose time is ahead of the shared time, with
// their times.
func (c *Test) Ahead() map[int64]time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[int64]time.Time, len(c.ahead))
	for id, d := range c.ahead {
		if d > 0 {
			out[id] = c.now.Add(d)
		}
	}
	return out
}

// wake tells waiters the time moved; c.mu is held.
func (c *Test) wake() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *Test) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the shared time, and with it every merchant's, forward by d
// (never backwards) and returns the new shared time.
func (c *Test) Advance(d time.Duration) time.Time {
	if d < 0 {
		d = 0
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	c.wake()
	c.mu.Unlock()
	return now
}

// Set moves the clock to t if t is later than the current time.
func (c *Test) Set(t time.Time) time.Time {
	c.mu.Lock()
	now := c.now
	c.mu.Unlock()
	if t.After(now) {
		return c.Advance(t.Sub(now))
	}
	return now
}

// Changed returns a channel closed at the next Advance.
func (c *Test) Changed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed
}
