// Package chargetest builds the charge protocol for unit tests: a real store
// (SQLite or Postgres, migrated), the sandbox PG over loopback HTTP, a vault
// and a test clock — just the unit and what it stands on, not the whole
// app. The packages built on charge (scheduler, subscription, webhook) start
// their own unit on top of a Bundle.
package chargetest

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/merchant"
	"github.com/billkey/billkey/internal/notice"
	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/pg/sim"
	"github.com/billkey/billkey/internal/pg/simclient"
	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/testenv"
	"github.com/billkey/billkey/internal/vault"
)

// Start is the instant the test clock starts at.
var Start = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// Bundle is a charge service with what it stands on.
type Bundle struct {
	Store     *store.Store
	Sim       *sim.Server
	PG        pg.Connector // what the service calls (wrapped when asked)
	Vault     *vault.Vault
	Clock     *clock.Test
	Service   *charge.Service
	Merchants *merchant.Service
	Merchant  *core.Merchant
	Log       *slog.Logger
}

// Options change how a Bundle is built.
type Options struct {
	// WrapStore and WrapPG stand between the service and its store or PG
	// (failpoints: a database that fails a write, a PG that lags).
	WrapStore func(charge.Store) charge.Store
	WrapPG    func(pg.Connector) pg.Connector
	PGTimeout time.Duration // default 2s
	// NoNotifier leaves the V1 notifier unsubscribed.
	NoNotifier bool
}

// New builds a Bundle on backend b with one merchant on sandbox channels.
func New(t testing.TB, b testenv.Backend, opts ...func(*Options)) *Bundle {
	t.Helper()
	o := Options{PGTimeout: 2 * time.Second}
	for _, f := range opts {
		f(&o)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, b.URL)
	if err != nil {
		t.Fatalf("open %s: %v", b.Name, err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", b.Name, err)
	}
	clk := clock.NewTest(Start)
	master := make([]byte, 32)
	dk, err := vault.NewDataKey(master, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.New(master, []vault.WrappedKey{dk})
	if err != nil {
		t.Fatal(err)
	}
	s := sim.New(sim.Config{})
	url, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("start sandbox PG: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	var conn pg.Connector = simclient.New(url, o.PGTimeout)
	if o.WrapPG != nil {
		conn = o.WrapPG(conn)
	}
	var cs charge.Store = st
	if o.WrapStore != nil {
		cs = o.WrapStore(st)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ms := merchant.New(merchant.Config{Store: st, Vault: v, Clock: clk, Logger: log})
	svc := charge.New(charge.Config{Store: cs, PG: conn, Vault: v, Clock: clk, Logger: log, PGTimeout: o.PGTimeout, Channels: ms})
	if !o.NoNotifier {
		svc.OnSettled(notice.New(clk).Settled)
	}
	bd := &Bundle{Store: st, Sim: s, PG: conn, Vault: v, Clock: clk, Service: svc, Merchants: ms, Log: log}
	bd.Merchant = bd.NewMerchant(t, "Test Merchant")
	return bd
}

// NewMerchant provisions a merchant with the sandbox channels.
func (b *Bundle) NewMerchant(t testing.TB, name string) *core.Merchant {
	t.Helper()
	ctx := context.Background()
	cred, err := b.Merchants.Create(ctx, name)
	if err != nil {
		t.Fatalf("create merchant: %v", err)
	}
	m, err := b.Merchants.ByCode(ctx, cred.MerchantCode)
	if err != nil {
		t.Fatalf("create merchant: %v", err)
	}
	return m
}

// Card is sandbox card data for number.
func Card(number string) pg.Card {
	return pg.Card{Number: number, Expiry: "2030-12", Birth: "800101", Pwd2Digit: "12"}
}

// IssueKey stores a billing key for uid on card number.
func (b *Bundle) IssueKey(t testing.TB, uid, number string) *core.BillingKey {
	t.Helper()
	k, err := b.Service.IssueBillingKey(context.Background(), b.Merchant.ID, charge.IssueKeyInput{CustomerUID: uid, Card: Card(number)})
	if err != nil {
		t.Fatalf("issue %s: %v", uid, err)
	}
	return k
}
