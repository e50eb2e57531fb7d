package vault

import (
	"strings"
	"testing"
	"time"
)

func FuzzNormalizeCardNumber(f *testing.F) {
	for _, s := range []string{
		"4242-4242-4242-4242", "4242424242424242", "4242 4242 4242 4242",
		"4000000000000002", "378282246310005", "6011111111111111110", "4222222222222",
		"4242424242424241", "", "-", "4242-", "  4242424242424242  ", "42424242424242424242",
		"4242\t4242", "\x00", "٤٢٤٢",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormalizeCardNumber(s)
		if err != nil {
			if n != "" {
				t.Fatalf("output %q with error %v", n, err)
			}
			return
		}
		if len(n) < 13 || len(n) > 19 || !allDigits(n) || !Luhn(n) {
			t.Fatalf("NormalizeCardNumber(%q) = %q: not a valid PAN", s, n)
		}
		if again, err := NormalizeCardNumber(n); err != nil || again != n {
			t.Fatalf("not idempotent: %q -> %q, %v", n, again, err)
		}
		m := Mask(n)
		if len(m) != len(n) || m[:6] != n[:6] || m[len(m)-4:] != n[len(n)-4:] {
			t.Fatalf("Mask(%q) = %q", n, m)
		}
		if mid := m[6 : len(m)-4]; strings.Trim(mid, "*") != "" {
			t.Fatalf("Mask(%q) = %q shows middle digits", n, m)
		}
		if ContainsPAN(m) {
			t.Fatalf("Mask(%q) = %q still looks like a PAN", n, m)
		}
		if ts := strings.TrimSpace(s); !strings.Contains(ts, "--") && !strings.Contains(ts, "  ") &&
			!strings.Contains(ts, "- ") && !strings.Contains(ts, " -") && !ContainsPAN(s) {
			// An accepted number written with single separators must be
			// caught by the log scanner.
			t.Fatalf("ContainsPAN(%q) = false for accepted number %q", s, n)
		}
		if r := Redact(n); r != m {
			t.Fatalf("Redact(%q) = %q, want %q", n, r, m)
		}
	})
}

func FuzzNormalizeExpiry(f *testing.F) {
	for _, s := range []string{
		"2030-12", "203012", "2030/12", "12/30", "2030-13", "00/30", "1230", "2030-1",
		"", "20301", "99/99", "2099-12", "2000-01", "\xff\xff\xff\xff\xff\xff\xff",
	} {
		f.Add(s)
	}
	now := time.Date(2026, 5, 15, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		e, err := NormalizeExpiry(s)
		passed := ExpiryPassed(s, now)
		if err != nil {
			if e != "" || !passed {
				t.Fatalf("invalid %q: got %q, passed=%v", s, e, passed)
			}
			return
		}
		if len(e) != 7 || e[4] != '-' || !allDigits(e[:4]) || !allDigits(e[5:]) ||
			e[:2] != "20" || e[5:] < "01" || e[5:] > "12" {
			t.Fatalf("NormalizeExpiry(%q) = %q: not YYYY-MM", s, e)
		}
		if again, err := NormalizeExpiry(e); err != nil || again != e {
			t.Fatalf("not idempotent: %q -> %q, %v", e, again, err)
		}
		if ExpiryPassed(e, now) != passed {
			t.Fatalf("ExpiryPassed disagrees for %q and %q", s, e)
		}
		if want := e < "2026-05"; passed != want {
			t.Fatalf("ExpiryPassed(%q, %v) = %v", e, now, passed)
		}
	})
}

func FuzzContainsPAN(f *testing.F) {
	for _, s := range []string{
		"card 4242424242424242 ok", "4242-4242-4242-4242", "4242 4242 4242 4242",
		"1234567 4242424242424242 123456789", "2025-01-15 12:30:45", "42424242424242424242",
		"424242******4242", "", "0000000000000", "1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0",
		`{"card_number":"4000-0000-0000-9995","amount":1000}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		has := ContainsPAN(s)
		r := Redact(s)
		if has != (r != s) {
			t.Fatalf("ContainsPAN(%q) = %v but Redact changed=%v", s, has, r != s)
		}
		if ContainsPAN(r) {
			t.Fatalf("Redact(%q) = %q still contains a PAN", s, r)
		}
		if Redact(r) != r {
			t.Fatalf("Redact not idempotent on %q", s)
		}
		// Every candidate found is a Luhn-valid 13–19 digit number.
		findPANs(s, func(sp span) bool {
			d := strings.NewReplacer("-", "", " ", "").Replace(s[sp.start:sp.end])
			if len(d) < 13 || len(d) > 19 || !allDigits(d) || !Luhn(d) {
				t.Fatalf("candidate %q in %q is not a PAN", s[sp.start:sp.end], s)
			}
			return true
		})
	})
}
