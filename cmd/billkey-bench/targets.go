package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"text/tabwriter"
	"time"

	"github.com/billkey/billkey/internal/buildinfo"
)

// benchTargets runs every measure the performance targets are stated in,
// one after the other on the same machine, and ends with them side by
// side: what was measured, pgbench beside the Postgres ones, the target,
// and whether it was met. Comparing across days says little on a shared
// machine; a ratio to pgbench taken minutes apart says more.
func benchTargets(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench targets", flag.ContinueOnError)
	dbURL := fs.String("database-url", defaultPostgresURL(), "Postgres server for the Postgres measures (scratch schemas and a scratch pgbench database are created and dropped)")
	duration := fs.Duration("duration", 15*time.Second, "how long each closed-loop again run sends load (and pgbench runs beside it)")
	overheadFor := fs.Duration("overhead-duration", 10*time.Second, "how long each 500 req/s run over a 200 ms PG sends load")
	concurrency := fs.Int("concurrency", 32, "closed-loop connections")
	keys := fs.Int("keys", 200, "billing keys charged round-robin")
	entries := fs.Int("entries", 100_000, "schedule entries due at once in each billing run")
	rssEntries := fs.Int("rss-entries", 1_000_000, "pending entries while serve's RSS is sampled (0 skips it)")
	fs.IntVar(&pgConns, "pg-conns", 0, "PostgreSQL pool size, as BILLKEY_PG_MAX_CONNS (0: serve's default)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	began := time.Now().UTC()
	sqliteDir, err := os.MkdirTemp("", "billkey-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(sqliteDir)
	freshSQLite := func(name string) string { return filepath.Join(sqliteDir, name+".db") }

	closed := againOptions{duration: *duration, concurrency: *concurrency, keys: *keys,
		pgbench: true, pgbenchClients: 8, history: historyPayments, warmup: 2 * time.Second}
	overhead := againOptions{duration: *overheadFor, rate: 500, latency: 200 * time.Millisecond, keys: *keys,
		history: historyPayments, warmup: 2 * time.Second}
	var m targetMeasures
	var errs []error
	step := func(name string, f func() error) {
		fmt.Printf("\n== %s\n", name)
		if err := f(); err != nil {
			fmt.Printf("  failed: %v\n", err)
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	again := func(name string, o againOptions, dbURL string, into *againResult) {
		step(name, func() (err error) {
			o.dbURL = dbURL
			*into, err = runAgain(ctx, o)
			return err
		})
	}
	again("1. again, Postgres, closed loop, then pgbench -N", closed, *dbURL, &m.againPostgres)
	again("2. again, SQLite, closed loop", closed, freshSQLite("closed"), &m.againSQLite)
	again("3a. gateway overhead, SQLite, 500 req/s over a 200 ms PG", overhead, freshSQLite("overhead"), &m.overheadSQLite)
	again("3b. gateway overhead, Postgres, 500 req/s over a 200 ms PG", overhead, *dbURL, &m.overheadPostgres)
	step("4, 5. billing runs, then pgbench -N; serve's RSS with pending entries", func() (err error) {
		m.schedules, err = runSchedules(ctx, schedulesOptions{
			dbURL: *dbURL, entries: *entries, customers: 1000,
			latencies: []time.Duration{0, 200 * time.Millisecond}, workers: []int{64, 512},
			pgbench: true, rssEntries: *rssEntries, rssFor: 15 * time.Second,
		})
		return err
	})

	fmt.Printf("\ntargets: %s, %d cores, %s → %s UTC\n", buildinfo.Get().Short(), runtime.NumCPU(),
		began.Format("2006-01-02 15:04"), time.Now().UTC().Format("15:04"))
	printTargets(os.Stdout, m.rows(*concurrency, *keys, *entries, *rssEntries))
	return errors.Join(errs...)
}

// targetMeasures holds one bench targets run's results; a measure that
// failed is left zero.
type targetMeasures struct {
	againPostgres, againSQLite       againResult
	overheadSQLite, overheadPostgres againResult
	schedules                        schedulesResult
}

// targetRow is one line of the summary.
type targetRow struct {
	id, what, measured, target string
	met                        bool
}

// Targets as the performance issue states them.
const (
	targetPostgresRatio   = 0.5
	targetSQLiteRate      = 3000
	targetOverheadP99     = 5 * time.Millisecond
	targetDrainRatio      = 0.35
	targetSlowDrainRate   = 1000
	targetPendingRSSBytes = 200 << 20
)

func (m targetMeasures) rows(concurrency, keys, entries, pending int) []targetRow {
	var rows []targetRow
	add := func(id, what, target, measured string, met bool) {
		rows = append(rows, targetRow{id: id, what: what, measured: measured, target: target, met: met})
	}
	closedWhat := fmt.Sprintf("%d connections, %d keys", concurrency, keys)
	a := m.againPostgres
	switch {
	case a.rate == 0:
		add("1", "again, Postgres, "+closedWhat, "≥ 0.5 × pgbench", "not measured", false)
	case a.pgbenchTPS == 0:
		add("1", "again, Postgres, "+closedWhat, "≥ 0.5 × pgbench", fmt.Sprintf("%.0f/s; pgbench: %v", a.rate, a.pgbenchErr), false)
	default:
		ratio := a.rate / a.pgbenchTPS
		add("1", "again, Postgres, "+closedWhat, "≥ 0.5 × pgbench",
			fmt.Sprintf("%.0f/s vs pgbench -N -c 8 %.0f TPS = %.2f", a.rate, a.pgbenchTPS, ratio),
			ratio >= targetPostgresRatio && a.failed == 0)
	}
	s := m.againSQLite
	add("2", "again, SQLite, "+closedWhat, "≥ 3,000/s", rateText(s), s.rate >= targetSQLiteRate && s.failed == 0)
	for _, o := range []struct {
		id, store string
		r         againResult
	}{{"3a", "SQLite", m.overheadSQLite}, {"3b", "Postgres", m.overheadPostgres}} {
		measured := "not measured"
		if o.r.rate > 0 {
			measured = fmt.Sprintf("p99 %s (latency − PG's own time)", o.r.overheadP99.Round(10*time.Microsecond))
			if o.r.failed > 0 {
				measured += fmt.Sprintf(", %d failed", o.r.failed)
			}
		}
		add(o.id, "gateway overhead, "+o.store+", 500 req/s over a 200 ms PG", "p99 ≤ 5 ms", measured,
			o.r.rate > 0 && o.r.overheadP99 <= targetOverheadP99 && o.r.failed == 0)
	}
	sc := m.schedules
	drainWhat := fmt.Sprintf("billing run, %d due at once", entries)
	if r0, ok := sc.rate[0]; !ok {
		add("4a", drainWhat+", zero-latency PG", "≥ 0.35 × pgbench", "not measured", false)
	} else if sc.pgbenchTPS == 0 {
		add("4a", drainWhat+", zero-latency PG", "≥ 0.35 × pgbench", fmt.Sprintf("%.0f/s; pgbench: %v", r0, sc.pgbenchErr), false)
	} else {
		ratio := r0 / sc.pgbenchTPS
		add("4a", drainWhat+", zero-latency PG", "≥ 0.35 × pgbench",
			fmt.Sprintf("%.0f/s vs pgbench -N -c 8 %.0f TPS = %.2f", r0, sc.pgbenchTPS, ratio), ratio >= targetDrainRatio)
	}
	if r, ok := sc.rate[200*time.Millisecond]; ok {
		add("4b", drainWhat+", 200 ms PG", "≥ 1,000/s", fmt.Sprintf("%.0f/s", r), r >= targetSlowDrainRate)
	} else {
		add("4b", drainWhat+", 200 ms PG", "≥ 1,000/s", "not measured", false)
	}
	rssWhat := fmt.Sprintf("serve's RSS with %d pending entries", pending)
	if sc.rss > 0 {
		add("5", rssWhat, "≤ 200 MB", fmt.Sprintf("%.1f MB", float64(sc.rss)/(1<<20)), sc.rss <= targetPendingRSSBytes)
	} else {
		add("5", rssWhat, "≤ 200 MB", "not measured", false)
	}
	return rows
}

func rateText(r againResult) string {
	if r.rate == 0 {
		return "not measured"
	}
	t := fmt.Sprintf("%.0f/s (p99 %s)", r.rate, r.p99.Round(100*time.Microsecond))
	if r.failed > 0 {
		t += fmt.Sprintf(", %d failed", r.failed)
	}
	return t
}

func printTargets(w io.Writer, rows []targetRow) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  #\tmeasure\tmeasured\ttarget\t")
	met := 0
	for _, r := range rows {
		mark := "✗"
		if r.met {
			mark = "✓"
			met++
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", r.id, r.what, r.measured, r.target, mark)
	}
	tw.Flush()
	fmt.Fprintf(w, "  %d of %d targets met\n", met, len(rows))
}
