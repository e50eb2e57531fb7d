package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/api/v3/d24"
	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/pg/sim"
	"github.com/billkey/billkey/internal/pg/stripe/stripetest"
	"github.com/billkey/billkey/internal/testenv"
)

// v1 drives one merchant of a Billkey over the V1 API.
type v1 struct {
	t     *testing.T
	e     *apptest.Env
	token string
}

type v1Envelope struct {
	Status   int
	Code     int             `json:"code"`
	Message  *string         `json:"message"`
	Response json.RawMessage `json:"response"`
	raw      string
}

func (v v1Envelope) msg() string {
	if v.Message == nil {
		return ""
	}
	return *v.Message
}

func (c *v1) call(method, path string, body any) v1Envelope {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.e.Server.URL+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out v1Envelope
	if err := json.Unmarshal(raw, &out); err != nil {
		c.t.Fatalf("%s %s: HTTP %d undecodable %q", method, path, res.StatusCode, raw)
	}
	out.Status, out.raw = res.StatusCode, string(raw)
	return out
}

func (c *v1) ok(method, path string, body any) map[string]any {
	c.t.Helper()
	res := c.call(method, path, body)
	if res.Status != 200 || res.Code != 0 {
		c.t.Fatalf("%s %s: HTTP %d code %d %q", method, path, res.Status, res.Code, res.msg())
	}
	var out map[string]any
	_ = json.Unmarshal(res.Response, &out)
	return out
}

var xDateSeq atomic.Int64

// v3 sends a D24-signed request.
func (c *v1) v3(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, c.e.Server.URL+path, bytes.NewReader(raw))
	xDate := c.e.Wall.Now().Add(time.Duration(xDateSeq.Add(1)) * time.Microsecond).UTC().Format("2006-01-02T15:04:05.000000Z")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Date", xDate)
	req.Header.Set("X-Login", c.e.Cred.XLogin)
	req.Header.Set("Authorization", d24.Sign(c.e.Cred.APISignature, xDate, c.e.Cred.XLogin, raw))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

// processor is one real-processor channel as a test sets it up.
type processor struct {
	name    string
	channel func(t *testing.T, e *apptest.Env) (body map[string]any, secret string)
	// approved counts approved charges at the processor (its ground truth).
	approved func() int
}

func processors(t *testing.T) []processor {
	var stripeSrv *stripetest.Server
	var upstream *apptest.Env
	var local *apptest.Env
	return []processor{
		{
			name: "tosspayments",
			channel: func(t *testing.T, e *apptest.Env) (map[string]any, string) {
				local = e
				secret := "test_sk_" + strings.Repeat("x", 24)
				return map[string]any{"pg": "tosspayments", "mid": "tbill", "default": true, "secret_key": secret,
					"api_url": e.App.Config.PGURL + sim.TossPrefix}, secret
			},
			approved: func() int {
				n := 0
				for _, c := range local.App.Sim.Ledger() {
					if c.Provider == sim.TossProvider && c.Status == "approved" {
						n++
					}
				}
				return n
			},
		},
		{
			name: "stripe",
			channel: func(t *testing.T, e *apptest.Env) (map[string]any, string) {
				stripeSrv = stripetest.Start(t)
				secret := "sk_test_" + strings.Repeat("y", 24)
				return map[string]any{"pg": "stripe", "mid": "acct_1", "default": true, "secret_key": secret, "api_url": stripeSrv.URL}, secret
			},
			approved: func() int { return stripeSrv.Succeeded() },
		},
		{
			name: "iamport",
			channel: func(t *testing.T, e *apptest.Env) (map[string]any, string) {
				upstream = apptest.New(t, testenv.SQLite(t))
				return map[string]any{"pg": "iamport", "mid": "upstream", "default": true, "imp_key": upstream.Cred.ImpKey,
					"imp_secret": upstream.Cred.ImpSecret, "api_url": upstream.Server.URL}, upstream.Cred.ImpSecret
			},
			approved: func() int { return upstream.App.Sim.ChargeCount(true) },
		},
	}
}

// A merchant adds one channel and then does everything through it: issue a
// key, charge it again, schedule it, run a v3 subscription on it, cancel
// partially; an unknown pg is an error, never a fall-back; the processor's
// credentials are never shown, logged or stored in clear.
func TestProcessorChannelEndToEnd(t *testing.T) {
	t.Parallel()
	for _, p := range processors(t) {
		t.Run(p.name, func(t *testing.T) {
			testenv.Each(t, func(t *testing.T, b testenv.Backend) {
				e := apptest.New(t, b)
				c := &v1{t: t, e: e, token: e.Token(e.Cred)}
				body, secret := p.channel(t, e)

				added := c.call("POST", "/channels", body)
				if added.Status != 200 || added.Code != 0 || strings.Contains(added.raw, secret) {
					t.Fatalf("add channel: %d %d %s", added.Status, added.Code, added.raw)
				}
				for _, path := range []string{"/channels", "/users/pg"} {
					res := c.call("GET", path, nil)
					if res.Code != 0 || !strings.Contains(res.raw, `"pg_provider":"`+p.name+`"`) || strings.Contains(res.raw, secret) {
						t.Fatalf("GET %s: %s", path, res.raw)
					}
				}

				key := c.ok("POST", "/subscribe/customers/cust_1", map[string]any{
					"card_number": "4242-4242-4242-4242", "expiry": "2030-12", "birth": "800101", "pwd_2digit": "12", "cvc": "123"})
				if key["pg_provider"] != p.name || key["card_number"] == "4242424242424242" {
					t.Fatalf("key: %v", key)
				}

				paid := c.ok("POST", "/subscribe/payments/again", map[string]any{"customer_uid": "cust_1", "merchant_uid": "order_1", "amount": 8900, "name": "월간 이용권"})
				if paid["status"] != "paid" || paid["pg_provider"] != p.name {
					t.Fatalf("again: %v", paid)
				}

				now := e.Clock.Now().Unix()
				c.ok("POST", "/subscribe/payments/schedule", map[string]any{"customer_uid": "cust_1",
					"schedules": []map[string]any{{"merchant_uid": "sched_1", "schedule_at": now + 3600, "amount": 5000, "name": "예약"}}})
				c.ok("POST", "/sandbox/clock/advance", map[string]any{"seconds": 3600})
				c.token = e.Token(e.Cred)
				sched := c.ok("GET", "/subscribe/payments/schedule/sched_1", nil)
				if sched["schedule_status"] != "executed" || sched["payment_status"] != "paid" {
					t.Fatalf("schedule: %v", sched)
				}

				st, sub := c.v3("POST", "/v3/subscriptions", map[string]any{
					"invoice_id": "INV-" + p.name, "amount": 9900, "currency": "KRW", "country": "KR", "description": "Premium",
					"customer_uid": "cust_1", "payer": map[string]any{"id": "PAYER1", "email": "p@example.com", "first_name": "길동", "last_name": "홍"},
					"subscription": map[string]any{"start_date": e.Clock.Now().Format("2006-01-02"), "plan": "MONTHLY", "plan_unit": 1, "auto_renewal": true},
				})
				if st != 200 || sub["subscription_id"] == nil {
					t.Fatalf("v3 subscription: %d %v", st, sub)
				}
				subID := int64(sub["subscription_id"].(float64))
				deps, err := e.App.Store.Deposits(context.Background(), e.Merchant.ID, subID)
				if err != nil || len(deps) != 1 {
					t.Fatalf("deposits: %v %v", deps, err)
				}
				if st, dep := c.v3("GET", fmt.Sprintf("/v3/deposits/%d", deps[0].ID), nil); st != 200 || dep["status"] != "COMPLETED" {
					t.Fatalf("deposit: %d %v", st, dep)
				}

				cancelled := c.ok("POST", "/payments/cancel", map[string]any{"merchant_uid": "order_1", "amount": 3000, "checksum": 8900, "reason": "부분 환불"})
				if cancelled["cancel_amount"] != 3000.0 || len(cancelled["cancel_history"].([]any)) != 1 {
					t.Fatalf("partial cancel: %v", cancelled)
				}
				if got := p.approved(); got != 3 {
					t.Fatalf("%s approved %d charges, want 3 (again, schedule, v3)", p.name, got)
				}

				res := c.call("POST", "/subscribe/customers/cust_2", map[string]any{"pg": "nosuchpg",
					"card_number": "4242-4242-4242-4242", "expiry": "2030-12", "birth": "800101", "pwd_2digit": "12"})
				if res.Code == 0 || !strings.Contains(res.msg(), "nosuchpg") {
					t.Fatalf("unknown pg must be an error: %s", res.raw)
				}
				if strings.Contains(e.Logs.String(), secret) {
					t.Fatal("a processor credential reached the logs")
				}
				if strings.Contains(dumpDatabase(t, e, b), secret) {
					t.Fatal("a processor credential is stored in clear")
				}
			})
		})
	}
}

// 20 identical concurrent again calls through an upstream i'mport channel
// charge the upstream exactly once.
func TestConcurrentDuplicateAgainThroughIAMPortChargesOnce(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b)
		up := apptest.New(t, testenv.SQLite(t))
		c := &v1{t: t, e: e, token: e.Token(e.Cred)}
		c.ok("POST", "/channels", map[string]any{"pg": "iamport", "mid": "up", "default": true,
			"imp_key": up.Cred.ImpKey, "imp_secret": up.Cred.ImpSecret, "api_url": up.Server.URL})
		c.ok("POST", "/subscribe/customers/c1", map[string]any{"card_number": "4242424242424242", "expiry": "2030-12", "birth": "800101", "pwd_2digit": "12"})
		const n = 20
		codes := make(chan int, n)
		for range n {
			go func() {
				res := c.call("POST", "/subscribe/payments/again", map[string]any{"customer_uid": "c1", "merchant_uid": "dup-1", "amount": 1000})
				codes <- res.Code
			}()
		}
		ok := 0
		for range n {
			if <-codes == 0 {
				ok++
			}
		}
		if ok < 1 {
			t.Fatal("no call succeeded")
		}
		if got := up.App.Sim.ChargeCount(false); got != 1 {
			t.Fatalf("upstream PG ledger has %d charges for one merchant_uid", got)
		}
	})
}

// Channel management: errors in the envelope, the default cannot be removed
// while others remain, live credentials are refused on the demo merchant
// and, on a server with a test clock, refuse to charge.
func TestChannelManagementRules(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, testenv.SQLite(t))
	c := &v1{t: t, e: e, token: e.Token(e.Cred)}
	toss := e.App.Config.PGURL + sim.TossPrefix

	for _, bad := range []map[string]any{
		{"pg": "nice", "secret_key": "x"},
		{"pg": "tosspayments", "secret_key": "test_gsk_widget"},
		{"pg": "stripe", "secret_key": "sk_live_abc"}, // a live key without live: true
		{"pg": "iamport", "imp_key": "k"},
	} {
		if res := c.call("POST", "/channels", bad); res.Status != 400 || res.Code != -1 || res.msg() == "" {
			t.Errorf("add %v: %d %s", bad["pg"], res.Status, res.raw)
		}
	}
	c.ok("POST", "/channels", map[string]any{"pg": "tosspayments", "mid": "t1", "default": true, "secret_key": "test_sk_abc", "api_url": toss})
	if res := c.call("POST", "/channels", map[string]any{"pg": "tosspayments", "mid": "t1", "secret_key": "test_sk_abc"}); res.Status != 400 {
		t.Fatalf("duplicate channel: %s", res.raw)
	}
	if res := c.call("DELETE", "/channels/tosspayments.t1", nil); res.Status != 400 || !strings.Contains(res.msg(), "default") {
		t.Fatalf("removing the default: %s", res.raw)
	}
	c.ok("POST", "/channels/nice.nictest04m/default", nil)
	c.ok("DELETE", "/channels/tosspayments.t1", nil)
	if res := c.call("DELETE", "/channels/tosspayments.t1", nil); res.Status != 404 {
		t.Fatalf("removing twice: %s", res.raw)
	}

	// Live: the test clock (apptest runs on one) refuses to move real money.
	c.ok("POST", "/channels", map[string]any{"pg": "tosspayments", "mid": "live1", "live": true, "secret_key": "live_sk_abc", "api_url": toss})
	res := c.call("POST", "/subscribe/customers/c1", map[string]any{"pg": "tosspayments.live1", "card_number": "4242424242424242", "expiry": "2030-12", "birth": "800101"})
	if res.Code == 0 || !strings.Contains(res.msg(), "test-clock") {
		t.Fatalf("live channel under a test clock: %s", res.raw)
	}
	if e.App.Sim.Stats().IssuedKeys != 0 {
		t.Fatal("a live channel reached the processor under a test clock")
	}

	if err := e.App.Merchants.MarkDemo(context.Background(), e.Merchant.ID); err != nil {
		t.Fatal(err)
	}
	if res := c.call("POST", "/channels", map[string]any{"pg": "stripe", "mid": "live2", "live": true, "secret_key": "sk_live_abc"}); res.Status != 403 {
		t.Fatalf("live credentials on the demo merchant: %s", res.raw)
	}
}

// A processor that cannot be reached answers at once, in the envelope,
// with a clear message; nothing is stored.
func TestProcessorOutageAnswersQuickly(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, testenv.SQLite(t))
	c := &v1{t: t, e: e, token: e.Token(e.Cred)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	c.ok("POST", "/channels", map[string]any{"pg": "tosspayments", "mid": "down", "default": true, "secret_key": "test_sk_abc", "api_url": down})
	start := time.Now()
	res := c.call("POST", "/subscribe/customers/c1", map[string]any{"card_number": "4242424242424242", "expiry": "2030-12", "birth": "800101"})
	if res.Code != -1 || !strings.Contains(res.msg(), "연결할 수 없습니다") {
		t.Fatalf("outage: %s", res.raw)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("outage took %v to answer", d)
	}
	if res := c.call("GET", "/subscribe/customers/c1", nil); res.Code == 0 {
		t.Fatalf("a key was stored during the outage: %s", res.raw)
	}
}

// Rotating the vault key re-wraps processor credentials too, and the
// channel keeps working.
func TestRotationRewrapsChannelCredentials(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, testenv.SQLite(t))
	ctx := context.Background()
	c := &v1{t: t, e: e, token: e.Token(e.Cred)}
	c.ok("POST", "/channels", map[string]any{"pg": "tosspayments", "mid": "rot", "default": true, "secret_key": "test_sk_rot",
		"api_url": e.App.Config.PGURL + sim.TossPrefix})
	newKey, _, err := e.App.Keys.Rotate(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if left, err := e.App.Store.ChannelCredentialsNotUnderKey(ctx, newKey, 10); err != nil || len(left) != 0 {
		t.Fatalf("%d channels still under the old key (%v)", len(left), err)
	}
	c.ok("POST", "/subscribe/customers/c1", map[string]any{"card_number": "4242424242424242", "expiry": "2030-12", "birth": "800101"})
	if paid := c.ok("POST", "/subscribe/payments/again", map[string]any{"customer_uid": "c1", "merchant_uid": "after-rotate", "amount": 1000}); paid["status"] != "paid" {
		t.Fatalf("again after rotation: %v", paid)
	}
}

// A charge whose answer is lost at the upstream PG stays "ready" at both
// Billkeys until each reconciler has looked it up; then it is paid once.
func TestLostAnswerThroughIAMPortIsReconciled(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b)
		up := apptest.New(t, testenv.SQLite(t))
		ctx := context.Background()
		c := &v1{t: t, e: e, token: e.Token(e.Cred)}
		c.ok("POST", "/channels", map[string]any{"pg": "iamport", "mid": "up", "default": true,
			"imp_key": up.Cred.ImpKey, "imp_secret": up.Cred.ImpSecret, "api_url": up.Server.URL})
		c.ok("POST", "/subscribe/customers/c1", map[string]any{"card_number": sim.CardLostResponse, "expiry": "2030-12", "birth": "800101"})
		first := c.ok("POST", "/subscribe/payments/again", map[string]any{"customer_uid": "c1", "merchant_uid": "lost-1", "amount": 1000})
		if first["status"] != "ready" {
			t.Fatalf("lost answer: %v", first)
		}
		// Our reconciler asks before the upstream knows: still unknown.
		e.Clock.Advance(time.Minute)
		if _, err := e.App.Service.Reconcile(ctx); err != nil {
			t.Fatal(err)
		}
		if p := c.ok("GET", "/payments/find/lost-1", nil); p["status"] != "ready" {
			t.Fatalf("resolved before the upstream knew: %v", p)
		}
		up.Clock.Advance(time.Minute)
		if _, err := up.App.Service.Reconcile(ctx); err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(10 * time.Minute)
		if _, err := e.App.Service.Reconcile(ctx); err != nil {
			t.Fatal(err)
		}
		c.token = e.Token(e.Cred)
		if p := c.ok("GET", "/payments/find/lost-1", nil); p["status"] != "paid" {
			t.Fatalf("after both reconcilers: %v", p)
		}
		if n := up.App.Sim.ChargeCount(false); n != 1 {
			t.Fatalf("upstream PG ledger: %d charges", n)
		}
	})
}

// An upstream notification (notice_url) is verified by looking the payment
// up at the upstream, then makes the attempt due for the reconciler; a
// forged one changes nothing.
func TestUpstreamNoticeFeedsTheReconciler(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, testenv.SQLite(t))
	up := apptest.New(t, testenv.SQLite(t))
	ctx := context.Background()
	c := &v1{t: t, e: e, token: e.Token(e.Cred)}
	c.ok("POST", "/channels", map[string]any{"pg": "iamport", "mid": "up", "default": true,
		"imp_key": up.Cred.ImpKey, "imp_secret": up.Cred.ImpSecret, "api_url": up.Server.URL})
	c.ok("POST", "/subscribe/customers/c1", map[string]any{"card_number": sim.CardLostResponse, "expiry": "2030-12", "birth": "800101"})
	first := c.ok("POST", "/subscribe/payments/again", map[string]any{"customer_uid": "c1", "merchant_uid": "notice-1", "amount": 1000})
	if first["status"] != "ready" {
		t.Fatalf("lost answer: %v", first)
	}
	e.Clock.Advance(time.Minute)
	if _, err := e.App.Service.Reconcile(ctx); err != nil { // not known upstream yet: next check pushed out
		t.Fatal(err)
	}
	up.Clock.Advance(time.Minute)
	if _, err := up.App.Service.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	var upPay struct {
		Response struct {
			ImpUID string `json:"imp_uid"`
		} `json:"response"`
	}
	up.Do("GET", "/payments/find/bk-"+first["imp_uid"].(string), up.Token(up.Cred), nil, &upPay)

	notify := func(impUID string) int {
		body := strings.NewReader(`{"imp_uid":"` + impUID + `","merchant_uid":"x","status":"paid"}`)
		resp, err := http.Post(e.Server.URL+"/pg/iamport/notice/"+e.Merchant.Code+"/up", "application/json", body)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := notify("imp_000000000000"); st != http.StatusBadRequest {
		t.Fatalf("forged notice: HTTP %d", st)
	}
	if st := notify(upPay.Response.ImpUID); st != http.StatusOK {
		t.Fatalf("notice: HTTP %d", st)
	}
	// Due now: one pass at the same instant settles it.
	if _, err := e.App.Service.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	c.token = e.Token(e.Cred)
	if p := c.ok("GET", "/payments/find/notice-1", nil); p["status"] != "paid" {
		t.Fatalf("after the notice: %v", p)
	}
}
