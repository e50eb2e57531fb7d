package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/billkey/billkey/internal/app"
	"github.com/billkey/billkey/internal/buildinfo"
	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/pg/sim"
	"github.com/billkey/billkey/internal/scheduler"
)

// benchSchedules measures billing runs on Postgres: N entries due in the
// same second drained by one node's scheduler, with a zero-latency PG and
// with a slow PG, next to pgbench -N on the same server; then the RSS of a
// `billkey serve` process polling with 1,000,000 pending entries.
func benchSchedules(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench schedules", flag.ContinueOnError)
	var o schedulesOptions
	fs.StringVar(&o.dbURL, "database-url", defaultPostgresURL(), "Postgres server URL (a scratch schema is created and dropped)")
	fs.IntVar(&o.entries, "entries", 100_000, "entries due in the same second per run")
	fs.IntVar(&o.customers, "customers", 1000, "billing keys the entries charge round-robin")
	fs.IntVar(&pgConns, "pg-conns", 0, "PostgreSQL pool size, as BILLKEY_PG_MAX_CONNS (0: serve's default)")
	latencies := fs.String("latencies", "0,200ms", "simulated PG latencies, one run each")
	workers := fs.String("workers", "64,512", "scheduler workers per run (one value, or one per latency)")
	fs.IntVar(&claimers, "claimers", 0, "claims in progress at once, as BILLKEY_SCHEDULER_CLAIMERS (0: the scheduler's default)")
	fs.BoolVar(&o.pgbench, "pgbench", true, "also run pgbench -N -c 8 -j 2 -T 10 on the same server")
	fs.IntVar(&o.rssEntries, "rss-entries", 1_000_000, "pending entries for the RSS measurement (0 skips it)")
	fs.DurationVar(&o.rssFor, "rss-duration", 15*time.Second, "how long to sample the serve process RSS")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the billing runs to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if o.latencies, err = parseList(*latencies, time.ParseDuration); err != nil {
		return fmt.Errorf("-latencies: %w", err)
	}
	if o.workers, err = parseList(*workers, strconv.Atoi); err != nil {
		return fmt.Errorf("-workers: %w", err)
	}
	stop, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stop()
	_, err = runSchedules(ctx, o)
	return err
}

// defaultPostgresURL is the server the Postgres benchmarks use unless told
// otherwise: the one the tests use.
func defaultPostgresURL() string {
	return env("BILLKEY_BENCH_DATABASE_URL", env("BILLKEY_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"))
}

// schedulesOptions are bench schedules' flags.
type schedulesOptions struct {
	dbURL      string
	entries    int
	customers  int
	latencies  []time.Duration
	workers    []int // one per latency, or one for all
	pgbench    bool
	rssEntries int
	rssFor     time.Duration
}

// schedulesResult is what bench schedules measured, for bench targets.
type schedulesResult struct {
	// rate is the drain rate in charges/s by PG latency.
	rate       map[time.Duration]float64
	pgbenchTPS float64 // zero when pgbench did not run
	pgbenchErr error
	rss        int64 // bytes; zero when not measured
}

// runSchedules runs the billing runs, then pgbench, then the RSS
// measurement, printing as it goes.
func runSchedules(ctx context.Context, o schedulesOptions) (schedulesResult, error) {
	res := schedulesResult{rate: map[time.Duration]float64{}}
	if !strings.HasPrefix(o.dbURL, "postgres") {
		return res, errors.New("bench schedules: -database-url must be a postgres:// URL")
	}
	app.TuneGC(os.Getenv) // as `billkey serve` runs its collector
	fmt.Printf("billing run: %d entries due in the same second, %d billing keys, Postgres %s, %s\n",
		o.entries, o.customers, redactURL(o.dbURL), buildinfo.Get().Short())
	for i, lat := range o.latencies {
		w := o.workers[min(i, len(o.workers)-1)]
		r, err := billingRun(ctx, o.dbURL, o.entries, o.customers, lat, w)
		if err != nil {
			return res, fmt.Errorf("run with PG latency %s: %w", lat, err)
		}
		target := ""
		if lat > 0 {
			target = " (target ≥ 1000/s)"
		}
		rate := float64(r.n) / r.drain.Seconds()
		res.rate[lat] = rate
		fmt.Printf("  PG latency %-6s workers %-4d drained %d in %6.2fs = %7.0f charges/s%s; lateness p50 %.2fs p99 %.2fs max %.2fs\n",
			lat, w, r.n, r.drain.Seconds(), rate, target, r.p50.Seconds(), r.p99.Seconds(), r.max.Seconds())
	}
	if rate0, ok := res.rate[0]; ok && o.pgbench {
		res.pgbenchTPS, res.pgbenchErr = runPgbench(ctx, o.dbURL, 8, 10*time.Second)
		if res.pgbenchErr != nil {
			fmt.Printf("  pgbench -N -c 8 -j 2 -T 10: %v\n", res.pgbenchErr)
		} else {
			fmt.Printf("  pgbench -N -c 8 -j 2 -T 10: %.0f TPS → zero-latency drain / pgbench = %.2f (target ≥ 0.35)\n", res.pgbenchTPS, rate0/res.pgbenchTPS)
		}
	}
	if o.rssEntries > 0 {
		rss, err := pendingRSS(ctx, o.dbURL, o.rssEntries, o.rssFor)
		if err != nil {
			return res, fmt.Errorf("RSS run: %w", err)
		}
		res.rss = rss
		fmt.Printf("  RSS of billkey serve with %d pending entries, polling every 100ms for %s: max %.1f MB (target ≤ 200 MB)\n",
			o.rssEntries, o.rssFor, float64(rss)/(1<<20))
	}
	return res, nil
}

func parseList[T any](s string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for _, f := range strings.Split(s, ",") {
		v, err := parse(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, errors.New("empty list")
	}
	return out, nil
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "?"
	}
	return u.Redacted()
}

// scratchSchema creates a fresh schema and returns a URL using it and a
// function that drops it.
func scratchSchema(ctx context.Context, dbURL string) (string, func(), error) {
	var b [5]byte
	rand.Read(b[:])
	schema := "bkbench_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", dbURL)
	if err != nil {
		return "", nil, err
	}
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	u, _ := url.Parse(dbURL)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop := func() {
		admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
		admin.Close()
	}
	return u.String(), drop, nil
}

// pgConns is the -pg-conns flag of the command running.
var pgConns int

// benchApp is an App on a scratch schema with one merchant and its keys.
func benchApp(ctx context.Context, dbURL string, customers int) (*app.App, *sql.DB, int64, func(), error) {
	schemaURL, drop, err := scratchSchema(ctx, dbURL)
	if err != nil {
		return nil, nil, 0, nil, err
	}
	a, err := app.New(ctx, app.Config{
		DatabaseURL: schemaURL, MasterKey: strings.Repeat("ab", 32), Logger: quietLogger(),
		PGTimeout: 30 * time.Second, PGMaxConns: pgConns,
	})
	if err != nil {
		drop()
		return nil, nil, 0, nil, err
	}
	// Bulk seeding and maintenance are raw SQL on a handle of the bench's
	// own, beside the app's pool, not a way into the store.
	raw, err := sql.Open("pgx", schemaURL)
	if err != nil {
		a.Close()
		drop()
		return nil, nil, 0, nil, err
	}
	cleanup := func() { raw.Close(); a.Close(); drop() }
	cred, err := a.Merchants.Create(ctx, "bench")
	if err != nil {
		cleanup()
		return nil, nil, 0, nil, err
	}
	m, err := a.Store.MerchantByImpKey(ctx, cred.ImpKey)
	if err != nil {
		cleanup()
		return nil, nil, 0, nil, err
	}
	// Keys are issued at zero latency; the run's latency is set afterwards.
	var wg sync.WaitGroup
	errc := make(chan error, 16)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < customers; i += 16 {
				_, err := a.Service.IssueBillingKey(ctx, m.ID, charge.IssueKeyInput{
					CustomerUID: fmt.Sprintf("cust-%d", i), Card: pg.Card{Number: "4242424242424242", Expiry: "2030-12"},
				})
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		cleanup()
		return nil, nil, 0, nil, fmt.Errorf("issue keys: %w", err)
	}
	if err := seedHistory(ctx, raw, m.ID, historyPayments, "cust-", customers); err != nil {
		cleanup()
		return nil, nil, 0, nil, err
	}
	return a, raw, m.ID, cleanup, nil
}

// insertSchedules books n entries directly (a billing run's worth of rows
// is not what the API benchmark measures).
func insertSchedules(ctx context.Context, db *sql.DB, merchantID int64, n, customers int, at time.Time, prefix string) error {
	const chunk = 100_000
	for from := 1; from <= n; from += chunk {
		to := min(n, from+chunk-1)
		_, err := db.ExecContext(ctx, `INSERT INTO schedules (merchant_id, merchant_uid, customer_uid, status, schedule_at, amount, currency,
			name, pg_provider, pg_id, created_at, updated_at)
			SELECT $1, $2 || g, 'cust-' || (g % $3), 'scheduled', $4, 1000, 'KRW', 'bench', 'nice', 'nictest04m', $5, $5
			FROM generate_series($6::bigint, $7::bigint) g`,
			merchantID, prefix, customers, at.UnixMicro(), time.Now().UnixMicro(), from, to)
		if err != nil {
			return fmt.Errorf("insert schedules: %w", err)
		}
	}
	_, err := db.ExecContext(ctx, `ANALYZE schedules`)
	return err
}

type runResult struct {
	n             int
	drain         time.Duration
	p50, p99, max time.Duration
}

// claimers is -claimers of bench schedules.
var claimers int

func billingRun(ctx context.Context, dbURL string, n, customers int, latency time.Duration, workers int) (runResult, error) {
	a, raw, mid, cleanup, err := benchApp(ctx, dbURL, customers)
	if err != nil {
		return runResult{}, err
	}
	defer cleanup()
	a.Sim.SetConfig(sim.Config{Latency: latency})
	due := time.Now().Truncate(time.Second).Add(time.Second)
	if err := insertSchedules(ctx, raw, mid, n, customers, due, "run-"); err != nil {
		return runResult{}, err
	}
	for time.Now().Before(due) {
		time.Sleep(5 * time.Millisecond)
	}
	// One node: a fresh scheduler on the app's service (whose hooks the
	// app already attached), not started by a.Start, so nothing else runs.
	s := scheduler.New(a.Service, a.Store, scheduler.Config{Workers: workers, Claimers: claimers, Poll: 50 * time.Millisecond, Logger: a.Log})
	runCtx, stop := context.WithCancel(ctx)
	go maintain(runCtx, raw, autovacuumNaptime)
	done := make(chan struct{})
	go func() { s.Run(runCtx); close(done) }()
	start := time.Now()
	lastReport := start
	// Progress is read from the simulator's counter: a COUNT over the
	// schedules every 100 ms cost the server 8 % of a core.
	for {
		left := n - a.Sim.ChargeCount(true)
		if left <= 0 {
			break
		}
		if time.Since(lastReport) >= 5*time.Second {
			lastReport = time.Now()
			fmt.Fprintf(os.Stderr, "  … %d of %d left after %s\n", left, n, time.Since(start).Round(time.Second))
		}
		if time.Since(start) > 30*time.Minute {
			stop()
			return runResult{}, fmt.Errorf("not drained after 30 minutes: %d left", left)
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	<-done
	var left int
	if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM schedules WHERE status IN ('scheduled', 'executing')`).Scan(&left); err != nil || left != 0 {
		return runResult{}, fmt.Errorf("%d entries not executed after every charge was approved (%v)", left, err)
	}
	// Drain ends at the last execution, not at our poll.
	var last, paid int64
	var p50, p99, pmax float64
	err = raw.QueryRowContext(ctx, `SELECT MAX(executed_at), COUNT(*) FILTER (WHERE payment_status = 'paid'),
		percentile_disc(0.5) WITHIN GROUP (ORDER BY executed_at - schedule_at),
		percentile_disc(0.99) WITHIN GROUP (ORDER BY executed_at - schedule_at), MAX(executed_at - schedule_at)
		FROM schedules`).Scan(&last, &paid, &p50, &p99, &pmax)
	if err != nil {
		return runResult{}, err
	}
	if int(paid) != n || a.Sim.ChargeCount(true) != n {
		return runResult{}, fmt.Errorf("paid %d, PG approved %d, want %d each", paid, a.Sim.ChargeCount(true), n)
	}
	us := func(v float64) time.Duration { return time.Duration(v) * time.Microsecond }
	return runResult{n: n, drain: time.UnixMicro(last).Sub(due), p50: us(p50), p99: us(p99), max: us(pmax)}, nil
}

// autovacuumNaptime is autovacuum's default: how often it looks at a
// database's tables.
const autovacuumNaptime = time.Minute

// maintain stands in for autovacuum when the server has it off (as shared
// CI/dev servers sometimes do): without fresh statistics the cached plans
// made while payments was empty keep scanning by merchant_id, and every
// charge gets slower as the table grows. It applies autovacuum's own
// default thresholds (analyze after 50 + 10 % of a table changed, vacuum
// after 50 + 20 % of it is dead), checked every second, so that it costs
// what autovacuum would and no more: ANALYZE on a fixed timer showed up
// as a stall every tick in the latency tail. naptime is how often the
// tables are looked at (autovacuum_naptime, 1 min by default).
func maintain(ctx context.Context, db *sql.DB, naptime time.Duration) {
	var av string
	if err := db.QueryRowContext(ctx, `SHOW autovacuum`).Scan(&av); err != nil || av == "on" {
		return
	}
	fmt.Printf("  (autovacuum is off on this server: the bench applies autovacuum's default thresholds itself every %s)\n", naptime)
	// Autovacuum's workers are throttled (autovacuum_vacuum_cost_delay
	// 2 ms per 200 cost units); a manual ANALYZE is not, and on 2 cores an
	// unthrottled one starves the requests in flight.
	conn, err := db.Conn(ctx)
	if err != nil {
		return
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SET vacuum_cost_delay = '2ms'`); err != nil {
		return
	}
	t := time.NewTicker(naptime)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rows, err := conn.QueryContext(ctx, `SELECT s.relname,
			s.n_dead_tup > 50 + 0.2 * GREATEST(c.reltuples, 0),
			s.n_mod_since_analyze > 50 + 0.1 * GREATEST(c.reltuples, 0)
			FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
			WHERE s.schemaname = current_schema()`)
		if err != nil {
			continue
		}
		var vacuum, analyze []string
		for rows.Next() {
			var name string
			var v, a bool
			if rows.Scan(&name, &v, &a) == nil {
				if v {
					vacuum = append(vacuum, name)
				} else if a {
					analyze = append(analyze, name)
				}
			}
		}
		rows.Close()
		if len(vacuum)+len(analyze) > 0 {
			// With the time, so that -slowest's stalls can be matched to it.
			fmt.Fprintf(os.Stderr, "  %s autovacuum stand-in: VACUUM %v, ANALYZE %v\n", time.Now().Format("15:04:05.000"), vacuum, analyze)
		}
		for _, name := range vacuum {
			conn.ExecContext(ctx, `VACUUM (ANALYZE) `+name)
		}
		for _, name := range analyze {
			conn.ExecContext(ctx, `ANALYZE `+name)
		}
	}
}

// pendingRSS inserts n entries due in the future and samples the RSS of a
// `billkey serve` process polling them.
func pendingRSS(ctx context.Context, dbURL string, n int, d time.Duration) (int64, error) {
	a, raw, mid, cleanup, err := benchApp(ctx, dbURL, 100)
	if err != nil {
		return 0, err
	}
	defer cleanup()
	// Spread over the next 30 days: none is due while we measure.
	if err := insertSchedules(ctx, raw, mid, n, 100, time.Now().Add(30*24*time.Hour), "pending-"); err != nil {
		return 0, err
	}
	self, cleanupBin, err := billkeyBinary(ctx)
	if err != nil {
		return 0, err
	}
	defer cleanupBin()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.CommandContext(ctx, self, "serve", "--addr", addr)
	cmd.Env = append(os.Environ(), "BILLKEY_DATABASE_URL="+a.Config.DatabaseURL, "BILLKEY_MASTER_KEY="+strings.Repeat("ab", 32),
		"BILLKEY_SCHEDULER_POLL=100ms", "BILLKEY_LOG_LEVEL=error")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var peak int64
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if rss, err := readRSS(cmd.Process.Pid); err == nil && rss > peak {
			peak = rss
		}
		time.Sleep(200 * time.Millisecond)
	}
	if peak == 0 {
		return 0, errors.New("could not read the serve process RSS")
	}
	return peak, nil
}

// readRSS reads VmRSS from /proc (Linux).
func readRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS")
}
