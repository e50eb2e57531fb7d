package form

import (
	"strings"
	"testing"
	"time"
)

// A maximum-size body of appends must parse in linear time: the handler
// runs this on untrusted input before authentication.
func TestParseFormLinear(t *testing.T) {
	body := strings.Repeat("k[]=a&", 1<<20/6)
	start := time.Now()
	m := ParseForm(body)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("ParseForm of 1 MiB took %v", d)
	}
	if n := len(m["k"].([]any)); n != 1<<20/6 {
		t.Fatalf("got %d elements", n)
	}
}
