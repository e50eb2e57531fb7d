package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/vault"
)

// ConvertLegacyCards rewrites billing keys stored before migration 7, which
// kept the sealed "PAN|YYYY-MM": each becomes the PG's key sealed plus the
// expiry, and the card number is gone. Only the binary can do it (it holds
// the vault key), so it runs at every start until no such row is left;
// concurrent starts are safe (each row converts once). It returns how many
// rows it converted.
func ConvertLegacyCards(ctx context.Context, st *store.Store, v *vault.Vault, log *slog.Logger) (int, error) {
	total, stalls := 0, 0
	for {
		batch, err := st.LegacyCards(ctx, 500)
		if err != nil || len(batch) == 0 {
			return total, err
		}
		converted := 0
		for _, c := range batch {
			aad := vault.CardAAD(c.MerchantID, c.CustomerUID)
			_, expiry, err := v.OpenCard(c.Cipher, c.KeyID, string(aad))
			if err != nil {
				return total, fmt.Errorf("open legacy card of %s: %w", c.CustomerUID, err)
			}
			sealed, keyID, err := v.Seal([]byte(c.PGBillingKey), aad)
			if err != nil {
				return total, fmt.Errorf("seal billing key of %s: %w", c.CustomerUID, err)
			}
			ok, err := st.ConvertLegacyCard(ctx, c, sealed, keyID, expiry)
			if err != nil {
				return total, err
			}
			if ok {
				converted++
			}
		}
		total += converted
		if converted == 0 {
			// Every row of the batch changed under us: read again, but do
			// not spin if something keeps them from converting.
			if stalls++; stalls > 3 {
				return total, fmt.Errorf("convert stored cards: %d rows keep changing", len(batch))
			}
			continue
		}
		stalls = 0
		if log != nil {
			log.Info("billing keys converted: card numbers removed", "rows", converted)
		}
	}
}
