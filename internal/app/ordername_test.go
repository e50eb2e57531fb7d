package app_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/pg/provider"
	"github.com/billkey/billkey/internal/testenv"
)

// TestLongOrderNames: names longer than 40 characters are accepted as
// i'mport accepts them (again, onetime, schedule); the payment keeps the
// whole name, and only a PG whose field is narrower (NICE: 40 bytes) gets a
// shortened one.
func TestLongOrderNames(t *testing.T) {
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b)
		tok := e.Token(e.Cred)
		name := "Billkey Premium 연간 구독 (2026년 3월~2027년 2월)!" // 42 characters
		if n := utf8.RuneCountInString(name); n != 42 {
			t.Fatalf("test name has %d characters", n)
		}
		var out envelope
		e.Do("POST", "/subscribe/customers/long_1", tok, map[string]any{
			"card_number": "4242-4242-4242-4242", "expiry": "2030-12", "birth": "800101", "pwd_2digit": "12"}, &out)
		if out.Code != 0 {
			t.Fatalf("issue: %+v", out)
		}
		e.Do("POST", "/subscribe/payments/again", tok, map[string]any{
			"customer_uid": "long_1", "merchant_uid": "long_again", "amount": 1000, "name": name}, &out)
		if out.Code != 0 || out.Response["status"] != "paid" || out.Response["name"] != name {
			t.Fatalf("again with a 42-character name: %+v", out)
		}
		l := e.App.Sim.Ledger()
		got := l[len(l)-1].OrderName
		if provider.NameBytes(got) > 40 || !strings.HasPrefix(name, got) || got == "" {
			t.Errorf("NICE got order name %q (%d bytes)", got, provider.NameBytes(got))
		}
		e.Do("POST", "/subscribe/payments/onetime", tok, map[string]any{
			"merchant_uid": "long_onetime", "amount": 1000, "name": strings.Repeat("가", 100),
			"card_number": "4242-4242-4242-4242", "expiry": "2030-12", "birth": "800101"}, &out)
		if out.Code != 0 || out.Response["status"] != "paid" {
			t.Fatalf("onetime with a 100-character name: %+v", out)
		}
		var sched struct {
			Code     int              `json:"code"`
			Response []map[string]any `json:"response"`
		}
		e.Do("POST", "/subscribe/payments/schedule", tok, map[string]any{
			"customer_uid": "long_1", "schedules": []map[string]any{{
				"merchant_uid": "long_sched", "schedule_at": apptest.Start.Unix() + 3600, "amount": 1000, "name": name}}}, &sched)
		if sched.Code != 0 || len(sched.Response) != 1 || sched.Response[0]["name"] != name {
			t.Fatalf("schedule with a 42-character name: %+v", sched)
		}
	})
}
