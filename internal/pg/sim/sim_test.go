package sim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCapabilities(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"nice", "kcp", "html5_inicis", "inicis", "jtnet", "daou"} {
		if !personalities[p].RESTKeyIn {
			t.Errorf("%s should support REST key-in", p)
		}
	}
	for _, p := range []string{"danal", "danal_tpay", "kicc", "payco", "kakaopay", "naverpay", "mobilians", "chai", "kcp_billing", "settle", "paymentwall", "unknown"} {
		if personalities[p].RESTKeyIn {
			t.Errorf("%s should not support REST key-in", p)
		}
	}
	if _, ok := lookup("nope"); ok {
		t.Error("unknown provider modelled")
	}
	p, ok := lookup("kakaopay")
	if !ok || p.KeyInCharge || !p.BillingKeyCharge || !p.SupportsWindowMethod(MethodCard) || !p.SupportsWindowMethod(MethodTrans) {
		t.Errorf("kakaopay ignores pay_method: %+v", p)
	}
}

// TestGuideCodes: every pg code of the i'mport billing guides
// (reference/pg-guides.md) is a personality, with the guide's window methods.
func TestGuideCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code   string
		window []string
		rest   bool
		name   string
	}{
		{"danal_tpay", []string{MethodCard}, false, "다날"},
		{"danal", []string{MethodPhone}, false, "다날 휴대폰결제"},
		{"chai", []string{MethodTrans}, false, "차이"},
		{"html5_inicis", []string{MethodCard}, true, "KG이니시스"},
		{"inicis", []string{MethodCard}, true, "KG이니시스"},
		{"jtnet", []string{MethodCard}, true, "JTNet"},
		{"kakaopay", []string{MethodCard, MethodPoint}, false, "카카오페이"},
		{"payco", []string{MethodCard}, false, "페이코"},
		{"kcp_billing", []string{MethodCard}, false, "NHN KCP"},
		{"kcp", nil, true, "NHN KCP"},
		{"kicc", []string{MethodCard}, false, "KICC 이지페이"},
		{"mobilians", []string{MethodPhone}, false, "KG모빌리언스"},
		{"nice", nil, true, "나이스페이"},
		{"settle", nil, false, "세틀뱅크"},
		{"daou", nil, true, "페이조아"},
		{"paymentwall", []string{MethodCard}, false, "Paymentwall"},
		{"naverpay", []string{MethodCard}, false, "네이버페이"},
	}
	for _, tt := range tests {
		p, ok := lookup(tt.code)
		if !ok {
			t.Errorf("%s: not a personality", tt.code)
			continue
		}
		if !slices.Equal(p.Window, tt.window) || p.RESTKeyIn != tt.rest || p.Name != tt.name {
			t.Errorf("%s: window %v rest %v name %q, want %v %v %q", tt.code, p.Window, p.RESTKeyIn, p.Name, tt.window, tt.rest, tt.name)
		}
	}
	if len(Personalities()) != len(tests) {
		t.Errorf("%d personalities, %d in the guides", len(Personalities()), len(tests))
	}
}

func TestTopicParticle(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"카카오페이": "카카오페이는", "다날": "다날은", "NHN KCP": "NHN KCP은(는)"} {
		if got := topic(in); got != want {
			t.Errorf("%s: %s", in, got)
		}
	}
}

func TestCards(t *testing.T) {
	t.Parallel()
	tests := []struct {
		number, name, code string
		typ                int
	}{
		{CardApprove, "신한카드", "366", 0},
		{CardDecline, "KB국민카드", "381", 1},
		{"9430001234567890", "BC카드", "361", 0},
	}
	for _, tc := range tests {
		ci := CardInfoFor(tc.number)
		if ci.CardName != tc.name || ci.CardCode != tc.code || ci.CardType != tc.typ {
			t.Errorf("%s: %+v", tc.number, ci)
		}
	}
	if got := MaskCardNumber(CardApprove); got != "424242******4242" {
		t.Errorf("mask: %s", got)
	}
	if CardInfoFor("5555555555554444") != CardInfoFor("5555555555554444") {
		t.Error("unknown BIN is not deterministic")
	}
	for n, want := range map[string]bool{CardApprove: true, "4242424242424241": false, "42424242": false, "4242-4242": false} {
		if luhnValid(n) != want {
			t.Errorf("luhn %s", n)
		}
	}
	for e, want := range map[string]bool{"2030-12": true, "203012": true, "2030-13": false, "30-12": false} {
		if validExpiry(e) != want {
			t.Errorf("expiry %s", e)
		}
	}
}

func TestAdminEndpoints(t *testing.T) {
	t.Parallel()
	s := New(Config{})
	h := s.Handler()
	do := func(method, path, body string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
		return rec
	}
	if rec := do("POST", "/_sim/config", `{"latency":"5ms","error_rate":0.5}`); rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if c := s.Config(); c.Latency != 5*time.Millisecond || c.ErrorRate != 0.5 {
		t.Fatalf("%+v", c)
	}
	if rec := do("POST", "/_sim/config", `{"lost_rate":2}`); rec.Code != 400 {
		t.Fatalf("bad rate accepted: %d", rec.Code)
	}
	s.SetConfig(Config{})
	rec := do("POST", "/v1/charges", `{"provider":"kcp","mid":"T0000","idempotency_key":"a","amount":500,"card":{"number":"4242424242424242","expiry":"2030-01"}}`)
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	rec = do("GET", "/_sim/ledger", "")
	var l []Charge
	if err := json.Unmarshal(rec.Body.Bytes(), &l); err != nil || len(l) != 1 || l[0].Card.CardNumber != "424242******4242" {
		t.Fatalf("%v %s", err, rec.Body)
	}
	if strings.Contains(rec.Body.String(), CardApprove) {
		t.Fatal("ledger leaks the full card number")
	}
	if rec := do("GET", "/_sim/receipts/"+l[0].PGTID, ""); rec.Code != 200 || !strings.Contains(rec.Body.String(), "신한카드") {
		t.Fatalf("receipt %d", rec.Code)
	}
	// Validation errors never quote the body back.
	rec = do("POST", "/v1/charges", `{"provider":"kcp","idempotency_key":"b","amount":500,"card":{"number":"4242424242424241","expiry":"2030-01"}}`)
	if rec.Code != http.StatusBadRequest || strings.Contains(rec.Body.String(), "4242424242424241") || !strings.Contains(rec.Body.String(), "8155") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

// TestTimeCharges: a benchmark subtracting the PG's own time hears, per
// charge, at least the configured latency, and nothing once it stops.
func TestTimeCharges(t *testing.T) {
	t.Parallel()
	s := New(Config{Latency: 2 * time.Millisecond})
	h := s.Handler()
	held := map[string]time.Duration{}
	s.TimeCharges(func(key string, d time.Duration) { held[key] = d })
	charge := func(key string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/charges",
			strings.NewReader(`{"provider":"kcp","mid":"T0000","idempotency_key":"`+key+`","amount":500,"card":{"number":"4242424242424242","expiry":"2030-01"}}`)))
		if rec.Code != 200 {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	charge("timed")
	if d, ok := held["timed"]; !ok || d < 2*time.Millisecond {
		t.Fatalf("held %v (heard: %v), want ≥ 2ms", d, ok)
	}
	s.TimeCharges(nil)
	charge("untimed")
	if _, ok := held["untimed"]; ok {
		t.Fatal("heard a charge after TimeCharges(nil)")
	}
}
