// Command billkey is the Billkey payment gateway: one binary that serves the
// APIs, manages merchants and keys, and runs the sandbox PG on its own.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/billkey/billkey/internal/app"
	"github.com/billkey/billkey/internal/buildinfo"
	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/merchant"
	"github.com/billkey/billkey/internal/pg/sim"
	"github.com/billkey/billkey/internal/vault"
)

const usage = `billkey — subscription-billing payment gateway

Usage:
  billkey serve [flags]            start the API server
  billkey migrate                  apply database migrations and exit
  billkey merchant create --name N [--json]
  billkey merchant list [--json]
  billkey merchant set --merchant CODE --checkout-origins https://shop.example.com,...
  billkey keys rotate              add a vault key and re-wrap stored cards
  billkey user add --merchant CODE --email E --role owner|operator|viewer
  billkey user link --email E      print a new one-time password-set link
  billkey webhooks list|resend|secret|set   inspect and resend webhook deliveries
  billkey channel add|list|remove|set-default   a merchant's PG channels (real processors)
  billkey pgsim [flags]            run the sandbox PG simulator standalone
  billkey bench [flags]            measure again throughput and latency
  billkey version

Environment: BILLKEY_ADDR, BILLKEY_DATABASE_URL, BILLKEY_MASTER_KEY,
BILLKEY_MASTER_KEY_FILE, BILLKEY_PG_URL, BILLKEY_LOG_LEVEL,
BILLKEY_WEBHOOK_ALLOW_PRIVATE, BILLKEY_METRICS_ADDR.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "serve":
		err = serve(ctx, args)
	case "migrate":
		err = migrate(ctx, args)
	case "merchant":
		err = merchantCmd(ctx, args)
	case "keys":
		err = keys(ctx, args)
	case "channel":
		err = channelCmd(ctx, args)
	case "pgsim":
		err = pgsim(ctx, args)
	case "bench":
		err = bench(ctx, args)
	case "webhooks":
		err = webhooksCmd(ctx, args)
	case "user":
		err = userCmd(ctx, args)
	case "version":
		fmt.Println(buildinfo.Get())
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "billkey: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "billkey:", err)
		os.Exit(1)
	}
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// common are the flags every command that opens the database takes.
type common struct {
	databaseURL   string
	masterKey     string
	masterKeyFile string
	pgURL         string
	logLevel      string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.databaseURL, "database-url", env("BILLKEY_DATABASE_URL", app.DefaultDatabaseURL), "SQLite file path or postgres:// URL")
	fs.StringVar(&c.masterKeyFile, "master-key-file", env("BILLKEY_MASTER_KEY_FILE", ""), "file holding the vault master key (default: beside the SQLite file)")
	fs.StringVar(&c.pgURL, "pg-url", env("BILLKEY_PG_URL", ""), "URL of a standalone sandbox PG (default: run one in-process)")
	fs.StringVar(&c.logLevel, "log-level", env("BILLKEY_LOG_LEVEL", "info"), "debug, info, warn or error")
	c.masterKey = os.Getenv("BILLKEY_MASTER_KEY") // never a flag: it would show in ps
}

func (c *common) logger(w io.Writer) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.logLevel)); err != nil {
		lvl = slog.LevelInfo
	}
	// Defence in depth: nothing should log a card number, and if something
	// ever does, the handler masks it.
	return slog.New(vault.RedactingHandler(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl})))
}

func (c *common) config(log *slog.Logger) app.Config {
	return app.Config{DatabaseURL: c.databaseURL, MasterKey: c.masterKey, MasterKeyFile: c.masterKeyFile, PGURL: c.pgURL, Logger: log,
		WebhookAllowPrivate: os.Getenv("BILLKEY_WEBHOOK_ALLOW_PRIVATE") == "true"}
}

func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var c common
	c.register(fs)
	addr := fs.String("addr", env("BILLKEY_ADDR", "127.0.0.1:8080"), "listen address")
	testClock := fs.Bool("test-clock", false, "run with a controllable sandbox clock")
	// Local development sends webhooks to localhost, so the embedded sandbox
	// (SQLite) allows private addresses unless told otherwise; a Postgres
	// deployment refuses them unless told otherwise.
	allowPrivate := fs.String("webhook-allow-private", env("BILLKEY_WEBHOOK_ALLOW_PRIVATE", "auto"),
		"deliver webhooks to loopback/private/link-local addresses: true, false, or auto (true on SQLite)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := c.logger(os.Stderr)
	slog.SetDefault(log)
	cfg := c.config(log)
	cfg.Addr = *addr
	cfg.MetricsAddr = os.Getenv("BILLKEY_METRICS_ADDR")
	switch *allowPrivate {
	case "true":
		cfg.WebhookAllowPrivate = true
	case "false":
	case "auto":
		cfg.WebhookAllowPrivate = !strings.HasPrefix(cfg.DatabaseURL, "postgres")
	default:
		return fmt.Errorf("--webhook-allow-private: want true, false or auto, got %q", *allowPrivate)
	}
	// PG call timeout and reconciler pass interval (defaults in app.New);
	// the chaos test shortens both so that killed nodes' attempts settle fast.
	for name, dst := range map[string]*time.Duration{"BILLKEY_PG_TIMEOUT": &cfg.PGTimeout, "BILLKEY_RECONCILE_INTERVAL": &cfg.ReconcileInterval,
		"BILLKEY_D24_WINDOW": &cfg.D24Window} {
		if v := os.Getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("%s=%q: want a positive duration like 2s", name, v)
			}
			*dst = d
		}
	}
	if v := os.Getenv("BILLKEY_MAX_CONNS_PER_CLIENT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("BILLKEY_MAX_CONNS_PER_CLIENT=%q: want a number (0 or less: no cap)", v)
		}
		cfg.HTTP.PerClient = max(n, -1)
		if n == 0 {
			cfg.HTTP.PerClient = -1
		}
	}
	if *testClock {
		cfg.Clock = clock.NewTest(time.Now())
		log.Warn("TEST CLOCK: time only moves when advanced through the sandbox clock endpoint")
	}
	// Listen first, so that receipt URLs can name the real address when no
	// public URL is configured.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	cfg.PublicURL = env("BILLKEY_PUBLIC_URL", base)
	a, err := app.New(ctx, cfg)
	if err != nil {
		ln.Close()
		return err
	}
	defer a.Close()
	if err := announceDemo(ctx, a, base); err != nil {
		return err
	}
	a.Start()
	log.Info("billkey listening", "addr", ln.Addr().String(), "database", a.Store.Dialect(), "pg", a.Config.PGURL)
	return a.Serve(ctx, ln)
}

// announceDemo creates the demo merchant on an empty database and prints its
// credentials. The credentials are also kept in a 0600 file beside the
// database so that a restarted sandbox can show them again (the secret itself
// is stored only hashed).
func announceDemo(ctx context.Context, a *app.App, base string) error {
	demoFile := "billkey.demo.json"
	if a.Store.Dialect() == "sqlite" {
		demoFile = filepath.Join(filepath.Dir(a.Config.DatabaseURL), demoFile)
	}
	var cred merchant.Credentials
	merchants, err := a.Store.ListMerchants(ctx)
	if err != nil {
		return err
	}
	created := len(merchants) == 0
	switch {
	case created:
		cred, err = a.Merchants.Create(ctx, "Billkey Demo")
		if err != nil {
			return err
		}
		m, err := a.Store.MerchantByCode(ctx, cred.MerchantCode)
		if err != nil {
			return err
		}
		if err := a.Merchants.MarkDemo(ctx, m.ID); err != nil {
			return err
		}
		b, _ := json.MarshalIndent(cred, "", "  ")
		if err := os.WriteFile(demoFile, b, 0o600); err != nil {
			a.Log.Warn("could not save demo credentials", "file", demoFile, "err", err)
		}
	default:
		b, err := os.ReadFile(demoFile)
		if err != nil || json.Unmarshal(b, &cred) != nil {
			return nil
		}
	}
	fmt.Printf(`
Demo merchant (sandbox PG, test cards in README):
  merchant_code: %s
  imp_key:       %s
  imp_secret:    %s

Try it:
  curl -s -X POST %s/users/getToken -H 'Content-Type: application/json' \
    -d '{"imp_key":"%s","imp_secret":"%s"}'

Demo subscribe page (payment window, test card 4242 4242 4242 4242):
  %s%s
`, cred.MerchantCode, cred.ImpKey, cred.ImpSecret, base, cred.ImpKey, cred.ImpSecret, base, a.DemoPath(cred.MerchantCode))
	link, err := demoConsoleLink(ctx, a, cred.MerchantCode, created)
	if err != nil {
		a.Log.Warn("no console sign-in link for the demo operator", "err", err)
		fmt.Println()
		return nil
	}
	fmt.Printf(`
Merchant console (%s, owner): open this one-time link, choose a password, you are signed in:
  %s%s

`, demoOperator, base, link)
	return nil
}

func openApp(ctx context.Context, name string, args []string, extra func(*flag.FlagSet)) (*app.App, *flag.FlagSet, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var c common
	c.register(fs)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	log := c.logger(os.Stderr)
	cfg := c.config(log)
	if cfg.PGURL == "" {
		cfg.PGURL = "http://127.0.0.1:1" // admin commands never call the PG; don't start a simulator
	}
	a, err := app.New(ctx, cfg)
	return a, fs, err
}

func migrate(ctx context.Context, args []string) error {
	a, _, err := openApp(ctx, "migrate", args, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Println("migrations applied")
	return nil
}

func merchantCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("merchant: want create or list")
	}
	var name, code, origins string
	var asJSON bool
	a, fs, err := openApp(ctx, "merchant "+args[0], args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&name, "name", "", "merchant name")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		fs.StringVar(&code, "merchant", "", "merchant code (set)")
		fs.StringVar(&origins, "checkout-origins", "", "comma-separated origins of the merchant's sites that may open and embed its payment window (set)")
	})
	if err != nil {
		return err
	}
	defer a.Close()
	switch args[0] {
	case "create":
		cred, err := a.Merchants.Create(ctx, name)
		if err != nil {
			return err
		}
		if asJSON {
			return json.NewEncoder(os.Stdout).Encode(cred)
		}
		fmt.Printf("merchant_code: %s\nimp_key:       %s\nimp_secret:    %s\n", cred.MerchantCode, cred.ImpKey, cred.ImpSecret)
		return nil
	case "set":
		setOrigins := false
		fs.Visit(func(f *flag.Flag) { setOrigins = setOrigins || f.Name == "checkout-origins" })
		if !setOrigins {
			return errors.New("merchant set: nothing to set (want --checkout-origins)")
		}
		m, err := a.Merchants.SetCheckoutOrigins(ctx, code, strings.Split(origins, ","))
		if err != nil {
			return err
		}
		fmt.Printf("%s checkout origins: %s\n", m.Code, strings.Join(m.CheckoutOrigins, " "))
		return nil
	case "list":
		ms, err := a.Store.ListMerchants(ctx)
		if err != nil {
			return err
		}
		if asJSON {
			type row struct {
				MerchantCode string    `json:"merchant_code"`
				Name         string    `json:"name"`
				ImpKey       string    `json:"imp_key"`
				CreatedAt    time.Time `json:"created_at"`
			}
			out := []row{}
			for _, m := range ms {
				out = append(out, row{m.Code, m.Name, m.ImpKey, m.CreatedAt})
			}
			return json.NewEncoder(os.Stdout).Encode(out)
		}
		for _, m := range ms {
			fmt.Printf("%s\t%s\t%s\n", m.Code, m.ImpKey, m.Name)
		}
		return nil
	}
	return fmt.Errorf("merchant: unknown subcommand %q", args[0])
}

func keys(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "rotate" {
		return errors.New("keys: want rotate")
	}
	a, _, err := openApp(ctx, "keys rotate", args[1:], nil)
	if err != nil {
		return err
	}
	defer a.Close()
	id, n, err := a.RotateVaultKey(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("new vault key %s active; %d stored cards re-wrapped\n", id, n)
	return nil
}

func pgsim(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("pgsim", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8090", "listen address")
	var cfg sim.Config
	fs.DurationVar(&cfg.Latency, "latency", 0, "latency added to every PG call")
	fs.DurationVar(&cfg.Jitter, "jitter", 0, "random extra latency up to this much")
	fs.Float64Var(&cfg.ErrorRate, "error-rate", 0, "fraction of calls answered with a PG error (nothing charged)")
	fs.Float64Var(&cfg.LostRate, "lost-rate", 0, "fraction of approved charges whose response is lost")
	fs.Int64Var(&cfg.Seed, "seed", 0, "random seed (0: time-based)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s := sim.New(cfg)
	url, err := s.Start(*addr)
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Printf("sandbox PG listening on %s (point billkey at it with BILLKEY_PG_URL=%s)\n", url, url)
	fmt.Printf("Toss Payments personality at %s%s (a tosspayments channel's --api-url)\n", url, sim.TossPrefix)
	<-ctx.Done()
	return nil
}
