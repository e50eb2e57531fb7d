package webhook

import (
	"net/http"
	"net/netip"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func TestBlocked(t *testing.T) {
	cases := map[string]bool{
		"127.0.0.1": true, "127.8.9.10": true, "::1": true, "10.1.2.3": true, "172.16.0.1": true, "192.168.1.1": true,
		"169.254.169.254": true, "fe80::1": true, "fc00::1": true, "0.0.0.0": true, "::": true, "100.64.0.1": true,
		"224.0.0.1": true, "255.255.255.255": true, "::ffff:127.0.0.1": true, "::ffff:10.0.0.1": true,
		"8.8.8.8": false, "52.78.100.19": false, "2606:4700::1111": false, "172.32.0.1": false, "100.128.0.1": false,
	}
	for ip, want := range cases {
		if got := Blocked(netip.MustParseAddr(ip)); got != want {
			t.Errorf("Blocked(%s) = %v, want %v", ip, got, want)
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
