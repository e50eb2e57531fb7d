package vault

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadMasterKeyEnv(t *testing.T) {
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = byte(i*7 + 250) // includes bytes that need '+' '/' or '-' '_'
	}
	tests := []struct {
		name string
		env  string
		want error
	}{
		{"std base64", base64.StdEncoding.EncodeToString(raw), nil},
		{"raw url base64", base64.RawURLEncoding.EncodeToString(raw), nil},
		{"url base64", base64.URLEncoding.EncodeToString(raw), nil},
		{"raw std base64", base64.RawStdEncoding.EncodeToString(raw), nil},
		{"hex lower", hex.EncodeToString(raw), nil},
		{"hex upper", strings.ToUpper(hex.EncodeToString(raw)), nil},
		{"surrounding whitespace", "  " + base64.StdEncoding.EncodeToString(raw) + "\n", nil},
		{"base64 too short", base64.StdEncoding.EncodeToString(raw[:16]), ErrMasterKeyLength},
		{"base64 too long", base64.StdEncoding.EncodeToString(append(raw, 1)), ErrMasterKeyLength},
		{"hex too short", hex.EncodeToString(raw[:31]), ErrMasterKeyLength},
		{"not an encoding", "this is not a key!", ErrMasterKeyEncoding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The file must not be consulted when the env value is set.
			file := filepath.Join(t.TempDir(), "master.key")
			key, created, err := LoadMasterKey(tt.env, file)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("err = %v, want %v", err, tt.want)
				}
				if strings.Contains(err.Error(), strings.TrimSpace(tt.env)) {
					t.Fatal("error message leaks key material")
				}
				return
			}
			if err != nil || created || !bytes.Equal(key, raw) {
				t.Fatalf("LoadMasterKey = %x, %v, %v", key, created, err)
			}
			if _, err := os.Stat(file); err == nil {
				t.Fatal("key file created although env was set")
			}
		})
	}
}

func TestLoadMasterKeyFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "sub", "master.key")
	k1, created, err := LoadMasterKey("", file)
	if err != nil || !created || len(k1) != 32 {
		t.Fatalf("create: %x %v %v", k1, created, err)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("perm = %v, want 0600", fi.Mode().Perm())
	}
	k2, created, err := LoadMasterKey("", file)
	if err != nil || created || !bytes.Equal(k1, k2) {
		t.Fatalf("reload: %v %v", created, err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(file)); len(ents) != 1 {
		t.Fatalf("temp files left behind: %v", ents)
	}

	hexFile := filepath.Join(dir, "hex.key")
	os.WriteFile(hexFile, []byte("\n"+hex.EncodeToString(k1)+"  \n"), 0o600)
	if k, created, err := LoadMasterKey("", hexFile); err != nil || created || !bytes.Equal(k, k1) {
		t.Fatalf("hex file: %v %v", created, err)
	}

	bad := filepath.Join(dir, "bad.key")
	os.WriteFile(bad, []byte(base64.StdEncoding.EncodeToString(k1[:24])), 0o600)
	if _, _, err := LoadMasterKey("", bad); !errors.Is(err, ErrMasterKeyLength) {
		t.Fatalf("short file key: %v", err)
	}
	empty := filepath.Join(dir, "empty.key")
	os.WriteFile(empty, nil, 0o600)
	if _, created, err := LoadMasterKey("", empty); err == nil || created {
		t.Fatalf("empty file: %v %v", created, err)
	}
	if _, _, err := LoadMasterKey("", ""); err == nil {
		t.Fatal("no env and no file accepted")
	}
	// A generated key round-trips through the vault.
	if _, err := NewDataKey(k1, t0); err != nil {
		t.Fatal(err)
	}
}
