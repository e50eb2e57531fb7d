package vault

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func testMaster(b byte) []byte { return bytes.Repeat([]byte{b}, MasterKeySize) }

func mustKey(t *testing.T, master []byte, at time.Time) WrappedKey {
	t.Helper()
	k, err := NewDataKey(master, at)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustVault(t *testing.T, master []byte, keys ...WrappedKey) *Vault {
	t.Helper()
	v, err := New(master, keys)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestNewDataKey(t *testing.T) {
	m := testMaster(1)
	a, b := mustKey(t, m, t0), mustKey(t, m, t0)
	if a.ID == b.ID {
		t.Fatalf("ids not unique: %s", a.ID)
	}
	if len(a.ID) != 14 || a.ID[:2] != "k_" {
		t.Fatalf("id %q: want k_ + 12 hex", a.ID)
	}
	if !a.CreatedAt.Equal(t0) {
		t.Fatalf("CreatedAt = %v", a.CreatedAt)
	}
	if _, err := NewDataKey(m[:16], t0); !errors.Is(err, ErrMasterKeyLength) {
		t.Fatalf("short master: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	m := testMaster(1)
	k := mustKey(t, m, t0)
	tampered := k
	tampered.Wrapped = bytes.Clone(k.Wrapped)
	tampered.Wrapped[len(tampered.Wrapped)-1] ^= 1
	relabelled := k
	relabelled.ID = "k_000000000000"
	tests := []struct {
		name   string
		master []byte
		keys   []WrappedKey
		want   error
	}{
		{"wrong master", testMaster(2), []WrappedKey{k}, ErrWrongMasterKey},
		{"short master", m[:31], []WrappedKey{k}, ErrMasterKeyLength},
		{"no keys", m, nil, ErrNoKeys},
		{"tampered wrapped key", m, []WrappedKey{tampered}, ErrWrongMasterKey},
		{"relabelled key id", m, []WrappedKey{relabelled}, ErrWrongMasterKey},
		{"duplicate id", m, []WrappedKey{k, k}, ErrDuplicateKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := New(tt.master, tt.keys)
			if !errors.Is(err, tt.want) || v != nil {
				t.Fatalf("New = %v, %v; want %v", v, err, tt.want)
			}
		})
	}
}

func TestActiveKeySelection(t *testing.T) {
	m := testMaster(1)
	old := mustKey(t, m, t0)
	newer := mustKey(t, m, t0.Add(time.Hour))
	tie1 := mustKey(t, m, t0.Add(2*time.Hour))
	tie2 := mustKey(t, m, t0.Add(2*time.Hour))
	tests := []struct {
		name string
		keys []WrappedKey
		want string
	}{
		{"single", []WrappedKey{old}, old.ID},
		{"newest wins", []WrappedKey{newer, old}, newer.ID},
		{"newest wins reversed", []WrappedKey{old, newer}, newer.ID},
		{"tie: last in slice", []WrappedKey{old, tie1, tie2, newer}, tie2.ID},
		{"tie: last in slice reversed", []WrappedKey{tie2, tie1, old}, tie1.ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustVault(t, m, tt.keys...).ActiveKeyID(); got != tt.want {
				t.Fatalf("active = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestSealOpen(t *testing.T) {
	m := testMaster(7)
	v := mustVault(t, m, mustKey(t, m, t0))
	aad := []byte("billing_key:1:cust_1")
	for _, pt := range [][]byte{nil, {}, []byte("x"), bytes.Repeat([]byte("ab"), 5000)} {
		ct, id, err := v.Seal(pt, aad)
		if err != nil || id != v.ActiveKeyID() {
			t.Fatalf("Seal: %v %s", err, id)
		}
		// Only a plaintext long enough not to occur in random bytes by
		// chance says anything: a 1-byte one is found in ~1 of 9 ciphertexts.
		if len(pt) >= 16 && bytes.Contains(ct, pt) {
			t.Fatal("ciphertext contains plaintext")
		}
		got, err := v.Open(ct, id, aad)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("Open = %q, %v", got, err)
		}
	}
	a, _, _ := v.Seal([]byte("same"), aad)
	b, _, _ := v.Seal([]byte("same"), aad)
	if bytes.Equal(a, b) {
		t.Fatal("nonce reused: equal ciphertexts for equal plaintexts")
	}
}

func TestOpenFailures(t *testing.T) {
	m := testMaster(7)
	v := mustVault(t, m, mustKey(t, m, t0))
	aad := "billing_key:1:cust_1"
	ct, id, err := v.SealString("4242424242424242|2030-12", aad)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte { c := bytes.Clone(ct); c[i] ^= 0x80; return c }
	tests := []struct {
		name string
		ct   []byte
		id   string
		aad  string
		want error
	}{
		{"other merchant's row", ct, id, "billing_key:2:cust_1", ErrDecrypt},
		{"other customer's row", ct, id, "billing_key:1:cust_2", ErrDecrypt},
		{"empty aad", ct, id, "", ErrDecrypt},
		{"nonce tampered", flip(0), id, aad, ErrDecrypt},
		{"body tampered", flip(15), id, aad, ErrDecrypt},
		{"tag tampered", flip(len(ct) - 1), id, aad, ErrDecrypt},
		{"truncated", ct[:len(ct)-1], id, aad, ErrDecrypt},
		{"too short", ct[:5], id, aad, ErrDecrypt},
		{"nil", nil, id, aad, ErrDecrypt},
		{"unknown key", ct, "k_ffffffffffff", aad, ErrUnknownKey},
		{"empty key id", ct, "", aad, ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.OpenString(tt.ct, tt.id, tt.aad)
			if !errors.Is(err, tt.want) || got != "" {
				t.Fatalf("Open = %q, %v; want %v", got, err, tt.want)
			}
		})
	}
	// A ciphertext sealed under one vault's key must not open under a
	// different key that happens to be labelled with the same id.
	other := mustVault(t, testMaster(8), mustKey(t, testMaster(8), t0))
	if _, err := other.Open(ct, other.ActiveKeyID(), []byte(aad)); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("open under another key: %v", err)
	}
}

func TestRotation(t *testing.T) {
	m := testMaster(3)
	k1 := mustKey(t, m, t0)
	v := mustVault(t, m, k1)
	aad := "billing_key:9:u"
	ct1, id1, err := v.SealCard("4242-4242-4242-4242", "12/30", aad)
	if err != nil || id1 != k1.ID {
		t.Fatalf("SealCard: %v %s", err, id1)
	}

	// k2 is created with an older timestamp on purpose: Add must activate
	// it anyway.
	k2 := mustKey(t, m, t0.Add(-time.Hour))
	if err := v.Add(k2); err != nil {
		t.Fatal(err)
	}
	if v.ActiveKeyID() != k2.ID {
		t.Fatalf("active = %s, want %s", v.ActiveKeyID(), k2.ID)
	}
	if !v.Has(k1.ID) || !v.Has(k2.ID) {
		t.Fatal("ring lost a key")
	}
	pan, exp, err := v.OpenCard(ct1, id1, aad)
	if err != nil || pan != "4242424242424242" || exp != "2030-12" {
		t.Fatalf("old ciphertext after Add: %q %q %v", pan, exp, err)
	}

	ct2, id2, err := v.Rewrap(ct1, id1, []byte(aad))
	if err != nil || id2 != k2.ID || bytes.Equal(ct1, ct2) {
		t.Fatalf("Rewrap: %v %s", err, id2)
	}
	if pan, exp, err := v.OpenCard(ct2, id2, aad); err != nil || pan != "4242424242424242" || exp != "2030-12" {
		t.Fatalf("rewrapped: %q %q %v", pan, exp, err)
	}
	// Already under the active key: unchanged.
	ct3, id3, err := v.Rewrap(ct2, id2, []byte(aad))
	if err != nil || id3 != id2 || !bytes.Equal(ct3, ct2) {
		t.Fatalf("Rewrap of active: %v %s changed=%v", err, id3, !bytes.Equal(ct3, ct2))
	}
	// Rewrap authenticates even when it has nothing to do.
	if _, _, err := v.Rewrap(ct2, id2, []byte("billing_key:9:other")); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("Rewrap with wrong aad: %v", err)
	}
	if _, _, err := v.Rewrap(ct1, "k_nope", []byte(aad)); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Rewrap unknown key: %v", err)
	}

	// A restarted node loading both rows picks k1 (newer CreatedAt); both
	// ciphertexts still open.
	v2 := mustVault(t, m, k2, k1)
	for _, c := range []struct {
		ct []byte
		id string
	}{{ct1, id1}, {ct2, id2}} {
		if _, _, err := v2.OpenCard(c.ct, c.id, aad); err != nil {
			t.Fatal(err)
		}
	}

	// Re-adding a present key only reactivates it.
	if err := v.Add(k1); err != nil || v.ActiveKeyID() != k1.ID {
		t.Fatalf("re-Add: %v %s", err, v.ActiveKeyID())
	}
	// Add with a key wrapped under another master fails and changes nothing.
	if err := v.Add(mustKey(t, testMaster(4), t0)); !errors.Is(err, ErrWrongMasterKey) {
		t.Fatalf("Add foreign key: %v", err)
	}
	if v.ActiveKeyID() != k1.ID {
		t.Fatal("failed Add changed the active key")
	}
}

func TestSealCard(t *testing.T) {
	m := testMaster(5)
	v := mustVault(t, m, mustKey(t, m, t0))
	if _, _, err := v.SealCard("4242424242424241", "2030-01", "a"); !errors.Is(err, ErrCardNumberLuhn) {
		t.Fatalf("bad luhn: %v", err)
	}
	if _, _, err := v.SealCard("4242424242424242", "2030-13", "a"); !errors.Is(err, ErrExpiryFormat) {
		t.Fatalf("bad expiry: %v", err)
	}
	ct, id, _ := v.SealString("no separator", "a")
	if _, _, err := v.OpenCard(ct, id, "a"); err == nil {
		t.Fatal("OpenCard accepted a non-card plaintext")
	}
}

func TestConcurrentSealOpenAdd(t *testing.T) {
	m := testMaster(6)
	v := mustVault(t, m, mustKey(t, m, t0))
	keys := make([]WrappedKey, 5)
	for i := range keys {
		keys[i] = mustKey(t, m, t0)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 16 {
		wg.Go(func() {
			for i := range 200 {
				aad := fmt.Sprintf("row:%d:%d", g, i)
				pt := fmt.Sprintf("secret %d %d", g, i)
				ct, id, err := v.SealString(pt, aad)
				if err == nil {
					var got string
					got, err = v.OpenString(ct, id, aad)
					if err == nil && got != pt {
						err = fmt.Errorf("got %q want %q", got, pt)
					}
				}
				if err == nil {
					_, _, err = v.Rewrap(ct, id, []byte(aad))
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Go(func() {
		for _, k := range keys {
			if err := v.Add(k); err != nil {
				errs <- err
			}
			_ = v.ActiveKeyID()
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if v.ActiveKeyID() != keys[len(keys)-1].ID {
		t.Fatal("last Add is not active")
	}
}
