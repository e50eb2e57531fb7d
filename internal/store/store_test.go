package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/testenv"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func open(t *testing.T, b testenv.Backend) *store.Store {
	t.Helper()
	return store.OpenTest(t, b.URL)
}

func merchant(t *testing.T, s *store.Store, code string) *core.Merchant {
	t.Helper()
	m := &core.Merchant{Code: code, Name: code, ImpKey: "key-" + code, ImpSecretHash: []byte("h"), WebhookFormat: "json", TimeZone: "Asia/Seoul", CreatedAt: t0}
	chans := []core.Channel{{Provider: "nice", MID: "m1", Sandbox: true, Type: "api_payment", Name: "n", Key: "k", IsDefault: true}}
	if err := s.CreateMerchant(context.Background(), m, chans); err != nil {
		t.Fatal(err)
	}
	return m
}

func payment(m *core.Merchant, impUID, order string, status core.PaymentStatus, started time.Time) *core.Payment {
	return &core.Payment{MerchantID: m.ID, ImpUID: impUID, MerchantUID: order, Status: status, PayMethod: "card", Channel: "api",
		PGProvider: "nice", PGID: "m1", Amount: 1000, Currency: "KRW", StartedAt: started, UpdatedAt: started, CustomerUID: "c1"}
}

func TestMigrateTwiceAndConcurrently(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		// Several nodes starting at once on one database: a Postgres
		// deployment; SQLite is one process's embedded file.
		nodes := 4
		if b.Name == "sqlite" {
			nodes = 1
		}
		for i := 0; i < nodes; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := store.Open(ctx, b.URL)
				if err != nil {
					errs <- err
					return
				}
				defer s.Close()
				errs <- s.Migrate(ctx)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("concurrent migrate: %v", err)
			}
		}
		s := open(t, b)
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
	})
}

func TestOrderHolderIsUniquePerMerchant(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		s := open(t, b)
		a, bm := merchant(t, s, "imp00000001"), merchant(t, s, "imp00000002")
		if err := s.BeginAttempt(ctx, payment(a, "imp_1", "o1", core.StatusPending, t0)); err != nil {
			t.Fatal(err)
		}
		var held *store.OrderHeldError
		if err := s.BeginAttempt(ctx, payment(a, "imp_2", "o1", core.StatusPending, t0)); !errors.As(err, &held) || held.Existing.ImpUID != "imp_1" {
			t.Fatalf("second holder: %v", err)
		}
		// Another merchant may use the same merchant_uid.
		if err := s.BeginAttempt(ctx, payment(bm, "imp_3", "o1", core.StatusPending, t0)); err != nil {
			t.Fatalf("other merchant same order: %v", err)
		}
		if err := s.BeginAttempt(ctx, payment(bm, "imp_1", "o2", core.StatusPending, t0)); !errors.Is(err, store.ErrIDTaken) {
			t.Fatalf("imp_uid collision: %v", err)
		}
		// Failed attempts release the order.
		p := payment(a, "imp_1", "o1", core.StatusFailed, t0)
		p.FailedAt, p.FailReason = t0, "declined"
		if _, err := s.SettleAttempt(ctx, p, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SettleAttempt(ctx, p, nil); !errors.Is(err, core.ErrConflict) {
			t.Fatalf("finishing twice: %v", err)
		}
		if err := s.BeginAttempt(ctx, payment(a, "imp_4", "o1", core.StatusPending, t0)); err != nil {
			t.Fatalf("after failure: %v", err)
		}
	})
}

func TestQueriesAreScopedByMerchant(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		s := open(t, b)
		a, other := merchant(t, s, "imp00000011"), merchant(t, s, "imp00000012")
		k := &core.BillingKey{MerchantID: a.ID, CustomerUID: "c1", PGProvider: "nice", PGID: "m1", PGBillingKey: "bk", CardCipher: []byte{1}, CardKeyID: "k1", Inserted: t0, Updated: t0}
		if err := s.PutBillingKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		if err := s.BeginAttempt(ctx, payment(a, "imp_a", "o1", core.StatusPending, t0)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetBillingKey(ctx, other.ID, "c1"); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("other merchant read key: %v", err)
		}
		if ks, _ := s.GetBillingKeys(ctx, other.ID, []string{"c1"}); len(ks) != 0 {
			t.Errorf("other merchant listed key")
		}
		if _, err := s.DeleteBillingKey(ctx, other.ID, "c1", nil); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("other merchant deleted key: %v", err)
		}
		if _, err := s.GetPayment(ctx, other.ID, "imp_a"); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("other merchant read payment: %v", err)
		}
		if page, _ := s.ListPayments(ctx, other.ID, core.PaymentQuery{}); page.Total != 0 {
			t.Errorf("other merchant lists %d payments", page.Total)
		}
		if _, err := s.ReserveCancel(ctx, other.ID, store.CancelTarget{ImpUID: "imp_a"}, &core.Cancellation{ID: "c"}, nil, nil, false); !errors.Is(err, store.ErrNothingToCancel) {
			t.Errorf("other merchant cancelled: %v", err)
		}
		if got, err := s.GetBillingKey(ctx, a.ID, "c1"); err != nil || got.PGBillingKey != "bk" {
			t.Fatalf("owner read: %+v %v", got, err)
		}
	})
}

func TestBillingKeyReplaceKeepsInserted(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		s := open(t, b)
		m := merchant(t, s, "imp00000021")
		ct := 0
		k := &core.BillingKey{MerchantID: m.ID, CustomerUID: "c1", PGProvider: "nice", PGID: "m1", PGBillingKey: "bk1", CardNumber: "424242******4242",
			CardType: &ct, CardCipher: []byte{1}, CardKeyID: "k1", Inserted: t0, Updated: t0}
		if err := s.PutBillingKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		later := t0.Add(time.Hour)
		k2 := *k
		k2.PGBillingKey, k2.Inserted, k2.Updated = "bk2", later, later
		if err := s.PutBillingKey(ctx, &k2); err != nil {
			t.Fatal(err)
		}
		got, _ := s.GetBillingKey(ctx, m.ID, "c1")
		if got.PGBillingKey != "bk2" || !got.Inserted.Equal(t0) || !got.Updated.Equal(later) || got.CardType == nil || *got.CardType != 0 {
			t.Fatalf("replaced key: %+v", got)
		}
	})
}

func TestListPaymentsFiltersAndPages(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		s := open(t, b)
		m := merchant(t, s, "imp00000031")
		for i := 0; i < 25; i++ {
			st := core.StatusPaid
			if i%5 == 0 {
				st = core.StatusFailed
			}
			p := payment(m, fmt.Sprintf("imp_%03d", i), fmt.Sprintf("o%d", i%3), core.StatusPending, t0.Add(time.Duration(i)*time.Minute))
			if err := s.BeginAttempt(ctx, p); err != nil && i%3 == i {
				t.Fatal(err)
			} else if err != nil {
				continue // same order held by an earlier paid attempt
			}
			p.Status = st
			if st == core.StatusPaid {
				p.PaidAt = p.StartedAt
			} else {
				p.FailedAt = p.StartedAt
			}
			if _, err := s.SettleAttempt(ctx, p, nil); err != nil {
				t.Fatal(err)
			}
		}
		all, err := s.ListPayments(ctx, m.ID, core.PaymentQuery{Limit: 2})
		if err != nil || all.Total == 0 || len(all.Payments) != 2 || all.Next() != 2 || all.Previous() != 0 {
			t.Fatalf("page 1: %+v %v", all, err)
		}
		if !all.Payments[0].StartedAt.After(all.Payments[1].StartedAt) {
			t.Errorf("default sorting must be newest first")
		}
		failed, _ := s.ListPayments(ctx, m.ID, core.PaymentQuery{Status: "failed", Limit: 100})
		for _, p := range failed.Payments {
			if p.Status != core.StatusFailed {
				t.Errorf("status filter leaked %s", p.Status)
			}
		}
		win, _ := s.ListPayments(ctx, m.ID, core.PaymentQuery{From: t0, To: t0.Add(3 * time.Minute), Sorting: "started", Limit: 100})
		for _, p := range win.Payments {
			if p.StartedAt.Before(t0) || !p.StartedAt.Before(t0.Add(3*time.Minute)) {
				t.Errorf("time window leaked %v", p.StartedAt)
			}
		}
		found, err := s.FindPayment(ctx, m.ID, "o1", "", "started")
		if err != nil || found.MerchantUID != "o1" {
			t.Fatalf("find: %+v %v", found, err)
		}
	})
}

func TestPreparedAndTokens(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		s := open(t, b)
		m := merchant(t, s, "imp00000041")
		p := core.Prepared{MerchantID: m.ID, MerchantUID: "o1", Amount: 500, Currency: "KRW", CreatedAt: t0}
		if err := s.PutPrepared(ctx, p); err != nil {
			t.Fatal(err)
		}
		if err := s.PutPrepared(ctx, p); !errors.Is(err, core.ErrConflict) {
			t.Fatalf("duplicate prepare: %v", err)
		}
		p.Amount = 700
		if err := s.UpdatePrepared(ctx, p); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.GetPrepared(ctx, m.ID, "o1"); got.Amount != 700 {
			t.Fatalf("prepared %+v", got)
		}
		// Racing getToken calls of one merchant all get the same token.
		var wg sync.WaitGroup
		toks := make(chan string, 10)
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				fresh := store.TokenRow{Hash: []byte(fmt.Sprintf("hash-%d", i)), Nonce: fmt.Sprintf("nonce-%d", i)}
				tok, err := s.IssueToken(ctx, m.ID, fresh, t0, 30*time.Minute, time.Minute, 5*time.Minute)
				if err != nil {
					t.Error(err)
				}
				toks <- tok.Nonce + "/" + string(tok.Hash)
			}()
		}
		wg.Wait()
		close(toks)
		first := ""
		for tok := range toks {
			if first == "" {
				first = tok
			} else if tok != first {
				t.Fatalf("racing getToken gave %s and %s", first, tok)
			}
		}
		nonce, hash, _ := strings.Cut(first, "/")
		if got, err := s.LookupToken(ctx, []byte(hash), t0.Add(29*time.Minute)); err != nil || got.Nonce != nonce || got.MerchantID != m.ID {
			t.Fatalf("live token by hash: %+v %v", got, err)
		}
		if _, err := s.LookupToken(ctx, []byte(hash), t0.Add(31*time.Minute)); !errors.Is(err, core.ErrNotFound) {
			t.Fatalf("expired token found: %v", err)
		}
	})
}

// A reconciler claim takes at most its limit, and a claimed attempt is not
// claimed again during its lease.
func TestClaimUnresolvedRespectsLimitAndLease(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		s := open(t, b)
		m := merchant(t, s, "imp00000051")
		for i := 0; i < 10; i++ {
			p := payment(m, fmt.Sprintf("imp_u%02d", i), fmt.Sprintf("u%d", i), core.StatusPending, t0)
			p.NextCheckAt = t0
			if err := s.BeginAttempt(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		now := t0.Add(time.Minute)
		first, err := s.ClaimUnresolved(ctx, now, now.Add(time.Minute), 2)
		if err != nil || len(first) != 2 {
			t.Fatalf("claim 2: got %d, %v", len(first), err)
		}
		rest, _ := s.ClaimUnresolved(ctx, now, now.Add(time.Minute), 100)
		if len(rest) != 8 {
			t.Fatalf("second claim got %d, want the 8 unleased", len(rest))
		}
		if again, _ := s.ClaimUnresolved(ctx, now, now.Add(time.Minute), 100); len(again) != 0 {
			t.Fatalf("leased attempts claimed again: %d", len(again))
		}
	})
}
