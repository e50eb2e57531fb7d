// Package httplimit bounds what a slow or hostile client can hold on an
// HTTP server: time limits for every phase of a connection, a header size
// limit, and a cap on the connections one client address may keep open.
// Without them each client that trickles a byte every few seconds holds a
// goroutine and a descriptor for as long as it likes.
package httplimit

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Limits are the server's bounds. Zero fields take the defaults below.
type Limits struct {
	// ReadHeaderTimeout bounds reading a request's headers, however slowly
	// they trickle in.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout time.Duration
	// WriteTimeout bounds a request from the end of its headers to the end
	// of the response; it must outlast the slowest handler (a create that
	// issues a key and charges it, each bounded by the PG timeout).
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection that sends nothing.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line and headers.
	MaxHeaderBytes int
	// PerClient caps the connections open at once from one client address
	// (one IPv4 address, or one IPv6 /64); beyond it a new connection is
	// closed as soon as it is accepted. < 0 means no cap.
	PerClient int
}

// Defaults.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 2 * time.Minute
	DefaultIdleTimeout       = 60 * time.Second
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultPerClient         = 256
)

func (l Limits) withDefaults() Limits {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&l.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	def(&l.ReadTimeout, DefaultReadTimeout)
	def(&l.WriteTimeout, DefaultWriteTimeout)
	def(&l.IdleTimeout, DefaultIdleTimeout)
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.PerClient == 0 {
		l.PerClient = DefaultPerClient
	}
	return l
}

// Server returns an http.Server for h with the limits' timeouts and header
// size; serve it on Listen's listener for the per-client cap.
func (l Limits) Server(h http.Handler) *http.Server {
	l = l.withDefaults()
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
	}
}

// Listen wraps ln with the per-client connection cap.
func (l Limits) Listen(ln net.Listener) *Listener {
	l = l.withDefaults()
	return &Listener{Listener: ln, perClient: l.PerClient, open: map[netip.Prefix]int{}}
}

// Listener is a net.Listener that refuses a client's connections beyond
// its cap. Refused connections are closed at once, so they hold a
// descriptor only for the instant between accept and close.
type Listener struct {
	net.Listener
	perClient int

	mu      sync.Mutex
	open    map[netip.Prefix]int
	total   int
	peak    int
	refused atomic.Int64
}

// clientOf groups addresses the way one client holds them: an IPv4
// address, or an IPv6 /64 (one subscriber's allocation).
func clientOf(a net.Addr) netip.Prefix {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Prefix{}
	}
	ip := ap.Addr().Unmap()
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits)
	return p
}

// Accept returns the next connection within its client's cap.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		client := clientOf(c.RemoteAddr())
		l.mu.Lock()
		if l.perClient > 0 && l.open[client] >= l.perClient {
			l.mu.Unlock()
			l.refused.Add(1)
			c.Close()
			continue
		}
		l.open[client]++
		l.total++
		l.peak = max(l.peak, l.total)
		l.mu.Unlock()
		return &conn{Conn: c, l: l, client: client}, nil
	}
}

// Open is the number of accepted connections not yet closed.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// Peak is the most connections that were open at once.
func (l *Listener) Peak() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.peak
}

// Refused is the number of connections closed at accept for being over a
// client's cap.
func (l *Listener) Refused() int64 { return l.refused.Load() }

func (l *Listener) release(client netip.Prefix) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.open[client]--; l.open[client] <= 0 {
		delete(l.open, client)
	}
}

type conn struct {
	net.Conn
	l      *Listener
	client netip.Prefix
	once   sync.Once
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.client) })
	return err
}
