package app_test

import (
	"testing"
	"time"

	"github.com/billkey/billkey/internal/app/apptest"
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
		if got := e2.Clock.Now(); !got.Equal(apptest.Start.Add(3*time.Hour + time.Minute)) {
			t.Fatalf("after a restart the sandbox clock reads %v, want %v", got, apptest.Start.Add(3*time.Hour+time.Minute))
		}
	})
}
