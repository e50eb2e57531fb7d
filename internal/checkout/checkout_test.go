package checkout_test

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/checkout"
	"github.com/billkey/billkey/internal/merchant"
	"github.com/billkey/billkey/internal/subscription"
	"github.com/billkey/billkey/internal/testenv"
)

// merchantOrigin stands for a merchant page on this machine (allowed by the
// default origins).
const merchantOrigin = "http://localhost:3000"

// client is an HTTP client that does not follow redirects, so tests see the
// 303 to m_redirect_url.
var client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

type rsp struct {
	Success     bool    `json:"success"`
	ImpSuccess  bool    `json:"imp_success"`
	ImpUID      *string `json:"imp_uid"`
	MerchantUID string  `json:"merchant_uid"`
	Status      *string `json:"status"`
	PaidAmount  float64 `json:"paid_amount"`
	PayMethod   string  `json:"pay_method"`
	PGProvider  string  `json:"pg_provider"`
	CardNumber  *string `json:"card_number"`
	CustomerUID *string `json:"customer_uid"`
	ErrorCode   *string `json:"error_code"`
	ErrorMsg    *string `json:"error_msg"`
}

type created struct {
	SessionID   string `json:"session_id"`
	URL         string `json:"url"`
	Rsp         *rsp   `json:"rsp"`
	RedirectURL string `json:"redirect_url"`
}

// openWindow calls POST /v1/checkout/sessions as the SDK does.
func openWindow(t *testing.T, base, origin, merchant, mode string, params map[string]any) (int, created) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"merchant_code": merchant, "mode": mode, "params": params})
	req, _ := http.NewRequest("POST", base+"/v1/checkout/sessions", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out created
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decode session answer: %v", err)
	}
	return resp.StatusCode, out
}

var (
	csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	rspRe  = regexp.MustCompile(`data-rsp="([^"]+)"`)
)

// windowPage fetches the window and returns its HTML, headers and CSRF token.
func windowPage(t *testing.T, pageURL string) (string, http.Header, string) {
	t.Helper()
	resp, err := client.Get(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET window: HTTP %d: %s", resp.StatusCode, b)
	}
	m := csrfRe.FindStringSubmatch(string(b))
	if m == nil {
		t.Fatalf("no CSRF token in the window:\n%s", b)
	}
	return string(b), resp.Header, m[1]
}

// submit posts the window's form; it returns the status, the rsp shown on the
// result page (nil when the form came back) and the raw response.
func submit(t *testing.T, pageURL string, form url.Values, origin string) (int, *rsp, *http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", pageURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out *rsp
	if m := rspRe.FindStringSubmatch(string(b)); m != nil {
		out = new(rsp)
		if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), out); err != nil {
			t.Fatalf("result rsp: %v", err)
		}
	}
	return resp.StatusCode, out, resp, string(b)
}

func cardForm(csrf, number string) url.Values {
	return url.Values{"csrf_token": {csrf}, "card_number": {number}, "expiry": {"12/30"}, "birth": {"900101"}, "pwd_2digit": {"12"}}
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func TestSDKServedWithIntegrity(t *testing.T) {
	e := apptest.New(t, testenv.SQLite(t))
	resp, err := http.Get(e.Server.URL + checkout.SDKPath)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sum := sha512.Sum384(body)
	want := "sha384-" + base64.StdEncoding.EncodeToString(sum[:])
	for _, c := range []struct{ name, got, want string }{
		{"integrity", checkout.SDKIntegrity(), want},
		{"X-Billkey-Integrity", resp.Header.Get("X-Billkey-Integrity"), want},
		{"Content-Type", resp.Header.Get("Content-Type"), "application/javascript; charset=utf-8"},
		{"CORS (needed for crossorigin=anonymous)", resp.Header.Get("Access-Control-Allow-Origin"), "*"},
		{"nosniff", resp.Header.Get("X-Content-Type-Options"), "nosniff"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	for _, api := range []string{"IMP", "init", "request_pay", "m_redirect_url", "/v1/checkout/sessions"} {
		if !bytes.Contains(body, []byte(api)) {
			t.Errorf("SDK lacks %q", api)
		}
	}
	var info struct{ URL, Integrity string }
	if st := e.Do("GET", "/v1/iamport.json", "", nil, &info); st != 200 || info.Integrity != want || info.URL != checkout.SDKPath {
		t.Errorf("/v1/iamport.json: HTTP %d %+v", st, info)
	}
}

func TestSessionCreationRefusals(t *testing.T) {
	e := apptest.New(t, testenv.SQLite(t))
	tok := e.Token(e.Cred)
	if st := e.Do("POST", "/payments/prepare", tok, map[string]any{"merchant_uid": "prep_1", "amount": 5000}, nil); st != 200 {
		t.Fatalf("prepare: HTTP %d", st)
	}
	base := func() map[string]any {
		return map[string]any{"pg": "kicc", "pay_method": "card", "merchant_uid": "o_1", "customer_uid": "c_1", "amount": 0}
	}
	with := func(k string, v any) map[string]any { p := base(); p[k] = v; return p }
	cases := []struct {
		name     string
		origin   string
		merchant string
		mode     string
		params   map[string]any
		status   int
		code     string
	}{
		{"foreign origin", "https://evil.example", e.Cred.MerchantCode, "popup", base(), 403, checkout.CodeOriginRefused},
		{"no origin (not a browser)", "", e.Cred.MerchantCode, "popup", base(), 403, checkout.CodeOriginRefused},
		{"unknown merchant", merchantOrigin, "imp00000000", "popup", base(), 404, checkout.CodeInvalidMerchant},
		{"chai has no card window", merchantOrigin, e.Cred.MerchantCode, "popup", with("pg", "chai"), 400, checkout.CodeUnsupported},
		{"phone on a card-only PG", merchantOrigin, e.Cred.MerchantCode, "popup", with("pay_method", "phone"), 400, checkout.CodeUnsupported},
		{"vbank is not a billing method", merchantOrigin, e.Cred.MerchantCode, "popup", with("pay_method", "vbank"), 400, checkout.CodeInvalidParams},
		{"amount 0 without customer_uid", merchantOrigin, e.Cred.MerchantCode, "popup", with("customer_uid", ""), 400, checkout.CodeInvalidParams},
		{"negative amount", merchantOrigin, e.Cred.MerchantCode, "popup", with("amount", -1), 400, checkout.CodeInvalidParams},
		{"fractional KRW", merchantOrigin, e.Cred.MerchantCode, "popup", with("amount", 10.5), 400, checkout.CodeInvalidParams},
		{"tampered amount", merchantOrigin, e.Cred.MerchantCode, "popup", func() map[string]any {
			p := with("merchant_uid", "prep_1")
			p["amount"] = 100
			return p
		}(), 400, checkout.CodeAmountMismatch},
		{"redirect without m_redirect_url", merchantOrigin, e.Cred.MerchantCode, "redirect", base(), 400, checkout.CodeInvalidParams},
		{"redirect to a foreign origin", merchantOrigin, e.Cred.MerchantCode, "redirect", with("m_redirect_url", "https://evil.example/done"), 400, checkout.CodeOriginRefused},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, out := openWindow(t, e.Server.URL, c.origin, c.merchant, c.mode, c.params)
			if st != c.status || out.SessionID != "" || out.Rsp == nil || str(out.Rsp.ErrorCode) != c.code || out.Rsp.Success {
				t.Fatalf("HTTP %d %+v rsp=%+v, want HTTP %d error_code %s", st, out, out.Rsp, c.status, c.code)
			}
			if out.Rsp.ErrorMsg == nil || *out.Rsp.ErrorMsg == "" {
				t.Error("no error_msg")
			}
		})
	}
	t.Run("prepared amount matches", func(t *testing.T) {
		p := with("merchant_uid", "prep_1")
		p["amount"], p["customer_uid"] = 5000, ""
		if st, out := openWindow(t, e.Server.URL, merchantOrigin, e.Cred.MerchantCode, "popup", p); st != 201 || out.SessionID == "" {
			t.Fatalf("HTTP %d %+v", st, out)
		}
	})
	t.Run("redirect-mode errors go to m_redirect_url", func(t *testing.T) {
		p := with("pg", "chai")
		p["m_redirect_url"] = merchantOrigin + "/done?order=1"
		_, out := openWindow(t, e.Server.URL, merchantOrigin, e.Cred.MerchantCode, "redirect", p)
		u, err := url.Parse(out.RedirectURL)
		if err != nil || u.Query().Get("imp_success") != "false" || u.Query().Get("error_code") != checkout.CodeUnsupported || u.Query().Get("order") != "1" {
			t.Fatalf("redirect_url = %q", out.RedirectURL)
		}
	})
}

func TestPreflightAndCORS(t *testing.T) {
	e := apptest.New(t, testenv.SQLite(t))
	for _, c := range []struct {
		origin string
		allow  string
	}{
		{merchantOrigin, merchantOrigin},
		{"http://127.0.0.1:8081", "http://127.0.0.1:8081"},
		{"https://localhost:3000", ""}, // default allows http://localhost only
		{"https://evil.example", ""},
	} {
		req, _ := http.NewRequest("OPTIONS", e.Server.URL+"/v1/checkout/sessions", nil)
		req.Header.Set("Origin", c.origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != c.allow {
			t.Errorf("origin %s: Access-Control-Allow-Origin %q, want %q", c.origin, got, c.allow)
		}
	}
}

var scriptTag = regexp.MustCompile(`<script[^>]*>`)
var linkTag = regexp.MustCompile(`<link[^>]*>`)

func TestWindowPageSecurityHeaders(t *testing.T) {
	e := apptest.New(t, testenv.SQLite(t))
	_, out := openWindow(t, e.Server.URL, merchantOrigin, e.Cred.MerchantCode, "popup",
		map[string]any{"pg": "kicc", "merchant_uid": "o_hdr", "customer_uid": "c_hdr", "amount": 0})
	if out.SessionID == "" {
		t.Fatalf("no session: %+v", out.Rsp)
	}
	if len(out.SessionID) < 32 {
		t.Errorf("session id %q is too short to be unguessable", out.SessionID)
	}
	page, h, csrf := windowPage(t, out.URL)
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "form-action 'self'",
		"frame-ancestors 'self' http://localhost:* http://127.0.0.1:*;", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	if strings.Contains(csp, "[") {
		t.Errorf("CSP names an IPv6 literal, which Chrome rejects with a console error: %q", csp)
	}
	for k, v := range map[string]string{"Referrer-Policy": "same-origin", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
		if h.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, h.Get(k), v)
		}
	}
	if csrf == "" || strings.Contains(out.URL, csrf) {
		t.Error("the CSRF token must be in the form only, not in the URL")
	}
	// Every script and stylesheet is Billkey's own, with integrity.
	tags := append(scriptTag.FindAllString(page, -1), linkTag.FindAllString(page, -1)...)
	if len(tags) < 2 {
		t.Fatalf("expected the page's script and stylesheet, found %q", tags)
	}
	for _, tag := range tags {
		if !strings.Contains(tag, `integrity="sha384-`) || !strings.Contains(tag, `/v1/checkout/assets/`) {
			t.Errorf("tag without SRI or not self-hosted: %s", tag)
		}
	}
	for _, want := range []string{`name="card_number"`, `autocomplete="cc-number"`, `name="expiry"`, `autocomplete="cc-exp"`,
		`name="birth"`, `name="pwd_2digit"`, `for="card_number"`, `for="expiry"`, `for="birth"`, `for="pwd_2digit"`, "카드번호", "Card number"} {
		if !strings.Contains(page, want) {
			t.Errorf("card form lacks %s", want)
		}
	}

	// The assets the page names are served with the integrity it states.
	for _, m := range regexp.MustCompile(`(?:src|href)="(/v1/checkout/assets/[^"]+)" integrity="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		resp, err := http.Get(e.Server.URL + html.UnescapeString(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		sum := sha512.Sum384(b)
		if got := "sha384-" + base64.StdEncoding.EncodeToString(sum[:]); got != html.UnescapeString(m[2]) || resp.StatusCode != 200 {
			t.Errorf("%s: HTTP %d, integrity %s, page says %s", m[1], resp.StatusCode, got, m[2])
		}
	}
}

// TestKeyOnlyWindowFlow runs the window over plain HTTP on both stores: the
// key, the amount-0 payment row, the webhook event, replay and CSRF.
func TestKeyOnlyWindowFlow(t *testing.T) {
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b)
		tok := e.Token(e.Cred)
		_, out := openWindow(t, e.Server.URL, merchantOrigin, e.Cred.MerchantCode, "popup", map[string]any{
			"pg": "kicc", "pay_method": "card", "merchant_uid": "sub_1", "customer_uid": "cust_1", "amount": 0,
			"name": "월간 구독", "buyer_name": "홍길동", "custom_data": map[string]any{"plan": "m1"},
		})
		_, _, csrf := windowPage(t, out.URL)

		// Forgery: no token, wrong token, another site's form.
		for _, c := range []struct {
			name   string
			form   url.Values
			origin string
		}{
			{"missing token", cardForm("", "4242424242424242"), ""},
			{"wrong token", cardForm("x"+csrf, "4242424242424242"), ""},
			{"cross-site post", cardForm(csrf, "4242424242424242"), "https://evil.example"},
		} {
			if st, res, _, _ := submit(t, out.URL, c.form, c.origin); st != 403 || res != nil {
				t.Errorf("%s: HTTP %d rsp %+v, want 403 and no result", c.name, st, res)
			}
		}

		st, res, _, _ := submit(t, out.URL, cardForm(csrf, "4242 4242 4242 4242"), e.Server.URL)
		if st != 200 || res == nil || !res.Success || str(res.Status) != "paid" || res.PaidAmount != 0 || res.ImpUID == nil ||
			str(res.CustomerUID) != "cust_1" || str(res.CardNumber) != "424242******4242" || res.ErrorCode != nil {
			t.Fatalf("HTTP %d rsp %+v", st, res)
		}
		impUID := *res.ImpUID

		var cust struct {
			Code     int `json:"code"`
			Response struct {
				CustomerUID string `json:"customer_uid"`
				PGProvider  string `json:"pg_provider"`
				CardNumber  string `json:"card_number"`
			} `json:"response"`
		}
		if st := e.Do("GET", "/subscribe/customers/cust_1", tok, nil, &cust); st != 200 || cust.Response.PGProvider != "kicc" || cust.Response.CardNumber != "424242******4242" {
			t.Fatalf("customer: HTTP %d %+v", st, cust)
		}
		var pay struct {
			Response struct {
				Amount     float64 `json:"amount"`
				Status     string  `json:"status"`
				Channel    string  `json:"channel"`
				Usage      *string `json:"customer_uid_usage"`
				CustomData *string `json:"custom_data"`
			} `json:"response"`
		}
		if st := e.Do("GET", "/payments/"+impUID, tok, nil, &pay); st != 200 || pay.Response.Amount != 0 || pay.Response.Status != "paid" ||
			pay.Response.Channel != "pc" || str(pay.Response.Usage) != "issue" || str(pay.Response.CustomData) != `{"plan":"m1"}` {
			t.Fatalf("payment: HTTP %d %+v", st, pay.Response)
		}
		events, err := e.App.Store.Events(context.Background(), e.Merchant.ID, impUID)
		if err != nil || len(events) != 1 || events[0].Type != "payment.paid" || events[0].Payload["status"] != "paid" {
			t.Fatalf("outbox events: %+v %v", events, err)
		}

		// Replay the very same submission: nothing runs again.
		charges := e.App.Sim.Stats()
		st, again, _, _ := submit(t, out.URL, cardForm(csrf, "4000000000000002"), e.Server.URL)
		if st != 200 || again == nil || str(again.ImpUID) != impUID || !again.Success {
			t.Fatalf("replay: HTTP %d %+v, want the first outcome", st, again)
		}
		if after := e.App.Sim.Stats(); after != charges {
			t.Errorf("replay reached the PG: %+v → %+v", charges, after)
		}
		// The card number never shows in the logs.
		if strings.Contains(e.Logs.String(), "4242424242424242") || strings.Contains(e.Logs.String(), "4242 4242 4242 4242") {
			t.Error("card number in logs")
		}

		// And the key can be charged.
		var paid struct {
			Code     int                     `json:"code"`
			Response struct{ Status string } `json:"response"`
		}
		e.Do("POST", "/subscribe/payments/again", tok, map[string]any{"customer_uid": "cust_1", "merchant_uid": "sub_2", "amount": 9900, "name": "2월"}, &paid)
		if paid.Code != 0 || paid.Response.Status != "paid" {
			t.Fatalf("again: %+v", paid)
		}
	})
}

func TestRedirectResultCarriesNoCardData(t *testing.T) {
	e := apptest.New(t, testenv.SQLite(t))
	_, out := openWindow(t, e.Server.URL, merchantOrigin, e.Cred.MerchantCode, "redirect", map[string]any{
		"pg": "danal_tpay", "merchant_uid": "r_1", "customer_uid": "c_r", "amount": 1000, "m_redirect_url": merchantOrigin + "/complete",
	})
	page, h, csrf := windowPage(t, out.URL)
	if !strings.Contains(h.Get("Content-Security-Policy"), "form-action 'self' "+merchantOrigin) {
		t.Errorf("form-action must allow the return URL: %s", h.Get("Content-Security-Policy"))
	}
	if !strings.Contains(page, "1,000원") {
		t.Error("amount not shown")
	}
	st, _, resp, _ := submit(t, out.URL, cardForm(csrf, "4242424242424242"), e.Server.URL)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	if st != 303 || !strings.HasPrefix(loc.String(), merchantOrigin+"/complete?") || q.Get("imp_success") != "true" || q.Get("merchant_uid") != "r_1" || q.Get("imp_uid") == "" {
		t.Fatalf("HTTP %d Location %s", st, loc)
	}
	if strings.Contains(loc.String(), "4242") {
		t.Errorf("redirect carries card data: %s", loc)
	}
	var pay struct {
		Response struct {
			Amount  float64 `json:"amount"`
			Status  string  `json:"status"`
			Channel string  `json:"channel"`
		} `json:"response"`
	}
	e.Do("GET", "/payments/"+q.Get("imp_uid"), e.Token(e.Cred), nil, &pay)
	if pay.Response.Amount != 1000 || pay.Response.Status != "paid" || pay.Response.Channel != "mobile" {
		t.Fatalf("payment %+v", pay.Response)
	}
}

func TestFormErrorsAndLimits(t *testing.T) {
	e := apptest.New(t, testenv.SQLite(t))
	h, err := checkout.New(checkout.Options{Service: e.App.Service, Merchants: e.App.Merchants, Store: e.App.Store, Clock: e.Clock, Logger: e.App.Log, MaxAttempts: 3, SubmitsPerIP: 6})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, r := range h.Routes() {
		mux.Handle(r.Pattern, r.Handler)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	open := func(uid string) (string, string) {
		_, out := openWindow(t, srv.URL, merchantOrigin, e.Cred.MerchantCode, "popup",
			map[string]any{"pg": "kicc", "merchant_uid": uid, "customer_uid": "c_" + uid, "amount": 0})
		_, _, csrf := windowPage(t, out.URL)
		return out.URL, csrf
	}

	page, csrf := open("lim_1")
	cases := []struct {
		name string
		form url.Values
		want string
	}{
		{"Luhn-invalid number", cardForm(csrf, "4242424242424241"), "카드번호"},
		{"bad expiry", func() url.Values { f := cardForm(csrf, "4242424242424242"); f.Set("expiry", "13/30"); return f }(), "MM/YY"},
		{"expired card", func() url.Values { f := cardForm(csrf, "4242424242424242"); f.Set("expiry", "01/20"); return f }(), "expired"},
	}
	for _, c := range cases {
		st, res, _, body := submit(t, page, c.form, "")
		if st != 422 || res != nil || !strings.Contains(body, c.want) || !strings.Contains(body, `id="form-error"`) {
			t.Errorf("%s: HTTP %d rsp %+v; want the form back with %q", c.name, st, res, c.want)
		}
		if strings.Contains(body, "4242424242424242") || strings.Contains(body, "4242424242424241") {
			t.Errorf("%s: the card number was echoed back", c.name)
		}
	}
	// The window allows 3 attempts; the 4th ends it.
	_, res, _, _ := submit(t, page, cardForm(csrf, "4242424242424242"), "")
	if res == nil || str(res.ErrorCode) != checkout.CodeTooManyAttempts {
		t.Fatalf("4th attempt: %+v", res)
	}
	// 4 submissions so far from this IP; the limit is 6 a minute.
	page2, csrf2 := open("lim_2")
	submit(t, page2, cardForm(csrf2, "1"), "")
	submit(t, page2, cardForm(csrf2, "1"), "")
	st, res, _, body := submit(t, page2, cardForm(csrf2, "4242424242424242"), "")
	if st != 429 || res != nil || !strings.Contains(body, "Too many") {
		t.Fatalf("per-IP limit: HTTP %d %+v", st, res)
	}
	if e.App.Sim.Stats().IssuedKeys != 0 {
		t.Error("a limited submission reached the PG")
	}
}

// TestAmountChangedAfterOpening: the prepared amount is checked again when
// the form is submitted, not only when the window opens.
func TestAmountChangedAfterOpening(t *testing.T) {
	e := apptest.New(t, testenv.SQLite(t))
	tok := e.Token(e.Cred)
	e.Do("POST", "/payments/prepare", tok, map[string]any{"merchant_uid": "p_1", "amount": 1000}, nil)
	_, out := openWindow(t, e.Server.URL, merchantOrigin, e.Cred.MerchantCode, "popup",
		map[string]any{"pg": "kicc", "merchant_uid": "p_1", "amount": 1000})
	_, _, csrf := windowPage(t, out.URL)
	e.Do("PUT", "/payments/prepare", tok, map[string]any{"merchant_uid": "p_1", "amount": 2000}, nil)
	_, res, _, _ := submit(t, out.URL, cardForm(csrf, "4242424242424242"), "")
	if res == nil || str(res.ErrorCode) != checkout.CodeAmountMismatch || res.Success {
		t.Fatalf("rsp %+v", res)
	}
	if e.App.Sim.Stats().Charges != 0 {
		t.Error("charged despite the mismatch")
	}
}

func TestCloseEndsTheWindow(t *testing.T) {
	e := apptest.New(t, testenv.SQLite(t))
	_, out := openWindow(t, e.Server.URL, merchantOrigin, e.Cred.MerchantCode, "popup",
		map[string]any{"pg": "kicc", "merchant_uid": "cl_1", "customer_uid": "c", "amount": 0})
	_, _, csrf := windowPage(t, out.URL)
	req, _ := http.NewRequest("POST", e.Server.URL+"/v1/checkout/"+out.SessionID+"/close", nil)
	req.Header.Set("Origin", merchantOrigin)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var closed created
	json.NewDecoder(resp.Body).Decode(&closed)
	resp.Body.Close()
	if closed.Rsp == nil || str(closed.Rsp.ErrorCode) != checkout.CodeUserCancel || resp.Header.Get("Access-Control-Allow-Origin") != merchantOrigin {
		t.Fatalf("close: %+v", closed.Rsp)
	}
	// A submission after the close changes nothing.
	_, res, _, _ := submit(t, out.URL, cardForm(csrf, "4242424242424242"), "")
	if res == nil || str(res.ErrorCode) != checkout.CodeUserCancel || e.App.Sim.Stats().IssuedKeys != 0 {
		t.Fatalf("submit after close: %+v", res)
	}
}

// A merchant's own origins open and embed its windows, and only its own.
func TestMerchantCheckoutOrigins(t *testing.T) {
	e := apptest.New(t, testenv.SQLite(t))
	_, other := e.NewMerchant("Other Shop")
	const shop = "https://shop.example.com"
	if err := merchant.ValidateOrigins([]string{shop, "ftp://nope"}); err == nil {
		t.Fatal("an ftp origin validated")
	}
	if err := e.App.Store.SetCheckoutOrigins(context.Background(), e.Merchant.ID, []string{shop}); err != nil {
		t.Fatal(err)
	}
	params := map[string]any{"pg": "kicc", "pay_method": "card", "merchant_uid": "o-origin", "customer_uid": "c-origin", "amount": 0}
	if st, _ := openWindow(t, e.Server.URL, shop, other.Code, "popup", params); st != http.StatusForbidden {
		t.Fatalf("another merchant's origin opened its window: %d", st)
	}
	st, out := openWindow(t, e.Server.URL, shop, e.Merchant.Code, "popup", params)
	if st != http.StatusCreated || out.URL == "" {
		t.Fatalf("merchant's own origin: %d %+v", st, out)
	}
	_, hdr, _ := windowPage(t, out.URL)
	if csp := hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'self' ") || !strings.Contains(csp, shop) {
		t.Fatalf("frame-ancestors without the merchant's origin: %s", csp)
	}
	req, _ := http.NewRequest("OPTIONS", e.Server.URL+"/v1/checkout/sessions", nil)
	req.Header.Set("Origin", shop)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != shop {
		t.Fatal("preflight refused a merchant's configured origin")
	}
}

// TestOneShotWindowStatesTerms: the key-only window of a v3 OneShot
// subscription states the charge that follows the key (today's first
// amount, the recurring amount and period, the next date), not "nothing is
// charged now"; any other key-only window keeps the plain note.
func TestOneShotWindowStatesTerms(t *testing.T) {
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b)
		sub, err := e.App.Subscriptions().Create(t.Context(), e.Merchant.ID, subscription.CreateInput{
			InvoiceID: "terms-1", Amount: 9900, Currency: "KRW", Country: "KR", Description: "월간 구독", Plan: "MONTHLY",
			PlanUnit: 1, AutoRenewal: true, BackURL: merchantOrigin + "/back",
		})
		if err != nil {
			t.Fatal(err)
		}
		open := func(merchantUID, customerUID string) string {
			t.Helper()
			_, out := openWindow(t, e.Server.URL, merchantOrigin, e.Cred.MerchantCode, "popup", map[string]any{
				"pg": "kicc", "pay_method": "card", "merchant_uid": merchantUID, "customer_uid": customerUID, "amount": 0, "name": "월간 구독",
			})
			page, _, _ := windowPage(t, out.URL)
			return html.UnescapeString(page)
		}
		page := open(subscription.KeyOrderUID(sub.ID), subscription.CheckoutCustomerUID(sub))
		for _, want := range []string{"오늘 9900 KRW이(가) 바로 결제되고", "매월 9900 KRW", "charged today", "every month", "Next charge: " + sub.StartDate[:4]} {
			if !strings.Contains(page, want) {
				t.Errorf("the OneShot window lacks %q:\n%s", want, page)
			}
		}
		if strings.Contains(page, "Nothing is charged now") || strings.Contains(page, "지금은 결제되지 않으며") {
			t.Error("the OneShot window says nothing is charged now, but its first charge follows the key")
		}
		if plain := open("plain-key-1", "cust_plain"); !strings.Contains(plain, "Nothing is charged now") || strings.Contains(plain, "charged today") {
			t.Error("a plain key-only window must keep its note")
		}
	})
}
