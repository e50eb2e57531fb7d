package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/billkey/billkey/internal/app"
	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/testenv"
	"github.com/billkey/billkey/internal/testenv/browser"
)

// The example shop end to end against a real Billkey on the test clock: two
// customers subscribe in Chromium through Billkey's payment window; the shop
// charges the first month and keeps the plan going from the webhooks of the
// scheduled payments while the clock moves three months ahead. The second
// card (4000-0000-0000-3220) declines its first charge, so that customer
// goes through the shop's retry a day later.
func TestShopKeepsMonthlyPlanGoing(t *testing.T) {
	bctx := browser.New(t)
	e := apptest.New(t, testenv.SQLite(t), func(c *app.Config) { c.WebhookAllowPrivate = true })
	e.App.Start()

	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	defer srv.Close()
	s, err := newShop(context.Background(), config{PublicURL: srv.URL, BillkeyURL: e.Server.URL, ImpKey: e.Cred.ImpKey,
		ImpSecret: e.Cred.ImpSecret, MerchantCode: e.Cred.MerchantCode})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = s.routes()

	subscribe := func(customer, card, want string) {
		t.Helper()
		err := chromedp.Do(bctx,
			chromedp.Navigate(srv.URL+"/"),
			chromedp.SetValue(chromedp.CSS("#customer"), customer),
			chromedp.Click(chromedp.CSS("#subscribe")),
			chromedp.WaitVisible(chromedp.CSS("#card_number")),
			chromedp.SendKeys(chromedp.CSS("#card_number"), card),
			chromedp.SendKeys(chromedp.CSS("#expiry"), "12/30"),
			chromedp.SendKeys(chromedp.CSS("#pwd_2digit"), "00"),
			chromedp.SendKeys(chromedp.CSS("#birth"), "880808"),
			chromedp.Click(chromedp.CSS("#submit")),
			chromedp.WaitVisible(chromedp.CSS("#result")),
		)
		browser.Shot(t, bctx, "shop-"+customer)
		if err != nil {
			t.Fatalf("subscribe %s: %v", customer, err)
		}
		result, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#result")))
		if err != nil || result != want {
			t.Fatalf("subscribe %s: shop says %q, want %q", customer, result, want)
		}
	}
	subscribe("alice", "4242424242424242", "active")
	subscribe("bob", "4000000000003220", "past_due")

	sub := func(customer string) subscription {
		s.mu.Lock()
		defer s.mu.Unlock()
		return *s.subs[customer]
	}
	// waitFor waits until the shop's state satisfies ok: webhooks arrive
	// asynchronously from Billkey's delivery worker.
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for !ok() {
			select {
			case <-s.watch:
			case <-deadline:
				t.Fatalf("%s: alice %+v, bob %+v\nbillkey log:\n%s", what, sub("alice"), sub("bob"), tail(e.Logs.String(), 3000))
			}
		}
	}
	advance := func(d time.Duration) {
		t.Helper()
		tok := e.Token(e.Cred)
		if st := e.Do("POST", "/sandbox/clock/advance", tok, map[string]any{"seconds": int64(d.Seconds())}, nil); st != 200 {
			t.Fatalf("advance: %d", st)
		}
	}

	a := sub("alice")
	if a.Period != 1 || len(a.Paid) != 1 || a.Next != "plan-alice-2" || !a.NextAt.Equal(a.Anchor.AddDate(0, 1, 0)) {
		t.Fatalf("alice after signup: %+v", a)
	}
	if b := sub("bob"); b.Period != 0 || b.Retries != 1 || b.Next != "plan-bob-1-r1" {
		t.Fatalf("bob after the declined first charge: %+v", b)
	}

	// A day later Bob's retry succeeds and his plan is anchored on it.
	advance(25 * time.Hour)
	waitFor("bob's retry", func() bool { return sub("bob").Status == "active" })
	if b := sub("bob"); b.Period != 1 || b.Next != "plan-bob-2" || !b.NextAt.Equal(b.Anchor.AddDate(0, 1, 0)) {
		t.Fatalf("bob after the retry: %+v", b)
	}

	// Three months: each scheduled charge's webhook books the next one.
	for month := 2; month <= 4; month++ {
		advance(31 * 24 * time.Hour)
		waitFor("month "+string(rune('0'+month)), func() bool { return sub("alice").Period == month && sub("bob").Period == month })
	}
	for _, c := range []string{"alice", "bob"} {
		got := sub(c)
		if got.Status != "active" || len(got.Paid) != 4 || got.Next != "plan-"+c+"-5" || !got.NextAt.Equal(got.Anchor.AddDate(0, 4, 0)) {
			t.Errorf("%s after four months: %+v", c, got)
		}
	}

	// Billkey agrees: four paid plan payments per customer, each verified
	// by webhook signature on the way.
	tok := e.Token(e.Cred)
	for _, c := range []string{"alice", "bob"} {
		var out struct {
			Response struct {
				List []struct {
					MerchantUID string `json:"merchant_uid"`
					Status      string `json:"status"`
				} `json:"list"`
			} `json:"response"`
		}
		e.Do("GET", "/subscribe/customers/"+c+"/payments", tok, nil, &out)
		paid := 0
		for _, p := range out.Response.List {
			if strings.HasPrefix(p.MerchantUID, "plan-"+c+"-") && p.Status == "paid" {
				paid++
			}
		}
		if paid != 4 {
			t.Errorf("%s: %d paid plan payments at Billkey, want 4: %+v", c, paid, out.Response.List)
		}
	}
}

func TestVerifyWebhookRejectsTampering(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1767225600, 0)
	body := []byte(`{"imp_uid":"imp_1","merchant_uid":"m","status":"paid"}`)
	sig := "v1," + sign(secret, "msg_1", now.Unix(), body)
	if err := verifyWebhook(secret, "msg_1", "1767225600", "v1,bogus "+sig, body, now); err != nil {
		t.Fatalf("valid signature (second of two) refused: %v", err)
	}
	for name, c := range map[string]struct {
		id, ts, sig string
		body        []byte
		now         time.Time
	}{
		"body changed":   {"msg_1", "1767225600", sig, []byte(`{"imp_uid":"imp_2"}`), now},
		"id changed":     {"msg_2", "1767225600", sig, body, now},
		"stale":          {"msg_1", "1767225600", sig, body, now.Add(10 * time.Minute)},
		"no signature":   {"msg_1", "1767225600", "", body, now},
		"other version":  {"msg_1", "1767225600", "v2," + sig[3:], body, now},
		"bad timestamp":  {"msg_1", "soon", sig, body, now},
		"wrong secret":   {"msg_1", "1767225600", "v1," + sign([]byte("other"), "msg_1", now.Unix(), body), body, now},
		"missing header": {"", "1767225600", sig, body, now},
	} {
		if err := verifyWebhook(secret, c.id, c.ts, c.sig, c.body, c.now); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func sign(secret []byte, id string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "%s.%d.", id, ts)
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
