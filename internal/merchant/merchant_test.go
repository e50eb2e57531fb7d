package merchant_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/merchant"
	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/testenv"
	"github.com/billkey/billkey/internal/vault"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

type bundle struct {
	svc   *merchant.Service
	store *store.Store
	clock *clock.Test
	cred  merchant.Credentials
}

// setup builds just the merchant service on a real store and vault.
func setup(t *testing.T, b testenv.Backend) *bundle {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, b.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	master := make([]byte, 32)
	k, err := vault.NewDataKey(master, t0)
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.New(master, []vault.WrappedKey{k})
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewTest(t0)
	svc := merchant.New(merchant.Config{Store: st, Vault: v, Clock: clk})
	cred, err := svc.Create(ctx, "Shop")
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{svc: svc, store: st, clock: clk, cred: cred}
}

func TestTokenReuseRule(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := setup(t, b)
		ctx := context.Background()
		svc := e.svc
		t1, err := svc.IssueToken(ctx, e.cred.ImpKey, e.cred.ImpSecret)
		if err != nil {
			t.Fatal(err)
		}
		if !t1.ExpiresAt.Equal(t0.Add(30 * time.Minute)) {
			t.Fatalf("expiry %v", t1.ExpiresAt)
		}
		e.clock.Advance(10 * time.Minute)
		t2, _ := svc.IssueToken(ctx, e.cred.ImpKey, e.cred.ImpSecret)
		if t2.Token != t1.Token || !t2.ExpiresAt.Equal(t1.ExpiresAt) {
			t.Fatalf("reuse: %+v vs %+v", t2, t1)
		}
		e.clock.Advance(19*time.Minute + 30*time.Second) // 30 s before expiry
		t3, _ := svc.IssueToken(ctx, e.cred.ImpKey, e.cred.ImpSecret)
		if t3.Token != t1.Token || !t3.ExpiresAt.Equal(t1.ExpiresAt.Add(5*time.Minute)) {
			t.Fatalf("extension: %+v", t3)
		}
		if m, err := svc.Authenticate(ctx, t1.Token); err != nil || m.Code != e.cred.MerchantCode {
			t.Fatalf("live token: %v %v", m, err)
		}
		e.clock.Advance(6 * time.Minute)
		if _, err := svc.Authenticate(ctx, t1.Token); !errors.Is(err, merchant.ErrUnauthorized) {
			t.Fatalf("expired token accepted: %v", err)
		}
		t4, _ := svc.IssueToken(ctx, e.cred.ImpKey, e.cred.ImpSecret)
		if t4.Token == t1.Token {
			t.Fatal("new token expected after expiry")
		}
		if _, err := svc.IssueToken(ctx, e.cred.ImpKey, "wrong"); !errors.Is(err, merchant.ErrBadCredentials) {
			t.Fatalf("bad secret: %v", err)
		}
		if _, err := svc.IssueToken(ctx, "nobody", e.cred.ImpSecret); !errors.Is(err, merchant.ErrBadCredentials) {
			t.Fatalf("unknown key: %v", err)
		}
	})
}

func TestResolveChannel(t *testing.T) {
	t.Parallel()
	e := setup(t, testenv.SQLite(t))
	m, err := e.store.MerchantByImpKey(context.Background(), e.cred.ImpKey)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		pg, window bool
		value      string
		want       string // provider.mid
	}{
		{value: "", want: "nice.nictest04m"},
		{value: "jtnet", want: "jtnet.tjtnet001"},                // REST contract preferred
		{value: "jtnet", window: true, want: "jtnet.tpaytest2m"}, // window contract for windows
		{value: "jtnet.tpaytest2m", want: "jtnet.tpaytest2m"},    // an explicit mid wins
		{value: "kcp_billing", window: true, want: "kcp_billing.T0001"},
		{value: "html5_inicis.INIBillTst", want: "html5_inicis.INIBillTst"},
		{value: "kicc", window: true, want: "kicc.T5102001"},
	}
	for _, c := range cases {
		resolve := e.svc.ResolveChannel
		if c.window {
			resolve = e.svc.WindowChannel
		}
		ch, err := resolve(context.Background(), m.ID, c.value)
		if err != nil {
			t.Fatalf("%q: %v", c.value, err)
		}
		if got := ch.Provider + "." + ch.MID; got != c.want {
			t.Errorf("pg %q (window %v) → %s, want %s", c.value, c.window, got, c.want)
		}
	}
}

func TestSetCheckoutOrigins(t *testing.T) {
	t.Parallel()
	e := setup(t, testenv.SQLite(t))
	ctx := context.Background()
	if _, err := e.svc.SetCheckoutOrigins(ctx, e.cred.MerchantCode, []string{"ftp://nope"}); err == nil {
		t.Fatal("bad origin accepted")
	}
	if _, err := e.svc.SetCheckoutOrigins(ctx, "imp00000000", nil); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("unknown merchant: %v", err)
	}
	m, err := e.svc.SetCheckoutOrigins(ctx, e.cred.MerchantCode, []string{" https://shop.example.com ", "", "https://*.brand.kr"})
	if err != nil || len(m.CheckoutOrigins) != 2 {
		t.Fatalf("set: %v %v", m, err)
	}
	all, err := e.svc.AllCheckoutOrigins(ctx)
	if err != nil || !all.Match("https://www.brand.kr") || all.Match("https://evil.example.com") {
		t.Fatalf("all origins %v %v", all, err)
	}
}

// Access tokens are stored hashed: the database holds neither the token nor
// anything it can be computed from without the imp_secret.
func TestAccessTokensStoredHashed(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := setup(t, b)
		ctx := context.Background()
		tok, err := e.svc.IssueToken(ctx, e.cred.ImpKey, e.cred.ImpSecret)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := e.store.DB().QueryContext(ctx, `SELECT * FROM tokens`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		n := 0
		for rows.Next() {
			n++
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				var s string
				switch v := v.(type) {
				case string:
					s = v
				case []byte:
					s = string(v)
				}
				if s != "" && (strings.Contains(s, tok.Token) || strings.Contains(tok.Token, s) && len(s) >= 8) {
					t.Fatalf("column %s holds the access token in clear: %q", cols[i], s)
				}
			}
		}
		if n != 1 {
			t.Fatalf("%d token rows", n)
		}
		// The same token comes back while it lives, and authenticates.
		again, err := e.svc.IssueToken(ctx, e.cred.ImpKey, e.cred.ImpSecret)
		if err != nil || again.Token != tok.Token {
			t.Fatalf("reuse: %q vs %q (%v)", again.Token, tok.Token, err)
		}
		// A fresh service (another node, cold cache) authenticates it from the store.
		other := merchant.New(merchant.Config{Store: e.store, Clock: e.clock})
		if m, err := other.Authenticate(ctx, tok.Token); err != nil || m.Code != e.cred.MerchantCode {
			t.Fatalf("cold authenticate: %v %v", m, err)
		}
		// Flip the last hex digit: replacing it with a fixed one left the
		// token unchanged one run in sixteen.
		last := "0"
		if strings.HasSuffix(tok.Token, "0") {
			last = "1"
		}
		if _, err := other.Authenticate(ctx, tok.Token[:len(tok.Token)-1]+last); !errors.Is(err, merchant.ErrUnauthorized) {
			t.Fatalf("altered token: %v", err)
		}
	})
}
