package adversarial_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/api/v3/d24"
	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/merchant"
	"github.com/billkey/billkey/internal/testenv"
)

// reply is one answer: status, raw body and, when it is JSON, the decoded
// object.
type reply struct {
	status int
	header http.Header
	raw    []byte
	json   map[string]any
}

// send issues one raw request; hdr values are set as given, so a test can
// put bytes net/http's client would never produce itself.
func send(t testing.TB, base, method, path string, hdr http.Header, body []byte) reply {
	t.Helper()
	req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s %q: %v", method, path, err)
	}
	if body == nil {
		req.Body = http.NoBody
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %q: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	json.Unmarshal(raw, &r.json)
	return r
}

var xDateSeq atomic.Int64

// signD24 signs a v3 request with a unique X-Date on the frozen test clock.
func signD24(e *apptest.Env, cred merchant.Credentials, hdr http.Header, body []byte) http.Header {
	if hdr == nil {
		hdr = http.Header{}
	}
	xDate := e.Wall.Now().Add(time.Duration(xDateSeq.Add(1)) * time.Microsecond).UTC().Format("2006-01-02T15:04:05.000000Z")
	hdr.Set("X-Date", xDate)
	hdr.Set("X-Login", cred.XLogin)
	hdr.Set("Authorization", d24.Sign(cred.APISignature, xDate, cred.XLogin, body))
	hdr.Set("Content-Type", "application/json")
	return hdr
}

func bearer(tok string) http.Header {
	return http.Header{"Authorization": {"Bearer " + tok}, "Content-Type": {"application/json"}}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// v1Failed reports whether r is a V1 envelope that is not a success.
func v1Failed(r reply) bool {
	code, ok := r.json["code"].(float64)
	return ok && code != 0
}

// issueKey gives merchant cred a billing key for customerUID.
func issueKey(t testing.TB, e *apptest.Env, tok, customerUID string) {
	t.Helper()
	r := send(t, e.Server.URL, "POST", "/subscribe/customers/"+customerUID, bearer(tok),
		mustJSON(map[string]any{"card_number": "4242-4242-4242-4242", "expiry": "2030-12", "birth": "800101", "pwd_2digit": "12"}))
	if r.status != 200 || v1Failed(r) {
		t.Fatalf("issue key %s: %d %s", customerUID, r.status, r.raw)
	}
}

// dataTables are the tables holding merchant data; "nothing stored" means
// none of them changed.
var dataTables = []string{"billing_keys", "payments", "cancellations", "prepared", "schedules", "subscriptions", "deposits",
	"events", "checkout_sessions", "merchants", "channels", "idempotency_keys"}

func rowCounts(t testing.TB, e *apptest.Env) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range dataTables {
		var n int
		if err := e.App.Store.DB().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		out[table] = n
	}
	return out
}

// dumpDatabase returns every stored byte: the raw SQLite files (database
// and WAL), or every Postgres row of the test's schema as text.
func dumpDatabase(t testing.TB, e *apptest.Env, b testenv.Backend) string {
	t.Helper()
	if b.Name == "sqlite" {
		var all []byte
		for _, suffix := range []string{"", "-wal"} {
			if raw, err := os.ReadFile(b.URL + suffix); err == nil {
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
		r, err := db.QueryContext(ctx, fmt.Sprintf(`SELECT t::text FROM %q t`, table))
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
