package checkout

import (
	"strings"
	"testing"

	"github.com/billkey/billkey/internal/pg/provider"
)

// TestWindowModePerPG: each PG's PC/mobile rule from its i'mport guide.
func TestWindowModePerPG(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pg                            string
		mobile, callback, hasRedirect bool
		want                          string // mode, or "!" for a refusal
	}{
		{"chai", false, true, true, "redirect"}, // CHAI: m_redirect_url on PC too
		{"chai", true, true, true, "redirect"},
		{"chai", false, true, false, "!"},         // so it needs one
		{"danal_tpay", true, true, true, "popup"}, // Danal: callback on mobile too
		{"danal", true, true, true, "popup"},
		{"kakaopay", true, true, true, "popup"},
		{"payco", true, true, true, "popup"},
		{"mobilians", true, true, true, "popup"},
		{"jtnet", true, true, true, "redirect"}, // PC callback, mobile redirect
		{"jtnet", false, true, true, "popup"},
		{"kcp_billing", true, true, true, "redirect"},
		{"kicc", true, true, true, "redirect"},
		{"kicc", false, false, true, "redirect"}, // no callback: only a redirect can answer
		{"kicc", false, true, false, "popup"},
	}
	for _, tt := range tests {
		p, ok := provider.Lookup(tt.pg)
		if !ok {
			t.Fatalf("%s: no personality", tt.pg)
		}
		mode, problem := windowMode(p, tt.mobile, tt.callback, tt.hasRedirect)
		if tt.want == "!" {
			if problem == "" || !strings.Contains(problem, "m_redirect_url") {
				t.Errorf("%s: %q %q, want a refusal naming m_redirect_url", tt.pg, mode, problem)
			}
			continue
		}
		if mode != tt.want || problem != "" {
			t.Errorf("%s mobile=%v callback=%v redirect=%v: %q %q, want %q", tt.pg, tt.mobile, tt.callback, tt.hasRedirect, mode, problem, tt.want)
		}
	}
}
