package v3_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/testenv"
)

// TestDepositMatchesDocs compares a deposit field by field with the
// documented example (reference/onekey-v3.md §5): every documented key is
// there, the card is masked "1234 56** **** 6789" style, card_detail has the
// holder_name that was sent and the expiration, usd_amount is filled for a
// BRL deposit; and the subscription's dates share one zone and format.
func TestDepositMatchesDocs(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b)
		body := pciBody("INV-DOC")
		body["currency"], body["country"], body["amount"] = "BRL", "BR", 53.10
		body["credit_card"].(map[string]any)["holder_name"] = "MARIA S SILVA"
		st, out := call(t, e, "POST", "/v3/subscriptions", body, nil)
		id := num(out["subscription_id"])
		if st != 200 || id == 0 {
			t.Fatalf("create: %d %v", st, out)
		}
		ds, _ := e.App.Store.Deposits(t.Context(), e.Merchant.ID, id)
		if len(ds) != 1 {
			t.Fatalf("%d deposits", len(ds))
		}
		st, dep := call(t, e, "GET", fmt.Sprintf("/v3/deposits/%d", ds[0].ID), nil, nil)
		if st != 200 {
			t.Fatalf("deposit: %d %v", st, dep)
		}
		documented := []string{"user_id", "deposit_id", "invoice_id", "country", "currency", "local_amount", "usd_amount",
			"bonus_amount", "bonus_relative", "payment_method", "payment_type", "status", "payer", "fee_amount",
			"fee_currency", "bank_account", "card_detail", "subscription_id"}
		for _, k := range documented {
			if _, ok := dep[k]; !ok {
				t.Errorf("deposit lacks documented field %q", k)
			}
		}
		if dep["country"] != "BR" || dep["currency"] != "BRL" || dep["local_amount"] != 53.1 || dep["bonus_relative"] != "false" {
			t.Errorf("deposit: %v", dep)
		}
		if usd, ok := dep["usd_amount"].(float64); !ok || usd <= 0 || usd >= 53.1 {
			t.Errorf("usd_amount %v for 53.10 BRL", dep["usd_amount"])
		}
		cd, _ := dep["card_detail"].(map[string]any)
		for _, k := range []string{"card_holder", "brand", "masked_card", "expiration", "card_type", "transaction_result"} {
			if _, ok := cd[k]; !ok {
				t.Errorf("card_detail lacks %q", k)
			}
		}
		if cd["card_holder"] != "MARIA S SILVA" || cd["expiration"] != "2030-12" || cd["brand"] != "Visa" ||
			!regexp.MustCompile(`^\d{4} \d{2}\*\* \*{4} \d{4}$`).MatchString(fmt.Sprint(cd["masked_card"])) {
			t.Errorf("card_detail: %v", cd)
		}

		_, sub := call(t, e, "GET", fmt.Sprintf("/v3/subscriptions/%d", id), nil, nil)
		// apptest.Start is 09:00 UTC: 18:00 in the subscription's zone (Asia/Seoul).
		if sub["creation_date"] != "2026-03-01T18:00:00" || sub["last_modified_date"] != "2026-03-01T18:00:00" {
			t.Errorf("dates: creation %v, last_modified %v", sub["creation_date"], sub["last_modified_date"])
		}
		keys := make([]string, 0, len(sub))
		for k := range sub {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if want := []string{"amount", "auto_renewal", "creation_date", "end_date", "id", "last_modified_date", "start_date", "status", "subscription_plan"}; !slices.Equal(keys, want) {
			t.Errorf("subscription fields %v, documented %v", keys, want)
		}
	})
}

// TestAbandonedOneShotExpires: a OneShot subscription whose hosted page was
// never completed reads CANCELLED once its expiration_date passes, with
// last_modified_date at that moment, in the same zone and style.
func TestAbandonedOneShotExpires(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, testenv.SQLite(t))
	body := pciBody("INV-ABANDON")
	delete(body, "credit_card")
	body["success_url"] = "https://shop.example.com/ok"
	st, out := call(t, e, "POST", "/v3/subscriptions", body, nil)
	id := num(out["subscription_id"])
	exp, _ := out["expiration_date"].(string)
	if st != 200 || exp != "2026-03-01 18:30:00" {
		t.Fatalf("oneshot create: %d %v (expiration_date in the subscription's zone)", st, out)
	}
	if _, sub := call(t, e, "GET", fmt.Sprintf("/v3/subscriptions/%d", id), nil, nil); sub["status"] != "PENDING" {
		t.Fatalf("before expiry: %v", sub)
	}
	e.Clock.Advance(30 * time.Minute)
	_, sub := call(t, e, "GET", fmt.Sprintf("/v3/subscriptions/%d", id), nil, nil)
	if sub["status"] != "CANCELLED" || sub["last_modified_date"] != "2026-03-01T18:30:00" {
		t.Fatalf("after expiry: %v", sub)
	}
	if st, out := call(t, e, "DELETE", fmt.Sprintf("/v3/subscriptions/%d", id), map[string]any{}, nil); st != 421 {
		t.Fatalf("cancel of an expired OneShot: %d %v", st, out)
	}
}

// TestDeclineTextsFollowCountry: a refused card is worded for the
// subscription's country (Portuguese for BR, Spanish for MX, English for US,
// the PG's own Korean for KR), never Korean PG text for a BRL subscription.
func TestDeclineTextsFollowCountry(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, testenv.SQLite(t))
	tests := []struct{ country, currency, want string }{
		{"BR", "BRL", "Saldo insuficiente"},
		{"MX", "MXN", "Fondos insuficientes"},
		{"US", "USD", "Insufficient funds"},
		{"KR", "KRW", "잔액부족"},
	}
	for i, tt := range tests {
		body := pciBody(fmt.Sprintf("INV-DEC-%d", i))
		body["country"], body["currency"] = tt.country, tt.currency
		if tt.currency == "KRW" {
			body["amount"] = 9900
		}
		body["credit_card"].(map[string]any)["card_number"] = "4000000000009995"
		st, out := call(t, e, "POST", "/v3/subscriptions", body, nil)
		desc := fmt.Sprint(out["description"])
		if st != 422 || !strings.Contains(desc, tt.want) || (tt.country != "KR" && regexp.MustCompile(`[가-힣]`).MatchString(desc)) {
			t.Errorf("%s/%s: %d %q, want %q", tt.country, tt.currency, st, desc, tt.want)
		}
	}
}
