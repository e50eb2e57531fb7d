package webhook_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/charge/chargetest"
	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/testenv"
	"github.com/billkey/billkey/internal/webhook"
)

var ctx = context.Background()

// testBundle is what a unit test of the webhook service drives besides the
// service: the charge protocol writing outbox events, the receivers' wall
// clock and the metrics registry.
type testBundle struct {
	*chargetest.Bundle
	webhooks *webhook.Service
	opts     webhook.Options // to start another node on the same store
	Wall     *clock.Test
	registry *prometheus.Registry
}

// setup builds just the webhook service on a real store, with the charge
// protocol and the sandbox PG to produce events, not the whole app.
// allowPrivate lets deliveries reach the loopback httptest receivers.
func setup(t *testing.T, b testenv.Backend, allowPrivate bool) (*webhook.Service, *testBundle) {
	t.Helper()
	bd := chargetest.New(t, b)
	tb := &testBundle{Bundle: bd, Wall: clock.NewTest(time.Now()), registry: prometheus.NewRegistry()}
	tb.opts = webhook.Options{Store: bd.Store, Vault: bd.Vault, Clock: bd.Clock, WallClock: tb.Wall,
		Logger: bd.Log.With("component", "webhook"), AllowPrivate: allowPrivate}
	o := tb.opts
	o.Registerer = tb.registry
	tb.webhooks = webhook.New(o)
	bd.Service.OnEventsWritten(tb.webhooks.Wake)
	return tb.webhooks, tb
}

// delivery is one request a receiver got.
type delivery struct {
	Header http.Header
	Body   []byte
}

// receiver is a webhook endpoint whose answers the test scripts: respond
// gets the 1-based request number and writes the response.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []delivery
	respond func(n int, w http.ResponseWriter)
}

func newReceiver(t *testing.T, respond func(n int, w http.ResponseWriter)) *receiver {
	t.Helper()
	rc := &receiver{respond: respond}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, delivery{Header: r.Header.Clone(), Body: body})
		n := len(rc.got)
		rc.mu.Unlock()
		if rc.respond != nil {
			rc.respond(n, w)
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

// downFor answers 503 to the first n requests and 200 after.
func downFor(n int) func(int, http.ResponseWriter) {
	return func(i int, w http.ResponseWriter) {
		if i <= n {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
		}
	}
}

func (rc *receiver) deliveries() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.got...)
}

func (rc *receiver) count() int { return len(rc.deliveries()) }

// pay charges a fresh billing key of merchant m and returns the payment;
// the charge engine writes its payment.paid outbox event.
func pay(t *testing.T, e *testBundle, m *core.Merchant, order, noticeURL string) *core.Payment {
	t.Helper()
	return payWith(t, e.Service, m, order, noticeURL)
}

func payWith(t *testing.T, svc *charge.Service, m *core.Merchant, order, noticeURL string) *core.Payment {
	t.Helper()
	cust := "cust-" + order
	_, err := svc.IssueBillingKey(ctx, m.ID, charge.IssueKeyInput{CustomerUID: cust,
		Card: pg.Card{Number: "4242424242424242", Expiry: "2030-12", Birth: "800101", Pwd2Digit: "12"}})
	if err != nil {
		t.Fatalf("issue key: %v", err)
	}
	p, err := svc.Again(ctx, m.ID, charge.PayInput{CustomerUID: cust, MerchantUID: order, Amount: 1000, Name: "월간 이용권", NoticeURL: noticeURL})
	if err != nil || p.Status != core.StatusPaid {
		t.Fatalf("again %s: %+v %v", order, p, err)
	}
	return p
}

func deliverDue(t *testing.T, w *webhook.Service) int {
	t.Helper()
	n, err := w.DeliverDue(ctx)
	if err != nil {
		t.Fatalf("deliver due: %v", err)
	}
	return n
}

func onlyEvent(t *testing.T, e *testBundle, merchantID int64, impUID string) store.OutboxEvent {
	t.Helper()
	evs, err := e.Store.OutboxEvents(ctx, merchantID, store.EventFilter{ImpUID: impUID})
	if err != nil || len(evs) != 1 {
		t.Fatalf("events of %s: %+v %v", impUID, evs, err)
	}
	return evs[0]
}

// verify checks a delivery with the official Standard Webhooks library. Its
// tolerance check compares with the wall clock, which the test clock is
// not, so the timestamp is checked separately by the callers.
func verify(secret string, d delivery) error {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return err
	}
	return wh.VerifyIgnoringTimestamp(d.Body, d.Header)
}

func currentSecret(t *testing.T, w *webhook.Service, merchantID int64) string {
	t.Helper()
	secs, err := w.Secrets(ctx, merchantID)
	if err != nil || len(secs) == 0 {
		t.Fatalf("secrets: %+v %v", secs, err)
	}
	return secs[0].Key
}

// counter reads billkey_webhook_deliveries_total{outcome}.
func counter(t *testing.T, e *testBundle, outcome string) float64 {
	t.Helper()
	mfs, err := e.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "billkey_webhook_deliveries_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label(m, "outcome") == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func gauge(t *testing.T, e *testBundle, name, status string) float64 {
	t.Helper()
	mfs, err := e.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label(m, "status") == status {
				return m.GetGauge().GetValue()
			}
		}
	}
	return -1
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func hasPrefix(s, p string) bool { return strings.HasPrefix(s, p) }
