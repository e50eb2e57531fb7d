package tosspayments_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/pg/sim"
	"github.com/billkey/billkey/internal/pg/tosspayments"
)

const secret = "test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R"

type bundle struct {
	sim    *sim.Server
	client *tosspayments.Client
	base   string
}

func setup(t *testing.T, cfg sim.Config, timeout time.Duration, tr http.RoundTripper) *bundle {
	t.Helper()
	s := sim.New(cfg)
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	base := hs.URL + sim.TossPrefix
	c, err := tosspayments.New(tosspayments.Config{BaseURL: base, SecretKey: secret, Timeout: timeout, Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{sim: s, client: c, base: base}
}

var target = pg.Target{Provider: tosspayments.Provider, MID: "tbk", Sandbox: true}

func card(number string) pg.Card {
	return pg.Card{Number: number, Expiry: "2030-12", Birth: "881212", Pwd2Digit: "12"}
}

func (b *bundle) issue(t *testing.T, number string) string {
	t.Helper()
	res, err := b.client.IssueBillingKey(context.Background(), pg.IssueKeyRequest{Target: target, IdempotencyKey: "bk_" + number, CustomerUID: "user 42/card", Card: card(number)})
	if err != nil {
		t.Fatal(err)
	}
	return res.BillingKey
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{}, 0, nil)
	ctx := context.Background()
	issued, err := b.client.IssueBillingKey(ctx, pg.IssueKeyRequest{Target: target, IdempotencyKey: "bk_1", CustomerUID: "고객 1", Card: card(sim.CardApprove)})
	if err != nil {
		t.Fatal(err)
	}
	if issued.Card.CardName != "신한카드" || issued.Card.CardCode != "366" || !strings.Contains(issued.Card.CardNumber, "****") {
		t.Fatalf("card info: %+v", issued.Card)
	}
	req := pg.ChargeRequest{Target: target, IdempotencyKey: "imp_100000000001", BillingKey: issued.BillingKey, Amount: 10000, Currency: "KRW", OrderName: "월간 이용권"}
	res, err := b.client.Charge(ctx, req)
	if err != nil || res.Status != pg.ChargeApproved || res.PGTID == "" || res.ApplyNum == "" {
		t.Fatalf("charge: %+v %v", res, err)
	}
	again, err := b.client.Charge(ctx, req)
	if err != nil || again.PGTID != res.PGTID {
		t.Fatalf("repeat must replay the first charge: %+v %v", again, err)
	}
	if n := b.sim.ChargeCount(false); n != 1 {
		t.Fatalf("ledger has %d charges after a repeat", n)
	}
	c1, err := b.client.Cancel(ctx, pg.CancelRequest{Target: target, ChargeKey: req.IdempotencyKey, IdempotencyKey: "cx_1", Amount: 3000, Reason: "부분 환불"})
	if err != nil || c1.PGTID == "" {
		t.Fatalf("partial cancel: %+v %v", c1, err)
	}
	if c, err := b.client.Cancel(ctx, pg.CancelRequest{Target: target, ChargeKey: req.IdempotencyKey, IdempotencyKey: "cx_1", Amount: 3000, Reason: "부분 환불"}); err != nil || c.PGTID != c1.PGTID {
		t.Fatalf("repeated cancel must replay: %+v %v", c, err)
	}
	found, err := b.client.LookupCancel(ctx, target, req.IdempotencyKey, "cx_1")
	if err != nil || found.PGTID != c1.PGTID {
		t.Fatalf("lookup cancel: %+v %v", found, err)
	}
	if _, err := b.client.LookupCancel(ctx, target, req.IdempotencyKey, "cx_never"); !errors.Is(err, pg.ErrNoSuchCharge) {
		t.Fatalf("lookup of a refund never made: %v", err)
	}
	_, err = b.client.Cancel(ctx, pg.CancelRequest{Target: target, ChargeKey: req.IdempotencyKey, IdempotencyKey: "cx_2", Amount: 9000})
	var pe *pg.Error
	if !errors.As(err, &pe) || pe.Code != "NOT_CANCELABLE_AMOUNT" {
		t.Fatalf("over-refund: %v", err)
	}
	if _, err := b.client.Cancel(ctx, pg.CancelRequest{Target: target, ChargeKey: req.IdempotencyKey, IdempotencyKey: "cx_3"}); err != nil {
		t.Fatalf("refund the rest: %v", err)
	}
	got, err := b.client.LookupCharge(ctx, target, req.IdempotencyKey)
	if err != nil || got.Status != pg.ChargeApproved || got.Cancelled != 10000 || got.PGTID != res.PGTID {
		t.Fatalf("lookup after refunds: %+v %v", got, err)
	}
	if err := b.client.DeleteBillingKey(ctx, target, issued.BillingKey); err != nil {
		t.Fatal(err)
	}
	if err := b.client.DeleteBillingKey(ctx, target, issued.BillingKey); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	res, err = b.client.Charge(ctx, pg.ChargeRequest{Target: target, IdempotencyKey: "imp_100000000002", BillingKey: issued.BillingKey, Amount: 1000})
	if err != nil || res.Status != pg.ChargeDeclined || res.Retryable || res.DeclineCode != "ALREADY_REMOVED_BILLING_KEY" {
		t.Fatalf("charge of a removed key: %+v %v", res, err)
	}
	if _, err := b.client.LookupCharge(ctx, target, "imp_never"); !errors.Is(err, pg.ErrNoSuchCharge) {
		t.Fatalf("lookup of a charge never made: %v", err)
	}
}

func TestKeyInChargeWithoutStoredKey(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{}, 0, nil)
	c := card(sim.CardApprove)
	res, err := b.client.Charge(context.Background(), pg.ChargeRequest{Target: target, IdempotencyKey: "imp_keyin_0001", Card: &c, Amount: 5000})
	if err != nil || res.Status != pg.ChargeApproved {
		t.Fatalf("key-in: %+v %v", res, err)
	}
	bad := card(sim.CardDecline)
	res, err = b.client.Charge(context.Background(), pg.ChargeRequest{Target: target, IdempotencyKey: "imp_keyin_0002", Card: &bad, Amount: 5000})
	if err != nil || res.Status != pg.ChargeDeclined || res.DeclineCode != "INVALID_REJECT_CARD" {
		t.Fatalf("key-in of a refused card: %+v %v", res, err)
	}
}

func TestDeclinesKeepTossTextAndSoftness(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{}, 0, nil)
	ctx := context.Background()
	for _, tc := range []struct {
		card, code string
		retryable  bool
	}{
		{sim.CardInsufficient, "REJECT_CARD_PAYMENT", true},
		{sim.CardBillingDeclines, "REJECT_CARD_COMPANY", true},
	} {
		res, err := b.client.Charge(ctx, pg.ChargeRequest{Target: target, IdempotencyKey: "imp_" + tc.card, BillingKey: b.issue(t, tc.card), Amount: 1000})
		if err != nil || res.Status != pg.ChargeDeclined || res.DeclineCode != tc.code || res.Retryable != tc.retryable ||
			!strings.HasPrefix(res.DeclineReason, "["+tc.code+"] ") {
			t.Errorf("%s: %+v %v", tc.card, res, err)
		}
		got, err := b.client.LookupCharge(ctx, target, "imp_"+tc.card)
		if err != nil || got.Status != pg.ChargeDeclined || got.DeclineCode != tc.code {
			t.Errorf("%s lookup: %+v %v", tc.card, got, err)
		}
	}
	_, err := b.client.IssueBillingKey(ctx, pg.IssueKeyRequest{Target: target, IdempotencyKey: "bk_x", Card: card(sim.CardExpired)})
	var pe *pg.Error
	if !errors.As(err, &pe) || pe.Code != "INVALID_CARD_EXPIRATION" {
		t.Fatalf("expired card at issuance: %v", err)
	}
	res, err := b.client.Charge(ctx, pg.ChargeRequest{Target: target, IdempotencyKey: "imp_usd", BillingKey: b.issue(t, sim.CardApprove), Amount: 10, Currency: "USD"})
	if !errors.As(err, &pe) || !pe.Unsupported {
		t.Fatalf("USD on Toss: %+v %v", res, err)
	}
}

// testCode makes the emulator answer with a documented error, as Toss's
// TossPayments-Test-Code header does on test keys.
type testCode struct{ code string }

func (tc testCode) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/v1/billing/") && !strings.Contains(r.URL.Path, "authorizations") {
		r.Header.Set("TossPayments-Test-Code", tc.code)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestErrorCodesMapToOutcomes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code string
		want string // declined-soft, declined-hard, refused, unknown
	}{
		{"REJECT_CARD_PAYMENT", "declined-soft"},
		{"PROVIDER_ERROR", "declined-soft"},
		{"INVALID_STOPPED_CARD", "declined-hard"},
		{"INVALID_BILL_KEY_REQUEST", "declined-hard"},
		{"NOT_MATCHES_CUSTOMER_KEY", "refused"},
		{"UNAUTHORIZED_KEY", "refused"},
		{"INVALID_REQUEST", "refused"},
		{"IDEMPOTENT_REQUEST_PROCESSING", "unknown"},
		{"DUPLICATED_ORDER_ID", "unknown"},
		{"FAILED_INTERNAL_SYSTEM_PROCESSING", "unknown"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			t.Parallel()
			plain := setup(t, sim.Config{}, 0, nil)
			key := plain.issue(t, sim.CardApprove)
			c, err := tosspayments.New(tosspayments.Config{BaseURL: plain.base, SecretKey: secret, Transport: testCode{tc.code}})
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.Charge(context.Background(), pg.ChargeRequest{Target: target, IdempotencyKey: "imp_code_0001", BillingKey: key, Amount: 1000})
			var pe *pg.Error
			got := "?"
			switch {
			case err == nil && res.Status == pg.ChargeDeclined && res.Retryable:
				got = "declined-soft"
			case err == nil && res.Status == pg.ChargeDeclined:
				got = "declined-hard"
			case errors.As(err, &pe):
				got = "refused"
				if !strings.Contains(pe.Message, tc.code) {
					t.Errorf("refusal lost Toss's code: %q", pe.Message)
				}
			case errors.Is(err, pg.ErrUnknownOutcome):
				got = "unknown"
			}
			if got != tc.want {
				t.Fatalf("%s → %s (%+v, %v), want %s", tc.code, got, res, err, tc.want)
			}
		})
	}
}

func TestLostAnswerIsResolvedByLookup(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{}, 0, nil)
	ctx := context.Background()
	req := pg.ChargeRequest{Target: target, IdempotencyKey: "imp_lost_000001", BillingKey: b.issue(t, sim.CardLostResponse), Amount: 7000}
	if _, err := b.client.Charge(ctx, req); !errors.Is(err, pg.ErrUnknownOutcome) {
		t.Fatalf("dropped answer: %v", err)
	}
	got, err := b.client.LookupCharge(ctx, target, req.IdempotencyKey)
	if err != nil || got.Status != pg.ChargeApproved || got.Amount != 7000 {
		t.Fatalf("lookup after a lost answer: %+v %v", got, err)
	}
	if _, err := b.client.Charge(ctx, req); !errors.Is(err, pg.ErrUnknownOutcome) {
		t.Fatalf("repeat: %v", err)
	}
	if n := b.sim.ChargeCount(false); n != 1 {
		t.Fatalf("ledger has %d charges", n)
	}
}

func TestTimeoutAfterApproveIsFoundByLookup(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{}, 0, nil)
	key := b.issue(t, sim.CardApprove)
	b.sim.SetConfig(sim.Config{Latency: 2 * time.Second})
	c, err := tosspayments.New(tosspayments.Config{BaseURL: b.base, SecretKey: secret, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	req := pg.ChargeRequest{Target: target, IdempotencyKey: "imp_slow_000001", BillingKey: key, Amount: 3000}
	if _, err := c.Charge(ctx, req); !errors.Is(err, pg.ErrUnknownOutcome) {
		t.Fatalf("timeout: %v", err)
	}
	b.sim.SetConfig(sim.Config{})
	got, err := c.LookupCharge(ctx, target, req.IdempotencyKey)
	if err != nil || got.Status != pg.ChargeApproved {
		t.Fatalf("lookup after timeout: %+v %v", got, err)
	}
}

func TestPGErrorIsUnknownUntilLookupFindsNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{}, 0, nil)
	ctx := context.Background()
	_, err := b.client.IssueBillingKey(ctx, pg.IssueKeyRequest{Target: target, IdempotencyKey: "bk_err", Card: card(sim.CardPGError)})
	var pe *pg.Error
	if !errors.As(err, &pe) || pe.Code != "COMMON_ERROR" {
		t.Fatalf("issuance 500: %v", err)
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
	c, err := tosspayments.New(tosspayments.Config{BaseURL: "http://" + addr, SecretKey: secret})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.Charge(context.Background(), pg.ChargeRequest{Target: target, IdempotencyKey: "imp_down_000001", BillingKey: "ck:bk", Amount: 1000})
	var pe *pg.Error
	if !errors.As(err, &pe) || pe.Code != "NETWORK" || !strings.Contains(pe.Message, "연결할 수 없습니다") {
		t.Fatalf("outage: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("outage took %v to report", d)
	}
	if _, err := c.LookupCharge(context.Background(), target, "imp_down_000001"); !errors.Is(err, pg.ErrUnknownOutcome) {
		t.Fatalf("lookup during an outage must not say 'never charged': %v", err)
	}
}

func TestOrderIDIsStableAndValid(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"imp_123456789012", "short", "한글 주문/번호", strings.Repeat("x", 80)} {
		id := tosspayments.OrderID(key)
		if id != tosspayments.OrderID(key) || len(id) < 6 || len(id) > 64 || strings.ContainsAny(id, " /.") {
			t.Errorf("OrderID(%q) = %q", key, id)
		}
	}
	if _, err := tosspayments.New(tosspayments.Config{SecretKey: "test_sk_x:"}); err == nil {
		t.Error("a key with a colon must be refused")
	}
}
