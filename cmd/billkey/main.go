// Command billkey is the Billkey payment gateway: one binary that serves the
// APIs, manages merchants and keys, and runs the sandbox PG on its own.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/billkey/billkey/internal/app"
	"github.com/billkey/billkey/internal/buildinfo"
	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/config"
	"github.com/billkey/billkey/internal/httplimit"
	"github.com/billkey/billkey/internal/keyring"
	"github.com/billkey/billkey/internal/merchant"
	"github.com/billkey/billkey/internal/pg/sim"
	"github.com/billkey/billkey/internal/scheduler"
	"github.com/billkey/billkey/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, root(), os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// root is the command tree.
func root() *command {
	db := config.Log | config.DB
	return &command{name: "billkey", summary: "subscription-billing payment gateway", subs: []*command{
		{name: "serve", synopsis: "serve [flags]", summary: "start the API server", scope: db | config.Serve, setup: serveCmd},
		{name: "migrate", synopsis: "migrate", summary: "apply database migrations and exit", scope: db, setup: migrateCmd},
		{name: "merchant", subs: []*command{
			{name: "create", synopsis: "merchant create --name N [--json]", summary: "create a merchant; prints its credentials once", scope: db, setup: merchantCreateCmd},
			{name: "list", synopsis: "merchant list [--json]", summary: "list merchants", scope: db, setup: merchantListCmd},
			{name: "set", synopsis: "merchant set --merchant CODE --checkout-origins O,...", summary: "set a merchant's payment-window origins", scope: db, setup: merchantSetCmd},
		}},
		{name: "keys", subs: []*command{
			{name: "init", synopsis: "keys init", summary: "create the vault master key file (back it up!)", scope: db, setup: keysInitCmd},
			{name: "rotate", synopsis: "keys rotate", summary: "add a vault data key and re-wrap stored cards", scope: db, setup: keysRotateCmd},
		}},
		{name: "user", subs: []*command{
			{name: "add", synopsis: "user add --merchant CODE --email E [--role owner|operator|viewer]", summary: "add a console operator; prints a one-time link", scope: db | config.Links, setup: userAddCmd},
			{name: "link", synopsis: "user link --email E", summary: "print a new one-time password-set link", scope: db | config.Links, setup: userLinkCmd},
		}},
		{name: "webhooks", subs: []*command{
			{name: "list", synopsis: "webhooks list [--merchant CODE] (--imp-uid X | --event ID | --status S) [--json]", summary: "webhook events and their attempts", scope: db, setup: webhooksListCmd},
			{name: "resend", synopsis: "webhooks resend [--merchant CODE] (--event ID | --failed)", summary: "queue events again (same webhook-id)", scope: db, setup: webhooksResendCmd},
			{name: "secret", subs: []*command{
				{name: "show", synopsis: "webhooks secret show --merchant CODE", summary: "live signing secrets", scope: db, setup: webhooksSecretCmd("show")},
				{name: "rotate", synopsis: "webhooks secret rotate --merchant CODE [--overlap 24h]", summary: "new signing secret", scope: db, setup: webhooksSecretCmd("rotate")},
			}},
			{name: "set", synopsis: "webhooks set --merchant CODE [--url U] [--format json|form] [--profile P]", summary: "a merchant's webhook settings", scope: db, setup: webhooksSetCmd},
		}},
		channelCommands(),
		{name: "pgsim", synopsis: "pgsim [flags]", summary: "run the sandbox PG simulator standalone", setup: pgsimCmd},
		{name: "version", synopsis: "version", summary: "print the version, commit and build date", setup: func(*flag.FlagSet) func(context.Context, *runEnv) error {
			return func(_ context.Context, e *runEnv) error { _, err := fmt.Fprintln(e.out, buildinfo.Get()); return err }
		}},
	}}
}

// appConfig is the wiring configuration for validated settings.
func appConfig(c config.Config, log *slog.Logger) app.Config {
	return app.Config{
		Addr: c.Addr, PublicURL: c.PublicURL, MetricsAddr: c.MetricsAddr, DatabaseURL: c.DatabaseURL, MasterKey: c.MasterKey, MasterKeyFile: c.MasterKeyFile,
		PGURL: c.PGURL, PGTimeout: c.PGTimeout, PGMaxConns: c.PGMaxConns, Logger: log, ReconcileInterval: c.ReconcileInterval,
		WebhookAllowPrivate: c.AllowPrivateWebhooks(), WebhookConcurrency: c.WebhookConcurrency, CheckoutOrigins: c.CheckoutOrigins, DisableDemo: !c.Demo, D24Window: c.D24Window,
		Scheduler: scheduler.Config{Poll: c.SchedulerPoll, Workers: c.SchedulerWorkers, Batch: c.SchedulerBatch, Claimers: c.SchedulerClaimers, Lease: c.SchedulerLease},
		HTTP:      httplimit.Limits{PerClient: c.MaxConnsPerClient},
	}
}

// openCore opens what admin commands need: the database and the vault,
// without the HTTP app, the PG or background work.
func openCore(ctx context.Context, e *runEnv, mod func(*app.Config)) (*app.Core, error) {
	cfg := appConfig(e.cfg, e.log)
	cfg.OnMigration = migrationProgress(e)
	if mod != nil {
		mod(&cfg)
	}
	return app.OpenCore(ctx, cfg)
}

// migrationProgress reports each applied migration on stderr.
func migrationProgress(e *runEnv) func(store.Migration) {
	return func(m store.Migration) {
		fmt.Fprintf(e.errOut, "migration %s applied (%s)\n", m.Name, m.Duration.Round(time.Millisecond))
	}
}

func serveCmd(fs *flag.FlagSet) func(context.Context, *runEnv) error {
	return func(ctx context.Context, e *runEnv) error {
		log := e.log
		slog.SetDefault(log)
		log.Debug("garbage collector", "gogc", app.TuneGC(os.Getenv))
		cfg := appConfig(e.cfg, log)
		cfg.OnMigration = func(m store.Migration) {
			log.Info("migration applied", "migration", m.Name, "duration", m.Duration)
		}
		if e.cfg.TestClock {
			cfg.Clock = clock.NewTest(time.Now())
			log.Warn("TEST CLOCK: time only moves when advanced through the sandbox clock endpoint")
		}
		// Listen first, so that receipt URLs can name the real address when
		// no public URL is configured.
		ln, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			return fmt.Errorf("listen on %s (BILLKEY_ADDR): %w", cfg.Addr, err)
		}
		base := "http://" + ln.Addr().String()
		if cfg.PublicURL == "" {
			cfg.PublicURL = base
		}
		a, err := app.New(ctx, cfg)
		if err != nil {
			ln.Close()
			return err
		}
		defer a.Close()
		if err := announceDemo(ctx, a, base, e); err != nil {
			return err
		}
		a.Start()
		log.Info("billkey listening", "addr", ln.Addr().String(), "database", a.Store.Dialect(), "pg", a.Config.PGURL,
			"version", buildinfo.Get().Short())
		start := time.Now()
		err = a.Serve(ctx, ln)
		reason := "signal"
		if err != nil {
			reason = err.Error()
		}
		log.Info("billkey stopped", "reason", reason, "uptime", time.Since(start).Round(time.Second))
		return err
	}
}

// announceDemo creates the demo merchant on an empty database and prints its
// credentials. The credentials are also kept in a 0600 file beside the
// database so that a restarted sandbox can show them again (the secret itself
// is stored only hashed).
func announceDemo(ctx context.Context, a *app.App, base string, e *runEnv) error {
	demoFile := "billkey.demo.json"
	if a.Store.Dialect() == store.SQLite {
		demoFile = filepath.Join(filepath.Dir(a.Config.DatabaseURL), demoFile)
	}
	var cred merchant.Credentials
	merchants, err := a.Merchants.List(ctx)
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
	fmt.Fprintf(e.out, `
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
		fmt.Fprintln(e.out)
		return nil
	}
	fmt.Fprintf(e.out, `
Merchant console (%s, owner): open this one-time link, choose a password, you are signed in:
  %s%s

`, demoOperator, base, link)
	return nil
}

func migrateCmd(fs *flag.FlagSet) func(context.Context, *runEnv) error {
	return func(ctx context.Context, e *runEnv) error {
		st, err := store.Open(ctx, e.cfg.DatabaseURL)
		if err != nil {
			return err
		}
		defer st.Close()
		n := 0
		progress := migrationProgress(e)
		if err := st.Migrate(ctx, store.OnMigration(func(m store.Migration) { n++; progress(m) })); err != nil {
			return err
		}
		fmt.Fprintf(e.out, "migrations applied: %d new\n", n)
		return nil
	}
}

func merchantCreateCmd(fs *flag.FlagSet) func(context.Context, *runEnv) error {
	name := fs.String("name", "", "merchant name (required)")
	asJSON := fs.Bool("json", false, "print JSON")
	return func(ctx context.Context, e *runEnv) error {
		if strings.TrimSpace(*name) == "" {
			return errors.New("merchant create: --name is required")
		}
		c, err := openCore(ctx, e, nil)
		if err != nil {
			return err
		}
		defer c.Close()
		cred, err := c.Merchants.Create(ctx, *name)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(e.out).Encode(cred)
		}
		fmt.Fprintf(e.out, "merchant_code: %s\nimp_key:       %s\nimp_secret:    %s\nx_login:       %s\napi_signature: %s\n",
			cred.MerchantCode, cred.ImpKey, cred.ImpSecret, cred.XLogin, cred.APISignature)
		return nil
	}
}

func merchantListCmd(fs *flag.FlagSet) func(context.Context, *runEnv) error {
	asJSON := fs.Bool("json", false, "print JSON")
	return func(ctx context.Context, e *runEnv) error {
		c, err := openCore(ctx, e, nil)
		if err != nil {
			return err
		}
		defer c.Close()
		ms, err := c.Merchants.List(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
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
			return json.NewEncoder(e.out).Encode(out)
		}
		for _, m := range ms {
			fmt.Fprintf(e.out, "%s\t%s\t%s\n", m.Code, m.ImpKey, m.Name)
		}
		return nil
	}
}

func merchantSetCmd(fs *flag.FlagSet) func(context.Context, *runEnv) error {
	code := fs.String("merchant", "", "merchant code (required)")
	var origins optString
	fs.Var(&origins, "checkout-origins", "comma-separated origins of the merchant's sites that may open and embed its payment window (empty clears)")
	return func(ctx context.Context, e *runEnv) error {
		if *code == "" {
			return errors.New("merchant set: --merchant is required")
		}
		if !origins.set {
			return errors.New("merchant set: nothing to set (want --checkout-origins)")
		}
		c, err := openCore(ctx, e, nil)
		if err != nil {
			return err
		}
		defer c.Close()
		m, err := c.Merchants.SetCheckoutOrigins(ctx, *code, strings.Split(origins.v, ","))
		if err != nil {
			return err
		}
		fmt.Fprintf(e.out, "%s checkout origins: %s\n", m.Code, strings.Join(m.CheckoutOrigins, " "))
		return nil
	}
}

func keysInitCmd(fs *flag.FlagSet) func(context.Context, *runEnv) error {
	return func(ctx context.Context, e *runEnv) error {
		c, err := openCore(ctx, e, func(cfg *app.Config) { cfg.InitMasterKey = true })
		if err != nil {
			return err
		}
		defer c.Close()
		fmt.Fprintf(e.out, "master key written to %s (mode 0600)\n"+
			"Back it up now, apart from the database backups: without it no stored card can be read.\n"+
			"Point every node at it with BILLKEY_MASTER_KEY_FILE, or put its content in BILLKEY_MASTER_KEY.\n", c.Keys.KeyFile())
		return nil
	}
}

func keysRotateCmd(fs *flag.FlagSet) func(context.Context, *runEnv) error {
	return func(ctx context.Context, e *runEnv) error {
		c, err := openCore(ctx, e, func(cfg *app.Config) { cfg.MasterKeyCreate = keyring.Never })
		if err != nil {
			return err
		}
		defer c.Close()
		id, n, err := c.Keys.Rotate(ctx, func(done int) { fmt.Fprintf(e.errOut, "re-wrapped %d cards…\n", done) })
		if err != nil {
			return err
		}
		fmt.Fprintf(e.out, "new vault key %s active; %d stored cards re-wrapped\n", id, n)
		return nil
	}
}

func pgsimCmd(fs *flag.FlagSet) func(context.Context, *runEnv) error {
	addr := fs.String("addr", "127.0.0.1:8090", "listen address")
	var cfg sim.Config
	fs.DurationVar(&cfg.Latency, "latency", 0, "latency added to every PG call")
	fs.DurationVar(&cfg.Jitter, "jitter", 0, "random extra latency up to this much")
	fs.Float64Var(&cfg.ErrorRate, "error-rate", 0, "fraction of calls answered with a PG error (nothing charged)")
	fs.Float64Var(&cfg.LostRate, "lost-rate", 0, "fraction of approved charges whose response is lost")
	fs.Int64Var(&cfg.Seed, "seed", 0, "random seed (0: time-based)")
	return func(ctx context.Context, e *runEnv) error {
		s := sim.New(cfg)
		url, err := s.Start(*addr)
		if err != nil {
			return err
		}
		defer s.Close()
		fmt.Fprintf(e.out, "sandbox PG listening on %s (point billkey at it with BILLKEY_PG_URL=%s)\n", url, url)
		fmt.Fprintf(e.out, "Toss Payments personality at %s%s (a tosspayments channel's --api-url)\n", url, sim.TossPrefix)
		<-ctx.Done()
		return nil
	}
}
