// Package merchant owns the merchants: their V1 credentials and access
// tokens, provisioning with the default sandbox channels, the PG channel
// catalog each merchant charges through, and the origins allowed to open
// its payment window. The API dialects and the charge core ask it who a
// request belongs to and which channel a `pg` value names.
package merchant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/store"
)

// Store is the part of the store this package uses.
type Store interface {
	CreateMerchant(ctx context.Context, m *core.Merchant, channels []core.Channel) error
	MerchantByImpKey(ctx context.Context, impKey string) (*core.Merchant, error)
	MerchantByCode(ctx context.Context, code string) (*core.Merchant, error)
	MerchantByID(ctx context.Context, id int64) (*core.Merchant, error)
	ListMerchants(ctx context.Context) ([]core.Merchant, error)
	SetCheckoutOrigins(ctx context.Context, merchantID int64, origins []string) error
	AllCheckoutOrigins(ctx context.Context) ([]string, error)
	Channels(ctx context.Context, merchantID int64) ([]core.Channel, error)
	IssueToken(ctx context.Context, merchantID int64, fresh store.TokenRow, now time.Time, ttl, extendWithin, extendBy time.Duration) (store.TokenRow, error)
	LookupToken(ctx context.Context, hash []byte, now time.Time) (store.TokenRow, error)
	PutD24Credential(ctx context.Context, c store.D24Credential) error
	SetImpSecretHash(ctx context.Context, merchantID int64, hash []byte) error
	D24Login(ctx context.Context, merchantID int64) (string, error)
	AddChannel(ctx context.Context, c *core.Channel, creds *store.SealedCredentials, now time.Time) error
	RemoveChannel(ctx context.Context, merchantID, channelID int64) error
	SetDefaultChannel(ctx context.Context, merchantID, channelID int64, now time.Time) error
	ChannelCredentials(ctx context.Context, merchantID int64, provider, mid string) (core.Channel, store.SealedCredentials, int64, error)
	MarkDemo(ctx context.Context, merchantID int64) error
}

// Sealer encrypts the secrets that must stay usable (the D24 signing
// secret): the vault.
type Sealer interface {
	SealString(plaintext, aad string) ([]byte, string, error)
}

// Config wires a Service.
type Config struct {
	Store  Store
	Vault  Sealer
	Clock  clock.Clock
	Logger *slog.Logger
}

// Service answers who a request belongs to and what a merchant may use.
type Service struct {
	store Store
	vault Sealer
	clock clock.Clock
	log   *slog.Logger

	mu        sync.RWMutex
	tokens    map[string]core.Token    // token → live token, re-read from the store once its cached expiry passes
	merchants map[int64]*core.Merchant // merchants never change identity; cached for auth
	channels  map[int64]cachedChannels
}

type cachedChannels struct {
	list    []core.Channel
	expires time.Time
}

// Errors callers branch on.
var (
	ErrBadCredentials = errors.New("bad imp_key or imp_secret")
	ErrUnauthorized   = errors.New("invalid or expired token")
)

// New builds the service.
func New(cfg Config) *Service {
	s := &Service{store: cfg.Store, vault: cfg.Vault, clock: cfg.Clock, log: cfg.Logger,
		tokens: map[string]core.Token{}, merchants: map[int64]*core.Merchant{}, channels: map[int64]cachedChannels{}}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// ByID returns a merchant, cached: a merchant's identity never changes.
func (s *Service) ByID(ctx context.Context, id int64) (*core.Merchant, error) {
	s.mu.RLock()
	m, ok := s.merchants[id]
	s.mu.RUnlock()
	if ok {
		return m, nil
	}
	m, err := s.store.MerchantByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("merchant %d: %w", id, err)
	}
	s.mu.Lock()
	s.merchants[id] = m
	s.mu.Unlock()
	return m, nil
}

// ByCode finds the merchant IMP.init names (its "imp" + 8 digit code),
// read fresh: its settings (checkout origins) may have changed.
func (s *Service) ByCode(ctx context.Context, code string) (*core.Merchant, error) {
	m, err := s.store.MerchantByCode(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("merchant %q: %w", code, err)
	}
	return m, nil
}

// List lists every merchant (operator CLI).
func (s *Service) List(ctx context.Context) ([]core.Merchant, error) {
	return s.store.ListMerchants(ctx)
}
