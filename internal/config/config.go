// Package config is Billkey's configuration: every setting, its flag and
// environment variable, its default and its validation, read once by Load.
// Nothing else reads the environment; the command line and the README's
// configuration table are generated from / checked against Vars.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/billkey/billkey/internal/merchant"
	"github.com/billkey/billkey/internal/store"
)

// Scope says which commands a setting applies to.
type Scope uint8

const (
	// Log settings apply to every command that logs.
	Log Scope = 1 << iota
	// DB settings apply to every command that opens the database.
	DB
	// Serve settings apply to `billkey serve` only.
	Serve
	// Links settings apply to commands that print console links.
	Links
)

// Config is every setting, parsed and validated.
type Config struct {
	Addr        string
	MetricsAddr string
	DatabaseURL string
	// MasterKey is the vault master key from the environment (never a flag:
	// it would show in ps); empty means MasterKeyFile.
	MasterKey     string
	MasterKeyFile string
	PGURL         string
	PGTimeout     time.Duration
	PGMaxConns    int
	LogLevel      slog.Level
	LogFormat     string // "text" or "json"
	TestClock     bool
	// WebhookAllowPrivate is "true", "false" or "auto" (true on SQLite).
	WebhookAllowPrivate string
	CheckoutOrigins     []string // nil = merchant.DefaultOrigins
	Demo                bool
	ReconcileInterval   time.Duration
	D24Window           time.Duration
	SchedulerPoll       time.Duration
	SchedulerWorkers    int
	// WebhookConcurrency is how many deliveries to one merchant a node may
	// have in flight (0: the webhook package's default).
	WebhookConcurrency int
	SchedulerBatch     int
	SchedulerClaimers  int
	SchedulerLease     time.Duration
	// MaxConnsPerClient caps connections per client address; -1: no cap,
	// 0: the server's default.
	MaxConnsPerClient int
	// PublicURL is how merchants and customers reach Billkey ("" = http://
	// + the listen address).
	PublicURL string
	// BaseURL is the console's public base URL for printed links ("" =
	// http:// + Addr).
	BaseURL string
}

// AllowPrivateWebhooks resolves "auto": the embedded SQLite sandbox
// delivers to localhost receivers, a Postgres deployment does not.
func (c Config) AllowPrivateWebhooks() bool {
	switch c.WebhookAllowPrivate {
	case "true":
		return true
	case "auto":
		return !store.IsPostgresURL(c.DatabaseURL)
	}
	return false
}

// Var is one setting.
type Var struct {
	Flag    string // "" = environment only
	Env     string // "" = flag only
	Default string // as shown in help; "" = none
	Usage   string
	Scope   Scope
	Bool    bool // a flag without value
	set     func(c *Config, v string) error
}

// Name is how errors name the setting.
func (v Var) Name() string {
	if v.Env != "" {
		return v.Env
	}
	return "--" + v.Flag
}

// Vars are all settings, in help order.
var Vars = []Var{
	{Flag: "addr", Env: "BILLKEY_ADDR", Default: "127.0.0.1:8080", Usage: "listen address", Scope: Serve,
		set: func(c *Config, v string) error { return hostPort(v, &c.Addr) }},
	{Env: "BILLKEY_PUBLIC_URL", Default: "http:// + the listen address", Usage: "how merchants and customers reach Billkey (receipt URLs are built on it)", Scope: Serve,
		set: func(c *Config, v string) error { return httpURL(v, &c.PublicURL) }},
	{Env: "BILLKEY_METRICS_ADDR", Usage: "serve /metrics only on this separate listen address", Scope: Serve,
		set: func(c *Config, v string) error { return hostPort(v, &c.MetricsAddr) }},
	{Flag: "database-url", Env: "BILLKEY_DATABASE_URL", Default: "billkey.db", Usage: "SQLite file path, or a postgres:// URL for PostgreSQL", Scope: DB,
		set: func(c *Config, v string) error {
			if err := store.CheckURL(v); err != nil {
				return err
			}
			c.DatabaseURL = v
			return nil
		}},
	{Env: "BILLKEY_MASTER_KEY", Usage: "vault master key: 32 bytes as 64 hex chars or base64 (never a flag: it would show in ps)", Scope: DB,
		set: func(c *Config, v string) error { c.MasterKey = v; return nil }},
	{Flag: "master-key-file", Env: "BILLKEY_MASTER_KEY_FILE", Usage: "file holding the master key when BILLKEY_MASTER_KEY is empty (default: billkey.master.key beside the SQLite file)", Scope: DB,
		set: func(c *Config, v string) error { c.MasterKeyFile = v; return nil }},
	{Env: "BILLKEY_PG_MAX_CONNS", Default: "16 × cores", Usage: "PostgreSQL connection pool size", Scope: DB,
		set: func(c *Config, v string) error { return positive(v, &c.PGMaxConns) }},
	{Flag: "log-level", Env: "BILLKEY_LOG_LEVEL", Default: "info", Usage: "debug, info, warn or error", Scope: Log,
		set: func(c *Config, v string) error {
			switch strings.ToLower(v) {
			case "debug", "info", "warn", "error":
				return c.LogLevel.UnmarshalText([]byte(v))
			}
			return errors.New("want debug, info, warn or error")
		}},
	{Flag: "log-format", Env: "BILLKEY_LOG_FORMAT", Default: "text", Usage: "text or json", Scope: Log,
		set: func(c *Config, v string) error {
			if v != "text" && v != "json" {
				return errors.New("want text or json")
			}
			c.LogFormat = v
			return nil
		}},
	{Flag: "pg-url", Env: "BILLKEY_PG_URL", Usage: "URL of a standalone `billkey pgsim` (default: the simulator runs in-process)", Scope: Serve,
		set: func(c *Config, v string) error { return httpURL(v, &c.PGURL) }},
	{Env: "BILLKEY_PG_TIMEOUT", Default: "10s", Usage: "bound on one PG call; past it the outcome is unknown", Scope: Serve,
		set: func(c *Config, v string) error { return duration(v, &c.PGTimeout) }},
	{Flag: "test-clock", Usage: "run with a controllable sandbox clock", Scope: Serve, Bool: true,
		set: func(c *Config, v string) error { return boolean(v, &c.TestClock) }},
	{Flag: "webhook-allow-private", Env: "BILLKEY_WEBHOOK_ALLOW_PRIVATE", Default: "auto", Usage: "deliver webhooks to loopback/private/link-local addresses: true, false, or auto (allowed on SQLite, refused on Postgres)", Scope: Serve,
		set: func(c *Config, v string) error {
			if v != "true" && v != "false" && v != "auto" {
				return errors.New("want true, false or auto")
			}
			c.WebhookAllowPrivate = v
			return nil
		}},
	{Env: "BILLKEY_WEBHOOK_CONCURRENCY", Default: "4", Usage: "webhook deliveries to one merchant a node may have in flight", Scope: Serve,
		set: func(c *Config, v string) error { return positive(v, &c.WebhookConcurrency) }},
	{Env: "BILLKEY_CHECKOUT_ORIGINS", Default: "localhost origins", Usage: "comma-separated merchant origins allowed to open and embed the payment window", Scope: Serve,
		set: func(c *Config, v string) error {
			var list []string
			for _, o := range strings.Split(v, ",") {
				if o = strings.TrimSpace(o); o != "" {
					list = append(list, o)
				}
			}
			if err := merchant.ValidateOrigins(list); err != nil {
				return err
			}
			c.CheckoutOrigins = list
			return nil
		}},
	{Env: "BILLKEY_DEMO", Default: "on", Usage: "`off` hides the /demo page", Scope: Serve,
		set: func(c *Config, v string) error {
			switch strings.ToLower(v) {
			case "on", "true":
				c.Demo = true
			case "off", "false":
				c.Demo = false
			default:
				return errors.New("want on or off")
			}
			return nil
		}},
	{Env: "BILLKEY_RECONCILE_INTERVAL", Default: "2s", Usage: "how often the reconciler looks up unknown outcomes", Scope: Serve,
		set: func(c *Config, v string) error { return duration(v, &c.ReconcileInterval) }},
	{Env: "BILLKEY_D24_WINDOW", Default: "5m", Usage: "accepted X-Date skew of signed v3 requests", Scope: Serve,
		set: func(c *Config, v string) error { return duration(v, &c.D24Window) }},
	{Env: "BILLKEY_SCHEDULER_POLL", Default: "1s", Usage: "scheduler idle poll interval", Scope: Serve,
		set: func(c *Config, v string) error { return duration(v, &c.SchedulerPoll) }},
	{Env: "BILLKEY_SCHEDULER_WORKERS", Default: "64", Usage: "concurrent scheduled charges per node", Scope: Serve,
		set: func(c *Config, v string) error { return positive(v, &c.SchedulerWorkers) }},
	{Env: "BILLKEY_SCHEDULER_BATCH", Default: "workers", Usage: "schedule rows claimed at once", Scope: Serve,
		set: func(c *Config, v string) error { return positive(v, &c.SchedulerBatch) }},
	{Env: "BILLKEY_SCHEDULER_CLAIMERS", Default: "2", Usage: "claims of due schedule rows in progress at once per node", Scope: Serve,
		set: func(c *Config, v string) error { return positive(v, &c.SchedulerClaimers) }},
	{Env: "BILLKEY_MAX_CONNS_PER_CLIENT", Default: "server default", Usage: "connections one client address may hold open (0 or less: no cap)", Scope: Serve,
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return errors.New("want a number (0 or less: no cap)")
			}
			c.MaxConnsPerClient = max(n, -1)
			if n == 0 {
				c.MaxConnsPerClient = -1
			}
			return nil
		}},
	{Flag: "base-url", Env: "BILLKEY_BASE_URL", Default: "http:// + BILLKEY_ADDR", Usage: "the console's public base URL, for printed links", Scope: Links,
		set: func(c *Config, v string) error { return httpURL(v, &c.BaseURL) }},
	{Env: "BILLKEY_SCHEDULER_LEASE", Default: "1m", Usage: "how long a claim keeps other nodes off a schedule row", Scope: Serve,
		set: func(c *Config, v string) error { return duration(v, &c.SchedulerLease) }},
}

// Defaults is the configuration with nothing set.
func Defaults() Config {
	return Config{
		Addr: "127.0.0.1:8080", DatabaseURL: "billkey.db", LogLevel: slog.LevelInfo, LogFormat: "text",
		WebhookAllowPrivate: "auto", Demo: true,
	}
}

// Loader reads the settings of one command: Register its flags, parse, Load.
type Loader struct {
	scope Scope
	flags map[string]*string
}

// Register adds the flags of the settings in scope to fs.
func Register(fs *flag.FlagSet, scope Scope) *Loader {
	l := &Loader{scope: scope, flags: map[string]*string{}}
	for _, v := range Vars {
		if v.Scope&scope == 0 || v.Flag == "" {
			continue
		}
		usage := v.Usage
		if v.Env != "" {
			usage += " (" + v.Env + ")"
		}
		if v.Bool {
			s := new(string)
			l.flags[v.Flag] = s
			fs.Var(boolFlag{s}, v.Flag, usage)
			continue
		}
		s := new(string)
		l.flags[v.Flag] = s
		fs.StringVar(s, v.Flag, v.Default, usage)
	}
	return l
}

// Load validates the settings in scope, each from its flag if given, else
// from its environment variable, else the default. Every bad value is
// reported, naming the flag or variable it came from.
func (l *Loader) Load(fs *flag.FlagSet, getenv func(string) string) (Config, error) {
	c := Defaults()
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	for _, v := range Vars {
		if v.Scope&l.scope == 0 {
			continue
		}
		val, name, ok := "", "", false
		switch {
		case v.Flag != "" && given[v.Flag]:
			val, name, ok = *l.flags[v.Flag], "--"+v.Flag, true
		case v.Env != "" && getenv(v.Env) != "":
			val, name, ok = strings.TrimSpace(getenv(v.Env)), v.Env, true
		}
		if !ok {
			continue
		}
		if err := v.set(&c, val); err != nil {
			shown := strconv.Quote(val)
			if v.Env == "BILLKEY_MASTER_KEY" {
				shown = "(hidden)"
			}
			errs = append(errs, fmt.Errorf("%s=%s: %w", name, shown, err))
		}
	}
	return c, errors.Join(errs...)
}

// Load is Register, Parse and Load for a command with no flags of its own.
func Load(fs *flag.FlagSet, scope Scope, args []string, getenv func(string) string) (Config, error) {
	l := Register(fs, scope)
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	return l.Load(fs, getenv)
}

// WriteEnvironment lists the environment variables of the settings in
// scope with their meaning and default.
func WriteEnvironment(w io.Writer, scope Scope) {
	fmt.Fprintln(w, "Environment:")
	for _, v := range Vars {
		if v.Env == "" || v.Scope&scope == 0 {
			continue
		}
		def := ""
		if v.Default != "" {
			def = " (default " + v.Default + ")"
		}
		fmt.Fprintf(w, "  %-30s %s%s\n", v.Env, v.Usage, def)
	}
}

// boolFlag is a valueless flag (--test-clock) kept as text until Load.
type boolFlag struct{ s *string }

func (b boolFlag) String() string {
	if b.s == nil || *b.s == "" {
		return "false"
	}
	return *b.s
}
func (b boolFlag) Set(x string) error { *b.s = x; return nil }
func (b boolFlag) IsBoolFlag() bool   { return true }

func hostPort(v string, dst *string) error {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return errors.New("want host:port, e.g. 127.0.0.1:8080")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q: want 0..65535", port)
	}
	*dst = v
	return nil
}

func httpURL(v string, dst *string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("want an http:// or https:// URL")
	}
	*dst = v
	return nil
}

func duration(v string, dst *time.Duration) error {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return errors.New("want a positive duration like 2s or 500ms")
	}
	*dst = d
	return nil
}

func positive(v string, dst *int) error {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return errors.New("want a positive integer")
	}
	*dst = n
	return nil
}

func boolean(v string, dst *bool) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return errors.New("want true or false")
	}
	*dst = b
	return nil
}
