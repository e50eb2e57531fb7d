package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/store"
)

func cards(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	legacy := key(m, "old")
	legacy.KeyFormat, legacy.CardKeyID = core.KeyLegacyPAN, "k0"
	must(t, s.PutBillingKey(ctx, legacy))
	current := key(m, "new")
	current.KeyFormat, current.Inserted = core.KeySealedPG, T0.Add(time.Hour)
	must(t, s.PutBillingKey(ctx, current))

	keys, total, err := s.ListBillingKeys(ctx, m.ID, "", 1, 1)
	if err != nil || total != 2 || len(keys) != 1 || keys[0].CustomerUID != "new" {
		t.Errorf("list keys %+v %d %v", keys, total, err)
	}
	if keys, total, err := s.ListBillingKeys(ctx, m.ID, "ol", 1, 10); err != nil || total != 1 || keys[0].CustomerUID != "old" {
		t.Errorf("search keys %+v %d %v", keys, total, err)
	}

	stale, err := s.CardsNotUnderKey(ctx, "k1", 10)
	if err != nil || len(stale) != 1 || stale[0].CustomerUID != "old" || stale[0].KeyID != "k0" {
		t.Fatalf("cards under another key %+v %v", stale, err)
	}
	if ok, err := s.ReplaceCardCipher(ctx, stale[0], []byte{9}, "k1"); err != nil || !ok {
		t.Fatalf("rewrap %v %v", ok, err)
	}
	if ok, err := s.ReplaceCardCipher(ctx, stale[0], []byte{8}, "k2"); err != nil || ok {
		t.Errorf("rewrapped a card already moved on: %v %v", ok, err)
	}

	list, err := s.LegacyCards(ctx, 10)
	if err != nil || len(list) != 1 || list[0].CustomerUID != "old" || list[0].PGBillingKey != "pgk-old" || list[0].KeyID != "k1" {
		t.Fatalf("legacy cards %+v %v", list, err)
	}
	if ok, err := s.ConvertLegacyCard(ctx, list[0], []byte{7}, "k1", "2030-12"); err != nil || !ok {
		t.Fatalf("convert %v %v", ok, err)
	}
	if ok, err := s.ConvertLegacyCard(ctx, list[0], []byte{7}, "k1", "2030-12"); err != nil || ok {
		t.Errorf("converted twice: %v %v", ok, err)
	}
	got, err := s.GetBillingKey(ctx, m.ID, "old")
	if err != nil || got.KeyFormat != core.KeySealedPG || got.CardExpiry != "2030-12" || got.PGBillingKey != "" {
		t.Errorf("converted key %+v %v", got, err)
	}
}

func subscriptionQueries(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	sub := &core.Subscription{MerchantID: m.ID, InvoiceID: "inv-1", Flow: core.FlowKey, Status: core.SubPending, Amount: 9900,
		Currency: "KRW", Country: "KR", Payer: "{}", Plan: "MONTHLY", PlanUnit: 1, AutoRenewal: true, StartDate: "2026-01-01",
		TimeZone: "Asia/Seoul", CheckoutToken: "tok-1", CreatedAt: T0, UpdatedAt: T0}
	renewal := schedule(m, "v3s-p0", T0)
	must(t, s.CreateSubscription(ctx, sub, func(tx *store.Tx) error {
		renewal.SubscriptionID = sub.ID
		return tx.BookRenewal(ctx, renewal)
	}))
	if got, err := s.SubscriptionByCheckout(ctx, "tok-1"); err != nil || got.ID != sub.ID {
		t.Errorf("by checkout %+v %v", got, err)
	}
	if _, err := s.SubscriptionByCheckout(ctx, "nope"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("unknown checkout: %v", err)
	}
	list, total, err := s.ListSubscriptions(ctx, m.ID, 1, 10)
	if err != nil || total != 1 || len(list) != 1 || list[0].InvoiceID != "inv-1" {
		t.Errorf("list %+v %d %v", list, total, err)
	}
	must(t, s.InsertSchedules(ctx, []core.Schedule{schedule(m, "plain", T0)}))
	var subID, plainID int64
	must(t, s.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if subID, err = tx.SubscriptionOfSchedule(ctx, m.ID, "v3s-p0"); err != nil {
			return err
		}
		if plainID, err = tx.SubscriptionOfSchedule(ctx, m.ID, "plain"); err != nil {
			return err
		}
		_, err = tx.SubscriptionOfSchedule(ctx, m.ID, "absent")
		return err
	}))
	if subID != sub.ID || plainID != 0 {
		t.Errorf("subscription of schedule %d %d", subID, plainID)
	}

	// A failed renewal is put back in the queue for the dunning retry.
	p := Payment(m, "imp_1", "v3s-p0")
	bookExecutingRenewal(t, s, m, p)
	p.Status, p.FailedAt, p.FailReason = core.StatusFailed, T0, "declined"
	if _, err := s.SettleAttempt(ctx, p, func(tx *store.Tx) error {
		return tx.RearmRenewal(ctx, m.ID, "v3s-p0", T0.Add(24*time.Hour))
	}); err != nil {
		t.Fatal(err)
	}
	sc, err := s.GetSchedule(ctx, m.ID, "v3s-p0")
	if err != nil || sc.Status != core.ScheduleScheduled || !sc.ScheduleAt.Equal(T0.Add(24*time.Hour)) || sc.ImpUID != "" {
		t.Errorf("rearmed renewal %+v %v", sc, err)
	}
}

// bookExecutingRenewal claims an already booked schedule and starts p on it.
func bookExecutingRenewal(t *testing.T, s *store.Store, m *core.Merchant, p *core.Payment) {
	t.Helper()
	claimed, err := s.ClaimSchedule(ctx, m.ID, p.MerchantUID, T0, T0.Add(time.Minute), "tok")
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim %s: %+v %v", p.MerchantUID, claimed, err)
	}
	must(t, s.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.BeginAttempt(ctx, p); err != nil {
			return err
		}
		ok, err := tx.StartScheduleAttempt(ctx, &claimed[0], "tok", p, T0)
		if err == nil && !ok {
			err = errors.New("schedule not started")
		}
		return err
	}))
}

func scheduleRestart(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	must(t, s.InsertSchedules(ctx, []core.Schedule{schedule(m, "s1", T0.Add(time.Hour))}))
	revoked, err := s.RevokeSchedules(ctx, m.ID, "c1", []string{"s1"}, T0)
	if err != nil || len(revoked) != 1 {
		t.Fatalf("revoke %+v %v", revoked, err)
	}
	sc, err := s.GetSchedule(ctx, m.ID, "s1")
	must(t, err)
	p := Payment(m, "imp_r", "s1")
	p.CustomerUIDUsage = core.UsageScheduled
	var ok bool
	must(t, s.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.BeginAttempt(ctx, p); err != nil {
			return err
		}
		var err error
		ok, err = tx.RestartScheduleAttempt(ctx, sc, p, T0)
		return err
	}))
	if !ok {
		t.Fatal("a revoked schedule restarts")
	}
	if got, err := s.GetSchedule(ctx, m.ID, "s1"); err != nil || got.Status != core.ScheduleExecuting || got.ImpUID != "imp_r" {
		t.Errorf("restarted schedule %+v %v", got, err)
	}
	must(t, s.InTx(ctx, func(tx *store.Tx) error {
		var err error
		ok, err = tx.RestartScheduleAttempt(ctx, sc, Payment(m, "imp_r2", "s1"), T0)
		return err
	}))
	if ok {
		t.Error("an executing schedule restarted")
	}
	done := Payment(m, "imp_d", "s2")
	done.CustomerUIDUsage = core.UsageScheduled
	bookExecuting(t, s, m, done)
	if _, err := s.SettleAttempt(ctx, paid(done, T0), func(tx *store.Tx) error {
		return tx.FinishScheduleAttempt(ctx, done, T0)
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CountExecutedSchedules(ctx, m.ID); err != nil || n != 1 {
		t.Errorf("executed %d %v", n, err)
	}
	if n, err := s.CountExecutedSchedules(ctx, 0); err != nil || n != 1 {
		t.Errorf("executed, all merchants %d %v", n, err)
	}
	if st, err := s.ScheduleStats(ctx); err != nil || st[core.ScheduleExecuted] != 1 || st[core.ScheduleExecuting] != 1 {
		t.Errorf("stats %v %v", st, err)
	}
}

func windowTerms(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	p := Payment(m, "imp_w", "o1")
	vat := int64(90)
	p.VatAmount = &vat
	must(t, s.BeginAttempt(ctx, p))
	must(t, s.InTx(ctx, func(tx *store.Tx) error { return tx.SetWindowTerms(ctx, m.ID, "imp_w", 1500, "kakaopay") }))
	got, err := s.PaymentByImpUID(ctx, "imp_w")
	if err != nil || got.Amount != 1500 || got.PayMethod != "kakaopay" || (got.VatAmount != nil && *got.VatAmount != 0) || got.MerchantID != m.ID {
		t.Errorf("window terms %+v %v", got, err)
	}
	if _, err := s.PaymentByImpUID(ctx, "nope"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("unknown imp_uid: %v", err)
	}
}

func merchantSettings(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	must(t, s.SetImpSecretHash(ctx, m.ID, []byte("new")))
	if got, err := s.MerchantByID(ctx, m.ID); err != nil || string(got.ImpSecretHash) != "new" {
		t.Errorf("secret hash %+v %v", got, err)
	}
	if err := s.SetImpSecretHash(ctx, 999999, []byte("x")); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("unknown merchant: %v", err)
	}
	if clocks, err := s.SandboxClocks(ctx); err != nil || len(clocks) != 0 {
		t.Errorf("clocks before any %v %v", clocks, err)
	}
	must(t, s.SaveSandboxClock(ctx, m.ID, T0.Add(time.Hour)))
	must(t, s.SaveSandboxClock(ctx, m.ID, T0))
	other := Merchant(t, s, "imp00000002")
	must(t, s.SaveSandboxClock(ctx, other.ID, T0.Add(time.Minute)))
	clocks, err := s.SandboxClocks(ctx)
	if err != nil || len(clocks) != 2 || !clocks[m.ID].Equal(T0.Add(time.Hour)) || !clocks[other.ID].Equal(T0.Add(time.Minute)) {
		t.Errorf("each merchant's clock, none moved back: %v %v", clocks, err)
	}
}

func lifecycle(t *testing.T, s *store.Store) {
	var applied int
	must(t, s.Migrate(ctx, store.OnMigration(func(store.Migration) { applied++ })))
	if applied != 0 {
		t.Errorf("a migrated store migrated again: %d", applied)
	}
	s.SetPoolSize(4)
	must(t, s.Ping(ctx))
	var one int
	if err := s.DB().QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil || one != 1 {
		t.Errorf("raw handle %d %v", one, err)
	}
	must(t, s.Close())
	must(t, s.Close())
	if err := s.Ping(ctx); err == nil {
		t.Error("a closed store answers")
	}
}

func expediteCheck(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	p := Payment(m, "imp_x", "o1")
	must(t, s.BeginAttempt(ctx, p))
	if ok, err := s.ExpediteCheck(ctx, m.ID, p.ImpUID, T0); err != nil || ok {
		t.Errorf("expedited an attempt in flight: %v %v", ok, err)
	}
	must(t, s.MarkUnknown(ctx, m.ID, p.ImpUID, T0.Add(time.Hour), T0))
	if due, err := s.ClaimUnresolved(ctx, T0.Add(2*time.Minute), T0.Add(3*time.Minute), 10); err != nil || len(due) != 0 {
		t.Fatalf("due before its check %+v %v", due, err)
	}
	if ok, err := s.ExpediteCheck(ctx, m.ID, p.ImpUID, T0.Add(time.Minute)); err != nil || !ok {
		t.Fatalf("expedite %v %v", ok, err)
	}
	if due, err := s.ClaimUnresolved(ctx, T0.Add(2*time.Minute), T0.Add(3*time.Minute), 10); err != nil || len(due) != 1 || due[0].ImpUID != p.ImpUID {
		t.Errorf("due after expedite %+v %v", due, err)
	}
	if ok, err := s.ExpediteCheck(ctx, m.ID+1, p.ImpUID, T0); err != nil || ok {
		t.Errorf("expedited another merchant's attempt: %v %v", ok, err)
	}
}
