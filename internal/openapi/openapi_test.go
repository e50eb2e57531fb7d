package openapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/billkey/billkey/internal/api/v3/d24"
	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/openapi/openapitest"
	"github.com/billkey/billkey/internal/testenv"
)

// notAPI are the served paths that are not part of either API, each with
// why: browser pages and their assets, probes, and these documents.
var notAPI = map[string]string{
	"/healthz":         "liveness probe",
	"/readyz":          "readiness probe",
	"/metrics":         "Prometheus scrape",
	"/openapi/":        "the documents and their reference page",
	"/v1/iamport.js":   "the browser SDK",
	"/v1/iamport.json": "the browser SDK's integrity value",
	"/v1/checkout/":    "the hosted payment window the SDK drives",
	"/demo":            "demo merchant page",
	"/console":         "merchant console (HTML)",
	"/receipts/":       "customer-facing receipt pages (the receipt_url of payments)",
}

func exempt(path string) bool {
	for p := range notAPI {
		base := strings.TrimSuffix(p, "/")
		if path == base || strings.HasPrefix(path, base+"/") {
			return true
		}
	}
	return false
}

// Every route Billkey serves is in one of the documents (V1 and Billkey's
// operator endpoints in iamport.json, /v3/ in v3.json), and every
// documented operation is served.
func TestEveryRouteIsDocumented(t *testing.T) {
	t.Parallel()
	docs, err := openapitest.Load()
	if err != nil {
		t.Fatal(err)
	}
	e := apptest.New(t, testenv.SQLite(t))
	served := map[string]bool{}
	var missing []string
	for _, r := range e.App.Routes() {
		if exempt(r.Path) {
			continue
		}
		doc, _ := docs.Dialect(r.Path)
		item := doc.Paths.Find(r.Path)
		methods := []string{r.Method}
		if r.Method == "" {
			methods = []string{"GET", "POST", "PUT", "DELETE"}
		}
		for _, m := range methods {
			if m == "OPTIONS" || m == "HEAD" {
				continue
			}
			served[m+" "+r.Path] = true
			if item == nil || item.GetOperation(m) == nil {
				missing = append(missing, m+" "+r.Path)
			}
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("served but not in the OpenAPI documents: %s", m)
	}
	for _, doc := range []struct {
		name  string
		paths map[string][]string
	}{{"iamport.json", operations(docs.IAmport.Paths.Map())}, {"v3.json", operations(docs.V3.Paths.Map())}} {
		for path, methods := range doc.paths {
			for _, m := range methods {
				if !served[m+" "+path] {
					t.Errorf("%s documents %s %s, which Billkey does not serve", doc.name, m, path)
				}
			}
		}
	}
}

func operations(items map[string]*openapi3.PathItem) map[string][]string {
	out := map[string][]string{}
	for path, item := range items {
		for m := range item.Operations() {
			out[path] = append(out[path], m)
		}
	}
	return out
}

// A tour through every documented operation, success and error answers,
// with each response validated against the documents.
func TestLiveResponsesMatchDocuments(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b)
		h, validated := openapitest.Validate(t, e.App.Handler)
		srv := httptest.NewServer(h)
		defer srv.Close()
		c := &client{t: t, base: srv.URL}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		c.v1("POST", "/users/getToken", "-", map[string]string{"imp_key": e.Cred.ImpKey, "imp_secret": e.Cred.ImpSecret}, 200, &tok)
		c.token = tok.AccessToken
		c.v1("POST", "/users/getToken", "-", map[string]string{"imp_key": e.Cred.ImpKey, "imp_secret": "wrong"}, 401, nil)
		c.v1("GET", "/users/pg", "", nil, 200, nil)
		c.v1("GET", "/channels", "", nil, 200, nil)
		c.v1("POST", "/channels", "", map[string]any{"pg": "kcp", "mid": "T0099"}, 400, nil) // sandbox PGs come with every merchant
		c.v1("POST", "/channels/kcp.T0000/default", "", nil, 200, nil)
		c.v1("POST", "/channels/nice/default", "", nil, 200, nil)
		c.v1("DELETE", "/channels/nosuch.pg", "", nil, 404, nil)

		card := func(n string) map[string]any {
			return map[string]any{"card_number": n, "expiry": "2030-12", "birth": "800101", "pwd_2digit": "12", "customer_name": "홍길동"}
		}
		c.v1("POST", "/subscribe/customers/u1", "", card("4242424242424242"), 200, nil)
		c.v1("POST", "/subscribe/customers/u2", "", card("4000000000000341"), 200, nil)
		c.v1("POST", "/subscribe/customers/u3", "", card("4000000000000002"), 200, nil)
		c.v1("GET", "/subscribe/customers/u1", "", nil, 200, nil)
		c.v1("GET", "/subscribe/customers/nobody", "", nil, 404, nil)
		c.v1("GET", "/subscribe/customers?customer_uid[]=u1&customer_uid[]=u2", "", nil, 200, nil)
		c.v1("GET", "/subscribe/customers?customer_uid[]=u1&customer_uid[]=nobody", "", nil, 207, nil)

		var paid struct {
			ImpUID string `json:"imp_uid"`
		}
		c.v1("POST", "/subscribe/payments/again", "", map[string]any{"customer_uid": "u1", "merchant_uid": "o1", "amount": 8900, "name": "plan"}, 200, &paid)
		c.v1("POST", "/subscribe/payments/again", "", map[string]any{"customer_uid": "u1", "merchant_uid": "o1", "amount": 8900, "name": "plan"}, 200, nil)
		c.v1("POST", "/subscribe/payments/again", "", map[string]any{"customer_uid": "u2", "merchant_uid": "o2", "amount": 8900, "name": "plan"}, 200, nil)
		c.v1("POST", "/subscribe/payments/onetime", "", map[string]any{"merchant_uid": "o3", "amount": 1000, "card_number": "4242424242424242", "expiry": "2030-12"}, 200, nil)
		c.v1("GET", "/payments/"+paid.ImpUID, "", nil, 200, nil)
		c.v1("GET", "/payments/imp_000000000000", "", nil, 404, nil)
		c.v1("GET", "/payments?imp_uid[]="+paid.ImpUID+"&merchant_uid[]=o1", "", nil, 200, nil)
		c.v1("GET", "/payments?imp_uid[]="+paid.ImpUID+"&imp_uid[]=imp_000000000000", "", nil, 207, nil)
		c.v1("GET", "/payments/find/o1", "", nil, 200, nil)
		c.v1("GET", "/payments/find/o2/failed", "", nil, 200, nil)
		c.v1("GET", "/payments/findAll/o1", "", nil, 200, nil)
		c.v1("GET", "/payments/findAll/o1/paid", "", nil, 200, nil)
		c.v1("GET", "/payments/status/all?limit=5", "", nil, 200, nil)
		c.v1("GET", "/subscribe/customers/u1/payments", "", nil, 200, nil)
		c.v1("POST", "/payments/cancel", "", map[string]any{"merchant_uid": "o1", "amount": 900, "checksum": 8900, "reason": "partial"}, 200, nil)
		c.v1("POST", "/payments/cancel", "", map[string]any{"merchant_uid": "o1", "amount": 900, "checksum": 1}, 200, nil)
		c.v1("POST", "/payments/cancel", "", map[string]any{}, 400, nil)
		c.v1("POST", "/payments/prepare", "", map[string]any{"merchant_uid": "o9", "amount": 5000}, 200, nil)
		c.v1("PUT", "/payments/prepare", "", map[string]any{"merchant_uid": "o9", "amount": 6000}, 200, nil)
		c.v1("GET", "/payments/prepare/o9", "", nil, 200, nil)

		now := e.Clock.Now().Unix()
		c.v1("POST", "/subscribe/payments/schedule", "", map[string]any{"customer_uid": "u1", "schedules": []map[string]any{
			{"merchant_uid": "s1", "schedule_at": now + 3600, "amount": 1000, "name": "plan"},
			{"merchant_uid": "s2", "schedule_at": now + 7200, "amount": 1000, "name": "plan"},
			{"merchant_uid": "s3", "schedule_at": now + 9000, "amount": 1000, "name": "plan"}}}, 200, nil)
		c.v1("GET", "/subscribe/payments/schedule/s1", "", nil, 200, nil)
		c.v1("GET", "/subscribe/payments/schedule/none", "", nil, 404, nil)
		c.v1("PUT", "/subscribe/payments/schedule/s2", "", map[string]any{"schedule_at": now + 5400}, 200, nil)
		c.v1("POST", "/subscribe/payments/unschedule", "", map[string]any{"customer_uid": "u1", "merchant_uid": []string{"s3"}}, 200, nil)
		c.v1("POST", "/subscribe/payments/schedule/s3/reschedule", "", map[string]any{"schedule_at": now + 10000}, 200, nil)
		c.v1("POST", "/subscribe/payments/unschedule", "", map[string]any{"customer_uid": "u1", "merchant_uid": []string{"s3"}}, 200, nil)
		c.v1("POST", "/subscribe/payments/schedule/s3/retry", "", nil, 200, nil)
		c.v1("GET", "/sandbox/clock", "", nil, 200, nil)
		c.v1("POST", "/sandbox/clock/advance", "", map[string]any{"seconds": 3700}, 200, nil)
		c.v1("POST", "/users/getToken", "-", map[string]string{"imp_key": e.Cred.ImpKey, "imp_secret": e.Cred.ImpSecret}, 200, &tok)
		c.token = tok.AccessToken
		q := fmt.Sprintf("schedule_from=%d&schedule_to=%d", now, now+20000)
		c.v1("GET", "/subscribe/payments/schedule?"+q, "", nil, 200, nil)
		c.v1("GET", "/subscribe/payments/schedule/customers/u1?"+q, "", nil, 200, nil)
		c.v1("GET", "/subscribe/customers/u1/schedules?"+q, "", nil, 200, nil)

		var events []struct {
			ID string `json:"id"`
		}
		c.v1("GET", "/webhooks/events?limit=10", "", nil, 200, &events)
		if len(events) == 0 {
			t.Fatal("no webhook events to look at")
		}
		c.v1("GET", "/webhooks/events/"+events[0].ID, "", nil, 200, nil)
		c.v1("GET", "/webhooks/events/"+events[0].ID+"/attempts", "", nil, 200, nil)
		c.v1("POST", "/webhooks/events/"+events[0].ID+"/resend", "", nil, 200, nil)
		c.v1("POST", "/webhooks/resend-failed", "", nil, 200, nil)
		c.v1("GET", "/webhooks/secret", "", nil, 200, nil)
		c.v1("POST", "/webhooks/secret/rotate", "", map[string]any{"overlap_seconds": 60}, 200, nil)
		c.v1("PUT", "/webhooks/settings", "", map[string]any{"url": "https://shop.example.com/hook", "format": "json", "profile": "default"}, 200, nil)
		c.v1("GET", "/webhooks/settings", "", nil, 200, nil)
		c.v1("DELETE", "/subscribe/customers/u2", "", nil, 200, nil)
		c.v1("GET", "/payments/status/paid", "bad-token", nil, 401, nil)

		// v3, signed.
		sub := map[string]any{"invoice_id": "INV-1", "amount": 19.90, "currency": "USD", "country": "US", "description": "Premium",
			"payer":        map[string]any{"id": "P1", "email": "john@example.com", "first_name": "John", "last_name": "Smith"},
			"subscription": map[string]any{"start_date": apptest.Start.Format("2006-01-02"), "plan": "MONTHLY", "plan_unit": 3, "auto_renewal": true},
			"credit_card":  map[string]any{"holder_name": "John Smith", "card_number": "4242424242424242", "cvv": "123", "expiration_month": "12", "expiration_year": "30"}}
		var created map[string]any
		c.v3(e, "POST", "/v3/subscriptions", sub, 200, &created)
		id := int64(created["subscription_id"].(float64))
		c.v3(e, "GET", fmt.Sprintf("/v3/subscriptions/%d", id), nil, 200, nil)
		deps, err := e.App.Store.Deposits(t.Context(), e.Merchant.ID, id)
		if err != nil || len(deps) == 0 {
			t.Fatalf("deposits: %v %v", deps, err)
		}
		c.v3(e, "GET", fmt.Sprintf("/v3/deposits/%d", deps[0].ID), nil, 200, nil)
		c.v3(e, "GET", "/v3/deposits/999999", nil, 404, nil)
		c.v3(e, "DELETE", fmt.Sprintf("/v3/subscriptions/%d", id), nil, 200, nil)
		c.v3(e, "DELETE", fmt.Sprintf("/v3/subscriptions/%d", id), nil, 421, nil)
		delete(sub, "credit_card")
		sub["invoice_id"], sub["success_url"] = "INV-2", "https://shop.example.com/ok"
		c.v3(e, "POST", "/v3/subscriptions", sub, 200, &created)
		redirect, _ := created["redirect_url"].(string)
		if u, ok := strings.CutPrefix(redirect, "http://"); ok {
			_, path, _ := strings.Cut(u, "/")
			c.raw("GET", "/"+path, 200)
		}
		c.raw("GET", "/v3/checkout-assets/oneshot.js", 200)
		unsigned := c.raw("GET", fmt.Sprintf("/v3/subscriptions/%d", id), 400)
		if !strings.Contains(unsigned, "MISSING_REQUIRED_HEADER") {
			t.Errorf("unsigned request: %s", unsigned)
		}
		if n := validated(); n < 60 {
			t.Errorf("only %d responses validated", n)
		}
	})
}

type client struct {
	t     *testing.T
	base  string
	token string
}

// v1 sends a JSON request and decodes the envelope's response into out.
func (c *client) v1(method, path, token string, body any, wantStatus int, out any) {
	c.t.Helper()
	switch token {
	case "":
		token = c.token
	case "-":
		token = ""
	}
	var r io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		r = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		c.t.Fatalf("%s %s: HTTP %d, want %d: %s", method, path, resp.StatusCode, wantStatus, raw)
	}
	if out != nil {
		var env struct {
			Response json.RawMessage `json:"response"`
		}
		if err := json.Unmarshal(raw, &env); err != nil || json.Unmarshal(env.Response, out) != nil {
			c.t.Fatalf("%s %s: %s", method, path, raw)
		}
	}
}

func (c *client) v3(e *apptest.Env, method, path string, body any, wantStatus int, out any) {
	c.t.Helper()
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, c.base+path, bytes.NewReader(raw))
	xDate := time.Now().UTC().Format("2006-01-02T15:04:05.000000000Z") // unique: signatures are single-use
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Date", xDate)
	req.Header.Set("X-Login", e.Cred.XLogin)
	req.Header.Set("Authorization", d24.Sign(e.Cred.APISignature, xDate, e.Cred.XLogin, raw))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		c.t.Fatalf("%s %s: HTTP %d, want %d: %s", method, path, resp.StatusCode, wantStatus, got)
	}
	if out != nil {
		if err := json.Unmarshal(got, out); err != nil {
			c.t.Fatalf("%s %s: %s", method, path, got)
		}
	}
}

func (c *client) raw(method, path string, wantStatus int) string {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		c.t.Fatalf("%s %s: HTTP %d, want %d: %s", method, path, resp.StatusCode, wantStatus, got)
	}
	return string(got)
}

func TestServesDocumentsAndReferencePage(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, testenv.SQLite(t))
	get := func(path string) (*http.Response, string) {
		resp, err := http.Get(e.Server.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	for _, name := range []string{"iamport", "v3"} {
		resp, body := get("/openapi/" + name + ".json")
		var doc struct {
			OpenAPI string `json:"openapi"`
		}
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &doc) != nil || doc.OpenAPI != "3.1.0" {
			t.Errorf("/openapi/%s.json: %d %.80s", name, resp.StatusCode, body)
		}
	}
	resp, page := get("/openapi/")
	csp := resp.Header.Get("Content-Security-Policy")
	if resp.StatusCode != 200 || !strings.Contains(csp, "script-src 'self'") || strings.Contains(page, "<script>") {
		t.Fatalf("reference page: %d CSP %q", resp.StatusCode, csp)
	}
	// Every asset the page loads is embedded (no CDN) and served with its type.
	for _, asset := range []struct{ path, ctype string }{
		{"/openapi/assets/swagger-ui/swagger-ui-bundle.js", "javascript"},
		{"/openapi/assets/swagger-ui/swagger-ui.css", "text/css"},
		{"/openapi/assets/reference.js", "javascript"},
		{"/openapi/assets/reference.css", "text/css"},
	} {
		if !strings.Contains(page, asset.path) {
			t.Errorf("page does not load %s", asset.path)
		}
		resp, body := get(asset.path)
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), asset.ctype) || len(body) == 0 {
			t.Errorf("%s: %d %s", asset.path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	if strings.Contains(page, "//cdn") || strings.Contains(page, "https://") {
		t.Error("the reference page loads something from outside Billkey")
	}
}
