package app

import "runtime/debug"

// ServerGCPercent is the garbage collector's target for `billkey serve`
// when GOGC is not set. The server's live heap is small (about 20 MB
// under load), so at Go's default of 100 it collected every ~0.4 s at 500
// charges/s, and the requests caught in a collection made the p99 of the
// gateway's overhead: 7.2–8.7 ms against 5.2–5.9 ms at 400 (README,
// Performance). The heap then peaks near five times the live data.
const ServerGCPercent = 400

// TuneGC applies ServerGCPercent unless the operator set GOGC, and returns
// the percentage in force.
func TuneGC(getenv func(string) string) int {
	if getenv("GOGC") != "" {
		old := debug.SetGCPercent(100)
		debug.SetGCPercent(old)
		return old
	}
	debug.SetGCPercent(ServerGCPercent)
	return ServerGCPercent
}
