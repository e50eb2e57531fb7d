package v3_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/api/v3/d24"
	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/testenv"
)

// send replays exactly the given signed headers and body against base.
func send(t *testing.T, base, method, path string, hdr http.Header, raw string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, base+path, nil)
	if raw != "" {
		req, _ = http.NewRequest(method, base+path, strings.NewReader(raw))
	}
	req.Header = hdr.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: HTTP %d, body %q", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode, out
}

// rawExec runs one statement written with ? placeholders on either store.
func rawExec(t *testing.T, e *apptest.Env, b testenv.Backend, q string, args ...any) int64 {
	t.Helper()
	if b.Name == "postgres" {
		n := 0
		out := make([]byte, 0, len(q)+8)
		for i := 0; i < len(q); i++ {
			if q[i] == '?' {
				n++
				out = append(out, fmt.Sprintf("$%d", n)...)
				continue
			}
			out = append(out, q[i])
		}
		q = string(out)
	}
	res, err := e.App.Store.DB().ExecContext(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	n, _ := res.RowsAffected()
	return n
}

func count(t *testing.T, e *apptest.Env, table string) int {
	t.Helper()
	var n int
	if err := e.App.Store.DB().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestReplayedSignatureRefused: the signature covers X-Date, X-Login and
// the body, not the method or path, so a captured empty-body GET used to be
// a valid DELETE of any subscription for five minutes. A (login, X-Date,
// signature) is now accepted once, on whichever node sees it first.
func TestReplayedSignatureRefused(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b)
		_, node2 := e.Node()
		st, out := call(t, e, "POST", "/v3/subscriptions", pciBody("INV-R"), nil)
		if st != 200 {
			t.Fatalf("create: %d %v", st, out)
		}
		path := fmt.Sprintf("/v3/subscriptions/%d", num(out["subscription_id"]))

		// The captured request: a signed GET with an empty body.
		xDate := freshXDate(e)
		hdr := http.Header{}
		hdr.Set("X-Date", xDate)
		hdr.Set("X-Login", e.Cred.XLogin)
		hdr.Set("Authorization", d24.Sign(e.Cred.APISignature, xDate, e.Cred.XLogin, nil))
		if st, out := send(t, e.Server.URL, "GET", path, hdr, ""); st != 200 || out["status"] != "ACTIVE" {
			t.Fatalf("original GET: %d %v", st, out)
		}
		replays := 0
		for _, r := range []struct{ base, method string }{
			{node2.URL, "DELETE"}, {e.Server.URL, "DELETE"}, {e.Server.URL, "GET"}, {node2.URL, "GET"},
		} {
			st, out := send(t, r.base, r.method, path, hdr, "")
			if st != 400 || num(out["code"]) != 101 || out["type"] != "MISSING_REQUIRED_HEADER" {
				t.Fatalf("replayed as %s: %d %v", r.method, st, out)
			}
			replays++
		}
		// Upper-case hex is the same MAC, hence the same request.
		upper := hdr.Clone()
		upper.Set("Authorization", "D24 "+upperHex(hdr.Get("Authorization")[4:]))
		if st, _ := send(t, node2.URL, "DELETE", path, upper, ""); st != 400 {
			t.Fatalf("replay with upper-case hex: %d", st)
		}
		replays++
		if st, sub := call(t, e, "GET", path, nil, nil); st != 200 || sub["status"] != "ACTIVE" {
			t.Fatalf("after the replays: %d %v", st, sub)
		}
		// Fingerprints go once their X-Date is out of the window.
		if n := count(t, e, "d24_seen"); n < 3 {
			t.Fatalf("%d fingerprints stored", n)
		}
		e.Wall.Advance(d24.DefaultWindow + time.Second)
		if _, err := e.App.PruneExpired(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := count(t, e, "d24_seen"); n != 0 {
			t.Fatalf("%d fingerprints left after their window", n)
		}
		t.Logf("%s: %d replays refused across 2 nodes", b.Name, replays)
	})
}

func upperHex(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// TestIdempotencyClaimOfCrashedNodeTakenOver: a node that died while
// processing a keyed POST left a claim with no answer. Retries are refused
// as "in use" while the lease runs, then one retry takes the claim over and
// runs; keys past 24 hours are deleted.
func TestIdempotencyClaimOfCrashedNodeTakenOver(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b)
		body := pciBody("INV-L")
		raw, _ := json.Marshal(body)
		rawExec(t, e, b, `INSERT INTO idempotency_keys (merchant_id, idem_key, request_hash, created_at) VALUES (?, ?, ?, ?)`,
			e.Merchant.ID, "crashed-1", d24.RequestHash("POST", "/v3/subscriptions", raw), e.Clock.Now().UnixMicro())
		key := map[string]string{"X-Idempotency-Key": "crashed-1"}
		if st, out := call(t, e, "POST", "/v3/subscriptions", body, key); st != 409 || out["type"] != "IDEMPOTENCY_KEY_IN_USE" {
			t.Fatalf("within the lease: %d %v", st, out)
		}
		e.Clock.Advance(2*time.Minute + time.Second)
		st, out := call(t, e, "POST", "/v3/subscriptions", body, key)
		if st != 200 || num(out["subscription_id"]) == 0 {
			t.Fatalf("after the lease: %d %v", st, out)
		}
		st2, out2 := call(t, e, "POST", "/v3/subscriptions", body, key)
		if st2 != 200 || out2["subscription_id"] != out["subscription_id"] {
			t.Fatalf("replay after takeover: %d %v", st2, out2)
		}
		if n := e.App.Sim.ChargeCount(true); n != 1 {
			t.Fatalf("%d charges", n)
		}
		// Another body under the same key is still refused.
		if st, out := call(t, e, "POST", "/v3/subscriptions", pciBody("INV-L2"), key); st != 409 || out["type"] != "IDEMPOTENCY_KEY_REUSED" {
			t.Fatalf("other body: %d %v", st, out)
		}
		if _, err := e.App.PruneExpired(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := count(t, e, "idempotency_keys"); n != 1 {
			t.Fatalf("%d keys within retention", n)
		}
		e.Clock.Advance(d24.IdempotencyRetention + time.Minute)
		p, err := e.App.PruneExpired(context.Background())
		if err != nil || p.IdempotencyKeys != 1 || count(t, e, "idempotency_keys") != 0 {
			t.Fatalf("expired keys not deleted: %+v %v, %d left", p, err, count(t, e, "idempotency_keys"))
		}
		if s, _ := e.App.Subscriptions().Get(context.Background(), e.Merchant.ID, num(out["subscription_id"])); s == nil || s.Status == core.SubCancelled {
			t.Fatalf("subscription: %+v", s)
		}
	})
}
