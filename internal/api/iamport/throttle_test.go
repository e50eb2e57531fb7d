package iamport

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/merchant"
)

// Guessing imp_secrets is cut off after a few failures per imp_key and per
// client address: 429 in the V1 envelope, a Retry-After, and a metric.
func TestGetTokenBruteForceIsThrottled(t *testing.T) {
	f := &fakeService{issueToken: func(k, s string) (core.Token, error) {
		if s != "right" {
			return core.Token{}, merchant.ErrBadCredentials
		}
		return core.Token{Token: "abc", ExpiresAt: testNow.Add(30 * time.Minute)}, nil
	}}
	clk := clock.NewTest(testNow)
	reg := prometheus.NewRegistry()
	h := newHandler(f, f, Options{Clock: clk, Registerer: reg, TokenThrottle: merchant.NewTokenThrottle(clk, 3, 5, time.Minute)})
	try := func(addr, key, secret string) (int, envOut) {
		t.Helper()
		req := httptest.NewRequest("POST", "/users/getToken", strings.NewReader(`{"imp_key":"`+key+`","imp_secret":"`+secret+`"}`))
		req.Header.Set("Content-Type", ctJSON)
		req.RemoteAddr = addr + ":40000"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusTooManyRequests && rec.Header().Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
		return rec.Code, decode(t, nil, rec.Body.String())
	}
	for i := 0; i < 3; i++ {
		if code, _ := try("192.0.2.1", "K", "guess"); code != http.StatusUnauthorized {
			t.Fatalf("failure %d: HTTP %d", i, code)
		}
	}
	// The key is locked, even with the right secret and from elsewhere.
	code, env := try("198.51.100.7", "K", "right")
	if code != http.StatusTooManyRequests || env.Code != -1 || env.Message == nil || *env.Message != msgTooManyAttempts {
		t.Fatalf("4th attempt on K: HTTP %d %+v", code, env)
	}
	// Another key from another address is unaffected.
	if code, _ := try("198.51.100.7", "L", "right"); code != http.StatusOK {
		t.Fatalf("other key: HTTP %d", code)
	}
	// Spraying keys from one address hits the address limit.
	for _, k := range []string{"A", "B"} {
		try("203.0.113.9", k, "guess")
	}
	try("192.0.2.1", "C", "guess") // 192.0.2.1 now has 4 failures, 5th below
	try("192.0.2.1", "D", "guess")
	if code, _ := try("192.0.2.1", "E", "right"); code != http.StatusTooManyRequests {
		t.Fatalf("address over its limit: HTTP %d", code)
	}
	if n := testutil.CollectAndCount(reg, "billkey_iamport_gettoken_throttled_total"); n != 2 {
		t.Fatalf("throttled metric series: %d, want imp_key and address", n)
	}
	// The window passes: the key may try again.
	clk.Advance(time.Minute)
	if code, _ := try("198.51.100.7", "K", "right"); code != http.StatusOK {
		t.Fatalf("after the window: HTTP %d", code)
	}
}
