package scheduler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/testenv"
)

// Booking, execution at schedule_at through the test clock, buyer fallback,
// usage, the V1 result shape, and the outbox events for paid and failed.
func TestScheduleExecutesAtItsTime(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		e.issue("cust", cardOK, core.Buyer{Name: "홍길동", Email: "hong@example.com"})
		e.issue("later", cardLaterDecl, core.Buyer{})
		now := e.now()
		var booked []sched
		e.ok("POST", "/subscribe/payments/schedule", map[string]any{
			"customer_uid": "cust",
			"schedules": []map[string]any{
				{"merchant_uid": "s-fallback", "schedule_at": now + 3600, "amount": 8900, "name": "월간 이용권", "custom_data": map[string]any{"plan": "m"}},
				{"merchant_uid": "s-buyer", "schedule_at": now + 7200, "amount": "1000", "buyer_name": "김철수"},
			},
		}, &booked)
		if len(booked) != 2 {
			t.Fatalf("booked %+v", booked)
		}
		for _, s := range booked {
			if str(s.CustomerUID) != "cust" || s.ScheduleStatus != "scheduled" || s.PaymentStatus != nil || s.ImpUID != nil ||
				s.ExecutedAt != 0 || s.RevokedAt != 0 || str(s.PGProvider) != "nice" {
				t.Fatalf("booked entry %+v", s)
			}
		}
		if booked[0].ScheduleAt != now+3600 || booked[0].Amount != 8900 || booked[0].Currency != "KRW" || str(booked[0].CustomData) != `{"plan":"m"}` {
			t.Fatalf("stored parameters: %+v", booked[0])
		}
		e.book("later", entry{"s-decline", 3600, 500})

		if n := e.advance(1800); n != 0 {
			t.Fatalf("executed %d before schedule_at", n)
		}
		if n := e.advance(1800); n != 2 {
			t.Fatalf("executed %d at schedule_at, want 2", n)
		}
		got := e.get("s-fallback")
		if got.ScheduleStatus != "executed" || str(got.PaymentStatus) != "paid" || got.ImpUID == nil || got.ExecutedAt != e.now() || got.FailReason != nil {
			t.Fatalf("executed entry %+v", got)
		}
		var pay payment
		e.ok("GET", "/payments/"+*got.ImpUID, nil, &pay)
		if pay.Status != "paid" || pay.Amount != 8900 || str(pay.CustomerUIDUsage) != core.UsageScheduled || str(pay.CustomerUID) != "cust" ||
			pay.Channel != "api" || str(pay.BuyerName) != "홍길동" || str(pay.BuyerEmail) != "hong@example.com" || str(pay.CustomData) != `{"plan":"m"}` {
			t.Fatalf("payment %+v", pay)
		}
		dec := e.get("s-decline")
		if dec.ScheduleStatus != "executed" || str(dec.PaymentStatus) != "failed" || dec.FailReason == nil || dec.ImpUID == nil {
			t.Fatalf("declined entry %+v", dec)
		}
		if got := e.get("s-buyer"); got.ScheduleStatus != "scheduled" {
			t.Fatalf("later entry ran early: %+v", got)
		}
		e.advance(3600)
		got = e.get("s-buyer")
		e.ok("GET", "/payments/"+*got.ImpUID, nil, &pay)
		if str(pay.BuyerName) != "김철수" || str(pay.BuyerEmail) != "hong@example.com" {
			t.Fatalf("buyer wins over the key's customer fields, others fall back: %+v", pay)
		}

		ctx := context.Background()
		for mu, want := range map[string]string{"s-fallback": "paid", "s-decline": "failed"} {
			imp := *e.get(mu).ImpUID
			events, err := e.App.Store.Events(ctx, e.Merchant.ID, imp)
			if err != nil || len(events) != 1 || events[0].Payload["status"] != want || events[0].Payload["merchant_uid"] != mu {
				t.Fatalf("%s webhook events: %+v %v", mu, events, err)
			}
		}
		if n := e.advance(86400); n != 0 {
			t.Fatalf("executed entries ran again: %d", n)
		}
		if per := e.approvedPerOrder(); len(per) != 2 || per["s-fallback"] != 1 || per["s-buyer"] != 1 {
			t.Fatalf("PG approvals per order %v", per)
		}
	})
}

// Form bodies with PHP bracket keys and numbers as strings book the same.
func TestScheduleFormBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.SQLite(t))
	e.issue("cust", cardOK, core.Buyer{})
	at := fmt.Sprint(e.now() + 60)
	body := url.Values{
		"customer_uid":                     {"cust"},
		"schedules[0][merchant_uid]":       {"f-1"},
		"schedules[0][schedule_at]":        {at},
		"schedules[0][amount]":             {"1500"},
		"schedules[0][name]":               {"폼 예약"},
		"schedules[0][extra][naverUseCfm]": {"20260301"},
		"schedules[1][merchant_uid]":       {"f-2"},
		"schedules[1][schedule_at]":        {at},
		"schedules[1][amount]":             {"2500"},
	}.Encode()
	var out []sched
	e.ok("POST", "/subscribe/payments/schedule/", body, &out)
	if len(out) != 2 || out[0].MerchantUID != "f-1" || out[0].Amount != 1500 || str(out[0].Name) != "폼 예약" || out[1].Amount != 2500 {
		t.Fatalf("form booking %+v", out)
	}
	var revoked []sched
	e.ok("POST", "/subscribe/payments/unschedule/", "customer_uid=cust&merchant_uid[]=f-1&merchant_uid[]=f-2", &revoked)
	if len(revoked) != 2 {
		t.Fatalf("form unschedule %+v", revoked)
	}
}

func TestScheduleBookingErrors(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		e.issue("cust", cardOK, core.Buyer{})
		e.book("cust", entry{"taken", 60, 1000})
		if _, err := e.App.Service.Again(context.Background(), e.Merchant.ID, againInput("cust", "paid-order")); err != nil {
			t.Fatal(err)
		}
		now := e.now()
		one := func(mu string, at int64) []map[string]any {
			return []map[string]any{{"merchant_uid": mu, "schedule_at": at, "amount": 1000}}
		}
		tests := []struct {
			name         string
			body         map[string]any
			status, code int
			msg          string
		}{
			{"unknown customer without card", map[string]any{"customer_uid": "nobody", "schedules": one("x1", now+60)}, 200, 1, "등록된 고객정보가 없습니다."},
			{"card rejected", map[string]any{"customer_uid": "new1", "card_number": "4242-4242-4242-4241", "expiry": "2030-12", "schedules": one("x2", now+60)}, 200, 1, "카드정보 확인에 실패하였습니다."},
			{"card declined at issuance", map[string]any{"customer_uid": "new2", "card_number": cardDecline, "expiry": "2030-12", "schedules": one("x3", now+60)}, 200, 1, "카드정보 확인에 실패하였습니다."},
			{"missing customer_uid", map[string]any{"schedules": one("x4", now+60)}, 400, -1, "customer_uid"},
			{"missing schedules", map[string]any{"customer_uid": "cust"}, 400, -1, "schedules"},
			{"empty schedules", map[string]any{"customer_uid": "cust", "schedules": []any{}}, 400, -1, "schedules"},
			{"missing schedule_at", map[string]any{"customer_uid": "cust", "schedules": []map[string]any{{"merchant_uid": "x5", "amount": 1}}}, 400, -1, "schedule_at"},
			{"missing amount", map[string]any{"customer_uid": "cust", "schedules": []map[string]any{{"merchant_uid": "x6", "schedule_at": now + 60}}}, 400, -1, "amount"},
			{"bad amount", map[string]any{"customer_uid": "cust", "schedules": []map[string]any{{"merchant_uid": "x7", "schedule_at": now + 60, "amount": "lots"}}}, 400, -1, "amount"},
			{"in the past", map[string]any{"customer_uid": "cust", "schedules": one("x8", now-3600)}, 400, -1, "과거"},
			{"duplicate in request", map[string]any{"customer_uid": "cust", "schedules": append(one("x9", now+60), one("x9", now+120)...)}, 400, -1, "merchant_uid"},
			{"already scheduled", map[string]any{"customer_uid": "cust", "schedules": append(one("fresh", now+60), one("taken", now+120)...)}, 200, 1, "taken"},
			{"already paid", map[string]any{"customer_uid": "cust", "schedules": one("paid-order", now+60)}, 200, 1, "이미 주문이 이루어진 건입니다"},
			{"merchant_uid too long", map[string]any{"customer_uid": "cust", "schedules": one(strings.Repeat("m", 41), now+60)}, 400, -1, "merchant_uid"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := &env{Env: e.Env, t: t, token: e.token}
				e.fails("POST", "/subscribe/payments/schedule", tt.body, tt.status, tt.code, tt.msg)
			})
		}
		// Nothing was half-written: no stray entries, no keys for refused cards.
		for _, mu := range []string{"fresh", "x1", "x2", "x3"} {
			e.fails("GET", "/subscribe/payments/schedule/"+mu, nil, 404, -1, "존재하지 않는 결제예약")
		}
		for _, uid := range []string{"new1", "new2"} {
			if _, err := e.App.Service.GetBillingKey(context.Background(), e.Merchant.ID, uid); err == nil {
				t.Errorf("billing key %s exists after a refused booking", uid)
			}
		}
	})
}

// A new customer_uid with card data gets its key first; the card never
// comes back unmasked.
func TestScheduleIssuesKeyFromCard(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		res := e.call("POST", "/subscribe/payments/schedule", map[string]any{
			"customer_uid": "brand-new", "card_number": cardOK, "expiry": "2030-12", "birth": "800101", "pwd_2digit": "12",
			"schedules": []map[string]any{{"merchant_uid": "n-1", "schedule_at": e.now() + 60, "amount": 1000}},
		})
		if res.Status != 200 || res.Code != 0 || strings.Contains(string(res.Response), "4242424242424242") {
			t.Fatalf("booking with card: %d %d %s", res.Status, res.Code, res.Response)
		}
		k, err := e.App.Service.GetBillingKey(context.Background(), e.Merchant.ID, "brand-new")
		if err != nil || k.CardNumber != "424242******4242" {
			t.Fatalf("issued key %+v %v", k, err)
		}
		// With the key in place, card data is ignored (a bad card does not matter).
		e.ok("POST", "/subscribe/payments/schedule", map[string]any{
			"customer_uid": "brand-new", "card_number": "1234", "expiry": "bad",
			"schedules": []map[string]any{{"merchant_uid": "n-2", "schedule_at": e.now() + 60, "amount": 1000}},
		}, nil)
		e.advance(60)
		if s := e.get("n-1"); str(s.PaymentStatus) != "paid" {
			t.Fatalf("entry on an issued key: %+v", s)
		}
	})
}

// checking_amount approves and refunds at once; a card that fails the
// check books nothing and leaves no key behind.
func TestCheckingAmount(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		e.ok("POST", "/subscribe/payments/schedule", map[string]any{
			"customer_uid": "chk", "card_number": cardOK, "expiry": "2030-12", "checking_amount": 1000,
			"schedules": []map[string]any{{"merchant_uid": "c-1", "schedule_at": e.now() + 60, "amount": 5000}},
		}, nil)
		ledger := e.App.Sim.Ledger()
		if len(ledger) != 1 || ledger[0].Amount != 1000 || ledger[0].Cancelled != 1000 {
			t.Fatalf("checking charge at the PG: %+v", ledger)
		}
		e.fails("POST", "/subscribe/payments/schedule", map[string]any{
			"customer_uid": "chk-bad", "card_number": cardLaterDecl, "expiry": "2030-12", "checking_amount": "1000",
			"schedules": []map[string]any{{"merchant_uid": "c-2", "schedule_at": e.now() + 60, "amount": 5000}},
		}, 200, 1, "카드정보 확인에 실패하였습니다.")
		e.fails("GET", "/subscribe/payments/schedule/c-2", nil, 404, -1, "")
		if _, err := e.App.Service.GetBillingKey(context.Background(), e.Merchant.ID, "chk-bad"); err == nil {
			t.Fatal("key issued for a booking whose card check failed must be removed")
		}
		// An existing key that fails the check stays (it was not made here).
		e.issue("old-bad", cardLaterDecl, core.Buyer{})
		e.fails("POST", "/subscribe/payments/schedule", map[string]any{
			"customer_uid": "old-bad", "checking_amount": 100,
			"schedules": []map[string]any{{"merchant_uid": "c-3", "schedule_at": e.now() + 60, "amount": 5000}},
		}, 200, 1, "카드정보 확인에 실패하였습니다.")
		if _, err := e.App.Service.GetBillingKey(context.Background(), e.Merchant.ID, "old-bad"); err != nil {
			t.Fatalf("pre-existing key removed: %v", err)
		}
	})
}

func TestUnscheduleVariants(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		tests := []struct {
			name    string
			body    any
			revoked []string
		}{
			{"by customer", map[string]any{"customer_uid": "a"}, []string{"a1", "a2", "a3"}},
			{"one merchant_uid", map[string]any{"customer_uid": "a", "merchant_uid": "a2"}, []string{"a2"}},
			{"array", map[string]any{"customer_uid": "a", "merchant_uid": []string{"a1", "a3"}}, []string{"a1", "a3"}},
			{"merchant_uid without customer", map[string]any{"merchant_uid": []string{"a1", "b1"}}, []string{"a1", "b1"}},
			{"both must match", map[string]any{"customer_uid": "a", "merchant_uid": []string{"a1", "b1"}}, []string{"a1"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := newEnv(t, b)
				e.issue("a", cardOK, core.Buyer{})
				e.issue("b", cardOK, core.Buyer{})
				e.book("a", entry{"a1", 60, 100}, entry{"a2", 120, 100}, entry{"a3", 180, 100})
				e.book("b", entry{"b1", 60, 100})
				var out []sched
				e.ok("POST", "/subscribe/payments/unschedule", tt.body, &out)
				var got []string
				for _, s := range out {
					if s.ScheduleStatus != "revoked" || s.RevokedAt != e.now() || s.PaymentStatus != nil || s.CustomerUID == nil {
						t.Fatalf("revoked entry %+v", s)
					}
					got = append(got, s.MerchantUID)
				}
				if fmt.Sprint(sorted(got)) != fmt.Sprint(tt.revoked) {
					t.Fatalf("revoked %v, want %v", got, tt.revoked)
				}
				for _, mu := range tt.revoked {
					if s := e.get(mu); s.ScheduleStatus != "revoked" {
						t.Fatalf("%s after unschedule: %+v", mu, s)
					}
				}
				// Revoking again finds nothing.
				e.fails("POST", "/subscribe/payments/unschedule", tt.body, 200, 1, "취소할 예약결제 기록이 존재하지 않습니다.")
				e.advance(3600)
				for _, mu := range tt.revoked {
					if s := e.get(mu); s.ScheduleStatus != "revoked" || s.ImpUID != nil {
						t.Fatalf("revoked %s ran: %+v", mu, s)
					}
				}
			})
		}
		t.Run("errors", func(t *testing.T) {
			e := newEnv(t, b)
			e.issue("a", cardOK, core.Buyer{})
			e.book("a", entry{"done", 60, 100})
			e.advance(60)
			e.fails("POST", "/subscribe/payments/unschedule", map[string]any{}, 400, -1, "누락")
			e.fails("POST", "/subscribe/payments/unschedule", map[string]any{"customer_uid": "a", "merchant_uid": "done"}, 200, 1, "취소할 예약결제 기록이 존재하지 않습니다.")
			e.fails("POST", "/subscribe/payments/unschedule", map[string]any{"customer_uid": "nobody"}, 200, 1, "취소할 예약결제 기록이 존재하지 않습니다.")
			e.fails("POST", "/subscribe/payments/unschedule", map[string]any{"merchant_uid": map[string]any{"x": 1}}, 400, -1, "merchant_uid")
		})
	})
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// PUT moves waiting entries only; reschedule and retry work on failed and
// revoked entries only.
func TestUpdateRescheduleRetryRules(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		e.issue("ok", cardOK, core.Buyer{})
		e.issue("bad", cardLaterDecl, core.Buyer{})
		e.book("ok", entry{"wait", 600, 100}, entry{"paid", 60, 100}, entry{"gone", 600, 100})
		e.book("bad", entry{"fail", 60, 100})
		e.advance(60)
		e.ok("POST", "/subscribe/payments/unschedule", map[string]any{"merchant_uid": "gone"}, nil)
		now := e.now()
		at := func(d int64) map[string]any { return map[string]any{"schedule_at": now + d} }

		// PUT
		var moved sched
		e.ok("PUT", "/subscribe/payments/schedule/wait", at(1200), &moved)
		if moved.ScheduleAt != now+1200 || moved.ScheduleStatus != "scheduled" {
			t.Fatalf("moved %+v", moved)
		}
		e.ok("PUT", "/subscribe/payments/schedule/wait", fmt.Sprintf("schedule_at=%d", now+900), &moved)
		if moved.ScheduleAt != now+900 {
			t.Fatalf("moved by form %+v", moved)
		}
		for _, tt := range []struct {
			method, path string
			body         any
			status, code int
			msg          string
		}{
			{"PUT", "/subscribe/payments/schedule/wait", map[string]any{}, 400, -1, "schedule_at"},
			{"PUT", "/subscribe/payments/schedule/wait", at(-3600), 400, -1, "과거"},
			{"PUT", "/subscribe/payments/schedule/nope", at(60), 404, -1, "존재하지 않는 결제예약"},
			{"PUT", "/subscribe/payments/schedule/paid", at(60), 400, -1, "변경할 수 없습니다"},
			{"PUT", "/subscribe/payments/schedule/gone", at(60), 400, -1, "변경할 수 없습니다"},
			{"POST", "/subscribe/payments/schedule/wait/reschedule", at(60), 400, -1, "재예약"},
			{"POST", "/subscribe/payments/schedule/paid/reschedule", at(60), 400, -1, "재예약"},
			{"POST", "/subscribe/payments/schedule/fail/reschedule", at(-3600), 400, -1, "과거"},
			{"POST", "/subscribe/payments/schedule/nope/reschedule", at(60), 404, -1, "존재하지 않는 결제예약"},
			{"POST", "/subscribe/payments/schedule/wait/retry", nil, 400, -1, "재시도"},
			{"POST", "/subscribe/payments/schedule/paid/retry", nil, 400, -1, "재시도"},
			{"POST", "/subscribe/payments/schedule/nope/retry", nil, 404, -1, "존재하지 않는 결제예약"},
		} {
			e.fails(tt.method, tt.path, tt.body, tt.status, tt.code, tt.msg)
		}

		// reschedule a failed entry: waiting again, cleared, runs at the new time.
		var rs sched
		e.ok("POST", "/subscribe/payments/schedule/fail/reschedule", at(300), &rs)
		if rs.ScheduleStatus != "scheduled" || rs.ImpUID != nil || rs.PaymentStatus != nil || rs.ExecutedAt != 0 || rs.ScheduleAt != now+300 {
			t.Fatalf("rescheduled %+v", rs)
		}
		e.advance(300)
		if s := e.get("fail"); s.ScheduleStatus != "executed" || str(s.PaymentStatus) != "failed" {
			t.Fatalf("rescheduled entry after its time %+v", s)
		}
		// retry a revoked entry: charged now, the Payment comes back.
		var pay payment
		e.ok("POST", "/subscribe/payments/schedule/gone/retry", nil, &pay)
		if pay.Status != "paid" || pay.MerchantUID != "gone" || str(pay.CustomerUIDUsage) != core.UsageScheduled {
			t.Fatalf("retry payment %+v", pay)
		}
		if s := e.get("gone"); s.ScheduleStatus != "executed" || str(s.PaymentStatus) != "paid" || str(s.ImpUID) != pay.ImpUID || s.RevokedAt != 0 {
			t.Fatalf("retried entry %+v", s)
		}
		// retry a failed entry that fails again: a failed Payment, code 0.
		e.ok("POST", "/subscribe/payments/schedule/fail/retry", nil, &pay)
		if pay.Status != "failed" || pay.FailReason == nil {
			t.Fatalf("failed retry %+v", pay)
		}
		// retry/reschedule need the billing key.
		e.ok("DELETE", "/subscribe/customers/bad", nil, nil)
		e.fails("POST", "/subscribe/payments/schedule/fail/retry", nil, 404, 1, "빌링키")
		e.fails("POST", "/subscribe/payments/schedule/fail/reschedule", at(600), 404, 1, "빌링키")
		if per := e.approvedPerOrder(); per["paid"] != 1 || per["gone"] != 1 || len(per) != 2 {
			t.Fatalf("approvals %v", per)
		}
	})
}

func TestListPagingSortingWindow(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		e.issue("a", cardOK, core.Buyer{})
		e.issue("b", cardOK, core.Buyer{})
		var entries []entry
		for i := range 25 {
			entries = append(entries, entry{fmt.Sprintf("l-%02d", i), int64(3600 + i*60), 100})
		}
		e.book("a", entries...)
		e.book("b", entry{"other", 3600, 100})
		e.ok("POST", "/subscribe/payments/unschedule", map[string]any{"merchant_uid": []string{"l-00", "l-01"}}, nil)
		now := e.now()
		from, to := now, now+86400

		var p paged
		e.ok("GET", fmt.Sprintf("/subscribe/payments/schedule?schedule_from=%d&schedule_to=%d&limit=10&page=2", from, to), nil, &p)
		if p.Total != 26 || p.Previous != 1 || p.Next != 3 || len(p.List) != 10 {
			t.Fatalf("page 2: total %d prev %d next %d len %d", p.Total, p.Previous, p.Next, len(p.List))
		}
		for i := 1; i < len(p.List); i++ {
			if p.List[i].ScheduleAt > p.List[i-1].ScheduleAt {
				t.Fatalf("default order must be newest first: %d then %d", p.List[i-1].ScheduleAt, p.List[i].ScheduleAt)
			}
		}
		e.ok("GET", fmt.Sprintf("/subscribe/payments/schedule?schedule_from=%d&schedule_to=%d&sorting=scheduled&limit=3", from, to), nil, &p)
		if p.Previous != 0 || p.Next != 2 || p.List[0].MerchantUID != "l-00" || p.List[0].ScheduleAt > p.List[1].ScheduleAt {
			t.Fatalf("sorting=scheduled: %+v", p)
		}
		e.ok("GET", fmt.Sprintf("/subscribe/payments/schedule?schedule_from=%d&schedule_to=%d&schedule_status=revoked", from, to), nil, &p)
		if p.Total != 2 || p.Next != 0 {
			t.Fatalf("status filter: %+v", p)
		}
		// The window is inclusive-exclusive on schedule_at.
		e.ok("GET", fmt.Sprintf("/subscribe/payments/schedule?schedule_from=%d&schedule_to=%d", now+3600, now+3660), nil, &p)
		if p.Total != 2 { // l-00 and other
			t.Fatalf("window [from,to): %+v", p)
		}

		// Customer lists: both paths, both spellings.
		for _, path := range []string{"/subscribe/customers/a/schedules", "/subscribe/payments/schedule/customers/a"} {
			for _, q := range []string{
				fmt.Sprintf("from=%d&to=%d&schedule-status=scheduled", from, to),
				fmt.Sprintf("schedule_from=%d&schedule_to=%d&schedule_status=scheduled", from, to),
			} {
				e.ok("GET", path+"?"+q, nil, &p)
				if p.Total != 23 || len(p.List) != 20 || p.Next != 2 {
					t.Fatalf("%s?%s: total %d len %d next %d", path, q, p.Total, len(p.List), p.Next)
				}
				for _, s := range p.List {
					if str(s.CustomerUID) != "a" || s.ScheduleStatus != "scheduled" {
						t.Fatalf("%s: %+v", path, s)
					}
				}
			}
		}
		e.ok("GET", fmt.Sprintf("/subscribe/customers/nobody/schedules?from=%d&to=%d", from, to), nil, &p)
		if p.Total != 0 || p.List == nil {
			t.Fatalf("empty list must be [] not null: %+v", p)
		}

		for _, tt := range []struct{ path, msg string }{
			{fmt.Sprintf("/subscribe/payments/schedule?schedule_to=%d", to), "schedule_from"},
			{fmt.Sprintf("/subscribe/payments/schedule?schedule_from=%d", from), "schedule_to"},
			{fmt.Sprintf("/subscribe/payments/schedule?schedule_from=%d&schedule_to=%d", to, from), "커야"},
			{fmt.Sprintf("/subscribe/payments/schedule?schedule_from=%d&schedule_to=%d", from, from+93*86400), "3개월"},
			{fmt.Sprintf("/subscribe/payments/schedule?schedule_from=%d&schedule_to=%d&schedule_status=paid", from, to), "schedule_status"},
			{fmt.Sprintf("/subscribe/payments/schedule?schedule_from=%d&schedule_to=%d&limit=1001", from, to), "limit"},
			{fmt.Sprintf("/subscribe/payments/schedule?schedule_from=%d&schedule_to=%d&page=0", from, to), "page"},
			{fmt.Sprintf("/subscribe/payments/schedule?schedule_from=%d&schedule_to=%d&sorting=-started", from, to), "sorting"},
			{fmt.Sprintf("/subscribe/payments/schedule?schedule_from=abc&schedule_to=%d", to), "schedule_from"},
			{fmt.Sprintf("/subscribe/customers/a/schedules?to=%d", to), "from"},
			{fmt.Sprintf("/subscribe/customers/a/schedules?from=%d&to=%d&schedule-status=x", from, to), "schedule_status"},
		} {
			e.fails("GET", tt.path, nil, 400, -1, tt.msg)
		}
		// Exactly three calendar months is allowed.
		e.ok("GET", fmt.Sprintf("/subscribe/payments/schedule?schedule_from=%d&schedule_to=%d", from,
			e.Clock.Now().AddDate(0, 3, 0).Unix()), nil, &p)
	})
}

// Deleting a billing key revokes its waiting schedules in the same
// transaction: they never run against a missing key.
func TestKeyDeletionRevokesSchedules(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		e.issue("cust", cardOK, core.Buyer{})
		e.issue("keep", cardOK, core.Buyer{})
		e.book("cust", entry{"k-1", 60, 100}, entry{"k-2", 3600, 100}, entry{"k-done", 1, 100})
		e.book("keep", entry{"k-other", 60, 100})
		e.advance(1)
		e.ok("DELETE", "/subscribe/customers/cust", nil, nil)
		for _, mu := range []string{"k-1", "k-2"} {
			if s := e.get(mu); s.ScheduleStatus != "revoked" || s.RevokedAt != e.now() {
				t.Fatalf("%s after key deletion: %+v", mu, s)
			}
		}
		if s := e.get("k-done"); s.ScheduleStatus != "executed" || str(s.PaymentStatus) != "paid" {
			t.Fatalf("executed entry must keep its result: %+v", s)
		}
		e.advance(7200)
		if s := e.get("k-other"); str(s.PaymentStatus) != "paid" {
			t.Fatalf("other customer's entry %+v", s)
		}
		if per := e.approvedPerOrder(); len(per) != 2 {
			t.Fatalf("approvals after key deletion %v", per)
		}
	})
}

// The sandbox clock answers in the V1 envelope and refuses without a token.
func TestSandboxClockEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.SQLite(t))
	var c struct {
		Now int64 `json:"now"`
	}
	e.ok("GET", "/sandbox/clock", nil, &c)
	if c.Now != e.now() {
		t.Fatalf("clock %d vs %d", c.Now, e.now())
	}
	e.ok("POST", "/sandbox/clock/advance", fmt.Sprintf("to=%d", e.now()+100), &c)
	if c.Now != e.now() {
		t.Fatalf("advance to: %d", c.Now)
	}
	e.fails("POST", "/sandbox/clock/advance", map[string]any{"seconds": -5}, 400, -1, "seconds")
	e.fails("POST", "/sandbox/clock/advance", map[string]any{}, 400, -1, "seconds")
	e.fails("POST", "/sandbox/clock/advance", map[string]any{"to": e.now() - 10}, 400, -1, "to")
	bad := &env{Env: e.Env, t: t, token: "wrong"}
	bad.fails("POST", "/sandbox/clock/advance", map[string]any{"seconds": 5}, 401, -1, "Unauthorized")
}

// Every ScheduleResultAnnotation key is present, with real nulls before
// execution and customer_uid never null.
func TestScheduleResultKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.SQLite(t))
	e.issue("cust", cardOK, core.Buyer{})
	e.book("cust", entry{"keys-1", 60, 100})
	res := e.call("GET", "/subscribe/payments/schedule/keys-1", nil)
	var m map[string]any
	if err := json.Unmarshal(res.Response, &m); err != nil {
		t.Fatal(err)
	}
	want := []string{"customer_uid", "merchant_uid", "imp_uid", "pg_provider", "pg_id", "customer_id", "schedule_at", "executed_at",
		"revoked_at", "amount", "currency", "name", "buyer_name", "buyer_email", "buyer_tel", "buyer_addr", "buyer_postcode",
		"custom_data", "schedule_status", "payment_status", "fail_reason", "promotion_id"}
	if len(m) != len(want) {
		t.Fatalf("keys %v, want exactly %v", m, want)
	}
	for _, k := range want {
		if _, ok := m[k]; !ok {
			t.Fatalf("key %s missing: %v", k, m)
		}
	}
	if m["payment_status"] != nil || m["imp_uid"] != nil || m["customer_uid"] != "cust" || m["executed_at"] != float64(0) {
		t.Fatalf("before execution: %v", m)
	}
}
