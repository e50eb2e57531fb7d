package merchant

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/pg/provider"
	"github.com/billkey/billkey/internal/store"
)

// Credentials are a new merchant's API credentials, shown once.
type Credentials struct {
	MerchantCode string `json:"merchant_code"`
	Name         string `json:"name"`
	ImpKey       string `json:"imp_key"`
	ImpSecret    string `json:"imp_secret"`
	// XLogin and APISignature sign v3 (D24) requests.
	XLogin       string `json:"x_login"`
	APISignature string `json:"api_signature"`
}

// D24SecretAAD binds a sealed D24 signing secret to its merchant.
func D24SecretAAD(merchantID int64) string { return fmt.Sprintf("d24_secret:%d", merchantID) }

// DefaultChannels are the sandbox PG contracts every new merchant gets, from
// the provider catalog: the REST key-in PGs (nice is the default) and the
// payment-window PGs.
func DefaultChannels() []core.Channel {
	var out []core.Channel
	for i, c := range provider.SandboxChannels() {
		typ := "api_payment"
		if c.Window {
			typ = "payment"
		}
		out = append(out, core.Channel{Provider: c.Provider, MID: c.MID, Sandbox: true, Type: typ, Name: c.Name,
			Key: "channel-key-" + c.Provider + "-" + c.MID, IsDefault: i == 0})
	}
	return out
}

// Create makes a merchant with fresh credentials and the default sandbox
// channels.
func (s *Service) Create(ctx context.Context, name string) (Credentials, error) {
	if strings.TrimSpace(name) == "" {
		return Credentials{}, errors.New("merchant name is required")
	}
	if s.vault == nil {
		return Credentials{}, errors.New("create merchant: no vault to seal the D24 secret")
	}
	for tries := 0; ; tries++ {
		n, err := rand.Int(rand.Reader, big.NewInt(100_000_000))
		if err != nil {
			return Credentials{}, err
		}
		cred := Credentials{MerchantCode: fmt.Sprintf("imp%08d", n.Int64()), Name: name, ImpKey: randDigits(16), ImpSecret: randHex(40)}
		m := &core.Merchant{Code: cred.MerchantCode, Name: name, ImpKey: cred.ImpKey, ImpSecretHash: HashSecret(cred.ImpSecret),
			WebhookFormat: "json", TimeZone: "Asia/Seoul", CreatedAt: s.clock.Now()}
		err = s.store.CreateMerchant(ctx, m, DefaultChannels())
		if err != nil && tries < 3 && strings.Contains(strings.ToLower(err.Error()), "unique") {
			continue // merchant code collision
		}
		if err != nil {
			return cred, fmt.Errorf("create merchant %q: %w", name, err)
		}
		cred.XLogin, cred.APISignature = "d24_"+randHex(16), randHex(40)
		// The signature secret must be usable to verify requests, so it is
		// sealed by the vault rather than hashed.
		cipher, keyID, err := s.vault.SealString(cred.APISignature, D24SecretAAD(m.ID))
		if err != nil {
			return cred, fmt.Errorf("seal D24 secret of %s: %w", m.Code, err)
		}
		err = s.store.PutD24Credential(ctx, store.D24Credential{MerchantID: m.ID, XLogin: cred.XLogin, SecretCipher: cipher,
			SecretKeyID: keyID, CreatedAt: m.CreatedAt})
		return cred, err
	}
}

func randHex(n int) string {
	b := make([]byte, (n+1)/2)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)[:n]
}

func randDigits(n int) string {
	var sb strings.Builder
	for sb.Len() < n {
		d, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			panic(fmt.Sprintf("crypto/rand: %v", err))
		}
		sb.WriteByte(byte('0' + d.Int64()))
	}
	return sb.String()
}
