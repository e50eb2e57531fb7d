package webhook

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// RefusedAddressError is a delivery refused because the destination resolved
// to an address on the operator's own networks.
type RefusedAddressError struct{ Addr netip.Addr }

func (e *RefusedAddressError) Error() string {
	return fmt.Sprintf("webhook destination %s is a private, loopback or link-local address (set BILLKEY_WEBHOOK_ALLOW_PRIVATE=true to allow)", e.Addr)
}

// blockedPrefixes complete netip's predicates with the IANA IPv4 and IPv6
// Special-Purpose Address Registries (as of 2025) and the ranges that embed
// an IPv4 address in an IPv6 one. A webhook has no business going to any of
// them, including the few the registries call globally reachable (AS112,
// AMT relays): refusing them costs nothing, and a translated or tunnelled
// address (NAT64, 6to4, Teredo, IPv4-compatible) could reach an internal
// IPv4 host through a gateway that the IPv4 checks never see.
var blockedPrefixes = []netip.Prefix{
	// IPv4 (RFC 6890 and updates).
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (carrier-grade NAT)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments (DS-Lite, NAT64 discovery, PCP/TURN anycast)
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation TEST-NET-1
	netip.MustParsePrefix("192.31.196.0/24"), // AS112-v4
	netip.MustParsePrefix("192.52.193.0/24"), // AMT
	netip.MustParsePrefix("192.88.99.0/24"),  // deprecated 6to4 relay anycast
	netip.MustParsePrefix("192.175.48.0/24"), // AS112 direct delegation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation TEST-NET-3
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, incl. limited broadcast
	// IPv6 (RFC 6890 and updates).
	netip.MustParsePrefix("::/96"),             // IPv4-compatible ::a.b.c.d (deprecated), incl. :: and ::1
	netip.MustParsePrefix("::ffff:0:0:0/96"),   // IPv4-translated (SIIT)
	netip.MustParsePrefix("64:ff9b::/96"),      // NAT64 well-known prefix
	netip.MustParsePrefix("64:ff9b:1::/48"),    // local-use NAT64
	netip.MustParsePrefix("100::/64"),          // discard-only
	netip.MustParsePrefix("100:0:0:1::/64"),    // dummy prefix
	netip.MustParsePrefix("2001::/23"),         // IETF protocol assignments: Teredo, benchmarking, ORCHID, AMT, DET
	netip.MustParsePrefix("2001:db8::/32"),     // documentation
	netip.MustParsePrefix("2002::/16"),         // 6to4
	netip.MustParsePrefix("2620:4f:8000::/48"), // AS112 direct delegation
	netip.MustParsePrefix("3fff::/20"),         // documentation
	netip.MustParsePrefix("5f00::/16"),         // SRv6 SIDs
	netip.MustParsePrefix("fc00::/7"),          // unique local
	netip.MustParsePrefix("fec0::/10"),         // deprecated site-local
}

// Blocked reports whether a is somewhere a webhook must not go by default:
// loopback, private, link-local, unspecified, multicast or otherwise
// internal. Cloud metadata services (169.254.169.254) are link-local.
func Blocked(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || !a.IsValid() {
		return true
	}
	for _, p := range blockedPrefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// dialGuard checks the address actually being dialled, after DNS
// resolution: checking the URL's host name up front would be defeated by a
// name that resolves differently at dial time (DNS rebinding).
func dialGuard(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("webhook dial %s: %w", address, err)
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("webhook dial %s: %w", address, err)
	}
	if Blocked(a) {
		return &RefusedAddressError{Addr: a.Unmap()}
	}
	return nil
}

// newClient builds the delivery client: short connect and response
// timeouts, no proxy from the environment (it would move the address check
// to the proxy), and redirects returned instead of followed, so that a 3xx
// counts as a failed delivery rather than a detour to another host.
func newClient(allowPrivate bool, connectTimeout, timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = dialGuard
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   connectTimeout,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
