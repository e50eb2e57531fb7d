package app

import (
	"runtime/debug"
	"testing"
)

// Not parallel: the GC percentage is process-wide.
func TestTuneGC(t *testing.T) {
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })
	if got := TuneGC(func(string) string { return "" }); got != ServerGCPercent || debug.SetGCPercent(ServerGCPercent) != ServerGCPercent {
		t.Fatalf("without GOGC: %d, want %d in force", got, ServerGCPercent)
	}
	debug.SetGCPercent(150) // as the runtime would from GOGC=150
	if got := TuneGC(func(k string) string { return map[string]string{"GOGC": "150"}[k] }); got != 150 || debug.SetGCPercent(150) != 150 {
		t.Fatalf("GOGC=150 set by the operator: %d, want it kept", got)
	}
}
