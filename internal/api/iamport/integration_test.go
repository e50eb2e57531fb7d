package iamport_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/app"
	"github.com/billkey/billkey/internal/merchant"
	"github.com/billkey/billkey/internal/pg/sim"
)

// testServer is a real Billkey (SQLite store, vault, in-process sandbox PG,
// charge service) behind the V1 handler, with one merchant's token.
type testServer struct {
	URL   string
	Token string
	Key   merchant.Credentials
}

// newTestServer is the constructor hook for end-to-end handler tests.
// INTEGRATING ENGINEER: it builds the service through internal/app; if
// app.New's contract changes, this is the only place to adapt.
func newTestServer(t *testing.T) *testServer {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	a, err := app.New(ctx, app.Config{
		DatabaseURL:   filepath.Join(dir, "billkey.db"),
		MasterKeyFile: filepath.Join(dir, "master.key"),
		PGTimeout:     5 * time.Second,
		Sim:           sim.Config{},
		Logger:        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Skipf("real service unavailable (app.New: %v)", err)
	}
	t.Cleanup(func() { a.Close() })
	cred, err := a.Merchants.Create(ctx, "iamport test")
	if err != nil {
		t.Fatalf("create merchant: %v", err)
	}
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	ts := &testServer{URL: srv.URL, Key: cred}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	ts.call(t, "POST", "/users/getToken", url.Values{"imp_key": {cred.ImpKey}, "imp_secret": {cred.ImpSecret}}.Encode(), 200, 0, &tok)
	ts.Token = tok.AccessToken
	return ts
}

// call sends a form body (or JSON when body starts with "{") and checks
// status and code; out receives the response payload.
func (ts *testServer) call(t *testing.T, method, path, body string, status, code int, out any) string {
	t.Helper()
	req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if strings.HasPrefix(body, "{") {
		req.Header.Set("Content-Type", "application/json")
	} else if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if ts.Token != "" {
		req.Header.Set("Authorization", ts.Token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var env struct {
		Code     int             `json:"code"`
		Message  *string         `json:"message"`
		Response json.RawMessage `json:"response"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("%s %s: not an envelope: %s", method, path, raw)
	}
	if res.StatusCode != status || env.Code != code {
		t.Fatalf("%s %s: %d/%d, want %d/%d: %s", method, path, res.StatusCode, env.Code, status, code, raw)
	}
	if out != nil {
		if err := json.Unmarshal(env.Response, out); err != nil {
			t.Fatalf("response: %v: %s", err, env.Response)
		}
	}
	if env.Message != nil {
		return *env.Message
	}
	return ""
}

type payment struct {
	ImpUID        string          `json:"imp_uid"`
	Status        string          `json:"status"`
	Amount        json.Number     `json:"amount"`
	CancelAmount  json.Number     `json:"cancel_amount"`
	FailReason    *string         `json:"fail_reason"`
	UserAgent     *string         `json:"user_agent"`
	CustomerUID   *string         `json:"customer_uid"`
	CancelHistory json.RawMessage `json:"cancel_history"`
}

func TestEndToEndBilling(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ts := newTestServer(t)
	var cust struct {
		CustomerUID string  `json:"customer_uid"`
		CardNumber  *string `json:"card_number"`
	}
	ts.call(t, "POST", "/subscribe/customers/user_1", "card_number=4242-4242-4242-4242&expiry=2030-12&birth=900101&pwd_2digit=12", 200, 0, &cust)
	if cust.CustomerUID != "user_1" || cust.CardNumber == nil || strings.Contains(*cust.CardNumber, "42424242") {
		t.Fatalf("customer %+v", cust)
	}
	ts.call(t, "GET", "/subscribe/customers/user_1", "", 200, 0, nil)

	var p payment
	ts.call(t, "POST", "/subscribe/payments/again/", `{"customer_uid":"user_1","merchant_uid":"order_1","amount":8900,"name":"월간","card_quota":0,"product_count":0}`, 200, 0, &p)
	if p.Status != "paid" || p.Amount != "8900" || p.UserAgent == nil {
		t.Fatalf("again %+v", p)
	}
	msg := ts.call(t, "POST", "/subscribe/payments/again", `{"customer_uid":"user_1","merchant_uid":"order_1","amount":8900}`, 200, 1, nil)
	if !strings.Contains(msg, "이미 주문이 이루어진 건입니다") {
		t.Fatalf("duplicate message %q", msg)
	}
	if msg := ts.call(t, "POST", "/subscribe/payments/again", `{"customer_uid":"nobody","merchant_uid":"order_2","amount":100}`, 200, 1, nil); msg != "등록되지 않은 구매자입니다." {
		t.Fatalf("unknown customer message %q", msg)
	}

	// A decline is code 0 with status failed.
	var d payment
	ts.call(t, "POST", "/subscribe/payments/onetime", "merchant_uid=order_3&amount=1000&card_number=4000000000009995&expiry=2030-12", 200, 0, &d)
	if d.Status != "failed" || d.FailReason == nil {
		t.Fatalf("decline %+v", d)
	}
	if msg := ts.call(t, "POST", "/subscribe/payments/onetime", "merchant_uid=order_4&amount=1000&card_number=4242424242424241&expiry=2030-12", 200, -1, nil); !strings.Contains(msg, "카드") {
		t.Fatalf("luhn message %q", msg)
	}

	var got payment
	ts.call(t, "GET", "/payments/"+p.ImpUID, "", 200, 0, &got)
	ts.call(t, "GET", "/payments/find/order_1/", "", 200, 0, &got)
	ts.call(t, "GET", "/payments/imp_000000000000", "", 404, -1, nil)
	ts.call(t, "GET", "/payments?imp_uid[]="+p.ImpUID+"&imp_uid[]=imp_000000000000", "", 207, 0, nil)
	// The same payment named by imp_uid and by merchant_uid (and twice by
	// imp_uid) is listed once.
	var same []payment
	ts.call(t, "GET", "/payments?imp_uid[]="+p.ImpUID+"&imp_uid[]="+p.ImpUID+"&merchant_uid[]=order_1", "", 200, 0, &same)
	if len(same) != 1 || same[0].ImpUID != p.ImpUID {
		t.Fatalf("payment named twice: %+v", same)
	}

	var c payment
	ts.call(t, "POST", "/payments/cancel", "imp_uid="+p.ImpUID+"&amount=900&checksum=8900&reason=partial", 200, 0, &c)
	if c.Status != "cancelled" || c.CancelAmount != "900" || !strings.Contains(string(c.CancelHistory), "cancellation_id") {
		t.Fatalf("partial cancel %+v", c)
	}
	if msg := ts.call(t, "POST", "/payments/cancel", "imp_uid="+p.ImpUID+"&amount=100&checksum=8900", 200, 1, nil); msg == "" {
		t.Fatal("checksum mismatch without message")
	}
	ts.call(t, "POST", "/payments/cancel", "merchant_uid=order_1", 200, 0, &c)
	if c.CancelAmount != "8900" {
		t.Fatalf("full cancel %+v", c)
	}
	ts.call(t, "POST", "/payments/cancel", "merchant_uid=order_1", 200, 1, nil)

	var page struct {
		Total int       `json:"total"`
		List  []payment `json:"list"`
	}
	ts.call(t, "GET", "/subscribe/customers/user_1/payments", "", 200, 0, &page)
	if page.Total != 1 {
		t.Fatalf("customer payments %+v", page)
	}
	ts.call(t, "GET", "/payments/status/all", "", 200, 0, &page)
	ts.call(t, "DELETE", "/subscribe/customers/user_1?reason=bye", "", 200, 0, nil)
	ts.call(t, "GET", "/subscribe/customers/user_1", "", 404, 1, nil)
}
