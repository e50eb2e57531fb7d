package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/testenv"
	"github.com/billkey/billkey/internal/webhook"
)

// A settled charge's outbox row reaches the merchant's endpoint with the V1
// payload, once.
func TestUnitSettledChargeIsDelivered(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		svc, bd := setup(t, b, true)
		rc := newReceiver(t, func(int, http.ResponseWriter) {})
		if err := bd.Store.SetMerchantWebhook(ctx, bd.Merchant.ID, rc.URL, "json"); err != nil {
			t.Fatal(err)
		}
		bd.IssueKey(t, "cust", "4242-4242-4242-4242")
		p, err := bd.Service.Again(ctx, bd.Merchant.ID, charge.PayInput{CustomerUID: "cust", MerchantUID: "o-1", Amount: 1000})
		if err != nil || p.Status != core.StatusPaid {
			t.Fatalf("again: %+v %v", p, err)
		}
		if n, err := svc.DeliverDue(ctx); err != nil || n != 1 {
			t.Fatalf("deliver: %d %v", n, err)
		}
		if n, err := svc.DeliverDue(ctx); err != nil || n != 0 {
			t.Fatalf("delivered twice: %d %v", n, err)
		}
		got := rc.deliveries()
		if len(got) != 1 {
			t.Fatalf("%d deliveries, want 1", len(got))
		}
		var body map[string]string
		if err := json.Unmarshal(got[0].Body, &body); err != nil || body["imp_uid"] != p.ImpUID || body["status"] != "paid" || body["merchant_uid"] != "o-1" {
			t.Fatalf("payload %s %v", got[0].Body, err)
		}
	})
}

// countingStore counts the worker's reads of a merchant's settings and
// secrets, and the claim passes that found work.
type countingStore struct {
	webhook.Store
	settings, secrets, passes atomic.Int32
}

func (c *countingStore) GetWebhookSettings(ctx context.Context, merchantID int64) (store.WebhookSettings, error) {
	c.settings.Add(1)
	return c.Store.GetWebhookSettings(ctx, merchantID)
}

func (c *countingStore) WebhookSecrets(ctx context.Context, merchantID int64, now time.Time) ([]store.WebhookSecret, error) {
	c.secrets.Add(1)
	return c.Store.WebhookSecrets(ctx, merchantID, now)
}

func (c *countingStore) ClaimEvents(ctx context.Context, ids []string, now, leaseUntil time.Time) ([]store.OutboxEvent, error) {
	evs, err := c.Store.ClaimEvents(ctx, ids, now, leaseUntil)
	if len(evs) > 0 {
		c.passes.Add(1)
	}
	return evs, err
}

// countingService is a second webhook node on e's store that counts its
// store reads; perMerchant 0 keeps the default share.
func countingService(e *testBundle, perMerchant int) (*webhook.Service, *countingStore) {
	cs := &countingStore{Store: e.Store}
	o := e.opts
	o.Store, o.PerMerchant = cs, perMerchant
	return webhook.New(o), cs
}

// A merchant's settings and signing secrets are read once per claim pass,
// not once per event: per event they cost the worker more database round
// trips than the charge that caused the event.
func TestUnitSettingsAndSecretsReadOncePerPass(t *testing.T) {
	t.Parallel()
	const n = 20
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		_, e := setup(t, b, true)
		rc := newReceiver(t, func(int, http.ResponseWriter) {})
		if err := e.Store.SetMerchantWebhook(ctx, e.Merchant.ID, rc.URL, "json"); err != nil {
			t.Fatal(err)
		}
		secret := currentSecret(t, e.webhooks, e.Merchant.ID)
		for i := range n {
			pay(t, e, e.Merchant, fmt.Sprintf("o-%d", i), "")
		}

		// A share as large as the backlog: one pass delivers everything.
		w, cs := countingService(e, n)
		if got := deliverDue(t, w); got != n {
			t.Fatalf("%d attempts, want %d", got, n)
		}
		if got := rc.deliveries(); len(got) != n {
			t.Fatalf("%d deliveries, want %d", len(got), n)
		} else if err := verify(secret, got[n-1]); err != nil {
			t.Fatalf("signature: %v", err)
		}
		if p, st, sec := cs.passes.Load(), cs.settings.Load(), cs.secrets.Load(); p != 1 || st != 1 || sec != 1 {
			t.Fatalf("%d events in %d pass(es) read settings %d and secrets %d times, want 1 each", n, p, st, sec)
		}
	})
}

// With the default per-merchant share a backlog takes several passes; each
// reads the settings and secrets once.
func TestUnitSettingsReadOncePerPassOfSharedMerchant(t *testing.T) {
	t.Parallel()
	const n = 10
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		_, e := setup(t, b, true)
		rc := newReceiver(t, func(int, http.ResponseWriter) {})
		if err := e.Store.SetMerchantWebhook(ctx, e.Merchant.ID, rc.URL, "json"); err != nil {
			t.Fatal(err)
		}
		// The first use creates the secret and reads it back: two reads.
		currentSecret(t, e.webhooks, e.Merchant.ID)
		for i := range n {
			pay(t, e, e.Merchant, fmt.Sprintf("o-%d", i), "")
		}
		w, cs := countingService(e, 0)
		if got := deliverDue(t, w); got != n || rc.count() != n {
			t.Fatalf("%d attempts, %d deliveries, want %d", got, rc.count(), n)
		}
		p, st, sec := cs.passes.Load(), cs.settings.Load(), cs.secrets.Load()
		if p < 2 || st != p || sec != p {
			t.Fatalf("%d passes read settings %d and secrets %d times, want once per pass over several passes", p, st, sec)
		}
	})
}

// Events that will not be sent (no URL anywhere: skipped) read the settings
// once per pass and never the signing secrets.
func TestUnitSkippedEventsReadNoSecrets(t *testing.T) {
	t.Parallel()
	const n = 20
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		_, e := setup(t, b, true)
		for i := range n {
			pay(t, e, e.Merchant, fmt.Sprintf("o-%d", i), "")
		}
		w, cs := countingService(e, n)
		if got := deliverDue(t, w); got != n {
			t.Fatalf("%d attempts, want %d", got, n)
		}
		if evs, err := e.Store.OutboxEvents(ctx, e.Merchant.ID, store.EventFilter{Status: store.EventSkipped}); err != nil || len(evs) != n {
			t.Fatalf("%d skipped events, want %d: %v", len(evs), n, err)
		}
		if st, sec := cs.settings.Load(), cs.secrets.Load(); st != 1 || sec != 0 {
			t.Fatalf("settings read %d times, secrets %d; want 1 and 0", st, sec)
		}
	})
}

// A merchant's backlog drains without new charges to wake the worker: a
// finished delivery frees its merchant's slot and starts another claim
// pass, instead of the slot waiting for the next tick (a backlog of
// resends once drained at 4 events per Interval).
func TestUnitBacklogDrainsWithoutNewCharges(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		_, bd := setup(t, b, true)
		const events = 13 // more than three passes' worth at 4 per merchant
		got := make(chan struct{}, events*2)
		rc := newReceiver(t, func(int, http.ResponseWriter) { got <- struct{}{} })
		if err := bd.Store.SetMerchantWebhook(ctx, bd.Merchant.ID, rc.URL, "json"); err != nil {
			t.Fatal(err)
		}
		for i := range events {
			pay(t, bd, bd.Merchant, fmt.Sprintf("o-%d", i), "")
		}
		// A worker of its own, which no charge wakes, ticking once an hour.
		o := bd.opts
		o.Interval = time.Hour
		w := webhook.New(o)
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { w.Run(runCtx); close(done) }()
		defer func() { stop(); <-done }()
		timeout := time.After(30 * time.Second) // a bound on failure only
		for n := 0; n < events; n++ {
			select {
			case <-got:
			case <-timeout:
				t.Fatalf("%d of %d events delivered: the backlog waits for a tick", n, events)
			}
		}
	})
}
