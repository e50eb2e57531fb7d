package app_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/api/v3/d24"
	"github.com/billkey/billkey/internal/app"
	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/testenv"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// TestSandboxClockStaysInSandbox: after the sandbox clock jumps 30 days, a
// D24 client signing X-Date with its real clock still gets in, and a
// webhook receiver verifying with the official Standard Webhooks library
// (which checks webhook-timestamp against its own clock) accepts the
// deliveries. The test clock moves billing time only.
func TestSandboxClockStaysInSandbox(t *testing.T) {
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b, func(c *app.Config) { c.WebhookAllowPrivate = true })
		var (
			mu  sync.Mutex
			got []*http.Request
			bod [][]byte
		)
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			got, bod = append(got, r), append(bod, body)
			mu.Unlock()
		}))
		t.Cleanup(rcv.Close)

		tok := e.Token(e.Cred)
		var clk envelope
		e.Do("POST", "/sandbox/clock/advance", tok, map[string]any{"seconds": 30 * 24 * 3600}, &clk)
		if clk.Code != 0 {
			t.Fatalf("advance: %+v", clk)
		}
		tok = e.Token(e.Cred) // the old token expired in billing time

		// A D24 client signing with its own (real) clock.
		xDate := time.Now().UTC().Format(time.RFC3339)
		req, _ := http.NewRequest("GET", e.Server.URL+"/v3/subscriptions/424242", nil)
		req.Header.Set("X-Date", xDate)
		req.Header.Set("X-Login", e.Cred.XLogin)
		req.Header.Set("Authorization", d24.Sign(e.Cred.APISignature, xDate, e.Cred.XLogin, nil))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 420 || !strings.Contains(string(body), "SUBSCRIPTION_NOT_FOUND") {
			t.Fatalf("wall-clock signed request after an advance: %d %s", resp.StatusCode, body)
		}

		// A V1 payment's webhook, delivered after the advance.
		var out envelope
		e.Do("POST", "/subscribe/payments/onetime", tok, map[string]any{
			"merchant_uid": "wall_1", "amount": 1000, "card_number": "4242-4242-4242-4242", "expiry": "2030-12",
			"birth": "800101", "notice_url": rcv.URL}, &out)
		if out.Code != 0 || out.Response["status"] != "paid" {
			t.Fatalf("onetime: %+v", out)
		}
		if n, err := e.App.Webhooks().DeliverDue(t.Context()); err != nil || n != 1 {
			t.Fatalf("deliver: %d %v", n, err)
		}
		var secret struct {
			Code     int `json:"code"`
			Response []struct {
				Secret string `json:"secret"`
			} `json:"response"`
		}
		e.Do("GET", "/webhooks/secret", tok, nil, &secret)
		if len(secret.Response) == 0 {
			t.Fatalf("secret: %+v", secret)
		}
		wh, err := standardwebhooks.NewWebhook(secret.Response[0].Secret)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(got) != 1 {
			t.Fatalf("%d deliveries", len(got))
		}
		if err := wh.Verify(bod[0], got[0].Header); err != nil {
			t.Fatalf("Standard Webhooks receiver refuses the delivery after an advance: %v (webhook-timestamp %s, billing time %d)",
				err, got[0].Header.Get("webhook-timestamp"), e.Clock.Now().Unix())
		}
	})
}
