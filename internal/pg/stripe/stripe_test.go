package stripe_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/pg/stripe"
	"github.com/billkey/billkey/internal/pg/stripe/stripetest"
)

var target = pg.Target{Provider: stripe.Provider, MID: "acct_test", Sandbox: true}

func setup(t *testing.T, timeout time.Duration) (*stripetest.Server, *stripe.Client) {
	t.Helper()
	srv := stripetest.Start(t)
	c, err := stripe.New(stripe.Config{SecretKey: "sk_test_123", BaseURL: srv.URL, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func card(n string) pg.Card { return pg.Card{Number: n, Expiry: "2030-12", CVC: "123"} }

func issue(t *testing.T, c *stripe.Client, key, number string) string {
	t.Helper()
	res, err := c.IssueBillingKey(context.Background(), pg.IssueKeyRequest{Target: target, IdempotencyKey: key, CustomerUID: "user_1", Card: card(number)})
	if err != nil {
		t.Fatalf("issue %s: %v", number, err)
	}
	return res.BillingKey
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, 0)
	ctx := context.Background()
	issued, err := c.IssueBillingKey(ctx, pg.IssueKeyRequest{Target: target, IdempotencyKey: "bk_1", CustomerUID: "user_1", Card: card("4242424242424242")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(issued.BillingKey, "cus_") || issued.Card.CardName != "VISA" || issued.Card.CardNumber != "424242******4242" {
		t.Fatalf("issued: %+v", issued)
	}
	again, err := c.IssueBillingKey(ctx, pg.IssueKeyRequest{Target: target, IdempotencyKey: "bk_1", CustomerUID: "user_1", Card: card("4242424242424242")})
	if err != nil || again.BillingKey != issued.BillingKey {
		t.Fatalf("repeated issuance must replay: %+v %v", again, err)
	}
	req := pg.ChargeRequest{Target: target, IdempotencyKey: "imp_1", BillingKey: issued.BillingKey, Amount: 1999, Currency: "USD", OrderName: "Monthly"}
	res, err := c.Charge(ctx, req)
	if err != nil || res.Status != pg.ChargeApproved || !strings.HasPrefix(res.PGTID, "pi_") || res.ApplyNum == "" {
		t.Fatalf("charge: %+v %v", res, err)
	}
	if rep, err := c.Charge(ctx, req); err != nil || rep.PGTID != res.PGTID {
		t.Fatalf("repeat: %+v %v", rep, err)
	}
	if n := srv.Succeeded(); n != 1 {
		t.Fatalf("%d succeeded intents after a repeat", n)
	}
	got, err := c.LookupCharge(ctx, target, "imp_1")
	if err != nil || got.Status != pg.ChargeApproved || got.PGTID != res.PGTID || got.Amount != 1999 {
		t.Fatalf("lookup: %+v %v", got, err)
	}
	r1, err := c.Cancel(ctx, pg.CancelRequest{Target: target, ChargeKey: "imp_1", IdempotencyKey: "cx_1", Amount: 500, Reason: "partial"})
	if err != nil || !strings.HasPrefix(r1.PGTID, "re_") {
		t.Fatalf("partial refund: %+v %v", r1, err)
	}
	if r, err := c.Cancel(ctx, pg.CancelRequest{Target: target, ChargeKey: "imp_1", IdempotencyKey: "cx_1", Amount: 500, Reason: "partial"}); err != nil || r.PGTID != r1.PGTID {
		t.Fatalf("repeated refund must replay: %+v %v", r, err)
	}
	if r, err := c.LookupCancel(ctx, target, "imp_1", "cx_1"); err != nil || r.PGTID != r1.PGTID {
		t.Fatalf("lookup refund: %+v %v", r, err)
	}
	if _, err := c.LookupCancel(ctx, target, "imp_1", "cx_never"); !errors.Is(err, pg.ErrNoSuchCharge) {
		t.Fatalf("lookup of a refund never made: %v", err)
	}
	_, err = c.Cancel(ctx, pg.CancelRequest{Target: target, ChargeKey: "imp_1", IdempotencyKey: "cx_2", Amount: 5000})
	var pe *pg.Error
	if !errors.As(err, &pe) || pe.Code != "amount_too_large" || !strings.Contains(pe.Message, "greater than unrefunded") {
		t.Fatalf("over-refund: %v", err)
	}
	if _, err := c.Cancel(ctx, pg.CancelRequest{Target: target, ChargeKey: "imp_1", IdempotencyKey: "cx_3"}); err != nil {
		t.Fatalf("refund the rest: %v", err)
	}
	if got, err := c.LookupCharge(ctx, target, "imp_1"); err != nil || got.Cancelled != 1999 {
		t.Fatalf("lookup after refunds: %+v %v", got, err)
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

func TestTokenAndKeyInCharge(t *testing.T) {
	t.Parallel()
	_, c := setup(t, 0)
	ctx := context.Background()
	bk := issue(t, c, "bk_tok", "tok_visa")
	if res, err := c.Charge(ctx, pg.ChargeRequest{Target: target, IdempotencyKey: "imp_tok", BillingKey: bk, Amount: 1000, Currency: "KRW"}); err != nil || res.Status != pg.ChargeApproved {
		t.Fatalf("token key: %+v %v", res, err)
	}
	cd := card("4242424242424242")
	if res, err := c.Charge(ctx, pg.ChargeRequest{Target: target, IdempotencyKey: "imp_keyin", Card: &cd, Amount: 1000, Currency: "KRW"}); err != nil || res.Status != pg.ChargeApproved {
		t.Fatalf("key-in: %+v %v", res, err)
	}
}

func TestDeclines(t *testing.T) {
	t.Parallel()
	_, c := setup(t, 0)
	ctx := context.Background()
	for _, tc := range []struct {
		number, code string
		retryable    bool
	}{
		{"4000000000009995", "insufficient_funds", true},
		{"4000000000000341", "generic_decline", true},
	} {
		bk := issue(t, c, "bk_"+tc.number, tc.number)
		res, err := c.Charge(ctx, pg.ChargeRequest{Target: target, IdempotencyKey: "imp_" + tc.number, BillingKey: bk, Amount: 1000, Currency: "USD"})
		if err != nil || res.Status != pg.ChargeDeclined || res.DeclineCode != tc.code || res.Retryable != tc.retryable || !strings.HasPrefix(res.DeclineReason, "["+tc.code+"] Your card") {
			t.Errorf("%s: %+v %v", tc.number, res, err)
		}
		got, err := c.LookupCharge(ctx, target, "imp_"+tc.number)
		if err != nil || got.Status != pg.ChargeDeclined || got.DeclineCode != tc.code {
			t.Errorf("%s lookup: %+v %v", tc.number, got, err)
		}
	}
	var pe *pg.Error
	for number, code := range map[string]string{"4000000000000002": "generic_decline", "4000000000000069": "expired_card", "4242424242424241": "incorrect_number"} {
		_, err := c.IssueBillingKey(ctx, pg.IssueKeyRequest{Target: target, IdempotencyKey: "bk_" + number, Card: card(number)})
		if !errors.As(err, &pe) || pe.Code != code {
			t.Errorf("issue %s: %v, want %s", number, err, code)
		}
	}
}

// The stateful layer answers only what stripe-mock accepted: a request
// that breaks Stripe's spec gets stripe-mock's own error.
func TestStripeMockValidatesRequests(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t, 0)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/payment_intents", strings.NewReader("amount=ten&currency=usd"))
	req.SetBasicAuth("sk_test_123", "")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "invalid_request_error") {
		t.Fatalf("stripe-mock should refuse a non-integer amount: %d %s", resp.StatusCode, body)
	}
	if srv.Succeeded() != 0 {
		t.Fatal("a refused request left state behind")
	}
}

func TestLostAnswerIsResolvedByLookup(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, 0)
	ctx := context.Background()
	bk := issue(t, c, "bk_lost", "4000000000000259")
	req := pg.ChargeRequest{Target: target, IdempotencyKey: "imp_lost", BillingKey: bk, Amount: 700, Currency: "USD"}
	if _, err := c.Charge(ctx, req); !errors.Is(err, pg.ErrUnknownOutcome) {
		t.Fatalf("dropped answer: %v", err)
	}
	got, err := c.LookupCharge(ctx, target, "imp_lost")
	if err != nil || got.Status != pg.ChargeApproved {
		t.Fatalf("lookup: %+v %v", got, err)
	}
	if n := srv.Succeeded(); n != 1 {
		t.Fatalf("%d charges", n)
	}
}

func TestTimeoutAfterApproveIsFoundByLookup(t *testing.T) {
	t.Parallel()
	srv, patient := setup(t, 0)
	c, err := stripe.New(stripe.Config{SecretKey: "sk_test_123", BaseURL: srv.URL, Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Only the charge is meant to time out: set-up and look-up use a client
	// that waits, so a busy machine cannot fail them instead.
	bk := issue(t, patient, "bk_slow", "4242424242424242")
	srv.SetLatency(2 * time.Second)
	if _, err := c.Charge(ctx, pg.ChargeRequest{Target: target, IdempotencyKey: "imp_slow", BillingKey: bk, Amount: 300, Currency: "USD"}); !errors.Is(err, pg.ErrUnknownOutcome) {
		t.Fatalf("timeout: %v", err)
	}
	srv.SetLatency(0)
	got, err := patient.LookupCharge(ctx, target, "imp_slow")
	if err != nil || got.Status != pg.ChargeApproved {
		t.Fatalf("lookup after timeout: %+v %v", got, err)
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
	c, err := stripe.New(stripe.Config{SecretKey: "sk_test_123", BaseURL: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.Charge(context.Background(), pg.ChargeRequest{Target: target, IdempotencyKey: "imp_down", BillingKey: "cus_1:pm_1", Amount: 100, Currency: "USD"})
	var pe *pg.Error
	if !errors.As(err, &pe) || pe.Code != "NETWORK" {
		t.Fatalf("outage: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("outage took %v", d)
	}
	if _, err := c.LookupCharge(context.Background(), target, "imp_down"); !errors.Is(err, pg.ErrUnknownOutcome) {
		t.Fatalf("lookup during an outage: %v", err)
	}
}
