package console_test

// The console in headless Chromium, as an operator uses it: sign in, find
// a payment, refund part of it, fix a webhook receiver and resend, move the
// sandbox clock and watch a renewal happen, and a viewer who may not
// refund. Every page is checked with axe-core and photographed at desktop
// and phone sizes ($BILLKEY_ARTIFACTS).

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/billkey/billkey/internal/app"
	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/testenv"
	"github.com/billkey/billkey/internal/testenv/browser"
)

// axeSource is axe-core from npm (testdata/axe, installed by .ci/run).
func axeSource(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "axe", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		msg := "axe-core not installed (run: cd internal/console/testdata/axe && npm ci)"
		if testenv.InCI() {
			t.Fatal(msg + "; required under CI=true")
		}
		t.Skip(msg)
	}
	return string(b)
}

type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

type tab struct {
	t   *testing.T
	ctx context.Context
	e   *apptest.Env
	axe string
}

func (b *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		browser.Shot(b.t, b.ctx, "failed")
		b.t.Fatal(err)
	}
}

// open loads a console page and waits for its heading.
func (b *tab) open(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.e.Server.URL+path), chromedp.WaitVisible(chromedp.CSS("h1")))
}

// submit clicks a button that sends a form and waits for the next page.
func (b *tab) submit(sel string) {
	b.t.Helper()
	if _, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		browser.Shot(b.t, b.ctx, "failed")
		b.t.Fatalf("submit %s: %v", sel, err)
	}
	b.do(chromedp.WaitVisible(chromedp.CSS("h1")))
}

func (b *tab) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		browser.Shot(b.t, b.ctx, "failed")
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (b *tab) fill(sel, value string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).value = ""`, sel)),
		chromedp.SendKeys(chromedp.CSS(sel), value))
}

// check runs axe-core on the page (no serious or critical violations) and
// saves screenshots at 1280×800 and, as a phone, 390×844.
func (b *tab) check(name string) {
	b.t.Helper()
	b.do(chromedp.EmulateViewport(1280, 800))
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](b.axe+";true")); err != nil {
		b.t.Fatalf("inject axe-core: %v", err)
	}
	vs, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]axeViolation](
		`axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations)`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("axe on %s: %v", name, err)
	}
	b.t.Logf("axe on %s: %d violations (serious or critical ones fail the test)", name, len(vs))
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			var where []string
			for _, n := range v.Nodes {
				where = append(where, fmt.Sprint(n.Target)+" "+n.HTML)
			}
			b.t.Errorf("axe on %s: %s (%s) %s:\n  %s", name, v.ID, v.Impact, v.Help, strings.Join(where, "\n  "))
		}
	}
	browser.Shot(b.t, b.ctx, name+"-1280x800")
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	// Usable on a phone: nothing wider than the screen once the page has laid itself out again.
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`document.documentElement.scrollWidth <= window.innerWidth`,
		chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		w, _ := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		b.t.Errorf("%s at 390 px is %d px wide", name, w)
	}
	browser.Shot(b.t, b.ctx, name+"-390x844")
	b.do(chromedp.EmulateViewport(1280, 800))
}

// signIn sets the password through a one-time link, signs out, and signs
// in again through the sign-in form.
func (b *tab) signIn(email string, role core.OperatorRole, shots bool) {
	b.t.Helper()
	link, err := b.e.App.Console().AddUser(context.Background(), b.e.Cred.MerchantCode, email, role)
	if err != nil {
		b.t.Fatal(err)
	}
	b.open(link)
	if shots {
		b.check("password")
	}
	b.fill("#password", password)
	b.fill("#confirm", password)
	b.submit("form button[type=submit]")
	b.submit(".who button")
	if shots {
		b.check("login")
	}
	b.fill("#email", email)
	b.fill("#password", password)
	b.submit("form button[type=submit]")
	if got := b.text(".who .email"); got != email {
		b.t.Fatalf("signed in as %q, want %q", got, email)
	}
}

func TestConsoleInBrowser(t *testing.T) {
	ctx := browser.New(t)
	axe := axeSource(t)
	e := apptest.New(t, testenv.SQLite(t), func(c *app.Config) { c.WebhookAllowPrivate = true })
	var down atomic.Bool
	var received atomic.Int32
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		received.Add(1)
	}))
	t.Cleanup(receiver.Close)

	impUID := paidPayment(t, e, "order_2001", 10000)
	paidPayment(t, e, "order_2002", 4900)
	tok := e.Token(e.Cred)
	var sched struct{ Code int }
	e.Do("POST", "/subscribe/payments/schedule", tok, map[string]any{"customer_uid": "cust_order_2001", "schedules": []map[string]any{{
		"merchant_uid": "renew_2001_m2", "schedule_at": apptest.Start.Add(10 * 24 * time.Hour).Unix(), "amount": 9900, "name": "월간 이용권 2회차"}}}, &sched)
	if sched.Code != 0 {
		t.Fatalf("schedule: %+v", sched)
	}

	b := &tab{t: t, ctx: ctx, e: e, axe: axe}
	b.signIn("owner@example.com", core.RoleOwner, true)

	// Webhook settings first, so that the refund's webhook goes to a receiver that is down.
	b.open("/console/webhooks")
	b.fill("#wh-url", receiver.URL+"/hooks")
	b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("#wh-profile").value = "iamport"`))
	b.submit("#settings button[type=submit]")
	down.Store(true)

	// Find the payment by merchant_uid and refund part of it.
	b.open("/console/payments")
	b.check("payments")
	b.fill("#f-uid", "order_2001")
	b.submit(".filters button[type=submit]")
	b.submit(`a[href="/console/payments/` + impUID + `"]`)
	b.do(chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`))
	b.fill("#amount", "2500")
	b.fill("#reason", "고객 요청 부분 환불")
	b.submit("#refund button[type=submit]")
	if got := b.text(".notice"); !strings.Contains(got, "환불했습니다") {
		t.Fatalf("after the refund: notice %q", got)
	}
	if tl := b.text("#timeline"); !strings.Contains(tl, "환불 완료 refunded 2,500원") || !strings.Contains(tl, "고객 요청 부분 환불") {
		t.Fatalf("timeline lacks the refund:\n%s", tl)
	}
	if got := v1CancelAmount(t, e, impUID); got != 2500 {
		t.Fatalf("V1 cancel_amount = %d, want 2500", got)
	}
	b.check("payment")

	// The receiver stays down until the refund's webhook has failed for good.
	for range 8 {
		if _, err := e.App.Webhooks().DeliverDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(61 * time.Second)
	}
	b.open("/console/webhooks?status=failed")
	if !strings.Contains(b.text("table.list"), "HTTP 503") {
		t.Fatal("the failed delivery's attempts are not shown")
	}
	down.Store(false)
	b.do(chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`))
	b.submit("#resend-all")
	if _, err := e.App.Webhooks().DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if received.Load() == 0 {
		t.Fatal("the resent webhook did not arrive")
	}
	b.open("/console/webhooks")
	if !strings.Contains(b.text("table.list"), "delivered") {
		t.Fatal("the resent webhook is not shown as delivered")
	}
	b.do(chromedp.Click(chromedp.CSS(`form[action="/console/webhooks/secret/reveal"] button`)), chromedp.WaitVisible(chromedp.CSS("code.secret")))
	b.check("webhooks")

	// Advance the sandbox clock 30 days: the renewal runs.
	b.open("/console/settings")
	b.check("settings")
	b.submit(`#clock button[type=submit]`)
	b.open("/console/schedules")
	if got := b.text("tr.renewal"); !strings.Contains(got, "renew_2001_m2") || !strings.Contains(got, "paid") {
		t.Fatalf("the renewal is not shown as paid: %q", got)
	}
	b.check("schedules")
	b.open("/console/customers")
	b.check("customers")
	b.open("/console/overview")
	b.do(chromedp.WaitVisible(chromedp.CSS("#chart-volume canvas")))
	b.check("overview")
	b.open("/console/audit")
	if a := b.text("table.list"); !strings.Contains(a, "refund") || !strings.Contains(a, "webhook_secret_reveal") || !strings.Contains(a, "clock_advance") {
		t.Fatalf("audit log:\n%s", a)
	}
	b.check("audit")

	// A viewer sees no refund form, and a refund it forges is refused.
	b.submit(".who button")
	b.signIn("viewer@example.com", core.RoleViewer, false)
	b.open("/console/payments/" + impUID)
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#refund form").length`)); n != 0 {
		t.Fatal("a viewer is shown the refund form")
	}
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch(location.pathname + "/refund", {method: "POST",
		body: new URLSearchParams({csrf: document.querySelector("input[name=csrf]").value, amount: "100", reason: "x"})}).then(r => r.status)`,
		chromedp.EvalAwaitPromise))
	if err != nil || status != http.StatusForbidden {
		t.Fatalf("viewer refund: HTTP %d, %v; want 403", status, err)
	}
	if got := v1CancelAmount(t, e, impUID); got != 2500 {
		t.Fatalf("after the viewer's try V1 cancel_amount = %d, want 2500", got)
	}
}
