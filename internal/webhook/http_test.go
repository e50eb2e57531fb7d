package webhook_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/app"
	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/testenv"
	"github.com/billkey/billkey/internal/webhook"
)

// newEnv starts the whole app for the end-to-end tests: the operator HTTP
// endpoints and the worker started as in production. allowPrivate lets
// deliveries reach the loopback httptest receivers.
func newEnv(t *testing.T, b testenv.Backend) *apptest.Env {
	t.Helper()
	return apptest.New(t, b, func(c *app.Config) { c.WebhookAllowPrivate = true })
}

// payApp is pay on the whole app.
func payApp(t *testing.T, e *apptest.Env, m *core.Merchant, order, noticeURL string) *core.Payment {
	t.Helper()
	return payWith(t, e.App.Service, m, order, noticeURL)
}

type envelope[T any] struct {
	Code     int     `json:"code"`
	Message  *string `json:"message"`
	Response T       `json:"response"`
}

// The operator view over HTTP: the merchant's v1 token, its own events only.
func TestHTTPOperatorEndpoints(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		w := e.App.Webhooks()
		rc := newReceiver(t, downFor(1))
		if err := w.SetSettings(ctx, e.Merchant.ID, webhook.Settings{Format: "json", Profile: "iamport"}); err != nil {
			t.Fatal(err)
		}
		p := payApp(t, e, e.Merchant, "order-h", rc.URL)
		deliverDue(t, w)
		tok := e.Token(e.Cred)

		var evs envelope[[]webhook.Event]
		if st := e.Do("GET", "/webhooks/events?imp_uid="+p.ImpUID, "", nil, &evs); st != http.StatusUnauthorized || evs.Code == 0 {
			t.Fatalf("without a token: HTTP %d %+v", st, evs)
		}
		if st := e.Do("GET", "/webhooks/events?imp_uid="+p.ImpUID, tok, nil, &evs); st != 200 || len(evs.Response) != 1 {
			t.Fatalf("list: HTTP %d %+v", st, evs)
		}
		ev := evs.Response[0]
		if ev.Status != "pending" || ev.Attempts != 1 || ev.NextAttemptAt != e.Clock.Now().Add(time.Minute).Unix() || ev.Payload["status"] != "paid" {
			t.Fatalf("listed event: %+v", ev)
		}

		var one envelope[webhook.Event]
		if st := e.Do("GET", "/webhooks/events/"+ev.ID, tok, nil, &one); st != 200 || one.Response.ID != ev.ID {
			t.Fatalf("get event: HTTP %d %+v", st, one)
		}
		var atts envelope[[]webhook.Attempt]
		if st := e.Do("GET", "/webhooks/events/"+ev.ID+"/attempts", tok, nil, &atts); st != 200 || len(atts.Response) != 1 || atts.Response[0].StatusCode != 503 {
			t.Fatalf("attempts: HTTP %d %+v", st, atts)
		}

		// Resend now instead of waiting for the backoff.
		var rs envelope[map[string]any]
		if st := e.Do("POST", "/webhooks/events/"+ev.ID+"/resend", tok, nil, &rs); st != 200 {
			t.Fatalf("resend: HTTP %d %+v", st, rs)
		}
		deliverDue(t, w)
		if rc.count() != 2 {
			t.Fatalf("resend did not deliver: %d requests", rc.count())
		}
		var rf envelope[map[string]int]
		if st := e.Do("POST", "/webhooks/resend-failed", tok, nil, &rf); st != 200 || rf.Response["queued"] != 0 {
			t.Fatalf("resend-failed: HTTP %d %+v", st, rf)
		}

		var secs envelope[[]webhook.Secret]
		if st := e.Do("GET", "/webhooks/secret", tok, nil, &secs); st != 200 || len(secs.Response) != 1 {
			t.Fatalf("secret: HTTP %d %+v", st, secs)
		}
		if err := verify(secs.Response[0].Key, rc.deliveries()[1]); err != nil {
			t.Fatalf("the secret the endpoint shows does not verify deliveries: %v", err)
		}
		var rot envelope[webhook.Secret]
		if st := e.Do("POST", "/webhooks/secret/rotate", tok, map[string]int{"overlap_seconds": 3600}, &rot); st != 200 || rot.Response.Key == secs.Response[0].Key {
			t.Fatalf("rotate: HTTP %d %+v", st, rot)
		}
		if st := e.Do("GET", "/webhooks/secret", tok, nil, &secs); st != 200 || len(secs.Response) != 2 || secs.Response[1].ExpiresAt.Sub(e.Clock.Now()) != time.Hour {
			t.Fatalf("secrets after rotate: HTTP %d %+v", st, secs)
		}

		var set envelope[webhook.Settings]
		if st := e.Do("PUT", "/webhooks/settings", tok, map[string]string{"format": "form"}, &set); st != 200 || set.Response.Format != "form" || set.Response.Profile != "iamport" {
			t.Fatalf("put settings: HTTP %d %+v", st, set)
		}
		if st := e.Do("PUT", "/webhooks/settings", tok, map[string]string{"profile": "nope"}, &set); st != 400 {
			t.Fatalf("bad profile: HTTP %d", st)
		}

		// Another merchant sees none of it.
		otherCred, _ := e.NewMerchant("Other")
		otherTok := e.Token(otherCred)
		if st := e.Do("GET", "/webhooks/events?imp_uid="+p.ImpUID, otherTok, nil, &evs); st != 200 || len(evs.Response) != 0 {
			t.Fatalf("other merchant lists: HTTP %d %+v", st, evs)
		}
		for _, path := range []string{"/webhooks/events/" + ev.ID, "/webhooks/events/" + ev.ID + "/attempts"} {
			if st := e.Do("GET", path, otherTok, nil, &envelope[any]{}); st != 404 {
				t.Errorf("other merchant GET %s: HTTP %d, want 404", path, st)
			}
		}
		if st := e.Do("POST", "/webhooks/events/"+ev.ID+"/resend", otherTok, nil, &envelope[any]{}); st != 404 {
			t.Errorf("other merchant resend: HTTP %d, want 404", st)
		}
	})
}

// Started as in production, the worker delivers without being driven.
func TestRunDelivers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.SQLite(t))
	got := make(chan struct{}, 1)
	rc := newReceiver(t, func(int, http.ResponseWriter) { got <- struct{}{} })
	payApp(t, e, e.Merchant, "order-run", rc.URL)
	e.App.Start()
	e.App.Webhooks().Wake()
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not deliver a due event")
	}
}
