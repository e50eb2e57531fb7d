package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/billkey/billkey/internal/core"
)

const merchantCols = `id, code, name, imp_key, imp_secret_hash, webhook_url, webhook_format, time_zone, created_at, checkout_origins, demo`

func scanMerchant(row interface{ Scan(...any) error }) (*core.Merchant, error) {
	var m core.Merchant
	var created int64
	var origins string
	var demo int64
	if err := row.Scan(&m.ID, &m.Code, &m.Name, &m.ImpKey, &m.ImpSecretHash, &m.WebhookURL, &m.WebhookFormat, &m.TimeZone, &created, &origins, &demo); err != nil {
		return nil, err
	}
	m.Demo = demo != 0
	m.CreatedAt = tm(created)
	if origins != "" {
		m.CheckoutOrigins = strings.Split(origins, ",")
	}
	return &m, nil
}

// CreateMerchant inserts m with its channels (the first default one marked
// IsDefault) and sets the ids.
func (s *Store) CreateMerchant(ctx context.Context, m *core.Merchant, channels []core.Channel) error {
	return s.InTx(ctx, func(tx *Tx) error {
		err := tx.queryRow(ctx, `INSERT INTO merchants (code, name, imp_key, imp_secret_hash, webhook_url, webhook_format, time_zone, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			m.Code, m.Name, m.ImpKey, m.ImpSecretHash, m.WebhookURL, m.WebhookFormat, m.TimeZone, us(m.CreatedAt)).Scan(&m.ID)
		if err != nil {
			return fmt.Errorf("insert merchant %s: %w", m.Code, err)
		}
		for i := range channels {
			c := &channels[i]
			c.MerchantID = m.ID
			err := tx.queryRow(ctx, `INSERT INTO channels (merchant_id, provider, mid, sandbox, type, name, channel_key, is_default)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				m.ID, c.Provider, c.MID, b2i(c.Sandbox), c.Type, c.Name, c.Key, b2i(c.IsDefault)).Scan(&c.ID)
			if err != nil {
				return fmt.Errorf("insert channel %s.%s: %w", c.Provider, c.MID, err)
			}
		}
		return nil
	})
}

// MerchantByImpKey finds the merchant owning an API key.
func (s *Store) MerchantByImpKey(ctx context.Context, impKey string) (*core.Merchant, error) {
	m, err := scanMerchant(s.queryRow(ctx, `SELECT `+merchantCols+` FROM merchants WHERE imp_key = ?`, impKey))
	if err != nil {
		return nil, notFound(err, "merchant by key")
	}
	return m, nil
}

// MerchantByCode finds a merchant by its identification code (IMP.init).
func (s *Store) MerchantByCode(ctx context.Context, code string) (*core.Merchant, error) {
	m, err := scanMerchant(s.queryRow(ctx, `SELECT `+merchantCols+` FROM merchants WHERE code = ?`, code))
	if err != nil {
		return nil, notFound(err, "merchant by code")
	}
	return m, nil
}

// MerchantByID finds a merchant by id.
func (s *Store) MerchantByID(ctx context.Context, id int64) (*core.Merchant, error) {
	m, err := scanMerchant(s.queryRow(ctx, `SELECT `+merchantCols+` FROM merchants WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "merchant")
	}
	return m, nil
}

// ListMerchants lists all merchants (operator CLI).
func (s *Store) ListMerchants(ctx context.Context) ([]core.Merchant, error) {
	rows, err := s.query(ctx, `SELECT `+merchantCols+` FROM merchants ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list merchants: %w", err)
	}
	defer rows.Close()
	var out []core.Merchant
	for rows.Next() {
		m, err := scanMerchant(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	return out, rows.Err()
}

// SetMerchantWebhook sets the merchant's default webhook URL and format.
func (s *Store) SetMerchantWebhook(ctx context.Context, merchantID int64, url, format string) error {
	_, err := s.exec(ctx, `UPDATE merchants SET webhook_url = ?, webhook_format = ? WHERE id = ?`, url, format, merchantID)
	return err
}

// SetCheckoutOrigins replaces the merchant's payment-window origins.
func (s *Store) SetCheckoutOrigins(ctx context.Context, merchantID int64, origins []string) error {
	_, err := s.exec(ctx, `UPDATE merchants SET checkout_origins = ? WHERE id = ?`, strings.Join(origins, ","), merchantID)
	return err
}

// AllCheckoutOrigins lists every merchant's window origins (deduplicated):
// a CORS preflight has to answer before it knows which merchant is asking.
func (s *Store) AllCheckoutOrigins(ctx context.Context) ([]string, error) {
	rows, err := s.query(ctx, `SELECT DISTINCT checkout_origins FROM merchants WHERE checkout_origins <> ''`)
	if err != nil {
		return nil, fmt.Errorf("checkout origins: %w", err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	var out []string
	for rows.Next() {
		var list string
		if err := rows.Scan(&list); err != nil {
			return nil, err
		}
		for _, o := range strings.Split(list, ",") {
			if !seen[o] {
				seen[o] = true
				out = append(out, o)
			}
		}
	}
	return out, rows.Err()
}

// Channels lists a merchant's PG channels, default first.
func (s *Store) Channels(ctx context.Context, merchantID int64) ([]core.Channel, error) {
	rows, err := s.query(ctx, `SELECT id, merchant_id, provider, mid, sandbox, type, name, channel_key, is_default,
		api_url, credentials IS NOT NULL
		FROM channels WHERE merchant_id = ? ORDER BY is_default DESC, id`, merchantID)
	if err != nil {
		return nil, fmt.Errorf("channels: %w", err)
	}
	defer rows.Close()
	var out []core.Channel
	for rows.Next() {
		var c core.Channel
		var sandbox, def int64
		var creds bool
		if err := rows.Scan(&c.ID, &c.MerchantID, &c.Provider, &c.MID, &sandbox, &c.Type, &c.Name, &c.Key, &def, &c.APIURL, &creds); err != nil {
			return nil, err
		}
		c.Sandbox, c.IsDefault, c.HasCredentials = sandbox != 0, def != 0, creds
		out = append(out, c)
	}
	return out, rows.Err()
}

// TokenRow is a V1 access token as stored: never the token itself, only
// its SHA-256 and the nonce the token is derived from (with the merchant's
// imp_secret, which is stored only hashed too).
type TokenRow struct {
	Hash       []byte
	Nonce      string
	MerchantID int64
	IssuedAt   time.Time
	ExpiresAt  time.Time
}

// IssueToken applies the v1 token reuse rule atomically: the merchant's live
// token is returned as is; in its last extendWithin it is extended by
// extendBy; otherwise fresh (Hash, Nonce) is stored with ttl.
func (s *Store) IssueToken(ctx context.Context, merchantID int64, fresh TokenRow, now time.Time, ttl, extendWithin, extendBy time.Duration) (TokenRow, error) {
	var tok TokenRow
	err := s.InTx(ctx, func(tx *Tx) error {
		// Locking the merchant row serializes racing getToken calls of the
		// many web servers of one merchant so that they all get one token.
		var id int64
		if err := tx.queryRow(ctx, `SELECT id FROM merchants WHERE id = ?`+s.forUpdate(), merchantID).Scan(&id); err != nil {
			return notFound(err, "merchant")
		}
		var issued, expires int64
		err := tx.queryRow(ctx, `SELECT token_hash, nonce, issued_at, expires_at FROM tokens
			WHERE merchant_id = ? AND expires_at > ? ORDER BY expires_at DESC LIMIT 1`, merchantID, us(now)).Scan(&tok.Hash, &tok.Nonce, &issued, &expires)
		switch {
		case err == nil:
			tok.MerchantID, tok.IssuedAt, tok.ExpiresAt = merchantID, tm(issued), tm(expires)
			if tok.ExpiresAt.Sub(now) <= extendWithin {
				tok.ExpiresAt = tok.ExpiresAt.Add(extendBy)
				if _, err := tx.exec(ctx, `UPDATE tokens SET expires_at = ? WHERE token_hash = ?`, us(tok.ExpiresAt), tok.Hash); err != nil {
					return fmt.Errorf("extend token: %w", err)
				}
			}
			return nil
		case err != sql.ErrNoRows:
			return fmt.Errorf("current token: %w", err)
		}
		tok = TokenRow{Hash: fresh.Hash, Nonce: fresh.Nonce, MerchantID: merchantID, IssuedAt: now, ExpiresAt: now.Add(ttl)}
		if _, err := tx.exec(ctx, `INSERT INTO tokens (token_hash, nonce, merchant_id, issued_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			tok.Hash, tok.Nonce, merchantID, us(now), us(tok.ExpiresAt)); err != nil {
			return fmt.Errorf("insert token: %w", err)
		}
		// Expired tokens are useless; sweep this merchant's on the way.
		_, err = tx.exec(ctx, `DELETE FROM tokens WHERE merchant_id = ? AND expires_at <= ?`, merchantID, us(now))
		return err
	})
	return tok, err
}

// LookupToken returns the token with this hash if it is live at now.
func (s *Store) LookupToken(ctx context.Context, hash []byte, now time.Time) (TokenRow, error) {
	t := TokenRow{Hash: hash}
	var issued, expires int64
	err := s.queryRow(ctx, `SELECT nonce, merchant_id, issued_at, expires_at FROM tokens WHERE token_hash = ? AND expires_at > ?`,
		hash, us(now)).Scan(&t.Nonce, &t.MerchantID, &issued, &expires)
	if err != nil {
		return t, notFound(err, "token")
	}
	t.IssuedAt, t.ExpiresAt = tm(issued), tm(expires)
	return t, nil
}

// VaultKey is a wrapped data-encryption key as stored.
type VaultKey struct {
	ID        string
	Wrapped   []byte
	CreatedAt time.Time
}

// VaultKeys lists the stored data keys, oldest first.
func (s *Store) VaultKeys(ctx context.Context) ([]VaultKey, error) {
	rows, err := s.query(ctx, `SELECT id, wrapped, created_at FROM vault_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("vault keys: %w", err)
	}
	defer rows.Close()
	var out []VaultKey
	for rows.Next() {
		var k VaultKey
		var c int64
		if err := rows.Scan(&k.ID, &k.Wrapped, &c); err != nil {
			return nil, err
		}
		k.CreatedAt = tm(c)
		out = append(out, k)
	}
	return out, rows.Err()
}

// AddVaultKey stores a new wrapped data key.
func (s *Store) AddVaultKey(ctx context.Context, k VaultKey) error {
	_, err := s.exec(ctx, `INSERT INTO vault_keys (id, wrapped, created_at) VALUES (?, ?, ?)`, k.ID, k.Wrapped, us(k.CreatedAt))
	if err != nil {
		return fmt.Errorf("add vault key %s: %w", k.ID, err)
	}
	return nil
}
