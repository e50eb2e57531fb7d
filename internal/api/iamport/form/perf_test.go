package form

import (
	"strings"
	"testing"
)

// A maximum-size body of appends must parse in linear work: the handler runs
// this on untrusted input before authentication. Wall-clock limits fail on a
// busy machine, so the test counts allocations, which are deterministic:
// eight times the input may allocate about eight times as much. The time it
// takes is BenchmarkParseForm's business.
func TestParseFormLinear(t *testing.T) {
	const n = 1 << 20 / 6
	small, large := strings.Repeat("k[]=a&", n/8), strings.Repeat("k[]=a&", n)
	if m := ParseForm(large); len(m["k"].([]any)) != n {
		t.Fatalf("got %d elements", len(m["k"].([]any)))
	}
	as := testing.AllocsPerRun(2, func() { ParseForm(small) })
	al := testing.AllocsPerRun(2, func() { ParseForm(large) })
	if ratio := al / as; ratio > 10 {
		t.Fatalf("8x the input made %.1fx the allocations (%.0f vs %.0f): not linear", ratio, al, as)
	}
}

func BenchmarkParseForm(b *testing.B) {
	body := strings.Repeat("k[]=a&", 1<<20/6)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		ParseForm(body)
	}
}
