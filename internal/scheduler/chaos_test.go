//go:build linux

package scheduler_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/billkey/billkey/internal/pg/iamport"
	"github.com/billkey/billkey/internal/pg/sim"
	"github.com/billkey/billkey/internal/testenv"
)

// TestChaosExactlyOnce is the process-level test of the scheduler's promise:
// three `billkey serve` processes share one Postgres and a standalone
// simulated PG that loses a share of approval responses; while they drain
// entries due at once, nodes are SIGKILLed and restarted at random moments.
// Afterwards the PG's ledger and the store must agree: no merchant_uid
// approved twice, every entry executed and paid, and the store's paid
// payments are exactly the PG's approved charges.
//
// The iamport case runs the same chaos with the merchant's default channel
// an iamport channel: the three nodes charge through a fourth `billkey
// serve` (own schema, own lossy simulator) acting as the upstream i'mport
// account, which is never killed; the ledger checked is the upstream's,
// traced back to our attempts by the derived upstream merchant_uid.
//
// Each case takes 40-70 s: attempts cut off by a kill are settled by the
// reconciler after their deadline (PG timeout + 30 s grace), and a look-up
// claimed by a node that was then killed waits out the reconciler's 1-minute
// claim lease. Debugging knobs: CHAOS_DEBUG=1 logs the drain's progress and
// the nodes' logs; CHAOS_NOKILL=1 runs the same load without kills.
func TestChaosExactlyOnce(t *testing.T) {
	if testing.Short() && !testenv.InCI() {
		t.Skip("chaos test: builds the binary and runs processes (skipped with -short outside CI)")
	}
	testenv.Postgres(t, true)
	dir := t.TempDir()
	bin := filepath.Join(dir, "billkey")
	build := exec.Command("go", "build", "-o", bin, "github.com/billkey/billkey/cmd/billkey")
	start := time.Now()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built in %s", time.Since(start).Round(time.Millisecond))
	for _, tc := range []chaosCase{
		{name: "sandbox", customers: 20, perCust: 20, lostRate: 0.05},
		// Fewer entries keep the run short; a higher loss rate keeps "no
		// response was lost" as unlikely as with 400 (0.92^150 ≈ 4e-6).
		{name: "iamport", customers: 10, perCust: 15, lostRate: 0.08, upstream: true},
	} {
		t.Run(tc.name, func(t *testing.T) { runChaos(t, bin, tc) })
	}
}

type chaosCase struct {
	name               string
	customers, perCust int
	lostRate           float64
	// upstream puts a second Billkey, reached through an iamport channel,
	// between the nodes and the simulated PG.
	upstream bool
}

type chaosCred struct {
	MerchantCode string `json:"merchant_code"`
	ImpKey       string `json:"imp_key"`
	ImpSecret    string `json:"imp_secret"`
}

func createMerchant(t *testing.T, dir, bin string, envv []string, name string) chaosCred {
	t.Helper()
	out, err := runCmd(dir, bin, envv, "merchant", "create", "--name", name, "--json")
	if err != nil {
		t.Fatalf("merchant create: %v\n%s", err, out)
	}
	var cred chaosCred
	if err := json.Unmarshal(lastLine(out), &cred); err != nil {
		t.Fatalf("merchant create output %q: %v", out, err)
	}
	return cred
}

func nodeEnv(dbURL string) []string {
	return []string{
		"BILLKEY_DATABASE_URL=" + dbURL,
		"BILLKEY_MASTER_KEY=" + strings.Repeat("ab", 32),
		"BILLKEY_PG_TIMEOUT=1s",
		"BILLKEY_RECONCILE_INTERVAL=250ms",
		"BILLKEY_SCHEDULER_POLL=100ms",
		"BILLKEY_SCHEDULER_WORKERS=2",
		"BILLKEY_SCHEDULER_LEASE=3s",
		"BILLKEY_LOG_LEVEL=warn",
	}
}

func runChaos(t *testing.T, bin string, tc chaosCase) {
	pgdb, _ := testenv.Postgres(t, true)
	const nodes = 3
	customers, perCust := tc.customers, tc.perCust
	total := customers * perCust
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	t.Logf("seed %d", seed)
	dir := t.TempDir()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// The PG: 50 ms per call with 2 workers per node keeps ~6 charges in
	// flight, so kills land in the middle of PG calls and commits.
	simAddr := freeAddr(t)
	simProc := startProc(t, dir, bin, nil, "pgsim", "--addr", simAddr, "--lost-rate", fmt.Sprint(tc.lostRate), "--latency", "50ms",
		"--seed", fmt.Sprint(seed))
	defer simProc.kill()
	simURL := "http://" + simAddr
	waitHTTP(t, simURL+"/_sim/config")

	envv := nodeEnv(pgdb.URL)
	if !tc.upstream {
		envv = append(envv, "BILLKEY_PG_URL="+simURL)
	}
	cred := createMerchant(t, dir, bin, envv, "chaos")
	var upDB *sql.DB
	if tc.upstream {
		upPG, _ := testenv.Postgres(t, true)
		upEnv := append(nodeEnv(upPG.URL), "BILLKEY_PG_URL="+simURL)
		upCred := createMerchant(t, dir, bin, upEnv, "chaos-upstream")
		upAddr := freeAddr(t)
		startProc(t, dir, bin, upEnv, "serve", "--addr", upAddr)
		waitHTTP(t, "http://"+upAddr+"/readyz")
		var err error
		if upDB, err = sql.Open("pgx", upPG.URL); err != nil {
			t.Fatal(err)
		}
		defer upDB.Close()
		if out, err := runCmd(dir, bin, envv, "channel", "add", "--merchant", cred.MerchantCode, "--pg", "iamport", "--mid", "up",
			"--imp-key", upCred.ImpKey, "--imp-secret", upCred.ImpSecret, "--api-url", "http://"+upAddr, "--default"); err != nil {
			t.Fatalf("channel add: %v\n%s", err, out)
		}
	}

	addrs := make([]string, nodes)
	procs := make([]*proc, nodes)
	for i := range procs {
		addrs[i] = freeAddr(t)
		procs[i] = startProc(t, dir, bin, envv, "serve", "--addr", addrs[i])
	}
	defer func() {
		for _, p := range procs {
			p.kill()
		}
	}()
	for _, a := range addrs {
		waitHTTP(t, "http://"+a+"/readyz")
	}
	api := &apiClient{t: t, base: "http://" + addrs[0]}
	api.login(cred.ImpKey, cred.ImpSecret)
	for c := range customers {
		api.must("POST", fmt.Sprintf("/subscribe/customers/chaos-%02d", c), map[string]any{"card_number": cardOK, "expiry": "2030-12"})
	}
	due := time.Now().Unix() + 3
	for c := range customers {
		var list []map[string]any
		for j := range perCust {
			list = append(list, map[string]any{"merchant_uid": fmt.Sprintf("chaos-%02d-%02d", c, j), "schedule_at": due, "amount": 1000 + j})
		}
		api.must("POST", "/subscribe/payments/schedule", map[string]any{"customer_uid": fmt.Sprintf("chaos-%02d", c), "schedules": list})
	}
	for time.Now().Unix() < due {
		time.Sleep(50 * time.Millisecond)
	}

	// Chaos: kill -9 a random node at random moments for up to 6 s (until
	// 90% are executed), restarting it
	// at once; sometimes kill two nodes together.
	kills := 0
	chaosEnd := time.Now().Add(6 * time.Second)
	db, err := sql.Open("pgx", pgdb.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	executedCount := func() int {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schedules WHERE status = 'executed'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Kills after the drain would only test idle restarts; killsMidDrain
	// counts those that hit nodes with entries still to execute.
	killsMidDrain := 0
	for time.Now().Before(chaosEnd) && executedCount() < total*9/10 && os.Getenv("CHAOS_NOKILL") == "" {
		time.Sleep(time.Duration(150+rng.IntN(600)) * time.Millisecond)
		if executedCount() < total {
			killsMidDrain++
		}
		victims := []int{rng.IntN(nodes)}
		if rng.IntN(4) == 0 {
			victims = append(victims, (victims[0]+1)%nodes)
		}
		for _, i := range victims {
			procs[i].kill()
			kills++
		}
		for _, i := range victims {
			procs[i] = startProc(t, dir, bin, envv, "serve", "--addr", addrs[i])
		}
	}
	t.Logf("%d SIGKILLs (%d rounds while entries were still due); setup+chaos took %s", kills, killsMidDrain, time.Since(start).Round(time.Millisecond))

	// Wait (bounded) for every entry to be executed: attempts of killed nodes
	// settle through the reconciler once their deadline passes.
	drainFrom := time.Now()
	deadline := time.Now().Add(90 * time.Second)
	for {
		var executed, other int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FILTER (WHERE status = 'executed'), COUNT(*) FILTER (WHERE status <> 'executed') FROM schedules`).
			Scan(&executed, &other); err != nil {
			t.Fatal(err)
		}
		if executed == total {
			break
		}
		if time.Now().After(deadline) {
			// A drain that times out must say why: where each entry left
			// stands in our store and, through an upstream, in its store,
			// and what the nodes warned about.
			for _, line := range undrained(ctx, db, upDB, start) {
				t.Log(line)
			}
			for i, p := range allProcs {
				p.mu.Lock()
				t.Logf("process %d log:\n%s", i, p.logs.String())
				p.mu.Unlock()
			}
			t.Fatalf("not drained: %d executed, %d not", executed, other)
		}
		if os.Getenv("CHAOS_DEBUG") != "" {
			t.Logf("%5.1fs %v", time.Since(start).Seconds(), undrained(ctx, db, upDB, start))
		}
		time.Sleep(250 * time.Millisecond)
	}

	t.Logf("all executed after %s (drain after the chaos: %s)", time.Since(start).Round(time.Millisecond), time.Since(drainFrom).Round(time.Millisecond))
	if os.Getenv("CHAOS_DEBUG") != "" {
		for _, p := range allProcs {
			p.mu.Lock()
			t.Logf("node log:\n%s", p.logs.String())
			p.mu.Unlock()
		}
	}
	// The ledger against the store.
	res, err := http.Get(simURL + "/_sim/ledger")
	if err != nil {
		t.Fatal(err)
	}
	var ledger []sim.Charge
	if err := json.NewDecoder(res.Body).Decode(&ledger); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	// ours maps the PG's idempotency key to our attempt's imp_uid: the
	// same key on the sandbox; through the upstream, its imp_uid, whose
	// merchant_uid is derived from ours.
	ours := func(key string) (string, bool) { return key, true }
	if upDB != nil {
		upOrders := map[string]string{} // upstream imp_uid → upstream merchant_uid
		rows, err := upDB.QueryContext(ctx, `SELECT imp_uid, merchant_uid FROM payments`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var imp, mu string
			if err := rows.Scan(&imp, &mu); err != nil {
				t.Fatal(err)
			}
			upOrders[imp] = mu
		}
		rows.Close()
		ours = func(key string) (string, bool) { return iamport.IdempotencyKeyOf(upOrders[key]) }
	}
	approved := map[string]bool{} // our imp_uid
	for _, c := range ledger {
		if c.Status != "approved" || c.Amount < 1000 {
			continue
		}
		imp, ok := ours(c.IdempotencyKey)
		switch {
		case !ok:
			t.Errorf("PG approved %s, which traces back to no attempt of ours", c.IdempotencyKey)
		case approved[imp]:
			t.Errorf("DOUBLE: PG approved attempt %s twice", imp)
		}
		approved[imp] = true
	}
	rows, err := db.QueryContext(ctx, `SELECT imp_uid, merchant_uid, status FROM payments WHERE customer_uid_usage = 'payment.scheduled'`)
	if err != nil {
		t.Fatal(err)
	}
	paidOrders := map[string]string{} // merchant_uid → imp_uid
	paidIDs := map[string]bool{}
	attempts := 0
	for rows.Next() {
		var imp, mu, st string
		if err := rows.Scan(&imp, &mu, &st); err != nil {
			t.Fatal(err)
		}
		attempts++
		switch st {
		case "paid":
			if prev, dup := paidOrders[mu]; dup {
				t.Errorf("DOUBLE: %s paid by %s and %s", mu, prev, imp)
			}
			paidOrders[mu] = imp
			paidIDs[imp] = true
		case "pending", "unknown":
			t.Errorf("attempt %s of %s still %s after the drain", imp, mu, st)
		}
	}
	rows.Close()
	approvedPerOrder := map[string]int{}
	for imp := range approved {
		if !paidIDs[imp] {
			t.Errorf("PG approved %s but the store does not have it paid", imp)
		}
	}
	for mu, imp := range paidOrders {
		if !approved[imp] {
			t.Errorf("store has %s (%s) paid but the PG never approved it", imp, mu)
		}
		approvedPerOrder[mu]++
	}
	var notPaid []string
	srows, err := db.QueryContext(ctx, `SELECT merchant_uid, payment_status, imp_uid, fail_reason FROM schedules`)
	if err != nil {
		t.Fatal(err)
	}
	for srows.Next() {
		var mu, ps, imp, reason string
		if err := srows.Scan(&mu, &ps, &imp, &reason); err != nil {
			t.Fatal(err)
		}
		if ps != "paid" || paidOrders[mu] != imp {
			notPaid = append(notPaid, fmt.Sprintf("%s:%s:%s:%s", mu, ps, imp, reason))
		}
	}
	srows.Close()
	if len(notPaid) > 0 {
		t.Errorf("%d entries not executed as paid (LOST): %v", len(notPaid), notPaid)
	}
	if len(approved) != total || len(paidOrders) != total {
		t.Errorf("PG approved %d, store paid %d, want %d each", len(approved), len(paidOrders), total)
	}
	var stats sim.Stats
	res, err = http.Get(simURL + "/_sim/stats")
	if err != nil {
		t.Fatalf("simulator stats: %v", err)
	}
	err = json.NewDecoder(res.Body).Decode(&stats)
	res.Body.Close()
	if err != nil {
		t.Fatalf("simulator stats: %v", err)
	}
	t.Logf("entries %d, attempts %d, PG approvals %d, lost responses %d, replays %d, kills %d (%d rounds mid-drain)",
		total, attempts, len(approved), stats.Lost, stats.Replays, kills, killsMidDrain)
	// A run without chaos proves nothing: it must have killed nodes while
	// entries were due, and the PG must have lost approvals (5% of ~400:
	// none lost happens with probability 0.95^400 ≈ 1e-9).
	if os.Getenv("CHAOS_NOKILL") == "" && (kills == 0 || killsMidDrain == 0) {
		t.Errorf("no chaos: %d SIGKILLs, %d of them while entries were due", kills, killsMidDrain)
	}
	if stats.Lost == 0 {
		t.Errorf("no chaos: the PG lost no approval response (stats %+v)", stats)
	}
}

// undrained describes each entry not yet executed: the entry (status,
// lease), its latest attempt (status, look-ups made, next look-up) and,
// with an upstream, the upstream's payment for that attempt.
func undrained(ctx context.Context, db, upDB *sql.DB, start time.Time) []string {
	now := time.Now().UnixMicro()
	rows, err := db.QueryContext(ctx, `SELECT s.merchant_uid, s.status, s.claimed_by, (s.lease_until - $1)/1000, s.imp_uid,
		COALESCE(p.status, ''), COALESCE(p.checks, 0), (COALESCE(p.next_check_at, 0) - $1)/1000, COALESCE(p.fail_reason, ''),
		(SELECT COUNT(*) FROM payments a WHERE a.merchant_id = s.merchant_id AND a.merchant_uid = s.merchant_uid)
		FROM schedules s LEFT JOIN payments p ON p.imp_uid = s.imp_uid WHERE s.status <> 'executed' ORDER BY s.merchant_uid`, now)
	if err != nil {
		return []string{"undrained: " + err.Error()}
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var mu, st, by, imp, ps, reason string
		var leaseMS, checks, nextMS, tries int64
		if err := rows.Scan(&mu, &st, &by, &leaseMS, &imp, &ps, &checks, &nextMS, &reason, &tries); err != nil {
			return append(lines, "undrained: "+err.Error())
		}
		line := fmt.Sprintf("%5.1fs %s: entry %s (claimed by %q, lease %+dms), %d attempts, latest %q %s, %d look-ups, next in %+dms, reason %q",
			time.Since(start).Seconds(), mu, st, by, leaseMS, tries, imp, ps, checks, nextMS, reason)
		if upDB != nil && imp != "" {
			var ust, ureason string
			var uchecks int64
			err := upDB.QueryRowContext(ctx, `SELECT status, checks, fail_reason FROM payments WHERE merchant_uid = $1`, iamport.MerchantUID(imp)).
				Scan(&ust, &uchecks, &ureason)
			line += fmt.Sprintf("; upstream: %q, %d look-ups, reason %q (err %v)", ust, uchecks, ureason, err)
		}
		lines = append(lines, line)
	}
	return lines
}

type proc struct {
	cmd  *exec.Cmd
	mu   *sync.Mutex
	logs *bytes.Buffer
	once sync.Once
}

var allProcs []*proc

// kill sends SIGKILL (never a graceful stop) and reaps the process.
func (p *proc) kill() {
	p.once.Do(func() {
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
	})
}

func startProc(t *testing.T, dir, bin string, envv []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), envv...)
	// Children die with the test binary even if it is killed itself.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	logs := &bytes.Buffer{}
	sw := &syncWriter{w: logs}
	cmd.Stdout = io.Discard
	cmd.Stderr = sw
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", args, err)
	}
	p := &proc{cmd: cmd, logs: logs, mu: &sw.mu}
	allProcs = append(allProcs, p)
	t.Cleanup(p.kill)
	return p
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

func runCmd(dir, bin string, envv []string, args ...string) ([]byte, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), envv...)
	return cmd.Output()
}

func lastLine(b []byte) []byte {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	return lines[len(lines)-1]
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitHTTP(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get(url)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// apiClient is a minimal V1 client against one node.
type apiClient struct {
	t     *testing.T
	base  string
	token string
}

func (c *apiClient) login(key, secret string) {
	var out struct {
		Response struct {
			AccessToken string `json:"access_token"`
		} `json:"response"`
	}
	c.do("POST", "/users/getToken", map[string]any{"imp_key": key, "imp_secret": secret}, &out)
	c.token = out.Response.AccessToken
}

func (c *apiClient) must(method, path string, body any) {
	c.t.Helper()
	var out struct {
		Code    int     `json:"code"`
		Message *string `json:"message"`
	}
	c.do(method, path, body, &out)
	if out.Code != 0 {
		c.t.Fatalf("%s %s: code %d %v", method, path, out.Code, str(out.Message))
	}
}

func (c *apiClient) do(method, path string, body, out any) {
	c.t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, c.base+path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", c.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		c.t.Fatalf("%s %s: HTTP %d: %v", method, path, res.StatusCode, err)
	}
}
