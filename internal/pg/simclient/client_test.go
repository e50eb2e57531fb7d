package simclient_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/pg/sim"
	"github.com/billkey/billkey/internal/pg/simclient"
	"github.com/billkey/billkey/internal/pg/simwire"
)

var (
	nice  = pg.Target{Provider: "nice", MID: "nictest04m", Sandbox: true}
	inics = pg.Target{Provider: "html5_inicis", MID: "INIpayTest", Sandbox: true}
	kakao = pg.Target{Provider: "kakaopay", MID: "TCSUBSCRIP", Sandbox: true}
)

func start(t *testing.T, cfg sim.Config) (*sim.Server, *simclient.Client) {
	t.Helper()
	s := sim.New(cfg)
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := simclient.New(base, 5*time.Second)
	t.Cleanup(func() {
		c.CloseIdleConnections()
		s.Close()
	})
	return s, c
}

func card(n string) pg.Card {
	return pg.Card{Number: n, Expiry: "2030-12", Birth: "900101", Pwd2Digit: "12"}
}

func pgErr(t *testing.T, err error) *pg.Error {
	t.Helper()
	var pe *pg.Error
	if !errors.As(err, &pe) {
		t.Fatalf("want *pg.Error, got %v", err)
	}
	if errors.Is(err, pg.ErrUnknownOutcome) {
		t.Fatalf("definite refusal must not be an unknown outcome: %v", err)
	}
	return pe
}

// TestTestCards runs every sandbox card through issue, billing-key charge and
// key-in charge.
func TestTestCards(t *testing.T) {
	t.Parallel()
	s, c := start(t, sim.Config{})
	ctx := context.Background()

	type outcome string
	const (
		approved outcome = "approved"
		declined outcome = "declined"
		refused  outcome = "refused" // *pg.Error, 4xx
		pgError  outcome = "5xx"     // *pg.Error, nothing charged
		unknown  outcome = "unknown" // ErrUnknownOutcome, charged
		skip     outcome = ""
	)
	tests := []struct {
		name, number       string
		issue, byKey, kyin outcome
		reason             string // substring of the decline text
	}{
		{"approve", sim.CardApprove, approved, approved, approved, ""},
		{"other luhn-valid", "5555555555554444", approved, approved, approved, ""},
		{"generic decline", sim.CardDecline, refused, skip, declined, "거래거절"},
		{"insufficient funds", sim.CardInsufficient, refused, skip, declined, "잔액부족"},
		{"expired", sim.CardExpired, refused, skip, declined, "유효기간"},
		{"billing key charges decline", sim.CardBillingDeclines, approved, declined, approved, "거래거절"},
		{"billing key first charge soft-declines", sim.CardBillingSoftOnce, approved, declined, approved, "잔액부족"},
		{"pg error", sim.CardPGError, pgError, skip, pgError, ""},
		{"lost response", sim.CardLostResponse, approved, unknown, unknown, ""},
		{"luhn invalid", "4242424242424241", refused, skip, refused, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			key := "issue-" + tc.name
			res, err := c.IssueBillingKey(ctx, pg.IssueKeyRequest{Target: nice, IdempotencyKey: key, CustomerUID: "cu", Card: card(tc.number)})
			switch tc.issue {
			case approved:
				if err != nil {
					t.Fatalf("issue: %v", err)
				}
				if res.BillingKey == "" || res.Card.CardNumber != tc.number[:6]+"******"+tc.number[12:] {
					t.Fatalf("issue result %+v", res)
				}
			case refused, pgError:
				pe := pgErr(t, err)
				if strings.Contains(pe.Message, tc.number) || strings.Contains(err.Error(), tc.number) {
					t.Fatalf("error echoes the card number: %v", err)
				}
			}

			check := func(what string, o outcome, r *pg.ChargeResult, err error, chargeKey string) {
				t.Helper()
				switch o {
				case approved:
					if err != nil || r.Status != pg.ChargeApproved || r.PGTID == "" || r.ApplyNum == "" || r.ApprovedAt.IsZero() {
						t.Fatalf("%s: want approved, got %+v, %v", what, r, err)
					}
				case declined:
					if err != nil || r.Status != pg.ChargeDeclined || r.DeclineCode == "" || !strings.Contains(r.DeclineReason, tc.reason) {
						t.Fatalf("%s: want declined with %q, got %+v, %v", what, tc.reason, r, err)
					}
				case refused, pgError:
					pgErr(t, err)
					if _, err := c.LookupCharge(ctx, nice, chargeKey); !errors.Is(err, pg.ErrNoSuchCharge) {
						t.Fatalf("%s: refused charge must leave nothing, lookup: %v", what, err)
					}
				case unknown:
					if !errors.Is(err, pg.ErrUnknownOutcome) {
						t.Fatalf("%s: want ErrUnknownOutcome, got %+v, %v", what, r, err)
					}
					got, err := c.LookupCharge(ctx, nice, chargeKey)
					if err != nil || got.Status != pg.ChargeApproved {
						t.Fatalf("%s: lookup after lost response: %+v, %v", what, got, err)
					}
				}
			}
			if tc.byKey != skip {
				k := "bk-" + tc.name
				r, err := c.Charge(ctx, pg.ChargeRequest{Target: nice, IdempotencyKey: k, BillingKey: res.BillingKey, Amount: 1000, Currency: "KRW"})
				check("billing-key charge", tc.byKey, r, err, k)
				if tc.number == sim.CardBillingSoftOnce {
					if !r.Retryable {
						t.Fatalf("first charge of the soft-once card is a hard decline: %+v", r)
					}
					r, err := c.Charge(ctx, pg.ChargeRequest{Target: nice, IdempotencyKey: k + "-retry", BillingKey: res.BillingKey, Amount: 1000, Currency: "KRW"})
					check("billing-key retry", approved, r, err, k+"-retry")
				}
			}
			if tc.kyin != skip {
				k := "keyin-" + tc.name
				cd := card(tc.number)
				r, err := c.Charge(ctx, pg.ChargeRequest{Target: nice, IdempotencyKey: k, Card: &cd, Amount: 1000})
				check("key-in charge", tc.kyin, r, err, k)
			}
		})
	}
	t.Cleanup(func() {
		for _, ch := range s.Ledger() {
			if strings.Contains(ch.Card.CardNumber, "0000000000") {
				t.Errorf("ledger holds an unmasked number: %+v", ch)
			}
		}
	})
}

func TestDeclineTextsPerPersonality(t *testing.T) {
	t.Parallel()
	_, c := start(t, sim.Config{})
	for _, provider := range []string{"nice", "kcp", "html5_inicis", "jtnet", "settle"} {
		t.Run(provider, func(t *testing.T) {
			t.Parallel()
			tg := pg.Target{Provider: provider, MID: "m"}
			for num, want := range map[string]string{sim.CardDecline: "거래거절", sim.CardInsufficient: "잔액부족", sim.CardExpired: "유효기간"} {
				cd := card(num)
				r, err := c.Charge(context.Background(), pg.ChargeRequest{Target: tg, IdempotencyKey: num, Card: &cd, Amount: 500})
				if err != nil || r.Status != pg.ChargeDeclined || !strings.Contains(r.DeclineReason, want) {
					t.Errorf("%s: %+v %v", num, r, err)
				}
			}
		})
	}
}

func TestIdempotentCharge(t *testing.T) {
	t.Parallel()
	s, c := start(t, sim.Config{})
	ctx := context.Background()
	bk, err := c.IssueBillingKey(ctx, pg.IssueKeyRequest{Target: nice, IdempotencyKey: "k1", Card: card(sim.CardApprove)})
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.IssueBillingKey(ctx, pg.IssueKeyRequest{Target: nice, IdempotencyKey: "k1", Card: card(sim.CardApprove)})
	if err != nil || again.BillingKey != bk.BillingKey {
		t.Fatalf("issue repeat gave another key: %v %v", again, err)
	}
	req := pg.ChargeRequest{Target: nice, IdempotencyKey: "imp_1/a b", BillingKey: bk.BillingKey, Amount: 9900}
	r1, err := c.Charge(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := c.Charge(ctx, req)
	if err != nil || r2.PGTID != r1.PGTID {
		t.Fatalf("repeat: %+v %v", r2, err)
	}
	if n := s.ChargeCount(false); n != 1 {
		t.Fatalf("ledger has %d entries", n)
	}
	req.Amount = 10000
	if pe := pgErr(t, func() error { _, err := c.Charge(ctx, req); return err }()); pe.Code != simwire.CodeIdempotencyConflict {
		t.Fatalf("code %q", pe.Code)
	}
	got, err := c.LookupCharge(ctx, nice, "imp_1/a b")
	if err != nil || got.PGTID != r1.PGTID || got.Amount != 9900 {
		t.Fatalf("lookup: %+v %v", got, err)
	}
	// Another MID is another merchant ledger at the PG.
	if _, err := c.LookupCharge(ctx, pg.Target{Provider: "nice", MID: "other"}, "imp_1/a b"); !errors.Is(err, pg.ErrNoSuchCharge) {
		t.Fatalf("other MID lookup: %v", err)
	}
}

func TestConcurrentIdenticalCharges(t *testing.T) {
	t.Parallel()
	s, c := start(t, sim.Config{})
	ctx := context.Background()
	bk, err := c.IssueBillingKey(ctx, pg.IssueKeyRequest{Target: inics, Card: card(sim.CardApprove)})
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	tids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r, err := c.Charge(ctx, pg.ChargeRequest{Target: inics, IdempotencyKey: "same", BillingKey: bk.BillingKey, Amount: 5000})
			if err != nil {
				t.Error(err)
				return
			}
			tids[i] = r.PGTID
		})
	}
	wg.Wait()
	for _, tid := range tids {
		if tid != tids[0] {
			t.Fatalf("different answers: %v", tids)
		}
	}
	if l := s.Ledger(); len(l) != 1 || l[0].Amount != 5000 {
		t.Fatalf("ledger: %+v", l)
	}
	if st := s.Stats(); st.Charges != 1 || st.Replays != n-1 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestLostResponseRate(t *testing.T) {
	t.Parallel()
	s, c := start(t, sim.Config{LostRate: 1})
	ctx := context.Background()
	cd := card(sim.CardApprove)
	req := pg.ChargeRequest{Target: nice, IdempotencyKey: "lost-1", Card: &cd, Amount: 1200}
	if _, err := c.Charge(ctx, req); !errors.Is(err, pg.ErrUnknownOutcome) {
		t.Fatalf("want unknown outcome, got %v", err)
	}
	got, err := c.LookupCharge(ctx, nice, "lost-1")
	if err != nil || got.Status != pg.ChargeApproved || got.Amount != 1200 {
		t.Fatalf("lookup: %+v %v", got, err)
	}
	// A retry with the same key answers from the ledger: LostRate losses are one-shot.
	r, err := c.Charge(ctx, req)
	if err != nil || r.PGTID != got.PGTID {
		t.Fatalf("retry: %+v %v", r, err)
	}
	if s.ChargeCount(true) != 1 || s.Stats().Lost != 1 {
		t.Fatalf("ledger %d, stats %+v", s.ChargeCount(true), s.Stats())
	}
}

func TestErrorRate(t *testing.T) {
	t.Parallel()
	s, c := start(t, sim.Config{ErrorRate: 1})
	ctx := context.Background()
	cd := card(sim.CardApprove)
	_, err := c.Charge(ctx, pg.ChargeRequest{Target: kakao, IdempotencyKey: "e1", BillingKey: "whatever", Amount: 100})
	pgErr(t, err)
	_, err = c.Charge(ctx, pg.ChargeRequest{Target: nice, IdempotencyKey: "e2", Card: &cd, Amount: 100})
	if pe := pgErr(t, err); pe.Code != "9999" || pe.Provider != "nice" {
		t.Fatalf("%+v", pe)
	}
	if n := s.ChargeCount(false); n != 0 {
		t.Fatalf("ledger has %d", n)
	}
	if _, err := c.LookupCharge(ctx, nice, "e2"); !errors.Is(err, pg.ErrNoSuchCharge) {
		t.Fatalf("lookup: %v", err)
	}
	s.SetConfig(sim.Config{})
	if r, err := c.Charge(ctx, pg.ChargeRequest{Target: nice, IdempotencyKey: "e2", Card: &cd, Amount: 100}); err != nil || r.Status != pg.ChargeApproved {
		t.Fatalf("retry after 5xx: %+v %v", r, err)
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	_, c := start(t, sim.Config{})
	ctx := context.Background()
	cd := card(sim.CardApprove)
	if _, err := c.Charge(ctx, pg.ChargeRequest{Target: nice, IdempotencyKey: "ch", Card: &cd, Amount: 10000}); err != nil {
		t.Fatal(err)
	}
	cancel := func(key string, amt int64) (*pg.CancelResult, error) {
		return c.Cancel(ctx, pg.CancelRequest{Target: nice, ChargeKey: "ch", IdempotencyKey: key, Amount: amt, Reason: "고객 요청"})
	}
	c1, err := cancel("c1", 3000)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := cancel("c1", 3000); err != nil || again.PGTID != c1.PGTID {
		t.Fatalf("repeat cancel: %+v %v", again, err)
	}
	_, err = cancel("c2", 8000)
	if pe := pgErr(t, err); pe.Code != "2032" {
		t.Fatalf("over-refund: %+v", pe)
	}
	if _, err := cancel("c3", 0); err != nil {
		t.Fatalf("full rest: %v", err)
	}
	_, err = cancel("c4", 1)
	pgErr(t, err)
	got, err := c.LookupCharge(ctx, nice, "ch")
	if err != nil || got.Cancelled != 10000 {
		t.Fatalf("charge after cancels: %+v %v", got, err)
	}
	if lc, err := c.LookupCancel(ctx, nice, "k1", "c1"); err != nil || lc.PGTID != c1.PGTID {
		t.Fatalf("lookup cancel: %+v %v", lc, err)
	}
	if _, err := c.LookupCancel(ctx, nice, "k1", "c2"); !errors.Is(err, pg.ErrNoSuchCharge) {
		t.Fatalf("refused cancel must not exist: %v", err)
	}
	_, err = c.Cancel(ctx, pg.CancelRequest{Target: nice, ChargeKey: "nope", IdempotencyKey: "c5", Amount: 1})
	if !errors.Is(err, pg.ErrNoSuchCharge) {
		t.Fatalf("cancel unknown charge: %v", err)
	}
	pgErr(t, err)
}

func TestUnsupported(t *testing.T) {
	t.Parallel()
	_, c := start(t, sim.Config{})
	ctx := context.Background()
	_, err := c.IssueBillingKey(ctx, pg.IssueKeyRequest{Target: kakao, Card: card(sim.CardApprove)})
	pe := pgErr(t, err)
	if !pe.Unsupported || pe.Message != "카카오페이는 REST API 빌링키 발급(키인)을 지원하지 않습니다." || pe.Code == "" {
		t.Fatalf("%+v", pe)
	}
	cd := card(sim.CardApprove)
	_, err = c.Charge(ctx, pg.ChargeRequest{Target: kakao, IdempotencyKey: "x", Card: &cd, Amount: 100})
	if pe := pgErr(t, err); !pe.Unsupported {
		t.Fatalf("%+v", pe)
	}
	_, err = c.IssueBillingKey(ctx, pg.IssueKeyRequest{Target: pg.Target{Provider: "nope"}, Card: card(sim.CardApprove)})
	if pe := pgErr(t, err); !pe.Unsupported || pe.Code != simwire.CodeUnknownProvider {
		t.Fatalf("%+v", pe)
	}

	// Through the window, kakaopay does issue keys, and charges them over REST.
	bk, err := c.IssueWindowBillingKey(ctx, pg.IssueKeyRequest{Target: kakao, Card: card(sim.CardApprove)}, sim.MethodCard)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := c.Charge(ctx, pg.ChargeRequest{Target: kakao, IdempotencyKey: "kp", BillingKey: bk.BillingKey, Amount: 100}); err != nil || r.Status != pg.ChargeApproved {
		t.Fatalf("%+v %v", r, err)
	}
	_, err = c.IssueWindowBillingKey(ctx, pg.IssueKeyRequest{Target: pg.Target{Provider: "chai"}, Card: card(sim.CardApprove)}, sim.MethodCard)
	if pe := pgErr(t, err); !pe.Unsupported || !strings.HasPrefix(pe.Message, "차이는 카드") {
		t.Fatalf("%+v", pe)
	}

	// Phone payments cannot be refunded in part.
	mob := pg.Target{Provider: "mobilians", MID: "m"}
	pk, err := c.IssueWindowBillingKey(ctx, pg.IssueKeyRequest{Target: mob, FirstCharge: 3000}, sim.MethodPhone)
	if err != nil || pk.WindowCharge != 3000 || pk.Method != sim.MethodPhone {
		t.Fatalf("%+v %v", pk, err)
	}
	if _, err := c.Charge(ctx, pg.ChargeRequest{Target: mob, IdempotencyKey: "ph", BillingKey: pk.BillingKey, Amount: 3000}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Cancel(ctx, pg.CancelRequest{Target: mob, ChargeKey: "ph", IdempotencyKey: "phc", Amount: 1000})
	if pe := pgErr(t, err); !pe.Unsupported {
		t.Fatalf("%+v", pe)
	}
	if _, err := c.Cancel(ctx, pg.CancelRequest{Target: mob, ChargeKey: "ph", IdempotencyKey: "phc2"}); err != nil {
		t.Fatalf("full phone cancel: %v", err)
	}
}

func TestBillingKeyScopeAndDelete(t *testing.T) {
	t.Parallel()
	_, c := start(t, sim.Config{})
	ctx := context.Background()
	bk, err := c.IssueBillingKey(ctx, pg.IssueKeyRequest{Target: nice, Card: card(sim.CardApprove)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Charge(ctx, pg.ChargeRequest{Target: pg.Target{Provider: "nice", MID: "other"}, IdempotencyKey: "o", BillingKey: bk.BillingKey, Amount: 100})
	pgErr(t, err)
	if err := c.DeleteBillingKey(ctx, nice, bk.BillingKey); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteBillingKey(ctx, nice, bk.BillingKey); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	_, err = c.Charge(ctx, pg.ChargeRequest{Target: nice, IdempotencyKey: "d", BillingKey: bk.BillingKey, Amount: 100})
	if pe := pgErr(t, err); pe.Code != "F112" {
		t.Fatalf("%+v", pe)
	}
}

func TestTimeoutIsUnknownOutcome(t *testing.T) {
	t.Parallel()
	s := sim.New(sim.Config{Latency: 200 * time.Millisecond})
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fast := simclient.New(base, 50*time.Millisecond)
	cd := card(sim.CardApprove)
	_, err = fast.Charge(context.Background(), pg.ChargeRequest{Target: nice, IdempotencyKey: "slow", Card: &cd, Amount: 100})
	if !errors.Is(err, pg.ErrUnknownOutcome) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want unknown outcome by deadline, got %v", err)
	}
	// Whether the slow request got recorded depends on scheduling, so settle
	// it the way the charge engine does: repeat with the same key.
	s.SetConfig(sim.Config{})
	patient := simclient.New(base, 5*time.Second)
	r, err := patient.Charge(context.Background(), pg.ChargeRequest{Target: nice, IdempotencyKey: "slow", Card: &cd, Amount: 100})
	if err != nil || r.Status != pg.ChargeApproved {
		t.Fatalf("repeat: %+v %v", r, err)
	}
	got, err := patient.LookupCharge(context.Background(), nice, "slow")
	if err != nil || got.PGTID != r.PGTID {
		t.Fatalf("lookup: %+v %v", got, err)
	}
	if n := s.ChargeCount(false); n != 1 {
		t.Fatalf("ledger has %d entries", n)
	}
}

func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := simclient.New("http://"+addr, time.Second)
	cd := card(sim.CardApprove)
	_, err = c.Charge(context.Background(), pg.ChargeRequest{Target: nice, IdempotencyKey: "r", Card: &cd, Amount: 100})
	if pe := pgErr(t, err); pe.Code != "NETWORK" {
		t.Fatalf("%+v", pe)
	}
	// A lookup that could not ask proves nothing about the charge.
	if _, err := c.LookupCharge(context.Background(), nice, "r"); !errors.Is(err, pg.ErrUnknownOutcome) {
		t.Fatalf("lookup: %v", err)
	}
}

// TestManyConcurrentKeys hammers the ledger with distinct and repeated keys
// under -race; every key must appear exactly once.
func TestManyConcurrentKeys(t *testing.T) {
	t.Parallel()
	s, c := start(t, sim.Config{LostRate: 0.2, ErrorRate: 0.1, Seed: 7})
	ctx := context.Background()
	bk, err := c.IssueBillingKey(ctx, pg.IssueKeyRequest{Target: nice, Card: card(sim.CardApprove)})
	if err != nil {
		t.Fatal(err)
	}
	const keys, dup = 100, 4
	var wg sync.WaitGroup
	for i := range keys * dup {
		wg.Go(func() {
			key := fmt.Sprintf("k%d", i%keys)
			for range 20 { // retry until the outcome is known, as the charge engine would
				_, err := c.Charge(ctx, pg.ChargeRequest{Target: nice, IdempotencyKey: key, BillingKey: bk.BillingKey, Amount: 100})
				if err == nil {
					return
				}
				if errors.Is(err, pg.ErrUnknownOutcome) {
					if _, err := c.LookupCharge(ctx, nice, key); err == nil {
						return
					}
				}
			}
			t.Errorf("%s never settled", key)
		})
	}
	wg.Wait()
	seen := map[string]int{}
	for _, ch := range s.Ledger() {
		seen[ch.IdempotencyKey]++
	}
	if len(seen) != keys {
		t.Fatalf("%d keys in ledger", len(seen))
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("%s recorded %d times", k, n)
		}
	}
}

func BenchmarkChargeParallel(b *testing.B) {
	s := sim.New(sim.Config{})
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c := simclient.New(base, 5*time.Second)
	bk, err := c.IssueBillingKey(context.Background(), pg.IssueKeyRequest{Target: nice, Card: card(sim.CardApprove)})
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	seq := 0
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			seq++
			key := fmt.Sprintf("b%d", seq)
			mu.Unlock()
			if _, err := c.Charge(context.Background(), pg.ChargeRequest{Target: nice, IdempotencyKey: key, BillingKey: bk.BillingKey, Amount: 100}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
