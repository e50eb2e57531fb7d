package httplimit_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/httplimit"
)

// serve starts h under lim on a loopback port.
func serve(t *testing.T, lim httplimit.Limits, h http.Handler) (*httplimit.Listener, string) {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := lim.Listen(raw)
	srv := lim.Server(h)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln, raw.Addr().String()
}

var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.Write([]byte("ok"))
})

// closedByServer reports, once the server closes c, on done. A client
// that never gets closed makes the test fail at its deadline.
func closedByServer(c net.Conn, done chan<- net.Conn) {
	go func() {
		c.SetReadDeadline(time.Now().Add(30 * time.Second)) // a failure guard, not a wait
		io.Copy(io.Discard, c)
		done <- c
	}()
}

// trickle writes msg one byte per tick until the server closes the
// connection or msg is exhausted.
func trickle(c net.Conn, msg string, tick time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for i := 0; i < len(msg); i++ {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if _, err := c.Write([]byte{msg[i]}); err != nil {
			return
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestTricklingClientsCutOff: clients that trickle their headers or their
// body a byte at a time are disconnected by the server once the header or
// request deadline passes, instead of holding a connection for as long as
// they keep trickling.
func TestTricklingClientsCutOff(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		msg  string
	}{
		{"headers", "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 10_000)},
		{"body", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + strings.Repeat("b", 100_000)},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ln, addr := serve(t, httplimit.Limits{ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: 400 * time.Millisecond,
				PerClient: -1}, ok)
			const n = 40
			done := make(chan net.Conn, n)
			stop := make(chan struct{})
			defer close(stop)
			for range n {
				conn, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				closedByServer(conn, done)
				if c.name == "body" {
					// Headers at once, then the body a byte at a time.
					i := strings.Index(c.msg, "\r\n\r\n") + 4
					conn.Write([]byte(c.msg[:i]))
					go trickle(conn, c.msg[i:], 20*time.Millisecond, stop)
				} else {
					go trickle(conn, c.msg, 20*time.Millisecond, stop)
				}
			}
			for range n {
				<-done
			}
			waitFor(t, "the server to release every connection", func() bool { return ln.Open() == 0 })
			t.Logf("%d trickling clients (%s) disconnected by the server; peak %d open", n, c.name, ln.Peak())
		})
	}
}

// TestConnectionsCappedPerClient: beyond the cap, one address's new
// connections are closed at accept, so a flood of slow connections from one
// client holds at most the cap in descriptors; others keep being served
// and the client is served again once its connections close.
func TestConnectionsCappedPerClient(t *testing.T) {
	t.Parallel()
	const limit, n = 8, 120
	ln, addr := serve(t, httplimit.Limits{PerClient: limit, ReadHeaderTimeout: time.Minute}, ok)
	done := make(chan net.Conn, n)
	var mu sync.Mutex
	held := map[net.Conn]bool{}
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("GET / HTTP/1.1\r\nHo")) // a request that never finishes
		mu.Lock()
		held[c] = true
		mu.Unlock()
		closedByServer(c, done)
	}
	for range n - limit {
		c := <-done
		mu.Lock()
		delete(held, c)
		mu.Unlock()
	}
	waitFor(t, "every connection accepted or refused", func() bool { return ln.Open()+int(ln.Refused()) == n })
	if ln.Open() != limit || ln.Refused() != n-limit || ln.Peak() != limit || len(held) != limit {
		t.Fatalf("open %d, refused %d, peak %d, held %d; want %d open and %d refused", ln.Open(), ln.Refused(), ln.Peak(), len(held), limit, n-limit)
	}
	// At the cap, even a well-formed request from this client is refused.
	if _, err := get(addr); err == nil {
		t.Fatal("a request beyond the cap was served")
	}
	for c := range held {
		c.Close()
	}
	waitFor(t, "the held connections to be released", func() bool { return ln.Open() == 0 })
	if body, err := get(addr); err != nil || body != "ok" {
		t.Fatalf("after release: %q %v", body, err)
	}
	t.Logf("%d connections from one address: %d held, %d refused at accept, peak %d open", n, limit, ln.Refused(), ln.Peak())
}

func get(addr string) (string, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// TestHeaderSizeLimit: headers beyond MaxHeaderBytes are answered 431.
func TestHeaderSizeLimit(t *testing.T) {
	t.Parallel()
	_, addr := serve(t, httplimit.Limits{MaxHeaderBytes: 4 << 10}, ok)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", strings.Repeat("h", 64<<10))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("oversized headers: %v %v", resp, err)
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	srv := httplimit.Limits{}.Server(ok)
	if srv.ReadHeaderTimeout != httplimit.DefaultReadHeaderTimeout || srv.ReadTimeout != httplimit.DefaultReadTimeout ||
		srv.WriteTimeout != httplimit.DefaultWriteTimeout || srv.IdleTimeout != httplimit.DefaultIdleTimeout ||
		srv.MaxHeaderBytes != httplimit.DefaultMaxHeaderBytes {
		t.Fatalf("defaults: %+v", srv)
	}
}
