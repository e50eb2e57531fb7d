package main

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"golang.org/x/sync/errgroup"

	"github.com/billkey/billkey/internal/app"
	"github.com/billkey/billkey/internal/httplimit"
	"github.com/billkey/billkey/internal/merchant"
	"github.com/billkey/billkey/internal/pg/sim"
	"github.com/billkey/billkey/internal/store"
)

// benchAgain measures POST /subscribe/payments/again end to end over
// loopback HTTP against an in-process Billkey and sandbox PG: closed-loop
// throughput with -concurrency workers, or open-loop latency at -rate.
func benchAgain(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench again", flag.ContinueOnError)
	var o againOptions
	fs.StringVar(&o.dbURL, "database-url", "", "postgres:// URL or SQLite path (default: a fresh SQLite file in a temp dir)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long to send load")
	fs.IntVar(&o.concurrency, "concurrency", 32, "closed-loop workers (ignored with -rate)")
	fs.IntVar(&o.rate, "rate", 0, "open-loop requests per second (0: closed loop)")
	fs.DurationVar(&o.latency, "pg-latency", 0, "simulated PG latency")
	fs.IntVar(&o.keys, "keys", 200, "billing keys to charge round-robin")
	fs.IntVar(&pgConns, "pg-conns", 0, "PostgreSQL pool size, as BILLKEY_PG_MAX_CONNS (0: serve's default)")
	fs.BoolVar(&o.pgbench, "pgbench", true, "on Postgres, also run pgbench -N for the same duration and print its TPS")
	fs.IntVar(&o.pgbenchClients, "pgbench-clients", 8, "pgbench -c: the connections the Postgres ratio is stated against")
	fs.IntVar(&o.history, "history", historyPayments, "on Postgres, past payments (with their webhook events) seeded before the run, as on a gateway in service")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "load sent before measuring starts (not counted)")
	fs.IntVar(&o.slowest, "slowest", 0, "print the N slowest requests with the moment each started")
	fs.StringVar(&o.memProfile, "memprofile", "", "write an allocation profile (alloc_space: what the load allocated) to this file")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the load (not of pgbench) to this file")
	fs.StringVar(&o.tracePath, "trace", "", "write an execution trace of the measured load (after warm-up) to this file: go tool trace")
	if err := fs.Parse(args); err != nil {
		return err
	}
	_, err := runAgain(ctx, o)
	return err
}

// againOptions are bench again's flags.
type againOptions struct {
	dbURL          string
	duration       time.Duration
	concurrency    int
	rate           int
	latency        time.Duration
	keys           int
	pgbench        bool
	pgbenchClients int
	history        int
	warmup         time.Duration
	slowest        int
	memProfile     string
	cpuProfile     string
	tracePath      string
}

// againResult is what one again run measured, for bench targets.
type againResult struct {
	dialect  store.Dialect
	rate     float64 // paid charges per second
	failed   int64
	p50, p99 time.Duration
	// overheadP99 is the p99 of latency − the PG's own time per charge;
	// zero without a PG latency.
	overheadP99 time.Duration
	pgbenchTPS  float64 // zero when pgbench did not run
	pgbenchErr  error
}

// runAgain runs one again benchmark, printing as it goes.
func runAgain(ctx context.Context, o againOptions) (againResult, error) {
	stopProfile, err := startCPUProfile(o.cpuProfile)
	if err != nil {
		return againResult{}, err
	}
	defer stopProfile()
	if o.dbURL == "" {
		dir, err := os.MkdirTemp("", "billkey-bench-")
		if err != nil {
			return againResult{}, err
		}
		defer os.RemoveAll(dir)
		o.dbURL = filepath.Join(dir, "bench.db")
	}
	appURL := o.dbURL
	var raw *sql.DB // Postgres: the bench's own handle for seeding and maintenance
	if strings.HasPrefix(o.dbURL, "postgres") {
		// A scratch schema per run: leftovers of earlier runs (their
		// undelivered webhook events, bloated indexes) are not this run's
		// cost.
		schemaURL, drop, err := scratchSchema(ctx, o.dbURL)
		if err != nil {
			return againResult{}, err
		}
		defer drop()
		appURL = schemaURL
		if raw, err = sql.Open("pgx", schemaURL); err != nil {
			return againResult{}, err
		}
		defer raw.Close()
	}
	// The measured process runs its collector as `billkey serve` does.
	app.TuneGC(os.Getenv)
	// Whatever this goroutine starts from here on is the bench's own work,
	// unless started under another role below.
	// (pprof.Do restores the labels of the context it is given: ctx carries
	// this role for that.)
	ctx = pprof.WithLabels(ctx, pprof.Labels("role", roleLoad))
	pprof.SetGoroutineLabels(ctx)
	// The sandbox PG runs apart from the gateway, as a standalone simulator
	// would (BILLKEY_PG_URL), so that a profile tells their CPU apart.
	pgSim := sim.New(sim.Config{Latency: o.latency})
	var simURL string
	asRole(ctx, roleSim, func(context.Context) { simURL, err = pgSim.Start("127.0.0.1:0") })
	if err != nil {
		return againResult{}, err
	}
	defer pgSim.Close()
	log := quietLogger()
	var a *app.App
	asRole(ctx, roleGateway, func(ctx context.Context) {
		a, err = app.New(ctx, app.Config{
			DatabaseURL: appURL, MasterKey: strings.Repeat("ab", 32), Logger: log,
			PGURL: simURL, PGTimeout: 30 * time.Second, PGMaxConns: pgConns,
			// The load generator is one client address with many connections.
			HTTP: httplimit.Limits{PerClient: -1},
		})
	})
	if err != nil {
		return againResult{}, err
	}
	closeApp := sync.OnceValue(a.Close)
	defer closeApp()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return againResult{}, err
	}
	srvCtx, stopSrv := context.WithCancel(ctx)
	defer stopSrv()
	asRole(ctx, roleGateway, func(context.Context) {
		a.Start()
		go a.Serve(srvCtx, ln)
	})
	base := "http://" + ln.Addr().String()

	cred, err := a.Merchants.Create(ctx, "bench")
	if err != nil {
		return againResult{}, err
	}
	tok, err := benchToken(http.DefaultClient, base, cred)
	if err != nil {
		return againResult{}, err
	}
	client, err := newLoadClient(base)
	if err != nil {
		return againResult{}, err
	}
	defer client.Close()
	run := fmt.Sprintf("%d", time.Now().UnixNano())
	// Keys are issued 32 at a time: with a slow PG one by one would take
	// keys × latency before the load starts.
	fmt.Fprintf(os.Stderr, "  issuing %d billing keys…\n", o.keys)
	var issue errgroup.Group
	issue.SetLimit(32)
	for i := 0; i < o.keys; i++ {
		issue.Go(func() error {
			body := map[string]any{"card_number": "4242-4242-4242-4242", "expiry": "2030-12", "birth": "800101", "pwd_2digit": "12"}
			if _, err := benchPost(client, "/subscribe/customers/bench-"+run+"-"+fmt.Sprint(i), tok, body); err != nil {
				return fmt.Errorf("issue key %d: %w", i, err)
			}
			return nil
		})
	}
	if err := issue.Wait(); err != nil {
		return againResult{}, err
	}

	dialect := a.Store.Dialect()
	stopMaintain := func() {}
	if raw != nil {
		m, err := a.Store.MerchantByImpKey(ctx, cred.ImpKey)
		if err != nil {
			return againResult{}, err
		}
		if o.history > 0 {
			fmt.Fprintf(os.Stderr, "  seeding %d past payments…\n", o.history)
			if err := seedHistory(ctx, raw, m.ID, o.history, "bench-"+run+"-", o.keys); err != nil {
				return againResult{}, err
			}
		}
		var maintainCtx context.Context
		maintainCtx, stopMaintain = context.WithCancel(ctx)
		defer stopMaintain()
		go maintain(maintainCtx, raw, autovacuumNaptime)
	}
	if dialect == "postgres" {
		// pgbench's run follows the checkpoint its CREATE DATABASE forces;
		// ours does the same, so that neither has a timed checkpoint (and
		// its burst of full-page writes) land inside a short run by chance.
		if err := checkpoint(ctx, appURL); err != nil {
			fmt.Fprintf(os.Stderr, "  (no CHECKPOINT before the run: %v)\n", err)
		}
	}

	// The PG's own time per charge, as its timer slept it: a late wake-up
	// of the simulator's timer is the PG being slow, not the gateway.
	var held sync.Map // imp_uid → time.Duration
	if o.latency > 0 {
		pgSim.TimeCharges(func(key string, d time.Duration) { held.Store(key, d) })
		defer pgSim.TimeCharges(nil)
	}
	var seq atomic.Int64
	var mu sync.Mutex
	var lat, gateway, pgTime []time.Duration
	var failures atomic.Int64
	var tail [][2]time.Duration
	againURL := "/subscribe/payments/again"
	// measured is when the warm-up ends: requests started before it (new
	// HTTP and database connections, statements being prepared) are sent
	// but not counted.
	var measured time.Time
	one := func() {
		n := seq.Add(1)
		start := time.Now()
		status, impUID, err := againPost(client, againURL, tok, run, n%int64(o.keys), n)
		d := time.Since(start)
		h, timed := held.LoadAndDelete(impUID)
		if err != nil || status != "paid" {
			failures.Add(1)
			return
		}
		if start.Before(measured) {
			return
		}
		mu.Lock()
		lat = append(lat, d)
		if timed {
			gateway = append(gateway, d-h.(time.Duration))
			pgTime = append(pgTime, h.(time.Duration))
		}
		tail = append(tail, [2]time.Duration{start.Sub(measured), d})
		mu.Unlock()
	}
	loadCtx, stop := context.WithTimeout(ctx, o.warmup+o.duration)
	defer stop()
	began := time.Now()
	measured = began.Add(o.warmup)
	var walAt func() int64
	if raw != nil {
		walAt = func() int64 {
			var n int64
			if err := raw.QueryRowContext(ctx, `SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint`).Scan(&n); err != nil {
				return -1
			}
			return n
		}
	}
	usageAtStart := make(chan usageSample, 1)
	time.AfterFunc(o.warmup, func() { usageAtStart <- sampleUsage(walAt) })
	stopTrace := func() {}
	if o.tracePath != "" {
		f, err := os.Create(o.tracePath)
		if err != nil {
			return againResult{}, err
		}
		defer f.Close()
		started := make(chan error, 1)
		time.AfterFunc(o.warmup, func() { started <- trace.Start(f) })
		stopTrace = sync.OnceFunc(func() {
			if err := <-started; err == nil {
				trace.Stop()
			}
		})
		defer stopTrace()
	}
	go func() {
		// Progress on stderr, so that a long run does not look hung.
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-loadCtx.Done():
				return
			case <-t.C:
				fmt.Fprintf(os.Stderr, "  … %d charges sent after %s\n", seq.Load(), time.Since(began).Round(time.Second))
			}
		}
	}()
	var wg sync.WaitGroup
	if o.rate > 0 {
		tick := time.NewTicker(time.Second / time.Duration(o.rate))
	open:
		for {
			select {
			case <-loadCtx.Done():
				break open
			case <-tick.C:
				wg.Add(1)
				go func() { defer wg.Done(); one() }()
			}
		}
		tick.Stop()
	} else {
		for w := 0; w < o.concurrency; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for loadCtx.Err() == nil {
					one()
				}
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(measured)
	usageAtEnd := sampleUsage(walAt)
	stopTrace()
	stopProfile()
	if o.memProfile != "" {
		if err := writeAllocProfile(o.memProfile); err != nil {
			return againResult{}, err
		}
	}

	// pgbench runs right after our load, for as long, on the same server:
	// the target is stated as a ratio to it. Billkey is stopped first, as
	// pgbench was while ours ran: its workers would otherwise go on draining
	// the webhook backlog of the load into pgbench's run, and the ratio
	// would be flattered by a slower pgbench.
	stopSrv()
	if err := closeApp(); err != nil {
		return againResult{}, err
	}
	stopMaintain()
	var pgbenchTPS float64
	var pgbenchErr error
	if dialect == "postgres" && o.pgbench {
		pgbenchTPS, pgbenchErr = runPgbench(ctx, o.dbURL, o.pgbenchClients, o.duration)
	}

	if o.slowest > 0 {
		// When the slow ones started tells a periodic stall (one moment
		// hitting many requests) from a spread-out tail.
		slices.SortFunc(tail, func(a, b [2]time.Duration) int { return cmp.Compare(b[1], a[1]) })
		for _, t := range tail[:min(o.slowest, len(tail))] {
			fmt.Printf("  slow: started at +%s (%s), took %s\n", t[0].Round(time.Millisecond), measured.Add(t[0]).Format("15:04:05.000"), t[1].Round(10*time.Microsecond))
		}
	}
	slices.Sort(lat)
	slices.Sort(gateway)
	slices.Sort(pgTime)
	pctOf := func(ds []time.Duration, p float64) time.Duration {
		if len(ds) == 0 {
			return 0
		}
		return ds[min(len(ds)-1, int(float64(len(ds))*p))]
	}
	pct := func(p float64) time.Duration { return pctOf(lat, p) }
	tps := float64(len(lat)) / elapsed.Seconds()
	mode := fmt.Sprintf("closed loop, %d workers", o.concurrency)
	if o.rate > 0 {
		mode = fmt.Sprintf("open loop, %d req/s", o.rate)
	}
	fmt.Printf("again benchmark: store=%s pg-latency=%s %s, %s\n", dialect, o.latency, mode, elapsed.Round(time.Millisecond))
	target := ""
	if dialect == "sqlite" && o.rate == 0 && o.latency == 0 {
		target = " (target on SQLite ≥ 3000/s)"
	}
	fmt.Printf("  charges: %d paid, %d failed → %.0f charges/s%s\n", len(lat), failures.Load(), tps, target)
	fmt.Printf("  latency: p50 %s  p99 %s  max %s\n", pct(0.50).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), pct(1).Round(10*time.Microsecond))
	if o.latency > 0 {
		r := func(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }
		fmt.Printf("  PG's own time, as its timer slept it (%d of %d charges timed): p50 %s  p99 %s  max %s\n",
			len(pgTime), len(lat), r(pctOf(pgTime, 0.50)), r(pctOf(pgTime, 0.99)), r(pctOf(pgTime, 1)))
		fmt.Printf("  gateway overhead (p99 − configured PG latency): %s\n", r(pct(0.99)-o.latency))
		fmt.Printf("  gateway overhead per charge (latency − PG's own time): p50 %s  p99 %s (target ≤ 5ms)\n",
			r(pctOf(gateway, 0.50)), r(pctOf(gateway, 0.99)))
	}
	if r := usageReport(<-usageAtStart, usageAtEnd, len(lat)); r != "" {
		fmt.Println(r)
	}
	if dialect == "postgres" && o.pgbench {
		if pgbenchErr != nil {
			fmt.Printf("  pgbench -N -c %d: %v\n", o.pgbenchClients, pgbenchErr)
		} else {
			fmt.Printf("  pgbench -N -c %d: %.0f TPS → again/pgbench = %.2f (target ≥ 0.5)\n", o.pgbenchClients, pgbenchTPS, tps/pgbenchTPS)
		}
	}
	return againResult{
		dialect: dialect, rate: tps, failed: failures.Load(), p50: pct(0.50), p99: pct(0.99),
		overheadP99: pctOf(gateway, 0.99), pgbenchTPS: pgbenchTPS, pgbenchErr: pgbenchErr,
	}, nil
}

func benchToken(client *http.Client, base string, cred merchant.Credentials) (string, error) {
	b, _ := json.Marshal(map[string]string{"imp_key": cred.ImpKey, "imp_secret": cred.ImpSecret})
	resp, err := client.Post(base+"/users/getToken", "application/json", bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		Response struct {
			AccessToken string `json:"access_token"`
		} `json:"response"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", err
	}
	return out.Response.AccessToken, nil
}

// againPost charges key k of the run for order n. The load generator
// shares the measured process (and its garbage collector): it builds the
// body and reads the answer with buffers it reuses rather than maps and
// decoders per request.
func againPost(client *loadClient, u, tok, run string, k, n int64) (status, impUID string, err error) {
	buf := bufs.Get().(*bytes.Buffer)
	defer bufs.Put(buf)
	buf.Reset()
	fmt.Fprintf(buf, `{"customer_uid":"bench-%s-%d","merchant_uid":"b-%s-%d","amount":1000,"name":"bench"}`, run, k, run, n)
	return post(client, u, tok, buf.Bytes())
}

// benchPost posts body as JSON and returns the payment status (or "ok"
// for non-payments).
func benchPost(client *loadClient, u, tok string, body any) (string, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return "", err
	}
	status, _, err := post(client, u, tok, b)
	return status, err
}

// post sends body and returns the payment's status ("ok" for answers
// that are not payments) and imp_uid.
func post(client *loadClient, u, tok string, body []byte) (status, impUID string, err error) {
	buf := bufs.Get().(*bytes.Buffer)
	defer bufs.Put(buf)
	httpStatus, err := client.post(u, tok, body, buf)
	if err != nil {
		return "", "", err
	}
	code, status, impUID, err := paymentAnswer(buf.Bytes())
	if err != nil {
		return "", "", fmt.Errorf("HTTP %d: %w", httpStatus, err)
	}
	if httpStatus != http.StatusOK || code != 0 {
		return "", "", fmt.Errorf("HTTP %d, code %d: %.200s", httpStatus, code, buf.Bytes())
	}
	if status == "" {
		return "ok", impUID, nil
	}
	return status, impUID, nil
}

var bufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// runPgbench initializes a scratch database on the same Postgres server and
// runs pgbench -N (simple update, no branch contention) for d with clients
// connections: the limit the targets are stated against.
func runPgbench(ctx context.Context, dbURL string, clients int, d time.Duration) (float64, error) {
	bin, err := exec.LookPath("pgbench")
	if err != nil {
		matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
		if len(matches) == 0 {
			return 0, errors.New("pgbench not found")
		}
		bin = matches[len(matches)-1]
	}
	u, err := pgbenchServer(dbURL)
	if err != nil {
		return 0, err
	}
	admin, err := sql.Open("pgx", u.String())
	if err != nil {
		return 0, err
	}
	defer admin.Close()
	const scratch = "billkey_pgbench"
	admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+scratch)
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+scratch); err != nil {
		return 0, fmt.Errorf("create scratch database: %w", err)
	}
	defer admin.ExecContext(context.Background(), `DROP DATABASE IF EXISTS `+scratch)
	u.Path = "/" + scratch
	target := u.String()
	if out, err := exec.CommandContext(ctx, bin, "-i", "-s", "10", "-q", target).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("pgbench -i: %v: %s", err, out)
	}
	secs := fmt.Sprint(max(1, int(d.Seconds())))
	out, err := exec.CommandContext(ctx, bin, "-N", "-c", fmt.Sprint(clients), "-j", "2", "-T", secs, target).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench -N: %v: %s", err, out)
	}
	m := regexp.MustCompile(`tps = ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("pgbench output: %s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// pgbenchServer is the part of Billkey's database URL that pgbench uses
// too: it reaches the server the way Billkey did, over the same TCP address
// or Unix socket (the host parameter) and with or without TLS (sslmode: a
// connection without it is cheaper per statement), and nothing else.
func pgbenchServer(dbURL string) (*url.URL, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return nil, err
	}
	keep := url.Values{}
	for _, name := range []string{"host", "sslmode"} {
		if v := u.Query().Get(name); v != "" {
			keep.Set(name, v)
		}
	}
	u.RawQuery = keep.Encode()
	return u, nil
}

// startCPUProfile profiles the process into path ("" does nothing).
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	// Idempotent: a run stops it before pgbench and again on return.
	return sync.OnceFunc(func() { pprof.StopCPUProfile(); f.Close() }), nil
}

func writeAllocProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup("allocs").WriteTo(f, 0)
}

func checkpoint(ctx context.Context, dbURL string) error {
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `CHECKPOINT`)
	return err
}

// historyPayments is how much past a benchmark's scratch schema starts with.
const historyPayments = 200_000

// seedHistory gives the scratch schema the past of a gateway in service: n
// settled payments on the run's keys and their delivered events, then
// fresh statistics. On empty tables every few seconds of load crosses
// autovacuum's thresholds (a fraction of the table), and the ANALYZE and
// VACUUM runs it sets off showed up as stalls in the latency tail; on
// tables of this size they come about every 20 s at 500 charges/s.
func seedHistory(ctx context.Context, db *sql.DB, merchantID int64, n int, customerPrefix string, keys int) error {
	past := time.Now().Add(-30 * 24 * time.Hour).UnixMicro()
	if _, err := db.ExecContext(ctx, `INSERT INTO payments (imp_uid, merchant_id, merchant_uid, status, pay_method, channel,
		pg_provider, pg_id, pg_tid, sandbox, apply_num, card_name, card_number, name, amount, currency, customer_uid,
		customer_uid_usage, started_at, paid_at, updated_at)
		SELECT 'imp_hist_' || g, $1, 'hist-' || g, 'paid', 'card', 'api', 'nice', 'nictest04m', 'tid' || g, 1, '00000000',
			'신한카드', '424242******4242', 'bench', 1000, 'KRW', $2 || (g % $3), 'payment',
			$4 + g * 1000, $4 + g * 1000, $4 + g * 1000
		FROM generate_series(1, $5::bigint) g`, merchantID, customerPrefix, keys, past, n); err != nil {
		return fmt.Errorf("seed payments: %w", err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO events (id, merchant_id, type, imp_uid, payload, status, attempts,
		next_attempt_at, delivered_at, created_at)
		SELECT 'evt_hist_' || g, $1, 'payment', 'imp_hist_' || g, '{"imp_uid":"imp_hist_' || g || '","status":"paid"}',
			'skipped', 1, $2 + g * 1000, 0, $2 + g * 1000
		FROM generate_series(1, $3::bigint) g`, merchantID, past, n); err != nil {
		return fmt.Errorf("seed events: %w", err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO webhook_attempts (event_id, merchant_id, attempt_no, url, status_code, latency_us, error, created_at)
		SELECT 'evt_hist_' || g, $1, 1, '', 0, 0, 'no webhook URL', $2 + g * 1000
		FROM generate_series(1, $3::bigint) g`, merchantID, past, n); err != nil {
		return fmt.Errorf("seed webhook attempts: %w", err)
	}
	_, err := db.ExecContext(ctx, `VACUUM (ANALYZE)`)
	return err
}
