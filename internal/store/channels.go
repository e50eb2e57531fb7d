package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/billkey/billkey/internal/core"
)

// SealedCredentials are a processor channel's credentials as the vault
// sealed them.
type SealedCredentials struct {
	Cipher []byte
	KeyID  string
}

// AddChannel inserts a channel with its sealed credentials (nil for a
// sandbox PG). A default channel takes the mark from the old default.
// core.ErrConflict if the merchant has that provider.mid already.
func (s *Store) AddChannel(ctx context.Context, c *core.Channel, creds *SealedCredentials, now time.Time) error {
	return s.InTx(ctx, func(tx *Tx) error {
		var n int64
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM channels WHERE merchant_id = ? AND provider = ? AND mid = ? AND type = ?`,
			c.MerchantID, c.Provider, c.MID, c.Type).Scan(&n); err != nil {
			return fmt.Errorf("add channel %s.%s: %w", c.Provider, c.MID, err)
		}
		if n > 0 {
			return fmt.Errorf("add channel %s.%s: %w", c.Provider, c.MID, core.ErrConflict)
		}
		if c.IsDefault {
			if _, err := tx.exec(ctx, `UPDATE channels SET is_default = 0 WHERE merchant_id = ?`, c.MerchantID); err != nil {
				return fmt.Errorf("add channel %s.%s: %w", c.Provider, c.MID, err)
			}
		}
		var cipher []byte
		var keyID string
		if creds != nil {
			cipher, keyID = creds.Cipher, creds.KeyID
		}
		err := tx.queryRow(ctx, `INSERT INTO channels (merchant_id, provider, mid, sandbox, type, name, channel_key, is_default,
			api_url, credentials, credentials_key_id, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			c.MerchantID, c.Provider, c.MID, b2i(c.Sandbox), c.Type, c.Name, c.Key, b2i(c.IsDefault),
			c.APIURL, cipher, keyID, us(now)).Scan(&c.ID)
		if err != nil {
			return fmt.Errorf("add channel %s.%s: %w", c.Provider, c.MID, err)
		}
		c.HasCredentials = creds != nil
		return nil
	})
}

// RemoveChannel deletes a merchant's channel. The default channel cannot
// go while others remain (set another default first).
func (s *Store) RemoveChannel(ctx context.Context, merchantID, channelID int64) error {
	return s.InTx(ctx, func(tx *Tx) error {
		var def int64
		err := tx.queryRow(ctx, `SELECT is_default FROM channels WHERE merchant_id = ? AND id = ?`, merchantID, channelID).Scan(&def)
		if err != nil {
			return notFound(err, fmt.Sprintf("channel %d", channelID))
		}
		if def != 0 {
			var others int64
			if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM channels WHERE merchant_id = ? AND id <> ?`, merchantID, channelID).Scan(&others); err != nil {
				return err
			}
			if others > 0 {
				return fmt.Errorf("remove channel %d: %w", channelID, ErrDefaultChannel)
			}
		}
		_, err = tx.exec(ctx, `DELETE FROM channels WHERE merchant_id = ? AND id = ?`, merchantID, channelID)
		return err
	})
}

// ErrDefaultChannel refuses removing the default channel while others remain.
var ErrDefaultChannel = errors.New("the default channel cannot be removed; set another default first")

// SetDefaultChannel makes one channel the merchant's default.
func (s *Store) SetDefaultChannel(ctx context.Context, merchantID, channelID int64, now time.Time) error {
	return s.InTx(ctx, func(tx *Tx) error {
		var id int64
		if err := tx.queryRow(ctx, `SELECT id FROM channels WHERE merchant_id = ? AND id = ?`, merchantID, channelID).Scan(&id); err != nil {
			return notFound(err, fmt.Sprintf("channel %d", channelID))
		}
		if _, err := tx.exec(ctx, `UPDATE channels SET is_default = CASE WHEN id = ? THEN 1 ELSE 0 END, updated_at = ? WHERE merchant_id = ?`,
			channelID, us(now), merchantID); err != nil {
			return fmt.Errorf("set default channel %d: %w", channelID, err)
		}
		return nil
	})
}

// ChannelCredentials finds a merchant's processor channel by provider and
// MID with its sealed credentials; core.ErrNotFound when there is no such
// channel or it has none. Version changes whenever the channel does, so
// callers can cache what they build from it.
func (s *Store) ChannelCredentials(ctx context.Context, merchantID int64, provider, mid string) (core.Channel, SealedCredentials, int64, error) {
	var c core.Channel
	var sandbox, def, version int64
	var sc SealedCredentials
	err := s.queryRow(ctx, `SELECT id, merchant_id, provider, mid, sandbox, type, name, channel_key, is_default, api_url,
		credentials, credentials_key_id, updated_at
		FROM channels WHERE merchant_id = ? AND provider = ? AND mid = ? AND credentials IS NOT NULL
		ORDER BY id LIMIT 1`, merchantID, provider, mid).Scan(
		&c.ID, &c.MerchantID, &c.Provider, &c.MID, &sandbox, &c.Type, &c.Name, &c.Key, &def, &c.APIURL,
		&sc.Cipher, &sc.KeyID, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return c, sc, 0, fmt.Errorf("channel %s.%s: %w", provider, mid, core.ErrNotFound)
	}
	if err != nil {
		return c, sc, 0, fmt.Errorf("channel %s.%s: %w", provider, mid, err)
	}
	c.Sandbox, c.IsDefault, c.HasCredentials = sandbox != 0, def != 0, true
	return c, sc, version, nil
}

// MarkDemo flags the demo merchant, which may never hold live credentials.
func (s *Store) MarkDemo(ctx context.Context, merchantID int64) error {
	_, err := s.exec(ctx, `UPDATE merchants SET demo = 1 WHERE id = ?`, merchantID)
	return err
}

// SealedChannel is one channel's sealed credentials, for key rotation.
type SealedChannel struct {
	ID         int64
	MerchantID int64
	Provider   string
	MID        string
	SealedCredentials
}

// ChannelCredentialsNotUnderKey lists up to limit channels whose
// credentials are sealed under another key than keyID (all merchants).
func (s *Store) ChannelCredentialsNotUnderKey(ctx context.Context, keyID string, limit int) ([]SealedChannel, error) {
	rows, err := s.query(ctx, `SELECT id, merchant_id, provider, mid, credentials, credentials_key_id FROM channels
		WHERE credentials IS NOT NULL AND credentials_key_id <> ? LIMIT ?`, keyID, limit)
	if err != nil {
		return nil, fmt.Errorf("channel credentials to rewrap: %w", err)
	}
	defer rows.Close()
	var out []SealedChannel
	for rows.Next() {
		var c SealedChannel
		if err := rows.Scan(&c.ID, &c.MerchantID, &c.Provider, &c.MID, &c.Cipher, &c.KeyID); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ReplaceChannelCredentials swaps a channel's sealed credentials if they
// are still under the key they were read with; it reports whether it did.
func (s *Store) ReplaceChannelCredentials(ctx context.Context, c SealedChannel, newCipher []byte, newKeyID string) (bool, error) {
	res, err := s.exec(ctx, `UPDATE channels SET credentials = ?, credentials_key_id = ? WHERE id = ? AND credentials_key_id = ?`,
		newCipher, newKeyID, c.ID, c.KeyID)
	if err != nil {
		return false, fmt.Errorf("rewrap channel %d: %w", c.ID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// The guard is a keyGuard: plainly written it matched the (merchant_id,
// status, …) index, and statistics never see many unknown attempts.
var expediteCheckSQL = `UPDATE payments SET next_check_at = ? WHERE merchant_id = ? AND imp_uid = ? AND ` + keyGuard("status = 'unknown'")

// ExpediteCheck makes an attempt whose outcome is unknown due for the
// reconciler now; attempts in flight or settled are left alone.
func (s *Store) ExpediteCheck(ctx context.Context, merchantID int64, impUID string, now time.Time) (bool, error) {
	res, err := s.exec(ctx, expediteCheckSQL, us(now), merchantID, impUID)
	if err != nil {
		return false, fmt.Errorf("expedite check %s: %w", impUID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
