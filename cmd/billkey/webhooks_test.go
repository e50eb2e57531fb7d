package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/app"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/store"
)

func TestWebhooksCLI(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "billkey.db")
	a, err := app.New(ctx, app.Config{DatabaseURL: db, PGURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	cred, err := a.Merchants.Create(ctx, "CLI Shop")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := a.Store.MerchantByCode(ctx, cred.MerchantCode)
	ev := core.Event{ID: "msg_cli1", MerchantID: m.ID, Type: "payment.paid", ImpUID: "imp_cli1",
		Payload: map[string]string{"imp_uid": "imp_cli1", "merchant_uid": "o1", "status": "paid"}, CreatedAt: time.Now()}
	if err := a.Store.InTx(ctx, func(tx *store.Tx) error { return tx.InsertEvents(ctx, []core.Event{ev}) }); err != nil {
		t.Fatal(err)
	}
	a.Close()

	run := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		// Flags come after the subcommand words, as a user types them.
		i := 1
		if args[0] == "secret" {
			i = 2
		}
		full := append(append(append([]string{}, args[:i]...), "--database-url", db, "--log-level", "error"), args[i:]...)
		var errOut bytes.Buffer
		if code := execute(ctx, root(), append([]string{"webhooks"}, full...), &out, &errOut, noEnv); code != 0 {
			t.Fatalf("webhooks %v: exit %d: %s", args, code, errOut.String())
		}
		return out.String()
	}
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"set", "--merchant", cred.MerchantCode, "--url", "https://shop.example/hook", "--profile", "d24"},
			[]string{"https://shop.example/hook", "d24", "json"}},
		{[]string{"set", "--merchant", cred.MerchantCode, "--format", "form"}, []string{"https://shop.example/hook", "d24", "form"}},
		{[]string{"secret", "show", "--merchant", cred.MerchantCode}, []string{"whsec_", "current"}},
		{[]string{"secret", "rotate", "--merchant", cred.MerchantCode}, []string{"current", "signs until"}},
		{[]string{"list", "--imp-uid", "imp_cli1"}, []string{"msg_cli1", "status=pending", cred.MerchantCode}},
		{[]string{"resend", "--event", "msg_cli1"}, []string{"queued"}},
		{[]string{"resend", "--failed", "--merchant", cred.MerchantCode}, []string{"0 failed events queued"}},
	}
	for _, tc := range cases {
		out := run(tc.args...)
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("webhooks %v: output %q lacks %q", tc.args, out, w)
			}
		}
	}
	if code := execute(ctx, root(), []string{"webhooks", "set", "--database-url", db, "--merchant", cred.MerchantCode, "--profile", "forever"}, &bytes.Buffer{}, &bytes.Buffer{}, noEnv); code == 0 {
		t.Error("an unknown profile was accepted")
	}
}

func noEnv(string) string { return "" }
