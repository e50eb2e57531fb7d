package console

import "time"

// SetWallClock replaces the wall clock that sessions, links and throttling use.
func SetWallClock(h *Handler, now func() time.Time) {
	h.wall = now
	h.throttle.mu.Lock()
	h.throttle.now = now
	h.throttle.mu.Unlock()
}
