package merchant

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/store"
)

// V1 token lifetime rules.
const (
	TokenTTL          = 30 * time.Minute
	TokenExtendWithin = time.Minute
	TokenExtendBy     = 5 * time.Minute
)

// HashSecret hashes an imp_secret for storage. Secrets are 160-bit random
// values, so a plain SHA-256 resists brute force and keeps getToken cheap
// for clients that call it before every request.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// deriveToken computes a token from its stored nonce and the merchant's
// imp_secret. The store keeps only the nonce and the token's hash; the
// secret is stored only hashed, so neither a copy of the database nor a log
// of it yields a usable token, yet every getToken within the token's life
// returns the same token, as V1 requires.
func deriveToken(impSecret, nonce string) string {
	mac := hmac.New(sha256.New, []byte(impSecret))
	mac.Write([]byte("billkey-v1-access-token:" + nonce))
	return hex.EncodeToString(mac.Sum(nil))[:40]
}

// hashToken is how a token is looked up.
func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// IssueToken applies the V1 reuse rule: the same token until it expires; in
// its last minute it is extended by 5 minutes; a new one after expiry.
func (s *Service) IssueToken(ctx context.Context, impKey, impSecret string) (core.Token, error) {
	m, err := s.store.MerchantByImpKey(ctx, impKey)
	if errors.Is(err, core.ErrNotFound) {
		// Compare anyway so that timing does not reveal which keys exist.
		subtle.ConstantTimeCompare(HashSecret(impSecret), make([]byte, sha256.Size))
		return core.Token{}, ErrBadCredentials
	}
	if err != nil {
		return core.Token{}, fmt.Errorf("get token: %w", err)
	}
	if subtle.ConstantTimeCompare(HashSecret(impSecret), m.ImpSecretHash) != 1 {
		return core.Token{}, ErrBadCredentials
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return core.Token{}, err
	}
	nonce := hex.EncodeToString(raw[:])
	fresh := store.TokenRow{Hash: hashToken(deriveToken(impSecret, nonce)), Nonce: nonce}
	row, err := s.store.IssueToken(ctx, m.ID, fresh, s.clock.Now(), TokenTTL, TokenExtendWithin, TokenExtendBy)
	if err != nil {
		return core.Token{}, fmt.Errorf("get token: %w", err)
	}
	tok := core.Token{Token: deriveToken(impSecret, row.Nonce), MerchantID: m.ID, IssuedAt: row.IssuedAt, ExpiresAt: row.ExpiresAt}
	s.mu.Lock()
	s.tokens[tok.Token] = tok
	s.merchants[m.ID] = m
	s.mu.Unlock()
	return tok, nil
}

// Authenticate returns the merchant a live token belongs to, or ErrUnauthorized.
func (s *Service) Authenticate(ctx context.Context, token string) (*core.Merchant, error) {
	if token == "" {
		return nil, ErrUnauthorized
	}
	now := s.clock.Now()
	s.mu.RLock()
	tok, ok := s.tokens[token]
	s.mu.RUnlock()
	if !ok || !now.Before(tok.ExpiresAt) {
		// Not cached, or the cached expiry passed: another node may have
		// issued or extended it, so ask the store.
		row, err := s.store.LookupToken(ctx, hashToken(token), now)
		if errors.Is(err, core.ErrNotFound) {
			s.mu.Lock()
			delete(s.tokens, token)
			s.mu.Unlock()
			return nil, ErrUnauthorized
		}
		if err != nil {
			return nil, fmt.Errorf("authenticate: %w", err)
		}
		tok = core.Token{Token: token, MerchantID: row.MerchantID, IssuedAt: row.IssuedAt, ExpiresAt: row.ExpiresAt}
		s.mu.Lock()
		if len(s.tokens) > 100_000 {
			s.tokens = map[string]core.Token{} // bound memory; the store is the truth
		}
		s.tokens[token] = tok
		s.mu.Unlock()
	}
	return s.ByID(ctx, tok.MerchantID)
}
