package merchant

import "testing"

func TestOriginPatterns(t *testing.T) {
	ps, err := ParseOrigins([]string{"https://shop.example.com", "https://*.brand.kr", "http://localhost:*", "http://[::1]:*", "https://pay.example.com:8443/"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		origin string
		want   bool
	}{
		{"https://shop.example.com", true},
		{"https://SHOP.example.com", true},
		{"http://shop.example.com", false},       // scheme matters
		{"https://shop.example.com:8443", false}, // no port = default port only
		{"https://evilshop.example.com", false},
		{"https://www.brand.kr", true},
		{"https://a.b.brand.kr", true},
		{"https://brand.kr", false}, // *. needs a subdomain, as in CSP
		{"https://evilbrand.kr", false},
		{"http://localhost:3000", true},
		{"http://localhost", true},
		{"http://localhost.evil.com", false},
		{"http://[::1]:8080", true},
		{"https://pay.example.com:8443", true},
		{"null", false},
		{"", false},
	}
	for _, c := range cases {
		if got := ps.Match(c.origin); got != c.want {
			t.Errorf("match(%q) = %v, want %v", c.origin, got, c.want)
		}
	}
	if got, want := ps.CSP(), "https://shop.example.com https://*.brand.kr http://localhost:* https://pay.example.com:8443"; got != want {
		t.Errorf("CSP sources %q, want %q", got, want)
	}
	for _, bad := range []string{"shop.example.com", "ftp://x", "https://x/path", "https://a b", "https://x:", "https://x;script-src *"} {
		if _, err := ParseOrigins([]string{bad}); err == nil {
			t.Errorf("ParseOrigins(%q) accepted", bad)
		}
	}
}
