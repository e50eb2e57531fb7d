package app_test

import (
	"testing"
	"time"

	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/merchant"
	"github.com/billkey/billkey/internal/subscription"
	"github.com/billkey/billkey/internal/testenv"
)

// TestSandboxClockAdvance: out-of-range seconds/to are refused with 400,
// executed counts exactly the caller's schedule entries the advance ran, and
// a restarted sandbox resumes at the advanced time, never behind it.
func TestSandboxClockAdvance(t *testing.T) {
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b)
		tok := e.Token(e.Cred)
		at := func(d time.Duration) int64 { return apptest.Start.Add(d).Unix() }
		book := func(tok, cuid string, entries ...map[string]any) {
			var out envelope
			e.Do("POST", "/subscribe/customers/"+cuid, tok, map[string]any{
				"card_number": "4242-4242-4242-4242", "expiry": "2030-12", "birth": "800101", "pwd_2digit": "12"}, &out)
			var sched struct{ Code int }
			e.Do("POST", "/subscribe/payments/schedule", tok, map[string]any{"customer_uid": cuid, "schedules": entries}, &sched)
			if out.Code != 0 || sched.Code != 0 {
				t.Fatalf("book for %s: %+v %+v", cuid, out, sched)
			}
		}
		book(tok, "clk_a",
			map[string]any{"merchant_uid": "clk_1", "schedule_at": at(time.Hour), "amount": 1000},
			map[string]any{"merchant_uid": "clk_2", "schedule_at": at(2 * time.Hour), "amount": 1000},
			map[string]any{"merchant_uid": "clk_3", "schedule_at": at(48 * time.Hour), "amount": 1000})
		credB, _ := e.NewMerchant("Other Merchant")
		book(e.Token(credB), "clk_b", map[string]any{"merchant_uid": "clk_b1", "schedule_at": at(time.Hour), "amount": 1000})

		for _, body := range []map[string]any{
			{"seconds": -1}, {"seconds": 400_000_000}, {"seconds": "soon"}, {"seconds": 1e30},
			{"to": at(-time.Hour)}, {"to": at(11 * 365 * 24 * time.Hour)}, {"to": int64(1) << 62},
			{"seconds": 60, "to": at(time.Hour)}, {},
		} {
			var out envelope
			if st := e.Do("POST", "/sandbox/clock/advance", tok, body, &out); st != 400 || out.Code != -1 {
				t.Errorf("advance %v: HTTP %d %+v, want 400", body, st, out)
			}
		}
		if !e.Clock.Now().Equal(apptest.Start) {
			t.Fatalf("a refused advance moved the clock to %v", e.Clock.Now())
		}

		var out struct {
			Code     int `json:"code"`
			Response struct {
				Now      int64 `json:"now"`
				Executed int   `json:"executed"`
			} `json:"response"`
		}
		e.Do("POST", "/sandbox/clock/advance", tok, map[string]any{"seconds": 3 * 3600}, &out)
		if out.Code != 0 || out.Response.Now != at(3*time.Hour) || out.Response.Executed != 2 {
			t.Fatalf("advance 3h: %+v, want now %d and exactly this merchant's 2 entries executed", out, at(3*time.Hour))
		}
		e.Do("POST", "/sandbox/clock/advance", e.Token(e.Cred), map[string]any{"seconds": 60}, &out)
		if out.Code != 0 || out.Response.Executed != 0 {
			t.Fatalf("nothing more due: %+v", out)
		}

		// A restart on the same database resumes at the advanced time.
		e.App.Close()
		e2 := apptest.New(t, b)
		if got := e2.Clock.NowFor(e.Merchant.ID); !got.Equal(apptest.Start.Add(3*time.Hour + time.Minute)) {
			t.Fatalf("after a restart the sandbox clock reads %v, want %v", got, apptest.Start.Add(3*time.Hour+time.Minute))
		}
	})
}

// TestSandboxClockPerMerchant: two merchants share a test-clock sandbox, each
// with a V1 schedule and a v3 MONTHLY subscription. Advancing A by 30 days
// runs A's schedule and renewal and not B's; B's own advance later runs
// B's; a restart keeps each merchant's clock where it was.
func TestSandboxClockPerMerchant(t *testing.T) {
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b)
		credB, mB := e.NewMerchant("Other Merchant")
		type shop struct {
			name  string
			id    int64
			cred  merchant.Credentials
			subID int64
		}
		shops := []*shop{{name: "A", id: e.Merchant.ID, cred: e.Cred}, {name: "B", id: mB.ID, cred: credB}}
		ctx := t.Context()
		for _, s := range shops {
			tok := e.Token(s.cred)
			var key envelope
			var sched struct{ Code int }
			e.Do("POST", "/subscribe/customers/pm_"+s.name, tok, map[string]any{
				"card_number": "4242-4242-4242-4242", "expiry": "2030-12", "birth": "800101", "pwd_2digit": "12"}, &key)
			e.Do("POST", "/subscribe/payments/schedule", tok, map[string]any{"customer_uid": "pm_" + s.name,
				"schedules": []map[string]any{{"merchant_uid": "pm_sched_" + s.name, "schedule_at": apptest.Start.Add(20 * 24 * time.Hour).Unix(), "amount": 1000}}}, &sched)
			if key.Code != 0 || sched.Code != 0 {
				t.Fatalf("%s: key %+v schedule %+v", s.name, key, sched)
			}
			sub, err := e.App.Subscriptions().Create(ctx, s.id, subscription.CreateInput{
				InvoiceID: "pm_inv_" + s.name, Amount: 9900, Currency: "KRW", Country: "KR", Plan: "MONTHLY", PlanUnit: 1,
				AutoRenewal: true, CustomerUID: "pm_" + s.name,
			})
			if err != nil {
				t.Fatalf("%s: subscription: %v", s.name, err)
			}
			s.subID = sub.ID
		}
		// state reports whether s's schedule ran and how many periods its
		// subscription paid.
		state := func(s *shop) (string, int) {
			t.Helper()
			sc, err := e.App.Scheduler().Get(ctx, s.id, "pm_sched_"+s.name)
			if err != nil {
				t.Fatal(err)
			}
			sub, err := e.App.Subscriptions().Get(ctx, s.id, s.subID)
			if err != nil {
				t.Fatal(err)
			}
			return string(sc.Status), sub.PeriodsPaid
		}
		advance := func(s *shop, secs int64) (int64, int) {
			t.Helper()
			var out struct {
				Code     int `json:"code"`
				Response struct {
					Now      int64 `json:"now"`
					Executed int   `json:"executed"`
				} `json:"response"`
			}
			if st := e.Do("POST", "/sandbox/clock/advance", e.Token(s.cred), map[string]any{"seconds": secs}, &out); st != 200 || out.Code != 0 {
				t.Fatalf("advance %s: HTTP %d %+v", s.name, st, out)
			}
			return out.Response.Now, out.Response.Executed
		}
		clockOf := func(s *shop) int64 {
			t.Helper()
			var out struct {
				Response struct {
					Now int64 `json:"now"`
				} `json:"response"`
			}
			e.Do("GET", "/sandbox/clock", e.Token(s.cred), nil, &out)
			return out.Response.Now
		}
		for _, s := range shops {
			if st, paid := state(s); st != "scheduled" || paid != 1 {
				t.Fatalf("%s before any advance: schedule %s, periods paid %d", s.name, st, paid)
			}
		}

		const month = 31 * 24 * 3600
		now, executed := advance(shops[0], month)
		if want := apptest.Start.Unix() + month; now != want || executed != 2 {
			t.Fatalf("A's advance: now %d executed %d, want %d and 2 (its schedule and renewal)", now, executed, want)
		}
		if st, paid := state(shops[0]); st != "executed" || paid != 2 {
			t.Fatalf("A after its advance: schedule %s, periods paid %d", st, paid)
		}
		if st, paid := state(shops[1]); st != "scheduled" || paid != 1 {
			t.Fatalf("B after A's advance: schedule %s, periods paid %d — A moved B's time", st, paid)
		}
		if got := clockOf(shops[1]); got != apptest.Start.Unix() {
			t.Fatalf("B's clock reads %d after A's advance, want %d", got, apptest.Start.Unix())
		}

		now, executed = advance(shops[1], month)
		if want := apptest.Start.Unix() + month; now != want || executed != 2 {
			t.Fatalf("B's advance: now %d executed %d, want %d and 2", now, executed, want)
		}
		if st, paid := state(shops[1]); st != "executed" || paid != 2 {
			t.Fatalf("B after its advance: schedule %s, periods paid %d", st, paid)
		}
		if _, executed = advance(shops[1], 3600); executed != 0 {
			t.Fatalf("B's second advance executed %d, want 0", executed)
		}
		if st, paid := state(shops[0]); st != "executed" || paid != 2 {
			t.Fatalf("A after B's advances: schedule %s, periods paid %d", st, paid)
		}

		// A restart on the same database resumes each merchant's clock.
		e.App.Close()
		e2 := apptest.New(t, b)
		for s, want := range map[*shop]time.Time{
			shops[0]: apptest.Start.Add(month * time.Second),
			shops[1]: apptest.Start.Add(month*time.Second + time.Hour),
		} {
			if got := e2.Clock.NowFor(s.id); !got.Equal(want) {
				t.Fatalf("after a restart %s's clock reads %v, want %v", s.name, got, want)
			}
		}
	})
}
