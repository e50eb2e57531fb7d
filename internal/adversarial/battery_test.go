package adversarial_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/testenv"
)

// marker is in every malformed value, so that a grep of the database shows
// whether any of it was stored.
const marker = "MALFORMED"

var param = regexp.MustCompile(`\{[^}]+\}`)

// variant is one way to make a request hostile.
type variant struct {
	name string
	// segment replaces every {param} of the route (escaped path text).
	segment string
	query   string
	body    []byte
	// badToken puts invalid UTF-8 in the bearer token.
	badToken bool
	// text says the request holds NUL or invalid UTF-8, which must be a
	// 400 in the dialect's envelope; other variants must only not be 5xx.
	text bool
}

func variants() []variant {
	fields := []string{"merchant_uid", "customer_uid", "imp_uid", "imp_key", "imp_secret", "name", "reason", "custom_data",
		"buyer_name", "notice_url", "card_number", "invoice_id", "description", "pay_method", "pg", "currency"}
	jsonWith := func(v string) []byte {
		var sb strings.Builder
		sb.WriteString("{")
		for i, f := range fields {
			if i > 0 {
				sb.WriteString(",")
			}
			fmt.Fprintf(&sb, "%q:\"%s%s\"", f, marker, v)
		}
		sb.WriteString(`,"amount":1000,"schedules":[{"merchant_uid":"` + marker + v + `","schedule_at":1900000000,"amount":1000}]}`)
		return []byte(sb.String())
	}
	formWith := func(v string) []byte {
		var sb strings.Builder
		for i, f := range fields {
			if i > 0 {
				sb.WriteString("&")
			}
			sb.WriteString(f + "=" + marker + v)
		}
		return []byte(sb.String() + "&amount=1000")
	}
	// 50,000 short ids stay under the 1 MiB body cap, so the id caps answer.
	huge := make([]string, 0, 50_000)
	for i := range 50_000 {
		huge = append(huge, fmt.Sprintf(`"m%d"`, i))
	}
	return []variant{
		{name: "NUL in path", segment: marker + "%00x", text: true},
		{name: "invalid UTF-8 in path", segment: marker + "%FFx", text: true},
		{name: "overlong UTF-8 in path", segment: marker + "%C0%AF", text: true},
		{name: "NUL in query", segment: "x", query: "customer_uid[]=" + marker + "%00&merchant_uid=" + marker, text: true},
		{name: "invalid UTF-8 in query", segment: "x", query: "merchant_uid=" + marker + "%C3%28&from=%ff", text: true},
		{name: "NUL in query key", segment: "x", query: marker + "%00=1", text: true},
		{name: "JSON \\u0000 in every field", segment: "x", body: jsonWith(`\u0000`), text: true},
		{name: "JSON lone surrogate", segment: "x", body: jsonWith(`\ud800`), text: true},
		{name: "JSON raw invalid UTF-8", segment: "x", body: jsonWith("\xc3\x28"), text: true},
		{name: "JSON raw NUL", segment: "x", body: jsonWith("\x00"), text: true},
		{name: "form %00 in every field", segment: "x", body: formWith("%00"), text: true},
		{name: "form invalid UTF-8", segment: "x", body: formWith("%FF%FE"), text: true},
		{name: "bearer token invalid UTF-8", segment: "x", badToken: true, text: true},
		{name: "CRLF header injection in path", segment: marker + "%0D%0AX-Injected:%201"},
		{name: "CRLF in JSON fields", segment: "x", body: jsonWith(`\r\nX-Injected: 1`)},
		{name: "zero-width and bidi characters", segment: marker + "%E2%80%8B%E2%80%AE"},
		{name: "very long segment", segment: strings.Repeat("A", 4000)},
		{name: "50,000 ids", segment: "x", body: []byte(`{"merchant_uid":[` + strings.Join(huge, ",") + `],"customer_uid":"` + marker + `"}`)},
		{name: "deep brackets", segment: "x", body: []byte(strings.Repeat("a[b]", 400) + "=1")},
		{name: "body over 1 MiB", segment: "x", body: []byte(`{"name":"` + strings.Repeat("x", 1<<20) + `"}`)},
		{name: "not JSON", segment: "x", body: []byte(`{"merchant_uid":`)},
		{name: "JSON array", segment: "x", body: []byte(`[1,2,3]`)},
	}
}

// TestMalformedInputBattery sends every hostile variant to every route the
// server serves (App.Routes, so a new route is covered the day it is added)
// with valid credentials for its dialect: no answer is a 5xx, text with NUL
// or invalid UTF-8 is a 400 in the dialect's envelope (an error page for
// the OneShot pages a browser opens), and nothing of it is stored.
func TestMalformedInputBattery(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b)
		tok := e.Token(e.Cred)
		issueKey(t, e, tok, "cust_1")
		before := rowCounts(t, e)
		routes := e.App.Routes()
		sent, by4xx, by2xx, by3xx := 0, 0, 0, 0
		for _, route := range routes {
			method, pattern := route.Method, route.Path
			if method == "" {
				method = "GET"
			}
			for _, v := range variants() {
				path := param.ReplaceAllString(strings.TrimSuffix(pattern, "..."), v.segment)
				if path == pattern && v.segment != "x" {
					// No parameter to put it in: a route of its own below this one.
					path = strings.TrimSuffix(path, "/") + "/" + v.segment
				}
				if v.query != "" {
					path += "?" + v.query
				}
				var hdr http.Header
				switch {
				case strings.HasPrefix(pattern, "/v3/subscriptions") || strings.HasPrefix(pattern, "/v3/deposits"):
					hdr = signD24(e, e.Cred, nil, v.body)
				case strings.HasPrefix(pattern, "/v1/checkout"):
					hdr = http.Header{"Origin": {"http://localhost:3000"}, "Content-Type": {"application/json"}}
				default:
					hdr = bearer(tok)
				}
				if v.badToken {
					hdr.Set("Authorization", "Bearer "+marker+"\xff\xfe")
					hdr.Set("X-ImpTokenHeader", marker+"\xff")
				}
				r := send(t, e.Server.URL, method, path, hdr, v.body)
				sent++
				switch {
				case r.status >= 500:
					t.Errorf("%s %s [%s]: HTTP %d %.200s", method, pattern, v.name, r.status, r.raw)
				case v.text && r.status != 400:
					t.Errorf("%s %s [%s]: HTTP %d, want 400: %.200s", method, pattern, v.name, r.status, r.raw)
				case v.text && strings.HasPrefix(pattern, "/v3/checkout") && !strings.HasPrefix(r.header.Get("Content-Type"), "text/html"):
					t.Errorf("%s %s [%s]: not an error page for the browser: %.200s", method, pattern, v.name, r.raw)
				case v.text && strings.HasPrefix(pattern, "/v3/") && !strings.HasPrefix(pattern, "/v3/checkout") &&
					(r.json["type"] != "VALIDATION_ERROR" || r.json["code"] != 400.0):
					t.Errorf("%s %s [%s]: not the v3 envelope: %.200s", method, pattern, v.name, r.raw)
				case v.text && !strings.HasPrefix(pattern, "/v3/") && (r.json["code"] != -1.0 || r.json["message"] == nil):
					t.Errorf("%s %s [%s]: not the V1 envelope: %.200s", method, pattern, v.name, r.raw)
				case r.status >= 400:
					by4xx++
				case r.status >= 300:
					by3xx++
				default:
					by2xx++
				}
			}
		}
		after := rowCounts(t, e)
		for table, n := range before {
			if after[table] != n {
				t.Errorf("%s: %d rows before the battery, %d after", table, n, after[table])
			}
		}
		if dump := dumpDatabase(t, e, b); strings.Contains(dump, marker) {
			t.Errorf("a malformed value was stored")
		}
		if strings.Contains(e.Logs.String(), "X-Injected") && strings.Contains(e.Logs.String(), "\nX-Injected") {
			t.Errorf("a CRLF from a request reached the log unescaped")
		}
		t.Logf("%s: %d routes × %d variants = %d requests: %d answered 4xx, %d 3xx, %d 2xx, 0 5xx; nothing stored",
			b.Name, len(routes), len(variants()), sent, by4xx, by3xx, by2xx)
	})
}
