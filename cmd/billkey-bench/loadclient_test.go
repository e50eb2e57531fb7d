package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// The load generator's client posts what net/http's would and reads small
// (Content-Length) and large (chunked) answers alike, on kept-alive
// connections.
func TestLoadClientPostsAndKeepsConnectionsAlive(t *testing.T) {
	t.Parallel()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != "POST" || r.Header.Get("Authorization") != "tok" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request line or headers", http.StatusBadRequest)
			return
		}
		if r.URL.Path == "/large" {
			w.Write(bytes.Repeat(body, 4096)) // past net/http's buffer: chunked
			return
		}
		w.Write(body)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c, err := newLoadClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var into bytes.Buffer
	for i := range 20 {
		path := "/small"
		want := `{"n":1}`
		if i%2 == 1 {
			path, want = "/large", strings.Repeat(`{"n":1}`, 4096)
		}
		code, err := c.post(path, "tok", []byte(`{"n":1}`), &into)
		if err != nil || code != http.StatusOK {
			t.Fatalf("post %s: %d %v", path, code, err)
		}
		if into.String() != want {
			t.Fatalf("post %s: got %d bytes, want %d", path, into.Len(), len(want))
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("20 posts in a row opened %d connections, want 1", n)
	}
}

func TestPaymentAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body           string
		code           int
		status, impUID string
		err            bool
	}{
		{body: `{"code":0,"message":null,"response":{"imp_uid":"imp_123456789012","merchant_uid":"m1","status":"paid"}}`, status: "paid", impUID: "imp_123456789012"},
		{body: `{"code":0,"message":null,"response":{"customer_uid":"c1"}}`},
		{body: `{"code":-1,"message":"고객이 없습니다","response":null}`, code: -1},
		{body: `<html>bad gateway</html>`, err: true},
		{body: `{"code":x,"message":null}`, err: true},
	} {
		code, status, impUID, err := paymentAnswer([]byte(tc.body))
		if (err != nil) != tc.err || code != tc.code || status != tc.status || impUID != tc.impUID {
			t.Errorf("paymentAnswer(%s) = %d, %q, %q, %v", tc.body, code, status, impUID, err)
		}
	}
}
