package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/console"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/subscription"
	"github.com/billkey/billkey/internal/testenv"
)

const password = "correct horse battery"

// browserless is a cookie-keeping HTTP client standing in for a browser.
type browserless struct {
	t    *testing.T
	e    *apptest.Env
	c    *http.Client
	last string // body of the last page
}

func newClient(t *testing.T, e *apptest.Env) *browserless {
	jar, _ := cookiejar.New(nil)
	return &browserless{t: t, e: e, c: &http.Client{Jar: jar}}
}

func (b *browserless) get(path string) (int, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.e.Server.URL + path)
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.last = string(body)
	return resp.StatusCode, b.last
}

func (b *browserless) post(path string, form url.Values) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.e.Server.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.e.Server.URL)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.last = string(body)
	return resp.StatusCode, b.last
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of the last page.
func (b *browserless) csrf() string {
	b.t.Helper()
	m := csrfRE.FindStringSubmatch(b.last)
	if m == nil {
		b.t.Fatalf("no csrf field on the page:\n%s", b.last)
	}
	return m[1]
}

// operator creates an account with role and signs it in through its
// one-time link, as a new operator would.
func operator(t *testing.T, e *apptest.Env, email string, role core.OperatorRole) *browserless {
	t.Helper()
	link, err := e.App.Console().AddUser(context.Background(), e.Cred.MerchantCode, email, role)
	if err != nil {
		t.Fatal(err)
	}
	b := newClient(t, e)
	if st, body := b.get(link); st != 200 || !strings.Contains(body, email) {
		t.Fatalf("password page: HTTP %d\n%s", st, body)
	}
	token := strings.TrimPrefix(link, "/console/password?token=")
	st, body := b.post("/console/password", url.Values{"token": {token}, "password": {password}, "confirm": {password}})
	if st != 200 || !strings.Contains(body, e.Cred.MerchantCode) {
		t.Fatalf("after setting the password: HTTP %d\n%s", st, body)
	}
	// The link works once.
	if st, _ := newClient(t, e).get(link); st != http.StatusNotFound {
		t.Fatalf("used link: HTTP %d, want 404", st)
	}
	return b
}

// paidPayment issues a key and charges it over the V1 API.
func paidPayment(t *testing.T, e *apptest.Env, merchantUID string, amount int64) string {
	t.Helper()
	tok := e.Token(e.Cred)
	var out struct {
		Code     int `json:"code"`
		Response struct {
			ImpUID string `json:"imp_uid"`
			Status string `json:"status"`
		} `json:"response"`
	}
	e.Do("POST", "/subscribe/customers/cust_"+merchantUID, tok, map[string]any{"card_number": "4242-4242-4242-4242", "expiry": "2030-12",
		"birth": "800101", "pwd_2digit": "12"}, nil)
	e.Do("POST", "/subscribe/payments/again", tok, map[string]any{"customer_uid": "cust_" + merchantUID, "merchant_uid": merchantUID,
		"amount": amount, "name": "월간 이용권"}, &out)
	if out.Code != 0 || out.Response.Status != "paid" {
		t.Fatalf("again: %+v", out)
	}
	return out.Response.ImpUID
}

func v1CancelAmount(t *testing.T, e *apptest.Env, impUID string) int64 {
	t.Helper()
	var out struct {
		Response struct {
			CancelAmount int64 `json:"cancel_amount"`
		} `json:"response"`
	}
	if st := e.Do("GET", "/payments/"+impUID, e.Token(e.Cred), nil, &out); st != 200 {
		t.Fatalf("GET /payments/%s: HTTP %d", impUID, st)
	}
	return out.Response.CancelAmount
}

func TestRefundThroughTheConsole(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, be testenv.Backend) {
		t.Parallel()
		e := apptest.New(t, be)
		impUID := paidPayment(t, e, "order_1001", 10000)
		op := operator(t, e, "ops@example.com", core.RoleOperator)

		if _, body := op.get("/console/payments?merchant_uid=order_10"); !strings.Contains(body, "/console/payments/"+impUID) {
			t.Fatalf("search by merchant_uid prefix does not list %s:\n%s", impUID, body)
		}
		if _, body := op.get("/console/payments?merchant_uid=order_2"); strings.Contains(body, impUID) {
			t.Fatal("search for another prefix lists the payment")
		}
		op.get("/console/payments/" + impUID)
		csrf := op.csrf()
		refund := url.Values{"csrf": {csrf}, "amount": {"3,000"}, "reason": {"부분 환불"}, "checksum": {"10000"}}
		st, body := op.post("/console/payments/"+impUID+"/refund", refund)
		if st != 200 || !strings.Contains(body, "환불 완료") || !strings.Contains(body, "부분 환불") {
			t.Fatalf("refund: HTTP %d, timeline lacks the refund:\n%s", st, body)
		}
		if got := v1CancelAmount(t, e, impUID); got != 3000 {
			t.Fatalf("V1 cancel_amount = %d, want 3000", got)
		}
		// The same form sent again refunds nothing: its balance is stale.
		if _, body := op.post("/console/payments/"+impUID+"/refund", refund); !strings.Contains(body, "그 사이 결제가 바뀌었습니다") {
			t.Fatalf("resubmitted form: no stale notice:\n%s", body)
		}
		if got := v1CancelAmount(t, e, impUID); got != 3000 {
			t.Fatalf("after a resubmitted form V1 cancel_amount = %d, want 3000", got)
		}
		// Without the CSRF token nothing happens.
		if st, _ := op.post("/console/payments/"+impUID+"/refund", url.Values{"amount": {"100"}, "reason": {"x"}}); st != http.StatusForbidden {
			t.Fatalf("refund without csrf: HTTP %d, want 403", st)
		}

		viewer := operator(t, e, "look@example.com", core.RoleViewer)
		_, body = viewer.get("/console/payments/" + impUID)
		if strings.Contains(body, "/refund") {
			t.Fatal("a viewer is shown the refund form")
		}
		st, _ = viewer.post("/console/payments/"+impUID+"/refund", url.Values{"csrf": {viewer.csrf()}, "amount": {"100"}, "reason": {"x"}})
		if st != http.StatusForbidden {
			t.Fatalf("viewer refund: HTTP %d, want 403", st)
		}
		if got := v1CancelAmount(t, e, impUID); got != 3000 {
			t.Fatalf("after the viewer's try V1 cancel_amount = %d, want 3000", got)
		}
		// Nor change settings.
		for _, path := range []string{"/console/webhooks/settings", "/console/webhooks/secret/reveal", "/console/settings/rotate-imp-secret", "/console/settings/origins"} {
			viewer.get("/console/payments/" + impUID)
			if st, body := viewer.post(path, url.Values{"csrf": {viewer.csrf()}, "url": {"https://evil.example.com"}, "format": {"json"}, "profile": {"default"}}); st != http.StatusForbidden || strings.Contains(body, "whsec_") {
				t.Fatalf("viewer POST %s: HTTP %d", path, st)
			}
		}
		if st, _ := viewer.get("/console/audit"); st != http.StatusForbidden {
			t.Fatalf("viewer audit log: HTTP %d, want 403", st)
		}

		owner := operator(t, e, "boss@example.com", core.RoleOwner)
		_, body = owner.get("/console/audit")
		for _, want := range []string{"refund", "refund_refused", "denied", "password_set", "look@example.com"} {
			if !strings.Contains(body, want) {
				t.Errorf("audit log lacks %q", want)
			}
		}
		_, csv := owner.get("/console/payments.csv?merchant_uid=order_1001")
		if !strings.Contains(csv, impUID) || !strings.Contains(csv, "424242******4242") || strings.Contains(csv, "4242424242424242") {
			t.Fatalf("CSV export:\n%s", csv)
		}

		// Sign out everywhere ends the session.
		op.get("/console/settings")
		op.post("/console/logout-all", url.Values{"csrf": {op.csrf()}})
		if _, body := op.get("/console/overview"); !strings.Contains(body, `action="/console/login"`) {
			t.Fatal("still signed in after signing out everywhere")
		}
	})
}

func TestSignInThrottledAndCookies(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, testenv.SQLite(t))
	operator(t, e, "ops@example.com", core.RoleOwner)
	b := newClient(t, e)
	login := func(pw string) int {
		b.get("/console/login")
		st, _ := b.post("/console/login", url.Values{"csrf": {b.csrf()}, "email": {"ops@example.com"}, "password": {pw}})
		return st
	}
	for i := range 5 {
		if st := login("wrong password"); st != http.StatusUnauthorized {
			t.Fatalf("wrong password #%d: HTTP %d, want 401", i+1, st)
		}
	}
	if st := login(password); st != http.StatusTooManyRequests {
		t.Fatalf("sixth try: HTTP %d, want 429", st)
	}
	// Another address signs in fine.
	b2 := newClient(t, e)
	if _, body := b2.get("/console/login"); !strings.Contains(body, "csrf") {
		t.Fatal("no login form")
	}
	operator(t, e, "other@example.com", core.RoleViewer)

	// Cookies: HttpOnly, SameSite=Lax, Secure except on loopback.
	for _, tc := range []struct {
		host   string
		secure bool
	}{{"", false}, {"console.example.com", true}} {
		req, _ := http.NewRequest("GET", e.Server.URL+"/console/login", nil)
		if tc.host != "" {
			req.Host = tc.host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("CSP %q", csp)
		}
		cs := resp.Cookies()
		if len(cs) == 0 {
			t.Fatal("no cookie")
		}
		c := cs[0]
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure != tc.secure {
			t.Errorf("host %q: cookie %+v", tc.host, c)
		}
	}
}

// TestEveryPageAndItsForms renders every page on both stores (the overview's
// figures are dialect-specific SQL) and drives the settings and
// customer forms an owner has.
func TestEveryPageAndItsForms(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, be testenv.Backend) {
		t.Parallel()
		e := apptest.New(t, be)
		impUID := paidPayment(t, e, "order_3001", 12000)
		tok := e.Token(e.Cred)
		var sched struct{ Code int }
		e.Do("POST", "/subscribe/payments/schedule", tok, map[string]any{"customer_uid": "cust_order_3001", "schedules": []map[string]any{{
			"merchant_uid": "renew_3001", "schedule_at": apptest.Start.Add(48 * time.Hour).Unix(), "amount": 12000, "name": "2회차"}}}, &sched)
		if sched.Code != 0 {
			t.Fatalf("schedule: %+v", sched)
		}
		owner := operator(t, e, "owner@example.com", core.RoleOwner)
		for _, p := range []string{"/console/overview", "/console/payments", "/console/payments/" + impUID, "/console/customers",
			"/console/schedules", "/console/webhooks", "/console/settings", "/console/audit",
			"/console/payments?status=paid&pg=nice&from=2026-03-01&to=2026-03-01&min=1000&max=20000&customer_uid=cust_order_3001",
			"/console/customers?q=cust_order_3", "/console/webhooks?status=failed", "/console/schedules?customer_uid=cust_order_3001",
			"/console/payments.csv?status=paid"} {
			st, body := owner.get(p)
			if st != 200 {
				t.Fatalf("GET %s: HTTP %d\n%s", p, st, body)
			}
			if strings.Contains(body, "4242424242424242") || strings.Contains(body, "4242-4242-4242-4242") {
				t.Fatalf("GET %s shows a full card number", p)
			}
		}
		if _, body := owner.get("/console/customers?q=cust_order_3"); !strings.Contains(body, "cust_order_3001") {
			t.Fatal("customer search by prefix does not find the key")
		}
		if _, body := owner.get("/console/customers?q=nobody"); strings.Contains(body, "cust_order_3001") {
			t.Fatal("customer search for another prefix lists the key")
		}
		// A card expiring in the merchant's current month is flagged; one
		// that expires later is not.
		var issued struct{ Code int }
		e.Do("POST", "/subscribe/customers/cust_expiring", tok, map[string]any{"card_number": "4242-4242-4242-4242",
			"expiry": apptest.Start.In(time.FixedZone("KST", 9*3600)).Format("2006-01"), "birth": "800101", "pwd_2digit": "12"}, &issued)
		if issued.Code != 0 {
			t.Fatalf("issue a key expiring this month: %+v", issued)
		}
		if _, body := owner.get("/console/customers?q=cust_expiring"); !strings.Contains(body, "expires this month") {
			t.Fatal("a key expiring this month is not flagged")
		}
		if _, body := owner.get("/console/customers?q=cust_order_3"); strings.Contains(body, "expires this month") {
			t.Fatal("a key expiring in 2030 is flagged")
		}
		if _, body := owner.get("/console/overview"); !strings.Contains(body, "12,000원") {
			t.Fatal("overview does not show today's 12,000원")
		}
		if _, body := owner.get("/console/payments?min=20000"); strings.Contains(body, impUID) {
			t.Fatal("amount filter min=20000 lists a 12,000 payment")
		}

		// Move the schedule a day later.
		owner.get("/console/schedules")
		st, body := owner.post("/console/schedules/move", url.Values{"csrf": {owner.csrf()}, "merchant_uid": {"renew_3001"}, "at": {"2026-03-05T10:30"}})
		if st != 200 || !strings.Contains(body, "예약 시각을 바꿨습니다") || !strings.Contains(body, "2026-03-05 10:30:00") {
			t.Fatalf("move schedule: HTTP %d\n%s", st, body)
		}
		// Checkout origins: invalid ones are refused, valid ones stored.
		owner.get("/console/settings")
		if _, body := owner.post("/console/settings/origins", url.Values{"csrf": {owner.csrf()}, "origins": {"javascript:alert(1)"}}); !strings.Contains(body, "입력값을 확인해주세요") {
			t.Fatal("an invalid origin was accepted")
		}
		owner.get("/console/settings")
		owner.post("/console/settings/origins", url.Values{"csrf": {owner.csrf()}, "origins": {"https://shop.example.com, https://*.example.com"}})
		m, err := e.App.Merchants.ByCode(context.Background(), e.Cred.MerchantCode)
		if err != nil || strings.Join(m.CheckoutOrigins, " ") != "https://shop.example.com https://*.example.com" {
			t.Fatalf("checkout origins %v, %v", m.CheckoutOrigins, err)
		}
		// Deleting the key revokes its waiting schedule, as over the API.
		owner.get("/console/customers")
		if _, body := owner.post("/console/customers/delete", url.Values{"csrf": {owner.csrf()}, "customer_uid": {"cust_order_3001"}}); !strings.Contains(body, "빌링키를 삭제했습니다") {
			t.Fatalf("delete key:\n%s", body)
		}
		var key struct{ Code int }
		if e.Do("GET", "/subscribe/customers/cust_order_3001", tok, nil, &key); key.Code == 0 {
			t.Fatal("the key is still there over the V1 API")
		}
		var sc struct {
			Response struct {
				Status string `json:"schedule_status"`
			} `json:"response"`
		}
		e.Do("GET", "/subscribe/payments/schedule/renew_3001", tok, nil, &sc)
		if sc.Response.Status != "revoked" {
			t.Fatalf("schedule after the key's deletion: %q, want revoked", sc.Response.Status)
		}
		// Rotating imp_secret: the new one is shown once, the old one gets no token.
		owner.get("/console/settings")
		_, body = owner.post("/console/settings/rotate-imp-secret", url.Values{"csrf": {owner.csrf()}})
		m2 := regexp.MustCompile(`<code class="secret">([0-9a-f]{40})</code>`).FindStringSubmatch(body)
		if m2 == nil {
			t.Fatalf("no new imp_secret on the page:\n%s", body)
		}
		var gt struct{ Code int }
		e.Do("POST", "/users/getToken", "", map[string]string{"imp_key": e.Cred.ImpKey, "imp_secret": e.Cred.ImpSecret}, &gt)
		if gt.Code == 0 {
			t.Fatal("the old imp_secret still gets a token")
		}
		e.Do("POST", "/users/getToken", "", map[string]string{"imp_key": e.Cred.ImpKey, "imp_secret": m2[1]}, &gt)
		if gt.Code != 0 {
			t.Fatal("the new imp_secret gets no token")
		}
		_, body = owner.post("/console/settings/rotate-api-signature", url.Values{"csrf": {owner.csrf()}})
		if !strings.Contains(body, e.Cred.XLogin) || strings.Contains(body, e.Cred.APISignature) {
			t.Fatalf("api_signature rotation page:\n%s", body)
		}
		// Channels: a Stripe test channel is added, made the default, and the
		// old default can then go; its key is never shown.
		owner.get("/console/settings")
		if _, body := owner.post("/console/settings/channels", url.Values{"csrf": {owner.csrf()}, "provider": {"stripe"}, "mid": {"acct1"},
			"secret_key": {"sk_live_nope"}, "sandbox": {"on"}}); !strings.Contains(body, "채널을 저장하지 못했습니다") {
			t.Fatal("a live key on a sandbox channel was accepted")
		}
		owner.get("/console/settings")
		owner.post("/console/settings/channels", url.Values{"csrf": {owner.csrf()}, "provider": {"stripe"}, "mid": {"acct1"},
			"secret_key": {"sk_test_console123"}, "sandbox": {"on"}})
		chs, err := e.App.Merchants.Channels(context.Background(), e.Merchant.ID)
		if err != nil {
			t.Fatal(err)
		}
		var stripeID, niceID int64
		for _, c := range chs {
			if c.Provider == "stripe" && c.MID == "acct1" {
				stripeID = c.ID
			}
			if c.Provider == "nice" && c.IsDefault {
				niceID = c.ID
			}
		}
		if stripeID == 0 || niceID == 0 {
			t.Fatalf("channels after adding: %+v", chs)
		}
		_, body = owner.get("/console/settings")
		if strings.Contains(body, "sk_test_console123") {
			t.Fatal("the channel's secret key is shown")
		}
		owner.post(fmt.Sprintf("/console/settings/channels/%d/default", stripeID), url.Values{"csrf": {owner.csrf()}})
		owner.get("/console/settings")
		owner.post(fmt.Sprintf("/console/settings/channels/%d/remove", niceID), url.Values{"csrf": {owner.csrf()}})
		chs, _ = e.App.Merchants.Channels(context.Background(), e.Merchant.ID)
		for _, c := range chs {
			if c.ID == niceID || (c.ID == stripeID) != c.IsDefault {
				t.Fatalf("after default and remove: %+v", c)
			}
		}

		// Owners invite and remove accounts from the console.
		owner.get("/console/settings")
		_, body = owner.post("/console/users", url.Values{"csrf": {owner.csrf()}, "email": {"new@example.com"}, "role": {"operator"}})
		inv := regexp.MustCompile(`http://[^<"]+/console/password\?token=[A-Za-z0-9_-]+`).FindString(body)
		if inv == "" {
			t.Fatalf("no invitation link on the page:\n%s", body)
		}
		invited := newClient(t, e)
		if st, _ := invited.get(strings.TrimPrefix(inv, e.Server.URL)); st != 200 {
			t.Fatalf("invitation link: HTTP %d", st)
		}
		if _, body := owner.post("/console/users", url.Values{"csrf": {owner.csrf()}, "email": {"new@example.com"}, "role": {"viewer"}}); !strings.Contains(body, "이미 계정이 있는 이메일") {
			t.Fatal("a second account for the same e-mail was not refused")
		}
		u, err := e.App.Store.ConsoleUserByEmail(context.Background(), "new@example.com")
		if err != nil {
			t.Fatal(err)
		}
		owner.get("/console/settings")
		if _, body := owner.post("/console/users/"+strconv.FormatInt(u.ID, 10)+"/delete", url.Values{"csrf": {owner.csrf()}}); !strings.Contains(body, "계정을 삭제했습니다") {
			t.Fatalf("remove account:\n%s", body)
		}
		if st, _ := invited.get(strings.TrimPrefix(inv, e.Server.URL)); st != http.StatusNotFound {
			t.Fatalf("link of a removed account: HTTP %d, want 404", st)
		}
		_, body = owner.get("/console/audit")
		for _, want := range []string{"reschedule", "checkout_origins", "key_delete", "imp_secret_rotate", "api_signature_rotate", "user_add", "user_remove",
			"channel_add", "channel_default", "channel_remove"} {
			if !strings.Contains(body, want) {
				t.Errorf("audit log lacks %s", want)
			}
		}
	})
}

// TestTimelineShowsReconciledOutcome: a charge whose answer was lost (card
// …0259) shows as being confirmed, then as reconciled once looked up; a
// charge answered at once does not.
func TestTimelineShowsReconciledOutcome(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, testenv.SQLite(t))
	direct := paidPayment(t, e, "order_4001", 5000)
	tok := e.Token(e.Cred)
	e.Do("POST", "/subscribe/customers/lost", tok, map[string]any{"card_number": "4000-0000-0000-0259", "expiry": "2030-12",
		"birth": "800101", "pwd_2digit": "12"}, nil)
	var out struct {
		Response struct {
			ImpUID string `json:"imp_uid"`
		} `json:"response"`
	}
	e.Do("POST", "/subscribe/payments/again", tok, map[string]any{"customer_uid": "lost", "merchant_uid": "order_4002", "amount": 7000, "name": "x"}, &out)
	op := operator(t, e, "ops@example.com", core.RoleViewer)
	if _, body := op.get("/console/payments/" + out.Response.ImpUID); !strings.Contains(body, "결과 확인 중 outcome unknown") {
		t.Fatalf("unknown outcome not shown:\n%s", body)
	}
	e.Clock.Advance(time.Second)
	if _, err := e.App.Service.Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, body := op.get("/console/payments/" + out.Response.ImpUID); !strings.Contains(body, "outcome unknown → reconciled") {
		t.Fatalf("reconciliation not shown:\n%s", body)
	}
	if _, body := op.get("/console/payments/" + direct); strings.Contains(body, "reconciled") {
		t.Fatal("a payment answered at once is shown as reconciled")
	}
}

// TestSubscriptionsAndCalendar: a v3 subscription on an existing key shows
// with its deposits and its next renewal in the calendar, and is cancelled
// from the console through the engine.
func TestSubscriptionsAndCalendar(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, be testenv.Backend) {
		t.Parallel()
		e := apptest.New(t, be)
		paidPayment(t, e, "order_5001", 1000)
		sub, err := e.App.Subscriptions().Create(context.Background(), e.Merchant.ID, subscription.CreateInput{InvoiceID: "inv_1",
			Amount: 15000, Currency: "KRW", Country: "KR", Plan: "MONTHLY", PlanUnit: 12, AutoRenewal: true, CustomerUID: "cust_order_5001",
			Payer: json.RawMessage(`{"email":"payer@example.com"}`)})
		if err != nil {
			t.Fatal(err)
		}
		op := operator(t, e, "ops@example.com", core.RoleOperator)
		_, body := op.get("/console/schedules")
		if !strings.Contains(body, "/console/subscriptions/"+strconv.FormatInt(sub.ID, 10)) || !strings.Contains(body, `class="calendar"`) {
			t.Fatalf("schedules page:\n%s", body)
		}
		if !strings.Contains(body, "15,000원") {
			t.Fatal("the next renewal is not on the schedules page")
		}
		_, body = op.get("/console/subscriptions/" + strconv.FormatInt(sub.ID, 10))
		if !strings.Contains(body, "COMPLETED") || !strings.Contains(body, "ACTIVE") {
			t.Fatalf("subscription page lacks the first deposit:\n%s", body)
		}
		_, body = op.get("/console/overview")
		if !strings.Contains(body, "15,000원") {
			t.Fatal("MRR does not count the subscription")
		}
		op.get("/console/subscriptions/" + strconv.FormatInt(sub.ID, 10))
		op.post("/console/subscriptions/"+strconv.FormatInt(sub.ID, 10)+"/cancel", url.Values{"csrf": {op.csrf()}})
		got, err := e.App.Subscriptions().Get(context.Background(), e.Merchant.ID, sub.ID)
		if err != nil || got.Status != core.SubCancelled {
			t.Fatalf("after cancel: %+v, %v", got, err)
		}
	})
}

// TestSessionsAndLinksExpire: a session ends after SessionTTL and a
// password-set link after SetupTTL, by the wall clock (the sandbox clock
// moves billing time only).
func TestSessionsAndLinksExpire(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, testenv.SQLite(t))
	op := operator(t, e, "ops@example.com", core.RoleOperator)
	link, err := e.App.Console().AddUser(context.Background(), e.Cred.MerchantCode, "late@example.com", core.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	// Moving the sandbox clock a year does not sign anyone out.
	e.Clock.Advance(365 * 24 * time.Hour)
	if st, body := op.get("/console/overview"); st != 200 || strings.Contains(body, `action="/console/login"`) {
		t.Fatal("signed out by the sandbox clock")
	}
	start := time.Now()
	console.SetWallClock(e.App.Console(), func() time.Time { return start.Add(console.SessionTTL + time.Minute) })
	if _, body := op.get("/console/overview"); !strings.Contains(body, `action="/console/login"`) {
		t.Fatal("still signed in after the session's lifetime")
	}
	if st, _ := newClient(t, e).get(link); st != 200 {
		t.Fatalf("link within its lifetime: HTTP %d", st)
	}
	console.SetWallClock(e.App.Console(), func() time.Time { return start.Add(console.SetupTTL + time.Minute) })
	if st, _ := newClient(t, e).get(link); st != http.StatusNotFound {
		t.Fatalf("expired link: HTTP %d, want 404", st)
	}
}
