package webhook

import (
	"net/http"
	"net/netip"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// TestBlocked walks the IANA special-purpose registries: one address inside
// every blocked range, and public neighbours just outside some of them.
func TestBlocked(t *testing.T) {
	t.Parallel()
	cases := []struct {
		ip      string
		blocked bool
		why     string
	}{
		{"127.0.0.1", true, "loopback"},
		{"127.8.9.10", true, "loopback /8"},
		{"10.1.2.3", true, "RFC 1918"},
		{"172.16.0.1", true, "RFC 1918"},
		{"192.168.1.1", true, "RFC 1918"},
		{"169.254.169.254", true, "link-local: cloud metadata"},
		{"0.0.0.0", true, "unspecified"},
		{"0.1.2.3", true, "this network"},
		{"100.64.0.1", true, "shared address space"},
		{"192.0.0.9", true, "IETF protocol assignments"},
		{"192.0.0.170", true, "NAT64 discovery"},
		{"192.0.2.10", true, "TEST-NET-1"},
		{"192.31.196.1", true, "AS112-v4"},
		{"192.52.193.1", true, "AMT"},
		{"192.88.99.1", true, "6to4 relay anycast"},
		{"192.175.48.1", true, "AS112 direct delegation"},
		{"198.18.0.1", true, "benchmarking"},
		{"198.19.255.254", true, "benchmarking"},
		{"198.51.100.7", true, "TEST-NET-2"},
		{"203.0.113.7", true, "TEST-NET-3"},
		{"224.0.0.1", true, "multicast"},
		{"239.255.255.250", true, "multicast (SSDP)"},
		{"240.0.0.1", true, "reserved"},
		{"255.255.255.255", true, "limited broadcast"},
		{"::", true, "unspecified"},
		{"::1", true, "loopback"},
		{"::ffff:127.0.0.1", true, "IPv4-mapped loopback"},
		{"::ffff:10.0.0.1", true, "IPv4-mapped private"},
		{"::ffff:8.8.8.8", false, "IPv4-mapped public is the public address"},
		{"::127.0.0.1", true, "IPv4-compatible loopback"},
		{"::8.8.8.8", true, "IPv4-compatible (deprecated)"},
		{"::ffff:0:a00:1", true, "IPv4-translated"},
		{"64:ff9b::7f00:1", true, "NAT64 to 127.0.0.1"},
		{"64:ff9b::a9fe:a9fe", true, "NAT64 to 169.254.169.254"},
		{"64:ff9b::808:808", true, "NAT64 well-known prefix"},
		{"64:ff9b:1::1", true, "local-use NAT64"},
		{"100::1", true, "discard-only"},
		{"100:0:0:1::1", true, "dummy prefix"},
		{"2001::1", true, "Teredo"},
		{"2001:2::1", true, "benchmarking"},
		{"2001:3::1", true, "AMT"},
		{"2001:20::1", true, "ORCHIDv2"},
		{"2001:30::1", true, "drone remote ID"},
		{"2001:db8::1", true, "documentation"},
		{"2002:7f00:1::1", true, "6to4 of 127.0.0.1"},
		{"2002:808:808::1", true, "6to4"},
		{"2620:4f:8000::1", true, "AS112 direct delegation"},
		{"3fff::1", true, "documentation"},
		{"5f00::1", true, "SRv6 SIDs"},
		{"fc00::1", true, "unique local"},
		{"fd12:3456::1", true, "unique local"},
		{"fe80::1", true, "link-local"},
		{"fec0::1", true, "site-local"},
		{"ff02::1", true, "multicast"},
		{"8.8.8.8", false, "public"},
		{"52.78.100.19", false, "public"},
		{"172.32.0.1", false, "just past 172.16/12"},
		{"100.128.0.1", false, "just past 100.64/10"},
		{"192.0.3.1", false, "just past TEST-NET-1"},
		{"198.20.0.1", false, "just past benchmarking"},
		{"2606:4700::1111", false, "public IPv6"},
		{"2001:200::1", false, "public, just past 2001::/23"},
		{"2003::1", false, "public, just past 2002::/16"},
		{"64:ff9c::1", false, "just past NAT64"},
	}
	for _, c := range cases {
		if got := Blocked(netip.MustParseAddr(c.ip)); got != c.blocked {
			t.Errorf("Blocked(%s) = %v, want %v (%s)", c.ip, got, c.blocked, c.why)
		}
	}
}

// Our signer and the official library agree, for single and multiple secrets.
func TestSignMatchesOfficialLibrary(t *testing.T) {
	ts := time.Unix(1772355600, 0)
	bodies := []string{`{"imp_uid":"imp_1","merchant_uid":"o","status":"paid"}`, "imp_uid=imp_1&status=paid", ""}
	for range 3 {
		_, key, err := newSecret()
		if err != nil {
			t.Fatal(err)
		}
		_, other, _ := newSecret()
		for _, body := range bodies {
			ours, err := signatureHeader([]Secret{{Key: other}, {Key: key}}, "msg_1", ts, []byte(body))
			if err != nil {
				t.Fatal(err)
			}
			wh, _ := standardwebhooks.NewWebhook(key)
			theirs, _ := wh.Sign("msg_1", ts, []byte(body))
			h := http.Header{}
			h.Set(HeaderID, "msg_1")
			h.Set(HeaderTimestamp, "1772355600")
			h.Set(HeaderSignature, ours)
			if err := wh.VerifyIgnoringTimestamp([]byte(body), h); err != nil {
				t.Errorf("official library rejects our signature %q: %v", ours, err)
			}
			if single, _ := signatureHeader([]Secret{{Key: key}}, "msg_1", ts, []byte(body)); single != theirs {
				t.Errorf("signature %q, official %q", single, theirs)
			}
		}
	}
}

func TestProfiles(t *testing.T) {
	sum := func(p Profile) (d time.Duration) {
		for _, x := range p.Delays {
			d += x
		}
		return d
	}
	cases := []struct {
		name     string
		attempts int
		min, max time.Duration
	}{
		{"default", 10, 60 * time.Hour, 80 * time.Hour}, // "about 3 days"
		{"iamport", 6, 5 * time.Minute, 5 * time.Minute},
		{"d24", 6, 3900 * time.Minute, 3905 * time.Minute},
	}
	for _, tc := range cases {
		p, err := LookupProfile(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(p.Delays) + 1; got != tc.attempts {
			t.Errorf("%s: %d attempts, want %d", tc.name, got, tc.attempts)
		}
		if s := sum(p); s < tc.min || s > tc.max {
			t.Errorf("%s spans %v", tc.name, s)
		}
		if _, ok := p.nextDelay(len(p.Delays)+1, 0); ok {
			t.Errorf("%s: retry past the schedule", tc.name)
		}
	}
	if p, _ := LookupProfile(""); p.Name != DefaultProfile {
		t.Error("empty profile is not the default")
	}
	if d, _ := Profiles["iamport"].nextDelay(1, 90*time.Second); d != 90*time.Second {
		t.Errorf("Retry-After longer than the delay: %v", d)
	}
	if d, _ := Profiles["iamport"].nextDelay(1, 10*time.Second); d != time.Minute {
		t.Errorf("Retry-After shorter than the delay: %v", d)
	}
	if d, _ := Profiles["d24"].nextDelay(5, 400*time.Hour); d != 3125*time.Minute {
		t.Errorf("capped Retry-After shortened the schedule: %v", d)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                              0,
		"120":                           2 * time.Minute,
		"-5":                            0,
		"soon":                          0,
		"99999999":                      maxRetryAfter,
		"Sun, 01 Mar 2026 09:30:00 GMT": 30 * time.Minute,
		"Sun, 01 Mar 2026 08:00:00 GMT": 0,
	}
	for in, want := range cases {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}
