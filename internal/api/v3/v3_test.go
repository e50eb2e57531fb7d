package v3_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/billkey/billkey/internal/api/v3/d24"
	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/subscription"
	"github.com/billkey/billkey/internal/testenv"
	"github.com/billkey/billkey/internal/testenv/browser"
)

// xDateSeq makes every X-Date unique on the frozen test clock: the server
// refuses a (login, X-Date, signature) it has seen before, and two
// empty-body requests signed in the same second have the same signature.
var xDateSeq atomic.Int64

// freshXDate is the client's (wall) clock plus a unique number of
// microseconds: X-Date is checked against the wall clock, never the sandbox
// test clock.
func freshXDate(e *apptest.Env) string {
	return e.Wall.Now().Add(time.Duration(xDateSeq.Add(1)) * time.Microsecond).UTC().Format("2006-01-02T15:04:05.000000Z")
}

// call sends a D24-signed request exactly as the D24 docs describe.
func call(t *testing.T, e *apptest.Env, method, path string, body any, hdr map[string]string) (int, map[string]any) {
	t.Helper()
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	req, _ := http.NewRequest(method, e.Server.URL+path, bytes.NewReader(raw))
	xDate := freshXDate(e)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Date", xDate)
	req.Header.Set("X-Login", e.Cred.XLogin)
	req.Header.Set("Authorization", d24.Sign(e.Cred.APISignature, xDate, e.Cred.XLogin, raw))
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: HTTP %d, body %q", method, path, resp.StatusCode, b)
	}
	if strings.Contains(string(b), "4242424242424242") {
		t.Fatalf("full card number in a response: %s", b)
	}
	return resp.StatusCode, out
}

func pciBody(invoice string) map[string]any {
	return map[string]any{
		"invoice_id": invoice, "amount": 19.90, "currency": "USD", "country": "US", "description": "Premium Subscription",
		"payer":        map[string]any{"id": "PAYER123", "document": 123456789, "email": "john@example.com", "first_name": "John", "last_name": "Smith"},
		"subscription": map[string]any{"start_date": apptest.Start.Format("2006-01-02"), "plan": "MONTHLY", "plan_unit": 3, "auto_renewal": false},
		"credit_card":  map[string]any{"holder_name": "John Smith", "card_number": "4242424242424242", "cvv": "123", "expiration_month": "12", "expiration_year": "30"},
	}
}

func num(v any) int64 { f, _ := v.(float64); return int64(f) }

func TestPCISubscriptionOverHTTP(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b)
		st, out := call(t, e, "POST", "/v3/subscriptions", pciBody("INV-1"), nil)
		id := num(out["subscription_id"])
		if st != 200 || id == 0 || len(out) != 1 {
			t.Fatalf("create: %d %v", st, out)
		}
		st, sub := call(t, e, "GET", fmt.Sprintf("/v3/subscriptions/%d", id), nil, nil)
		if st != 200 || sub["status"] != "ACTIVE" || sub["subscription_plan"] != "MONTHLY" || sub["amount"] != 19.9 ||
			sub["start_date"] != "2026-03-01" || sub["end_date"] != "2026-06-01" || sub["auto_renewal"] != false {
			t.Fatalf("get: %d %v", st, sub)
		}
		ds, _ := e.App.Store.Deposits(context.Background(), e.Merchant.ID, id)
		if len(ds) != 1 {
			t.Fatalf("%d deposits", len(ds))
		}
		st, dep := call(t, e, "GET", fmt.Sprintf("/v3/deposits/%d", ds[0].ID), nil, nil)
		detail, _ := dep["card_detail"].(map[string]any)
		if st != 200 || num(dep["deposit_id"]) != ds[0].ID || num(dep["subscription_id"]) != id || dep["status"] != "COMPLETED" ||
			dep["invoice_id"] != "INV-1" || dep["local_amount"] != 19.9 || dep["user_id"] != "PAYER123" || detail["masked_card"] != "4242 42** **** 4242" || detail["brand"] != "Visa" {
			t.Fatalf("deposit: %d %v", st, dep)
		}
		if st, out := call(t, e, "DELETE", fmt.Sprintf("/v3/subscriptions/%d", id), map[string]any{}, nil); st != 200 || len(out) != 0 {
			t.Fatalf("cancel: %d %v", st, out)
		}
		if st, out := call(t, e, "DELETE", fmt.Sprintf("/v3/subscriptions/%d", id), nil, nil); st != 421 || num(out["code"]) != 421 || out["type"] != "SUBSCRIPTION_ALREADY_CANCELLED" {
			t.Fatalf("second cancel: %d %v", st, out)
		}
		if st, out := call(t, e, "GET", "/v3/subscriptions/999999", nil, nil); st != 420 || out["type"] != "SUBSCRIPTION_NOT_FOUND" {
			t.Fatalf("unknown: %d %v", st, out)
		}
		if st, _ := call(t, e, "GET", "/v3/deposits/999999", nil, nil); st != 404 {
			t.Fatalf("unknown deposit: %d", st)
		}
	})
}

func TestSignedRequestErrors(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, testenv.SQLite(t))
	stale := e.Wall.Now().Add(-6 * time.Minute).UTC().Format(time.RFC3339)
	cases := []struct {
		name   string
		hdr    map[string]string
		status int
		code   int64
		typ    string
	}{
		{"no X-Login", map[string]string{"X-Login": ""}, 400, 101, "MISSING_REQUIRED_HEADER"},
		{"no Authorization", map[string]string{"Authorization": ""}, 400, 101, "MISSING_REQUIRED_HEADER"},
		{"unknown login", map[string]string{"X-Login": "nobody"}, 401, 100, "INVALID_CREDENTIALS"},
		{"bad signature", map[string]string{"Authorization": "D24 " + strings.Repeat("ab", 32)}, 400, 102, "INVALID_SIGNATURE"},
		{"stale X-Date", map[string]string{"X-Date": stale}, 400, 101, "MISSING_REQUIRED_HEADER"},
	}
	for _, c := range cases {
		st, out := call(t, e, "GET", "/v3/subscriptions/1", nil, c.hdr)
		if st != c.status || num(out["code"]) != c.code || out["type"] != c.typ {
			t.Errorf("%s: %d %v", c.name, st, out)
		}
	}
	// The X-Date with a fraction (the OpenAPI examples) is accepted too.
	frac := e.Wall.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	xLogin := e.Cred.XLogin
	req, _ := http.NewRequest("GET", e.Server.URL+"/v3/subscriptions/1", nil)
	req.Header.Set("X-Date", frac)
	req.Header.Set("X-Login", xLogin)
	req.Header.Set("Authorization", d24.Sign(e.Cred.APISignature, frac, xLogin, nil))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 420 {
		t.Fatalf("X-Date with fraction: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
}

func TestValidationAndCardErrors(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, testenv.SQLite(t))
	body := pciBody("INV-V")
	delete(body, "invoice_id")
	if st, out := call(t, e, "POST", "/v3/subscriptions", body, nil); st != 400 || num(out["code"]) != 400 || out["type"] != "VALIDATION_ERROR" {
		t.Fatalf("missing invoice_id: %d %v", st, out)
	}
	body = pciBody("INV-V")
	body["subscription"].(map[string]any)["plan"] = "HOURLY"
	if st, out := call(t, e, "POST", "/v3/subscriptions", body, nil); st != 400 || !strings.Contains(out["description"].(string), "plan") {
		t.Fatalf("bad plan: %d %v", st, out)
	}
	body = pciBody("INV-D")
	body["credit_card"].(map[string]any)["card_number"] = "4000000000000002"
	if st, out := call(t, e, "POST", "/v3/subscriptions", body, nil); st != 422 || num(out["code"]) != 422 {
		t.Fatalf("declined card: %d %v", st, out)
	}
	if st, _ := call(t, e, "POST", "/v3/subscriptions", pciBody("INV-D"), nil); st != 200 {
		t.Fatalf("the declined create left the invoice_id taken: %d", st)
	}
}

// X-Idempotency-Key: the same body replays the first answer; another body
// under the same key is refused; only one subscription exists.
func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b)
		key := map[string]string{"X-Idempotency-Key": "idem-123"}
		st1, out1 := call(t, e, "POST", "/v3/subscriptions", pciBody("INV-I"), key)
		st2, out2 := call(t, e, "POST", "/v3/subscriptions", pciBody("INV-I"), key)
		if st1 != 200 || st2 != 200 || out1["subscription_id"] != out2["subscription_id"] {
			t.Fatalf("replay: %d %v / %d %v", st1, out1, st2, out2)
		}
		if st, out := call(t, e, "POST", "/v3/subscriptions", pciBody("INV-OTHER"), key); st != 409 || out["type"] != "IDEMPOTENCY_KEY_REUSED" {
			t.Fatalf("same key, other body: %d %v", st, out)
		}
		if n := e.App.Sim.ChargeCount(true); n != 1 {
			t.Fatalf("%d charges for one idempotent create", n)
		}
	})
}

// OneShot: the create answers a redirect_url; the customer completes
// Billkey's hosted page in a real browser; the subscription becomes ACTIVE
// with its first deposit and the browser lands on success_url.
func TestOneShotSubscriptionInBrowser(t *testing.T) {
	t.Parallel()
	bctx := browser.New(t)
	e := apptest.New(t, testenv.SQLite(t))
	landed := make(chan string, 1)
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case landed <- r.URL.String():
		default:
		}
		fmt.Fprint(w, "<html><body><h1 id=done>thanks</h1></body></html>")
	}))
	defer shop.Close()
	body := pciBody("INV-OS")
	delete(body, "credit_card")
	body["success_url"], body["error_url"] = shop.URL+"/success", shop.URL+"/error"
	st, out := call(t, e, "POST", "/v3/subscriptions", body, nil)
	redirect, _ := out["redirect_url"].(string)
	if st != 200 || redirect == "" || out["redirect"] != true || out["payment_amount"] != 19.9 || out["expiration_date"] == nil {
		t.Fatalf("oneshot create: %d %v", st, out)
	}
	id := num(out["subscription_id"])
	if s, _ := e.App.Subscriptions().Get(context.Background(), e.Merchant.ID, id); s.Status != core.SubPending {
		t.Fatalf("before the page: %s", s.Status)
	}
	// The page states the terms before any card is asked for.
	if err := chromedp.Do(bctx, chromedp.Navigate(redirect), chromedp.WaitVisible(chromedp.CSS("#terms"))); err != nil {
		t.Fatalf("open hosted page: %v", err)
	}
	terms, _ := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#terms")))
	for _, want := range []string{"오늘 결제 금액", "Charged today", "19.9 USD", "매월", "every month", "다음 결제일", "2026-04-01", "3회", "해지"} {
		if !strings.Contains(terms, want) {
			t.Errorf("the OneShot page's terms lack %q: %s", want, terms)
		}
	}
	browser.Shot(t, bctx, "0-terms")
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS("#start")), chromedp.WaitVisible(chromedp.CSS("#card_number"))); err != nil {
		t.Fatalf("open hosted page: %v", err)
	}
	browser.Shot(t, bctx, "1-window")
	if err := chromedp.Do(bctx,
		chromedp.SendKeys(chromedp.CSS("#card_number"), "4242424242424242"),
		chromedp.SendKeys(chromedp.CSS("#expiry"), "12/30"),
		chromedp.SendKeys(chromedp.CSS("#pwd_2digit"), "00"),
		chromedp.SendKeys(chromedp.CSS("#birth"), "880808"),
		chromedp.Click(chromedp.CSS("#submit")),
		chromedp.WaitVisible(chromedp.CSS("#done")),
	); err != nil {
		browser.Shot(t, bctx, "stuck")
		t.Fatalf("complete hosted page: %v", err)
	}
	browser.Shot(t, bctx, "2-landed")
	select {
	case u := <-landed:
		if !strings.HasPrefix(u, "/success") || !strings.Contains(u, fmt.Sprintf("subscription_id=%d", id)) {
			t.Fatalf("landed on %s", u)
		}
	default:
		t.Fatal("the browser never reached success_url")
	}
	s, err := e.App.Subscriptions().Get(context.Background(), e.Merchant.ID, id)
	if err != nil || s.Status != core.SubActive || s.CustomerUID == "" {
		t.Fatalf("after the page: %+v %v", s, err)
	}
	if ds, _ := e.App.Store.Deposits(context.Background(), e.Merchant.ID, id); len(ds) != 1 || ds[0].Status != core.DepositCompleted {
		t.Fatalf("first deposit: %+v", ds)
	}
	// The key window is v3's: no V1-shaped webhook for it.
	key, err := e.App.Service.FindPayment(context.Background(), e.Merchant.ID, subscription.KeyOrderUID(id), "", "")
	if err != nil {
		t.Fatal(err)
	}
	if evs, _ := e.App.Store.Events(context.Background(), e.Merchant.ID, key.ImpUID); len(evs) != 0 {
		t.Errorf("OneShot key issuance queued V1 webhooks: %+v", evs)
	}
}
