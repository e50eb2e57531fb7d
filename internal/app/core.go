package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/keyring"
	"github.com/billkey/billkey/internal/merchant"
	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/vault"
	"github.com/billkey/billkey/internal/webhook"
)

// Core is the database, the vault and the services that need nothing else:
// what admin commands use. It starts no HTTP handler, PG connection or
// background work.
type Core struct {
	Config    Config
	Store     *store.Store
	Keys      *keyring.Keyring
	Vault     *vault.Vault
	Merchants *merchant.Service
	Log       *slog.Logger

	registry *prometheus.Registry
	webhooks *webhook.Service
	closers  []func() error
}

// OpenCore opens and migrates the store, opens the vault and builds the
// merchant and webhook services.
func OpenCore(ctx context.Context, cfg Config) (*Core, error) {
	if cfg.DatabaseURL == "" {
		cfg.DatabaseURL = DefaultDatabaseURL
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.WallClock == nil {
		cfg.WallClock = clock.Real{}
	}
	if cfg.MasterKeyFile == "" {
		cfg.MasterKeyFile = keyring.DefaultKeyFile(cfg.DatabaseURL)
	}
	c := &Core{Config: cfg, Log: cfg.Logger, registry: prometheus.NewRegistry()}
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	c.Store = st
	c.closers = append(c.closers, st.Close)
	st.SetPoolSize(cfg.PGMaxConns)
	if err := st.Migrate(ctx, store.OnMigration(cfg.OnMigration)); err != nil {
		c.Close()
		return nil, err
	}
	create := cfg.MasterKeyCreate
	if create == keyring.Auto {
		// The embedded sandbox works with nothing configured; a Postgres
		// deployment gets its key from the operator (`billkey keys init`).
		create = keyring.IfEmpty
		if st.Dialect() == store.Postgres {
			create = keyring.Never
		}
	}
	opts := keyring.Options{MasterKey: cfg.MasterKey, KeyFile: cfg.MasterKeyFile, Create: create, Clock: cfg.Clock, Logger: cfg.Logger}
	if cfg.InitMasterKey {
		c.Keys, err = keyring.Init(ctx, st, opts)
	} else {
		c.Keys, err = keyring.Open(ctx, st, opts)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	c.Vault = c.Keys.Vault()
	if _, err := ConvertLegacyCards(ctx, st, c.Vault, cfg.Logger); err != nil {
		c.Close()
		return nil, fmt.Errorf("convert stored cards: %w", err)
	}
	c.Merchants = merchant.New(merchant.Config{Store: st, Vault: c.Vault, Clock: cfg.Clock, Logger: cfg.Logger})
	c.webhooks = webhook.New(webhook.Options{
		Store:        st,
		Vault:        c.Vault,
		Clock:        cfg.Clock,
		WallClock:    cfg.WallClock,
		Logger:       cfg.Logger.With("component", "webhook"),
		Registerer:   c.registry,
		AllowPrivate: cfg.WebhookAllowPrivate,
		PerMerchant:  cfg.WebhookConcurrency,
	})
	return c, nil
}

// Webhooks is the webhook delivery and operator service.
func (c *Core) Webhooks() *webhook.Service { return c.webhooks }

// Registry is the Prometheus registry /metrics serves.
func (c *Core) Registry() *prometheus.Registry { return c.registry }

// Close releases everything Open acquired.
func (c *Core) Close() error {
	var errs []error
	for i := len(c.closers) - 1; i >= 0; i-- {
		errs = append(errs, c.closers[i]())
	}
	c.closers = nil
	return errors.Join(errs...)
}
