// Package d24 holds the README's v3 quick-start snippets as runnable files:
// signing in curl+openssl, Node, Python and Go, and a deposit webhook
// handler. The test runs each against a live Billkey (which only answers 200
// to a valid signature) and checks that the README shows them verbatim.
package d24_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/api/v3/d24"
	"github.com/billkey/billkey/internal/app"
	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/testenv"
)

// need finds an interpreter; without it the snippet is skipped, except
// under CI where .ci/run installs them.
func need(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			if testenv.InCI() {
				t.Fatalf("%s is required under CI=true (.ci/run installs it)", n)
			}
			t.Skipf("SKIP: %s not installed", n)
		}
	}
}

func TestQuickStartSnippetsSignValidRequests(t *testing.T) {
	// The clock starts now: X-Date is checked against the wall clock, and a
	// subscription without start_date charges today.
	e := apptest.New(t, testenv.SQLite(t), func(c *app.Config) {
		c.Clock = clock.NewTest(time.Now())
		c.WebhookAllowPrivate = true
	})
	e.App.Start()
	env := append(os.Environ(), "BILLKEY_URL="+e.Server.URL, "X_LOGIN="+e.Cred.XLogin, "API_SIGNATURE="+e.Cred.APISignature)

	// The webhook handler receives every deposit notification of the
	// subscriptions created below (the merchant's default URL).
	var hook *bufio.Scanner
	if _, err := exec.LookPath("node"); err == nil {
		tok := e.Token(e.Cred)
		var secrets struct {
			Response []struct {
				Secret string `json:"secret"`
			} `json:"response"`
		}
		e.Do("GET", "/webhooks/secret", tok, nil, &secrets)
		port := freePort(t)
		cmd := exec.Command("node", "webhook.js")
		cmd.Env = append(env, "PORT="+port, "WEBHOOK_SECRET="+secrets.Response[0].Secret)
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		hook = bufio.NewScanner(out)
		if !hook.Scan() || !strings.HasPrefix(hook.Text(), "listening") {
			t.Fatalf("webhook.js did not start: %q", hook.Text())
		}
		if st := e.Do("PUT", "/webhooks/settings", tok, map[string]string{"url": "http://127.0.0.1:" + port + "/"}, nil); st != 200 {
			t.Fatalf("webhook settings: %d", st)
		}
	}

	created := 0
	for _, s := range []struct {
		name string
		cmd  []string
		deps []string
	}{
		{"curl+openssl", []string{"bash", "sign.sh"}, []string{"bash", "curl", "openssl"}},
		{"node", []string{"node", "sign.js"}, []string{"node"}},
		{"python", []string{"python3", "sign.py"}, []string{"python3"}},
		{"go", []string{"go", "run", "./gosign"}, []string{"go"}},
	} {
		t.Run(s.name, func(t *testing.T) {
			need(t, s.deps...)
			cmd := exec.Command(s.cmd[0], s.cmd[1:]...)
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %v\n%s", s.cmd, err, out)
			}
			// Billkey answers 200 {"subscription_id": N} only to a valid signature.
			m := regexp.MustCompile(`(?s)^(\{.*\})\s+200$`).FindStringSubmatch(strings.TrimSpace(string(out)))
			var res struct {
				SubscriptionID int64 `json:"subscription_id"`
			}
			if m == nil || json.Unmarshal([]byte(m[1]), &res) != nil || res.SubscriptionID == 0 {
				t.Fatalf("%v printed %q, want a created subscription and 200", s.cmd, out)
			}
			created++
		})
	}

	t.Run("webhook handler", func(t *testing.T) {
		need(t, "node")
		if created == 0 {
			t.Skip("no subscription created")
		}
		// Each create charged its first month: one COMPLETED deposit
		// notification each, verified and looked up by webhook.js.
		lines := make(chan string)
		go func() {
			for hook.Scan() {
				lines <- hook.Text()
			}
			close(lines)
		}()
		seen := 0
		timeout := time.After(60 * time.Second)
		for seen < created {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatal("webhook.js exited")
				}
				if !regexp.MustCompile(`^deposit \d+ of subscription \d+: COMPLETED$`).MatchString(l) {
					t.Fatalf("webhook.js: %q", l)
				}
				seen++
			case <-timeout:
				t.Fatalf("%d of %d deposit notifications handled", seen, created)
			}
		}
	})
}

// The README shows the snippets exactly as tested.
func TestReadmeShowsTheSnippets(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"sign.sh", "sign.js", "sign.py", "gosign/main.go", "webhook.js"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(readme), strings.TrimSpace(string(b))) {
			t.Errorf("README.md does not show examples/d24/%s as it is", f)
		}
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// The sandbox card 4000-0000-0000-3220 issues a key whose first charge
// soft-declines: a v3 subscription on it starts with a REJECTED deposit and
// the dunning retry a day later completes the period (README, test cards).
func TestSoftDeclineCardRecoversThroughDunning(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, testenv.SQLite(t))
	body, _ := json.Marshal(map[string]any{
		"invoice_id": "INV-DUN", "amount": 19.90, "currency": "USD", "country": "US", "description": "Premium",
		"payer":        map[string]any{"id": "u1", "email": "jane@example.com", "first_name": "Jane", "last_name": "Doe"},
		"subscription": map[string]any{"plan": "MONTHLY", "plan_unit": 12, "auto_renewal": true},
		"credit_card": map[string]any{"holder_name": "Jane Doe", "card_number": "4000000000003220", "cvv": "123",
			"expiration_month": "12", "expiration_year": "30"},
	})
	signed := func(method, path string, body []byte) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, e.Server.URL+path, bytes.NewReader(body))
		xDate := time.Now().UTC().Format("2006-01-02T15:04:05.000000000Z")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Date", xDate)
		req.Header.Set("X-Login", e.Cred.XLogin)
		req.Header.Set("Authorization", d24.Sign(e.Cred.APISignature, xDate, e.Cred.XLogin, body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, out)
		}
		return out
	}
	id := int64(signed("POST", "/v3/subscriptions", body)["subscription_id"].(float64))
	status := func() (string, []string) {
		sub := signed("GET", fmt.Sprintf("/v3/subscriptions/%d", id), nil)
		deps, err := e.App.Store.Deposits(t.Context(), e.Merchant.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		var ds []string
		for _, d := range deps {
			ds = append(ds, string(d.Status))
		}
		return sub["status"].(string), ds
	}
	if st, ds := status(); st != "PENDING" || strings.Join(ds, ",") != "REJECTED" {
		t.Fatalf("after the first charge: %s %v", st, ds)
	}
	if st := e.Do("POST", "/sandbox/clock/advance", e.Token(e.Cred), map[string]any{"seconds": 25 * 3600}, nil); st != 200 {
		t.Fatalf("advance: %d", st)
	}
	if st, ds := status(); st != "ACTIVE" || strings.Join(ds, ",") != "REJECTED,COMPLETED" {
		t.Fatalf("after the dunning retry: %s %v", st, ds)
	}
}
