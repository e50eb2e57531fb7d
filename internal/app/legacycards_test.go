package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/billkey/billkey/internal/app"
	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/testenv"
	"github.com/billkey/billkey/internal/vault"
)

// A billing key keeps the PG's key sealed and no card number, sealed or
// not; rows written before that are converted at start, and still charge.
func TestNoCardNumberAtRestAndLegacyRowsConverted(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b)
		ctx := context.Background()
		c := &v1{t: t, e: e, token: e.Token(e.Cred)}
		c.ok("POST", "/subscribe/customers/c1", map[string]any{"card_number": "4242-4242-4242-4242", "expiry": "2030-12", "birth": "800101", "pwd_2digit": "12"})

		k, err := e.App.Store.GetBillingKey(ctx, e.Merchant.ID, "c1")
		if err != nil {
			t.Fatal(err)
		}
		aad := vault.CardAAD(e.Merchant.ID, "c1")
		opened, err := e.App.Vault.Open(k.CardCipher, k.CardKeyID, aad)
		if err != nil {
			t.Fatal(err)
		}
		pgKey := string(opened)
		if k.KeyFormat != core.KeySealedPG || k.PGBillingKey != "" || k.CardExpiry != "2030-12" ||
			!strings.HasPrefix(pgKey, "sim_bk_") || strings.Contains(pgKey, "4242424242424242") {
			t.Fatalf("stored key: format %d, clear key %q, expiry %q, sealed %q", k.KeyFormat, k.PGBillingKey, k.CardExpiry, pgKey)
		}

		// Make the row what an earlier version wrote: the sealed card number
		// and the PG's key in clear.
		legacy := *k
		legacy.CardCipher, legacy.CardKeyID, err = e.App.Vault.SealCard("4242424242424242", "2030-12", string(aad))
		if err != nil {
			t.Fatal(err)
		}
		legacy.PGBillingKey, legacy.KeyFormat, legacy.CardExpiry = pgKey, core.KeyLegacyPAN, ""
		if err := e.App.Store.PutBillingKey(ctx, &legacy); err != nil {
			t.Fatal(err)
		}
		n, err := app.ConvertLegacyCards(ctx, e.App.Store, e.App.Vault, nil)
		if err != nil || n != 1 {
			t.Fatalf("converted %d: %v", n, err)
		}
		if n, err := app.ConvertLegacyCards(ctx, e.App.Store, e.App.Vault, nil); err != nil || n != 0 {
			t.Fatalf("second pass converted %d: %v", n, err)
		}
		k, err = e.App.Store.GetBillingKey(ctx, e.Merchant.ID, "c1")
		if err != nil {
			t.Fatal(err)
		}
		opened, err = e.App.Vault.Open(k.CardCipher, k.CardKeyID, aad)
		if err != nil || string(opened) != pgKey || k.PGBillingKey != "" || k.CardExpiry != "2030-12" || k.KeyFormat != core.KeySealedPG {
			t.Fatalf("converted row: %q %v, clear %q, expiry %q", opened, err, k.PGBillingKey, k.CardExpiry)
		}
		paid := c.ok("POST", "/subscribe/payments/again", map[string]any{"customer_uid": "c1", "merchant_uid": "after-convert", "amount": 1000})
		if paid["status"] != "paid" {
			t.Fatalf("again on a converted key: %v", paid)
		}
		c.ok("DELETE", "/subscribe/customers/c1", nil)
	})
}
