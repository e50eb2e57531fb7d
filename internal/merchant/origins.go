package merchant

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/billkey/billkey/internal/core"
)

// DefaultOrigins may embed the payment window and open sessions when the
// deployment configures none: pages on this machine, for the sandbox and the
// demo. The Billkey origin itself is always allowed (the demo page lives there).
var DefaultOrigins = []string{"http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"}

// originPattern is a CSP-style source: scheme://host[:port], where host may
// start with "*." and port may be "*"; or "*" for any http(s) origin.
type originPattern struct {
	any          bool
	scheme, host string
	port         string // "" = default port, "*" = any
	raw          string
}

// Origins is a parsed list of window origins.
type Origins []originPattern

// ParseOrigins parses CSP-style origin patterns: "https://shop.example.com",
// "https://*.example.com", "http://localhost:*" or "*".
func ParseOrigins(list []string) (Origins, error) {
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

// Match tells whether any pattern admits origin.
func (ps Origins) Match(origin string) bool {
	for _, p := range ps {
		if p.match(origin) {
			return true
		}
	}
	return false
}

// CSP renders the patterns as CSP sources (frame-ancestors, form-action).
// CSP host sources cannot name IPv6 literals (Chrome rejects
// "http://[::1]:*" and logs an error), so those patterns are left out: such
// origins may still open windows and be redirected to, but not frame them.
func (ps Origins) CSP() string {
	parts := make([]string, 0, len(ps))
	for _, p := range ps {
		if strings.HasPrefix(p.host, "[") {
			continue
		}
		parts = append(parts, p.raw)
	}
	return strings.Join(parts, " ")
}

// ValidateOrigins checks a list of window origins as set for a merchant.
func ValidateOrigins(list []string) error {
	_, err := ParseOrigins(list)
	return err
}

// SetCheckoutOrigins replaces the merchant's own window origins after
// validating them; an empty list leaves only the deployment's.
func (s *Service) SetCheckoutOrigins(ctx context.Context, code string, origins []string) (*core.Merchant, error) {
	m, err := s.ByCode(ctx, code)
	if err != nil {
		return nil, err
	}
	var list []string
	for _, o := range origins {
		if o = strings.TrimSpace(o); o != "" {
			list = append(list, o)
		}
	}
	if err := ValidateOrigins(list); err != nil {
		return nil, err
	}
	if err := s.store.SetCheckoutOrigins(ctx, m.ID, list); err != nil {
		return nil, fmt.Errorf("set checkout origins of %s: %w", code, err)
	}
	m.CheckoutOrigins = list
	return m, nil
}

// AllCheckoutOrigins is every merchant's window origins: a CORS preflight
// has to answer before it knows which merchant is asking.
func (s *Service) AllCheckoutOrigins(ctx context.Context) (Origins, error) {
	list, err := s.store.AllCheckoutOrigins(ctx)
	if err != nil {
		return nil, err
	}
	// Each list was validated when set; a bad row is skipped, not fatal.
	var out Origins
	for _, o := range list {
		if p, err := ParseOrigins([]string{o}); err == nil {
			out = append(out, p...)
		}
	}
	return out, nil
}
