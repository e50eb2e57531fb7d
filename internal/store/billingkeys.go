package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/billkey/billkey/internal/core"
)

const billingKeyCols = `merchant_id, customer_uid, customer_id, pg_provider, pg_id, sandbox, pg_billing_key,
	card_name, card_code, card_number, card_type, card_cipher, card_key_id,
	customer_name, customer_tel, customer_email, customer_addr, customer_postcode, inserted_at, updated_at, pay_method,
	card_expiry, key_format, version`

func scanBillingKey(row interface{ Scan(...any) error }) (*core.BillingKey, error) {
	var k core.BillingKey
	var sandbox, inserted, updated int64
	var cardType sql.NullInt64
	err := row.Scan(&k.MerchantID, &k.CustomerUID, &k.CustomerID, &k.PGProvider, &k.PGID, &sandbox, &k.PGBillingKey,
		&k.CardName, &k.CardCode, &k.CardNumber, &cardType, &k.CardCipher, &k.CardKeyID,
		&k.Customer.Name, &k.Customer.Tel, &k.Customer.Email, &k.Customer.Addr, &k.Customer.Postcode, &inserted, &updated, &k.PayMethod,
		&k.CardExpiry, &k.KeyFormat, &k.Version)
	if err != nil {
		return nil, err
	}
	k.Sandbox, k.CardType, k.Inserted, k.Updated = sandbox != 0, intPtr(cardType), tm(inserted), tm(updated)
	return &k, nil
}

// PutBillingKey stores k, replacing the card of an existing customer_uid
// (v1 re-issue semantics) but keeping its original insertion time.
func (s *Store) PutBillingKey(ctx context.Context, k *core.BillingKey) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.PutBillingKey(ctx, k) })
}

// PutBillingKey is PutBillingKey inside a transaction.
func (tx *Tx) PutBillingKey(ctx context.Context, k *core.BillingKey) error {
	err := tx.queryRow(ctx, `INSERT INTO billing_keys (`+billingKeyCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
		ON CONFLICT (merchant_id, customer_uid) DO UPDATE SET
			customer_id = excluded.customer_id, pg_provider = excluded.pg_provider, pg_id = excluded.pg_id,
			sandbox = excluded.sandbox, pg_billing_key = excluded.pg_billing_key, card_name = excluded.card_name,
			card_code = excluded.card_code, card_number = excluded.card_number, card_type = excluded.card_type,
			card_cipher = excluded.card_cipher, card_key_id = excluded.card_key_id,
			customer_name = excluded.customer_name, customer_tel = excluded.customer_tel,
			customer_email = excluded.customer_email, customer_addr = excluded.customer_addr,
			customer_postcode = excluded.customer_postcode, updated_at = excluded.updated_at,
			pay_method = excluded.pay_method, card_expiry = excluded.card_expiry, key_format = excluded.key_format,
			version = billing_keys.version + 1
		RETURNING inserted_at, version`,
		k.MerchantID, k.CustomerUID, k.CustomerID, k.PGProvider, k.PGID, b2i(k.Sandbox), k.PGBillingKey,
		k.CardName, k.CardCode, k.CardNumber, nullInt(k.CardType), k.CardCipher, k.CardKeyID,
		k.Customer.Name, k.Customer.Tel, k.Customer.Email, k.Customer.Addr, k.Customer.Postcode, us(k.Inserted), us(k.Updated), payMethodOf(k),
		k.CardExpiry, int(k.KeyFormat))
	var inserted int64
	if err := err.Scan(&inserted, &k.Version); err != nil {
		return fmt.Errorf("put billing key %s: %w", k.CustomerUID, err)
	}
	k.Inserted = tm(inserted)
	return nil
}

// GetBillingKey returns a merchant's key by customer_uid.
func (s *Store) GetBillingKey(ctx context.Context, merchantID int64, customerUID string) (*core.BillingKey, error) {
	k, err := scanBillingKey(s.queryRow(ctx, `SELECT `+billingKeyCols+` FROM billing_keys WHERE merchant_id = ? AND customer_uid = ?`,
		merchantID, customerUID))
	if err != nil {
		return nil, notFound(err, "billing key "+customerUID)
	}
	return k, nil
}

// GetBillingKeys returns the merchant's keys among uids (order not guaranteed).
func (s *Store) GetBillingKeys(ctx context.Context, merchantID int64, uids []string) ([]core.BillingKey, error) {
	if len(uids) == 0 {
		return nil, nil
	}
	args := []any{merchantID}
	for _, u := range uids {
		args = append(args, u)
	}
	rows, err := s.query(ctx, `SELECT `+billingKeyCols+` FROM billing_keys WHERE merchant_id = ? AND customer_uid IN (`+
		placeholders(len(uids))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("billing keys: %w", err)
	}
	defer rows.Close()
	var out []core.BillingKey
	for rows.Next() {
		k, err := scanBillingKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *k)
	}
	return out, rows.Err()
}

// DeleteBillingKey removes a key and returns it as it was. Extra statements
// (e.g. revoking the key's pending schedules) run in the same transaction.
func (s *Store) DeleteBillingKey(ctx context.Context, merchantID int64, customerUID string, also func(*Tx) error) (*core.BillingKey, error) {
	var k *core.BillingKey
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		k, err = scanBillingKey(tx.queryRow(ctx, `SELECT `+billingKeyCols+` FROM billing_keys WHERE merchant_id = ? AND customer_uid = ?`+s.forUpdate(),
			merchantID, customerUID))
		if err != nil {
			return notFound(err, "billing key "+customerUID)
		}
		if _, err := tx.exec(ctx, `DELETE FROM billing_keys WHERE merchant_id = ? AND customer_uid = ?`, merchantID, customerUID); err != nil {
			return fmt.Errorf("delete billing key: %w", err)
		}
		if also != nil {
			return also(tx)
		}
		return nil
	})
	return k, err
}

// SealedCard is one stored card ciphertext, for key rotation.
type SealedCard struct {
	MerchantID  int64
	CustomerUID string
	Cipher      []byte
	KeyID       string
}

// CardsNotUnderKey lists up to limit stored cards sealed under another key
// than keyID. It spans merchants: it is an operator maintenance query.
func (s *Store) CardsNotUnderKey(ctx context.Context, keyID string, limit int) ([]SealedCard, error) {
	rows, err := s.query(ctx, `SELECT merchant_id, customer_uid, card_cipher, card_key_id FROM billing_keys
		WHERE card_key_id <> ? LIMIT ?`, keyID, limit)
	if err != nil {
		return nil, fmt.Errorf("cards to rewrap: %w", err)
	}
	defer rows.Close()
	var out []SealedCard
	for rows.Next() {
		var c SealedCard
		if err := rows.Scan(&c.MerchantID, &c.CustomerUID, &c.Cipher, &c.KeyID); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ReplaceCardCipher swaps a card's ciphertext if it is still sealed under
// oldKeyID (a concurrent re-issue wins otherwise). It reports whether it did.
func (s *Store) ReplaceCardCipher(ctx context.Context, c SealedCard, newCipher []byte, newKeyID string) (bool, error) {
	res, err := s.exec(ctx, `UPDATE billing_keys SET card_cipher = ?, card_key_id = ?, version = version + 1
		WHERE merchant_id = ? AND customer_uid = ? AND card_key_id = ?`, newCipher, newKeyID, c.MerchantID, c.CustomerUID, c.KeyID)
	if err != nil {
		return false, fmt.Errorf("rewrap card %s: %w", c.CustomerUID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// LegacyCard is a billing key still holding a sealed card number.
type LegacyCard struct {
	SealedCard
	PGBillingKey string
}

// LegacyCards lists up to limit billing keys written before migration 7,
// across merchants: an operator maintenance query.
func (s *Store) LegacyCards(ctx context.Context, limit int) ([]LegacyCard, error) {
	rows, err := s.query(ctx, `SELECT merchant_id, customer_uid, card_cipher, card_key_id, pg_billing_key FROM billing_keys
		WHERE key_format = ? LIMIT ?`, int(core.KeyLegacyPAN), limit)
	if err != nil {
		return nil, fmt.Errorf("legacy cards: %w", err)
	}
	defer rows.Close()
	var out []LegacyCard
	for rows.Next() {
		var c LegacyCard
		if err := rows.Scan(&c.MerchantID, &c.CustomerUID, &c.Cipher, &c.KeyID, &c.PGBillingKey); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ConvertLegacyCard replaces a legacy row's sealed card number by the
// sealed PG key and the expiry, and clears the key in clear, if the row is
// still as read (a concurrent re-issue wins otherwise).
func (s *Store) ConvertLegacyCard(ctx context.Context, c LegacyCard, sealedKey []byte, keyID, expiry string) (bool, error) {
	res, err := s.exec(ctx, `UPDATE billing_keys SET card_cipher = ?, card_key_id = ?, card_expiry = ?, pg_billing_key = '', key_format = ?, version = version + 1
		WHERE merchant_id = ? AND customer_uid = ? AND key_format = ? AND card_key_id = ? AND pg_billing_key = ?`,
		sealedKey, keyID, expiry, int(core.KeySealedPG), c.MerchantID, c.CustomerUID, int(core.KeyLegacyPAN), c.KeyID, c.PGBillingKey)
	if err != nil {
		return false, fmt.Errorf("convert card %s: %w", c.CustomerUID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func payMethodOf(k *core.BillingKey) string {
	if k.PayMethod == "" {
		return "card"
	}
	return k.PayMethod
}
