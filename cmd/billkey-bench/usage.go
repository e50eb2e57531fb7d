package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Roles label the goroutines of the measured process in CPU profiles, so
// that `go tool pprof -tags` splits the load generator and the sandbox PG
// (which share the process and its cores only because this is a benchmark)
// from the gateway itself. Goroutines inherit the labels of the one that
// started them: a connection's goroutines take the role of whoever dialed
// or served it.
const (
	roleGateway = "gateway"
	roleSim     = "sandbox-pg"
	roleLoad    = "load-generator"
)

func asRole(ctx context.Context, role string, f func(context.Context)) {
	pprof.Do(ctx, pprof.Labels("role", role), f)
}

// usageSample is what this process and the whole machine had used at one
// moment: CPU time, bytes sent to storage, Postgres's WAL position. Its
// difference over the measured window says whether the run was bound by
// CPU (machine busy near 100 %) and what one charge cost.
type usageSample struct {
	at         time.Time
	user, sys  time.Duration // this process
	busy, idle int64         // machine, in clock ticks (/proc/stat)
	iowait     int64
	// stored is what this process sent to storage (/proc/self/io
	// write_bytes): on SQLite, its database file and log.
	stored int64
	// wal is Postgres's WAL position in bytes, -1 without Postgres.
	wal int64
}

// sampleUsage samples now; walAt, when not nil, reads Postgres's WAL position.
func sampleUsage(walAt func() int64) usageSample {
	s := usageSample{at: time.Now(), wal: -1}
	if walAt != nil {
		s.wal = walAt()
	}
	s.stored = storedBytes()
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.user = time.Duration(ru.Utime.Nano())
		s.sys = time.Duration(ru.Stime.Nano())
	}
	s.busy, s.idle, s.iowait = machineTicks()
	return s
}

// storedBytes is /proc/self/io's write_bytes, 0 where there is none.
func storedBytes() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "write_bytes: "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

// machineTicks reads the aggregate cpu line of /proc/stat; zeros where
// there is none (not Linux).
func machineTicks() (busy, idle, iowait int64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0, 0, 0
	}
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		switch i {
		case 3:
			idle = n
		case 4:
			iowait = n
		default:
			busy += n
		}
	}
	return busy, idle, iowait
}

// usageReport says what the window from a to b cost per charge, and how
// busy the machine was meanwhile.
func usageReport(a, b usageSample, charges int) string {
	if charges == 0 {
		return ""
	}
	per := func(d time.Duration) string {
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)/float64(charges))
	}
	user, sys := b.user-a.user, b.sys-a.sys
	out := fmt.Sprintf("  CPU of this process (gateway, sandbox PG and load generator): %s per charge (user %s, system %s), %.2f cores",
		per(user+sys), per(user), per(sys), float64(user+sys)/float64(b.at.Sub(a.at)))
	if total := (b.busy - a.busy) + (b.idle - a.idle) + (b.iowait - a.iowait); total > 0 {
		out += fmt.Sprintf("\n  machine: %.0f %% busy, %.0f %% waiting on disk, %.0f %% idle",
			100*float64(b.busy-a.busy)/float64(total), 100*float64(b.iowait-a.iowait)/float64(total), 100*float64(b.idle-a.idle)/float64(total))
	}
	if a.wal >= 0 && b.wal >= 0 {
		out += fmt.Sprintf("\n  Postgres WAL written: %.1f kB per charge", float64(b.wal-a.wal)/1024/float64(charges))
	} else if b.stored > a.stored {
		out += fmt.Sprintf("\n  sent to storage by this process (SQLite database and log): %.1f kB per charge", float64(b.stored-a.stored)/1024/float64(charges))
	}
	return out
}
