package checkout_test

// End-to-end tests of the payment window in headless Chromium: a merchant
// page on its own origin loads /v1/iamport.js from Billkey (with SRI), calls
// IMP.request_pay, and a person's keystrokes go into the hosted window.
// Screenshots land in $BILLKEY_ARTIFACTS (default: a temp dir).

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"

	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/checkout"
	"github.com/billkey/billkey/internal/testenv"
	"github.com/billkey/billkey/internal/testenv/browser"
)

func browserCtx(t *testing.T) context.Context { return browser.New(t) }

func shot(t *testing.T, ctx context.Context, name string) { browser.Shot(t, ctx, name) }

func artifacts(t *testing.T) string { return browser.Artifacts(t) }

// fullShot saves a screenshot of the whole page, below the fold too.
func fullShot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(artifacts(t), strings.ReplaceAll(t.Name(), "/", "_")+"-"+name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Error(err)
	}
	t.Logf("screenshot: %s", p)
}

// merchantSite is a merchant's own page on another origin than Billkey.
func merchantSite(t *testing.T, e *apptest.Env) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	page := `<!doctype html><html lang="ko"><head><meta charset="utf-8"><title>Shop</title>
<script src="%s/v1/iamport.js" integrity="%s" crossorigin="anonymous"></script>
<script>
IMP.init(%q);
window.pay = function (params) {
  IMP.request_pay(params, function (rsp) {
    window.__rsp = rsp;
    document.getElementById("out").textContent = JSON.stringify(rsp, null, 2);
  });
};
</script></head>
<body><h1>My Shop · 월간 구독</h1><pre id="out">waiting</pre></body></html>`
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, page, e.Server.URL, checkout.SDKIntegrity(), e.Cred.MerchantCode)
	})
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /complete", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><meta charset="utf-8"><h1>Order complete</h1>`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	if strings.SplitN(srv.URL, ":", 3)[2] == strings.SplitN(e.Server.URL, ":", 3)[2] {
		t.Fatal("merchant and Billkey share an origin")
	}
	return srv
}

// openPay loads the merchant page and calls IMP.request_pay(params).
func openPay(t *testing.T, ctx context.Context, shop string, params string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(shop)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`typeof IMP === "object" && IMP.billkey === true`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("the SDK did not load (SRI or CORS?): %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`pay(`+params+`)`)); err != nil {
		t.Fatal(err)
	}
}

// frame waits for the window's iframe and returns its node, for queries
// inside it (merchant and Billkey are same-site here, so it is in-process).
// The iframe starts as about:blank and then loads the window, so a node
// fetched too early points at a document that goes away: query again until
// the wanted element shows.
func frame(t *testing.T, ctx context.Context, inside string) *chromedp.Node {
	t.Helper()
	var last error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS("#imp-billkey-frame"), chromedp.NodeVisible))
		if err != nil {
			t.Fatalf("no payment window iframe: %v", err)
		}
		try, cancel := context.WithTimeout(ctx, 3*time.Second)
		last = chromedp.Do(try, chromedp.WaitVisible(chromedp.CSS(inside), chromedp.FromNode(nodes[0])))
		cancel()
		if last == nil {
			return nodes[0]
		}
	}
	shot(t, ctx, "no-window")
	t.Fatalf("no %s in the window: %v", inside, last)
	return nil
}

func fillCard(t *testing.T, ctx context.Context, in *chromedp.Node, number string) {
	t.Helper()
	from := chromedp.FromNode(in)
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#card_number"), number, from),
		chromedp.SendKeys(chromedp.CSS("#expiry"), "1230", from),
		chromedp.SendKeys(chromedp.CSS("#pwd_2digit"), "12", from),
		chromedp.SendKeys(chromedp.CSS("#birth"), "900101", from),
	); err != nil {
		t.Fatal(err)
	}
}

// callbackRsp waits for the merchant page's callback.
func callbackRsp(t *testing.T, ctx context.Context) rsp {
	t.Helper()
	out, err := chromedp.Run(ctx, chromedp.Poll[rsp](`window.__rsp`, chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		shot(t, ctx, "no-callback")
		t.Fatalf("no callback: %v", err)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#imp-billkey-overlay").length`)); n != 0 {
		t.Error("the overlay is still on the merchant page after the callback")
	}
	return out
}

type customerView struct {
	Code     int `json:"code"`
	Response *struct {
		CustomerUID string `json:"customer_uid"`
		PGProvider  string `json:"pg_provider"`
		CardNumber  string `json:"card_number"`
	} `json:"response"`
}

type paymentView struct {
	Code     int `json:"code"`
	Response struct {
		Amount      float64 `json:"amount"`
		Status      string  `json:"status"`
		Channel     string  `json:"channel"`
		PayMethod   string  `json:"pay_method"`
		PGProvider  string  `json:"pg_provider"`
		CustomerUID *string `json:"customer_uid"`
		Usage       *string `json:"customer_uid_usage"`
		FailReason  *string `json:"fail_reason"`
	} `json:"response"`
}

// chargeAgain charges a stored key over the REST API, as a merchant's server would.
func chargeAgain(t *testing.T, e *apptest.Env, tok, customerUID, merchantUID string) {
	t.Helper()
	var out struct {
		Code     int    `json:"code"`
		Message  string `json:"message"`
		Response struct {
			Status string  `json:"status"`
			Amount float64 `json:"amount"`
		} `json:"response"`
	}
	e.Do("POST", "/subscribe/payments/again", tok, map[string]any{
		"customer_uid": customerUID, "merchant_uid": merchantUID, "amount": 9900, "name": "정기결제 2회차",
	}, &out)
	if out.Code != 0 || out.Response.Status != "paid" || out.Response.Amount != 9900 {
		t.Fatalf("again with the window's key: %+v", out)
	}
}

// TestBrowserKeyOnlyCallback is the headline flow, on SQLite and Postgres:
// key-only issuance in the overlay, result through the callback.
func TestBrowserKeyOnlyCallback(t *testing.T) {
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		ctx := browserCtx(t)
		e := apptest.New(t, b)
		tok := e.Token(e.Cred)
		shop := merchantSite(t, e)
		openPay(t, ctx, shop.URL, `{pg: "kicc", pay_method: "card", merchant_uid: "sub_`+b.Name+`", customer_uid: "user_42",
			amount: 0, name: "월간 이용권", buyer_name: "홍길동", buyer_email: "hong@example.com"}`)
		in := frame(t, ctx, "#card_number")
		shot(t, ctx, "1-window")
		fillCard(t, ctx, in, "4242424242424242")
		if v, _ := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#card_number"), chromedp.FromNode(in))); v != "4242 4242 4242 4242" {
			t.Errorf("card number shown as %q, want grouped digits", v)
		}
		shot(t, ctx, "2-filled")
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#submit"), chromedp.FromNode(in))); err != nil {
			t.Fatal(err)
		}
		res := callbackRsp(t, ctx)
		shot(t, ctx, "3-merchant-after-callback")
		if !res.Success || !res.ImpSuccess || str(res.Status) != "paid" || res.PaidAmount != 0 || res.ImpUID == nil ||
			res.ErrorCode != nil || str(res.CustomerUID) != "user_42" || res.MerchantUID != "sub_"+b.Name {
			t.Fatalf("rsp %+v", res)
		}
		var cust customerView
		if e.Do("GET", "/subscribe/customers/user_42", tok, nil, &cust); cust.Code != 0 || cust.Response == nil || cust.Response.PGProvider != "kicc" {
			t.Fatalf("billing key: %+v", cust)
		}
		var pay paymentView
		e.Do("GET", "/payments/"+*res.ImpUID, tok, nil, &pay)
		if pay.Response.Amount != 0 || pay.Response.Status != "paid" || pay.Response.Channel != "pc" || str(pay.Response.Usage) != "issue" {
			t.Fatalf("payment: %+v", pay.Response)
		}
		chargeAgain(t, e, tok, "user_42", "sub_"+b.Name+"_2")
	})
}

// TestBrowserKeyAndFirstPaymentRedirect: a phone browser with m_redirect_url
// goes to the window and back to the merchant with the result in the URL.
func TestBrowserKeyAndFirstPaymentRedirect(t *testing.T) {
	ctx := browserCtx(t)
	e := apptest.New(t, testenv.SQLite(t))
	tok := e.Token(e.Cred)
	shop := merchantSite(t, e)
	if err := chromedp.Do(ctx, chromedp.Emulate(device.IPhone13)); err != nil {
		t.Fatal(err)
	}
	// JTNet calls back on PC and redirects on mobile (Danal would call back
	// on mobile too).
	openPay(t, ctx, shop.URL, `{pg: "jtnet", merchant_uid: "order_77", customer_uid: "user_77", amount: 1000,
		name: "첫 달 이용료", m_redirect_url: location.origin + "/complete?from=billkey"}`)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#card_number"))); err != nil {
		t.Fatalf("not redirected to the window: %v", err)
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.HasPrefix(loc, e.Server.URL+"/v1/checkout/") {
		t.Fatalf("window at %s", loc)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#card_number"), "4242424242424242"),
		chromedp.SendKeys(chromedp.CSS("#expiry"), "12/30"),
		chromedp.SendKeys(chromedp.CSS("#pwd_2digit"), "00"),
		chromedp.SendKeys(chromedp.CSS("#birth"), "880808"),
	); err != nil {
		t.Fatal(err)
	}
	shot(t, ctx, "1-mobile-window")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#submit")),
		chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatal(err)
	}
	waitPath(t, ctx, "/complete")
	loc, _ = chromedp.Run(ctx, chromedp.Location())
	u, _ := url.Parse(loc)
	q := u.Query()
	if q.Get("imp_success") != "true" || q.Get("merchant_uid") != "order_77" || q.Get("imp_uid") == "" || q.Get("from") != "billkey" {
		t.Fatalf("redirect %s", loc)
	}
	if strings.Contains(loc, "4242") || strings.Contains(loc, "card") {
		t.Errorf("card data in the redirect: %s", loc)
	}
	shot(t, ctx, "2-back-at-merchant")
	var pay paymentView
	e.Do("GET", "/payments/"+q.Get("imp_uid"), tok, nil, &pay)
	if pay.Response.Amount != 1000 || pay.Response.Status != "paid" || pay.Response.Channel != "mobile" || pay.Response.PGProvider != "jtnet" {
		t.Fatalf("payment: %+v", pay.Response)
	}
	var cust customerView
	if e.Do("GET", "/subscribe/customers/user_77", tok, nil, &cust); cust.Code != 0 {
		t.Fatalf("billing key: %+v", cust)
	}
	chargeAgain(t, e, tok, "user_77", "order_78")
}

// TestBrowserDeclinedCard: the PG refuses the card; the callback says so with
// the PG's own code and nothing is stored under customer_uid.
func TestBrowserDeclinedCard(t *testing.T) {
	ctx := browserCtx(t)
	e := apptest.New(t, testenv.SQLite(t))
	tok := e.Token(e.Cred)
	shop := merchantSite(t, e)
	openPay(t, ctx, shop.URL, `{pg: "kicc", merchant_uid: "dec_1", customer_uid: "user_dec", amount: 0}`)
	in := frame(t, ctx, "#card_number")
	src, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("imp-billkey-frame").src`))
	if err != nil {
		t.Fatal(err)
	}
	fillCard(t, ctx, in, "4000000000000002")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#submit"), chromedp.FromNode(in))); err != nil {
		t.Fatal(err)
	}
	// The window shows the PG's reason and waits for the customer.
	in = frame(t, ctx, "#result-ok")
	if msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#error-msg"), chromedp.FromNode(in))); !strings.Contains(msg, "거래거절") {
		t.Errorf("the window shows %q, not the decline reason", msg)
	}
	shot(t, ctx, "window-shows-decline")
	if got, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__rsp === undefined && !!document.getElementById("imp-billkey-overlay")`)); !got {
		t.Fatal("the window closed before the customer could read the reason")
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#result-ok"), chromedp.FromNode(in))); err != nil {
		t.Fatal(err)
	}
	res := callbackRsp(t, ctx)
	// The window now only ever shows its outcome.
	if err := chromedp.Do(ctx, chromedp.Navigate(src), chromedp.WaitVisible(chromedp.CSS("#error-code"))); err != nil {
		t.Fatal(err)
	}
	if code, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#error-code"))); code != "C021" {
		t.Errorf("result page shows error_code %q", code)
	}
	shot(t, ctx, "window-result")
	if res.Success || res.ImpSuccess || str(res.ErrorCode) != "C021" || !strings.Contains(str(res.ErrorMsg), "거래거절") || str(res.Status) != "failed" || res.ImpUID == nil {
		t.Fatalf("rsp %+v code=%s msg=%s", res, str(res.ErrorCode), str(res.ErrorMsg))
	}
	shot(t, ctx, "merchant-after-decline")
	var cust customerView
	if st := e.Do("GET", "/subscribe/customers/user_dec", tok, nil, &cust); st != 404 {
		t.Errorf("declined card left a key: HTTP %d %+v", st, cust)
	}
	var pay paymentView
	e.Do("GET", "/payments/"+*res.ImpUID, tok, nil, &pay)
	if pay.Response.Status != "failed" {
		t.Errorf("payment: %+v", pay.Response)
	}
}

// TestBrowserCancelledWindow: every way out of the window gives the
// callback USER_CANCEL, and nothing is issued.
func TestBrowserCancelledWindow(t *testing.T) {
	ctx := browserCtx(t)
	e := apptest.New(t, testenv.SQLite(t))
	shop := merchantSite(t, e)
	cases := []struct {
		name string
		act  func(in *chromedp.Node) chromedp.Action[chromedp.Void]
	}{
		{"cancel button", func(in *chromedp.Node) chromedp.Action[chromedp.Void] {
			return chromedp.Click(chromedp.CSS("#cancel"), chromedp.FromNode(in))
		}},
		{"close button", func(*chromedp.Node) chromedp.Action[chromedp.Void] {
			return chromedp.Click(chromedp.CSS("#imp-billkey-close"))
		}},
		{"escape key", func(in *chromedp.Node) chromedp.Action[chromedp.Void] {
			return chromedp.SendKeys(chromedp.CSS("#wallet_phone"), "\x1b", chromedp.FromNode(in))
		}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			openPay(t, ctx, shop.URL, fmt.Sprintf(`{pg: "payco", merchant_uid: "can_%d", customer_uid: "user_can", amount: 0}`, i))
			in := frame(t, ctx, "#cancel")
			if i == 0 {
				shot(t, ctx, "window")
			}
			if err := chromedp.Do(ctx, c.act(in)); err != nil {
				t.Fatal(err)
			}
			res := callbackRsp(t, ctx)
			if res.Success || str(res.ErrorCode) != checkout.CodeUserCancel || res.ImpUID != nil || str(res.ErrorMsg) == "<nil>" {
				t.Fatalf("rsp %+v", res)
			}
		})
	}
	if n := e.App.Sim.Stats().IssuedKeys; n != 0 {
		t.Errorf("%d keys issued by cancelled windows", n)
	}
}

// TestBrowserNonCardWindows: CHAI's bank-transfer flow, which lands on
// m_redirect_url on PC too, issues a key that `again` can charge; Danal phone billing (pg "danal") issues its key only
// with a first charge, and charges it again only with that amount a month on.
func TestBrowserNonCardWindows(t *testing.T) {
	ctx := browserCtx(t)
	e := apptest.New(t, testenv.SQLite(t))
	tok := e.Token(e.Cred)
	shop := merchantSite(t, e)
	cases := []struct {
		name, pg, method string
		amount           int64
		fill             func(from chromedp.QueryOption) []chromedp.Action[chromedp.Void]
	}{
		{"chai trans", "chai", "trans", 0, func(from chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
			return []chromedp.Action[chromedp.Void]{
				chromedp.SetValue(chromedp.CSS("#bank_code"), "090", from),
				chromedp.Click(chromedp.CSS("#agree"), from),
			}
		}},
		{"danal phone", "danal", "phone", 9900, func(from chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
			return []chromedp.Action[chromedp.Void]{
				chromedp.SetValue(chromedp.CSS("#carrier"), "SKT", from),
				chromedp.SendKeys(chromedp.CSS("#birth"), "900101", from),
				chromedp.SendKeys(chromedp.CSS("#otp"), checkout.SandboxOTP, from),
				chromedp.Click(chromedp.CSS("#agree"), from),
			}
		}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cuid := "user_" + c.method
			openPay(t, ctx, shop.URL, fmt.Sprintf(`{pg: %q, pay_method: %q, merchant_uid: "nc_%d", customer_uid: %q, amount: %d,
				buyer_tel: "010-1234-5678", m_redirect_url: location.origin + "/complete"}`, c.pg, c.method, i, cuid, c.amount))
			first := map[string]string{"trans": "#bank_code", "phone": "#otp"}[c.method]
			var impUID string
			if c.pg == "chai" {
				// A desktop browser with a callback, and still a redirect.
				if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(first))); err != nil {
					t.Fatalf("CHAI did not redirect on PC: %v", err)
				}
				if err := chromedp.Do(ctx, c.fill(chromedp.AtLeast(1))...); err != nil {
					t.Fatal(err)
				}
				shot(t, ctx, "window")
				if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#submit"))); err != nil {
					t.Fatal(err)
				}
				waitPath(t, ctx, "/complete")
				loc, _ := chromedp.Run(ctx, chromedp.Location())
				u, _ := url.Parse(loc)
				if u.Query().Get("imp_success") != "true" || u.Query().Get("imp_uid") == "" {
					t.Fatalf("redirect %s", loc)
				}
				impUID = u.Query().Get("imp_uid")
			} else {
				in := frame(t, ctx, first)
				if err := chromedp.Do(ctx, c.fill(chromedp.FromNode(in))...); err != nil {
					t.Fatal(err)
				}
				shot(t, ctx, "window")
				if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#submit"), chromedp.FromNode(in))); err != nil {
					t.Fatal(err)
				}
				res := callbackRsp(t, ctx)
				if !res.Success || res.PayMethod != c.method || res.PGProvider != c.pg || str(res.Status) != "paid" {
					t.Fatalf("rsp %+v code=%s msg=%s", res, str(res.ErrorCode), str(res.ErrorMsg))
				}
				impUID = *res.ImpUID
			}
			var cust customerView
			if e.Do("GET", "/subscribe/customers/"+cuid, tok, nil, &cust); cust.Code != 0 || cust.Response.PGProvider != c.pg {
				t.Fatalf("billing key: %+v", cust)
			}
			var pay paymentView
			e.Do("GET", "/payments/"+impUID, tok, nil, &pay)
			if pay.Response.PayMethod != c.method || pay.Response.Amount != float64(c.amount) {
				t.Fatalf("payment: %+v", pay.Response)
			}
			if c.method == "phone" {
				// The same amount, but not a month later: Danal refuses.
				var again map[string]any
				e.Do("POST", "/subscribe/payments/again", tok, map[string]any{
					"customer_uid": cuid, "merchant_uid": fmt.Sprintf("nc_%d_again", i), "amount": 9900, "name": "정기결제 2회차"}, &again)
				if got := fmt.Sprint(again); !strings.Contains(got, "DN302") {
					t.Fatalf("again with a phone key in the same month: %s", got)
				}
				return
			}
			chargeAgain(t, e, tok, cuid, fmt.Sprintf("nc_%d_again", i))
		})
	}
}

// TestBrowserDemoPage: the demo merchant page works end to end in callback
// mode and shows what the merchant's server would see.
func TestBrowserDemoPage(t *testing.T) {
	ctx := browserCtx(t)
	e := apptest.New(t, testenv.SQLite(t))
	demo := e.Server.URL + e.App.DemoPath(e.Cred.MerchantCode)
	if err := chromedp.Do(ctx, chromedp.Navigate(demo), chromedp.WaitVisible(chromedp.CSS("#subscribe"))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#pg"), "kicc.T5102001|card"), chromedp.Click(chromedp.CSS("#subscribe"))); err != nil {
		t.Fatal(err)
	}
	in := frame(t, ctx, "#card_number")
	fillCard(t, ctx, in, "4242424242424242")
	shot(t, ctx, "1-demo-window")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#submit"), chromedp.FromNode(in))); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Poll[string](`document.getElementById("result").getAttribute("data-ready") && document.getElementById("result").textContent`,
		chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	fullShot(t, ctx, "2-demo-result")
	for _, want := range []string{`"status": "paid"`, `"customer_uid_usage": "issue"`, `"card_number": "424242******4242"`, `"pg_provider": "kicc"`} {
		if !strings.Contains(text, want) {
			t.Errorf("demo result lacks %s:\n%s", want, text)
		}
	}
}

// waitPath waits until the tab shows path. A poll that runs while the page
// is navigating away fails with "navigated or closed"; that only means the
// answer is not in yet, so ask again on the next document.
func waitPath(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	var err error
	for range 10 {
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](`location.pathname === "`+path+`"`, chromedp.WithPollingTimeout(20*time.Second)))
		// A poll that starts while the page navigates loses its context;
		// poll again in the new page.
		if err == nil || !(strings.Contains(err.Error(), "navigated or closed") || strings.Contains(err.Error(), "Cannot find context")) {
			break
		}
	}
	if err != nil {
		t.Fatalf("not at %s: %v", path, err)
	}
}

// TestBrowserLayoutAndConsole: on a 1280×720 laptop screen the overlay
// shows both buttons without scrolling; the demo page fits a 390-px phone;
// and neither writes an error to the browser console (CSP sources Chrome
// rejects, a missing /favicon.ico).
func TestBrowserLayoutAndConsole(t *testing.T) {
	ctx := browserCtx(t)
	e := apptest.New(t, testenv.SQLite(t))
	shop := merchantSite(t, e)
	cctx, stop := context.WithCancel(ctx)
	var (
		mu     sync.Mutex
		errors []string
	)
	msgs := chromedp.Console(cctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				mu.Lock()
				errors = append(errors, m.String()+" ("+m.URL+")")
				mu.Unlock()
			}
		}
	}()

	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 720)); err != nil {
		t.Fatal(err)
	}
	openPay(t, ctx, shop.URL, `{pg: "kicc", merchant_uid: "lay_1", customer_uid: "user_lay", amount: 0, name: "월간 이용권"}`)
	in := frame(t, ctx, "#cancel")
	for _, id := range []string{"#submit", "#cancel"} {
		box, err := chromedp.Run(ctx, chromedp.Dimensions(chromedp.CSS(id), chromedp.FromNode(in)))
		if err != nil {
			t.Fatal(err)
		}
		if bottom := box.Border[5]; bottom > 720 {
			t.Errorf("%s ends at y=%.0f, below a 720-px viewport: the customer has to scroll", id, bottom)
		}
	}
	shot(t, ctx, "1280x720-window")

	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile),
		chromedp.Navigate(e.Server.URL+e.App.DemoPath(e.Cred.MerchantCode)), chromedp.WaitVisible(chromedp.CSS("#subscribe"))); err != nil {
		t.Fatal(err)
	}
	w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)`))
	if err != nil || w > 390 {
		t.Errorf("the demo page is %d px wide on a 390-px phone (%v)", w, err)
	}
	fullShot(t, ctx, "demo-390")

	stop()
	<-done
	mu.Lock()
	defer mu.Unlock()
	for _, m := range errors {
		t.Errorf("console error: %s", m)
	}
}

// TestBrowserWalletWindows: Kakao Pay and Naver Pay open as wallets — sign
// in with phone number and payment password, pick a means — not as a card
// form. KakaoMoney keys charge as pay_method "point"; Naver Pay's amount is
// only displayed, so its window charges nothing.
func TestBrowserWalletWindows(t *testing.T) {
	ctx := browserCtx(t)
	e := apptest.New(t, testenv.SQLite(t))
	tok := e.Token(e.Cred)
	shop := merchantSite(t, e)
	cases := []struct {
		name, pg, means, method string
		amount                  int64
		title                   string
	}{
		{"kakaopay money", "kakaopay", "point", "point", 0, "정기결제 수단 등록"},
		{"naverpay card, amount displayed", "naverpay", "card_ok", "card", 9900, "정기결제 수단 등록"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cuid := "wallet_" + c.pg
			openPay(t, ctx, shop.URL, fmt.Sprintf(`{pg: %q, pay_method: "card", merchant_uid: "w_%d", customer_uid: %q, amount: %d, buyer_tel: "010-1234-5678"}`,
				c.pg, i, cuid, c.amount))
			in := frame(t, ctx, "#wallet_phone")
			from := chromedp.FromNode(in)
			if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#imp-billkey-frame").length`)); n != 1 {
				t.Fatal("no window")
			}
			if title, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#title"), from)); !strings.Contains(title, c.title) {
				t.Errorf("window title %q", title)
			}
			if err := chromedp.Do(ctx,
				chromedp.SendKeys(chromedp.CSS("#wallet_pin"), "123456", from),
				chromedp.SetValue(chromedp.CSS("#wallet_means"), c.means, from),
			); err != nil {
				t.Fatal(err)
			}
			shot(t, ctx, "wallet")
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#submit"), from)); err != nil {
				t.Fatal(err)
			}
			res := callbackRsp(t, ctx)
			if !res.Success || res.PGProvider != c.pg || res.PayMethod != c.method {
				t.Fatalf("rsp %+v code=%s msg=%s", res, str(res.ErrorCode), str(res.ErrorMsg))
			}
			var pay paymentView
			e.Do("GET", "/payments/"+*res.ImpUID, tok, nil, &pay)
			if pay.Response.Amount != 0 || pay.Response.PayMethod != c.method {
				t.Fatalf("window payment: %+v (a wallet key window approves nothing here)", pay.Response)
			}
			var again paymentView
			e.Do("POST", "/subscribe/payments/again", tok, map[string]any{
				"customer_uid": cuid, "merchant_uid": fmt.Sprintf("w_%d_again", i), "amount": 9900, "name": "정기결제"}, &again)
			if again.Response.Status != "paid" || again.Response.PayMethod != c.method {
				t.Fatalf("again reports %+v, want pay_method %q", again.Response, c.method)
			}
		})
	}
}
