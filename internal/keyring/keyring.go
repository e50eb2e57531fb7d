// Package keyring keeps the vault's keys: the master key (from the
// environment or a key file) and the data keys it wraps, stored in the
// database. It opens the vault at start, refuses to invent a master key for
// a database that already holds sealed data, picks up data keys added by
// other processes, and rotates: a new data key, then every stored card
// re-wrapped under it.
package keyring

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/vault"
)

// Store is the part of the store the keyring uses.
type Store interface {
	VaultKeys(ctx context.Context) ([]store.VaultKey, error)
	AddVaultKey(ctx context.Context, k store.VaultKey) error
	CardsNotUnderKey(ctx context.Context, keyID string, limit int) ([]store.SealedCard, error)
	ReplaceCardCipher(ctx context.Context, c store.SealedCard, newCipher []byte, newKeyID string) (bool, error)
	ChannelCredentialsNotUnderKey(ctx context.Context, keyID string, limit int) ([]store.SealedChannel, error)
	ReplaceChannelCredentials(ctx context.Context, c store.SealedChannel, newCipher []byte, newKeyID string) (bool, error)
}

// Create says when a missing master key file may be generated.
type Create int

const (
	// Auto leaves the choice to the caller's default (the app: IfEmpty on
	// SQLite, Never on Postgres); Open treats it as Never.
	Auto Create = iota
	// Never generate: the operator provides the key (Postgres deployments).
	Never
	// IfEmpty generates one only while the database holds no sealed data
	// (the embedded SQLite sandbox, `billkey keys init`).
	IfEmpty
)

// Options configure Open.
type Options struct {
	// MasterKey is BILLKEY_MASTER_KEY; empty means KeyFile.
	MasterKey string
	KeyFile   string
	Create    Create
	Clock     clock.Clock
	Logger    *slog.Logger
}

// ErrRestoreKey: the database holds data sealed under a master key that is
// not here. Generating a new one would make all of it unreadable.
var ErrRestoreKey = errors.New("the database holds sealed data but its master key is missing: restore your key (BILLKEY_MASTER_KEY or the key file) from your backup; a new key cannot open the stored cards")

// ErrNoMasterKey: no key configured and none may be generated.
var ErrNoMasterKey = errors.New("no master key: set BILLKEY_MASTER_KEY or BILLKEY_MASTER_KEY_FILE, or create one with `billkey keys init` (then back it up)")

// Keyring is the open vault and the keys behind it.
type Keyring struct {
	store   Store
	opts    Options
	master  []byte
	vault   *vault.Vault
	created bool
	mu      sync.Mutex // one rewrap pass at a time
}

// DefaultKeyFile is where the master key file lives when none is
// configured: beside the SQLite file, or in the working directory.
func DefaultKeyFile(databaseURL string) string {
	if store.IsPostgresURL(databaseURL) {
		return "billkey.master.key"
	}
	path := databaseURL
	for _, p := range []string{"sqlite://", "file:"} {
		if len(path) > len(p) && path[:len(p)] == p {
			path = path[len(p):]
		}
	}
	return filepath.Join(filepath.Dir(path), "billkey.master.key")
}

// Open loads the master key and the stored data keys, creating the first
// data key on an empty database.
func Open(ctx context.Context, st Store, opts Options) (*Keyring, error) {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	k := &Keyring{store: st, opts: opts}
	keys, err := st.VaultKeys(ctx)
	if err != nil {
		return nil, err
	}
	k.master, err = vault.ReadMasterKey(opts.MasterKey, opts.KeyFile)
	switch {
	case err == nil:
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("master key: %w", err)
	case len(keys) > 0:
		return nil, fmt.Errorf("%w (looked for %s)", ErrRestoreKey, opts.KeyFile)
	case opts.Create != IfEmpty:
		return nil, ErrNoMasterKey
	default:
		if k.master, k.created, err = vault.CreateMasterKeyFile(opts.KeyFile); err != nil {
			return nil, err
		}
		if k.created {
			opts.Logger.Warn("NO MASTER KEY CONFIGURED: generated one; back it up, losing it makes every stored card unreadable",
				"file", opts.KeyFile)
		}
	}
	if len(keys) == 0 {
		dk, err := vault.NewDataKey(k.master, opts.Clock.Now())
		if err != nil {
			return nil, err
		}
		if err := st.AddVaultKey(ctx, store.VaultKey{ID: dk.ID, Wrapped: dk.Wrapped, CreatedAt: dk.CreatedAt}); err != nil {
			return nil, err
		}
		// Another node may have raced us; read back whatever is stored.
		if keys, err = st.VaultKeys(ctx); err != nil {
			return nil, err
		}
	}
	if k.vault, err = vault.New(k.master, toWrapped(keys)); err != nil {
		return nil, fmt.Errorf("vault: %w (is this the master key of this database?)", err)
	}
	return k, nil
}

// Init creates the master key file for a new deployment (`billkey keys
// init`): never over an existing key, never for a database with sealed data.
func Init(ctx context.Context, st Store, opts Options) (*Keyring, error) {
	if opts.MasterKey != "" {
		return nil, errors.New("BILLKEY_MASTER_KEY is set: the key already exists, nothing to create")
	}
	if _, err := vault.ReadMasterKey("", opts.KeyFile); err == nil {
		return nil, fmt.Errorf("master key file %s already exists", opts.KeyFile)
	}
	opts.Create = IfEmpty
	return Open(ctx, st, opts)
}

// Vault is the open vault.
func (k *Keyring) Vault() *vault.Vault { return k.vault }

// Created tells whether Open generated the master key file.
func (k *Keyring) Created() bool { return k.created }

// KeyFile is the master key file in use (when not from the environment).
func (k *Keyring) KeyFile() string { return k.opts.KeyFile }

func toWrapped(keys []store.VaultKey) []vault.WrappedKey {
	out := make([]vault.WrappedKey, len(keys))
	for i, k := range keys {
		out[i] = vault.WrappedKey{ID: k.ID, Wrapped: k.Wrapped, CreatedAt: k.CreatedAt}
	}
	return out
}

// Reload adds stored data keys the vault does not know yet.
func (k *Keyring) Reload(ctx context.Context) (int, error) {
	keys, err := k.store.VaultKeys(ctx)
	if err != nil {
		return 0, err
	}
	added := 0
	for _, sk := range keys {
		if k.vault.Has(sk.ID) {
			continue
		}
		// Unwrap through a one-key vault to check it against our master key first.
		w := vault.WrappedKey{ID: sk.ID, Wrapped: sk.Wrapped, CreatedAt: sk.CreatedAt}
		if _, err := vault.New(k.master, []vault.WrappedKey{w}); err != nil {
			return added, fmt.Errorf("data key %s: %w", sk.ID, err)
		}
		if err := k.vault.Add(w); err != nil {
			return added, err
		}
		added++
	}
	return added, nil
}

// Rotate adds a new data key, makes it active and re-wraps every stored card
// under it; progress (may be nil) hears the running count. Running nodes
// pick the key up within Watch's interval.
func (k *Keyring) Rotate(ctx context.Context, progress func(rewrapped int)) (string, int, error) {
	dk, err := vault.NewDataKey(k.master, k.opts.Clock.Now())
	if err != nil {
		return "", 0, err
	}
	if err := k.store.AddVaultKey(ctx, store.VaultKey{ID: dk.ID, Wrapped: dk.Wrapped, CreatedAt: dk.CreatedAt}); err != nil {
		return "", 0, err
	}
	if err := k.vault.Add(dk); err != nil {
		return "", 0, err
	}
	n, err := k.Rewrap(ctx, progress)
	return dk.ID, n, err
}

// Rewrap moves every stored card to the active key, in batches.
func (k *Keyring) Rewrap(ctx context.Context, progress func(rewrapped int)) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	active := k.vault.ActiveKeyID()
	total := 0
	for {
		batch, err := k.store.CardsNotUnderKey(ctx, active, 500)
		if err != nil {
			return total, err
		}
		if len(batch) == 0 {
			return total, k.rewrapChannels(ctx, active)
		}
		for _, c := range batch {
			if !k.vault.Has(c.KeyID) {
				if _, err := k.Reload(ctx); err != nil {
					return total, err
				}
			}
			ct, kid, err := k.vault.Rewrap(c.Cipher, c.KeyID, vault.CardAAD(c.MerchantID, c.CustomerUID))
			if err != nil {
				return total, fmt.Errorf("rewrap card of %s: %w", c.CustomerUID, err)
			}
			ok, err := k.store.ReplaceCardCipher(ctx, c, ct, kid)
			if err != nil {
				return total, err
			}
			if ok {
				total++
			}
		}
		// Rows that changed under us (re-issued meanwhile) come back fresh
		// in the next batch.
		if progress != nil {
			progress(total)
		}
	}
}

// rewrapChannels moves processor channels' sealed credentials to the
// active key, like cards.
func (k *Keyring) rewrapChannels(ctx context.Context, active string) error {
	for stalls := 0; ; {
		batch, err := k.store.ChannelCredentialsNotUnderKey(ctx, active, 500)
		if err != nil || len(batch) == 0 {
			return err
		}
		moved := 0
		for _, c := range batch {
			if !k.vault.Has(c.KeyID) {
				if _, err := k.Reload(ctx); err != nil {
					return err
				}
			}
			ct, kid, err := k.vault.Rewrap(c.Cipher, c.KeyID, vault.ChannelCredentialsAAD(c.MerchantID, c.Provider, c.MID))
			if err != nil {
				return fmt.Errorf("rewrap credentials of channel %d: %w", c.ID, err)
			}
			ok, err := k.store.ReplaceChannelCredentials(ctx, c, ct, kid)
			if err != nil {
				return err
			}
			if ok {
				moved++
			}
		}
		if moved == 0 {
			if stalls++; stalls > 3 {
				return fmt.Errorf("rewrap channel credentials: %d channels keep changing", len(batch))
			}
		}
	}
}

// Watch picks up data keys added by `billkey keys rotate` in another
// process, so that rotation needs no restart, and re-wraps cards still
// sealed under older keys.
func (k *Keyring) Watch(ctx context.Context, every time.Duration) {
	log := k.opts.Logger
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if added, err := k.Reload(ctx); err != nil {
			log.Error("reload vault keys", "err", err)
		} else if added > 0 {
			if n, err := k.Rewrap(ctx, nil); err != nil {
				log.Error("rewrap cards", "err", err)
			} else {
				log.Info("rewrapped cards under the new vault key", "cards", n)
			}
		}
	}
}
