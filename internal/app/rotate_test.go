package app_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/testenv"
	"github.com/billkey/billkey/internal/vault"
)

// Rotation re-wraps every stored card under the new key, and the cards still
// open under their row identity.
func TestRotateVaultKeyRewrapsCards(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b)
		ctx := context.Background()
		tok := e.Token(e.Cred)
		for _, uid := range []string{"c1", "c2", "c3"} {
			var out envelope
			if e.Do("POST", "/subscribe/customers/"+uid, tok, map[string]any{"card_number": "4242424242424242", "expiry": "2030-12"}, &out); out.Code != 0 {
				t.Fatalf("issue %s: %+v", uid, out)
			}
		}
		oldKey := e.App.Vault.ActiveKeyID()
		newKey, n, err := e.App.Keys.Rotate(ctx, nil)
		if err != nil || n != 3 || newKey == oldKey {
			t.Fatalf("rotate: key %s moved %d, %v", newKey, n, err)
		}
		left, _ := e.App.Store.CardsNotUnderKey(ctx, newKey, 10)
		if len(left) != 0 {
			t.Fatalf("%d cards still under the old key", len(left))
		}
		k, _ := e.App.Store.GetBillingKey(ctx, e.Merchant.ID, "c2")
		// What is sealed is the PG's billing key, never the card number.
		pgKey, err := e.App.Vault.Open(k.CardCipher, k.CardKeyID, vault.CardAAD(e.Merchant.ID, "c2"))
		if err != nil || !strings.HasPrefix(string(pgKey), "sim_bk_") || k.CardExpiry != "2030-12" {
			t.Fatalf("open after rotation: %q %q %v", pgKey, k.CardExpiry, err)
		}
		// Bound to its row: another customer's identity does not open it.
		if _, err := e.App.Vault.Open(k.CardCipher, k.CardKeyID, vault.CardAAD(e.Merchant.ID, "c1")); err == nil {
			t.Fatal("ciphertext opened under another row's identity")
		}
		// Charging keeps working after rotation.
		var out envelope
		if e.Do("POST", "/subscribe/payments/again", tok, map[string]any{"customer_uid": "c1", "merchant_uid": "after-rotate", "amount": 500}, &out); out.Response["status"] != "paid" {
			t.Fatalf("again after rotation: %+v", out)
		}
	})
}

func TestMetricsExposeRoutesAndCharges(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, testenv.SQLite(t))
	tok := e.Token(e.Cred)
	var out envelope
	e.Do("POST", "/subscribe/customers/m1", tok, map[string]any{"card_number": "4242424242424242", "expiry": "2030-12"}, &out)
	e.Do("POST", "/subscribe/payments/again", tok, map[string]any{"customer_uid": "m1", "merchant_uid": "metrics-1", "amount": 500}, &out)
	resp, err := http.Get(e.Server.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`billkey_charges_total{outcome="paid"} 1`,
		`route="/subscribe/payments/again"`,
		`billkey_iamport_request_duration_seconds_bucket`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
