package sim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/pg/provider"

	"github.com/billkey/billkey/internal/pg/simwire"
)

// simCall drives a simulator over its wire protocol.
type simCall struct {
	t *testing.T
	h http.Handler
}

func (c simCall) do(path string, in, out any) (int, simwire.WireError) {
	c.t.Helper()
	b, _ := json.Marshal(in)
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, httptest.NewRequest("POST", path, bytes.NewReader(b)))
	var we simwire.WireError
	if rec.Code != 200 {
		json.Unmarshal(rec.Body.Bytes(), &we)
		return rec.Code, we
	}
	if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
		c.t.Fatalf("%s: %v %s", path, err, rec.Body)
	}
	return rec.Code, we
}

type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeNow) now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeNow) add(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

var visa = &simwire.WireCard{Number: CardApprove, Expiry: "2030-12", Birth: "800101", Pwd2Digit: "12"}

// TestIssuanceRules: each PG issues keys the way its i'mport guide says,
// refusing the rest in its own words.
func TestIssuanceRules(t *testing.T) {
	t.Parallel()
	c := simCall{t, New(Config{}).Handler()}
	tests := []struct {
		name         string
		req          simwire.WireIssueKey
		status       int
		msg          string // part of the PG's refusal
		windowCharge int64
	}{
		{"nice REST key only", simwire.WireIssueKey{Provider: "nice", Card: visa}, 200, "", 0},
		{"nice has no billing window", simwire.WireIssueKey{Provider: "nice", Channel: simwire.ChannelWindow, Card: visa}, 400, "결제창 빌링키 발급을 지원하지 않습니다", 0},
		{"kakaopay has no REST key-in", simwire.WireIssueKey{Provider: "kakaopay", Card: visa}, 400, "카카오페이는 REST API 빌링키 발급(키인)을 지원하지 않습니다", 0},
		{"danal_tpay (card) has no REST key-in", simwire.WireIssueKey{Provider: "danal_tpay", Card: visa}, 400, "REST API 빌링키 발급", 0},
		{"settle: no key-only issuance", simwire.WireIssueKey{Provider: "settle", Card: visa}, 400, "빌키 단독 발급은 지원하지 않습니다", 0},
		{"settle: key with a first charge", simwire.WireIssueKey{Provider: "settle", Card: visa, FirstCharge: 1000}, 200, "", 0},
		{"paymentwall REST: no key-only issuance", simwire.WireIssueKey{Provider: "paymentwall", Card: visa}, 400, "only together with a payment", 0},
		{"danal_tpay window is card only", simwire.WireIssueKey{Provider: "danal_tpay", Channel: simwire.ChannelWindow, Method: MethodPhone}, 400, "다날은 휴대폰 결제창", 0},
		{"danal window is phone only", simwire.WireIssueKey{Provider: "danal", Channel: simwire.ChannelWindow, Card: visa}, 400, "다날 휴대폰결제는 카드 결제창", 0},
		{"danal phone needs a first charge", simwire.WireIssueKey{Provider: "danal", Channel: simwire.ChannelWindow, Method: MethodPhone}, 400, "[DN303]", 0},
		{"mobilians phone needs a first charge", simwire.WireIssueKey{Provider: "mobilians", Channel: simwire.ChannelWindow, Method: MethodPhone}, 400, "결제금액 필요", 0},
		{"danal phone with a first charge", simwire.WireIssueKey{Provider: "danal", Channel: simwire.ChannelWindow, Method: MethodPhone, FirstCharge: 10000}, 200, "", 10000},
		{"chai is trans only", simwire.WireIssueKey{Provider: "chai", Channel: simwire.ChannelWindow, Card: visa}, 400, "차이는 카드 결제창", 0},
		{"chai amount is display only", simwire.WireIssueKey{Provider: "chai", Channel: simwire.ChannelWindow, Method: MethodTrans, FirstCharge: 5000}, 200, "", 0},
		{"kcp_billing amount is display only", simwire.WireIssueKey{Provider: "kcp_billing", Channel: simwire.ChannelWindow, Card: visa, FirstCharge: 5000}, 200, "", 0},
		{"kicc amount is display only", simwire.WireIssueKey{Provider: "kicc", Channel: simwire.ChannelWindow, Card: visa, FirstCharge: 5000}, 200, "", 0},
		{"html5_inicis amount is display only", simwire.WireIssueKey{Provider: "html5_inicis", Channel: simwire.ChannelWindow, Card: visa, FirstCharge: 5000}, 200, "", 0},
		{"payco ignores pay_method, amount display only", simwire.WireIssueKey{Provider: "payco", Channel: simwire.ChannelWindow, Method: MethodTrans, Card: visa, FirstCharge: 5000}, 200, "", 0},
		{"jtnet window approves its amount", simwire.WireIssueKey{Provider: "jtnet", Channel: simwire.ChannelWindow, Card: visa, FirstCharge: 5000}, 200, "", 5000},
		{"kakaopay approves its amount", simwire.WireIssueKey{Provider: "kakaopay", Channel: simwire.ChannelWindow, Card: visa, FirstCharge: 5000}, 200, "", 5000},
		{"naverpay needs buyer_tel", simwire.WireIssueKey{Provider: "naverpay", Channel: simwire.ChannelWindow, Card: visa}, 400, "buyer_tel", 0},
		{"naverpay with buyer_tel, display only", simwire.WireIssueKey{Provider: "naverpay", Channel: simwire.ChannelWindow, Card: visa, BuyerTel: "010-1234-5678", FirstCharge: 900}, 200, "", 0},
		{"paymentwall window needs buyer_email", simwire.WireIssueKey{Provider: "paymentwall", Channel: simwire.ChannelWindow, Card: visa, FirstCharge: 50}, 400, "buyer_email is required", 0},
		{"paymentwall window always charges", simwire.WireIssueKey{Provider: "paymentwall", Channel: simwire.ChannelWindow, Card: visa, BuyerEmail: "a@b.c"}, 400, "only together with a payment", 0},
	}
	for _, tt := range tests {
		var out simwire.WireIssueKeyResult
		status, we := c.do("/v1/billing-keys", tt.req, &out)
		if status != tt.status || !strings.Contains(we.Message, tt.msg) {
			t.Errorf("%s: HTTP %d %q, want %d %q", tt.name, status, we.Message, tt.status, tt.msg)
			continue
		}
		if status == 200 && out.WindowCharge != tt.windowCharge {
			t.Errorf("%s: window charge %d, want %d", tt.name, out.WindowCharge, tt.windowCharge)
		}
	}
}

// TestDanalCardTestAuthorization: a key-only Danal card window makes Danal
// approve 10 won itself and cancel it about 30 minutes later; a window with
// an amount makes no such test charge.
func TestDanalCardTestAuthorization(t *testing.T) {
	t.Parallel()
	s := New(Config{})
	clk := &fakeNow{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	s.setClock(clk.now)
	c := simCall{t, s.Handler()}
	var out simwire.WireIssueKeyResult
	if st, we := c.do("/v1/billing-keys", simwire.WireIssueKey{Provider: "danal_tpay", MID: "m", Channel: simwire.ChannelWindow, Card: visa, IdempotencyKey: "k1"}, &out); st != 200 {
		t.Fatalf("%d %+v", st, we)
	}
	l := s.Ledger()
	if len(l) != 1 || l[0].Amount != 10 || l[0].Status != "approved" || l[0].Cancelled != 0 || l[0].BillingKey != out.BillingKey {
		t.Fatalf("ledger after key-only issuance: %+v", l)
	}
	clk.add(29 * time.Minute)
	if l := s.Ledger(); l[0].Cancelled != 0 {
		t.Fatalf("cancelled early: %+v", l[0])
	}
	clk.add(time.Minute)
	if l := s.Ledger(); l[0].Cancelled != 10 || len(l[0].Cancellations) != 1 {
		t.Fatalf("not cancelled after 30 minutes: %+v", l[0])
	}
	if st, _ := c.do("/v1/billing-keys", simwire.WireIssueKey{Provider: "danal_tpay", MID: "m", Channel: simwire.ChannelWindow, Card: visa, FirstCharge: 500, IdempotencyKey: "k2"}, &out); st != 200 {
		t.Fatal(st)
	}
	if n := len(s.Ledger()); n != 1 {
		t.Fatalf("a window with an amount made a test charge: %d entries", n)
	}
}

// TestPhoneBillingMonthlySameAmount: Danal and Mobilians phone keys charge
// only the first amount, monthly on the first charge's day ±5 days.
func TestPhoneBillingMonthlySameAmount(t *testing.T) {
	t.Parallel()
	for _, provider := range []string{"danal", "mobilians"} {
		s := New(Config{})
		clk := &fakeNow{t: time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)}
		s.setClock(clk.now)
		c := simCall{t, s.Handler()}
		var key simwire.WireIssueKeyResult
		if st, we := c.do("/v1/billing-keys", simwire.WireIssueKey{Provider: provider, Channel: simwire.ChannelWindow, Method: MethodPhone, FirstCharge: 10000}, &key); st != 200 {
			t.Fatalf("%s: %d %+v", provider, st, we)
		}
		if key.Method != MethodPhone {
			t.Errorf("%s: key method %q", provider, key.Method)
		}
		n := 0
		charge := func(amount int64) (int, simwire.WireError) {
			n++
			var out simwire.WireChargeResult
			return c.do("/v1/charges", simwire.WireCharge{Provider: provider, BillingKey: key.BillingKey, Amount: amount,
				IdempotencyKey: provider + string(rune('a'+n))}, &out)
		}
		p, _ := lookup(provider)
		codeOf := func(k errKind) string { return p.text(k).code }
		steps := []struct {
			advance time.Duration
			amount  int64
			status  int
			code    string
		}{
			{0, 10000, 200, ""}, // the first charge fixes amount and day (Jan 15)
			{24 * time.Hour, 10000, 400, codeOf(kOutsideCycle)},              // Jan 16: not monthly
			{25*24*time.Hour - time.Hour, 10000, 400, codeOf(kOutsideCycle)}, // Feb 10 09:00: 5 days and 1 hour before Feb 15 10:00
			{2 * time.Hour, 3000, 400, codeOf(kSameAmount)},                  // Feb 10 11:00, in the window, other amount
			{0, 10000, 200, ""}, // same amount inside ±5 days
			{24 * time.Hour, 10000, 400, codeOf(kOutsideCycle)}, // Feb 11: February is paid
			{32 * 24 * time.Hour, 10000, 200, ""},               // Mar 15 (+ a little): March
		}
		for i, st := range steps {
			clk.add(st.advance)
			status, we := charge(st.amount)
			if status != st.status || we.Code != st.code {
				t.Errorf("%s step %d (%s): HTTP %d %+v, want %d %s", provider, i, clk.now().Format(time.DateTime), status, we, st.status, st.code)
			}
		}
	}
}

// TestOrderNameWidth: NICE's order-name field is 40 EUC-KR bytes; longer
// names are refused in NICE's words, and FitName shortens them to fit.
func TestOrderNameWidth(t *testing.T) {
	t.Parallel()
	c := simCall{t, New(Config{}).Handler()}
	long := strings.Repeat("가", 21) // 42 bytes
	var out simwire.WireChargeResult
	st, we := c.do("/v1/charges", simwire.WireCharge{Provider: "nice", IdempotencyKey: "n1", Amount: 100, Card: visa, OrderName: long}, &out)
	if st != 400 || we.Code != "F121" {
		t.Fatalf("42-byte name: %d %+v", st, we)
	}
	p, _ := lookup("nice")
	fit := p.FitName(long)
	if fit != strings.Repeat("가", 20) {
		t.Fatalf("FitName = %q", fit)
	}
	if st, we := c.do("/v1/charges", simwire.WireCharge{Provider: "nice", IdempotencyKey: "n2", Amount: 100, Card: visa, OrderName: fit}, &out); st != 200 {
		t.Fatalf("fitted name: %d %+v", st, we)
	}
	if kakao, _ := lookup("kakaopay"); kakao.FitName(long) != long {
		t.Error("a PG without a limit got a shortened name")
	}
	if got := p.FitName("abc" + long); provider.NameBytes(got) != 39 {
		t.Errorf("mixed name fitted to %d bytes", provider.NameBytes(got))
	}
}

// TestPaymentwallSameBuyerEmail: Paymentwall charges a key only for the
// buyer_email it was issued with.
func TestPaymentwallSameBuyerEmail(t *testing.T) {
	t.Parallel()
	c := simCall{t, New(Config{}).Handler()}
	var key simwire.WireIssueKeyResult
	if st, we := c.do("/v1/billing-keys", simwire.WireIssueKey{Provider: "paymentwall", Channel: simwire.ChannelWindow, Card: visa, FirstCharge: 50, BuyerEmail: "a@example.com"}, &key); st != 200 {
		t.Fatalf("%d %+v", st, we)
	}
	var out simwire.WireChargeResult
	if st, we := c.do("/v1/charges", simwire.WireCharge{Provider: "paymentwall", BillingKey: key.BillingKey, Amount: 50, IdempotencyKey: "p1", BuyerEmail: "b@example.com"}, &out); st != 400 || we.Code != "PW03" {
		t.Fatalf("another e-mail: %d %+v", st, we)
	}
	if st, we := c.do("/v1/charges", simwire.WireCharge{Provider: "paymentwall", BillingKey: key.BillingKey, Amount: 50, IdempotencyKey: "p2", BuyerEmail: "A@example.com"}, &out); st != 200 || out.Status != "approved" {
		t.Fatalf("same e-mail: %d %+v", st, we)
	}
}
