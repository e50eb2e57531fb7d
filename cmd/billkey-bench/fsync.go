package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// benchFsync measures the floor under every durable commit: how long the
// disk takes to make a small write durable (write + fdatasync, as SQLite's
// synchronous=FULL and Postgres's WAL flush do), at a steady rate. A
// gateway's overhead tail cannot be shorter than the disk's tail times the
// two commits a charge needs.
func benchFsync(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench fsync", flag.ContinueOnError)
	dir := fs.String("dir", "", "directory on the disk to measure (default: a temp dir; point it at the database's disk)")
	duration := fs.Duration("duration", 20*time.Second, "how long to measure")
	interval := fs.Duration("interval", 2*time.Millisecond, "time between the starts of two writes (2ms: ~500 commits/s)")
	size := fs.Int("size", 8<<10, "bytes per write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	f, err := os.CreateTemp(*dir, "billkey-bench-fsync-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, *size)
	var lat []time.Duration
	var slow []string
	t := time.NewTicker(*interval)
	defer t.Stop()
	end := time.Now().Add(*duration)
	var off int64
	for time.Now().Before(end) && ctx.Err() == nil {
		<-t.C
		start := time.Now()
		if _, err := f.WriteAt(buf, off); err != nil {
			return err
		}
		if err := f.Sync(); err != nil { // fdatasync would do; Sync is fsync, never less
			return err
		}
		d := time.Since(start)
		lat = append(lat, d)
		if d > 10*time.Millisecond {
			slow = append(slow, fmt.Sprintf("%s %s", start.Format("15:04:05.000"), d.Round(100*time.Microsecond)))
		}
		// A WAL-like file: append, and start over every 16 MB.
		if off += int64(*size); off >= 16<<20 {
			off = 0
		}
	}
	if len(lat) == 0 {
		return fmt.Errorf("no writes made")
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(float64(len(lat))*p))] }
	r := func(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }
	where, _ := filepath.Abs(filepath.Dir(f.Name()))
	fmt.Printf("fsync benchmark: %d writes of %d B + fsync in %s, one every %s\n", len(lat), *size, where, *interval)
	fmt.Printf("  latency: p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n", r(pct(0.5)), r(pct(0.9)), r(pct(0.99)), r(pct(0.999)), r(pct(1)))
	fmt.Printf("  %d writes over 10ms", len(slow))
	if len(slow) > 0 {
		fmt.Printf(": %v", slow[:min(len(slow), 20)])
	}
	fmt.Println()
	return nil
}
