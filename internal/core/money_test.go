package core

import (
	"errors"
	"testing"
)

func TestParseAmount(t *testing.T) {
	t.Parallel()
	cases := []struct {
		text, cur string
		want      int64
		err       bool
	}{
		{"1000", "KRW", 1000, false},
		{" 1000 ", "KRW", 1000, false},
		{"1000.0", "KRW", 1000, false},
		{"1000.5", "KRW", 0, true},
		{"10.5", "USD", 1050, false},
		{"10.55", "USD", 1055, false},
		{"10.555", "USD", 0, true},
		{"0", "KRW", 0, false},
		{"-1", "KRW", 0, true},
		{"1e3", "KRW", 0, true},
		{"", "KRW", 0, true},
		{".5", "USD", 0, true},
		{"5.", "USD", 0, true},
		{"9999999999999999", "KRW", 0, true},
		{"100", "XXX1", 0, true},
	}
	for _, c := range cases {
		got, err := ParseAmount(c.text, c.cur)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ParseAmount(%q, %s) = %d, %v; want %d, err=%v", c.text, c.cur, got, err, c.want, c.err)
		}
	}
	if _, err := ParseAmount("x", "KRW"); !errors.Is(err, ErrBadAmount) {
		t.Errorf("want ErrBadAmount, got %v", err)
	}
}

func TestFormatAmount(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		minor int64
		cur   string
		want  string
	}{{1000, "KRW", "1000"}, {1050, "USD", "10.5"}, {1055, "USD", "10.55"}, {5, "USD", "0.05"}, {100, "USD", "1"}, {0, "USD", "0"}} {
		if got := FormatAmount(c.minor, c.cur); got != c.want {
			t.Errorf("FormatAmount(%d, %s) = %q, want %q", c.minor, c.cur, got, c.want)
		}
	}
}

// Any amount that parses formats back to a text that parses to the same value.
func FuzzAmountRoundTrip(f *testing.F) {
	for _, s := range []string{"1000", "10.5", "0.01", "007", "1.000", " 3 "} {
		f.Add(s, "USD")
		f.Add(s, "KRW")
	}
	f.Fuzz(func(t *testing.T, text, cur string) {
		n, err := ParseAmount(text, cur)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("negative amount %d from %q", n, text)
		}
		back, err := ParseAmount(FormatAmount(n, cur), cur)
		if err != nil || back != n {
			t.Fatalf("round trip %q → %d → %q → %d, %v", text, n, FormatAmount(n, cur), back, err)
		}
	})
}
