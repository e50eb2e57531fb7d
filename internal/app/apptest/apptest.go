// Package apptest starts a whole Billkey (real store, real vault, the
// sandbox PG over loopback HTTP) for tests, on a test clock.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/app"
	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/merchant"
	"github.com/billkey/billkey/internal/openapi/openapitest"
	"github.com/billkey/billkey/internal/reqid"
	"github.com/billkey/billkey/internal/testenv"
	"github.com/billkey/billkey/internal/vault"
)

// Env is a running Billkey for one test.
type Env struct {
	T     testing.TB
	App   *app.App
	Clock *clock.Test
	// Wall is the clients' and receivers' clock (X-Date, webhook
	// timestamps): stopped at the real time the test started, so that
	// receivers verifying against their own clock accept it, and moved only
	// by the test itself, never by the sandbox clock.
	Wall     *clock.Test
	Server   *httptest.Server
	Logs     *SafeBuffer
	Cred     merchant.Credentials
	Merchant *core.Merchant
	// Config started App; Node starts more nodes with it.
	Config app.Config
}

// SafeBuffer is a bytes.Buffer safe for concurrent log writes.
type SafeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SafeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SafeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Start is the fixed instant tests begin at.
var Start = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// New starts Billkey on backend b with one merchant.
func New(t testing.TB, b testenv.Backend, opts ...func(*app.Config)) *Env {
	t.Helper()
	logs := &SafeBuffer{}
	log := slog.New(vault.RedactingHandler(reqid.Handler(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	clk := clock.NewTest(Start)
	wall := clock.NewTest(time.Now())
	// The listener comes first so that receipt URLs name the test server.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := app.Config{
		PublicURL:   "http://" + ln.Addr().String(),
		DatabaseURL: b.URL, MasterKey: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		Clock: clk, WallClock: wall, Logger: log, PGTimeout: 2 * time.Second,
	}
	for _, o := range opts {
		o(&cfg)
	}
	ctx := context.Background()
	a, err := app.New(ctx, cfg)
	if err != nil {
		ln.Close()
		t.Fatalf("start billkey on %s: %v", b.Name, err)
	}
	t.Cleanup(func() { a.Close() })
	e := &Env{T: t, App: a, Clock: clk, Wall: wall, Logs: logs, Config: cfg}
	e.Cred, e.Merchant = e.NewMerchant("Test Merchant")
	// Every response of every end-to-end test is checked against the
	// OpenAPI documents.
	checked, _ := openapitest.Validate(t, a.Handler)
	e.Server = httptest.NewUnstartedServer(checked)
	e.Server.Listener.Close()
	e.Server.Listener = ln
	e.Server.Start()
	t.Cleanup(e.Server.Close)
	return e
}

// Node starts another Billkey node on the same database, clock, master key
// and PG (the first node's sandbox simulator), as a second server behind a
// load balancer would be, and returns it with its HTTP server.
func (e *Env) Node() (*app.App, *httptest.Server) {
	e.T.Helper()
	cfg := e.Config
	cfg.PGURL = e.App.Config.PGURL
	a, err := app.New(context.Background(), cfg)
	if err != nil {
		e.T.Fatalf("start another node: %v", err)
	}
	e.T.Cleanup(func() { a.Close() })
	checked, _ := openapitest.Validate(e.T, a.Handler)
	srv := httptest.NewServer(checked)
	e.T.Cleanup(srv.Close)
	return a, srv
}

// NewMerchant creates another merchant.
func (e *Env) NewMerchant(name string) (merchant.Credentials, *core.Merchant) {
	e.T.Helper()
	ctx := context.Background()
	cred, err := e.App.Merchants.Create(ctx, name)
	if err != nil {
		e.T.Fatal(err)
	}
	m, err := e.App.Store.MerchantByImpKey(ctx, cred.ImpKey)
	if err != nil {
		e.T.Fatal(err)
	}
	return cred, m
}

// Token gets a v1 access token for cred.
func (e *Env) Token(cred merchant.Credentials) string {
	e.T.Helper()
	var out struct {
		Code     int `json:"code"`
		Response struct {
			AccessToken string `json:"access_token"`
		} `json:"response"`
	}
	status := e.Do("POST", "/users/getToken", "", map[string]string{"imp_key": cred.ImpKey, "imp_secret": cred.ImpSecret}, &out)
	if status != 200 || out.Response.AccessToken == "" {
		e.T.Fatalf("getToken: HTTP %d %+v", status, out)
	}
	return out.Response.AccessToken
}

// Do sends a JSON request (body may be nil) with an optional token and
// decodes the JSON answer into out. It returns the HTTP status.
func (e *Env) Do(method, path, token string, body any, out any) int {
	e.T.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.T.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.Server.URL+path, r)
	if err != nil {
		e.T.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			e.T.Fatalf("%s %s: HTTP %d, undecodable body %q: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}
