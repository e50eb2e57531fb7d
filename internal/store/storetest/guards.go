package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/store"
)

func idempotencyKeys(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	const day, lease = 24 * time.Hour, time.Minute
	prev, c, err := s.ClaimIdempotencyKey(ctx, m.ID, "k1", "h1", T0, day, lease)
	if err != nil || prev != nil || c == nil || c.TakenOver {
		t.Fatalf("first claim %+v %+v %v", prev, c, err)
	}
	// While the first request runs, a second one sees the unanswered entry.
	prev, c2, err := s.ClaimIdempotencyKey(ctx, m.ID, "k1", "h1", T0.Add(time.Second), day, lease)
	if err != nil || c2 != nil || prev == nil || prev.StatusCode != 0 || prev.RequestHash != "h1" {
		t.Fatalf("claim while running %+v %+v %v", prev, c2, err)
	}
	// After the lease the claim passes on; the old holder can no longer answer.
	_, c3, err := s.ClaimIdempotencyKey(ctx, m.ID, "k1", "h1", T0.Add(2*lease), day, lease)
	if err != nil || c3 == nil || !c3.TakenOver {
		t.Fatalf("take over %+v %v", c3, err)
	}
	if ok, err := s.CompleteIdempotencyKey(ctx, c, 200, []byte("stale")); err != nil || ok {
		t.Errorf("stale holder completed: %v %v", ok, err)
	}
	if ok, err := s.CompleteIdempotencyKey(ctx, c3, 201, []byte("body")); err != nil || !ok {
		t.Fatalf("complete %v %v", ok, err)
	}
	prev, c4, err := s.ClaimIdempotencyKey(ctx, m.ID, "k1", "other", T0.Add(3*lease), day, lease)
	if err != nil || c4 != nil || prev.StatusCode != 201 || !bytes.Equal(prev.Body, []byte("body")) || prev.RequestHash != "h1" {
		t.Fatalf("replay %+v %+v %v", prev, c4, err)
	}
	// A failed request (status 0) releases its key.
	_, c5, err := s.ClaimIdempotencyKey(ctx, m.ID, "k2", "h", T0, day, lease)
	must(t, err)
	if ok, err := s.CompleteIdempotencyKey(ctx, c5, 0, nil); err != nil || !ok {
		t.Fatalf("release %v %v", ok, err)
	}
	if _, c6, err := s.ClaimIdempotencyKey(ctx, m.ID, "k2", "h", T0, day, lease); err != nil || c6 == nil || c6.TakenOver {
		t.Errorf("claim after release %+v %v", c6, err)
	}
	// Keys are per merchant.
	other := Merchant(t, s, "imp00000002")
	if _, c7, err := s.ClaimIdempotencyKey(ctx, other.ID, "k1", "h1", T0, day, lease); err != nil || c7 == nil {
		t.Errorf("another merchant's key %+v %v", c7, err)
	}
	// An entry past retention is forgotten.
	if prev, c8, err := s.ClaimIdempotencyKey(ctx, m.ID, "k1", "h9", T0.Add(2*day), day, lease); err != nil || prev != nil || c8 == nil {
		t.Errorf("claim after retention %+v %+v %v", prev, c8, err)
	}
}

func d24(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	if _, err := s.D24Login(ctx, m.ID); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("login before any credential: %v", err)
	}
	must(t, s.PutD24Credential(ctx, store.D24Credential{MerchantID: m.ID, XLogin: "login1", SecretCipher: []byte("c1"), SecretKeyID: "v1", CreatedAt: T0}))
	must(t, s.PutD24Credential(ctx, store.D24Credential{MerchantID: m.ID, XLogin: "login2", SecretCipher: []byte("c2"), SecretKeyID: "v2", CreatedAt: T0}))
	if login, err := s.D24Login(ctx, m.ID); err != nil || login != "login2" {
		t.Errorf("login %q %v", login, err)
	}
	c, err := s.D24CredentialByLogin(ctx, "login2")
	if err != nil || c.MerchantID != m.ID || !bytes.Equal(c.SecretCipher, []byte("c2")) || c.SecretKeyID != "v2" || !c.CreatedAt.Equal(T0) {
		t.Errorf("credential %+v %v", c, err)
	}
	if _, err := s.D24CredentialByLogin(ctx, "login1"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("replaced login still found: %v", err)
	}

	until := T0.Add(5 * time.Minute)
	if fresh, err := s.RememberD24Request(ctx, "fp", until, T0); err != nil || !fresh {
		t.Fatalf("first request %v %v", fresh, err)
	}
	if fresh, err := s.RememberD24Request(ctx, "fp", until, T0.Add(time.Minute)); err != nil || fresh {
		t.Errorf("replay accepted: %v %v", fresh, err)
	}
	if fresh, err := s.RememberD24Request(ctx, "fp", until.Add(5*time.Minute), until.Add(time.Second)); err != nil || !fresh {
		t.Errorf("fingerprint past its window: %v %v", fresh, err)
	}
}

func checkoutSessions(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	cs := &store.CheckoutSession{ID: "cs1", MerchantID: m.ID, CSRF: "x", Params: []byte(`{}`), CreatedAt: T0, ExpiresAt: T0.Add(time.Hour)}
	must(t, s.CreateCheckoutSession(ctx, cs))
	got, err := s.CheckoutSession(ctx, "cs1")
	if err != nil || got.State != store.CheckoutOpen || got.CSRF != "x" || !got.ExpiresAt.Equal(cs.ExpiresAt) {
		t.Fatalf("session %+v %v", got, err)
	}
	if _, err := s.CheckoutSession(ctx, "nope"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("unknown session: %v", err)
	}
	claim := func(at time.Time) bool {
		ok, err := s.ClaimCheckoutSession(ctx, "cs1", at, 2, time.Minute)
		must(t, err)
		return ok
	}
	if !claim(T0) || claim(T0) {
		t.Fatal("one submission at a time")
	}
	must(t, s.ReopenCheckoutSession(ctx, "cs1"))
	if !claim(T0) {
		t.Fatal("claim after reopen")
	}
	must(t, s.ReopenCheckoutSession(ctx, "cs1"))
	if claim(T0) {
		t.Error("claimed beyond max attempts")
	}

	must(t, s.CreateCheckoutSession(ctx, &store.CheckoutSession{ID: "cs2", MerchantID: m.ID, Params: []byte(`{}`), CreatedAt: T0, ExpiresAt: T0.Add(time.Hour)}))
	if ok, err := s.ClaimCheckoutSession(ctx, "cs2", T0, 3, time.Minute); err != nil || !ok {
		t.Fatalf("claim cs2 %v %v", ok, err)
	}
	if ok, err := s.FinishAbandonedCheckoutSession(ctx, "cs2", []byte("lost"), T0); err != nil || ok {
		t.Errorf("finished a live lease: %v %v", ok, err)
	}
	if ok, err := s.FinishAbandonedCheckoutSession(ctx, "cs2", []byte("lost"), T0.Add(2*time.Minute)); err != nil || !ok {
		t.Errorf("abandoned lease not finished: %v %v", ok, err)
	}
	if ok, err := s.FinishCheckoutSession(ctx, "cs2", []byte("again")); err != nil || ok {
		t.Errorf("finished twice: %v %v", ok, err)
	}
	if ok, err := s.FinishCheckoutSession(ctx, "cs1", []byte("r"), store.CheckoutProcessing); err != nil || ok {
		t.Errorf("finished from the wrong state: %v %v", ok, err)
	}
	if ok, err := s.FinishCheckoutSession(ctx, "cs1", []byte("r"), store.CheckoutOpen); err != nil || !ok {
		t.Errorf("finish %v %v", ok, err)
	}
	if got, err := s.CheckoutSession(ctx, "cs1"); err != nil || got.State != store.CheckoutDone || string(got.Result) != "r" {
		t.Errorf("finished session %+v %v", got, err)
	}
}

func pruneExpired(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	const day = 24 * time.Hour
	_, _, err := s.ClaimIdempotencyKey(ctx, m.ID, "old", "h", T0, day, time.Minute)
	must(t, err)
	_, _, err = s.ClaimIdempotencyKey(ctx, m.ID, "new", "h", T0.Add(day), day, time.Minute)
	must(t, err)
	_, err = s.RememberD24Request(ctx, "fp-old", T0.Add(time.Minute), T0)
	must(t, err)
	_, err = s.RememberD24Request(ctx, "fp-new", T0.Add(3*day), T0)
	must(t, err)
	must(t, s.CreateCheckoutSession(ctx, &store.CheckoutSession{ID: "old", MerchantID: m.ID, Params: []byte(`{}`), CreatedAt: T0, ExpiresAt: T0.Add(time.Hour)}))
	must(t, s.CreateCheckoutSession(ctx, &store.CheckoutSession{ID: "new", MerchantID: m.ID, Params: []byte(`{}`), CreatedAt: T0, ExpiresAt: T0.Add(3 * day)}))

	now := T0.Add(36 * time.Hour)
	p, err := s.PruneExpired(ctx, now, now, day, time.Hour, 100)
	if err != nil || p != (store.Pruned{IdempotencyKeys: 1, D24Requests: 1, CheckoutSessions: 1}) {
		t.Fatalf("prune %+v %v", p, err)
	}
	if p, err := s.PruneExpired(ctx, now, now, day, time.Hour, 100); err != nil || p != (store.Pruned{}) {
		t.Errorf("prune again %+v %v", p, err)
	}
	if _, err := s.CheckoutSession(ctx, "new"); err != nil {
		t.Errorf("live session pruned: %v", err)
	}
	if fresh, err := s.RememberD24Request(ctx, "fp-new", T0.Add(3*day), now); err != nil || fresh {
		t.Errorf("live fingerprint pruned: %v %v", fresh, err)
	}
}
