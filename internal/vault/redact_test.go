package vault

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestContainsPANAndRedact(t *testing.T) {
	tests := []struct {
		in       string
		contains bool
		redacted string
	}{
		{"card 4242424242424242 ok", true, "card 424242******4242 ok"},
		{"card=4242-4242-4242-4242;", true, "card=424242******4242;"},
		{"4242 4242 4242 4242", true, "424242******4242"},
		{"x4000000000000341y", true, "x400000******0341y"},
		{"amex 3782 822463 10005", true, "amex 378282*****0005"},
		{`{"card_number":"4000-0000-0000-9995"}`, true, `{"card_number":"400000******9995"}`},
		{"two 4242424242424242 and 4000000000000002", true, "two 424242******4242 and 400000******0002"},
		{"year 2025 4242424242424242", true, "year 2025 424242******4242"},
		// Not PANs.
		{"4242424242424241", false, "4242424242424241"},                     // Luhn fails
		{"424242424242", false, "424242424242"},                             // too short
		{"order 42424242424242424242", false, "order 42424242424242424242"}, // 20 glued digits
		{"2025-01-15 12:30:45.123456", false, "2025-01-15 12:30:45.123456"},
		{"phone 010-1234-5678", false, "phone 010-1234-5678"},
		{"4242--4242--4242--4242", false, "4242--4242--4242--4242"}, // double separators split groups
		{"4242.4242.4242.4242", false, "4242.4242.4242.4242"},
		{"424242******4242", false, "424242******4242"},
		{"no digits at all", false, "no digits at all"},
		{"", false, ""},
	}
	for _, tt := range tests {
		if got := ContainsPAN(tt.in); got != tt.contains {
			t.Errorf("ContainsPAN(%q) = %v", tt.in, got)
		}
		if got := Redact(tt.in); got != tt.redacted {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.redacted)
		}
	}
}

func TestRedactRepeatsUntilClean(t *testing.T) {
	// Masking keeps the first 6 and last 4 digits, which can join with a
	// neighbouring digit group into a new candidate; Redact must still
	// return nothing ContainsPAN flags.
	for _, s := range []string{
		"1234567 4242424242424242",
		"4242424242424242 123456789",
		"0000000 4242424242424242 000000000",
	} {
		if r := Redact(s); ContainsPAN(r) || strings.Contains(r, "4242424242") {
			t.Errorf("Redact(%q) = %q", s, r)
		}
	}
}

func TestRedactingHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(RedactingHandler(slog.NewJSONHandler(&buf, nil)))
	log = log.With("card", "4242-4242-4242-4242", "merchant", 7).WithGroup("req")
	log.Info("charging 4000000000000002",
		"pan", "4000000000009995",
		"amount", 1000,
		"err", errors.New("pg said: card 4000000000000069 expired"),
		slog.Group("nested", "n", "4000 0000 0000 0119"),
		"clean", "nothing here",
	)
	out := buf.String()
	if ContainsPAN(out) {
		t.Fatalf("log contains a PAN: %s", out)
	}
	for _, want := range []string{
		`"card":"424242******4242"`, `"msg":"charging 400000******0002"`,
		`"pan":"400000******9995"`, `"err":"pg said: card 400000******0069 expired"`,
		`"nested":{"n":"400000******0119"}`, `"clean":"nothing here"`, `"amount":1000`, `"merchant":7`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s in %s", want, out)
		}
	}

	// Wrapping twice does not double the work.
	h := RedactingHandler(slog.NewTextHandler(&buf, nil))
	if RedactingHandler(h) != h {
		t.Error("RedactingHandler re-wrapped itself")
	}
	if !h.Enabled(context.Background(), slog.LevelInfo) || h.Enabled(context.Background(), slog.LevelDebug) {
		t.Error("Enabled not delegated")
	}
}

func BenchmarkRedactingHandlerClean(b *testing.B) {
	h := RedactingHandler(nopHandler{})
	log := slog.New(h)
	b.ReportAllocs()
	for b.Loop() {
		log.Info("charge done", "merchant", 12, "imp_uid", "imp_123456789012", "status", "paid")
	}
}

// nopHandler is enabled but drops records, so the benchmark measures the
// redaction check rather than slog's Enabled short-circuit.
type nopHandler struct{}

func (nopHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (nopHandler) Handle(context.Context, slog.Record) error { return nil }
func (h nopHandler) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h nopHandler) WithGroup(string) slog.Handler           { return h }

func BenchmarkNopHandlerBaseline(b *testing.B) {
	log := slog.New(nopHandler{})
	b.ReportAllocs()
	for b.Loop() {
		log.Info("charge done", "merchant", 12, "imp_uid", "imp_123456789012", "status", "paid")
	}
}
