package webhook_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/testenv"
	"github.com/billkey/billkey/internal/webhook"
)

// A receiver down for the first N attempts gets the event once it recovers,
// on the profile's schedule and never early, under one webhook-id, signed.
func TestReceiverDownThenRecovers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		profile string
		down    int
	}{
		{"default", 3},
		{"iamport", 5}, // every retry used: the 6th and last attempt succeeds
		{"d24", 2},
	}
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		for _, tc := range cases {
			t.Run(tc.profile, func(t *testing.T) {
				_, e := setup(t, b, true)
				w := e.webhooks
				if err := w.SetSettings(ctx, e.Merchant.ID, webhook.Settings{Format: "json", Profile: tc.profile}); err != nil {
					t.Fatal(err)
				}
				rc := newReceiver(t, downFor(tc.down))
				p := pay(t, e, e.Merchant, "order-"+tc.profile, rc.URL+"/hook?src=billkey")
				ev := onlyEvent(t, e, e.Merchant.ID, p.ImpUID)
				delays := webhook.Profiles[tc.profile].Delays
				sentAt := []time.Time{}

				for attempt := 1; attempt <= tc.down+1; attempt++ {
					// Receivers check webhook-timestamp against their own
					// clock: it is the wall clock at the attempt, whatever
					// the billing clock says.
					e.Wall.Advance(time.Second)
					sentAt = append(sentAt, e.Wall.Now())
					if n := deliverDue(t, w); n != 1 {
						t.Fatalf("attempt %d: %d deliveries", attempt, n)
					}
					if rc.count() != attempt {
						t.Fatalf("receiver got %d requests, want %d", rc.count(), attempt)
					}
					if attempt > tc.down {
						break
					}
					got := onlyEvent(t, e, e.Merchant.ID, p.ImpUID)
					if want := e.Clock.Now().Add(delays[attempt-1]); got.Status != store.EventPending || !got.NextAttemptAt.Equal(want) {
						t.Fatalf("after failed attempt %d: status %s next %v, want pending at %v", attempt, got.Status, got.NextAttemptAt, want)
					}
					// Nothing happens a second early.
					e.Clock.Advance(delays[attempt-1] - time.Second)
					if n := deliverDue(t, w); n != 0 {
						t.Fatalf("attempt %d retried %d times before its delay", attempt, n)
					}
					e.Clock.Advance(time.Second)
				}

				got := onlyEvent(t, e, e.Merchant.ID, p.ImpUID)
				if got.Status != store.EventDelivered || got.Attempts != tc.down+1 || !got.DeliveredAt.Equal(e.Clock.Now()) {
					t.Fatalf("event after recovery: %+v", got)
				}
				secret := currentSecret(t, w, e.Merchant.ID)
				for i, d := range rc.deliveries() {
					if id := d.Header.Get("webhook-id"); id != ev.ID {
						t.Errorf("attempt %d webhook-id %q, want the event id %q on every attempt", i+1, id, ev.ID)
					}
					if ts := d.Header.Get("webhook-timestamp"); ts != strconv.FormatInt(sentAt[i].Unix(), 10) {
						t.Errorf("attempt %d webhook-timestamp %s, want the wall-clock attempt time %d", i+1, ts, sentAt[i].Unix())
					}
					if err := verify(secret, d); err != nil {
						t.Errorf("attempt %d does not verify: %v", i+1, err)
					}
					var body map[string]string
					if err := json.Unmarshal(d.Body, &body); err != nil || d.Header.Get("Content-Type") != "application/json" {
						t.Fatalf("attempt %d body %s (%s): %v", i+1, d.Body, d.Header.Get("Content-Type"), err)
					}
					want := map[string]string{"imp_uid": p.ImpUID, "merchant_uid": p.MerchantUID, "status": "paid"}
					if len(body) != len(want) || body["imp_uid"] != want["imp_uid"] || body["merchant_uid"] != want["merchant_uid"] || body["status"] != "paid" {
						t.Errorf("attempt %d body %v, want exactly %v", i+1, body, want)
					}
				}

				attempts, err := w.Attempts(ctx, e.Merchant.ID, ev.ID)
				if err != nil || len(attempts) != tc.down+1 {
					t.Fatalf("attempt log: %+v %v", attempts, err)
				}
				for i, a := range attempts {
					wantCode := http.StatusServiceUnavailable
					if i == tc.down {
						wantCode = http.StatusOK
					}
					if a.AttemptNo != i+1 || a.StatusCode != wantCode || (wantCode != 200) != (a.Error != "") {
						t.Errorf("logged attempt %d: %+v", i+1, a)
					}
					if wantCode != 200 && !strings.Contains(a.Error, "maintenance") {
						t.Errorf("logged attempt %d error %q should quote the receiver", i+1, a.Error)
					}
				}
				if got, want := counter(t, e, "retrying"), float64(tc.down); got != want {
					t.Errorf("retrying count %v, want %v", got, want)
				}
				if got := counter(t, e, "delivered"); got != 1 {
					t.Errorf("delivered count %v, want 1", got)
				}
			})
		}
	})
}

// A receiver that never recovers exhausts the profile; resending the failed
// events gives them a fresh schedule under the same webhook-id.
func TestExhaustedThenResendFailed(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		_, e := setup(t, b, true)
		w := e.webhooks
		rc := newReceiver(t, downFor(7))
		if err := w.SetSettings(ctx, e.Merchant.ID, webhook.Settings{URL: rc.URL, Format: "json", Profile: "iamport"}); err != nil {
			t.Fatal(err)
		}
		p := pay(t, e, e.Merchant, "order-x", "") // no notice_url: the merchant default
		for range 6 {
			deliverDue(t, w)
			e.Clock.Advance(time.Minute)
		}
		e.Clock.Advance(time.Hour)
		if n := deliverDue(t, w); n != 0 || rc.count() != 6 {
			t.Fatalf("after exhaustion: %d more attempts, %d requests; want 0 and 6", n, rc.count())
		}
		ev := onlyEvent(t, e, e.Merchant.ID, p.ImpUID)
		if ev.Status != store.EventFailed || ev.NextAttemptAt.After(e.Clock.Now()) && ev.Status == store.EventPending {
			t.Fatalf("exhausted event: %+v", ev)
		}
		if counter(t, e, "failed") != 1 {
			t.Errorf("failed count %v, want 1", counter(t, e, "failed"))
		}
		if depth := gauge(t, e, "billkey_webhook_queue_depth", "failed"); depth != 1 {
			t.Errorf("failed queue depth %v, want 1", depth)
		}

		n, err := w.ResendFailed(ctx, e.Merchant.ID)
		if err != nil || n != 1 {
			t.Fatalf("resend failed: %d %v", n, err)
		}
		deliverDue(t, w) // 7th request: still down, but a fresh schedule keeps it pending
		if ev := onlyEvent(t, e, e.Merchant.ID, p.ImpUID); ev.Status != store.EventPending {
			t.Fatalf("resent event after one failure: %+v", ev)
		}
		e.Clock.Advance(time.Minute)
		deliverDue(t, w)
		ds := rc.deliveries()
		if len(ds) != 8 || onlyEvent(t, e, e.Merchant.ID, p.ImpUID).Status != store.EventDelivered {
			t.Fatalf("after resend: %d requests, event %+v", len(ds), onlyEvent(t, e, e.Merchant.ID, p.ImpUID))
		}
		if ds[7].Header.Get("webhook-id") != ds[0].Header.Get("webhook-id") {
			t.Error("a resend must keep the webhook-id so receivers can deduplicate")
		}
		if attempts, _ := w.Attempts(ctx, e.Merchant.ID, ev.ID); len(attempts) != 8 || attempts[7].AttemptNo != 8 {
			t.Errorf("attempt log after resend: %+v", attempts)
		}
	})
}

// A node stopped mid-backoff and another started on the same database
// loses nothing: the schedule, the secret and the event id all survive.
func TestRestartMidBackoff(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		_, e := setup(t, b, true)
		rc := newReceiver(t, downFor(1))
		p := pay(t, e, e.Merchant, "order-r", rc.URL)
		secret := currentSecret(t, e.webhooks, e.Merchant.ID)
		deliverDue(t, e.webhooks)
		if rc.count() != 1 {
			t.Fatalf("first attempt not made")
		}
		// Another node (or this one restarted) holds nothing in memory: the
		// backoff, the event and the secret live in the store.
		w2 := webhook.New(e.opts)
		if n, _ := w2.DeliverDue(ctx); n != 0 {
			t.Fatalf("restart retried %d early", n)
		}
		e.Clock.Advance(time.Minute)
		if n, err := w2.DeliverDue(ctx); n != 1 || err != nil {
			t.Fatalf("after restart: %d deliveries, %v", n, err)
		}
		ds := rc.deliveries()
		if len(ds) != 2 || ds[0].Header.Get("webhook-id") != ds[1].Header.Get("webhook-id") {
			t.Fatalf("deliveries across restart: %d, ids %q", len(ds), []string{ds[0].Header.Get("webhook-id"), ds[len(ds)-1].Header.Get("webhook-id")})
		}
		if err := verify(secret, ds[1]); err != nil {
			t.Errorf("secret did not survive the restart: %v", err)
		}
		evs, err := e.Store.OutboxEvents(ctx, e.Merchant.ID, store.EventFilter{ImpUID: p.ImpUID})
		if err != nil || len(evs) != 1 || evs[0].Status != store.EventDelivered {
			t.Fatalf("event after restart: %+v %v", evs, err)
		}
	})
}

// A node that claims an event and dies mid-delivery holds it only for the
// lease; then any node delivers it.
func TestCrashedClaimComesBackAfterLease(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		_, e := setup(t, b, true)
		rc := newReceiver(t, nil)
		p := pay(t, e, e.Merchant, "order-c", rc.URL)
		ev := onlyEvent(t, e, e.Merchant.ID, p.ImpUID)
		now := e.Clock.Now()
		claimed, err := e.Store.ClaimEvents(ctx, []string{ev.ID}, now, now.Add(2*time.Minute))
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim: %+v %v", claimed, err)
		}
		// The claim's holder "crashes" here. Nobody else may take it meanwhile.
		if again, _ := e.Store.ClaimEvents(ctx, []string{ev.ID}, now, now.Add(2*time.Minute)); len(again) != 0 {
			t.Fatal("a leased event was claimed twice")
		}
		if n := deliverDue(t, e.webhooks); n != 0 {
			t.Fatalf("leased event delivered %d times during the lease", n)
		}
		if err := e.webhooks.Resend(ctx, e.Merchant.ID, ev.ID); !errors.Is(err, core.ErrConflict) {
			t.Fatalf("resend during a lease: %v, want conflict", err)
		}
		e.Clock.Advance(2 * time.Minute)
		if n := deliverDue(t, e.webhooks); n != 1 || rc.count() != 1 {
			t.Fatalf("after the lease: %d deliveries, %d requests", n, rc.count())
		}
		// The dead holder's late report must not overwrite the real outcome.
		ok, err := e.Store.FinishDelivery(ctx, store.DeliveryResult{EventID: ev.ID, MerchantID: e.Merchant.ID,
			ClaimedAttempts: claimed[0].Attempts, LeasedUntil: claimed[0].LeasedUntil, Status: store.EventFailed,
			Attempt: store.WebhookAttempt{AttemptNo: 1, URL: rc.URL, CreatedAt: now, Error: "late"}})
		if err != nil || ok {
			t.Fatalf("stale finish applied=%v err=%v", ok, err)
		}
		if got := onlyEvent(t, e, e.Merchant.ID, p.ImpUID); got.Status != store.EventDelivered {
			t.Fatalf("stale finish overwrote the outcome: %+v", got)
		}
	})
}

// Signatures verify with the official Standard Webhooks library and fail
// after any tampering.
func TestSignaturesVerifyAndDetectTampering(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		_, e := setup(t, b, true)
		w := e.webhooks
		rc := newReceiver(t, nil)
		pay(t, e, e.Merchant, "order-s", rc.URL)
		deliverDue(t, w)
		d := rc.deliveries()[0]
		secret := currentSecret(t, w, e.Merchant.ID)
		if !hasPrefix(secret, "whsec_") || !hasPrefix(d.Header.Get("webhook-signature"), "v1,") {
			t.Fatalf("secret %q… signature %q", secret[:8], d.Header.Get("webhook-signature"))
		}
		if err := verify(secret, d); err != nil {
			t.Fatalf("genuine delivery does not verify: %v", err)
		}
		other := e.NewMerchant(t, "Other")
		otherSecret := currentSecret(t, w, other.ID)

		tamper := []struct {
			name   string
			secret string
			mutate func(*delivery)
		}{
			{"body", secret, func(d *delivery) { d.Body = []byte(strings.Replace(string(d.Body), "paid", "cancelled", 1)) }},
			{"body whitespace", secret, func(d *delivery) { d.Body = append(d.Body, ' ') }},
			{"id", secret, func(d *delivery) { d.Header.Set("webhook-id", d.Header.Get("webhook-id")+"x") }},
			{"timestamp", secret, func(d *delivery) {
				ts, _ := strconv.ParseInt(d.Header.Get("webhook-timestamp"), 10, 64)
				d.Header.Set("webhook-timestamp", strconv.FormatInt(ts+1, 10))
			}},
			{"signature", secret, func(d *delivery) {
				s := []byte(d.Header.Get("webhook-signature"))
				s[5] ^= 1
				d.Header.Set("webhook-signature", string(s))
			}},
			{"another merchant's secret", otherSecret, func(*delivery) {}},
		}
		for _, tc := range tamper {
			t.Run(tc.name, func(t *testing.T) {
				c := delivery{Header: d.Header.Clone(), Body: append([]byte(nil), d.Body...)}
				tc.mutate(&c)
				if err := verify(tc.secret, c); err == nil {
					t.Fatal("tampered delivery verified")
				}
			})
		}
	})
}

// Rotating signs with old and new secrets for the overlap, then the new only.
func TestSecretRotationOverlap(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		_, e := setup(t, b, true)
		w := e.webhooks
		rc := newReceiver(t, nil)
		old := currentSecret(t, w, e.Merchant.ID)
		fresh, err := w.RotateSecret(ctx, e.Merchant.ID, 0)
		if err != nil || fresh.Key == old {
			t.Fatalf("rotate: %v", err)
		}
		secs, _ := w.Secrets(ctx, e.Merchant.ID)
		if len(secs) != 2 || secs[0].Key != fresh.Key || !secs[1].ExpiresAt.Equal(e.Clock.Now().Add(24*time.Hour)) {
			t.Fatalf("secrets after rotation: %+v", secs)
		}

		pay(t, e, e.Merchant, "order-o1", rc.URL)
		deliverDue(t, w)
		d := rc.deliveries()[0]
		if sigs := strings.Fields(d.Header.Get("webhook-signature")); len(sigs) != 2 {
			t.Fatalf("during the overlap want 2 signatures, got %q", sigs)
		}
		for name, s := range map[string]string{"old": old, "new": fresh.Key} {
			if err := verify(s, d); err != nil {
				t.Errorf("%s secret does not verify during the overlap: %v", name, err)
			}
		}

		e.Clock.Advance(24*time.Hour + time.Second)
		pay(t, e, e.Merchant, "order-o2", rc.URL)
		deliverDue(t, w)
		d = rc.deliveries()[1]
		if sigs := strings.Fields(d.Header.Get("webhook-signature")); len(sigs) != 1 {
			t.Fatalf("after the overlap want 1 signature, got %q", sigs)
		}
		if verify(fresh.Key, d) != nil || verify(old, d) == nil {
			t.Error("after the overlap only the new secret may verify")
		}
	})
}

// One merchant whose receiver hangs does not delay another's deliveries, and
// holds at most its per-merchant share of the workers.
func TestSlowMerchantDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		_, e := setup(t, b, true)
		w := e.webhooks
		release := make(chan struct{})
		arrived := make(chan struct{}, 16)
		slow := newReceiver(t, func(int, http.ResponseWriter) { arrived <- struct{}{}; <-release })
		fastGot := make(chan struct{}, 1)
		fast := newReceiver(t, func(int, http.ResponseWriter) { fastGot <- struct{}{} })
		defer func() {
			select {
			case <-release:
			default:
				close(release)
			}
		}()

		other := e.NewMerchant(t, "Fast Merchant")
		for i := range 6 {
			pay(t, e, e.Merchant, "slow-"+strconv.Itoa(i), slow.URL)
		}
		pay(t, e, other, "fast-1", fast.URL)

		started, err := w.Dispatch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if started != 5 {
			t.Fatalf("dispatched %d, want 4 for the slow merchant (its share) and 1 for the other", started)
		}
		select {
		case <-fastGot:
		case <-time.After(10 * time.Second):
			t.Fatal("the fast merchant's webhook waited behind the slow merchant")
		}
		// A second pass while the slow merchant is saturated still serves others.
		pay(t, e, other, "fast-2", fast.URL)
		if n, err := w.Dispatch(ctx); err != nil || n != 1 {
			t.Fatalf("second pass with the slow merchant saturated: %d %v", n, err)
		}
		select {
		case <-fastGot:
		case <-time.After(10 * time.Second):
			t.Fatal("the fast merchant's second webhook waited behind the slow merchant")
		}
		// The slow merchant's share has reached its receiver (requests may
		// land after Dispatch returns), and not one more.
		for i := 0; i < 4; i++ {
			select {
			case <-arrived:
			case <-time.After(10 * time.Second):
				t.Fatalf("only %d of the slow merchant's 4 deliveries arrived", i)
			}
		}
		if slow.count() != 4 {
			t.Fatalf("slow receiver has %d concurrent deliveries, want its share of 4", slow.count())
		}
		close(release)
		deliverDue(t, w) // the remaining 2 go out once the share frees up
		if slow.count() != 6 || fast.count() != 2 {
			t.Fatalf("slow %d fast %d, want 6 and 2", slow.count(), fast.count())
		}
	})
}

// A delivery that hangs past the per-delivery timeout is a failed attempt.
func TestDeliveryTimeout(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		_, e := setup(t, b, true)
		release := make(chan struct{})
		defer close(release)
		rc := newReceiver(t, func(int, http.ResponseWriter) { <-release })
		w := webhook.New(webhook.Options{Store: e.Store, Vault: e.Vault, Clock: e.Clock, Logger: e.Log,
			AllowPrivate: true, Timeout: 200 * time.Millisecond})
		p := pay(t, e, e.Merchant, "order-t", rc.URL)
		deliverDue(t, w)
		ev := onlyEvent(t, e, e.Merchant.ID, p.ImpUID)
		attempts, _ := w.Attempts(ctx, e.Merchant.ID, ev.ID)
		if ev.Status != store.EventPending || len(attempts) != 1 || attempts[0].StatusCode != 0 || attempts[0].Error == "" {
			t.Fatalf("timed-out attempt: %+v %+v", ev, attempts)
		}
	})
}

// With the allow-private setting off, destinations on loopback are refused
// at dial time, whatever the URL spells, and nothing reaches them.
func TestPrivateDestinationsRefused(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		_, e := setup(t, b, false) // private destinations refused
		rc := newReceiver(t, nil)
		port := rc.Listener.Addr().(interface{ String() string }).String()
		_, port, _ = strings.Cut(port, ":")
		for i, u := range []string{
			"http://127.0.0.1:" + port + "/hook",
			"http://localhost:" + port + "/hook", // a name that resolves to loopback
			"http://[::1]:" + port + "/hook",
			"http://0.0.0.0:" + port + "/hook",            // reaches loopback on Linux
			"http://[::ffff:127.0.0.1]:" + port + "/hook", // IPv4-mapped loopback
		} {
			t.Run(u, func(t *testing.T) {
				p := pay(t, e, e.Merchant, "order-p"+strconv.Itoa(i), u)
				deliverDue(t, e.webhooks)
				ev := onlyEvent(t, e, e.Merchant.ID, p.ImpUID)
				attempts, _ := e.webhooks.Attempts(ctx, e.Merchant.ID, ev.ID)
				if ev.Status != store.EventFailed || len(attempts) != 1 {
					t.Fatalf("event %+v attempts %+v, want failed after one refused attempt", ev, attempts)
				}
				if a := attempts[0].Error; !strings.Contains(a, "private, loopback or link-local") && !strings.Contains(a, "no such host") {
					t.Errorf("attempt error %q should say why", a)
				}
			})
		}
		if rc.count() != 0 {
			t.Fatalf("the loopback receiver got %d requests", rc.count())
		}
		if counter(t, e, "refused") != 5 {
			t.Errorf("refused count %v", counter(t, e, "refused"))
		}
	})
}

// Behaviour at the edges: Retry-After, redirects, missing URL, form bodies,
// cancellations.
func TestDeliveryEdges(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		t.Run("retry-after is honoured", func(t *testing.T) {
			_, e := setup(t, b, true)
			rc := newReceiver(t, func(n int, w http.ResponseWriter) {
				if n == 1 {
					w.Header().Set("Retry-After", "600")
					w.WriteHeader(http.StatusTooManyRequests)
				}
			})
			p := pay(t, e, e.Merchant, "order-ra", rc.URL)
			deliverDue(t, e.webhooks)
			if ev := onlyEvent(t, e, e.Merchant.ID, p.ImpUID); !ev.NextAttemptAt.Equal(e.Clock.Now().Add(10 * time.Minute)) {
				t.Fatalf("next attempt %v, want Retry-After's 10 minutes over the profile's 1", ev.NextAttemptAt.Sub(e.Clock.Now()))
			}
			e.Clock.Advance(5 * time.Minute)
			if n := deliverDue(t, e.webhooks); n != 0 {
				t.Fatal("retried before Retry-After")
			}
			e.Clock.Advance(5 * time.Minute)
			if n := deliverDue(t, e.webhooks); n != 1 || rc.count() != 2 {
				t.Fatal("not retried after Retry-After")
			}
		})
		t.Run("redirects are not followed", func(t *testing.T) {
			_, e := setup(t, b, true)
			target := newReceiver(t, nil)
			rc := newReceiver(t, func(_ int, w http.ResponseWriter) {
				w.Header().Set("Location", target.URL)
				w.WriteHeader(http.StatusTemporaryRedirect)
			})
			p := pay(t, e, e.Merchant, "order-rd", rc.URL)
			deliverDue(t, e.webhooks)
			ev := onlyEvent(t, e, e.Merchant.ID, p.ImpUID)
			attempts, _ := e.webhooks.Attempts(ctx, e.Merchant.ID, ev.ID)
			if target.count() != 0 || ev.Status != store.EventPending || attempts[0].StatusCode != 307 {
				t.Fatalf("redirect followed=%v event %+v attempts %+v", target.count() != 0, ev, attempts)
			}
		})
		t.Run("no URL is skipped", func(t *testing.T) {
			_, e := setup(t, b, true)
			p := pay(t, e, e.Merchant, "order-nu", "")
			deliverDue(t, e.webhooks)
			if ev := onlyEvent(t, e, e.Merchant.ID, p.ImpUID); ev.Status != store.EventSkipped {
				t.Fatalf("event without URL: %+v", ev)
			}
		})
		t.Run("form format and cancellation", func(t *testing.T) {
			_, e := setup(t, b, true)
			w := e.webhooks
			rc := newReceiver(t, nil)
			if err := w.SetSettings(ctx, e.Merchant.ID, webhook.Settings{URL: rc.URL, Format: "form"}); err != nil {
				t.Fatal(err)
			}
			p := pay(t, e, e.Merchant, "order-f", "")
			if _, err := e.Service.Cancel(ctx, e.Merchant.ID, charge.CancelInput{ImpUID: p.ImpUID, Reason: "test", EnableWebhook: true}); err != nil {
				t.Fatal(err)
			}
			deliverDue(t, w)
			ds := rc.deliveries()
			if len(ds) != 2 {
				t.Fatalf("%d deliveries, want paid and cancelled", len(ds))
			}
			secret := currentSecret(t, w, e.Merchant.ID)
			statuses := map[string]url.Values{}
			for _, d := range ds {
				if ct := d.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
					t.Errorf("content type %q", ct)
				}
				if err := verify(secret, d); err != nil {
					t.Errorf("form delivery does not verify: %v", err)
				}
				v, err := url.ParseQuery(string(d.Body))
				if err != nil {
					t.Fatal(err)
				}
				statuses[v.Get("status")] = v
			}
			if c := statuses["cancelled"]; c == nil || c.Get("cancellation_id") == "" || c.Get("imp_uid") != p.ImpUID {
				t.Errorf("cancel webhook %v, want imp_uid, merchant_uid, status and cancellation_id", c)
			}
			if pd := statuses["paid"]; pd == nil || pd.Has("cancellation_id") || len(pd) != 3 {
				t.Errorf("paid webhook %v", pd)
			}
		})
	})
}

// Settings validation rejects what could never be delivered.
func TestSettingsValidation(t *testing.T) {
	t.Parallel()
	_, e := setup(t, testenv.SQLite(t), true)
	w := e.webhooks
	cases := []struct {
		name string
		in   webhook.Settings
		ok   bool
	}{
		{"defaults", webhook.Settings{Format: "json"}, true},
		{"form + d24", webhook.Settings{URL: "https://shop.example/hook", Format: "form", Profile: "d24"}, true},
		{"bad format", webhook.Settings{Format: "xml"}, false},
		{"bad profile", webhook.Settings{Format: "json", Profile: "forever"}, false},
		{"bad scheme", webhook.Settings{URL: "ftp://shop.example/", Format: "json"}, false},
		{"credentials in URL", webhook.Settings{URL: "https://u:p@shop.example/", Format: "json"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := w.SetSettings(ctx, e.Merchant.ID, tc.in)
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, webhook.ErrInvalid)) {
				t.Fatalf("SetSettings(%+v) = %v, want ok=%v", tc.in, err, tc.ok)
			}
		})
	}
}
