package checkout

import (
	"fmt"
	"net/url"
	"strings"
)

// DefaultOrigins may embed the window and open sessions when none are
// configured: pages on this machine, for the sandbox and the demo. The
// Billkey origin itself is always allowed (the demo page lives there).
var DefaultOrigins = []string{"http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"}

// originPattern is a CSP-style source: scheme://host[:port], where host may
// start with "*." and port may be "*"; or "*" for any http(s) origin.
type originPattern struct {
	any          bool
	scheme, host string
	port         string // "" = default port, "*" = any
	raw          string
}

func parseOrigins(list []string) ([]originPattern, error) {
	var out []originPattern
	for _, raw := range list {
		raw = strings.TrimRight(strings.TrimSpace(raw), "/")
		if raw == "" {
			continue
		}
		if raw == "*" {
			out = append(out, originPattern{any: true, raw: "https: http:"})
			continue
		}
		scheme, rest, ok := strings.Cut(raw, "://")
		if !ok || (scheme != "http" && scheme != "https") || rest == "" || strings.ContainsAny(rest, "/?#@ ;,'") {
			return nil, fmt.Errorf("checkout origin %q: want scheme://host[:port], e.g. https://shop.example.com", raw)
		}
		host, port := rest, ""
		if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.HasSuffix(rest, "]") {
			host, port = rest[:i], rest[i+1:]
			if port == "" {
				return nil, fmt.Errorf("checkout origin %q: empty port", raw)
			}
		}
		out = append(out, originPattern{scheme: scheme, host: strings.ToLower(host), port: port, raw: strings.ToLower(raw)})
	}
	return out, nil
}

func (p originPattern) match(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	if p.any {
		return true
	}
	if u.Scheme != p.scheme {
		return false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if strings.HasPrefix(u.Host, "[") {
		host = "[" + host + "]"
	}
	switch {
	case strings.HasPrefix(p.host, "*."):
		if !strings.HasSuffix(host, p.host[1:]) {
			return false
		}
	case host != p.host:
		return false
	}
	return p.port == "*" || p.port == port
}

func matchAny(ps []originPattern, origin string) bool {
	for _, p := range ps {
		if p.match(origin) {
			return true
		}
	}
	return false
}

// cspSources renders the patterns for frame-ancestors / form-action.
func cspSources(ps []originPattern) string {
	parts := make([]string, 0, len(ps))
	for _, p := range ps {
		parts = append(parts, p.raw)
	}
	return strings.Join(parts, " ")
}

// ValidateOrigins checks a list of window origins as set for a merchant.
func ValidateOrigins(list []string) error {
	_, err := parseOrigins(list)
	return err
}
