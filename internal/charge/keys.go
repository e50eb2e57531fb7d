package charge

import (
	"errors"
	"fmt"

	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/vault"
)

// A billing key is kept as the PG's key sealed by the vault, with the
// masked number, card name and expiry beside it: once the PG holds the
// card, Billkey keeps no card number, sealed or not.

// sealKey seals k's PG key into CardCipher and records the expiry.
func (s *Service) sealKey(k *core.BillingKey, expiry string) error {
	cipher, keyID, err := s.vault.Seal([]byte(k.PGBillingKey), vault.CardAAD(k.MerchantID, k.CustomerUID))
	if err != nil {
		return fmt.Errorf("seal billing key %s: %w", k.CustomerUID, err)
	}
	k.CardCipher, k.CardKeyID, k.CardExpiry, k.KeyFormat = cipher, keyID, expiry, core.KeySealedPG
	return nil
}

// storable is the row the store keeps for k: the PG key only sealed.
func storable(k *core.BillingKey) *core.BillingKey {
	c := *k
	if c.KeyFormat == core.KeySealedPG {
		c.PGBillingKey = ""
	}
	return &c
}

// errKeySealed is a stored key the vault cannot open (a missing or wrong
// vault key): nothing can be charged with it until the vault is fixed.
var errKeySealed = errors.New("the stored billing key cannot be opened by the vault")

// OpenKey fills k.PGBillingKey from its sealed form (rows not yet converted
// from the legacy format carry it in clear).
func (s *Service) OpenKey(k *core.BillingKey) error {
	if k.KeyFormat != core.KeySealedPG || k.PGBillingKey != "" {
		return nil
	}
	opener, ok := s.vault.(interface {
		Open(ciphertext []byte, keyID string, aad []byte) ([]byte, error)
	})
	if !ok {
		return errKeySealed
	}
	raw, err := opener.Open(k.CardCipher, k.CardKeyID, vault.CardAAD(k.MerchantID, k.CustomerUID))
	if err != nil {
		return fmt.Errorf("%w: %s: %w", errKeySealed, k.CustomerUID, err)
	}
	k.PGBillingKey = string(raw)
	return nil
}
