// Package storetest is the store's conformance suite, in the manner of
// River's riverdrivertest: every operation the packages above rely on, run
// the same way against each backend, so that the SQLite and Postgres paths
// (one SQL text, dialect differences in store.go and the one-statement
// settlement) cannot drift apart unnoticed.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/store"
)

// T0 is the instant the suite's data starts at.
var T0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Run runs the suite. open returns a fresh, migrated store for one test.
func Run(t *testing.T, open func(t *testing.T) *store.Store) {
	for _, c := range []struct {
		name string
		fn   func(t *testing.T, s *store.Store)
	}{
		{"Merchants", merchants},
		{"Tokens", tokens},
		{"BillingKeys", billingKeys},
		{"BeginAttempt", beginAttempt},
		{"BeginAttemptOnKey", beginAttemptOnKey},
		{"SettleAttempt", settleAttempt},
		{"SettleAttemptHooks", settleAttemptHooks},
		{"SettleAttemptRollback", settleAttemptRollback},
		{"Unresolved", unresolved},
		{"Cancels", cancels},
		{"CancelChecks", cancelChecks},
		{"Prepared", prepared},
		{"PaymentQueries", paymentQueries},
		{"ScheduleBooking", scheduleBooking},
		{"ScheduleQueue", scheduleQueue},
		{"MerchantScheduleQueue", merchantScheduleQueue},
		{"ScheduleRearm", scheduleRearm},
		{"Outbox", outbox},
		{"DueEventsByMerchant", dueEventsByMerchant},
		{"VaultKeys", vaultKeys},
		{"Subscriptions", subscriptions},
		{"SubscriptionQueries", subscriptionQueries},
		{"ConsoleAccounts", consoleAccounts},
		{"ConsoleAudit", consoleAudit},
		{"ConsoleFigures", consoleFigures},
		{"Channels", channels},
		{"IdempotencyKeys", idempotencyKeys},
		{"D24", d24},
		{"CheckoutSessions", checkoutSessions},
		{"PruneExpired", pruneExpired},
		{"EventRequeue", eventRequeue},
		{"FinishDeliveries", finishDeliveries},
		{"WebhookSettings", webhookSettings},
		{"WebhookSecrets", webhookSecrets},
		{"Cards", cards},
		{"ScheduleRestart", scheduleRestart},
		{"WindowTerms", windowTerms},
		{"MerchantSettings", merchantSettings},
		{"ExpediteCheck", expediteCheck},
		{"Lifecycle", lifecycle},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t, open(t))
		})
	}
}

var ctx = context.Background()

// Merchant creates a merchant with one default nice channel.
func Merchant(t *testing.T, s *store.Store, code string) *core.Merchant {
	t.Helper()
	m := &core.Merchant{Code: code, Name: code, ImpKey: "key-" + code, ImpSecretHash: []byte("h"), WebhookFormat: "json",
		TimeZone: "Asia/Seoul", CreatedAt: T0}
	chans := []core.Channel{
		{Provider: "nice", MID: "m1", Sandbox: true, Type: "api_payment", Name: "n", Key: "k1", IsDefault: true},
		{Provider: "kicc", MID: "w1", Sandbox: true, Type: "payment", Name: "w", Key: "k2"},
	}
	if err := s.CreateMerchant(ctx, m, chans); err != nil {
		t.Fatalf("create merchant %s: %v", code, err)
	}
	return m
}

// Payment is a pending attempt of m for order.
func Payment(m *core.Merchant, impUID, order string) *core.Payment {
	return &core.Payment{MerchantID: m.ID, ImpUID: impUID, MerchantUID: order, Status: core.StatusPending, PayMethod: "card",
		Channel: "api", PGProvider: "nice", PGID: "m1", Amount: 1000, Currency: "KRW", StartedAt: T0, UpdatedAt: T0,
		CustomerUID: "c1", AttemptDeadline: T0.Add(time.Minute), NextCheckAt: T0.Add(time.Minute), Dialect: core.DialectV1}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func paid(p *core.Payment, at time.Time) *core.Payment {
	p.Status, p.PaidAt, p.UpdatedAt, p.PGTID = core.StatusPaid, at, at, "tid-"+p.ImpUID
	return p
}

func event(m *core.Merchant, p *core.Payment, typ string) core.Event {
	return core.Event{ID: "msg_" + typ + p.ImpUID, MerchantID: m.ID, Type: typ, ImpUID: p.ImpUID,
		Payload: map[string]string{"imp_uid": p.ImpUID}, CreatedAt: T0}
}

func merchants(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	for name, get := range map[string]func() (*core.Merchant, error){
		"id":      func() (*core.Merchant, error) { return s.MerchantByID(ctx, m.ID) },
		"code":    func() (*core.Merchant, error) { return s.MerchantByCode(ctx, m.Code) },
		"imp_key": func() (*core.Merchant, error) { return s.MerchantByImpKey(ctx, m.ImpKey) },
	} {
		got, err := get()
		if err != nil || got.ID != m.ID || got.Code != m.Code || got.TimeZone != "Asia/Seoul" {
			t.Errorf("merchant by %s: %+v %v", name, got, err)
		}
	}
	if _, err := s.MerchantByCode(ctx, "imp99999999"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("unknown merchant: %v, want ErrNotFound", err)
	}
	chans, err := s.Channels(ctx, m.ID)
	if err != nil || len(chans) != 2 {
		t.Fatalf("channels %+v %v", chans, err)
	}
	must(t, s.SetCheckoutOrigins(ctx, m.ID, []string{"https://shop.example.com"}))
	all, err := s.AllCheckoutOrigins(ctx)
	if err != nil || len(all) != 1 || all[0] != "https://shop.example.com" {
		t.Errorf("checkout origins %v %v", all, err)
	}
	list, err := s.ListMerchants(ctx)
	if err != nil || len(list) != 1 {
		t.Errorf("list merchants %+v %v", list, err)
	}
}

func tokens(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	ttl, within, by := 30*time.Minute, time.Minute, 5*time.Minute
	fresh := func(n string) store.TokenRow { return store.TokenRow{Hash: []byte("hash-" + n), Nonce: "nonce-" + n} }
	a, err := s.IssueToken(ctx, m.ID, fresh("a"), T0, ttl, within, by)
	must(t, err)
	if string(a.Hash) != "hash-a" || a.Nonce != "nonce-a" || !a.ExpiresAt.Equal(T0.Add(ttl)) {
		t.Fatalf("first token: %+v", a)
	}
	b, err := s.IssueToken(ctx, m.ID, fresh("b"), T0.Add(10*time.Minute), ttl, within, by)
	if err != nil || b.Nonce != a.Nonce || string(b.Hash) != string(a.Hash) || !b.ExpiresAt.Equal(a.ExpiresAt) {
		t.Fatalf("a live token is reused: %+v %+v %v", a, b, err)
	}
	c, err := s.IssueToken(ctx, m.ID, fresh("c"), a.ExpiresAt.Add(-30*time.Second), ttl, within, by)
	if err != nil || c.Nonce != a.Nonce || !c.ExpiresAt.Equal(a.ExpiresAt.Add(by)) {
		t.Fatalf("in its last minute a token is extended: %+v %v", c, err)
	}
	if got, err := s.LookupToken(ctx, a.Hash, T0.Add(time.Minute)); err != nil || got.MerchantID != m.ID || got.Nonce != a.Nonce {
		t.Errorf("lookup live token: %+v %v", got, err)
	}
	if _, err := s.LookupToken(ctx, a.Hash, c.ExpiresAt.Add(time.Second)); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("lookup expired token: %v, want ErrNotFound", err)
	}
	d, err := s.IssueToken(ctx, m.ID, fresh("d"), c.ExpiresAt.Add(time.Second), ttl, within, by)
	if err != nil || d.Nonce != "nonce-d" {
		t.Errorf("after expiry a new token: %+v %v", d, err)
	}
}

func key(m *core.Merchant, uid string) *core.BillingKey {
	ct := 0
	return &core.BillingKey{MerchantID: m.ID, CustomerUID: uid, PGProvider: "nice", PGID: "m1", Sandbox: true, PGBillingKey: "pgk-" + uid,
		CardName: "신한카드", CardCode: "366", CardNumber: "424242******4242", CardType: &ct, CardCipher: []byte{1, 2, 3}, CardKeyID: "k1",
		Customer: core.Buyer{Name: "홍길동"}, Inserted: T0, Updated: T0}
}

func billingKeys(t *testing.T, s *store.Store) {
	m, other := Merchant(t, s, "imp00000001"), Merchant(t, s, "imp00000002")
	must(t, s.PutBillingKey(ctx, key(m, "c1")))
	must(t, s.PutBillingKey(ctx, key(m, "c2")))
	k := key(m, "c1")
	k.PGBillingKey, k.Inserted, k.Updated = "pgk-new", T0.Add(time.Hour), T0.Add(time.Hour)
	must(t, s.PutBillingKey(ctx, k))
	got, err := s.GetBillingKey(ctx, m.ID, "c1")
	if err != nil || got.PGBillingKey != "pgk-new" || !got.Inserted.Equal(T0) || got.Customer.Name != "홍길동" || got.CardType == nil {
		t.Fatalf("replaced key keeps its first insertion: %+v %v", got, err)
	}
	if _, err := s.GetBillingKey(ctx, other.ID, "c1"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("another merchant's key: %v, want ErrNotFound", err)
	}
	keys, err := s.GetBillingKeys(ctx, m.ID, []string{"c2", "c1", "nope"})
	if err != nil || len(keys) != 2 {
		t.Errorf("get keys: %+v %v", keys, err)
	}
	boom := errors.New("boom")
	if _, err := s.DeleteBillingKey(ctx, m.ID, "c1", func(*store.Tx) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("delete with failing hook: %v", err)
	}
	if _, err := s.GetBillingKey(ctx, m.ID, "c1"); err != nil {
		t.Fatalf("a failed deletion rolls back: %v", err)
	}
	if k, err := s.DeleteBillingKey(ctx, m.ID, "c1", nil); err != nil || k.CustomerUID != "c1" {
		t.Fatalf("delete: %+v %v", k, err)
	}
	if _, err := s.DeleteBillingKey(ctx, m.ID, "c1", nil); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("delete twice: %v, want ErrNotFound", err)
	}
}

func beginAttempt(t *testing.T, s *store.Store) {
	a, b := Merchant(t, s, "imp00000001"), Merchant(t, s, "imp00000002")
	must(t, s.BeginAttempt(ctx, Payment(a, "imp_1", "o1")))
	var held *store.OrderHeldError
	if err := s.BeginAttempt(ctx, Payment(a, "imp_2", "o1")); !errors.As(err, &held) || held.Existing.ImpUID != "imp_1" {
		t.Fatalf("second attempt on a held order: %v", err)
	}
	must(t, s.BeginAttempt(ctx, Payment(b, "imp_3", "o1")))
	if err := s.BeginAttempt(ctx, Payment(b, "imp_1", "o2")); !errors.Is(err, store.ErrIDTaken) {
		t.Fatalf("imp_uid collision: %v, want ErrIDTaken", err)
	}
	// Statements groups row operations the same way on both stores.
	err := s.Statements(ctx, func(tx *store.Tx) error { return tx.BeginAttempt(ctx, Payment(a, "imp_4", "o4")) })
	must(t, err)
	if p, err := s.GetPayment(ctx, a.ID, "imp_4"); err != nil || p.Status != core.StatusPending || p.Dialect != core.DialectV1 {
		t.Fatalf("attempt through Statements: %+v %v", p, err)
	}
}

// beginAttemptOnKey: an attempt built from a key read earlier is recorded
// only while the key is at the version read; every change to the row
// (re-issue, vault re-wrap, legacy conversion, deletion) moves it on.
func beginAttemptOnKey(t *testing.T, s *store.Store) {
	m, other := Merchant(t, s, "imp00000001"), Merchant(t, s, "imp00000002")
	k := key(m, "c1")
	must(t, s.PutBillingKey(ctx, k))
	read, err := s.GetBillingKey(ctx, m.ID, "c1")
	if err != nil || read.Version != k.Version || k.Version == 0 {
		t.Fatalf("version after put %d, read back %+v %v", k.Version, read, err)
	}
	onKey := func(p *core.Payment, v int64) error {
		return s.Statements(ctx, func(tx *store.Tx) error {
			return tx.BeginAttemptOnKey(ctx, p, store.KeyVersion{CustomerUID: "c1", Version: v})
		})
	}
	must(t, onKey(Payment(m, "imp_1", "o1"), read.Version))
	var held *store.OrderHeldError
	if err := onKey(Payment(m, "imp_2", "o1"), read.Version); !errors.As(err, &held) {
		t.Fatalf("held order on a current key: %v", err)
	}
	// Another merchant's key of the same customer_uid does not count.
	if err := s.Statements(ctx, func(tx *store.Tx) error {
		return tx.BeginAttemptOnKey(ctx, Payment(other, "imp_3", "o1"), store.KeyVersion{CustomerUID: "c1", Version: read.Version})
	}); !errors.Is(err, store.ErrKeyChanged) {
		t.Fatalf("key of another merchant: %v, want ErrKeyChanged", err)
	}

	// Re-issue moves the version on: the earlier copy is refused.
	k2 := key(m, "c1")
	k2.PGBillingKey = "pgk-reissued"
	must(t, s.PutBillingKey(ctx, k2))
	if k2.Version != read.Version+1 {
		t.Fatalf("re-issue: version %d, want %d", k2.Version, read.Version+1)
	}
	if err := onKey(Payment(m, "imp_4", "o2"), read.Version); !errors.Is(err, store.ErrKeyChanged) {
		t.Fatalf("stale copy after re-issue: %v, want ErrKeyChanged", err)
	}
	if _, err := s.GetPayment(ctx, m.ID, "imp_4"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("a refused attempt is not recorded: %v", err)
	}
	// A held order still reads as held, whatever the key's version.
	if err := onKey(Payment(m, "imp_5", "o1"), read.Version); !errors.As(err, &held) {
		t.Fatalf("held order on a stale key: %v", err)
	}
	// A vault re-wrap moves it on too.
	sealed := store.SealedCard{MerchantID: m.ID, CustomerUID: "c1", Cipher: k2.CardCipher, KeyID: k2.CardKeyID}
	if ok, err := s.ReplaceCardCipher(ctx, sealed, []byte{9}, "k2"); err != nil || !ok {
		t.Fatalf("rewrap: %v %v", ok, err)
	}
	if err := onKey(Payment(m, "imp_6", "o3"), k2.Version); !errors.Is(err, store.ErrKeyChanged) {
		t.Fatalf("stale copy after re-wrap: %v, want ErrKeyChanged", err)
	}
	now, err := s.GetBillingKey(ctx, m.ID, "c1")
	if err != nil || now.Version != k2.Version+1 {
		t.Fatalf("after re-wrap: %+v %v", now, err)
	}
	must(t, onKey(Payment(m, "imp_7", "o3"), now.Version))
	// Deleted: refused.
	if _, err := s.DeleteBillingKey(ctx, m.ID, "c1", nil); err != nil {
		t.Fatal(err)
	}
	if err := onKey(Payment(m, "imp_8", "o4"), now.Version); !errors.Is(err, store.ErrKeyChanged) {
		t.Fatalf("deleted key: %v, want ErrKeyChanged", err)
	}
}

func settleAttempt(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	p := Payment(m, "imp_1", "o1")
	must(t, s.BeginAttempt(ctx, p))
	n, err := s.SettleAttempt(ctx, paid(p, T0.Add(time.Second)), nil)
	if err != nil || n != 0 {
		t.Fatalf("settle: %d %v", n, err)
	}
	if _, err := s.SettleAttempt(ctx, p, nil); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("settle twice: %v, want ErrConflict", err)
	}
	got, err := s.GetPayment(ctx, m.ID, "imp_1")
	if err != nil || got.Status != core.StatusPaid || got.PGTID != "tid-imp_1" || !got.PaidAt.Equal(T0.Add(time.Second)) || got.Cancels == nil {
		t.Fatalf("settled payment: %+v %v", got, err)
	}
	var held *store.OrderHeldError
	if err := s.BeginAttempt(ctx, Payment(m, "imp_2", "o1")); !errors.As(err, &held) {
		t.Fatalf("a paid order stays held: %v", err)
	}
	f := Payment(m, "imp_3", "o3")
	must(t, s.BeginAttempt(ctx, f))
	f.Status, f.FailedAt, f.FailReason = core.StatusFailed, T0, "declined"
	if _, err := s.SettleAttempt(ctx, f, nil); err != nil {
		t.Fatal(err)
	}
	must(t, s.BeginAttempt(ctx, Payment(m, "imp_4", "o3"))) // a failed attempt frees its order
}

// bookExecuting books a schedule for p's order and starts it with p.
func bookExecuting(t *testing.T, s *store.Store, m *core.Merchant, p *core.Payment) *core.Schedule {
	t.Helper()
	sc := schedule(m, p.MerchantUID, T0)
	must(t, s.InsertSchedules(ctx, []core.Schedule{sc}))
	claimed, err := s.ClaimSchedule(ctx, m.ID, p.MerchantUID, T0, T0.Add(time.Minute), "tok")
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim %s: %+v %v", p.MerchantUID, claimed, err)
	}
	err = s.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.BeginAttempt(ctx, p); err != nil {
			return err
		}
		ok, err := tx.StartScheduleAttempt(ctx, &claimed[0], "tok", p, T0)
		if err == nil && !ok {
			err = fmt.Errorf("start lost its claim")
		}
		return err
	})
	must(t, err)
	return &claimed[0]
}

// The writes settle hooks make — outbox events and the schedule row, which
// Postgres folds into one statement — and a write it cannot fold.
func settleAttemptHooks(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	for _, c := range []struct {
		name  string
		extra bool // a write that needs a real transaction
	}{{"folded", false}, {"transaction", true}} {
		p := Payment(m, "imp_"+c.name, "o-"+c.name)
		p.CustomerUIDUsage = core.UsageScheduled
		bookExecuting(t, s, m, p)
		n, err := s.SettleAttempt(ctx, paid(p, T0.Add(time.Second)), func(tx *store.Tx) error {
			if err := tx.InsertEvents(ctx, []core.Event{event(m, p, "payment.paid"), event(m, p, "extra")}); err != nil {
				return err
			}
			if c.extra {
				if err := tx.PutBillingKey(ctx, key(m, "c-"+c.name)); err != nil {
					return err
				}
			}
			return tx.FinishScheduleAttempt(ctx, p, T0.Add(2*time.Second))
		})
		if err != nil || n != 2 {
			t.Fatalf("%s: settle with hooks: %d events, %v", c.name, n, err)
		}
		events, err := s.Events(ctx, m.ID, p.ImpUID)
		if err != nil || len(events) != 2 || events[0].Payload["imp_uid"] != p.ImpUID {
			t.Errorf("%s: events %+v %v", c.name, events, err)
		}
		sc, err := s.GetSchedule(ctx, m.ID, p.MerchantUID)
		if err != nil || sc.Status != core.ScheduleExecuted || sc.PaymentStatus != core.StatusPaid || !sc.ExecutedAt.Equal(T0.Add(time.Second)) {
			t.Errorf("%s: schedule %+v %v", c.name, sc, err)
		}
		if c.extra {
			if _, err := s.GetBillingKey(ctx, m.ID, "c-"+c.name); err != nil {
				t.Errorf("%s: the hook's own write: %v", c.name, err)
			}
		}
		// Settling again changes nothing, hooks included.
		if _, err := s.SettleAttempt(ctx, p, func(tx *store.Tx) error {
			return tx.InsertEvents(ctx, []core.Event{event(m, p, "again")})
		}); !errors.Is(err, core.ErrConflict) {
			t.Errorf("%s: settle twice: %v", c.name, err)
		}
		if events, _ := s.Events(ctx, m.ID, p.ImpUID); len(events) != 2 {
			t.Errorf("%s: a conflicting settlement wrote events: %+v", c.name, events)
		}
	}
}

func settleAttemptRollback(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	p := Payment(m, "imp_1", "o1")
	must(t, s.BeginAttempt(ctx, p))
	boom := errors.New("boom")
	_, err := s.SettleAttempt(ctx, paid(p, T0), func(tx *store.Tx) error {
		if err := tx.InsertEvents(ctx, []core.Event{event(m, p, "payment.paid")}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("failing hook: %v", err)
	}
	got, err := s.GetPayment(ctx, m.ID, "imp_1")
	if err != nil || got.Status != core.StatusPending {
		t.Fatalf("a failed settlement leaves the attempt pending: %+v %v", got, err)
	}
	if events, _ := s.Events(ctx, m.ID, p.ImpUID); len(events) != 0 {
		t.Fatalf("a failed settlement wrote events: %+v", events)
	}
}

func unresolved(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	for i := range 3 {
		must(t, s.BeginAttempt(ctx, Payment(m, fmt.Sprintf("imp_%d", i), fmt.Sprintf("o%d", i))))
	}
	must(t, s.MarkUnknown(ctx, m.ID, "imp_0", T0, T0))
	got, _ := s.GetPayment(ctx, m.ID, "imp_0")
	if got.Status != core.StatusUnknown {
		t.Fatalf("mark unknown: %s", got.Status)
	}
	now := T0.Add(2 * time.Minute)
	claimed, err := s.ClaimUnresolved(ctx, now, now.Add(time.Minute), 2)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claim bounded by its limit: %d %v", len(claimed), err)
	}
	rest, err := s.ClaimUnresolved(ctx, now, now.Add(time.Minute), 10)
	if err != nil || len(rest) != 1 {
		t.Fatalf("claimed rows are leased: %d %v", len(rest), err)
	}
	if n, err := s.NoteNotSeen(ctx, m.ID, "imp_1", now, 2); err != nil || n != 1 {
		t.Fatalf("first empty look-up past the deadline: %d %v", n, err)
	}
	if n, err := s.NoteNotSeen(ctx, m.ID, "imp_1", now, 2); err != nil || n != 2 {
		t.Fatalf("second empty look-up past the deadline: %d %v", n, err)
	}
	if n, err := s.NoteNotSeen(ctx, m.ID, "imp_none", now, 2); err != nil || n != 0 {
		t.Fatalf("no unresolved attempt: %d %v", n, err)
	}
	must(t, s.RescheduleCheck(ctx, m.ID, "imp_1", now, 3))
	again, err := s.ClaimUnresolved(ctx, now, now.Add(time.Minute), 10)
	if err != nil || len(again) != 1 || again[0].ImpUID != "imp_1" || again[0].Checks != 3 || again[0].Status != core.StatusUnknown {
		t.Fatalf("rescheduled check: %+v %v", again, err)
	}
	if backlog, err := s.ReconcileBacklog(ctx); err != nil || len(backlog) != 3 || backlog[0].Count+backlog[1].Count != 3 {
		t.Errorf("backlog %+v %v", backlog, err)
	}
}

func paidPayment(t *testing.T, s *store.Store, m *core.Merchant, impUID, order string) *core.Payment {
	t.Helper()
	p := Payment(m, impUID, order)
	must(t, s.BeginAttempt(ctx, p))
	if _, err := s.SettleAttempt(ctx, paid(p, T0), nil); err != nil {
		t.Fatal(err)
	}
	return p
}

func cancels(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	p := paidPayment(t, s, m, "imp_1", "o1")
	if _, err := s.ReserveCancel(ctx, m.ID, store.CancelTarget{ImpUID: "nope"}, &core.Cancellation{ID: "c0"}, nil, nil, false); !errors.Is(err, store.ErrNothingToCancel) {
		t.Fatalf("cancel unknown payment: %v", err)
	}
	amt, wrong := int64(300), int64(999)
	if _, err := s.ReserveCancel(ctx, m.ID, store.CancelTarget{ImpUID: p.ImpUID}, &core.Cancellation{ID: "c0"}, &amt, &wrong, false); !errors.Is(err, store.ErrChecksumMismatch) {
		t.Fatalf("checksum: %v", err)
	}
	c1 := core.Cancellation{ID: "c1", Reason: "r", CreatedAt: T0}
	if _, err := s.ReserveCancel(ctx, m.ID, store.CancelTarget{MerchantUID: "o1"}, &c1, &amt, nil, true); err != nil || c1.Amount != 300 {
		t.Fatalf("reserve 300: %+v %v", c1, err)
	}
	big := int64(800)
	if _, err := s.ReserveCancel(ctx, m.ID, store.CancelTarget{ImpUID: p.ImpUID}, &core.Cancellation{ID: "c2"}, &big, nil, false); !errors.Is(err, store.ErrCancelExceeds) {
		t.Fatalf("a pending refund counts as spent: %v", err)
	}
	c1.Status, c1.PGTID, c1.CancelledAt = core.CancelDone, "ctid", T0.Add(time.Second)
	got, n, err := s.FinishCancel(ctx, m.ID, c1, func(tx *store.Tx, p *core.Payment, notify bool) error {
		if !notify || p.Status != core.StatusCancelled {
			return fmt.Errorf("hook sees notify=%v status=%s", notify, p.Status)
		}
		return tx.InsertEvents(ctx, []core.Event{event(m, p, "payment.cancelled")})
	})
	if err != nil || n != 1 || got.CancelAmount != 300 || got.Status != core.StatusCancelled || len(got.Cancels) != 1 {
		t.Fatalf("finish cancel: %+v %d %v", got, n, err)
	}
	c3 := core.Cancellation{ID: "c3", CreatedAt: T0}
	if _, err := s.ReserveCancel(ctx, m.ID, store.CancelTarget{ImpUID: p.ImpUID}, &c3, nil, nil, false); err != nil || c3.Amount != 700 {
		t.Fatalf("reserve the rest: %+v %v", c3, err)
	}
	c3.Status = core.CancelFailed
	if got, _, err := s.FinishCancel(ctx, m.ID, c3, nil); err != nil || got.CancelAmount != 300 {
		t.Fatalf("a failed refund releases its reservation: %+v %v", got, err)
	}
	if _, _, err := s.FinishCancel(ctx, m.ID, c3, nil); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("finish a settled refund again: %v", err)
	}
}

func cancelChecks(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	p := paidPayment(t, s, m, "imp_1", "o1")
	c := core.Cancellation{ID: "c1", CreatedAt: T0}
	if _, err := s.ReserveCancel(ctx, m.ID, store.CancelTarget{ImpUID: p.ImpUID}, &c, nil, nil, false); err != nil {
		t.Fatal(err)
	}
	now := T0.Add(time.Minute)
	stale, err := s.StalePendingCancels(ctx, now, now, 10)
	if err != nil || len(stale) != 1 || stale[0].Cancel.ID != "c1" || stale[0].Checks != 0 || stale[0].MerchantID != m.ID {
		t.Fatalf("stale cancels: %+v %v", stale, err)
	}
	if stale, _ := s.StalePendingCancels(ctx, T0, now, 10); len(stale) != 0 {
		t.Fatalf("a fresh refund is not stale: %+v", stale)
	}
	must(t, s.RescheduleCancelCheck(ctx, m.ID, "c1", now.Add(time.Minute), 1))
	if stale, _ := s.StalePendingCancels(ctx, now, now, 10); len(stale) != 0 {
		t.Fatalf("a rescheduled look-up waits: %+v", stale)
	}
	stale, err = s.StalePendingCancels(ctx, now, now.Add(time.Minute), 10)
	if err != nil || len(stale) != 1 || stale[0].Checks != 1 {
		t.Fatalf("look-up due again: %+v %v", stale, err)
	}
}

func prepared(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	pr := core.Prepared{MerchantID: m.ID, MerchantUID: "o1", Amount: 1000, Currency: "KRW", CreatedAt: T0}
	must(t, s.PutPrepared(ctx, pr))
	if err := s.PutPrepared(ctx, pr); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("prepare twice: %v", err)
	}
	pr.Amount = 2000
	must(t, s.UpdatePrepared(ctx, pr))
	if got, err := s.GetPrepared(ctx, m.ID, "o1"); err != nil || got.Amount != 2000 || !got.CreatedAt.Equal(T0) {
		t.Fatalf("get prepared: %+v %v", got, err)
	}
	if err := s.UpdatePrepared(ctx, core.Prepared{MerchantID: m.ID, MerchantUID: "nope"}); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("update unknown: %v", err)
	}
}

func paymentQueries(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	for i := range 3 {
		p := Payment(m, fmt.Sprintf("imp_%d", i), "o1")
		p.StartedAt = T0.Add(time.Duration(i) * time.Second)
		must(t, s.BeginAttempt(ctx, p))
		p.Status, p.FailedAt = core.StatusFailed, p.StartedAt
		if i == 2 {
			paid(p, p.StartedAt)
		}
		if _, err := s.SettleAttempt(ctx, p, nil); err != nil {
			t.Fatal(err)
		}
	}
	page, err := s.ListPayments(ctx, m.ID, core.PaymentQuery{MerchantUID: "o1", Limit: 2})
	if err != nil || page.Total != 3 || len(page.Payments) != 2 || page.Payments[0].ImpUID != "imp_2" {
		t.Fatalf("list: %+v %v", page, err)
	}
	if p, err := s.FindPayment(ctx, m.ID, "o1", "failed", "started"); err != nil || p.ImpUID != "imp_0" {
		t.Fatalf("find oldest failed: %+v %v", p, err)
	}
	got, err := s.GetPayments(ctx, m.ID, []string{"imp_1", "imp_9"})
	if err != nil || len(got) != 1 {
		t.Fatalf("get payments: %+v %v", got, err)
	}
}

func schedule(m *core.Merchant, order string, at time.Time) core.Schedule {
	return core.Schedule{MerchantID: m.ID, MerchantUID: order, CustomerUID: "c1", Status: core.ScheduleScheduled, ScheduleAt: at,
		Amount: 1000, Currency: "KRW", Name: "plan", PGProvider: "nice", PGID: "m1", CreatedAt: T0, UpdatedAt: T0}
}

func scheduleBooking(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	paidPayment(t, s, m, "imp_1", "paid-order")
	must(t, s.InsertSchedules(ctx, []core.Schedule{schedule(m, "s1", T0.Add(time.Hour)), schedule(m, "s2", T0.Add(2*time.Hour))}))
	var ex *store.ScheduleExistsError
	err := s.InsertSchedules(ctx, []core.Schedule{schedule(m, "s3", T0), schedule(m, "s1", T0)})
	if !errors.As(err, &ex) || ex.MerchantUID != "s1" || ex.Paid {
		t.Fatalf("booking a scheduled order: %v", err)
	}
	if _, err := s.GetSchedule(ctx, m.ID, "s3"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("a refused booking writes nothing: %v", err)
	}
	if err := s.InsertSchedules(ctx, []core.Schedule{schedule(m, "paid-order", T0)}); !errors.As(err, &ex) || !ex.Paid {
		t.Fatalf("booking a paid order: %v", err)
	}
	if ex, err := s.ScheduleExists(ctx, m.ID, []string{"x", "s2"}); err != nil || ex == nil || ex.MerchantUID != "s2" {
		t.Fatalf("exists: %+v %v", ex, err)
	}
	page, err := s.ListSchedules(ctx, m.ID, core.ScheduleQuery{From: T0, To: T0.Add(3 * time.Hour), Ascending: true, Limit: 10})
	if err != nil || page.Total != 2 || page.Schedules[0].MerchantUID != "s1" {
		t.Fatalf("list: %+v %v", page, err)
	}
	if _, err := s.MoveSchedule(ctx, m.ID, "s1", T0.Add(3*time.Hour), T0, true); !errors.Is(err, store.ErrScheduleState) {
		t.Fatalf("reschedule a waiting entry: %v", err)
	}
	if sc, err := s.MoveSchedule(ctx, m.ID, "s1", T0.Add(3*time.Hour), T0, false); err != nil || !sc.ScheduleAt.Equal(T0.Add(3*time.Hour)) {
		t.Fatalf("move: %+v %v", sc, err)
	}
	revoked, err := s.RevokeSchedules(ctx, m.ID, "c1", []string{"s2"}, T0)
	if err != nil || len(revoked) != 1 || revoked[0].MerchantUID != "s2" {
		t.Fatalf("revoke: %+v %v", revoked, err)
	}
	if sc, err := s.MoveSchedule(ctx, m.ID, "s2", T0.Add(time.Hour), T0, true); err != nil || sc.Status != core.ScheduleScheduled {
		t.Fatalf("reschedule a revoked entry: %+v %v", sc, err)
	}
	var n int
	err = s.InTx(ctx, func(tx *store.Tx) error {
		var err error
		n, err = tx.RevokeCustomerSchedules(ctx, m.ID, "c1", T0)
		return err
	})
	if err != nil || n != 2 {
		t.Fatalf("revoke a customer's schedules: %d %v", n, err)
	}
}

// merchantScheduleQueue: a sandbox merchant whose clock runs ahead claims
// only its own rows, due by its time, leased on the shared time.
func merchantScheduleQueue(t *testing.T, s *store.Store) {
	a := Merchant(t, s, "imp00000001")
	b := Merchant(t, s, "imp00000002")
	must(t, s.InsertSchedules(ctx, []core.Schedule{schedule(a, "a1", T0.Add(time.Hour)), schedule(a, "a2", T0.Add(48*time.Hour)),
		schedule(b, "b1", T0.Add(time.Hour))}))
	aheadAt := T0.Add(24 * time.Hour)
	if n, err := s.CountMerchantDue(ctx, a.ID, aheadAt); err != nil || n != 1 {
		t.Fatalf("a's due rows by its time: %d %v", n, err)
	}
	if n, err := s.CountDue(ctx, T0); err != nil || n != 0 {
		t.Fatalf("due by the shared time: %d %v", n, err)
	}
	claimed, err := s.ClaimMerchantDueSchedules(ctx, a.ID, aheadAt, T0, T0.Add(time.Minute), "a", 10)
	if err != nil || len(claimed) != 1 || claimed[0].MerchantUID != "a1" {
		t.Fatalf("a's claim: %+v %v", claimed, err)
	}
	if again, err := s.ClaimMerchantDueSchedules(ctx, a.ID, aheadAt, T0, T0.Add(time.Minute), "b", 10); err != nil || len(again) != 0 {
		t.Fatalf("a leased row claimed again: %+v %v", again, err)
	}
	if other, err := s.ClaimMerchantDueSchedules(ctx, b.ID, T0, T0, T0.Add(time.Minute), "c", 10); err != nil || len(other) != 0 {
		t.Fatalf("b's row claimed before its time: %+v %v", other, err)
	}
}

func scheduleQueue(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	var list []core.Schedule
	for i := range 4 {
		list = append(list, schedule(m, fmt.Sprintf("s%d", i), T0.Add(time.Duration(i)*time.Second)))
	}
	list = append(list, schedule(m, "later", T0.Add(time.Hour)))
	must(t, s.InsertSchedules(ctx, list))
	now := T0.Add(time.Minute)
	if n, err := s.CountDue(ctx, now); err != nil || n != 4 {
		t.Fatalf("due: %d %v", n, err)
	}
	claimed, err := s.ClaimDueSchedules(ctx, now, now.Add(time.Minute), "a", 2)
	if err != nil || len(claimed) != 2 || claimed[0].MerchantUID != "s0" {
		t.Fatalf("claim bounded, oldest first: %+v %v", claimed, err)
	}
	more, err := s.ClaimDueSchedules(ctx, now, now.Add(time.Minute), "b", 10)
	if err != nil || len(more) != 2 {
		t.Fatalf("claimed rows are leased: %+v %v", more, err)
	}
	// A start needs the claim's token.
	p := Payment(m, "imp_0", "s0")
	err = s.InTx(ctx, func(tx *store.Tx) error {
		must(t, tx.BeginAttempt(ctx, p))
		if ok, err := tx.StartScheduleAttempt(ctx, &claimed[0], "b", p, now); err != nil || ok {
			return fmt.Errorf("start with another token: %v %v", ok, err)
		}
		if err := tx.DiscardAttempt(ctx, p); err != nil {
			return err
		}
		if ok, err := tx.StartScheduleAttempt(ctx, &claimed[0], "a", p, now); err != nil || !ok {
			return fmt.Errorf("start: %v %v", ok, err)
		}
		return tx.BeginAttempt(ctx, p)
	})
	must(t, err)
	if sc, _ := s.GetSchedule(ctx, m.ID, "s0"); sc.Status != core.ScheduleExecuting || sc.ImpUID != "imp_0" {
		t.Fatalf("started schedule: %+v", sc)
	}
	if ok, err := s.FailClaimedSchedule(ctx, &claimed[1], "a", "no key", now); err != nil || !ok {
		t.Fatalf("fail claimed: %v %v", ok, err)
	}
	if sc, _ := s.GetSchedule(ctx, m.ID, "s1"); sc.Status != core.ScheduleExecuted || sc.PaymentStatus != core.StatusFailed || sc.FailReason != "no key" {
		t.Fatalf("failed schedule: %+v", sc)
	}
	must(t, s.DeferClaim(ctx, &more[0], "b", now.Add(time.Hour)))
	if again, _ := s.ClaimDueSchedules(ctx, now.Add(2*time.Minute), now.Add(3*time.Minute), "c", 10); len(again) != 1 || again[0].MerchantUID != more[1].MerchantUID {
		t.Fatalf("a deferred row waits, an expired lease is claimed again: %+v", again)
	}
	if n, err := s.CountDue(ctx, now); err != nil || n != 2 {
		t.Fatalf("due after start and failure: %d %v", n, err)
	}
}

func scheduleRearm(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	p := Payment(m, "imp_1", "s1")
	p.CustomerUIDUsage = core.UsageScheduled
	bookExecuting(t, s, m, p)
	p.Status, p.FailedAt, p.FailReason = core.StatusFailed, T0, "never reached"
	var rearmed bool
	if _, err := s.SettleAttempt(ctx, p, func(tx *store.Tx) error {
		var err error
		rearmed, err = tx.RearmSchedule(ctx, p, T0)
		return err
	}); err != nil || !rearmed {
		t.Fatalf("rearm: %v %v", rearmed, err)
	}
	sc, err := s.GetSchedule(ctx, m.ID, "s1")
	if err != nil || sc.Status != core.ScheduleScheduled || sc.ImpUID != "" {
		t.Fatalf("rearmed schedule: %+v %v", sc, err)
	}
	// Adopting an earlier, settled attempt ends the entry with its outcome.
	claimed, err := s.ClaimSchedule(ctx, m.ID, "s1", T0, T0.Add(time.Minute), "tok2")
	if err != nil || len(claimed) != 1 {
		t.Fatal(claimed, err)
	}
	var ok bool
	must(t, s.InTx(ctx, func(tx *store.Tx) error {
		var err error
		ok, err = tx.AdoptAttempt(ctx, &claimed[0], "tok2", "imp_1", T0)
		return err
	}))
	if sc, _ := s.GetSchedule(ctx, m.ID, "s1"); !ok || sc.Status != core.ScheduleExecuted || sc.PaymentStatus != core.StatusFailed {
		t.Fatalf("adopted: %v %+v", ok, sc)
	}
}

// dueEventsByMerchant: the worker's queue, oldest due first across
// merchants, with a left-out merchant's backlog (older than everything
// else) neither returned nor in the way of the others.
func dueEventsByMerchant(t *testing.T, s *store.Store) {
	a, b, c := Merchant(t, s, "imp00000001"), Merchant(t, s, "imp00000002"), Merchant(t, s, "imp00000003")
	var evs []core.Event
	add := func(m *core.Merchant, id string, at time.Duration) {
		evs = append(evs, core.Event{ID: id, MerchantID: m.ID, Type: "payment", Payload: map[string]string{"id": id}, CreatedAt: T0.Add(at)})
	}
	for i := range 30 {
		add(a, fmt.Sprintf("a%02d", i), time.Duration(i)*time.Second)
	}
	add(b, "b1", 100*time.Second)
	add(b, "b0", 90*time.Second)
	add(c, "c0", 50*time.Second)
	must(t, s.InTx(ctx, func(tx *store.Tx) error { return tx.InsertEvents(ctx, evs) }))
	ids := func(due []store.DueEvent) string {
		var out []string
		for _, d := range due {
			out = append(out, d.ID)
		}
		return strings.Join(out, ",")
	}
	now := T0.Add(200 * time.Second)
	for _, c := range []struct {
		name    string
		now     time.Time
		exclude []int64
		limit   int
		per     int // per merchant; 0: limit
		want    string
	}{
		{"all, oldest first", now, nil, 4, 0, "a00,a01,a02,a03"},
		{"busy merchant left out", now, []int64{a.ID}, 10, 0, "c0,b0,b1"},
		{"cut at limit across merchants", now, []int64{a.ID}, 2, 0, "c0,b0"},
		{"only what is due", T0.Add(60 * time.Second), []int64{a.ID}, 10, 0, "c0"},
		{"nothing asked", now, nil, 0, 0, ""},
		{"every merchant busy", now, []int64{a.ID, b.ID, c.ID}, 10, 0, ""},
		{"a backlog gives its share, not the batch", now, nil, 10, 2, "a00,a01,c0,b0,b1"},
	} {
		due, err := s.DueEvents(ctx, c.now, c.exclude, c.limit, c.per)
		if err != nil || ids(due) != c.want {
			t.Errorf("%s: %s (%v), want %s", c.name, ids(due), err, c.want)
		}
	}
}

func outbox(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	p := Payment(m, "imp_1", "o1")
	must(t, s.BeginAttempt(ctx, p))
	e1, e2 := event(m, p, "payment.paid"), event(m, p, "second")
	e2.Body, e2.BodyFormat, e2.Profile = `{"deposit_id":7}`, "json", "d24"
	e1.RequestID = "req-7"
	if _, err := s.SettleAttempt(ctx, paid(p, T0), func(tx *store.Tx) error {
		return tx.InsertEvents(ctx, []core.Event{e1, e2})
	}); err != nil {
		t.Fatal(err)
	}
	stored, err := s.Events(ctx, m.ID, p.ImpUID)
	if err != nil || len(stored) != 2 || stored[1].Body != `{"deposit_id":7}` || stored[1].Profile != "d24" || stored[0].Payload["imp_uid"] != "imp_1" {
		t.Fatalf("stored events: %+v %v", stored, err)
	}
	now := T0.Add(time.Second)
	due, err := s.DueEvents(ctx, now, nil, 10, 0)
	if err != nil || len(due) != 2 {
		t.Fatalf("due: %+v %v", due, err)
	}
	if due, _ := s.DueEvents(ctx, now, []int64{m.ID}, 10, 0); len(due) != 0 {
		t.Fatalf("an excluded merchant's events: %+v", due)
	}
	lease := now.Add(time.Minute)
	claimed, err := s.ClaimEvents(ctx, []string{e1.ID}, now, lease)
	if err != nil || len(claimed) != 1 || claimed[0].ID != e1.ID || !claimed[0].LeasedUntil.Equal(lease) || claimed[0].RequestID != "req-7" {
		t.Fatalf("claim: %+v %v", claimed, err)
	}
	if again, _ := s.ClaimEvents(ctx, []string{e1.ID}, now, lease); len(again) != 0 {
		t.Fatalf("a claimed event is leased: %+v", again)
	}
	attempt := store.WebhookAttempt{EventID: e1.ID, MerchantID: m.ID, AttemptNo: 1, URL: "https://shop.example.com", StatusCode: 200, CreatedAt: now}
	stale := store.DeliveryResult{EventID: e1.ID, MerchantID: m.ID, ClaimedAttempts: 0, LeasedUntil: now, Status: store.EventDelivered,
		DeliveredAt: now, Attempt: attempt}
	if ok, err := s.FinishDelivery(ctx, stale); err != nil || ok {
		t.Fatalf("a lost lease does not finish the event: %v %v", ok, err)
	}
	done := stale
	done.LeasedUntil = lease
	if ok, err := s.FinishDelivery(ctx, done); err != nil || !ok {
		t.Fatalf("finish delivery: %v %v", ok, err)
	}
	ev, err := s.OutboxEvent(ctx, m.ID, e1.ID)
	if err != nil || ev.Status != store.EventDelivered || ev.Attempts != 1 || !ev.DeliveredAt.Equal(now) {
		t.Fatalf("delivered event: %+v %v", ev, err)
	}
	if attempts, err := s.WebhookAttempts(ctx, m.ID, e1.ID); err != nil || len(attempts) != 2 {
		t.Fatalf("both attempts are logged: %+v %v", attempts, err)
	}
	list, err := s.OutboxEvents(ctx, m.ID, store.EventFilter{ImpUID: p.ImpUID})
	if err != nil || len(list) != 2 {
		t.Fatalf("outbox events: %+v %v", list, err)
	}
	if depth, err := s.WebhookQueueDepth(ctx); err != nil || depth[store.EventPending] != 1 {
		t.Fatalf("queue depth %v %v", depth, err)
	}
}

func vaultKeys(t *testing.T, s *store.Store) {
	for i, id := range []string{"k1", "k2"} {
		must(t, s.AddVaultKey(ctx, store.VaultKey{ID: id, Wrapped: []byte(id), CreatedAt: T0.Add(time.Duration(i) * time.Hour)}))
	}
	keys, err := s.VaultKeys(ctx)
	if err != nil || len(keys) != 2 || string(keys[1].Wrapped) != keys[1].ID {
		t.Fatalf("vault keys %+v %v", keys, err)
	}
}

func subscriptions(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	sub := &core.Subscription{MerchantID: m.ID, InvoiceID: "inv-1", Flow: core.FlowKey, Status: core.SubPending, Amount: 9900,
		Currency: "KRW", Country: "KR", Payer: "{}", Plan: "MONTHLY", PlanUnit: 1, AutoRenewal: true, StartDate: "2026-01-01",
		TimeZone: "Asia/Seoul", CustomerUID: "c1", CreatedAt: T0, UpdatedAt: T0}
	renewal := schedule(m, "v3s-p0", T0)
	err := s.CreateSubscription(ctx, sub, func(tx *store.Tx) error {
		renewal.SubscriptionID = sub.ID
		return tx.BookRenewal(ctx, renewal)
	})
	must(t, err)
	dup := *sub
	if err := s.CreateSubscription(ctx, &dup, nil); !errors.Is(err, store.ErrInvoiceExists) {
		t.Fatalf("the same invoice twice: %v", err)
	}
	sc, err := s.GetSchedule(ctx, m.ID, "v3s-p0")
	if err != nil || sc.SubscriptionID != sub.ID || sc.Dialect() != core.DialectV3 {
		t.Fatalf("renewal row: %+v %v", sc, err)
	}
	p := Payment(m, "imp_1", "v3s-p0")
	must(t, s.BeginAttempt(ctx, p))
	d := &core.Deposit{MerchantID: m.ID, SubscriptionID: sub.ID, Period: 0, Try: 1, ImpUID: p.ImpUID, Status: core.DepositCompleted,
		CreatedAt: T0, UpdatedAt: T0}
	var changed, again bool
	must(t, s.InTx(ctx, func(tx *store.Tx) error {
		cur, err := tx.LockSubscription(ctx, m.ID, sub.ID)
		if err != nil {
			return err
		}
		if changed, err = tx.UpsertDeposit(ctx, d); err != nil {
			return err
		}
		if again, err = tx.UpsertDeposit(ctx, d); err != nil {
			return err
		}
		cur.Status, cur.PeriodsPaid, cur.UpdatedAt = core.SubActive, 1, T0.Add(time.Second)
		if err := tx.UpdateSubscription(ctx, cur); err != nil {
			return err
		}
		return tx.RevokeSubscriptionSchedules(ctx, m.ID, sub.ID, T0)
	}))
	if !changed || again {
		t.Fatalf("a deposit is new once: %v %v", changed, again)
	}
	got, err := s.GetSubscription(ctx, m.ID, sub.ID)
	if err != nil || got.Status != core.SubActive || got.PeriodsPaid != 1 {
		t.Fatalf("subscription: %+v %v", got, err)
	}
	if ds, err := s.Deposits(ctx, m.ID, sub.ID); err != nil || len(ds) != 1 || ds[0].Status != core.DepositCompleted {
		t.Fatalf("deposits %+v %v", ds, err)
	}
	if dd, err := s.GetDeposit(ctx, m.ID, d.ID); err != nil || dd.ImpUID != "imp_1" {
		t.Fatalf("deposit %+v %v", dd, err)
	}
	if sc, _ := s.GetSchedule(ctx, m.ID, "v3s-p0"); sc.Status != core.ScheduleRevoked {
		t.Fatalf("revoked renewal: %+v", sc)
	}
	if _, err := s.GetSubscription(ctx, m.ID+1, sub.ID); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("another merchant's subscription: %v", err)
	}
}
