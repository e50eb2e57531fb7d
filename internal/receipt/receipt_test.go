package receipt_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/testenv"
)

type payment struct {
	Code     int `json:"code"`
	Response struct {
		ImpUID            string   `json:"imp_uid"`
		ReceiptURL        string   `json:"receipt_url"`
		CancelReceiptURLs []string `json:"cancel_receipt_urls"`
		CancelHistory     []struct {
			ReceiptURL     string `json:"receipt_url"`
			CancellationID string `json:"cancellation_id"`
		} `json:"cancel_history"`
	} `json:"response"`
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// TestReceiptPages: receipt_url and each cancellation's receipt URL point at
// Billkey's own /receipts pages (never the simulator's port), stay the same
// on every look-up, and render a Korean card slip with merchant, amounts,
// VAT, masked card, approval number and date.
func TestReceiptPages(t *testing.T) {
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b)
		tok := e.Token(e.Cred)
		var p payment
		e.Do("POST", "/subscribe/payments/onetime", tok, map[string]any{
			"merchant_uid": "rcpt_1", "amount": 8900, "name": "월간 이용권", "buyer_name": "홍길동",
			"card_number": "4242-4242-4242-4242", "expiry": "2030-12", "birth": "800101"}, &p)
		want := e.Server.URL + "/receipts/" + p.Response.ImpUID
		if p.Code != 0 || p.Response.ReceiptURL != want {
			t.Fatalf("receipt_url %q, want %q", p.Response.ReceiptURL, want)
		}
		st, page, hdr := get(t, want)
		if st != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") || !strings.Contains(hdr.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Fatalf("receipt page: %d %v", st, hdr)
		}
		for _, s := range []string{"카드 매출전표", "Test Merchant", "8,900원", "부가세", "809원", "8,091원", "424242******4242",
			"신한카드", "승인번호", "일시불", "월간 이용권", "rcpt_1", "2026-03-01 18:00", "홍길동"} {
			if !strings.Contains(page, s) {
				t.Errorf("receipt lacks %q", s)
			}
		}
		if strings.Contains(page, "4242424242424242") {
			t.Fatal("receipt shows the full card number")
		}

		for i, amt := range []int{3000, 1000} {
			var c payment
			e.Do("POST", "/payments/cancel", tok, map[string]any{"imp_uid": p.Response.ImpUID, "amount": amt, "reason": "부분 환불"}, &c)
			if c.Code != 0 || len(c.Response.CancelReceiptURLs) != i+1 {
				t.Fatalf("cancel %d: %+v", i, c)
			}
		}
		var again payment
		e.Do("GET", "/payments/"+p.Response.ImpUID, tok, nil, &again)
		if again.Response.ReceiptURL != want || len(again.Response.CancelReceiptURLs) != 2 {
			t.Fatalf("after cancels: %+v", again.Response)
		}
		for i, h := range again.Response.CancelHistory {
			u := want + "/cancellations/" + h.CancellationID
			if h.ReceiptURL != u || again.Response.CancelReceiptURLs[i] != u {
				t.Errorf("cancellation %d receipt %q / %q, want %q", i, h.ReceiptURL, again.Response.CancelReceiptURLs[i], u)
			}
		}
		refunds := map[string]bool{}
		for _, u := range again.Response.CancelReceiptURLs {
			st, page, _ = get(t, u)
			for _, s := range []string{"카드 취소전표", "원거래금액", "8,900원", "부분 환불"} {
				if st != 200 || !strings.Contains(page, s) {
					t.Errorf("cancellation receipt (%d) lacks %q", st, s)
				}
			}
			refunds["-3,000원"] = refunds["-3,000원"] || strings.Contains(page, "-3,000원")
			refunds["-1,000원"] = refunds["-1,000원"] || strings.Contains(page, "-1,000원")
		}
		if !refunds["-3,000원"] || !refunds["-1,000원"] {
			t.Errorf("one receipt per cancellation: %v", refunds)
		}
		if st, _, _ := get(t, e.Server.URL+"/receipts/imp_000000000000"); st != 404 {
			t.Errorf("unknown payment: %d", st)
		}
		if st, _, _ := get(t, want+"/cancellations/nope"); st != 404 {
			t.Errorf("unknown cancellation: %d", st)
		}
	})
}
