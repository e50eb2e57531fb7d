// Package app assembles a running Billkey from its parts: store, vault, PG
// connector, charge service, background workers and the HTTP surface. The
// binary and the end-to-end tests both start Billkey through it.
package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/billkey/billkey/internal/api/iamport"
	v3 "github.com/billkey/billkey/internal/api/v3"
	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/notice"
	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/pg/sim"
	"github.com/billkey/billkey/internal/pg/simclient"
	"github.com/billkey/billkey/internal/scheduler"
	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/subscription"
	"github.com/billkey/billkey/internal/vault"
	"github.com/billkey/billkey/internal/webhook"
)

// Config is everything Billkey is configured with.
type Config struct {
	Addr        string // BILLKEY_ADDR
	DatabaseURL string // BILLKEY_DATABASE_URL: SQLite path or postgres:// URL
	MasterKey   string // BILLKEY_MASTER_KEY (hex or base64 of 32 bytes)
	// MasterKeyFile is read (or created on first start) when MasterKey is empty.
	MasterKeyFile string
	// PGURL points at a standalone simulator; empty starts one in-process.
	PGURL     string
	PGTimeout time.Duration
	Sim       sim.Config
	// Clock defaults to the wall clock; --test-clock passes a *clock.Test.
	Clock  clock.Clock
	Logger *slog.Logger
	// ReconcileInterval is how often the reconciler looks for unknown outcomes.
	ReconcileInterval time.Duration
	// WebhookAllowPrivate (BILLKEY_WEBHOOK_ALLOW_PRIVATE) lets webhooks go to loopback, private and link-local addresses.
	WebhookAllowPrivate bool
	// CheckoutOrigins (BILLKEY_CHECKOUT_ORIGINS, comma-separated) may embed the
	// payment window and open it with IMP.request_pay; nil = localhost only
	// (see internal/checkout.DefaultOrigins).
	CheckoutOrigins []string
	// DisableDemo (BILLKEY_DEMO=off) hides the /demo merchant page.
	DisableDemo bool
	// D24Window is the accepted X-Date skew of signed v3 requests
	// (BILLKEY_D24_WINDOW; default ±5 minutes).
	D24Window time.Duration
	// Dunning overrides the retry delays of soft-declined v3 renewals
	// (default 1, 3 and 7 days after the failure).
	Dunning []time.Duration
}

// DefaultDatabaseURL is the embedded default: a SQLite file in the working directory.
const DefaultDatabaseURL = "billkey.db"

// App is a running Billkey.
type App struct {
	Config  Config
	Store   *store.Store
	Vault   *vault.Vault
	Service *charge.Service
	Sim     *sim.Server // nil when an external PG is used
	PG      pg.Connector
	Handler http.Handler
	Log     *slog.Logger

	MasterKeyCreated bool

	registry      *prometheus.Registry
	webhooks      *webhook.Service
	scheduler     *scheduler.Scheduler
	subscriptions *subscription.Engine
	// workers run from Start until Close; extra subsystems append to it.
	workers []func(ctx context.Context)
	// mounts are extra HTTP handlers by path prefix (operator and sandbox endpoints).
	mounts  []mount
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closers []func() error
}

// New opens the store, migrates it, loads the vault and builds the service.
// It does not start background workers or listen; Start and Serve do.
func New(ctx context.Context, cfg Config) (*App, error) {
	if cfg.DatabaseURL == "" {
		cfg.DatabaseURL = DefaultDatabaseURL
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.PGTimeout == 0 {
		cfg.PGTimeout = 10 * time.Second
	}
	if cfg.ReconcileInterval == 0 {
		cfg.ReconcileInterval = 2 * time.Second
	}
	a := &App{Config: cfg, Log: cfg.Logger, registry: prometheus.NewRegistry()}
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	a.Store = st
	a.closers = append(a.closers, st.Close)
	if err := st.Migrate(ctx); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.loadVault(ctx); err != nil {
		a.Close()
		return nil, err
	}
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
	a.PG = simclient.New(cfg.PGURL, cfg.PGTimeout)
	a.Service = charge.New(charge.Config{
		Store: st, PG: a.PG, Vault: a.Vault, Clock: cfg.Clock, Logger: cfg.Logger,
		PGTimeout: cfg.PGTimeout, Registerer: a.registry,
	})
	a.Service.OnSettled(notice.New(cfg.Clock).Settled)
	a.workers = append(a.workers,
		func(ctx context.Context) { a.Service.RunReconciler(ctx, a.Config.ReconcileInterval) },
		func(ctx context.Context) { a.watchVaultKeys(ctx, 30*time.Second) },
	)
	for _, setup := range []func(context.Context) error{a.setupWebhooks, a.setupScheduler, a.setupCheckout, a.setupSubscriptions} {
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

func (a *App) masterKeyFile() string {
	if a.Config.MasterKeyFile != "" {
		return a.Config.MasterKeyFile
	}
	if a.Store.Dialect() == store.SQLite {
		return filepath.Join(filepath.Dir(a.Config.DatabaseURL), "billkey.master.key")
	}
	return "billkey.master.key"
}

// loadVault unwraps the stored data keys with the master key, creating the
// first data key on an empty database.
func (a *App) loadVault(ctx context.Context) error {
	master, created, err := vault.LoadMasterKey(a.Config.MasterKey, a.masterKeyFile())
	if err != nil {
		return fmt.Errorf("master key: %w", err)
	}
	a.MasterKeyCreated = created
	if created {
		a.Log.Warn("NO MASTER KEY CONFIGURED: generated one; back it up, losing it makes every stored card unreadable",
			"file", a.masterKeyFile())
	}
	keys, err := a.Store.VaultKeys(ctx)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		k, err := vault.NewDataKey(master, a.Config.Clock.Now())
		if err != nil {
			return err
		}
		if err := a.Store.AddVaultKey(ctx, store.VaultKey{ID: k.ID, Wrapped: k.Wrapped, CreatedAt: k.CreatedAt}); err != nil {
			return err
		}
		// Another node may have raced us; read back whatever is stored.
		if keys, err = a.Store.VaultKeys(ctx); err != nil {
			return err
		}
	}
	v, err := vault.New(master, toWrapped(keys))
	if err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	a.Vault = v
	return nil
}

func toWrapped(keys []store.VaultKey) []vault.WrappedKey {
	out := make([]vault.WrappedKey, len(keys))
	for i, k := range keys {
		out[i] = vault.WrappedKey{ID: k.ID, Wrapped: k.Wrapped, CreatedAt: k.CreatedAt}
	}
	return out
}

// Registry is the Prometheus registry /metrics serves.
func (a *App) Registry() *prometheus.Registry { return a.registry }

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
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{}))
	for _, m := range a.mounts {
		mux.Handle(m.pattern, m.handler)
	}
	mux.Handle("/", iamport.New(a.Service, iamport.Options{Logger: a.Log, Clock: a.Config.Clock, Registerer: a.registry, Schedules: a.scheduleAPI()}))
	return mux
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

// Serve listens on Config.Addr until ctx ends, then shuts down gracefully.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: a.Handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// Close stops the workers and releases everything.
func (a *App) Close() error {
	if a.cancel != nil {
		a.cancel()
		a.wg.Wait()
	}
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	return errors.Join(errs...)
}

// watchVaultKeys picks up data keys added by `billkey keys rotate` on
// another process, so that rotation needs no restart, and re-wraps cards
// still sealed under older keys.
func (a *App) watchVaultKeys(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if added, err := a.ReloadVaultKeys(ctx); err != nil {
			a.Log.Error("reload vault keys", "err", err)
		} else if added > 0 {
			if n, err := a.RewrapCards(ctx); err != nil {
				a.Log.Error("rewrap cards", "err", err)
			} else {
				a.Log.Info("rewrapped cards under the new vault key", "cards", n)
			}
		}
	}
}

// ReloadVaultKeys adds stored data keys the vault does not know yet.
func (a *App) ReloadVaultKeys(ctx context.Context) (int, error) {
	keys, err := a.Store.VaultKeys(ctx)
	if err != nil {
		return 0, err
	}
	master, _, err := vault.LoadMasterKey(a.Config.MasterKey, a.masterKeyFile())
	if err != nil {
		return 0, err
	}
	added := 0
	for _, k := range keys {
		if a.Vault.Has(k.ID) {
			continue
		}
		// Unwrap through a one-key vault to check it against our master key first.
		w := vault.WrappedKey{ID: k.ID, Wrapped: k.Wrapped, CreatedAt: k.CreatedAt}
		if _, err := vault.New(master, []vault.WrappedKey{w}); err != nil {
			return added, err
		}
		if err := a.Vault.Add(w); err != nil {
			return added, err
		}
		added++
	}
	return added, nil
}

// RotateVaultKey adds a new data key, makes it active and re-wraps every
// stored card under it. Running nodes pick the key up within a minute.
func (a *App) RotateVaultKey(ctx context.Context) (string, int, error) {
	master, _, err := vault.LoadMasterKey(a.Config.MasterKey, a.masterKeyFile())
	if err != nil {
		return "", 0, err
	}
	k, err := vault.NewDataKey(master, a.Config.Clock.Now())
	if err != nil {
		return "", 0, err
	}
	if err := a.Store.AddVaultKey(ctx, store.VaultKey{ID: k.ID, Wrapped: k.Wrapped, CreatedAt: k.CreatedAt}); err != nil {
		return "", 0, err
	}
	if err := a.Vault.Add(k); err != nil {
		return "", 0, err
	}
	n, err := a.RewrapCards(ctx)
	return k.ID, n, err
}

// RewrapCards moves every stored card to the active key, in batches.
func (a *App) RewrapCards(ctx context.Context) (int, error) {
	active := a.Vault.ActiveKeyID()
	total := 0
	for {
		batch, err := a.Store.CardsNotUnderKey(ctx, active, 500)
		if err != nil {
			return total, err
		}
		if len(batch) == 0 {
			return total, nil
		}
		moved := 0
		for _, c := range batch {
			aad := charge.CardAAD(c.MerchantID, c.CustomerUID)
			if !a.Vault.Has(c.KeyID) {
				if _, err := a.ReloadVaultKeys(ctx); err != nil {
					return total, err
				}
			}
			ct, kid, err := a.Vault.Rewrap(c.Cipher, c.KeyID, aad)
			if err != nil {
				return total, fmt.Errorf("rewrap card of %s: %w", c.CustomerUID, err)
			}
			ok, err := a.Store.ReplaceCardCipher(ctx, c, ct, kid)
			if err != nil {
				return total, err
			}
			if ok {
				moved++
			}
		}
		total += moved
		if moved == 0 {
			// Rows changed under us (re-issued meanwhile); the next pass sees them fresh.
			continue
		}
	}
}

// Credentials are a new merchant's API credentials, shown once.
type Credentials struct {
	MerchantCode string `json:"merchant_code"`
	Name         string `json:"name"`
	ImpKey       string `json:"imp_key"`
	ImpSecret    string `json:"imp_secret"`
	// XLogin and APISignature sign v3 (D24) requests.
	XLogin       string `json:"x_login"`
	APISignature string `json:"api_signature"`
}

// DefaultChannels are the sandbox PG contracts every new merchant gets: the
// REST key-in PGs (nice is the default) and the payment-window PGs.
func DefaultChannels() []core.Channel {
	api := []struct{ provider, mid, name string }{
		{"nice", "nictest04m", "NICE 정기결제 (sandbox)"},
		{"kcp", "T0000", "KCP 정기결제 (sandbox)"},
		{"html5_inicis", "INIBillTst", "KG이니시스 빌링 (sandbox)"},
		{"jtnet", "tjtnet001", "JTNet 빌링 (sandbox)"},
		{"settle", "M2345678", "세틀뱅크 빌링 (sandbox)"},
	}
	window := []struct{ provider, mid, name string }{
		{"danal", "A010002002", "다날 카드 (sandbox)"},
		{"danal_tpay", "9810030929", "다날 휴대폰 (sandbox)"},
		{"kicc", "T5102001", "KICC (sandbox)"},
		{"payco", "PARTNERTEST", "페이코 (sandbox)"},
		{"kakaopay", "TCSUBSCRIP", "카카오페이 정기 (sandbox)"},
		{"naverpay", "np_test", "네이버페이 (sandbox)"},
		{"mobilians", "M1234567", "모빌리언스 휴대폰 (sandbox)"},
		{"chai", "chai_test", "차이 계좌 (sandbox)"},
		{"kcp", "T0001", "KCP 결제창 (sandbox)"},
		{"html5_inicis", "INIpayTest", "KG이니시스 결제창 (sandbox)"},
	}
	var out []core.Channel
	for i, c := range api {
		out = append(out, core.Channel{Provider: c.provider, MID: c.mid, Sandbox: true, Type: "api_payment", Name: c.name,
			Key: "channel-key-" + c.provider + "-" + c.mid, IsDefault: i == 0})
	}
	for _, c := range window {
		out = append(out, core.Channel{Provider: c.provider, MID: c.mid, Sandbox: true, Type: "payment", Name: c.name,
			Key: "channel-key-" + c.provider + "-" + c.mid})
	}
	return out
}

// CreateMerchant makes a merchant with fresh credentials and the default
// sandbox channels.
func (a *App) CreateMerchant(ctx context.Context, name string) (Credentials, error) {
	if strings.TrimSpace(name) == "" {
		return Credentials{}, errors.New("merchant name is required")
	}
	for tries := 0; ; tries++ {
		n, err := rand.Int(rand.Reader, big.NewInt(100_000_000))
		if err != nil {
			return Credentials{}, err
		}
		cred := Credentials{MerchantCode: fmt.Sprintf("imp%08d", n.Int64()), Name: name, ImpKey: randDigits(16), ImpSecret: randHex(40)}
		m := &core.Merchant{Code: cred.MerchantCode, Name: name, ImpKey: cred.ImpKey, ImpSecretHash: charge.HashSecret(cred.ImpSecret),
			WebhookFormat: "json", TimeZone: "Asia/Seoul", CreatedAt: a.Config.Clock.Now()}
		err = a.Store.CreateMerchant(ctx, m, DefaultChannels())
		if err != nil && tries < 3 && strings.Contains(strings.ToLower(err.Error()), "unique") {
			continue // merchant code collision
		}
		if err != nil {
			return cred, err
		}
		cred.XLogin, cred.APISignature = "d24_"+randHex(16), randHex(40)
		// The signature secret must be usable to verify requests, so it is
		// sealed by the vault rather than hashed.
		cipher, keyID, err := a.Vault.SealString(cred.APISignature, v3.SecretAAD(m.ID))
		if err != nil {
			return cred, err
		}
		err = a.Store.PutD24Credential(ctx, store.D24Credential{MerchantID: m.ID, XLogin: cred.XLogin, SecretCipher: cipher,
			SecretKeyID: keyID, CreatedAt: m.CreatedAt})
		return cred, err
	}
}

func randHex(n int) string {
	b := make([]byte, (n+1)/2)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)[:n]
}

func randDigits(n int) string {
	var sb strings.Builder
	for sb.Len() < n {
		d, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			panic(fmt.Sprintf("crypto/rand: %v", err))
		}
		sb.WriteByte(byte('0' + d.Int64()))
	}
	return sb.String()
}
