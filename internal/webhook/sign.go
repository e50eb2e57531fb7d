package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/billkey/billkey/internal/store"
)

// Standard Webhooks header names (https://www.standardwebhooks.com).
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

const secretPrefix = "whsec_"

// secretBytes is the HMAC-SHA256 key size: a full block of entropy.
const secretBytes = 32

// DefaultSecretOverlap is how long a rotated-out secret keeps signing, so that
// receivers can switch to the new secret without dropping a delivery.
const DefaultSecretOverlap = 24 * time.Hour

// Secret is a merchant's signing secret as shown to the merchant.
type Secret struct {
	ID        string    `json:"id"`
	Key       string    `json:"secret"` // whsec_<base64>
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt is zero for the current secret; a rotated-out secret signs
	// alongside the new one until then.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

func (s Secret) raw() ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s.Key, secretPrefix))
	if err != nil {
		return nil, fmt.Errorf("webhook secret %s: %w", s.ID, err)
	}
	return b, nil
}

// Sign computes a Standard Webhooks v1 signature: base64 HMAC-SHA256 of
// "<id>.<unix seconds>.<body>" keyed with the secret's raw bytes.
func Sign(key []byte, id string, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// signatureHeader signs with every live secret, space separated, so that a
// receiver holding either the old or the new secret verifies during the
// rotation overlap.
func signatureHeader(secrets []Secret, id string, ts time.Time, body []byte) (string, error) {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		key, err := s.raw()
		if err != nil {
			return "", err
		}
		sigs = append(sigs, Sign(key, id, ts, body))
	}
	if len(sigs) == 0 {
		return "", errors.New("no webhook signing secret")
	}
	return strings.Join(sigs, " "), nil
}

func secretAAD(merchantID int64, secretID string) string {
	return fmt.Sprintf("webhook_secret:%d:%s", merchantID, secretID)
}

func newSecret() (id, key string, err error) {
	var idb [8]byte
	raw := make([]byte, secretBytes)
	if _, err := rand.Read(idb[:]); err != nil {
		return "", "", err
	}
	if _, err := rand.Read(raw); err != nil {
		return "", "", err
	}
	return "whs_" + hex.EncodeToString(idb[:]), secretPrefix + base64.StdEncoding.EncodeToString(raw), nil
}

func (s *Service) sealSecret(merchantID int64, now time.Time) (store.WebhookSecret, Secret, error) {
	id, key, err := newSecret()
	if err != nil {
		return store.WebhookSecret{}, Secret{}, fmt.Errorf("generate webhook secret: %w", err)
	}
	ct, kid, err := s.vault.SealString(key, secretAAD(merchantID, id))
	if err != nil {
		return store.WebhookSecret{}, Secret{}, fmt.Errorf("seal webhook secret: %w", err)
	}
	return store.WebhookSecret{MerchantID: merchantID, ID: id, Cipher: ct, KeyID: kid, CreatedAt: now},
		Secret{ID: id, Key: key, CreatedAt: now}, nil
}

// Secrets returns the merchant's live signing secrets, current first,
// creating the first one on first use (merchant creation does not know
// about webhooks).
func (s *Service) Secrets(ctx context.Context, merchantID int64) ([]Secret, error) {
	now := s.clock.Now()
	for range 2 {
		rows, err := s.store.WebhookSecrets(ctx, merchantID, now)
		if err != nil {
			return nil, err
		}
		if len(rows) > 0 {
			out := make([]Secret, 0, len(rows))
			for _, r := range rows {
				key, err := s.vault.OpenString(r.Cipher, r.KeyID, secretAAD(merchantID, r.ID))
				if err != nil {
					return nil, fmt.Errorf("open webhook secret %s: %w", r.ID, err)
				}
				out = append(out, Secret{ID: r.ID, Key: key, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt})
			}
			return out, nil
		}
		sealed, _, err := s.sealSecret(merchantID, now)
		if err != nil {
			return nil, err
		}
		// Losing the race to another node is fine: read back its secret.
		if _, err := s.store.AddFirstWebhookSecret(ctx, sealed); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("webhook secret of merchant %d: none after creating one", merchantID)
}

// RotateSecret makes a new current secret; the old one keeps signing for
// overlap (DefaultSecretOverlap when zero; negative retires it at once).
func (s *Service) RotateSecret(ctx context.Context, merchantID int64, overlap time.Duration) (Secret, error) {
	if overlap == 0 {
		overlap = DefaultSecretOverlap
	}
	now := s.clock.Now()
	sealed, sec, err := s.sealSecret(merchantID, now)
	if err != nil {
		return Secret{}, err
	}
	if err := s.store.RotateWebhookSecret(ctx, sealed, now.Add(max(overlap, 0))); err != nil {
		return Secret{}, err
	}
	s.log.Info("webhook secret rotated", "merchant_id", merchantID, "secret_id", sec.ID, "overlap", max(overlap, 0))
	return sec, nil
}
