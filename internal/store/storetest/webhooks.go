package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/store"
)

func eventRequeue(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	p := Payment(m, "imp_1", "o1")
	must(t, s.BeginAttempt(ctx, p))
	e1, e2 := event(m, p, "a"), event(m, p, "b")
	if _, err := s.SettleAttempt(ctx, paid(p, T0), func(tx *store.Tx) error { return tx.InsertEvents(ctx, []core.Event{e1, e2}) }); err != nil {
		t.Fatal(err)
	}
	now := T0.Add(time.Second)
	lease := now.Add(time.Minute)
	claimed, err := s.ClaimEvents(ctx, []string{e1.ID, e2.ID}, now, lease)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claim %+v %v", claimed, err)
	}
	// A worker shutting down gives its claim back: the event is due at once.
	must(t, s.ReleaseEvent(ctx, m.ID, e1.ID, 0, lease, now))
	if due, err := s.DueEvents(ctx, now, nil, 10, 0); err != nil || len(due) != 1 || due[0].ID != e1.ID {
		t.Errorf("due after release %+v %v", due, err)
	}
	// A leased event cannot be requeued by hand.
	if err := s.RequeueEvent(ctx, m.ID, e2.ID, now); !errors.Is(err, core.ErrConflict) {
		t.Errorf("requeue during delivery: %v", err)
	}
	if err := s.RequeueEvent(ctx, m.ID, "nope", now); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("requeue unknown: %v", err)
	}
	failed := store.DeliveryResult{EventID: e2.ID, MerchantID: m.ID, LeasedUntil: lease, Status: store.EventFailed,
		Attempt: store.WebhookAttempt{EventID: e2.ID, MerchantID: m.ID, AttemptNo: 1, URL: "https://shop.example.com", StatusCode: 500, CreatedAt: now}}
	if ok, err := s.FinishDelivery(ctx, failed); err != nil || !ok {
		t.Fatalf("fail delivery %v %v", ok, err)
	}
	later := lease.Add(time.Second)
	if n, err := s.RequeueFailedEvents(ctx, m.ID, later); err != nil || n != 1 {
		t.Errorf("requeue failed %d %v", n, err)
	}
	must(t, s.RequeueEvent(ctx, m.ID, e2.ID, later))
	if ev, err := s.OutboxEvent(ctx, m.ID, e2.ID); err != nil || ev.Status != store.EventPending || !ev.NextAttemptAt.Equal(later) {
		t.Errorf("requeued event %+v %v", ev, err)
	}
}

func webhookSettings(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	must(t, s.SetMerchantWebhook(ctx, m.ID, "https://a.example.com/hook", "form"))
	w, err := s.GetWebhookSettings(ctx, m.ID)
	if err != nil || w.URL != "https://a.example.com/hook" || w.Format != "form" || w.Profile != "" {
		t.Errorf("settings %+v %v", w, err)
	}
	want := store.WebhookSettings{MerchantID: m.ID, URL: "https://b.example.com", Format: "json", Profile: "d24"}
	must(t, s.SetWebhookSettings(ctx, want, T0))
	must(t, s.SetWebhookSettings(ctx, want, T0.Add(time.Second)))
	if w, err := s.GetWebhookSettings(ctx, m.ID); err != nil || w != want {
		t.Errorf("settings %+v %v, want %+v", w, err, want)
	}
	if err := s.SetWebhookSettings(ctx, store.WebhookSettings{MerchantID: 999999}, T0); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("unknown merchant: %v", err)
	}
	if _, err := s.GetWebhookSettings(ctx, 999999); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("unknown merchant: %v", err)
	}
}

func webhookSecrets(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	first := store.WebhookSecret{MerchantID: m.ID, ID: "whsec1", Cipher: []byte("c1"), KeyID: "v1", CreatedAt: T0}
	if ok, err := s.AddFirstWebhookSecret(ctx, first); err != nil || !ok {
		t.Fatalf("first secret %v %v", ok, err)
	}
	second := first
	second.ID = "whsec-race"
	if ok, err := s.AddFirstWebhookSecret(ctx, second); err != nil || ok {
		t.Errorf("a second first secret: %v %v", ok, err)
	}
	next := store.WebhookSecret{MerchantID: m.ID, ID: "whsec2", Cipher: []byte("c2"), KeyID: "v1", CreatedAt: T0.Add(time.Hour)}
	must(t, s.RotateWebhookSecret(ctx, next, T0.Add(2*time.Hour)))
	list, err := s.WebhookSecrets(ctx, m.ID, T0.Add(time.Hour))
	if err != nil || len(list) != 2 || list[0].ID != "whsec2" || list[1].ID != "whsec1" || !list[1].ExpiresAt.Equal(T0.Add(2*time.Hour)) {
		t.Fatalf("secrets during overlap %+v %v", list, err)
	}
	if list, err := s.WebhookSecrets(ctx, m.ID, T0.Add(3*time.Hour)); err != nil || len(list) != 1 || list[0].ID != "whsec2" {
		t.Errorf("secrets after overlap %+v %v", list, err)
	}
	if err := s.RotateWebhookSecret(ctx, store.WebhookSecret{MerchantID: 999999, ID: "x", CreatedAt: T0}, T0); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("rotate for unknown merchant: %v", err)
	}
}

// finishDeliveries: one write for a pass's outcomes; each event moves on
// only while its claim holds, and every attempt is logged.
func finishDeliveries(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	p := Payment(m, "imp_1", "o1")
	must(t, s.BeginAttempt(ctx, p))
	e1, e2, e3 := event(m, p, "a"), event(m, p, "b"), event(m, p, "c")
	if _, err := s.SettleAttempt(ctx, paid(p, T0), func(tx *store.Tx) error { return tx.InsertEvents(ctx, []core.Event{e1, e2, e3}) }); err != nil {
		t.Fatal(err)
	}
	now := T0.Add(time.Second)
	lease := now.Add(time.Minute)
	if claimed, err := s.ClaimEvents(ctx, []string{e1.ID, e2.ID, e3.ID}, now, lease); err != nil || len(claimed) != 3 {
		t.Fatalf("claim %+v %v", claimed, err)
	}
	result := func(id string, leased time.Time, status string, code int) store.DeliveryResult {
		r := store.DeliveryResult{EventID: id, MerchantID: m.ID, LeasedUntil: leased, Status: status,
			Attempt: store.WebhookAttempt{AttemptNo: 1, URL: "https://shop.example.com/hook", StatusCode: code, Latency: 3 * time.Millisecond, CreatedAt: now}}
		switch status {
		case store.EventDelivered:
			r.DeliveredAt = now
		case store.EventPending:
			r.NextAttemptAt = now.Add(time.Minute)
			r.Attempt.Error = "HTTP 503"
		}
		return r
	}
	applied, err := s.FinishDeliveries(ctx, []store.DeliveryResult{
		result(e1.ID, lease, store.EventDelivered, 200),
		result(e2.ID, lease.Add(time.Second), store.EventDelivered, 200), // a claim another worker took over
		result(e3.ID, lease, store.EventPending, 503),
	})
	if err != nil || len(applied) != 3 || !applied[0] || applied[1] || !applied[2] {
		t.Fatalf("finish deliveries: %v %v, want [true false true]", applied, err)
	}
	for _, want := range []struct {
		id     string
		status string
		tries  int
		next   time.Time
	}{
		{e1.ID, store.EventDelivered, 1, time.Time{}},
		{e2.ID, store.EventPending, 0, lease},
		{e3.ID, store.EventPending, 1, now.Add(time.Minute)},
	} {
		ev, err := s.OutboxEvent(ctx, m.ID, want.id)
		if err != nil || ev.Status != want.status || ev.Attempts != want.tries || (!want.next.IsZero() && !ev.NextAttemptAt.Equal(want.next)) {
			t.Errorf("%s: %+v %v, want %s after %d attempts, next at %v", want.id, ev, err, want.status, want.tries, want.next)
		}
		attempts, err := s.WebhookAttempts(ctx, m.ID, want.id)
		if err != nil || len(attempts) != 1 || attempts[0].URL != "https://shop.example.com/hook" || attempts[0].Latency != 3*time.Millisecond {
			t.Errorf("%s: attempts %+v %v, want the one logged", want.id, attempts, err)
		}
	}
	if applied, err := s.FinishDeliveries(ctx, nil); err != nil || len(applied) != 0 {
		t.Errorf("no deliveries: %v %v", applied, err)
	}
}
