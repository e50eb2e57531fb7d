package sim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixture is one request/response pair from Toss's public reference.
type fixture struct {
	Source  string `json:"source"`
	Request struct {
		Method string            `json:"method"`
		Path   string            `json:"path"`
		Header map[string]string `json:"header"`
		Body   map[string]any    `json:"body"`
	} `json:"request"`
	Status int            `json:"status"`
	Body   map[string]any `json:"body"`
}

func loadFixture(t *testing.T, name string) fixture {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "tosspayments", name))
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if f.Source == "" {
		t.Fatalf("%s names no reference page", name)
	}
	return f
}

// exactKeys are enumerations and codes whose values must match the
// reference; other values (keys, times, amounts) only need the same shape.
var exactKeys = map[string]bool{
	"status": true, "type": true, "method": true, "currency": true, "country": true, "version": true,
	"cardType": true, "ownerType": true, "cancelStatus": true, "acquireStatus": true,
	"code": true, "message": true, "useEscrow": true, "cultureExpense": true,
}

// sameShape checks that got has every field of want with the same JSON kind
// (null in want allows null only), recursing into objects and arrays.
func sameShape(t *testing.T, path string, want, got any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s: want object, got %T (%v)", path, got, got)
			return
		}
		for k, wv := range w {
			gv, present := g[k]
			if !present {
				t.Errorf("%s.%s: missing", path, k)
				continue
			}
			if exactKeys[k] {
				if _, isObj := wv.(map[string]any); !isObj && wv != nil && wv != gv {
					t.Errorf("%s.%s = %v, reference has %v", path, k, gv, wv)
				}
			}
			sameShape(t, path+"."+k, wv, gv)
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) == 0 {
			t.Errorf("%s: want non-empty array, got %v", path, got)
			return
		}
		for i := range g {
			sameShape(t, path, w[0], g[i])
		}
	case nil:
		if got != nil {
			t.Errorf("%s: reference has null, got %v", path, got)
		}
	default:
		if got == nil {
			t.Errorf("%s: want %T, got null", path, want)
			return
		}
		if wk, gk := kindOf(want), kindOf(got); wk != gk {
			t.Errorf("%s: want %s, got %s", path, wk, gk)
		}
	}
}

func kindOf(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	}
	return "other"
}

type tossTest struct {
	t    *testing.T
	srv  *Server
	base string
	auth string
}

const testSecret = "test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R"

func newTossTest(t *testing.T) *tossTest {
	s := New(Config{})
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return &tossTest{t: t, srv: s, base: hs.URL + TossPrefix,
		auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(testSecret+":"))}
}

func (tt *tossTest) call(method, path string, hdr map[string]string, body any) (int, map[string]any) {
	tt.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, tt.base+path, rd)
	req.Header.Set("Authorization", tt.auth)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tt.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			tt.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, out
}

func (tt *tossTest) issue(number, customerKey string) string {
	tt.t.Helper()
	st, b := tt.call("POST", "/v1/billing/authorizations/card", nil, map[string]any{
		"cardNumber": number, "cardExpirationYear": "30", "cardExpirationMonth": "12",
		"cardPassword": "12", "customerIdentityNumber": "881212", "customerKey": customerKey,
	})
	if st != 200 {
		tt.t.Fatalf("issue: %d %v", st, b)
	}
	return b["billingKey"].(string)
}

func check(t *testing.T, f fixture, status int, body map[string]any) {
	t.Helper()
	if status != f.Status {
		t.Errorf("status %d, reference (%s) has %d: %v", status, f.Source, f.Status, body)
	}
	sameShape(t, "$", any(f.Body), any(body))
}

func TestTossWireMatchesReference(t *testing.T) {
	t.Parallel()
	tt := newTossTest(t)

	t.Run("billing key issued by key-in", func(t *testing.T) {
		f := loadFixture(t, "billing_issued.json")
		body := f.Request.Body
		body["cardNumber"], body["cardExpirationYear"] = CardApprove, "30"
		st, b := tt.call(f.Request.Method, f.Request.Path, nil, body)
		check(t, f, st, b)
	})
	bk := tt.issue(CardApprove, "aENcQAtPdYbTjGhtQnNVj")

	f := loadFixture(t, "payment_done.json")
	st, paid := tt.call("POST", "/v1/billing/"+bk, map[string]string{"Idempotency-Key": "k-done"}, f.Request.Body)
	t.Run("charge approved", func(t *testing.T) {
		check(t, f, st, paid)
		if paid["vat"].(float64) != 445 || paid["suppliedAmount"].(float64) != 4455 {
			t.Errorf("vat rule: %v %v", paid["vat"], paid["suppliedAmount"])
		}
	})

	t.Run("lookup by orderId", func(t *testing.T) {
		st, got := tt.call("GET", "/v1/payments/orders/sub-2024-06-000123", nil, nil)
		check(t, f, st, got)
		if got["paymentKey"] != paid["paymentKey"] {
			t.Errorf("lookup found %v, charged %v", got["paymentKey"], paid["paymentKey"])
		}
	})

	t.Run("customer key mismatch", func(t *testing.T) {
		f := loadFixture(t, "error_customer_key.json")
		st, b := tt.call("POST", "/v1/billing/"+bk, nil, f.Request.Body)
		check(t, f, st, b)
	})

	t.Run("insufficient funds", func(t *testing.T) {
		f := loadFixture(t, "error_insufficient.json")
		body := f.Request.Body
		body["customerKey"] = "poor-customer"
		st, b := tt.call("POST", "/v1/billing/"+tt.issue(CardInsufficient, "poor-customer"), nil, body)
		check(t, f, st, b)
		st, got := tt.call("GET", "/v1/payments/orders/sub-2024-06-000124", nil, nil)
		if st != 200 || got["status"] != "ABORTED" || got["failure"].(map[string]any)["code"] != "REJECT_CARD_PAYMENT" {
			t.Errorf("declined order lookup: %d %v", st, got)
		}
	})

	t.Run("test code header", func(t *testing.T) {
		f := loadFixture(t, "error_idempotent_processing.json")
		st, b := tt.call(f.Request.Method, "/v1/billing/"+bk, f.Request.Header, map[string]any{})
		check(t, f, st, b)
	})

	t.Run("auth without colon", func(t *testing.T) {
		f := loadFixture(t, "error_auth_format.json")
		st, b := tt.call(f.Request.Method, f.Request.Path, f.Request.Header, nil)
		check(t, f, st, b)
		if !strings.Contains(base64Decode(t, strings.TrimPrefix(f.Request.Header["Authorization"], "Basic ")), testSecret) {
			t.Error("fixture should carry the docs key without its colon")
		}
	})

	t.Run("full cancel", func(t *testing.T) {
		f := loadFixture(t, "cancel_full.json")
		pk := paid["paymentKey"].(string)
		st, b := tt.call("POST", "/v1/payments/"+pk+"/cancel", map[string]string{"Idempotency-Key": "c-full"}, f.Request.Body)
		check(t, f, st, b)
		st, b = tt.call("POST", "/v1/payments/"+pk+"/cancel", map[string]string{"Idempotency-Key": "c-again"}, f.Request.Body)
		if st != 400 || b["code"] != "ALREADY_CANCELED_PAYMENT" {
			t.Errorf("second cancel: %d %v", st, b)
		}
	})
}

func base64Decode(t *testing.T, s string) string {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTossIdempotencyKeyReplaysFirstAnswer(t *testing.T) {
	t.Parallel()
	tt := newTossTest(t)
	bk := tt.issue(CardApprove, "cust-1")
	charge := func(key, order string, amount int) (int, map[string]any) {
		return tt.call("POST", "/v1/billing/"+bk, map[string]string{"Idempotency-Key": key},
			map[string]any{"customerKey": "cust-1", "amount": amount, "orderId": order, "orderName": "구독"})
	}
	st1, b1 := charge("same", "order-0001", 1000)
	st2, b2 := charge("same", "order-0002", 5000) // body differs: still the first answer
	if st1 != 200 || st2 != 200 || b1["paymentKey"] != b2["paymentKey"] || b2["orderId"] != "order-0001" {
		t.Fatalf("replay: %d %v / %d %v", st1, b1, st2, b2)
	}
	if st, b := charge("other", "order-0001", 1000); st != 400 || b["code"] != "DUPLICATED_ORDER_ID" {
		t.Fatalf("same orderId under a new key: %d %v", st, b)
	}
	if n := tt.srv.ChargeCount(false); n != 1 {
		t.Fatalf("ledger has %d charges, want 1", n)
	}
	long := strings.Repeat("k", 301)
	if st, b := charge(long, "order-0003", 1000); st != 400 || b["code"] != "INVALID_IDEMPOTENCY_KEY" {
		t.Fatalf("long key: %d %v", st, b)
	}
}

func TestTossPartialCancelsStayPartial(t *testing.T) {
	t.Parallel()
	tt := newTossTest(t)
	bk := tt.issue(CardApprove, "cust-2")
	_, p := tt.call("POST", "/v1/billing/"+bk, nil, map[string]any{"customerKey": "cust-2", "amount": 1000, "orderId": "order-partial", "orderName": "구독"})
	pk := p["paymentKey"].(string)
	for i, amt := range []int{300, 700} {
		st, b := tt.call("POST", "/v1/payments/"+pk+"/cancel", nil, map[string]any{"cancelReason": "부분", "cancelAmount": amt})
		if st != 200 || b["status"] != "PARTIAL_CANCELED" || len(b["cancels"].([]any)) != i+1 {
			t.Fatalf("partial %d: %d %v", i, st, b)
		}
	}
	st, b := tt.call("POST", "/v1/payments/"+pk+"/cancel", nil, map[string]any{"cancelReason": "남은 금액"})
	if st != 403 || b["code"] != "NOT_CANCELABLE_AMOUNT" {
		t.Fatalf("cancel at zero balance: %d %v", st, b)
	}
	if st, _ := tt.call("DELETE", "/v1/billing/"+bk, nil, nil); st != 200 {
		t.Fatalf("delete: %d", st)
	}
	if st, b := tt.call("DELETE", "/v1/billing/"+bk, nil, nil); st != 400 || b["code"] != "ALREADY_REMOVED_BILLING_KEY" {
		t.Fatalf("delete again: %d %v", st, b)
	}
}
