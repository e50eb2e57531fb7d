package app_test

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

	"github.com/billkey/billkey/internal/app"
	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/testenv"
)

// Every V1 surface — API, /webhooks/ and /sandbox/clock — takes the token
// the same ways (Authorization with or without Bearer, X-ImpTokenHeader,
// ?_token=) and answers in the same envelope.
func TestOneTokenParserAndEnvelopeForEveryV1Surface(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, testenv.SQLite(t))
	tok := e.Token(e.Cred)
	get := func(path string, header ...string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("GET", e.Server.URL+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var env map[string]any
		if err := json.Unmarshal(raw, &env); err != nil {
			t.Fatalf("GET %s: not an envelope: %s", path, raw)
		}
		for _, k := range []string{"code", "message", "response"} {
			if _, ok := env[k]; !ok {
				t.Fatalf("GET %s: envelope without %q: %s", path, k, raw)
			}
		}
		return resp.StatusCode, env
	}
	for _, path := range []string{"/users/pg", "/webhooks/settings", "/webhooks/events?status=failed", "/sandbox/clock"} {
		for _, how := range [][]string{
			{"Authorization", "Bearer " + tok},
			{"Authorization", tok},
			{"X-ImpTokenHeader", tok},
		} {
			if st, env := get(path, how...); st != 200 || env["code"].(float64) != 0 {
				t.Errorf("GET %s with %s: HTTP %d %v", path, how[0], st, env)
			}
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		if st, env := get(path + sep + "_token=" + tok); st != 200 || env["code"].(float64) != 0 {
			t.Errorf("GET %s with ?_token=: HTTP %d %v", path, st, env)
		}
		st, env := get(path)
		if st != http.StatusUnauthorized || env["code"].(float64) != -1 {
			t.Errorf("GET %s without a token: HTTP %d %v", path, st, env)
		}
	}
}

// A request id is taken from X-Request-Id (or made), echoed, and on every log
// line of the request; v3 requests get the same access line as V1 ones.
func TestRequestIDsAndAccessLines(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, testenv.SQLite(t))
	tok := e.Token(e.Cred)
	send := func(path, id string, header ...string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", e.Server.URL+path, nil)
		if id != "" {
			req.Header.Set("X-Request-Id", id)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("X-Request-Id")
	}
	if got := send("/users/pg", "req-v1-42", "Authorization", "Bearer "+tok); got != "req-v1-42" {
		t.Fatalf("V1 response X-Request-Id %q", got)
	}
	if got := send("/v3/subscriptions/1", "req-v3-42"); got != "req-v3-42" {
		t.Fatalf("v3 response X-Request-Id %q", got)
	}
	if got := send("/users/pg", ""); len(got) != 16 {
		t.Fatalf("generated X-Request-Id %q", got)
	}
	logs := e.Logs.String()
	var v1, v3 bool
	for _, l := range strings.Split(logs, "\n") {
		v1 = v1 || strings.Contains(l, "iamport request") && strings.Contains(l, "request_id=req-v1-42")
		v3 = v3 || strings.Contains(l, "v3 request") && strings.Contains(l, "request_id=req-v3-42") && strings.Contains(l, "status=")
	}
	if !v1 || !v3 {
		t.Fatalf("access lines with request ids: V1 %v, v3 %v\n%s", v1, v3, logs)
	}
}

// A webhook names the request that caused it: its delivery carries that
// request's X-Request-Id, and the delivery's log line too, so a merchant can
// follow one payment from their call to their receiver.
func TestWebhookCarriesCausingRequestID(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b, func(c *app.Config) { c.WebhookAllowPrivate = true })
		got := make(chan http.Header, 4)
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.Header.Clone() }))
		t.Cleanup(rcv.Close)
		body, _ := json.Marshal(map[string]any{"merchant_uid": "rid_1", "amount": 1000, "card_number": "4242-4242-4242-4242",
			"expiry": "2030-12", "birth": "800101", "notice_url": rcv.URL})
		req, _ := http.NewRequest("POST", e.Server.URL+"/subscribe/payments/onetime", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.Token(e.Cred))
		req.Header.Set("X-Request-Id", "req-pay-7")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if n, err := e.App.Webhooks().DeliverDue(t.Context()); err != nil || n != 1 {
			t.Fatalf("deliver: %d %v", n, err)
		}
		h := <-got
		if h.Get("X-Request-Id") != "req-pay-7" || h.Get("webhook-id") == "" {
			t.Fatalf("delivery X-Request-Id %q (webhook-id %q), want the paying request's", h.Get("X-Request-Id"), h.Get("webhook-id"))
		}
		var logged bool
		for _, l := range strings.Split(e.Logs.String(), "\n") {
			logged = logged || strings.Contains(l, "webhook") && strings.Contains(l, "request_id=req-pay-7") && strings.Contains(l, h.Get("webhook-id"))
		}
		if !logged {
			t.Fatalf("no delivery log line names the request:\n%s", e.Logs.String())
		}
	})
}

// BILLKEY_WEBHOOK_CONCURRENCY reaches the delivery worker: one claim pass
// starts as many of a merchant's deliveries as it allows (4 by default),
// which bounds how many webhooks per second one merchant can get.
func TestWebhookConcurrencySetting(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b, func(c *app.Config) { c.WebhookAllowPrivate = true; c.WebhookConcurrency = 6 })
		release := make(chan struct{})
		var arrived atomic.Int32
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			arrived.Add(1)
			<-release
		}))
		t.Cleanup(rcv.Close)
		for i := range 9 {
			body, _ := json.Marshal(map[string]any{"merchant_uid": fmt.Sprintf("conc_%d", i), "amount": 1000,
				"card_number": "4242-4242-4242-4242", "expiry": "2030-12", "birth": "800101", "notice_url": rcv.URL})
			req, _ := http.NewRequest("POST", e.Server.URL+"/subscribe/payments/onetime", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+e.Token(e.Cred))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		w := e.App.Core.Webhooks()
		n, err := w.Dispatch(context.Background())
		close(release)
		w.Wait()
		if err != nil || n != 6 {
			t.Fatalf("one pass started %d deliveries of the merchant's 9 (%v), want 6", n, err)
		}
	})
}
