package wellformed

import (
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		ok   bool
		fn   func() bool
	}{
		{"plain", true, func() bool { return Text("홍길동 card_1") }},
		{"NUL", false, func() bool { return Text("a\x00b") }},
		{"invalid UTF-8", false, func() bool { return Text("a\xffb") }},
		{"path plain", true, func() bool { return Path("/subscribe/customers/user%2042") }},
		{"path NUL", false, func() bool { return Path("/subscribe/customers/a%00b") }},
		{"path invalid UTF-8", false, func() bool { return Path("/payments/%C3%28") }},
		{"path raw invalid", false, func() bool { return Path("/payments/\xff") }},
		{"path bad escape kept raw", true, func() bool { return Path("/payments/100%") }},
		{"query plain", true, func() bool { return Query("customer_uid[]=a&customer_uid[]=b+c") }},
		{"query NUL value", false, func() bool { return Query("a=1&b=x%00y") }},
		{"query NUL key", false, func() bool { return Query("a%00=1") }},
		{"query invalid UTF-8", false, func() bool { return Query("name=%ff%fe") }},
		{"query Korean", true, func() bool { return Query("name=%ED%99%8D") }},
		{"query go-iamport stray %", true, func() bool { return Query("name=100%&x=1") }},
		{"json plain", true, func() bool { return JSON([]byte(`{"a":"b\"c\\u0000","n":1}`)) }},
		{"json escaped NUL", false, func() bool { return JSON([]byte(`{"a":"x\u0000y"}`)) }},
		{"json escaped NUL in a key", false, func() bool { return JSON([]byte(`{"a\u0000":1}`)) }},
		{"json raw NUL", false, func() bool { return JSON([]byte("{\"a\":\"x\x00\"}")) }},
		{"json raw invalid", false, func() bool { return JSON([]byte("{\"a\":\"\xc3\x28\"}")) }},
		{"json lone high surrogate", false, func() bool { return JSON([]byte(`{"a":"\ud800"}`)) }},
		{"json lone low surrogate", false, func() bool { return JSON([]byte(`{"a":"\udc00x"}`)) }},
		{"json high then non-low", false, func() bool { return JSON([]byte(`{"a":"\ud800\u0041"}`)) }},
		{"json surrogate pair", true, func() bool { return JSON([]byte(`{"a":"\ud83d\ude00"}`)) }},
		{"json CRLF escapes are text", true, func() bool { return JSON([]byte(`{"a":"\r\n"}`)) }},
		{"body form", false, func() bool { return Body([]byte("customer_uid=%00")) }},
		{"body json", false, func() bool { return Body([]byte(` {"customer_uid":"\u0000"}`)) }},
	}
	for _, c := range cases {
		if got := c.fn(); got != c.ok {
			t.Errorf("%s: %v, want %v", c.name, got, c.ok)
		}
	}
}

func TestIdentifier(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		s  string
		ok bool
	}{
		{"user42_card1", true}, {"order-2026/03#1", true}, {"홍길동_카드", true}, {"a b", true}, {"x", true},
		{strings.Repeat("a", 40), true}, {strings.Repeat("가", 40), true},
		{"", false}, {strings.Repeat("a", 41), false}, {" a", false}, {"a ", false},
		{"\r\nX-Injected: 1", false}, {"a\tb", false}, {"a\x00", false}, {"a\xff", false},
		{"a\u200bb", false}, {"a\u202eb", false}, {"a\u00a0b", false}, {"a\u2028b", false},
	} {
		if err := Identifier("merchant_uid", c.s, 40); (err == nil) != c.ok {
			t.Errorf("Identifier(%q) = %v, want ok=%v", c.s, err, c.ok)
		}
	}
}

func FuzzJSON(f *testing.F) {
	f.Add([]byte(`{"a":"\ud83d\ude00"}`))
	f.Add([]byte(`{"a":"\u0000"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		JSON(b) // must not panic
	})
}
