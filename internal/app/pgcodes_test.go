package app_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/pg/provider"
	"github.com/billkey/billkey/internal/testenv"
)

// TestGuidePGCodesResolve: every pg code of the i'mport billing guides
// (reference/pg-guides.md), bare and with its MID, resolves to a channel of
// that provider, whose PG the simulator models; /users/pg lists the window
// channels the guides name, JTNet's included.
func TestGuidePGCodesResolve(t *testing.T) {
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b)
		ctx := context.Background()
		chans, err := e.App.Merchants.Channels(ctx, e.Merchant.ID)
		if err != nil {
			t.Fatal(err)
		}
		mids := map[string]string{}
		for _, c := range chans {
			if c.Type == "payment" {
				mids[c.Provider] = c.MID
			}
		}
		window := []string{"danal_tpay", "danal", "chai", "html5_inicis", "inicis", "jtnet", "kakaopay", "payco",
			"kcp_billing", "kicc", "mobilians", "paymentwall", "naverpay"}
		for _, code := range window {
			mid, ok := mids[code]
			if !ok {
				t.Errorf("no window channel for %s", code)
				continue
			}
			for _, v := range []string{code, code + "." + mid} {
				ch, err := e.App.Merchants.WindowChannel(ctx, e.Merchant.ID, v)
				if err != nil || ch.Provider != code || ch.Type != "payment" {
					t.Errorf("window pg %q resolved to %+v (%v)", v, ch, err)
				}
			}
			if p, ok := provider.Lookup(code); !ok || len(p.Window) == 0 {
				t.Errorf("%s: no window personality", code)
			}
		}
		// REST key-in codes (the guides give none; these are i'mport's).
		for _, code := range []string{"nice", "kcp", "html5_inicis", "jtnet", "settle", "daou", "paymentwall"} {
			found := false
			for _, c := range chans {
				found = found || (c.Provider == code && c.Type == "api_payment")
			}
			if _, ok := provider.Lookup(code); !ok || !found {
				t.Errorf("%s: REST channel %v, personality %v", code, found, ok)
			}
		}
		// Danal's codes as i'mport defines them: danal_tpay is the card
		// window, danal phone billing.
		if p, _ := provider.Lookup("danal_tpay"); !p.SupportsWindowMethod(provider.MethodCard) || p.SupportsWindowMethod(provider.MethodPhone) {
			t.Errorf("danal_tpay is Danal's card window: %v", p.Window)
		}
		if p, _ := provider.Lookup("danal"); !p.SupportsWindowMethod(provider.MethodPhone) || p.SupportsWindowMethod(provider.MethodCard) {
			t.Errorf("danal is Danal's phone billing: %v", p.Window)
		}

		var list struct {
			Code     int `json:"code"`
			Response []struct {
				PG   string `json:"pg_provider"`
				Type string `json:"type"`
			} `json:"response"`
		}
		e.Do("GET", "/users/pg", e.Token(e.Cred), nil, &list)
		listed := false
		for _, c := range list.Response {
			listed = listed || (c.PG == "jtnet" && c.Type == "payment")
		}
		if list.Code != 0 || !listed {
			t.Errorf("/users/pg does not list JTNet's window channel: %+v", list)
		}
	})
}

// TestDemoListsGuideWindows: the demo page offers the guides' window PGs
// with their real methods, JTNet's window and Danal's two codes included.
func TestDemoListsGuideWindows(t *testing.T) {
	e := apptest.New(t, testenv.SQLite(t))
	resp, err := http.Get(e.Server.URL + e.App.DemoPath(e.Cred.MerchantCode))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`value="jtnet.tpaytest2m|card"`, `value="danal_tpay.A010002002|card"`, `value="danal.9810030929|phone"`,
		`value="kcp_billing.T0001|card"`, `value="chai.chai_test|trans"`, `value="kakaopay.TCSUBSCRIP|point"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("demo page lacks %s", want)
		}
	}
}
