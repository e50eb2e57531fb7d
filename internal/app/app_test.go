package app_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/testenv"
)

type envelope struct {
	Code     int            `json:"code"`
	Message  *string        `json:"message"`
	Response map[string]any `json:"response"`
}

// Merchant B holds a valid token but must not be able to read, charge,
// cancel or delete anything of merchant A's.
func TestMerchantIsolation(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b)
		credB, _ := e.NewMerchant("B")
		tokA, tokB := e.Token(e.Cred), e.Token(credB)

		var out envelope
		if st := e.Do("POST", "/subscribe/customers/shared-uid", tokA, map[string]any{"card_number": "4242-4242-4242-4242", "expiry": "2030-12", "birth": "800101", "pwd_2digit": "12"}, &out); st != 200 || out.Code != 0 {
			t.Fatalf("A issues key: %d %+v", st, out)
		}
		if st := e.Do("POST", "/subscribe/payments/again", tokA, map[string]any{"customer_uid": "shared-uid", "merchant_uid": "order-a", "amount": 1000}, &out); st != 200 || out.Response["status"] != "paid" {
			t.Fatalf("A pays: %d %+v", st, out)
		}
		impUID := out.Response["imp_uid"].(string)

		cases := []struct {
			name, method, path string
			body               any
		}{
			{"read key", "GET", "/subscribe/customers/shared-uid", nil},
			{"list keys", "GET", "/subscribe/customers?customer_uid[]=shared-uid", nil},
			{"key payments", "GET", "/subscribe/customers/shared-uid/payments", nil},
			{"charge key", "POST", "/subscribe/payments/again", map[string]any{"customer_uid": "shared-uid", "merchant_uid": "order-b", "amount": 1000}},
			{"read payment", "GET", "/payments/" + impUID, nil},
			{"read payments", "GET", "/payments?imp_uid[]=" + impUID, nil},
			{"find payment", "GET", "/payments/find/order-a", nil},
			{"cancel payment", "POST", "/payments/cancel", map[string]any{"imp_uid": impUID}},
			{"cancel by order", "POST", "/payments/cancel", map[string]any{"merchant_uid": "order-a"}},
			{"delete key", "DELETE", "/subscribe/customers/shared-uid", nil},
		}
		for _, c := range cases {
			var got envelope
			st := e.Do(c.method, c.path, tokB, c.body, &got)
			if st == 200 && got.Code == 0 {
				t.Errorf("%s: merchant B succeeded: %+v", c.name, got)
			}
		}
		var list struct {
			Code     int `json:"code"`
			Response struct {
				Total int `json:"total"`
			} `json:"response"`
		}
		if e.Do("GET", "/payments/status/all", tokB, nil, &list); list.Response.Total != 0 {
			t.Errorf("merchant B lists %d payments", list.Response.Total)
		}
		// A's data is intact after B's attempts.
		if st := e.Do("GET", "/payments/"+impUID, tokA, nil, &out); st != 200 || out.Response["status"] != "paid" || out.Response["cancel_amount"].(float64) != 0 {
			t.Fatalf("A's payment after B's attempts: %d %+v", st, out)
		}
		if n := len(e.App.Sim.Ledger()); n != 1 {
			t.Fatalf("simulator ledger %d, want 1", n)
		}
	})
}

var pans = []string{"4242424242424242", "4242-4242-4242-4242", "4000000000000341", "4000-0000-0000-0341"}

// Card numbers never appear in logs, responses or the raw database.
func TestCardNumbersNeverStoredOrLogged(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b)
		tok := e.Token(e.Cred)
		var responses bytes.Buffer
		do := func(method, path string, body any) {
			var out map[string]any
			e.Do(method, path, tok, body, &out)
			raw, _ := json.Marshal(out)
			responses.Write(raw)
		}
		do("POST", "/subscribe/customers/c1", map[string]any{"card_number": "4242-4242-4242-4242", "expiry": "2030-12", "birth": "800101", "pwd_2digit": "12"})
		do("POST", "/subscribe/customers/c2", map[string]any{"card_number": "4000000000000341", "expiry": "203012", "birth": "800101", "pwd_2digit": "12"})
		do("POST", "/subscribe/payments/onetime", map[string]any{"merchant_uid": "o1", "amount": 1000, "card_number": "4242-4242-4242-4242", "expiry": "2030-12", "birth": "800101", "pwd_2digit": "12", "customer_uid": "c3"})
		do("POST", "/subscribe/payments/again", map[string]any{"customer_uid": "c2", "merchant_uid": "o2", "amount": 1000})
		do("GET", "/subscribe/customers/c1", nil)
		do("GET", "/payments/find/o1", nil)
		// A bad request must not echo the number back either.
		do("POST", "/subscribe/customers/c4", map[string]any{"card_number": "4242-4242-4242-4241", "expiry": "2030-12"})

		text := responses.String() + e.Logs.String() + dumpDatabase(t, e, b)
		for _, pan := range pans {
			if strings.Contains(text, pan) {
				t.Errorf("full card number %s found in responses, logs or database", pan)
			}
		}
		for _, secret := range []string{"800101"} {
			if strings.Contains(dumpDatabase(t, e, b), secret) {
				t.Errorf("birth %s stored", secret)
			}
		}
	})
}

// dumpDatabase returns every stored byte: the raw SQLite files (database and
// WAL), or every Postgres row as text.
func dumpDatabase(t *testing.T, e *apptest.Env, b testenv.Backend) string {
	t.Helper()
	if b.Name == "sqlite" {
		var all []byte
		for _, suffix := range []string{"", "-wal", "-shm"} {
			raw, err := os.ReadFile(b.URL + suffix)
			if err == nil {
				all = append(all, raw...)
			}
		}
		if len(all) == 0 {
			t.Fatalf("no database files at %s", filepath.Dir(b.URL))
		}
		return string(all)
	}
	db := e.App.Store.DB()
	ctx := context.Background()
	rows, err := db.QueryContext(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		rows.Scan(&name)
		tables = append(tables, name)
	}
	rows.Close()
	var sb strings.Builder
	for _, table := range tables {
		r, err := db.QueryContext(ctx, `SELECT t::text FROM "`+table+`" t`)
		if err != nil {
			t.Fatal(err)
		}
		for r.Next() {
			var s sql.NullString
			r.Scan(&s)
			sb.WriteString(s.String)
		}
		r.Close()
	}
	return sb.String()
}
