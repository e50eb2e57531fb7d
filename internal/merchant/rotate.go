package merchant

import (
	"context"
	"fmt"

	"github.com/billkey/billkey/internal/store"
)

// RotateImpSecret gives the merchant a new imp_secret and returns it (it is
// stored hashed and cannot be shown again). Access tokens issued with the
// old secret keep working until they expire (30 minutes at most).
func (s *Service) RotateImpSecret(ctx context.Context, merchantID int64) (string, error) {
	secret := randHex(40)
	if err := s.store.SetImpSecretHash(ctx, merchantID, HashSecret(secret)); err != nil {
		return "", err
	}
	s.log.Info("imp_secret rotated", "merchant_id", merchantID)
	return secret, nil
}

// RotateAPISignature gives the merchant a new v3 api_signature under the
// same X-Login and returns it; requests signed with the old one fail from now on.
func (s *Service) RotateAPISignature(ctx context.Context, merchantID int64) (xLogin, secret string, err error) {
	if s.vault == nil {
		return "", "", fmt.Errorf("rotate api_signature: no vault")
	}
	xLogin, err = s.store.D24Login(ctx, merchantID)
	if err != nil {
		return "", "", err
	}
	secret = randHex(40)
	cipher, keyID, err := s.vault.SealString(secret, D24SecretAAD(merchantID))
	if err != nil {
		return "", "", fmt.Errorf("seal D24 secret: %w", err)
	}
	err = s.store.PutD24Credential(ctx, store.D24Credential{MerchantID: merchantID, XLogin: xLogin, SecretCipher: cipher, SecretKeyID: keyID,
		CreatedAt: s.clock.Now()})
	if err != nil {
		return "", "", err
	}
	s.log.Info("api_signature rotated", "merchant_id", merchantID)
	return xLogin, secret, nil
}
