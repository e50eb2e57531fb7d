package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/store"
)

func consoleAccounts(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	u := &store.ConsoleUser{MerchantID: m.ID, Email: "a@example.com", Role: core.RoleOwner, CreatedAt: T0, UpdatedAt: T0}
	must(t, s.CreateConsoleUser(ctx, u))
	if u.ID == 0 {
		t.Fatal("console user id not set")
	}
	if err := s.CreateConsoleUser(ctx, &store.ConsoleUser{MerchantID: m.ID, Email: "a@example.com", Role: core.RoleViewer}); !errors.Is(err, store.ErrEmailTaken) {
		t.Errorf("duplicate e-mail: %v, want ErrEmailTaken", err)
	}
	got, err := s.ConsoleUserByEmail(ctx, "a@example.com")
	if err != nil || got.ID != u.ID || got.Role != core.RoleOwner {
		t.Errorf("by e-mail %+v %v", got, err)
	}
	if _, err := s.ConsoleUserByEmail(ctx, "b@example.com"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("unknown e-mail: %v", err)
	}

	token := []byte("token-hash")
	must(t, s.SetConsoleSetupToken(ctx, u.ID, token, T0.Add(time.Hour), T0))
	if got, err := s.ConsoleUserBySetupToken(ctx, token, T0); err != nil || got.ID != u.ID {
		t.Errorf("by setup token %+v %v", got, err)
	}
	if _, err := s.ConsoleUserBySetupToken(ctx, token, T0.Add(2*time.Hour)); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("expired setup token: %v", err)
	}

	sess := store.ConsoleSession{IDHash: []byte("s1"), UserID: u.ID, MerchantID: m.ID, CSRF: "csrf", CreatedAt: T0, ExpiresAt: T0.Add(time.Hour)}
	must(t, s.CreateConsoleSession(ctx, sess))
	cs, err := s.ConsoleSessionByID(ctx, sess.IDHash, T0)
	if err != nil || cs.User.Email != "a@example.com" || cs.CSRF != "csrf" || !cs.ExpiresAt.Equal(sess.ExpiresAt) {
		t.Fatalf("session %+v %v", cs, err)
	}
	if _, err := s.ConsoleSessionByID(ctx, sess.IDHash, sess.ExpiresAt); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("expired session: %v", err)
	}

	// Setting the password spends the token once and signs every browser out.
	if ok, err := s.SetConsolePassword(ctx, u.ID, token, "argon", T0); err != nil || !ok {
		t.Fatalf("set password %v %v", ok, err)
	}
	if ok, err := s.SetConsolePassword(ctx, u.ID, token, "again", T0); err != nil || ok {
		t.Errorf("token reused: %v %v", ok, err)
	}
	if _, err := s.ConsoleSessionByID(ctx, sess.IDHash, T0); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("session survived a password change: %v", err)
	}

	must(t, s.CreateConsoleSession(ctx, sess))
	must(t, s.CreateConsoleSession(ctx, store.ConsoleSession{IDHash: []byte("s2"), UserID: u.ID, MerchantID: m.ID, CreatedAt: T0, ExpiresAt: T0.Add(time.Hour)}))
	must(t, s.DeleteConsoleSession(ctx, []byte("s2")))
	if n, err := s.DeleteConsoleSessions(ctx, m.ID, u.ID); err != nil || n != 1 {
		t.Errorf("delete sessions %d %v, want 1", n, err)
	}

	v := &store.ConsoleUser{MerchantID: m.ID, Email: "v@example.com", Role: core.RoleViewer, CreatedAt: T0, UpdatedAt: T0}
	must(t, s.CreateConsoleUser(ctx, v))
	if list, err := s.ConsoleUsers(ctx, m.ID); err != nil || len(list) != 2 || list[0].Email != "a@example.com" {
		t.Errorf("console users %+v %v", list, err)
	}
	must(t, s.DeleteConsoleUser(ctx, m.ID, v.ID))
	if err := s.DeleteConsoleUser(ctx, m.ID, v.ID); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
	other := Merchant(t, s, "imp00000002")
	if err := s.DeleteConsoleUser(ctx, other.ID, u.ID); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("delete across merchants: %v", err)
	}
}

func consoleAudit(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	for i, action := range []string{"login", "refund", "logout"} {
		must(t, s.AddAudit(ctx, store.AuditEntry{MerchantID: m.ID, UserID: 1, Email: "a@example.com", Action: action,
			Target: "t", IP: "127.0.0.1", CreatedAt: T0.Add(time.Duration(i) * time.Second)}))
	}
	log, err := s.AuditLog(ctx, m.ID, 0, 2)
	if err != nil || len(log) != 2 || log[0].Action != "logout" || log[1].Action != "refund" {
		t.Fatalf("audit log %+v %v", log, err)
	}
	rest, err := s.AuditLog(ctx, m.ID, log[1].ID, 10)
	if err != nil || len(rest) != 1 || rest[0].Action != "login" || !rest[0].CreatedAt.Equal(T0) {
		t.Errorf("audit log page 2 %+v %v", rest, err)
	}
	if other, err := s.AuditLog(ctx, m.ID+1, 0, 10); err != nil || len(other) != 0 {
		t.Errorf("other merchant's audit %+v %v", other, err)
	}
}

func consoleFigures(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	p := paidPayment(t, s, m, "imp_1", "order-1")
	paidPayment(t, s, m, "imp_2", "other-2")
	page, err := s.SearchPayments(ctx, m.ID, store.PaymentSearch{MerchantUID: "order", Status: core.StatusPaid})
	if err != nil || page.Total != 1 || len(page.Payments) != 1 || page.Payments[0].ImpUID != p.ImpUID {
		t.Errorf("search by prefix %+v %v", page, err)
	}
	// A LIKE wildcard in the prefix matches only itself.
	if page, err := s.SearchPayments(ctx, m.ID, store.PaymentSearch{MerchantUID: "%"}); err != nil || page.Total != 0 {
		t.Errorf("wildcard prefix %+v %v", page, err)
	}
	if page, err := s.SearchPayments(ctx, m.ID, store.PaymentSearch{MinAmount: 1000, MaxAmount: 1000, From: T0, To: T0.Add(time.Second), Limit: 1}); err != nil || page.Total != 2 || len(page.Payments) != 1 {
		t.Errorf("search by amount and time %+v %v", page, err)
	}

	sc := schedule(m, "sched-1", T0.Add(48*time.Hour))
	must(t, s.InsertSchedules(ctx, []core.Schedule{sc}))
	d, err := s.Daily(ctx, m.ID, "KRW", T0, T0.Add(24*time.Hour), 9*time.Hour, T0.Add(72*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Billed) != 1 || d.Billed[0].Amount != 2000 || d.Billed[0].Count != 2 {
		t.Errorf("billed %+v", d.Billed)
	}
	if len(d.Upcoming) != 1 || d.Upcoming[0].Amount != sc.Amount {
		t.Errorf("upcoming %+v", d.Upcoming)
	}
	if d, err := s.Daily(ctx, m.ID, "USD", T0, T0.Add(72*time.Hour), 0, T0.Add(72*time.Hour)); err != nil || len(d.Billed) != 0 {
		t.Errorf("another currency counts: %+v %v", d, err)
	}
	r, err := s.Recurring(ctx, m.ID, "KRW", T0, T0, T0.Add(30*24*time.Hour))
	if err != nil || r.ScheduledCustomers != 1 || r.V1Next30Days != sc.Amount || r.FailedRenewals != 0 {
		t.Errorf("recurring %+v %v", r, err)
	}
}
