package iamport

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/core"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func ptr[T any](v T) *T { return &v }

// golden compares v's envelope JSON with testdata/name.json.
func golden(t *testing.T, name string, status int, v any) {
	t.Helper()
	rec := newRecorder()
	writeOK(rec, status, v)
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, rec.body.Bytes(), "", "  "); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, rec.body.String())
	}
	path := filepath.Join("testdata", name+".json")
	if *update {
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("%s differs from golden file:\n got: %s\nwant: %s", name, pretty.String(), want)
	}
}

var (
	t0 = time.Unix(1719800000, 0)
	t1 = time.Unix(1719800001, 0)
	t2 = time.Unix(1719900000, 0)
)

func paidPayment() core.Payment {
	return core.Payment{
		MerchantID: 7, ImpUID: "imp_123456789012", MerchantUID: "sub_2024_06_u42", Status: core.StatusPaid,
		PayMethod: "card", Channel: "api", PGProvider: "nice", PGID: "nictest04m", PGTID: "nictest04m0116",
		Sandbox: true, ApplyNum: "30012345", CardCode: "366", CardName: "신한카드", CardNumber: "451842******1234",
		CardType: ptr(0), Name: "월간 이용권", Amount: 8900, Currency: "KRW",
		Buyer:       core.Buyer{Name: "홍길동", Email: "a@b.c", Tel: "01012345678"},
		CustomerUID: "user42_card1", CustomerUIDUsage: core.UsagePayment,
		StartedAt: t0, PaidAt: t1, ReceiptURL: "https://receipt.example/?tid=1&x=2",
	}
}

func TestPaymentViewGolden(t *testing.T) {
	paid := paidPayment()
	golden(t, "payment_paid", 200, newPaymentView(&paid))

	failed := paidPayment()
	failed.Status, failed.PaidAt, failed.FailedAt = core.StatusFailed, time.Time{}, t1
	failed.ApplyNum, failed.PGTID, failed.ReceiptURL = "", "", ""
	failed.FailReason = "[4000-9995] 잔액부족"
	golden(t, "payment_failed", 200, newPaymentView(&failed))

	// USD partial refund: decimals render as numbers, only done cancels
	// show, and V1 flips status to cancelled on the first partial cancel.
	usd := paidPayment()
	usd.Currency, usd.Amount, usd.CancelAmount = "USD", 1050, 300
	usd.Status, usd.CancelledAt, usd.CancelReason = core.StatusCancelled, t2, "partial"
	usd.CustomData = ptr(`{"plan":"pro"}`)
	usd.CustomerUIDUsage = ""
	usd.Cancels = []core.Cancellation{
		{ID: "cncl_1", Status: core.CancelDone, Amount: 300, Reason: "partial", PGTID: "c1", ReceiptURL: "https://r/1", CancelledAt: t2},
		{ID: "cncl_2", Status: core.CancelPending, Amount: 100},
		{ID: "cncl_3", Status: core.CancelFailed, Amount: 100},
	}
	golden(t, "payment_cancelled_usd", 200, newPaymentView(&usd))

	// An attempt in flight: no internal status leaks, no user_agent for
	// window payments, everything absent is null/0/[].
	pending := core.Payment{ImpUID: "imp_000000000001", MerchantUID: "m1", Status: core.StatusUnknown, Channel: "pc", Amount: 1000}
	golden(t, "payment_pending", 200, newPaymentView(&pending))
}

func TestPaymentViewHasEveryKey(t *testing.T) {
	want := []string{"imp_uid", "merchant_uid", "pay_method", "channel", "pg_provider", "emb_pg_provider", "pg_tid", "pg_id",
		"sandbox", "escrow", "apply_num", "bank_code", "bank_name", "card_code", "card_name", "card_issuer_code",
		"card_issuer_name", "card_publisher_code", "card_publisher_name", "card_quota", "card_number", "card_type",
		"vbank_code", "vbank_name", "vbank_num", "vbank_holder", "vbank_date", "vbank_issued_at", "name", "amount",
		"cancel_amount", "currency", "buyer_name", "buyer_email", "buyer_tel", "buyer_addr", "buyer_postcode",
		"custom_data", "user_agent", "status", "started_at", "paid_at", "failed_at", "cancelled_at", "fail_reason",
		"cancel_reason", "receipt_url", "cancel_history", "cancel_receipt_urls", "deposit_history",
		"cash_receipt_issued", "customer_uid", "customer_uid_usage", "promotion"}
	b, _ := json.Marshal(newPaymentView(&core.Payment{}))
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.Token()
	var keys []string
	for dec.More() {
		tok, _ := dec.Token()
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		dec.Decode(&skip)
	}
	if len(keys) != len(want) {
		t.Fatalf("got %d keys, want %d: %v", len(keys), len(want), keys)
	}
	for i := range want {
		if keys[i] != want[i] {
			t.Fatalf("key %d = %s, want %s", i, keys[i], want[i])
		}
	}
}

func TestCustomerViewGolden(t *testing.T) {
	k := core.BillingKey{
		CustomerUID: "user42_card1", CustomerID: "user42", PGProvider: "nice", PGID: "nictest04m", Sandbox: true,
		PGBillingKey: "SECRET-PG-KEY", CardCipher: []byte("secret"), CardKeyID: "k1",
		CardName: "신한카드", CardCode: "366", CardNumber: "451842******1234", CardType: ptr(1),
		Customer: core.Buyer{Name: "홍길동", Tel: "01012345678"}, Inserted: t0, Updated: t2,
	}
	golden(t, "customer", 200, newCustomerView(&k))
	b, _ := json.Marshal(newCustomerView(&k))
	if bytes.Contains(b, []byte("SECRET")) || bytes.Contains(b, []byte("k1")) {
		t.Fatalf("customer view leaks the PG key or ciphertext: %s", b)
	}
	golden(t, "customer_minimal", 200, newCustomerView(&core.BillingKey{CustomerUID: "c", PGProvider: "kcp", PGID: "T0000"}))
}

func TestPagedAndMiscGolden(t *testing.T) {
	p := paidPayment()
	golden(t, "paged", 200, newPagedView(core.PaymentPage{Pager: core.Pager{Total: 45, Page: 2, Limit: 20}, Payments: []core.Payment{p}}))
	golden(t, "paged_empty", 200, newPagedView(core.PaymentPage{Pager: core.Pager{Page: 1, Limit: 20}}))
	golden(t, "channels", 200, []channelView{
		newChannelView(&core.Channel{Provider: "nice", MID: "nictest04m", Sandbox: true, Type: "api_payment", Name: "nice test", Key: "channel-key-1"}),
		newChannelView(&core.Channel{Provider: "kcp", MID: "T0000"}),
	})
	golden(t, "prepared_usd", 200, newPreparedView(&core.Prepared{MerchantUID: "m1", Amount: 1999, Currency: "USD"}))
}
