package scheduler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/pg/sim"
	"github.com/billkey/billkey/internal/scheduler"
	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/testenv"
)

const (
	cardOK        = "4242-4242-4242-4242"
	cardDecline   = "4000-0000-0000-0002"
	cardLaterDecl = "4000-0000-0000-0341"
	cardLost      = "4000-0000-0000-0259"
	cardPGError   = "4000-0000-0000-0119"
)

// env is one Billkey on one backend with a token, driven over HTTP.
type env struct {
	*apptest.Env
	t     *testing.T
	token string
}

func newEnv(t *testing.T, b testenv.Backend) *env {
	t.Helper()
	e := apptest.New(t, b)
	return &env{Env: e, t: t, token: e.Token(e.Cred)}
}

// envelope is the V1 answer with the payload left raw.
type envelope struct {
	Status   int
	Code     int             `json:"code"`
	Message  *string         `json:"message"`
	Response json.RawMessage `json:"response"`
}

func (v envelope) msg() string {
	if v.Message == nil {
		return ""
	}
	return *v.Message
}

// call sends body as JSON (any value), as a form (a string not starting
// with "{"), or nothing (nil).
func (e *env) call(method, path string, body any) envelope {
	e.t.Helper()
	var r io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
		ctype = "application/x-www-form-urlencoded"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(raw)
		ctype = "application/json"
	}
	req, err := http.NewRequest(method, e.Server.URL+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out envelope
	if err := json.Unmarshal(raw, &out); err != nil {
		e.t.Fatalf("%s %s: HTTP %d undecodable %q", method, path, res.StatusCode, raw)
	}
	out.Status = res.StatusCode
	return out
}

// ok calls and requires HTTP 200 code 0, decoding the response into out.
func (e *env) ok(method, path string, body, out any) {
	e.t.Helper()
	res := e.call(method, path, body)
	if res.Status != 200 || res.Code != 0 {
		e.t.Fatalf("%s %s: HTTP %d code %d %q", method, path, res.Status, res.Code, res.msg())
	}
	if out != nil {
		if err := json.Unmarshal(res.Response, out); err != nil {
			e.t.Fatalf("%s %s: response %s: %v", method, path, res.Response, err)
		}
	}
}

// fails requires the given HTTP status and code and a message containing want.
func (e *env) fails(method, path string, body any, status, code int, want string) {
	e.t.Helper()
	res := e.call(method, path, body)
	if res.Status != status || res.Code != code || !strings.Contains(res.msg(), want) || string(res.Response) != "null" {
		e.t.Fatalf("%s %s: got HTTP %d code %d %q response %s; want HTTP %d code %d containing %q",
			method, path, res.Status, res.Code, res.msg(), res.Response, status, code, want)
	}
}

// sched is a ScheduleResult as clients decode it; pointers tell null from "".
type sched struct {
	CustomerUID    *string `json:"customer_uid"`
	MerchantUID    string  `json:"merchant_uid"`
	ImpUID         *string `json:"imp_uid"`
	PGProvider     *string `json:"pg_provider"`
	ScheduleAt     int64   `json:"schedule_at"`
	ExecutedAt     int64   `json:"executed_at"`
	RevokedAt      int64   `json:"revoked_at"`
	Amount         float64 `json:"amount"`
	Currency       string  `json:"currency"`
	Name           *string `json:"name"`
	BuyerName      *string `json:"buyer_name"`
	CustomData     *string `json:"custom_data"`
	ScheduleStatus string  `json:"schedule_status"`
	PaymentStatus  *string `json:"payment_status"`
	FailReason     *string `json:"fail_reason"`
}

type paged struct {
	Total    int     `json:"total"`
	Previous int     `json:"previous"`
	Next     int     `json:"next"`
	List     []sched `json:"list"`
}

type payment struct {
	ImpUID           string  `json:"imp_uid"`
	MerchantUID      string  `json:"merchant_uid"`
	Status           string  `json:"status"`
	Amount           float64 `json:"amount"`
	BuyerName        *string `json:"buyer_name"`
	BuyerEmail       *string `json:"buyer_email"`
	CustomerUID      *string `json:"customer_uid"`
	CustomerUIDUsage *string `json:"customer_uid_usage"`
	CustomData       *string `json:"custom_data"`
	Channel          string  `json:"channel"`
	FailReason       *string `json:"fail_reason"`
}

// now is the test merchant's own sandbox time.
func (e *env) now() int64 { return e.Clock.NowFor(e.Merchant.ID).Unix() }

func (e *env) issue(uid, number string, buyer core.Buyer) {
	e.t.Helper()
	_, err := e.App.Service.IssueBillingKey(context.Background(), e.Merchant.ID, charge.IssueKeyInput{
		CustomerUID: uid, Card: pg.Card{Number: number, Expiry: "2030-12", Birth: "800101", Pwd2Digit: "12"}, Customer: buyer,
	})
	if err != nil {
		e.t.Fatalf("issue %s: %v", uid, err)
	}
}

// book schedules entries of (merchant_uid, seconds from now, amount).
func (e *env) book(customerUID string, entries ...entry) []sched {
	e.t.Helper()
	var list []map[string]any
	for _, en := range entries {
		list = append(list, map[string]any{"merchant_uid": en.mu, "schedule_at": e.now() + en.in, "amount": en.amount, "name": "월간 이용권"})
	}
	var out []sched
	e.ok("POST", "/subscribe/payments/schedule", map[string]any{"customer_uid": customerUID, "schedules": list}, &out)
	if len(out) != len(entries) {
		e.t.Fatalf("booked %d, want %d", len(out), len(entries))
	}
	return out
}

type entry struct {
	mu     string
	in     int64
	amount int64
}

func (e *env) get(mu string) sched {
	e.t.Helper()
	var s sched
	e.ok("GET", "/subscribe/payments/schedule/"+mu, nil, &s)
	return s
}

// advance moves the test clock through the sandbox endpoint, which runs
// everything due before answering.
func (e *env) advance(seconds int64) int {
	e.t.Helper()
	var out struct {
		Now      int64 `json:"now"`
		Executed int   `json:"executed"`
	}
	e.ok("POST", "/sandbox/clock/advance", map[string]any{"seconds": seconds}, &out)
	if out.Now != e.now() {
		e.t.Fatalf("clock answered now=%d, clock is at %d", out.Now, e.now())
	}
	// Tokens live 30 minutes of (test-clock) time, as clients expect.
	e.token = e.Token(e.Cred)
	return out.Executed
}

// approvedPerOrder counts approvals at the simulated PG per merchant_uid,
// mapping its idempotency keys (our imp_uids) through the store.
func (e *env) approvedPerOrder() map[string]int {
	e.t.Helper()
	return approvedPerOrder(e.t, e.App.Sim, e.App.Store, e.Merchant.ID)
}

func approvedPerOrder(t *testing.T, ps *sim.Server, st *store.Store, merchantID int64) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, c := range ps.Ledger() {
		if c.Status != pg.ChargeApproved {
			continue
		}
		p, err := st.GetPayment(context.Background(), merchantID, c.IdempotencyKey)
		if err != nil {
			t.Fatalf("ledger charge %s has no payment: %v", c.IdempotencyKey, err)
		}
		out[p.MerchantUID]++
	}
	return out
}

func newScheduler(e *env, workers int) *scheduler.Scheduler {
	return scheduler.New(e.App.Service, e.App.Store, scheduler.Config{Workers: workers, Batch: max(1, workers/2), Poll: 5 * time.Millisecond, Lease: time.Minute, Logger: e.App.Log})
}

func str(p *string) string {
	if p == nil {
		return "<null>"
	}
	return *p
}

func uids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return out
}

func againInput(customerUID, merchantUID string) charge.PayInput {
	return charge.PayInput{CustomerUID: customerUID, MerchantUID: merchantUID, Amount: 1000, Currency: "KRW"}
}

func simErrors(rate float64) sim.Config { return sim.Config{ErrorRate: rate} }
