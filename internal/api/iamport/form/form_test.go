package form

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseForm(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]any
	}{
		{"plain", "a=1&b=x", map[string]any{"a": "1", "b": "x"}},
		{"go-iamport stray space", "imp_key=K& imp_secret=S", map[string]any{"imp_key": "K", "imp_secret": "S"}},
		{"trim values", "a=%20v%20&b= w ", map[string]any{"a": "v", "b": "w"}},
		{"plus is space", "name=a+b", map[string]any{"name": "a b"}},
		{"unescaped percent kept raw", "custom_data=100%&x=1", map[string]any{"custom_data": "100%", "x": "1"}},
		{"colon turned into equals keeps the rest", "notice_url=https=//x.y/z", map[string]any{"notice_url": "https=//x.y/z"}},
		{"nested object", "extra[requester]=admin", map[string]any{"extra": map[string]any{"requester": "admin"}}},
		{"indexed objects", "schedules[0][merchant_uid]=m1&schedules[0][amount]=1000&schedules[1][merchant_uid]=m2",
			map[string]any{"schedules": []any{
				map[string]any{"merchant_uid": "m1", "amount": "1000"},
				map[string]any{"merchant_uid": "m2"},
			}}},
		{"escaped brackets", "schedules%5B0%5D%5Bmerchant_uid%5D=m1", map[string]any{"schedules": []any{map[string]any{"merchant_uid": "m1"}}}},
		{"append", "merchant_uid[]=a&merchant_uid[]=b", map[string]any{"merchant_uid": []any{"a", "b"}}},
		{"indices out of order and sparse", "k[2]=c&k[0]=a&k[7]=d", map[string]any{"k": []any{"a", "c", "d"}}},
		{"repeated plain key", "k=a&k=b&k=c", map[string]any{"k": []any{"a", "b", "c"}}},
		{"plain then append", "k=a&k[]=b", map[string]any{"k": []any{"a", "b"}}},
		{"leading zero index is a key", "k[01]=a", map[string]any{"k": map[string]any{"01": "a"}}},
		{"huge index is a key", "k[99999999999]=a", map[string]any{"k": map[string]any{"99999999999": "a"}}},
		{"unclosed bracket literal", "a[b=1", map[string]any{"a[b": "1"}},
		{"trailing garbage literal", "a[b]c=1", map[string]any{"a[b]c": "1"}},
		{"key starting with bracket literal", "[a]=1", map[string]any{"[a]": "1"}},
		{"empty pairs skipped", "&&a=1&=2&", map[string]any{"a": "1"}},
		{"key without value", "flag", map[string]any{"flag": ""}},
		{"scalar after object wins", "a[b]=1&a=2", map[string]any{"a": "2"}},
		{"spaces inside brackets", "extra[ requester ]=admin", map[string]any{"extra": map[string]any{"requester": "admin"}}},
		{"append objects", "a[][x]=1&a[][x]=2", map[string]any{"a": []any{map[string]any{"x": "1"}, map[string]any{"x": "2"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseForm(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseForm(%q)\n got %#v\nwant %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestQueryArrayStyles(t *testing.T) {
	tests := []struct {
		in, key string
		want    []string
	}{
		{"customer_uid[]=a&customer_uid[]=b", "customer_uid", []string{"a", "b"}},
		{"customer_uid%5B%5D=a&customer_uid%5B%5D=b", "customer_uid", []string{"a", "b"}},
		{"customer_uid[0]=a&customer_uid[1]=b", "customer_uid", []string{"a", "b"}},
		{"customer_uid%5B0%5D=a&customer_uid%5B1%5D=b", "customer_uid", []string{"a", "b"}},
		{"customer_uid%5b1%5d=b&customer_uid%5b0%5d=a", "customer_uid", []string{"a", "b"}},
		{"customer_uid=a&customer_uid=b", "customer_uid", []string{"a", "b"}},
		{"customer_uid=a", "customer_uid", []string{"a"}},
		{"customer_uid[]=a%2Fb", "customer_uid", []string{"a/b"}},
		{"customer_uid[]=&customer_uid[]=x", "customer_uid", []string{"x"}},
		{"other=a", "customer_uid", nil},
		{"customer_uid[x]=a", "customer_uid", nil},
	}
	for _, tt := range tests {
		got := QueryArray(tt.in, tt.key)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("QueryArray(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestParseJSON(t *testing.T) {
	m, err := ParseJSON([]byte(` {"amount": 10.50, "n": 12345678901234567890, "o": {"a": [1, "x"]}} `))
	if err != nil {
		t.Fatal(err)
	}
	if m["amount"] != json.Number("10.50") || m["n"] != json.Number("12345678901234567890") {
		t.Fatalf("numbers not kept as text: %#v", m)
	}
	for _, bad := range []string{`[1]`, `"x"`, `{"a":1} {"b":2}`, `{"a":`, `null`} {
		if _, err := ParseJSON([]byte(bad)); err == nil {
			t.Errorf("ParseJSON(%s) accepted", bad)
		}
	}
	if m, err := ParseJSON([]byte("  \n")); err != nil || len(m) != 0 {
		t.Fatalf("empty body: %v %v", m, err)
	}
}

func TestGetters(t *testing.T) {
	jsonBody, err := ParseJSON([]byte(`{"s":"  x ","num":1000,"usd":10.5,"b":true,"bs":"True","n":null,
		"arr":["a","b"],"obj":{"k":"v"},"objs":[{"m":"1"}],"bad":[{"x":1}],"frac":"3.0","cd":{"a":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	p := New(jsonBody)
	f := New(ParseForm("amount=1000&usd=10.50&flag=1&off=False&quota=&q=3&neg=-1&big=1e3&cd=text"))

	check := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
	s, ok, err := p.String("s")
	check("String", []any{s, ok, err}, []any{"x", true, nil})
	s, ok, err = p.String("num")
	check("String(number)", []any{s, ok, err}, []any{"1000", true, nil})
	_, ok, err = p.String("n")
	check("String(null)", []any{ok, err}, []any{false, nil})
	_, _, err = p.String("obj")
	checkField(t, err, "obj")

	n, ok, err := p.Int64("num")
	check("Int64", []any{n, ok, err}, []any{int64(1000), true, nil})
	n, _, err = p.Int64("frac")
	check("Int64(3.0)", []any{n, err}, []any{int64(3), nil})
	_, ok, err = f.Int64("quota")
	check("Int64(empty)", []any{ok, err}, []any{false, nil})
	_, _, err = f.Int64("big")
	checkField(t, err, "big")

	a, _, err := p.Amount("usd", "USD")
	check("Amount(USD json)", []any{a, err}, []any{int64(1050), nil})
	a, _, err = f.Amount("usd", "USD")
	check("Amount(USD form)", []any{a, err}, []any{int64(1050), nil})
	a, _, err = f.Amount("amount", "KRW")
	check("Amount(KRW)", []any{a, err}, []any{int64(1000), nil})
	_, _, err = p.Amount("usd", "KRW")
	checkField(t, err, "usd")
	_, _, err = f.Amount("neg", "KRW")
	checkField(t, err, "neg")

	for key, want := range map[string]bool{"b": true, "bs": true} {
		b, _, err := p.Bool(key)
		check("Bool "+key, []any{b, err}, []any{want, nil})
	}
	b, _, err := f.Bool("flag")
	check("Bool(1)", []any{b, err}, []any{true, nil})
	b, _, err = f.Bool("off")
	check("Bool(False)", []any{b, err}, []any{false, nil})
	_, _, err = p.Bool("s")
	checkField(t, err, "s")

	arr, _, err := p.StringOrArray("arr")
	check("StringOrArray", []any{arr, err}, []any{[]string{"a", "b"}, nil})
	arr, _, err = p.StringOrArray("s")
	check("StringOrArray(single)", []any{arr, err}, []any{[]string{"x"}, nil})
	_, _, err = p.StringOrArray("bad")
	checkField(t, err, "bad[0]")

	o, ok, err := p.Object("obj")
	if err != nil || !ok {
		t.Fatalf("Object: %v %v", ok, err)
	}
	v, _, _ := o.String("k")
	check("Object.k", v, "v")
	_, _, err = o.Int64("k")
	checkField(t, err, "obj.k")

	objs, _, err := p.Objects("objs")
	if err != nil || len(objs) != 1 {
		t.Fatalf("Objects: %v %v", objs, err)
	}
	_, _, err = objs[0].Bool("m")
	if err != nil {
		t.Fatalf("objs[0].m: %v", err)
	}
	_, _, err = objs[0].Int64("missing")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = New(map[string]any{"o": []any{map[string]any{"m": map[string]any{}}}}).Objects("o")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = New(map[string]any{"o": []any{"x"}}).Objects("o")
	checkField(t, err, "o[0]")

	cd, _, _ := p.JSONText("cd")
	check("JSONText(object)", cd, `{"a":1}`)
	cd, _, _ = f.JSONText("cd")
	check("JSONText(string)", cd, "text")
}

func checkField(t *testing.T, err error, field string) {
	t.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("want FieldError for %s, got %v", field, err)
	}
	if fe.Field != field {
		t.Fatalf("FieldError.Field = %q, want %q", fe.Field, field)
	}
	if !strings.Contains(fe.Error(), field) {
		t.Fatalf("message %q does not name %s", fe.Error(), field)
	}
}

// walk checks the invariants every consumer relies on: only the documented
// node types, no empty keys, valid UTF-8 round-trips through JSON.
func walk(t *testing.T, v any, depth int) {
	if depth > maxDepth+2 {
		t.Fatalf("tree deeper than maxDepth")
	}
	switch n := v.(type) {
	case map[string]any:
		for k, c := range n {
			if k == "" {
				t.Fatalf("empty key in %#v", n)
			}
			walk(t, c, depth+1)
		}
	case []any:
		for _, c := range n {
			if c == nil {
				t.Fatalf("nil element in %#v", n)
			}
			walk(t, c, depth+1)
		}
	case string:
	default:
		t.Fatalf("unexpected node %T", v)
	}
}

func FuzzParseForm(f *testing.F) {
	for _, s := range []string{
		"imp_key=K& imp_secret=S",
		"schedules[0][merchant_uid]=m&schedules[0][amount]=1000&schedules[1][x][y][]=z",
		"a[b=1&a[]=2&a=3&a[c][d]=4",
		"k%5B0%5D=a&k%5B1%5D=%ZZ",
		"k=a&k=b&k[]=c&k[5]=d",
		"[]=1&=&&a[][]=x",
		strings.Repeat("a[b]", 40) + "=x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := ParseForm(s)
		walk(t, m, 0)
		p := New(m)
		for k := range m {
			// No getter may panic on any tree shape.
			p.String(k)
			p.Int64(k)
			p.Amount(k, "USD")
			p.Bool(k)
			p.StringOrArray(k)
			p.Object(k)
			p.Objects(k)
			p.JSONText(k)
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("tree not encodable: %v", err)
		}
		if utf8.ValidString(s) && !utf8.Valid(b) {
			t.Fatalf("invalid UTF-8 from valid input")
		}
	})
}

func FuzzQueryArray(f *testing.F) {
	f.Add("k[]=a&k[]=b", "k")
	f.Add("k%5B0%5D=a&k%5B1%5D=b", "k")
	f.Add("k=a&k=b", "k")
	f.Add("k[0][x]=a&k=b", "k")
	f.Fuzz(func(t *testing.T, q, key string) {
		vals := QueryArray(q, key)
		for _, v := range vals {
			if v == "" || strings.TrimSpace(v) != v {
				t.Fatalf("untrimmed or empty value %q", v)
			}
		}
		// The three styles must agree on whatever values came out.
		if key == "" || strings.ContainsAny(key, "[]&=%+ \t\n\r\v\f") || strings.TrimSpace(key) != key {
			return
		}
		var plain, brackets, indexed []string
		for i, v := range vals {
			esc := strings.NewReplacer("%", "%25", "&", "%26", "=", "%3D", "+", "%2B").Replace(v)
			plain = append(plain, key+"="+esc)
			brackets = append(brackets, key+"[]="+esc)
			indexed = append(indexed, key+"%5B"+strconv.Itoa(i)+"%5D="+esc)
		}
		for _, q2 := range []string{strings.Join(plain, "&"), strings.Join(brackets, "&"), strings.Join(indexed, "&")} {
			if got := QueryArray(q2, key); !reflect.DeepEqual(got, vals) && !(len(got) == 0 && len(vals) == 0) {
				t.Fatalf("re-encoded %q gives %#v, want %#v", q2, got, vals)
			}
		}
	})
}
