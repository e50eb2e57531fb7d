package config_test

import (
	"flag"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/config"
)

func load(t *testing.T, scope config.Scope, args []string, env map[string]string) (config.Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return config.Load(fs, scope, args, func(k string) string { return env[k] })
}

func TestLoadDefaultsFlagsAndEnvironment(t *testing.T) {
	all := config.Log | config.DB | config.Serve
	c, err := load(t, all, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DatabaseURL != "billkey.db" || c.LogFormat != "text" || !c.Demo || c.WebhookAllowPrivate != "auto" {
		t.Fatalf("defaults: %+v", c)
	}
	c, err = load(t, all, []string{"--addr", "0.0.0.0:9000", "--test-clock"}, map[string]string{
		"BILLKEY_ADDR": "127.0.0.1:1", "BILLKEY_PG_TIMEOUT": "3s", "BILLKEY_DEMO": "off", "BILLKEY_LOG_FORMAT": "json",
		"BILLKEY_CHECKOUT_ORIGINS": "https://a.example, https://*.b.example", "BILLKEY_SCHEDULER_WORKERS": "8",
		"BILLKEY_WEBHOOK_CONCURRENCY": "16", "BILLKEY_DATABASE_URL": "postgres://u@db:5432/billkey",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "0.0.0.0:9000" { // the flag wins over the environment
		t.Errorf("addr %q", c.Addr)
	}
	if !c.TestClock || c.PGTimeout != 3*time.Second || c.Demo || c.LogFormat != "json" || c.SchedulerWorkers != 8 ||
		c.WebhookConcurrency != 16 || len(c.CheckoutOrigins) != 2 || c.AllowPrivateWebhooks() {
		t.Errorf("loaded %+v", c)
	}
}

// Every bad value is caught at start, naming where it came from.
func TestLoadRejectsBadValuesNamingTheVariable(t *testing.T) {
	all := config.Log | config.DB | config.Serve | config.Links
	cases := []struct {
		env  map[string]string
		args []string
		want string
	}{
		{env: map[string]string{"BILLKEY_LOG_LEVEL": "loud"}, want: `BILLKEY_LOG_LEVEL="loud"`},
		{args: []string{"--log-level", "loud"}, want: `--log-level="loud"`},
		{env: map[string]string{"BILLKEY_LOG_FORMAT": "xml"}, want: "BILLKEY_LOG_FORMAT"},
		{env: map[string]string{"BILLKEY_DATABASE_URL": "mysql://u@h/db"}, want: `unknown database scheme "mysql"`},
		{env: map[string]string{"BILLKEY_DATABASE_URL": "postgres://"}, want: "BILLKEY_DATABASE_URL"},
		{env: map[string]string{"BILLKEY_PG_URL": "ftp://x"}, want: "BILLKEY_PG_URL"},
		{env: map[string]string{"BILLKEY_PG_URL": "localhost:8090"}, want: "BILLKEY_PG_URL"},
		{env: map[string]string{"BILLKEY_ADDR": "8080"}, want: "BILLKEY_ADDR"},
		{env: map[string]string{"BILLKEY_METRICS_ADDR": "x:99999"}, want: "BILLKEY_METRICS_ADDR"},
		{env: map[string]string{"BILLKEY_PG_TIMEOUT": "10"}, want: "BILLKEY_PG_TIMEOUT"},
		{env: map[string]string{"BILLKEY_RECONCILE_INTERVAL": "-1s"}, want: "BILLKEY_RECONCILE_INTERVAL"},
		{env: map[string]string{"BILLKEY_SCHEDULER_LEASE": "soon"}, want: "BILLKEY_SCHEDULER_LEASE"},
		{env: map[string]string{"BILLKEY_SCHEDULER_WORKERS": "0"}, want: "BILLKEY_SCHEDULER_WORKERS"},
		{env: map[string]string{"BILLKEY_PG_MAX_CONNS": "many"}, want: "BILLKEY_PG_MAX_CONNS"},
		{env: map[string]string{"BILLKEY_WEBHOOK_ALLOW_PRIVATE": "yes"}, want: "BILLKEY_WEBHOOK_ALLOW_PRIVATE"},
		{env: map[string]string{"BILLKEY_WEBHOOK_CONCURRENCY": "0"}, want: "BILLKEY_WEBHOOK_CONCURRENCY"},
		{env: map[string]string{"BILLKEY_DEMO": "maybe"}, want: "BILLKEY_DEMO"},
		{env: map[string]string{"BILLKEY_CHECKOUT_ORIGINS": "shop.example.com"}, want: "BILLKEY_CHECKOUT_ORIGINS"},
		{env: map[string]string{"BILLKEY_BASE_URL": "console.example"}, want: "BILLKEY_BASE_URL"},
		{env: map[string]string{"BILLKEY_MAX_CONNS_PER_CLIENT": "lots"}, want: "BILLKEY_MAX_CONNS_PER_CLIENT"},
	}
	for _, c := range cases {
		_, err := load(t, all, c.args, c.env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v: error %v, want one naming %s", c.env, c.args, err, c.want)
		}
	}
	// Several bad values are all reported at once.
	_, err := load(t, all, nil, map[string]string{"BILLKEY_LOG_LEVEL": "loud", "BILLKEY_PG_TIMEOUT": "x"})
	if err == nil || !strings.Contains(err.Error(), "BILLKEY_LOG_LEVEL") || !strings.Contains(err.Error(), "BILLKEY_PG_TIMEOUT") {
		t.Errorf("two bad values: %v", err)
	}
}

// A setting outside a command's scope is neither a flag nor read.
func TestScopes(t *testing.T) {
	if _, err := load(t, config.Log|config.DB, []string{"--addr", "x:1"}, nil); err == nil {
		t.Fatal("--addr accepted by a command that does not serve")
	}
	if _, err := load(t, config.Log|config.DB, nil, map[string]string{"BILLKEY_PG_TIMEOUT": "x"}); err != nil {
		t.Fatalf("a serve-only variable was validated for another command: %v", err)
	}
}

// The README's configuration table lists exactly the settings there are,
// with the same flags.
func TestREADMEConfigurationTable(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n## Configuration\n")
	if !ok {
		t.Fatal("README has no Configuration section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	row := regexp.MustCompile("(?m)^\\| (`--[a-z-]+`|—) \\| (`BILLKEY_[A-Z0-9_]+`|—) \\|")
	var readme, code []string
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		readme = append(readme, strings.Trim(m[1], "`")+" "+strings.Trim(m[2], "`"))
	}
	for _, v := range config.Vars {
		f, e := "—", "—"
		if v.Flag != "" {
			f = "--" + v.Flag
		}
		if v.Env != "" {
			e = v.Env
		}
		code = append(code, f+" "+e)
	}
	slices.Sort(readme)
	slices.Sort(code)
	if !slices.Equal(readme, code) {
		t.Errorf("README configuration table:\n  %s\nsettings in internal/config:\n  %s", strings.Join(readme, "\n  "), strings.Join(code, "\n  "))
	}
}
