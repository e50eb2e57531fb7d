package iamport_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/pg/iamport"
	"github.com/billkey/billkey/internal/pg/sim"
	"github.com/billkey/billkey/internal/testenv"
)

var target = pg.Target{Provider: iamport.Provider, MID: "upstream"}

// upstream is a second Billkey acting as the merchant's PortOne V1 account:
// it is i'mport-compatible (proven by the npm clients), runs its own
// sandbox PG, and its simulator ledger is the ground truth.
func upstream(t *testing.T, timeout time.Duration) (*apptest.Env, *iamport.Client) {
	t.Helper()
	env := apptest.New(t, testenv.SQLite(t))
	c, err := iamport.New(iamport.Config{APIURL: env.Server.URL, ImpKey: env.Cred.ImpKey, ImpSecret: env.Cred.ImpSecret, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return env, c
}

func card(n string) pg.Card {
	return pg.Card{Number: n, Expiry: "2030-12", Birth: "800101", Pwd2Digit: "12"}
}

func issue(t *testing.T, c *iamport.Client, key, number string) string {
	t.Helper()
	res, err := c.IssueBillingKey(context.Background(), pg.IssueKeyRequest{Target: target, IdempotencyKey: key, CustomerUID: "user 1", Card: card(number)})
	if err != nil {
		t.Fatalf("issue %s: %v", number, err)
	}
	return res.BillingKey
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	env, c := upstream(t, 0)
	ctx := context.Background()
	issued, err := c.IssueBillingKey(ctx, pg.IssueKeyRequest{Target: target, IdempotencyKey: "bk_1", Card: card(sim.CardApprove)})
	if err != nil {
		t.Fatal(err)
	}
	if issued.Card.CardName != "신한카드" || issued.Card.CardNumber != "424242******4242" {
		t.Fatalf("card info: %+v", issued.Card)
	}
	req := pg.ChargeRequest{Target: target, IdempotencyKey: "imp_100000000001", BillingKey: issued.BillingKey, Amount: 8900, Currency: "KRW", OrderName: "월간 이용권"}
	res, err := c.Charge(ctx, req)
	if err != nil || res.Status != pg.ChargeApproved || res.PGTID == "" {
		t.Fatalf("charge: %+v %v", res, err)
	}
	// A repeat is refused upstream as a duplicate order: unknown, then
	// resolved by lookup — never a second charge.
	if _, err := c.Charge(ctx, req); !errors.Is(err, pg.ErrUnknownOutcome) {
		t.Fatalf("repeat: %v", err)
	}
	if n := env.App.Sim.ChargeCount(false); n != 1 {
		t.Fatalf("upstream PG ledger has %d charges", n)
	}
	got, err := c.LookupCharge(ctx, target, req.IdempotencyKey)
	if err != nil || got.Status != pg.ChargeApproved || got.PGTID != res.PGTID || got.Amount != 8900 {
		t.Fatalf("lookup: %+v %v", got, err)
	}
	c1, err := c.Cancel(ctx, pg.CancelRequest{Target: target, ChargeKey: req.IdempotencyKey, IdempotencyKey: "cx_1", Amount: 3000, Reason: "부분 환불"})
	if err != nil {
		t.Fatalf("partial cancel: %v", err)
	}
	if again, err := c.Cancel(ctx, pg.CancelRequest{Target: target, ChargeKey: req.IdempotencyKey, IdempotencyKey: "cx_1", Amount: 3000, Reason: "부분 환불"}); err != nil || again.PGTID != c1.PGTID {
		t.Fatalf("repeated cancel must not refund twice: %+v %v", again, err)
	}
	if lc, err := c.LookupCancel(ctx, target, req.IdempotencyKey, "cx_1"); err != nil || lc.PGTID != c1.PGTID {
		t.Fatalf("lookup cancel: %+v %v", lc, err)
	}
	if _, err := c.LookupCancel(ctx, target, req.IdempotencyKey, "cx_never"); !errors.Is(err, pg.ErrNoSuchCharge) {
		t.Fatalf("lookup of a refund never made: %v", err)
	}
	_, err = c.Cancel(ctx, pg.CancelRequest{Target: target, ChargeKey: req.IdempotencyKey, IdempotencyKey: "cx_2", Amount: 9000})
	var pe *pg.Error
	if !errors.As(err, &pe) || pe.Message == "" {
		t.Fatalf("over-refund must be the upstream's refusal: %v", err)
	}
	if _, err := c.Cancel(ctx, pg.CancelRequest{Target: target, ChargeKey: req.IdempotencyKey, IdempotencyKey: "cx_3"}); err != nil {
		t.Fatalf("refund the rest: %v", err)
	}
	if got, err := c.LookupCharge(ctx, target, req.IdempotencyKey); err != nil || got.Cancelled != 8900 {
		t.Fatalf("after refunds: %+v %v", got, err)
	}
	if _, err := c.LookupCharge(ctx, target, "imp_never"); !errors.Is(err, pg.ErrNoSuchCharge) {
		t.Fatalf("lookup of a charge never made: %v", err)
	}
	if err := c.DeleteBillingKey(ctx, target, issued.BillingKey); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteBillingKey(ctx, target, issued.BillingKey); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
}

func TestDeclinesKeepUpstreamText(t *testing.T) {
	t.Parallel()
	_, c := upstream(t, 0)
	ctx := context.Background()
	res, err := c.Charge(ctx, pg.ChargeRequest{Target: target, IdempotencyKey: "imp_poor", BillingKey: issue(t, c, "bk_poor", sim.CardBillingDeclines), Amount: 1000})
	if err != nil || res.Status != pg.ChargeDeclined || !strings.Contains(res.DeclineReason, "거래거절") || !res.Retryable {
		t.Fatalf("declined: %+v %v", res, err)
	}
	_, err = c.IssueBillingKey(ctx, pg.IssueKeyRequest{Target: target, IdempotencyKey: "bk_bad", Card: card("4242424242424241")})
	var pe *pg.Error
	if !errors.As(err, &pe) || !strings.Contains(pe.Message, "카드번호틀림") {
		t.Fatalf("invalid card must carry the upstream's text: %v", err)
	}
	kin := card(sim.CardApprove)
	if res, err := c.Charge(ctx, pg.ChargeRequest{Target: target, IdempotencyKey: "imp_keyin", Card: &kin, Amount: 1000}); err != nil || res.Status != pg.ChargeApproved {
		t.Fatalf("key-in: %+v %v", res, err)
	}
}

func TestTimeoutAfterApproveIsFoundByLookup(t *testing.T) {
	t.Parallel()
	env, patient := upstream(t, 0)
	c, err := iamport.New(iamport.Config{APIURL: env.Server.URL, ImpKey: env.Cred.ImpKey, ImpSecret: env.Cred.ImpSecret, Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Only the charge is meant to time out: issue the key with a client that
	// waits, so a busy machine cannot fail the set-up instead.
	bk := issue(t, patient, "bk_slow", sim.CardApprove)
	env.App.Sim.SetConfig(sim.Config{Latency: 400 * time.Millisecond})
	req := pg.ChargeRequest{Target: target, IdempotencyKey: "imp_slow", BillingKey: bk, Amount: 3000}
	if _, err := c.Charge(ctx, req); !errors.Is(err, pg.ErrUnknownOutcome) {
		t.Fatalf("timeout: %v", err)
	}
	env.App.Sim.SetConfig(sim.Config{})
	// Our request was abandoned after the upstream's PG approved. Until
	// the upstream settles it, a lookup says "not known yet" — never "not
	// charged"; once its own reconciler has run, the lookup finds the charge.
	for env.App.Sim.ChargeCount(true) < 1 {
		time.Sleep(5 * time.Millisecond)
	}
	if got, err := c.LookupCharge(ctx, target, req.IdempotencyKey); err == nil && got.Status != pg.ChargeApproved || errors.Is(err, pg.ErrNoSuchCharge) {
		t.Fatalf("lookup before the upstream settled: %+v %v", got, err)
	}
	env.Clock.Advance(time.Minute)
	if _, err := env.App.Service.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := c.LookupCharge(ctx, target, req.IdempotencyKey)
	if err != nil || got.Status != pg.ChargeApproved {
		t.Fatalf("lookup after timeout: %+v %v", got, err)
	}
	if n := env.App.Sim.ChargeCount(false); n != 1 {
		t.Fatalf("upstream ledger: %d", n)
	}
}

func TestTokenIsReusedAndRenewed(t *testing.T) {
	t.Parallel()
	env, _ := upstream(t, 0)
	now := time.Now()
	clock := func() time.Time { return now }
	c, err := iamport.New(iamport.Config{APIURL: env.Server.URL, ImpKey: env.Cred.ImpKey, ImpSecret: env.Cred.ImpSecret, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 3 {
		if _, err := c.LookupCharge(ctx, target, "imp_none"); !errors.Is(err, pg.ErrNoSuchCharge) {
			t.Fatalf("lookup %d: %v", i, err)
		}
	}
	// Past our renewal point the client asks again and keeps working.
	now = now.Add(29*time.Minute + 30*time.Second)
	if _, err := c.LookupCharge(ctx, target, "imp_none"); !errors.Is(err, pg.ErrNoSuchCharge) {
		t.Fatalf("after renewal: %v", err)
	}
	bad, err := iamport.New(iamport.Config{APIURL: env.Server.URL, ImpKey: env.Cred.ImpKey, ImpSecret: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Charge(ctx, pg.ChargeRequest{Target: target, IdempotencyKey: "imp_x", BillingKey: "bk", Amount: 100})
	var pe *pg.Error
	if !errors.As(err, &pe) || pe.Code != "UNAUTHORIZED" {
		t.Fatalf("bad secret: %v", err)
	}
}

func TestOutageAnswersQuickly(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := iamport.New(iamport.Config{APIURL: "http://" + addr, ImpKey: "k", ImpSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.Charge(context.Background(), pg.ChargeRequest{Target: target, IdempotencyKey: "imp_down", BillingKey: "bk", Amount: 100})
	var pe *pg.Error
	if !errors.As(err, &pe) || pe.Code != "NETWORK" {
		t.Fatalf("outage: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("outage took %v", d)
	}
}

func TestMerchantUIDRoundTrip(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"imp_123456789012", strings.Repeat("k", 60), "with space"} {
		uid := iamport.MerchantUID(key)
		if len(uid) > 40 || uid != iamport.MerchantUID(key) {
			t.Errorf("MerchantUID(%q) = %q", key, uid)
		}
		if back, ok := iamport.IdempotencyKeyOf(uid); ok && back != key {
			t.Errorf("round trip %q → %q → %q", key, uid, back)
		}
	}
	if back, ok := iamport.IdempotencyKeyOf("bk-imp_123456789012"); !ok || back != "imp_123456789012" {
		t.Error("verbatim keys must round-trip")
	}
}

// An upstream Billkey fails an attempt our request never got to its PG
// (we were killed mid-call); a lookup must read that as no charge, so the
// reconciler runs the work again, while a real refusal stays a decline.
func TestUpstreamNeverReachedIsNoCharge(t *testing.T) {
	t.Parallel()
	reasons := map[string]string{
		iamport.MerchantUID("imp_cut"):     pg.NeverReachedReason,
		iamport.MerchantUID("imp_refused"): "[8001] 한도초과 혹은 잔액부족",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var resp any = map[string]any{"access_token": "tok", "now": 1, "expired_at": 1801}
		if mu, ok := strings.CutPrefix(r.URL.Path, "/payments/find/"); ok {
			resp = map[string]any{"imp_uid": "imp_up_" + mu, "merchant_uid": mu, "status": "failed", "amount": 1000, "fail_reason": reasons[mu]}
		}
		json.NewEncoder(w).Encode(map[string]any{"code": 0, "message": nil, "response": resp})
	}))
	t.Cleanup(srv.Close)
	c, err := iamport.New(iamport.Config{APIURL: srv.URL, ImpKey: "k", ImpSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if got, err := c.LookupCharge(ctx, target, "imp_cut"); !errors.Is(err, pg.ErrNoSuchCharge) {
		t.Fatalf("never reached upstream: %+v %v, want no such charge", got, err)
	}
	got, err := c.LookupCharge(ctx, target, "imp_refused")
	if err != nil || got.Status != pg.ChargeDeclined || !strings.Contains(got.DeclineReason, "한도초과") {
		t.Fatalf("refused upstream: %+v %v, want a decline", got, err)
	}
}
