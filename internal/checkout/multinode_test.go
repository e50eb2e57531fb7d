package checkout_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/checkout"
	"github.com/billkey/billkey/internal/testenv"
)

// roundRobin is a load balancer without session affinity: each request
// goes to the next node. It keeps the Host the browser sent, as a proxy
// does, and counts the payment-window requests each node served.
type roundRobin struct {
	nodes  []*url.URL
	next   atomic.Int64
	mu     sync.Mutex
	served map[string][]string // node → "METHOD /v1/checkout/…" served there
}

func (rr *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := int(rr.next.Add(1)-1) % len(rr.nodes)
	target := rr.nodes[i]
	if strings.HasPrefix(r.URL.Path, "/v1/checkout/") {
		rr.mu.Lock()
		rr.served[target.Host] = append(rr.served[target.Host], r.Method+" "+r.URL.Path)
		rr.mu.Unlock()
	}
	(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Host = pr.In.Host
	}}).ServeHTTP(w, r)
}

// TestBrowserWindowAcrossNodes runs a payment window in Chromium through a
// round-robin balancer over two nodes on one Postgres: session creation,
// page, submission and result land on alternating nodes and the window
// works as on one. A replayed submission, sent to each node directly with
// the window's CSRF token, gets the first outcome and charges nothing more;
// a wrong token is refused on either node.
func TestBrowserWindowAcrossNodes(t *testing.T) {
	pgdb, ok := testenv.Postgres(t, false)
	if !ok {
		t.Skip("needs Postgres: windows are shared by nodes through it")
	}
	ctx := browserCtx(t)
	e := apptest.New(t, pgdb)
	_, node2 := e.Node()
	tok := e.Token(e.Cred)
	var nodes []*url.URL
	for _, s := range []string{e.Server.URL, node2.URL} {
		u, _ := url.Parse(s)
		nodes = append(nodes, u)
	}
	rr := &roundRobin{nodes: nodes, served: map[string][]string{}}
	lb := httptest.NewServer(rr)
	t.Cleanup(lb.Close)

	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><meta charset="utf-8"><title>Shop</title>
<script src="%s/v1/iamport.js" integrity="%s" crossorigin="anonymous"></script>
<script>IMP.init(%q);
window.pay = function (params) { IMP.request_pay(params, function (rsp) { window.__rsp = rsp; }); };</script>
</head><body><h1>Shop on two Billkey nodes</h1></body></html>`, lb.URL, checkout.SDKIntegrity(), e.Cred.MerchantCode)
	}))
	t.Cleanup(shop.Close)

	openPay(t, ctx, shop.URL, `{pg: "kicc", pay_method: "card", merchant_uid: "two_nodes_1", customer_uid: "user_2n",
		amount: 1000, name: "월간 이용권"}`)
	in := frame(t, ctx, "#card_number")
	fillCard(t, ctx, in, "4242424242424242")
	shot(t, ctx, "1-filled")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#submit"), chromedp.FromNode(in))); err != nil {
		t.Fatal(err)
	}
	res := callbackRsp(t, ctx)
	shot(t, ctx, "2-after-callback")
	if !res.Success || str(res.Status) != "paid" || res.ImpUID == nil || str(res.CustomerUID) != "user_2n" {
		t.Fatalf("rsp %+v", res)
	}
	rr.mu.Lock()
	for _, n := range nodes {
		if len(rr.served[n.Host]) == 0 {
			t.Errorf("node %s served no window request: %v", n.Host, rr.served)
		}
	}
	t.Logf("window requests per node: %v", rr.served)
	rr.mu.Unlock()

	// Replays of the submission, straight to each node.
	pgRequests := e.App.Sim.Stats().Requests
	var sid, csrf string
	if err := e.App.Store.DB().QueryRow(`SELECT id, csrf FROM checkout_sessions`).Scan(&sid, &csrf); err != nil {
		t.Fatal(err)
	}
	form := url.Values{"csrf_token": {csrf}, "card_number": {"4242424242424242"}, "expiry": {"12/30"}, "birth": {"900101"}, "pwd_2digit": {"12"}}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, n := range nodes {
		resp, err := noRedirect.PostForm(n.String()+"/v1/checkout/"+sid, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("replayed submission on %s: HTTP %d, want the first outcome", n.Host, resp.StatusCode)
		}
		bad := url.Values{"csrf_token": {"forged"}, "card_number": {"4242424242424242"}}
		if resp, err := noRedirect.PostForm(n.String()+"/v1/checkout/"+sid, bad); err != nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("forged CSRF token on %s: %v %v", n.Host, resp.StatusCode, err)
		} else {
			resp.Body.Close()
		}
	}
	var attempts int
	if err := e.App.Store.DB().QueryRow(`SELECT COUNT(*) FROM payments WHERE merchant_uid = 'two_nodes_1'`).Scan(&attempts); err != nil || attempts != 1 {
		t.Fatalf("%d payment attempts for the window's order (%v), want 1", attempts, err)
	}
	if after := e.App.Sim.Stats().Requests; after != pgRequests {
		t.Fatalf("the replays reached the PG: %d requests before, %d after", pgRequests, after)
	}
	var pay paymentView
	if e.Do("GET", "/payments/"+*res.ImpUID, tok, nil, &pay); pay.Response.Status != "paid" {
		t.Fatalf("payment: %+v", pay.Response)
	}
}

// TestWindowOrphanedByDeadNode: a node claimed the window's submission and
// died before answering. Other nodes wait while its lease runs; after it
// the window ends as PAYMENT_PENDING (the charge may have reached the PG),
// once, and later submissions get that outcome without reaching the PG.
func TestWindowOrphanedByDeadNode(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b)
		_, node2 := e.Node()
		_, out := openWindow(t, e.Server.URL, merchantOrigin, e.Cred.MerchantCode, "popup", map[string]any{
			"pg": "kicc", "pay_method": "card", "merchant_uid": "orphan_1", "customer_uid": "cust_o", "amount": 1000, "name": "plan",
		})
		_, _, csrf := windowPage(t, out.URL)
		// The dead node's claim, exactly as a submission makes it.
		claimed, err := e.App.Store.ClaimCheckoutSession(t.Context(), out.SessionID, e.Clock.Now(), 5, 3*time.Minute)
		if err != nil || !claimed {
			t.Fatalf("claim: %v %v", claimed, err)
		}
		pgRequests := e.App.Sim.Stats().Requests
		e.Clock.Advance(3*time.Minute + time.Second)
		page := node2.URL + "/v1/checkout/" + out.SessionID
		st, res, _, _ := submit(t, page, cardForm(csrf, "4242424242424242"), "")
		if st != 200 || res == nil || res.Success || str(res.ErrorCode) != checkout.CodePending {
			t.Fatalf("after the lease: HTTP %d rsp %+v", st, res)
		}
		if st, again, _, _ := submit(t, out.URL, cardForm(csrf, "4242424242424242"), ""); st != 200 || again == nil || str(again.ErrorCode) != checkout.CodePending {
			t.Fatalf("second submission: HTTP %d rsp %+v", st, again)
		}
		if after := e.App.Sim.Stats().Requests; after != pgRequests {
			t.Fatalf("the orphaned window reached the PG: %d requests before, %d after", pgRequests, after)
		}
	})
}
