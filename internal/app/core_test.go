package app_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/billkey/billkey/internal/app"
	"github.com/billkey/billkey/internal/keyring"
	"github.com/billkey/billkey/internal/testenv"
)

// A lost master key is never replaced by a new one while the database holds
// data sealed under the old one: the start stops and says to restore it.
func TestMasterKeyNotRecreatedOverSealedData(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		keyFile := filepath.Join(t.TempDir(), "billkey.master.key")
		cfg := app.Config{DatabaseURL: b.URL, MasterKeyFile: keyFile, MasterKeyCreate: keyring.IfEmpty}
		c, err := app.OpenCore(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Merchants.Create(ctx, "Sealed"); err != nil {
			t.Fatal(err)
		}
		c.Close()
		if err := os.Remove(keyFile); err != nil {
			t.Fatal(err)
		}
		_, err = app.OpenCore(ctx, cfg)
		if !errors.Is(err, keyring.ErrRestoreKey) {
			t.Fatalf("start without the key over sealed data: %v, want ErrRestoreKey", err)
		}
		if _, err := os.Stat(keyFile); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("a new master key file was written: %v", err)
		}
		// keys init refuses too.
		if _, err := app.OpenCore(ctx, app.Config{DatabaseURL: b.URL, MasterKeyFile: keyFile, InitMasterKey: true}); !errors.Is(err, keyring.ErrRestoreKey) {
			t.Fatalf("keys init over sealed data: %v", err)
		}
		// A different key does not open the stored data keys.
		other := app.Config{DatabaseURL: b.URL, MasterKey: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"}
		if _, err := app.OpenCore(ctx, other); err == nil {
			t.Fatal("a wrong master key opened the vault")
		}
	})
}

// On Postgres no master key is generated unless asked for (keys init).
func TestPostgresNeverGeneratesMasterKey(t *testing.T) {
	t.Parallel()
	b, ok := testenv.Postgres(t, testenv.InCI())
	if !ok {
		return
	}
	ctx := context.Background()
	keyFile := filepath.Join(t.TempDir(), "billkey.master.key")
	_, err := app.OpenCore(ctx, app.Config{DatabaseURL: b.URL, MasterKeyFile: keyFile})
	if !errors.Is(err, keyring.ErrNoMasterKey) {
		t.Fatalf("start on Postgres without a key: %v, want ErrNoMasterKey", err)
	}
	if _, err := os.Stat(keyFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a master key file was generated on Postgres: %v", err)
	}
	c, err := app.OpenCore(ctx, app.Config{DatabaseURL: b.URL, MasterKeyFile: keyFile, InitMasterKey: true})
	if err != nil {
		t.Fatalf("keys init: %v", err)
	}
	if !c.Keys.Created() {
		t.Fatal("keys init did not create the key")
	}
	c.Close()
	if _, err := app.OpenCore(ctx, app.Config{DatabaseURL: b.URL, MasterKeyFile: keyFile, InitMasterKey: true}); err == nil {
		t.Fatal("keys init overwrote an existing key")
	}
	c, err = app.OpenCore(ctx, app.Config{DatabaseURL: b.URL, MasterKeyFile: keyFile})
	if err != nil {
		t.Fatalf("start with the initialised key: %v", err)
	}
	c.Close()
}
