package subscription_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/app"
	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/subscription"
	"github.com/billkey/billkey/internal/testenv"
)

var ctx = context.Background()

var seoul, _ = time.LoadLocation("Asia/Seoul")

func card(n string) *pg.Card { return &pg.Card{Number: n, Expiry: "2035-12"} }

func create(t *testing.T, e *testBundle, in subscription.CreateInput) *core.Subscription {
	t.Helper()
	if in.Currency == "" {
		in.Currency = "KRW"
	}
	if in.Country == "" {
		in.Country = "KR"
	}
	if in.Amount == 0 {
		in.Amount = 9900
	}
	sub, err := e.engine.Create(ctx, e.Merchant.ID, in)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return sub
}

// runAt moves the test clock to at and runs everything due, as the sandbox
// clock endpoint does.
func runAt(t *testing.T, e *testBundle, at time.Time) {
	t.Helper()
	e.Clock.Set(at)
	if _, err := e.sched.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
}

func deposits(t *testing.T, e *testBundle, sub *core.Subscription) []core.Deposit {
	t.Helper()
	ds, err := e.Store.Deposits(ctx, e.Merchant.ID, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func get(t *testing.T, e *testBundle, id int64) *core.Subscription {
	t.Helper()
	sub, err := e.engine.Get(ctx, e.Merchant.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// Two years of MONTHLY renewals anchored on Jan 31, in seconds: every
// billing date follows Stripe's month-end rule from the original anchor,
// and each period is charged exactly once even with two runners racing.
func TestMonthlyAnchoredJan31TwoYears(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		_, e := setup(t, b)
		e.Clock.Set(time.Date(2027, 1, 31, 10, 0, 0, 0, seoul))
		sub := create(t, e, subscription.CreateInput{InvoiceID: "inv-jan31", Plan: "MONTHLY", PlanUnit: 24, Card: card("4242424242424242")})
		if sub.Status != core.SubActive || len(deposits(t, e, sub)) != 1 {
			t.Fatalf("start today must charge at once: %s, %d deposits", sub.Status, len(deposits(t, e, sub)))
		}
		cal, err := subscription.Schedule(sub)
		if err != nil {
			t.Fatal(err)
		}
		for n := 1; n < 24; n++ {
			// Two runners at once: the claim and the per-period order make
			// one charge of it.
			e.Clock.Set(cal.Nth(n))
			var wg sync.WaitGroup
			for range 2 {
				wg.Add(1)
				go func() { defer wg.Done(); e.sched.RunDue(ctx) }()
			}
			wg.Wait()
		}
		want := []string{
			"2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31", "2027-06-30", "2027-07-31", "2027-08-31",
			"2027-09-30", "2027-10-31", "2027-11-30", "2027-12-31", "2028-01-31", "2028-02-29", "2028-03-31", "2028-04-30",
			"2028-05-31", "2028-06-30", "2028-07-31", "2028-08-31", "2028-09-30", "2028-10-31", "2028-11-30", "2028-12-31",
		}
		ds := deposits(t, e, sub)
		if len(ds) != len(want) {
			t.Fatalf("%d deposits, want %d", len(ds), len(want))
		}
		for i, d := range ds {
			p, err := e.Service.GetPayment(ctx, e.Merchant.ID, d.ImpUID)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.PaidAt.In(seoul).Format("2006-01-02"); got != want[i] || d.Period != i || d.Status != core.DepositCompleted {
				t.Errorf("period %d: paid %s (%s), want %s", d.Period, got, d.Status, want[i])
			}
			if p.CustomerUIDUsage != core.UsageScheduled || p.Amount != 9900 {
				t.Errorf("period %d payment: %+v", i, p)
			}
		}
		if got := e.Sim.ChargeCount(true); got != 24 {
			t.Fatalf("simulator approved %d charges, want 24", got)
		}
		if s := get(t, e, sub.ID); s.Status != core.SubActive {
			t.Fatalf("before the term ends: %s", s.Status)
		}
		runAt(t, e, cal.Nth(24))
		if s := get(t, e, sub.ID); s.Status != core.SubTerminated || len(deposits(t, e, sub)) != 24 {
			t.Fatalf("after the term: %s with %d deposits", s.Status, len(deposits(t, e, sub)))
		}
	})
}

// auto_renewal starts another term: a year of monthly renewals of a
// 3-month plan never stops.
func TestAutoRenewalKeepsCharging(t *testing.T) {
	t.Parallel()
	_, e := setup(t, testenv.SQLite(t))
	e.Clock.Set(time.Date(2026, 5, 15, 9, 30, 0, 0, seoul))
	sub := create(t, e, subscription.CreateInput{InvoiceID: "inv-renew", Plan: "MONTHLY", PlanUnit: 3, AutoRenewal: true, Card: card("4242424242424242")})
	cal, _ := subscription.Schedule(sub)
	for n := 1; n <= 12; n++ {
		runAt(t, e, cal.Nth(n))
	}
	if s := get(t, e, sub.ID); s.Status != core.SubActive || len(deposits(t, e, sub)) != 13 || s.PeriodsPaid != 13 {
		t.Fatalf("after a year: %s, %d deposits", s.Status, len(deposits(t, e, sub)))
	}
}

// The sandbox TEST plan charges every minute, plan_unit times.
func TestTestPlanChargesEveryMinute(t *testing.T) {
	t.Parallel()
	_, e := setup(t, testenv.SQLite(t))
	sub := create(t, e, subscription.CreateInput{InvoiceID: "inv-test", Plan: "TEST", PlanUnit: 3, Card: card("4242424242424242")})
	for i := 1; i <= 3; i++ {
		runAt(t, e, e.Clock.Now().Add(time.Minute))
	}
	ds := deposits(t, e, sub)
	if len(ds) != 3 {
		t.Fatalf("%d deposits, want 3", len(ds))
	}
	if s := get(t, e, sub.ID); s.Status != core.SubTerminated {
		t.Fatalf("status %s, want TERMINATED", s.Status)
	}
}

// Soft declines are retried 1, 3 and 7 days after each failure, each try a
// deposit with its own notification; after the last the subscription is
// CANCELLED. Nothing is retried before its time.
func TestDunningRetriesThenCancels(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		_, e := setup(t, b)
		sub := create(t, e, subscription.CreateInput{InvoiceID: "inv-dun", Plan: "MONTHLY", PlanUnit: 12, Card: card("4000000000000341"),
			NotificationURL: "https://merchant.example/notify"})
		if s := get(t, e, sub.ID); s.Status != core.SubPending || s.Tries != 1 {
			t.Fatalf("after the first decline: %s tries %d", s.Status, s.Tries)
		}
		for i, wait := range []time.Duration{24 * time.Hour, 3 * 24 * time.Hour, 7 * 24 * time.Hour} {
			runAt(t, e, e.Clock.Now().Add(wait-time.Minute))
			if n := len(deposits(t, e, sub)); n != i+1 {
				t.Fatalf("retry %d ran early: %d deposits", i+1, n)
			}
			runAt(t, e, e.Clock.Now().Add(time.Minute))
			if n := len(deposits(t, e, sub)); n != i+2 {
				t.Fatalf("retry %d: %d deposits", i+1, n)
			}
		}
		s := get(t, e, sub.ID)
		if s.Status != core.SubCancelled {
			t.Fatalf("after the last try: %s", s.Status)
		}
		ds := deposits(t, e, sub)
		for i, d := range ds {
			if d.Status != core.DepositRejected || d.Period != 0 || d.Try != i+1 {
				t.Errorf("deposit %d: %+v", i, d)
			}
			events, _ := e.Store.Events(ctx, e.Merchant.ID, d.ImpUID)
			if len(events) != 1 || events[0].Profile != "d24" || events[0].URL != "https://merchant.example/notify" {
				t.Errorf("deposit %d events: %+v", d.ID, events)
				continue
			}
			var body map[string]int64
			if json.Unmarshal([]byte(events[0].Body), &body); body["deposit_id"] != d.ID {
				t.Errorf("notification body %s", events[0].Body)
			}
		}
		runAt(t, e, e.Clock.Now().Add(60*24*time.Hour))
		if n := len(deposits(t, e, sub)); n != 4 {
			t.Fatalf("charged after cancellation: %d deposits", n)
		}
	})
}

// Notifications reach the receiver as D24 sends them: POST {"deposit_id": N}.
func TestDepositNotificationDelivered(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, testenv.SQLite(t), func(c *app.Config) { c.WebhookAllowPrivate = true })
	got := make(chan []byte, 4)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("webhook-id") == "" || r.Header.Get("webhook-signature") == "" {
			t.Errorf("missing Standard Webhooks headers: %v", r.Header)
		}
		got <- b
	}))
	defer rcv.Close()
	sub, err := e.App.Subscriptions().Create(ctx, e.Merchant.ID, subscription.CreateInput{InvoiceID: "inv-n", Amount: 9900, Currency: "KRW",
		Country: "KR", Plan: "DAILY", PlanUnit: 5, Card: card("4242424242424242"), NotificationURL: rcv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := e.App.Store.Deposits(ctx, e.Merchant.ID, sub.ID)
	if err != nil || len(ds) != 1 {
		t.Fatalf("deposits %+v %v", ds, err)
	}
	if _, err := e.App.Webhooks().DeliverDue(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-got:
		var body map[string]any
		json.Unmarshal(b, &body)
		if len(body) != 1 || body["deposit_id"] != float64(ds[0].ID) {
			t.Fatalf("notification body %s", b)
		}
	default:
		t.Fatal("no notification delivered")
	}
}

// Billkey's extension: a subscription on an existing v1 billing key.
func TestSubscriptionOnExistingBillingKey(t *testing.T) {
	t.Parallel()
	_, e := setup(t, testenv.SQLite(t))
	if _, err := e.Service.IssueBillingKey(ctx, e.Merchant.ID, charge.IssueKeyInput{CustomerUID: "user-42", Card: *card("4242424242424242")}); err != nil {
		t.Fatal(err)
	}
	sub := create(t, e, subscription.CreateInput{InvoiceID: "inv-key", Plan: "WEEKLY", PlanUnit: 4, CustomerUID: "user-42"})
	if sub.Flow != core.FlowKey || sub.Status != core.SubActive || len(deposits(t, e, sub)) != 1 {
		t.Fatalf("key subscription: %+v", sub)
	}
	_, err := e.engine.Create(ctx, e.Merchant.ID, subscription.CreateInput{InvoiceID: "inv-nokey", Plan: "WEEKLY",
		PlanUnit: 1, CustomerUID: "nobody", Amount: 100, Currency: "KRW", Country: "KR"})
	var ve *subscription.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("unknown customer_uid: %v", err)
	}
}

func TestCancelAndStates(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		_, e := setup(t, b)
		eng := e.engine
		sub := create(t, e, subscription.CreateInput{InvoiceID: "inv-c", Plan: "DAILY", PlanUnit: 30, Card: card("4242424242424242")})
		if _, err := eng.Cancel(ctx, e.Merchant.ID, sub.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := eng.Cancel(ctx, e.Merchant.ID, sub.ID); !errors.Is(err, subscription.ErrAlreadyCancelled) {
			t.Fatalf("second cancel: %v", err)
		}
		runAt(t, e, e.Clock.Now().Add(3*24*time.Hour))
		if n := len(deposits(t, e, sub)); n != 1 {
			t.Fatalf("renewals after cancel: %d deposits", n)
		}
		done := create(t, e, subscription.CreateInput{InvoiceID: "inv-t", Plan: "TEST", PlanUnit: 1, Card: card("4242424242424242")})
		runAt(t, e, e.Clock.Now().Add(time.Minute))
		if _, err := eng.Cancel(ctx, e.Merchant.ID, done.ID); !errors.Is(err, subscription.ErrTerminated) {
			t.Fatalf("cancel of a terminated subscription: %v", err)
		}
		if _, err := eng.Cancel(ctx, e.Merchant.ID, 999999); !errors.Is(err, subscription.ErrNotFound) {
			t.Fatalf("cancel of unknown: %v", err)
		}
		other := e.NewMerchant(t, "other")
		if _, err := eng.Get(ctx, other.ID, sub.ID); !errors.Is(err, subscription.ErrNotFound) {
			t.Fatalf("another merchant reads the subscription: %v", err)
		}
		if _, err := eng.Create(ctx, e.Merchant.ID, subscription.CreateInput{InvoiceID: "inv-c", Plan: "DAILY", PlanUnit: 1, Amount: 1,
			Currency: "KRW", Country: "KR", Card: card("4242424242424242")}); !errors.Is(err, subscription.ErrInvoiceExists) {
			t.Fatalf("duplicate invoice_id: %v", err)
		}
	})
}
