// Package deploy holds what operators deploy beside the binary: the Grafana
// dashboard and the Prometheus alert rules. The test keeps them honest.
package deploy_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/testenv"
)

var metricName = regexp.MustCompile(`\bbillkey_[a-z0-9_]+`)

// Every metric the dashboard and the alert rules name must exist on a
// running Billkey: a renamed metric would otherwise leave an empty panel or
// an alert that can never fire.
func TestDashboardAndAlertsNameExistingMetrics(t *testing.T) {
	named := map[string][]string{} // metric → where
	for _, e := range dashboardExprs(t, "grafana/billkey.json") {
		for _, m := range metricName.FindAllString(e, -1) {
			named[m] = append(named[m], "grafana/billkey.json")
		}
	}
	for _, r := range alertRules(t, "prometheus/alerts.yaml") {
		if r.Alert == "" || r.Expr == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
			t.Errorf("alert rule %+v lacks a name, expr, severity or summary", r)
		}
		for _, m := range metricName.FindAllString(r.Expr, -1) {
			named[m] = append(named[m], "alert "+r.Alert)
		}
	}
	for _, want := range []string{"billkey_charges_total", "billkey_reconciler_oldest_seconds", "billkey_webhook_deliveries_total", "billkey_schedule_lateness_seconds_bucket"} {
		if _, ok := named[want]; !ok {
			t.Errorf("the dashboard and alerts do not use %s", want)
		}
	}

	exposed := scrapeAfterTraffic(t, named)
	var missing []string
	for m, where := range named {
		if !exposed[m] {
			missing = append(missing, m+" (in "+strings.Join(where, ", ")+")")
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("not exposed by a running Billkey: %s", m)
	}
}

func dashboardExprs(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				if s, ok := c.(string); ok && (k == "expr" || k == "definition") {
					out = append(out, s)
				}
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(doc)
	if len(out) < 10 {
		t.Fatalf("%s: only %d queries found", path, len(out))
	}
	return out
}

type rule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func alertRules(t *testing.T, path string) []rule {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []rule `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []rule
	for _, g := range doc.Groups {
		out = append(out, g.Rules...)
	}
	if len(out) < 4 {
		t.Fatalf("%s: %d rules", path, len(out))
	}
	return out
}

// scrapeAfterTraffic runs a Billkey through every kind of work that the
// labelled metrics count (a vector shows up only once something is
// counted), then scrapes /metrics over HTTP and returns the series names.
func scrapeAfterTraffic(t *testing.T, want map[string][]string) map[string]bool {
	t.Helper()
	e := apptest.New(t, testenv.SQLite(t))
	e.App.Start()
	tok := e.Token(e.Cred)
	card := func(number string) map[string]string {
		return map[string]string{"card_number": number, "expiry": "2030-12", "birth": "800101", "pwd_2digit": "12"}
	}
	var env struct {
		Code     int             `json:"code"`
		Message  string          `json:"message"`
		Response json.RawMessage `json:"response"`
	}
	mustOK := func(method, path string, body any) {
		t.Helper()
		if st := e.Do(method, path, tok, body, &env); st != 200 || env.Code != 0 {
			t.Fatalf("%s %s: HTTP %d code %d %s", method, path, st, env.Code, env.Message)
		}
	}
	mustOK("POST", "/subscribe/customers/good", card("4242424242424242"))
	mustOK("POST", "/subscribe/customers/declines", card("4000000000000341"))
	mustOK("POST", "/subscribe/payments/again", map[string]any{"customer_uid": "good", "merchant_uid": "o1", "amount": 1000, "name": "plan"})
	mustOK("POST", "/subscribe/payments/again", map[string]any{"customer_uid": "declines", "merchant_uid": "o2", "amount": 1000, "name": "plan"})
	mustOK("POST", "/payments/cancel", map[string]any{"merchant_uid": "o1", "amount": 300, "reason": "partial"})
	at := e.Clock.Now().Add(time.Hour).Unix()
	mustOK("POST", "/subscribe/payments/schedule", map[string]any{"customer_uid": "good",
		"schedules": []map[string]any{{"merchant_uid": "o3", "schedule_at": at, "amount": 1000, "name": "plan"}}})
	mustOK("POST", "/sandbox/clock/advance", map[string]any{"seconds": 3600})
	// An unsigned v3 request is refused, and counted like any other.
	if st := e.Do("GET", "/v3/subscriptions/1", "", nil, nil); st != 400 {
		t.Fatalf("unsigned v3 request: HTTP %d", st)
	}

	// The webhook worker and the scheduler run in the background: wait until
	// everything named has been counted (or give up and report what is
	// missing) rather than for a time.
	deadline := time.Now().Add(30 * time.Second)
	for {
		exposed := scrape(t, e.Server.URL+"/metrics")
		all := true
		for m := range want {
			all = all && exposed[m]
		}
		if all || time.Now().After(deadline) {
			return exposed
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func scrape(t *testing.T, url string) map[string]bool {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, raw)
	}
	out := map[string]bool{}
	for _, line := range strings.Split(string(raw), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		out[name] = true
	}
	return out
}
