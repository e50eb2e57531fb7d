// Package vault keeps card data unreadable at rest and out of logs.
//
// Billkey stores the PAN and expiry of every billing key so that it can
// re-issue keys and reconcile with PGs later, which makes a database dump the
// most valuable thing an attacker could steal. The design follows from that:
//
//   - Envelope encryption. Rows are sealed with AES-256-GCM data keys (DEKs);
//     the DEKs live in the database only wrapped by a master key (KEK) that
//     never touches the database. A dump alone decrypts nothing, and rotating
//     the master key means re-wrapping a handful of DEKs, not every row.
//   - The key id travels with each ciphertext, so a new DEK can become active
//     on a running node while rows sealed under older keys still open, and a
//     background job can Rewrap them at its own pace: rotation without
//     downtime.
//   - The row identity is bound in as GCM associated data, so a ciphertext
//     copied from one merchant's row into another's fails authentication
//     instead of silently handing over someone else's card.
//   - Only the standard library's crypto is used: fewer dependencies to audit
//     in the one package that handles raw card numbers.
//
// The parsing helpers (NormalizeCardNumber, NormalizeExpiry) and the log
// scrubbing (ContainsPAN, Redact, RedactingHandler) live here too, because
// the rules for what a card number looks like must agree between the code
// that accepts one and the code that makes sure it is never logged.
package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// MasterKeySize is the length of the master key and of every data key:
// AES-256.
const MasterKeySize = 32

var (
	// ErrWrongMasterKey means a data key could not be unwrapped: almost
	// always the master key does not belong to this database. It is kept
	// distinct so startup can say so plainly instead of failing on the
	// first card read.
	ErrWrongMasterKey = errors.New("vault: wrong master key (data key does not unwrap)")
	// ErrNoKeys means the ring is empty; the caller should create a data
	// key with NewDataKey and persist it first.
	ErrNoKeys = errors.New("vault: no data keys")
	// ErrUnknownKey means a ciphertext names a key id that is not in the
	// ring, e.g. a key row was deleted or another node added a key this
	// node has not loaded yet.
	ErrUnknownKey = errors.New("vault: unknown data key")
	// ErrDecrypt means authentication failed: the ciphertext was altered,
	// truncated, or is being opened with a different aad (another row).
	ErrDecrypt = errors.New("vault: ciphertext authentication failed")
	// ErrMasterKeyLength means a master key is not 32 bytes.
	ErrMasterKeyLength = errors.New("vault: master key must be 32 bytes")
	// ErrDuplicateKey means two data keys share an id.
	ErrDuplicateKey = errors.New("vault: duplicate data key id")
)

// WrappedKey is a data key as persisted: only ever stored wrapped.
type WrappedKey struct {
	ID        string
	Wrapped   []byte // nonce || AES-GCM(master, DEK, aad=ID)
	CreatedAt time.Time
}

// NewDataKey creates a fresh random data key wrapped under master. The id is
// the wrapping aad, so a wrapped key cannot be relabelled in the database to
// impersonate another key id.
func NewDataKey(master []byte, now time.Time) (WrappedKey, error) {
	kek, err := newAEAD(master)
	if err != nil {
		return WrappedKey{}, err
	}
	var idb [6]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return WrappedKey{}, fmt.Errorf("vault: key id: %w", err)
	}
	id := "k_" + hex.EncodeToString(idb[:])
	dek := make([]byte, MasterKeySize)
	if _, err := rand.Read(dek); err != nil {
		return WrappedKey{}, fmt.Errorf("vault: data key: %w", err)
	}
	defer clear(dek)
	return WrappedKey{ID: id, Wrapped: seal(kek, dek, []byte(id)), CreatedAt: now}, nil
}

// Vault is a ring of unwrapped data keys. It is safe for concurrent use.
type Vault struct {
	mu     sync.RWMutex
	kek    cipher.AEAD
	keys   map[string]cipher.AEAD
	active string
}

// New unwraps every key with master. The newest key by CreatedAt (ties: the
// later one in keys) becomes active, so nodes that load the same rows agree
// on the active key without coordination.
func New(master []byte, keys []WrappedKey) (*Vault, error) {
	kek, err := newAEAD(master)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, ErrNoKeys
	}
	v := &Vault{kek: kek, keys: make(map[string]cipher.AEAD, len(keys))}
	var newest time.Time
	for i, k := range keys {
		aead, err := v.unwrap(k)
		if err != nil {
			return nil, err
		}
		if _, dup := v.keys[k.ID]; dup {
			return nil, fmt.Errorf("%w: %q", ErrDuplicateKey, k.ID)
		}
		v.keys[k.ID] = aead
		if i == 0 || !k.CreatedAt.Before(newest) {
			newest, v.active = k.CreatedAt, k.ID
		}
	}
	return v, nil
}

func (v *Vault) unwrap(k WrappedKey) (cipher.AEAD, error) {
	if k.ID == "" {
		return nil, errors.New("vault: data key has an empty id")
	}
	dek, err := open(v.kek, k.Wrapped, []byte(k.ID))
	if err != nil {
		return nil, fmt.Errorf("%w: key %q", ErrWrongMasterKey, k.ID)
	}
	defer clear(dek)
	return newAEAD(dek)
}

// Add puts k in the ring and makes it active, regardless of CreatedAt: the
// caller that just created a key for rotation wants new seals under it now.
// Re-adding a key that is already present (same id) only re-activates it,
// so a node can replay the key table idempotently.
func (v *Vault) Add(k WrappedKey) error {
	aead, err := v.unwrap(k)
	if err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.keys[k.ID]; !ok {
		v.keys[k.ID] = aead
	}
	v.active = k.ID
	return nil
}

// ActiveKeyID is the key new seals use.
func (v *Vault) ActiveKeyID() string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.active
}

// Has reports whether keyID is in the ring, so a caller can reload key rows
// before treating a row as undecryptable.
func (v *Vault) Has(keyID string) bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	_, ok := v.keys[keyID]
	return ok
}

// Seal encrypts plaintext under the active key. aad must identify the row
// the ciphertext will be stored in (e.g. "billing_key:<merchant>:<uid>")
// and must be given again to Open.
func (v *Vault) Seal(plaintext, aad []byte) (ciphertext []byte, keyID string, err error) {
	v.mu.RLock()
	keyID = v.active
	aead := v.keys[keyID]
	v.mu.RUnlock()
	return seal(aead, plaintext, aad), keyID, nil
}

// Open decrypts a ciphertext sealed under keyID with the same aad.
func (v *Vault) Open(ciphertext []byte, keyID string, aad []byte) ([]byte, error) {
	v.mu.RLock()
	aead, ok := v.keys[keyID]
	v.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownKey, keyID)
	}
	return open(aead, ciphertext, aad)
}

// Rewrap moves a ciphertext to the active key. A ciphertext already under
// the active key is returned unchanged (after checking it opens), so a
// rotation job can be rerun and only writes rows that actually changed.
func (v *Vault) Rewrap(ciphertext []byte, keyID string, aad []byte) ([]byte, string, error) {
	plain, err := v.Open(ciphertext, keyID, aad)
	if err != nil {
		return nil, "", err
	}
	defer clear(plain)
	if keyID == v.ActiveKeyID() {
		return ciphertext, keyID, nil
	}
	return v.Seal(plain, aad)
}

// SealString is Seal for string plaintext and aad.
func (v *Vault) SealString(plaintext, aad string) ([]byte, string, error) {
	return v.Seal([]byte(plaintext), []byte(aad))
}

// OpenString is Open for string plaintext and aad.
func (v *Vault) OpenString(ciphertext []byte, keyID, aad string) (string, error) {
	b, err := v.Open(ciphertext, keyID, []byte(aad))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// SealCard validates and seals a card as "PAN|YYYY-MM", the format billing
// keys kept before migration 7 (converted at start; see app.ConvertLegacyCards). Validating here means nothing malformed is
// ever stored where it could only be discovered at charge time.
func (v *Vault) SealCard(pan, expiry, aad string) ([]byte, string, error) {
	p, err := NormalizeCardNumber(pan)
	if err != nil {
		return nil, "", err
	}
	e, err := NormalizeExpiry(expiry)
	if err != nil {
		return nil, "", err
	}
	return v.SealString(p+"|"+e, aad)
}

// OpenCard opens a ciphertext made by SealCard.
func (v *Vault) OpenCard(ciphertext []byte, keyID, aad string) (pan, expiry string, err error) {
	s, err := v.OpenString(ciphertext, keyID, aad)
	if err != nil {
		return "", "", err
	}
	pan, expiry, ok := strings.Cut(s, "|")
	if !ok {
		return "", "", errors.New("vault: sealed card is not PAN|YYYY-MM")
	}
	return pan, expiry, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != MasterKeySize {
		return nil, fmt.Errorf("%w (got %d)", ErrMasterKeyLength, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal prepends a random nonce: 96-bit random nonces are safe for far more
// messages per key than a card vault will ever seal (NIST's 2^32 bound), and
// avoid keeping a counter consistent across nodes.
func seal(aead cipher.AEAD, plaintext, aad []byte) []byte {
	ns := aead.NonceSize()
	out := make([]byte, ns, ns+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		// crypto/rand.Read never returns an error on supported platforms.
		panic("vault: crypto/rand: " + err.Error())
	}
	return aead.Seal(out, out, plaintext, aad)
}

func open(aead cipher.AEAD, ciphertext, aad []byte) ([]byte, error) {
	ns := aead.NonceSize()
	if len(ciphertext) < ns+aead.Overhead() {
		return nil, ErrDecrypt
	}
	p, err := aead.Open(nil, ciphertext[:ns], ciphertext[ns:], aad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return p, nil
}
