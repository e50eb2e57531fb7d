// Package app assembles a running Billkey from its parts: store, vault, PG
// connector, charge service, background workers and the HTTP surface. The
// binary and the end-to-end tests both start Billkey through it.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/billkey/billkey/internal/api/iamport"
	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/checkout"
	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/console"
	"github.com/billkey/billkey/internal/httplimit"
	"github.com/billkey/billkey/internal/keyring"
	"github.com/billkey/billkey/internal/notice"
	"github.com/billkey/billkey/internal/openapi"
	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/pg/router"
	"github.com/billkey/billkey/internal/pg/sim"
	"github.com/billkey/billkey/internal/pg/simclient"
	"github.com/billkey/billkey/internal/receipt"
	"github.com/billkey/billkey/internal/reqid"
	"github.com/billkey/billkey/internal/scheduler"
	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/subscription"
)

// Config is everything Billkey is configured with.
type Config struct {
	Addr string // BILLKEY_ADDR
	// PublicURL (BILLKEY_PUBLIC_URL) is how merchants and their customers
	// reach Billkey, e.g. https://billkey.example.com: receipt URLs are built
	// on it. serve defaults it to http:// and the listen address.
	PublicURL string
	// MetricsAddr (BILLKEY_METRICS_ADDR) serves /metrics on a listener of
	// its own, and then only there, so that it need not be public.
	MetricsAddr string
	DatabaseURL string // BILLKEY_DATABASE_URL: SQLite path or postgres:// URL
	MasterKey   string // BILLKEY_MASTER_KEY (hex or base64 of 32 bytes)
	// MasterKeyFile is read (or created on first start) when MasterKey is empty.
	MasterKeyFile string
	// PGURL points at a standalone simulator; empty starts one in-process.
	PGURL     string
	PGTimeout time.Duration
	Sim       sim.Config
	// Clock defaults to the wall clock; --test-clock passes a *clock.Test.
	// It is billing time: schedules, renewals, dunning, look-ups.
	Clock clock.Clock
	// WallClock is what a client's or receiver's own clock is compared with:
	// the v3 X-Date window and webhook timestamps. The test clock never moves
	// it. Defaults to the wall clock; tests pass a fixed one.
	WallClock clock.Clock
	Logger    *slog.Logger
	// ReconcileInterval is how often the reconciler looks for unknown outcomes.
	ReconcileInterval time.Duration
	// WebhookAllowPrivate (BILLKEY_WEBHOOK_ALLOW_PRIVATE) lets webhooks go to loopback, private and link-local addresses.
	WebhookAllowPrivate bool
	// WebhookConcurrency (BILLKEY_WEBHOOK_CONCURRENCY) caps one merchant's
	// deliveries in flight per node; 0: the webhook package's default (4).
	WebhookConcurrency int
	// CheckoutOrigins (BILLKEY_CHECKOUT_ORIGINS, comma-separated) may embed the
	// payment window and open it with IMP.request_pay; nil = localhost only
	// (see internal/checkout.DefaultOrigins).
	CheckoutOrigins []string
	// DisableDemo (BILLKEY_DEMO=off) hides the /demo merchant page.
	DisableDemo bool
	// D24Window is the accepted X-Date skew of signed v3 requests
	// (BILLKEY_D24_WINDOW; default ±5 minutes).
	D24Window time.Duration
	// HTTP bounds slow and greedy clients of Serve: timeouts, header size and
	// connections per client address (BILLKEY_MAX_CONNS_PER_CLIENT).
	HTTP httplimit.Limits
	// Dunning overrides the retry delays of soft-declined v3 renewals
	// (default 1, 3 and 7 days after the failure).
	Dunning []time.Duration
	// Scheduler tunes the scheduled-payment loop (zero values: its defaults).
	Scheduler scheduler.Config
	// PGMaxConns overrides the PostgreSQL pool size (BILLKEY_PG_MAX_CONNS).
	PGMaxConns int
	// MasterKeyCreate says when a missing master key file may be generated;
	// Auto: while the database holds no sealed data on SQLite, never on Postgres.
	MasterKeyCreate keyring.Create
	// InitMasterKey creates the master key file (`billkey keys init`).
	InitMasterKey bool
	// OnMigration hears each migration applied at start; nil: silence.
	OnMigration func(store.Migration)
}

// DefaultDatabaseURL is the embedded default: a SQLite file in the working directory.
const DefaultDatabaseURL = "billkey.db"

// App is a running Billkey: the Core plus the charge service, the PG, the
// background workers and the HTTP surface.
type App struct {
	*Core
	Service *charge.Service
	Sim     *sim.Server // nil when an external PG is used
	PG      pg.Connector
	Handler http.Handler

	scheduler     *scheduler.Scheduler
	subscriptions *subscription.Engine
	console       *console.Handler
	sandbox       *sandboxClock
	// workers run from Start until Close; extra subsystems append to it.
	workers []func(ctx context.Context)
	// mounts are extra HTTP handlers by path prefix (operator and sandbox endpoints).
	mounts []mount
	window *checkout.Handler // the payment window, mounted by the V1 router
	v1     http.Handler      // the V1 router, mounted at "/"
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// listener is Serve's, for the connection metrics.
	listener atomic.Pointer[httplimit.Listener]
}

// New opens the Core and builds the service, workers and HTTP surface.
// It does not start background workers or listen; Start and Serve do.
func New(ctx context.Context, cfg Config) (*App, error) {
	if cfg.PGTimeout == 0 {
		cfg.PGTimeout = 10 * time.Second
	}
	if cfg.ReconcileInterval == 0 {
		cfg.ReconcileInterval = 2 * time.Second
	}
	core, err := OpenCore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	cfg = core.Config
	a := &App{Core: core}
	if tc, ok := cfg.Clock.(*clock.Test); ok {
		// A restarted sandbox resumes each merchant's clock where it was
		// advanced to, never behind it.
		clocks, err := a.Store.SandboxClocks(ctx)
		if err != nil {
			a.Close()
			return nil, err
		}
		for merchantID, at := range clocks {
			tc.SetFor(merchantID, at)
		}
	}
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "billkey_http_connections_open", Help: "Client connections open on the API listener."},
			func() float64 {
				if l := a.listener.Load(); l != nil {
					return float64(l.Open())
				}
				return 0
			}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "billkey_http_connections_refused_total",
			Help: "Connections closed at accept because their client address already held BILLKEY_MAX_CONNS_PER_CLIENT."},
			func() float64 {
				if l := a.listener.Load(); l != nil {
					return float64(l.Refused())
				}
				return 0
			}))
	if cfg.PGURL == "" {
		a.Sim = sim.New(cfg.Sim)
		url, err := a.Sim.Start("127.0.0.1:0")
		if err != nil {
			a.Close()
			return nil, fmt.Errorf("start sandbox PG: %w", err)
		}
		a.closers = append(a.closers, a.Sim.Close)
		cfg.PGURL = url
		a.Config.PGURL = url
	}
	// Sandbox channels go to the simulator, processor channels to the
	// connector their sealed credentials build; live ones refuse a clock
	// that can be moved.
	_, testClock := cfg.Clock.(*clock.Test)
	rt := router.New(simclient.New(cfg.PGURL, cfg.PGTimeout), a.Merchants, router.Options{TestClock: testClock, Timeout: cfg.PGTimeout})
	a.PG = pg.Instrument(rt, a.registry)
	a.mounts = append(a.mounts, mount{pattern: "POST " + IAMPortNoticePath, handler: a.iamportNotices(rt)})
	a.Service = charge.New(charge.Config{
		Store: a.Store, PG: a.PG, Vault: a.Vault, Clock: cfg.Clock, Logger: cfg.Logger,
		PGTimeout: cfg.PGTimeout, Registerer: a.registry, Channels: a.Merchants, ReceiptBase: cfg.PublicURL,
	})
	a.Service.OnSettled(notice.New(cfg.Clock).Settled)
	a.registry.MustRegister(a.Service.BacklogCollector())
	a.workers = append(a.workers,
		func(ctx context.Context) { a.Service.RunReconciler(ctx, a.Config.ReconcileInterval) },
		func(ctx context.Context) { a.Keys.Watch(ctx, 30*time.Second) },
		func(ctx context.Context) { a.pruneLoop(ctx, time.Minute) },
	)
	for _, setup := range []func(context.Context) error{a.setupWebhooks, a.setupScheduler, a.setupCheckout, a.setupSubscriptions, a.setupConsole} {
		if err := setup(ctx); err != nil {
			a.Close()
			return nil, err
		}
	}
	a.Handler = a.routes()
	return a, nil
}

type mount struct {
	pattern string
	handler http.Handler
}

func (a *App) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.Store.Ping(ctx); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	if a.Config.MetricsAddr == "" {
		mux.Handle("GET /metrics", a.MetricsHandler())
	}
	for _, r := range openapi.Routes() {
		a.mounts = append(a.mounts, mount{pattern: r.Pattern, handler: r.Handler})
	}
	// Receipt pages on a mux of their own, mounted by prefix so that
	// Routes lists them.
	receipts := http.NewServeMux()
	receipt.New(a.Store, a.Log).Register(receipts)
	a.mounts = append(a.mounts, mount{pattern: "GET /receipts/", handler: receipts})
	// Browsers ask every page's origin for an icon; answering "no content"
	// keeps a 404 out of their consoles.
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.WriteHeader(http.StatusNoContent)
	})
	for _, m := range a.mounts {
		mux.Handle(m.pattern, m.handler)
	}
	a.v1 = iamport.New(a.Service, a.Merchants, iamport.Options{Logger: a.Log, Clock: a.Config.Clock, Registerer: a.registry,
		Schedules: a.scheduleAPI(), Webhooks: a.Core.Webhooks(), Sandbox: a.sandboxAPI(), Window: a.window})
	mux.Handle("/", a.v1)
	// The request id wraps everything, so that even a refused malformed
	// request answers with one and logs under it.
	return reqid.Middleware(wellFormed(mux))
}

// MetricsHandler serves the registry in the Prometheus text format.
func (a *App) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{})
}

// Start runs the background workers until Close.
func (a *App) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	for _, w := range a.workers {
		a.wg.Add(1)
		go func() { defer a.wg.Done(); w(ctx) }()
	}
}

// Serve serves the API on ln, and /metrics on Config.MetricsAddr when set,
// until ctx ends, then shuts down gracefully.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	limited := a.Config.HTTP.Listen(ln)
	a.listener.Store(limited)
	servers := []*http.Server{a.Config.HTTP.Server(a.Handler)}
	listeners := []net.Listener{limited}
	if a.Config.MetricsAddr != "" {
		mln, err := net.Listen("tcp", a.Config.MetricsAddr)
		if err != nil {
			return fmt.Errorf("metrics listener BILLKEY_METRICS_ADDR=%s: %w", a.Config.MetricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", a.MetricsHandler())
		servers = append(servers, a.Config.HTTP.Server(mux))
		listeners = append(listeners, mln)
		a.Log.Info("metrics listening", "addr", mln.Addr().String())
	}
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(listeners[i]) }()
	}
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for _, srv := range servers {
		if serr := srv.Shutdown(shutdown); err == nil {
			err = serr
		}
	}
	return err
}

// Close stops the workers and releases everything.
func (a *App) Close() error {
	if a.cancel != nil {
		a.cancel()
		a.wg.Wait()
	}
	return a.Core.Close()
}
