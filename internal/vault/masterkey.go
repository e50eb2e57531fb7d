package vault

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrMasterKeyEncoding means a master key is neither base64 nor hex.
var ErrMasterKeyEncoding = errors.New("vault: master key must be base64 or 64 hex characters")

// LoadMasterKey returns the master key from envValue if set, else from
// keyFile. A missing keyFile is created with a fresh random key (mode 0600)
// and created=true, so `billkey serve` works on a fresh machine; the caller
// should log loudly that the file must be backed up, because losing it loses
// every stored card.
//
// Both sources accept base64 (standard or URL alphabet, padded or not) or 64
// hex characters, surrounding whitespace ignored. Errors never include the
// key material.
func LoadMasterKey(envValue, keyFile string) (key []byte, created bool, err error) {
	key, err = ReadMasterKey(envValue, keyFile)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	return createKeyFile(keyFile)
}

// ReadMasterKey returns the master key from envValue if set, else from
// keyFile, never creating one: a missing file is an error wrapping
// fs.ErrNotExist.
func ReadMasterKey(envValue, keyFile string) ([]byte, error) {
	if strings.TrimSpace(envValue) != "" {
		key, err := parseMasterKey(envValue)
		if err != nil {
			return nil, fmt.Errorf("master key from environment: %w", err)
		}
		return key, nil
	}
	if keyFile == "" {
		return nil, errors.New("vault: no master key: set the environment value or a key file")
	}
	return readKeyFile(keyFile)
}

// CreateMasterKeyFile writes a fresh random master key to path (mode 0600).
// It never overwrites a key: if the file appeared meanwhile, that key is
// returned with created=false.
func CreateMasterKeyFile(path string) (key []byte, created bool, err error) {
	return createKeyFile(path)
}

// CheckMasterKey validates a master key's encoding without keeping it.
func CheckMasterKey(s string) error {
	k, err := parseMasterKey(s)
	clear(k)
	return err
}

func readKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	defer clear(b)
	key, err := parseMasterKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	return key, nil
}

// createKeyFile writes the key to a temporary file and hard-links it into
// place: the key file appears complete or not at all, and if two nodes
// sharing a volume race to create it, the loser reads the winner's key
// instead of overwriting it (which would orphan data keys already wrapped).
func createKeyFile(path string) ([]byte, bool, error) {
	key := make([]byte, MasterKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, false, fmt.Errorf("vault: generate master key: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("vault: master key dir: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".masterkey-*")
	if err != nil {
		return nil, false, fmt.Errorf("vault: master key file: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	// CreateTemp already uses 0600; Chmod makes that explicit against umask
	// surprises on exotic filesystems.
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, false, fmt.Errorf("vault: write master key file: %w", err)
	}
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			k, err := readKeyFile(path)
			return k, false, err
		}
		return nil, false, fmt.Errorf("vault: write master key file: %w", err)
	}
	return key, true, nil
}

func parseMasterKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*MasterKeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		b, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(b) != MasterKeySize {
			clear(b)
			return nil, fmt.Errorf("%w (decoded %d bytes)", ErrMasterKeyLength, len(b))
		}
		return b, nil
	}
	if isHex(s) {
		return nil, fmt.Errorf("%w (%d hex characters)", ErrMasterKeyLength, len(s))
	}
	return nil, ErrMasterKeyEncoding
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
