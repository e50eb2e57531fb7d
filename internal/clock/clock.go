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
type Test struct {
	mu      sync.Mutex
	now     time.Time
	changed chan struct{}
}

// NewTest returns a test clock stopped at start.
func NewTest(start time.Time) *Test {
	return &Test{now: start, changed: make(chan struct{})}
}

func (c *Test) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d (never backwards) and returns the new time.
func (c *Test) Advance(d time.Duration) time.Time {
	if d < 0 {
		d = 0
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	close(c.changed)
	c.changed = make(chan struct{})
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
