package adversarial_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/app"
	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/httplimit"
	"github.com/billkey/billkey/internal/testenv"
)

// TestSlowClients runs Billkey's own server (App.Serve) with short limits
// and lets clients trickle their headers and bodies one byte at a time from
// one address: beyond the per-client cap connections are closed at
// accept, the rest are cut off by the header and request deadlines, and the
// server holds no connection afterwards, while a normal client is served.
func TestSlowClients(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		const perClient, clients = 10, 60
		e := apptest.New(t, b, func(c *app.Config) {
			c.HTTP = httplimit.Limits{ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: 600 * time.Millisecond, PerClient: perClient}
		})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- e.App.Serve(ctx, ln) }()
		t.Cleanup(func() { cancel(); <-served })
		addr := ln.Addr().String()

		stop := make(chan struct{})
		defer close(stop)
		closed := make(chan struct{}, clients)
		for i := range clients {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			msg := "POST /users/getToken HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 5000)
			if i%2 == 1 {
				// Headers complete, then a body that never finishes.
				head := "POST /users/getToken HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
				c.Write([]byte(head))
				msg = `{"imp_key":"` + strings.Repeat("k", 4990)
			}
			go func() {
				tick := time.NewTicker(20 * time.Millisecond)
				defer tick.Stop()
				for j := 0; j < len(msg); j++ {
					select {
					case <-stop:
						return
					case <-tick.C:
					}
					if _, err := c.Write([]byte{msg[j]}); err != nil {
						return
					}
				}
			}()
			go func() {
				c.SetReadDeadline(time.Now().Add(30 * time.Second)) // a failure guard, not a wait
				io.Copy(io.Discard, c)
				closed <- struct{}{}
			}()
		}
		for range clients {
			<-closed
		}
		// The scrape's own connection is the one left open.
		metrics := waitMetric(t, addr, "billkey_http_connections_open", "1")
		if !strings.Contains(metrics, fmt.Sprintf("billkey_http_connections_refused_total %d", clients-perClient)) {
			t.Errorf("refused count: %s", grepLines(metrics, "billkey_http_connections"))
		}
		r := send(t, "http://"+addr, "POST", "/users/getToken", http.Header{"Content-Type": {"application/json"}},
			mustJSON(map[string]string{"imp_key": e.Cred.ImpKey, "imp_secret": e.Cred.ImpSecret}))
		if r.status != 200 {
			t.Fatalf("a normal client after the slow ones: %d %s", r.status, r.raw)
		}
		t.Logf("%s: %d trickling connections from one address: %d refused at accept, %d cut off by deadlines, 0 left open",
			b.Name, clients, clients-perClient, perClient)
	})
}

// waitMetric polls /metrics until name has value (the server closes
// connections asynchronously) and returns the exposition.
func waitMetric(t *testing.T, addr, name, value string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), name+" "+value+"\n") {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never reached %s: %s", name, value, grepLines(string(b), name))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func grepLines(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "; ")
}

// TestReplayedSignatures captures one signed request for every signed v3
// route and replays it, unchanged and on another method, against both of
// two nodes sharing the store: every replay is refused (101) and nothing
// changes.
func TestReplayedSignatures(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b)
		_, node2 := e.Node()
		tok := e.Token(e.Cred)
		issueKey(t, e, tok, "cust_r")
		body := mustJSON(map[string]any{"invoice_id": "INV-R", "amount": 10, "currency": "USD", "country": "US", "customer_uid": "cust_r",
			"subscription": map[string]any{"start_date": apptest.Start.Format("2006-01-02"), "plan": "MONTHLY"}})
		r := send(t, e.Server.URL, "POST", "/v3/subscriptions", signD24(e, e.Cred, nil, body), body)
		subID, _ := r.json["subscription_id"].(float64)
		if r.status != 200 || subID == 0 {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		deps, _ := e.App.Store.Deposits(t.Context(), e.Merchant.ID, int64(subID))
		sub := fmt.Sprintf("/v3/subscriptions/%d", int64(subID))
		captured := []struct {
			method, path string
			body         []byte
		}{
			{"GET", sub, nil},
			{"GET", fmt.Sprintf("/v3/deposits/%d", deps[0].ID), nil},
			{"POST", "/v3/subscriptions", mustJSON(map[string]any{"invoice_id": "INV-R2", "amount": 10, "currency": "USD", "country": "US",
				"customer_uid": "cust_r", "subscription": map[string]any{"start_date": apptest.Start.Format("2006-01-02"), "plan": "MONTHLY"}})},
		}
		ledger := len(e.App.Sim.Ledger())
		var mu sync.Mutex
		replays, refused := 0, 0
		for _, c := range captured {
			hdr := signD24(e, e.Cred, nil, c.body)
			if r := send(t, e.Server.URL, c.method, c.path, hdr, c.body); r.status != 200 {
				t.Fatalf("original %s %s: %d %s", c.method, c.path, r.status, r.raw)
			}
			ledger = len(e.App.Sim.Ledger())
			targets := []struct{ method, path string }{{c.method, c.path}}
			if c.body == nil {
				// The signature does not cover method or path: an empty-body
				// GET is also a well-signed DELETE of any subscription.
				targets = append(targets, struct{ method, path string }{"DELETE", sub})
			}
			var wg sync.WaitGroup
			for _, base := range []string{e.Server.URL, node2.URL} {
				for _, tg := range targets {
					for range 3 {
						wg.Add(1)
						go func() {
							defer wg.Done()
							r := send(t, base, tg.method, tg.path, hdr.Clone(), c.body)
							mu.Lock()
							defer mu.Unlock()
							replays++
							if r.status == 400 && r.json["code"] == 101.0 {
								refused++
							} else {
								t.Errorf("replay %s %s: %d %s", tg.method, tg.path, r.status, r.raw)
							}
						}()
					}
				}
			}
			wg.Wait()
		}
		if r := send(t, e.Server.URL, "GET", sub, signD24(e, e.Cred, nil, nil), nil); r.status != 200 || r.json["status"] == "CANCELLED" {
			t.Errorf("subscription after the replays: %d %s", r.status, r.raw)
		}
		if n := len(e.App.Sim.Ledger()); n != ledger {
			t.Errorf("replays charged: ledger %d → %d", ledger, n)
		}
		t.Logf("%s: %d replays of %d captured requests over 2 nodes, concurrently: %d refused", b.Name, replays, len(captured), refused)
	})
}
