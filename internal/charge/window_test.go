package charge_test

import (
	"context"
	"errors"
	"testing"

	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/testenv"
)

// TestWindowPay pins what each kind of payment-window request leaves behind.
func TestWindowPay(t *testing.T) {
	svc, bd := setup(t, testenv.SQLite(t))
	ctx := context.Background()
	mid := bd.Merchant.ID
	if _, err := svc.Prepare(ctx, mid, "prep", 5000, "KRW", false); err != nil {
		t.Fatal(err)
	}
	cardOf := func(n string) *pg.Card {
		return &pg.Card{Number: n, Expiry: "2030-12", Birth: "900101", Pwd2Digit: "12"}
	}
	cases := []struct {
		name       string
		in         charge.WindowInput
		status     core.PaymentStatus
		usage      string
		keyStored  bool
		events     int
		wantErr    any
		wantCharge bool
	}{
		{"key only", charge.WindowInput{PayMethod: "card", PayInput: charge.PayInput{
			MerchantUID: "w1", CustomerUID: "c1", PG: "kicc", Card: cardOf("4242424242424242")}},
			core.StatusPaid, core.UsageIssue, true, 1, nil, false},
		{"key and first payment", charge.WindowInput{PayMethod: "card", PayInput: charge.PayInput{
			MerchantUID: "w2", CustomerUID: "c2", Amount: 1000, PG: "danal_tpay", Card: cardOf("4242424242424242")}},
			core.StatusPaid, core.UsageIssue, true, 1, nil, true},
		{"first payment declines, key kept", charge.WindowInput{PayMethod: "card", PayInput: charge.PayInput{
			MerchantUID: "w3", CustomerUID: "c3", Amount: 1000, PG: "danal_tpay", Card: cardOf("4000000000000341")}},
			core.StatusFailed, core.UsageIssue, true, 0, nil, true},
		{"ordinary payment, no key", charge.WindowInput{PayMethod: "card", PayInput: charge.PayInput{
			MerchantUID: "w4", Amount: 1000, PG: "payco", Card: cardOf("4242424242424242")}},
			core.StatusPaid, "", false, 1, nil, true},
		{"chai transfer key", charge.WindowInput{PayMethod: "trans", PayInput: charge.PayInput{
			MerchantUID: "w5", CustomerUID: "c5", PG: "chai"}},
			core.StatusPaid, core.UsageIssue, true, 1, nil, false},
		{"issuance declined", charge.WindowInput{PayMethod: "card", PayInput: charge.PayInput{
			MerchantUID: "w6", CustomerUID: "c6", PG: "kicc", Card: cardOf("4000000000000002")}},
			core.StatusFailed, core.UsageIssue, false, 0, new(*charge.PGRefusedError), false},
		{"amount tampered", charge.WindowInput{PayMethod: "card", PayInput: charge.PayInput{
			MerchantUID: "prep", Amount: 100, PG: "kicc", Card: cardOf("4242424242424242")}},
			"", "", false, 0, new(*charge.AmountMismatchError), false},
		{"duplicate order", charge.WindowInput{PayMethod: "card", PayInput: charge.PayInput{
			MerchantUID: "w1", CustomerUID: "c7", PG: "kicc", Card: cardOf("4242424242424242")}},
			"", "", false, 0, new(*charge.DuplicateOrderError), false},
		{"amount 0 needs customer_uid", charge.WindowInput{PayMethod: "card", PayInput: charge.PayInput{
			MerchantUID: "w8", PG: "kicc", Card: cardOf("4242424242424242")}},
			"", "", false, 0, new(*charge.ValidationError), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := bd.Sim.Stats().Charges
			p, k, err := svc.WindowPay(ctx, mid, c.in)
			if c.wantErr != nil {
				if err == nil || !errors.As(err, c.wantErr) {
					t.Fatalf("err = %v, want %T", err, c.wantErr)
				}
			} else if err != nil {
				t.Fatalf("err = %v", err)
			}
			if c.status != "" {
				if p == nil || p.Status != c.status || p.CustomerUIDUsage != c.usage || p.Channel != "pc" || p.PayMethod != c.in.PayMethod {
					t.Fatalf("payment %+v", p)
				}
				evs, _ := bd.Store.Events(ctx, mid, p.ImpUID)
				if len(evs) != c.events {
					t.Errorf("%d outbox events, want %d", len(evs), c.events)
				}
			}
			_, kerr := svc.GetBillingKey(ctx, mid, c.in.CustomerUID)
			if stored := c.in.CustomerUID != "" && kerr == nil; stored != c.keyStored || (c.keyStored && k == nil) {
				t.Errorf("key stored = %v (%v), want %v", stored, kerr, c.keyStored)
			}
			if charged := bd.Sim.Stats().Charges > before; charged != c.wantCharge {
				t.Errorf("PG charged = %v, want %v", charged, c.wantCharge)
			}
		})
	}
}
