package d24

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Vectors from onekey-v3.md §1.2 (computed independently with Python hmac).
func TestSignVectors(t *testing.T) {
	cases := []struct {
		body, want string
	}{
		{`{"invoice_id":"INV123456","amount":70}`, "D24 75b826a67f335138e3ed2e6468db7291f0cd9c2e37d4401307d0b6677e7966b9"},
		{"", "D24 b0a9cd089a83279aa0a6c90dd8bc5324c9e2746387bff1d2af1dd0da406ce6cd"},
	}
	for _, c := range cases {
		if got := Sign("test_secret", "2025-07-23T13:15:37Z", "test_login", []byte(c.body)); got != c.want {
			t.Errorf("Sign(body=%q) = %s, want %s", c.body, got, c.want)
		}
	}
	if Sign("test_secret", "2025-07-23T13:15:37Z", "test_login", nil) != cases[1].want {
		t.Error("nil body must sign like empty body")
	}
}

func TestParseXDate(t *testing.T) {
	want := time.Date(2025, 7, 23, 13, 15, 37, 0, time.UTC)
	good := []struct {
		in   string
		want time.Time
	}{
		{"2025-07-23T13:15:37Z", want},
		{"2025-07-23t13:15:37z", want},
		{"2025-07-23T22:15:37+09:00", want},
		{"2025-07-23T22:15:37+0900", want},
		{"2025-07-23T08:15:37-05:00", want},
		{"2025-07-23T08:15:37-0500", want},
		{"2025-07-23T13:15:37+00:00", want},
		{"2025-07-23T13:15:37.095Z", want.Add(95 * time.Millisecond)},
		{"2025-07-23T13:15:37.1Z", want.Add(100 * time.Millisecond)},
		{"2025-07-23T13:15:37.123456789Z", want.Add(123456789)},
		{"2025-07-23T22:15:37.500+09:00", want.Add(500 * time.Millisecond)},
		{"2025-11-15T05:10:30.095Z", time.Date(2025, 11, 15, 5, 10, 30, 95e6, time.UTC)},
		{"2024-02-29T00:00:00Z", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
	}
	for _, c := range good {
		got, err := ParseXDate(c.in)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("ParseXDate(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	bad := []string{
		"", "2025-07-23", "2025-07-23T13:15:37", "2025-07-23 13:15:37Z", "2025-07-23T13:15Z",
		"2025-07-23T13:15:37.Z", "2025-07-23T13:15:37.1234567890Z", "2025-07-23T13:15:37+09",
		"2025-07-23T13:15:37+9:00", "2025-07-23T13:15:37+24:00", "2025-07-23T13:15:37+09:60",
		"2025-07-23T24:00:00Z", "2025-07-23T13:60:00Z", "2025-07-23T13:15:60Z", "2025-02-29T13:15:37Z",
		"2025-13-23T13:15:37Z", "2025-00-23T13:15:37Z", "2025-07-00T13:15:37Z", "2025-07-23T13:15:37ZZ",
		"2025-07-23T13:15:37 Z", "Wed, 23 Jul 2025 13:15:37 GMT", "1753276537", "2025-07-23T13:15:37+09:00:00",
		"+025-07-23T13:15:37Z", "2025-07-23T13:15:37.09a5Z",
	}
	for _, s := range bad {
		if got, err := ParseXDate(s); err == nil {
			t.Errorf("ParseXDate(%q) = %v, want error", s, got)
		}
	}
}

const (
	tSecret = "test_secret"
	tLogin  = "test_login"
	tMerch  = int64(42)
)

var tNow = time.Date(2025, 7, 23, 13, 15, 37, 0, time.UTC)

func newVerifier() *Verifier {
	return &Verifier{
		Now: func() time.Time { return tNow },
		Secret: func(_ context.Context, login string) (string, int64, error) {
			switch login {
			case tLogin:
				return tSecret, tMerch, nil
			case "broken":
				return "", 0, errors.New("db down")
			}
			return "", 0, ErrUnknownLogin
		},
	}
}

func signed(xDate, login, body string) http.Header {
	h := http.Header{}
	h.Set("X-Date", xDate)
	h.Set("X-Login", login)
	h.Set("Authorization", Sign(tSecret, xDate, login, []byte(body)))
	h.Set("Content-Type", "application/json")
	return h
}

func wantCode(t *testing.T, name string, err error, code, status int) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: err = %v, want *Error %d", name, err, code)
	}
	if e.Code != code || e.HTTPStatus != status {
		t.Fatalf("%s: got %d/%d (%s), want %d/%d", name, e.Code, e.HTTPStatus, e.Description, code, status)
	}
}

func TestVerify(t *testing.T) {
	const body = `{"invoice_id":"INV123456","amount":70}`
	const xd = "2025-07-23T13:15:37Z"
	mod := func(f func(h http.Header)) http.Header {
		h := signed(xd, tLogin, body)
		f(h)
		return h
	}
	cases := []struct {
		name   string
		h      http.Header
		body   string
		code   int // 0 = ok
		status int
		inDesc string
	}{
		{name: "ok", h: signed(xd, tLogin, body), body: body},
		{name: "ok empty body", h: signed(xd, tLogin, ""), body: ""},
		{name: "ok DELETE {}", h: signed(xd, tLogin, "{}"), body: "{}"},
		{name: "ok millis", h: signed("2025-07-23T13:15:37.095Z", tLogin, body), body: body},
		{name: "ok offset", h: signed("2025-07-23T22:15:37+09:00", tLogin, body), body: body},
		{name: "ok offset no colon", h: signed("2025-07-23T22:15:37+0900", tLogin, body), body: body},
		{name: "ok upper-case hex", h: mod(func(h http.Header) {
			h.Set("Authorization", "D24 "+strings.ToUpper(Sign(tSecret, xd, tLogin, []byte(body))[4:]))
		}), body: body},
		{name: "ok lower-case scheme", h: mod(func(h http.Header) {
			h.Set("Authorization", "d24 "+Sign(tSecret, xd, tLogin, []byte(body))[4:])
		}), body: body},
		{name: "ok non-canonical header keys", h: http.Header{
			"x-date":        {xd},
			"X-LOGIN":       {tLogin},
			"authorization": {Sign(tSecret, xd, tLogin, []byte(body))},
		}, body: body},

		{name: "no X-Login", h: mod(func(h http.Header) { h.Del("X-Login") }), body: body, code: 101, status: 400, inDesc: "X-Login"},
		{name: "empty X-Login", h: mod(func(h http.Header) { h.Set("X-Login", "") }), body: body, code: 101, status: 400, inDesc: "X-Login"},
		{name: "X-Login with space", h: mod(func(h http.Header) { h.Set("X-Login", "a b") }), body: body, code: 101, status: 400, inDesc: "X-Login"},
		{name: "two X-Login", h: mod(func(h http.Header) { h.Add("X-Login", "other") }), body: body, code: 101, status: 400, inDesc: "X-Login"},
		{name: "no X-Date", h: mod(func(h http.Header) { h.Del("X-Date") }), body: body, code: 101, status: 400, inDesc: "X-Date"},
		{name: "garbled X-Date", h: mod(func(h http.Header) { h.Set("X-Date", "yesterday") }), body: body, code: 101, status: 400, inDesc: "X-Date"},
		{name: "X-Date no zone", h: mod(func(h http.Header) { h.Set("X-Date", "2025-07-23T13:15:37") }), body: body, code: 101, status: 400, inDesc: "X-Date"},
		{name: "no Authorization", h: mod(func(h http.Header) { h.Del("Authorization") }), body: body, code: 101, status: 400, inDesc: "Authorization"},
		{name: "Bearer", h: mod(func(h http.Header) { h.Set("Authorization", "Bearer abc") }), body: body, code: 101, status: 400, inDesc: "Authorization"},
		{name: "no scheme", h: mod(func(h http.Header) {
			h.Set("Authorization", Sign(tSecret, xd, tLogin, []byte(body))[4:])
		}), body: body, code: 101, status: 400, inDesc: "Authorization"},
		{name: "short hex", h: mod(func(h http.Header) { h.Set("Authorization", "D24 abcd") }), body: body, code: 101, status: 400, inDesc: "Authorization"},
		{name: "non-hex", h: mod(func(h http.Header) { h.Set("Authorization", "D24 "+strings.Repeat("zz", 32)) }), body: body, code: 101, status: 400, inDesc: "Authorization"},

		{name: "unknown login", h: signed(xd, "nobody", body), body: body, code: 100, status: 401, inDesc: "Invalid Credentials"},

		{name: "tampered body", h: signed(xd, tLogin, body), body: `{"invoice_id":"INV123456","amount":7000}`, code: 102, status: 400},
		{name: "body whitespace", h: signed(xd, tLogin, body), body: body + "\n", code: 102, status: 400},
		{name: "tampered date", h: mod(func(h http.Header) { h.Set("X-Date", "2025-07-23T13:15:38Z") }), body: body, code: 102, status: 400},
		{name: "same instant, other spelling", h: mod(func(h http.Header) { h.Set("X-Date", "2025-07-23T13:15:37.000Z") }), body: body, code: 102, status: 400},
		{name: "signed for other login", h: mod(func(h http.Header) {
			h.Set("Authorization", Sign(tSecret, xd, "other_login", []byte(body)))
		}), body: body, code: 102, status: 400},
		{name: "wrong secret", h: mod(func(h http.Header) {
			h.Set("Authorization", Sign("not_the_secret", xd, tLogin, []byte(body)))
		}), body: body, code: 102, status: 400},
		{name: "one bit off", h: mod(func(h http.Header) {
			s := Sign(tSecret, xd, tLogin, []byte(body))
			last := s[len(s)-1]
			if last == '0' {
				last = '1'
			} else {
				last = '0'
			}
			h.Set("Authorization", s[:len(s)-1]+string(last))
		}), body: body, code: 102, status: 400},
	}
	v := newVerifier()
	for _, c := range cases {
		id, err := v.Verify(context.Background(), c.h, []byte(c.body))
		if c.code == 0 {
			if err != nil || id != tMerch {
				t.Errorf("%s: Verify = %d, %v", c.name, id, err)
			}
			continue
		}
		wantCode(t, c.name, err, c.code, c.status)
		if e := err.(*Error); !strings.Contains(e.Description, c.inDesc) {
			t.Errorf("%s: description %q lacks %q", c.name, e.Description, c.inDesc)
		}
	}

	// A store failure is not "invalid credentials".
	_, err := v.Verify(context.Background(), signed(xd, "broken", body), []byte(body))
	var e *Error
	if err == nil || errors.As(err, &e) {
		t.Fatalf("store error = %v, want a non-*Error", err)
	}
}

func TestVerifyWindow(t *testing.T) {
	const body = `{}`
	cases := []struct {
		offset time.Duration
		window time.Duration
		ok     bool
	}{
		{0, 0, true},
		{5 * time.Minute, 0, true},
		{-5 * time.Minute, 0, true},
		{5*time.Minute + time.Millisecond, 0, false},
		{-5*time.Minute - time.Millisecond, 0, false},
		{5*time.Minute + time.Second, 0, false},
		{-5*time.Minute - time.Second, 0, false},
		{time.Hour, 0, false},
		{-24 * time.Hour, 0, false},
		{30 * time.Second, 30 * time.Second, true},
		{31 * time.Second, 30 * time.Second, false},
		{-9 * time.Minute, 10 * time.Minute, true},
	}
	for _, c := range cases {
		v := newVerifier()
		v.Window = c.window
		sent := tNow.Add(c.offset)
		xd := sent.Format("2006-01-02T15:04:05.000Z07:00")
		_, err := v.Verify(context.Background(), signed(xd, tLogin, body), []byte(body))
		if c.ok {
			if err != nil {
				t.Errorf("offset %v window %v: %v", c.offset, c.window, err)
			}
			continue
		}
		wantCode(t, "skew", err, 101, 400)
		desc := err.(*Error).Description
		if !strings.HasPrefix(desc, "Missing or invalid format for required header X-Date") || !strings.Contains(desc, "±") {
			t.Errorf("skew description %q", desc)
		}
	}
	// Skew is checked before the credential lookup: a stale request with an
	// unknown login is refused for its date without a lookup.
	v := newVerifier()
	called := false
	v.Secret = func(context.Context, string) (string, int64, error) { called = true; return "", 0, ErrUnknownLogin }
	_, err := v.Verify(context.Background(), signed("2020-01-01T00:00:00Z", "nobody", body), []byte(body))
	wantCode(t, "stale", err, 101, 400)
	if called {
		t.Error("Secret called for a stale request")
	}
	if got := ErrXDateSkew(5 * time.Minute).Description; got != "Missing or invalid format for required header X-Date: must be within ±5 minutes of the server time (UTC)" {
		t.Errorf("skew description = %q", got)
	}
}

func TestErrorBodies(t *testing.T) {
	cases := []struct {
		err    *Error
		status int
		body   string
	}{
		{ErrInvalidCredentials(), 401, `{"code":100,"description":"Invalid Credentials","type":"INVALID_CREDENTIALS"}`},
		{ErrMissingHeader("X-Login"), 400, `{"code":101,"description":"Missing or invalid format for required header X-Login","type":"MISSING_REQUIRED_HEADER"}`},
		{ErrInvalidSignature(), 400, `{"code":102,"description":"Invalid Signature","type":"INVALID_SIGNATURE"}`},
		{ErrValidation(""), 400, `{"code":400,"description":"Invalid input data","type":"VALIDATION_ERROR"}`},
		{ErrValidation("amount must be positive"), 400, `{"code":400,"description":"amount must be positive","type":"VALIDATION_ERROR"}`},
		{ErrSubscriptionNotFound(), 420, `{"code":420,"description":"Subscription does not exist.","type":"SUBSCRIPTION_NOT_FOUND"}`},
		{ErrSubscriptionAlreadyCancelled(), 421, `{"code":421,"description":"Subscription was already cancelled.","type":"SUBSCRIPTION_ALREADY_CANCELLED"}`},
		{ErrUnprocessable(""), 422, `{"code":422,"description":"Validation error","type":"UNPROCESSABLE_ENTITY"}`},
		{ErrSubscriptionTerminated(), 426, `{"code":426,"description":"Subscription is terminated and cannot be cancelled","type":"SUBSCRIPTION_TERMINATED"}`},
		{ErrGeneric(), 500, `{"code":500,"description":"Generic Error","type":"GENERIC_ERROR"}`},
		{ErrGenericCancel(), 501, `{"code":501,"description":"Generic Error","type":"GENERIC_ERROR"}`},
		{ErrServiceUnavailable(), 503, `{"code":503,"description":"Error creating subscription","type":"SERVICE_UNAVAILABLE"}`},
		{ErrIdempotencyKeyReused(), 409, `{"code":409,"description":"X-Idempotency-Key was already used with a different request","type":"IDEMPOTENCY_KEY_REUSED"}`},
	}
	for _, c := range cases {
		if c.err.HTTPStatus != c.status {
			t.Errorf("%s: status %d, want %d", c.err.Type, c.err.HTTPStatus, c.status)
		}
		if got := string(c.err.Body()); got != c.body {
			t.Errorf("Body = %s, want %s", got, c.body)
		}
		// Marshalling the value inside another struct uses the same shape.
		b, err := json.Marshal(struct{ E *Error }{c.err})
		if err != nil || string(b) != `{"E":`+c.body+`}` {
			t.Errorf("nested marshal = %s, %v", b, err)
		}
		rec := httptest.NewRecorder()
		WriteError(rec, c.err)
		if rec.Code != c.status || rec.Body.String() != c.body || rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("WriteError: %d %s", rec.Code, rec.Body.String())
		}
	}
	if s := ErrSubscriptionNotFound().Error(); !strings.Contains(s, "420") || !strings.Contains(s, "SUBSCRIPTION_NOT_FOUND") {
		t.Errorf("Error() = %q", s)
	}
	rec := httptest.NewRecorder()
	WriteError(rec, errors.New("secret internal detail"))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "secret") {
		t.Errorf("plain error leaked: %d %s", rec.Code, rec.Body.String())
	}
	if (&Error{Code: 1}).Status() != 500 {
		t.Error("unset HTTPStatus must be 500")
	}
}

func TestHandler(t *testing.T) {
	const body = `{"invoice_id":"INV1","amount":70}`
	v := newVerifier()
	var gotBody string
	var gotID int64
	h := v.Handler(0, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		gotID, _ = MerchantID(r.Context())
		w.WriteHeader(200)
	}))
	req := httptest.NewRequest(http.MethodPost, "/v3/subscriptions", strings.NewReader(body))
	for k, vs := range signed("2025-07-23T13:15:37Z", tLogin, body) {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || gotBody != body || gotID != tMerch {
		t.Fatalf("handler: %d body=%q id=%d", rec.Code, gotBody, gotID)
	}

	req = httptest.NewRequest(http.MethodPost, "/v3/subscriptions", strings.NewReader(body+" "))
	for k, vs := range signed("2025-07-23T13:15:37Z", tLogin, body) {
		req.Header[k] = vs
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"code":102`) {
		t.Fatalf("tampered: %d %s", rec.Code, rec.Body.String())
	}

	small := v.Handler(8, http.NotFoundHandler())
	req = httptest.NewRequest(http.MethodPost, "/v3/subscriptions", strings.NewReader(body))
	rec = httptest.NewRecorder()
	small.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: %d", rec.Code)
	}
}

func TestIdempotency(t *testing.T) {
	a := RequestHash("POST", "/v3/subscriptions", []byte(`{"a":1}`))
	if len(a) != 64 || strings.ToLower(a) != a {
		t.Fatalf("hash %q", a)
	}
	if a != RequestHash("POST", "/v3/subscriptions", []byte(`{"a":1}`)) {
		t.Fatal("not deterministic")
	}
	for _, other := range []string{
		RequestHash("POST", "/v3/subscriptions", []byte(`{"a":2}`)),
		RequestHash("PUT", "/v3/subscriptions", []byte(`{"a":1}`)),
		RequestHash("POST", "/v3/subscriptions/", []byte(`{"a":1}`)),
		// Shifting bytes between path and body must not collide.
		RequestHash("POST", "/v3/subscriptions{", []byte(`"a":1}`)),
	} {
		if other == a {
			t.Fatal("distinct requests hash the same")
		}
	}

	h := http.Header{}
	h.Set(HeaderIdempotencyKey, "k-123")
	k, ok, err := IdempotencyKeyFrom(h, 7, "POST", "/v3/subscriptions", []byte(`{"a":1}`))
	if err != nil || !ok || k.Key != "k-123" || k.MerchantID != 7 || k.RequestHash != a {
		t.Fatalf("IdempotencyKeyFrom = %+v %v %v", k, ok, err)
	}
	if k.Check(a) != nil {
		t.Fatal("same body must replay")
	}
	wantCode(t, "reuse", k.Check(RequestHash("POST", "/v3/subscriptions", []byte(`{"a":2}`))), 409, 409)

	if _, ok, err := IdempotencyKeyFrom(h, 7, "DELETE", "/v3/subscriptions/1", nil); ok || err != nil {
		t.Fatal("DELETE must ignore the key")
	}
	if _, ok, err := IdempotencyKeyFrom(http.Header{}, 7, "POST", "/", nil); ok || err != nil {
		t.Fatal("absent key")
	}
	for _, bad := range []http.Header{
		{"X-Idempotency-Key": {""}},
		{"X-Idempotency-Key": {"a", "b"}},
		{"X-Idempotency-Key": {strings.Repeat("k", MaxIdempotencyKeyLen+1)}},
		{"x-idempotency-key": {"has space"}},
	} {
		_, _, err := IdempotencyKeyFrom(bad, 7, "POST", "/", nil)
		wantCode(t, "bad key", err, 101, 400)
	}
	if IdempotencyRetention != 24*time.Hour {
		t.Fatal("retention")
	}
}

func FuzzParseXDate(f *testing.F) {
	for _, s := range []string{
		"2025-07-23T13:15:37Z", "2025-11-15T05:10:30.095Z", "2025-07-23T22:15:37+09:00",
		"2025-07-23T22:15:37+0900", "2025-07-23T13:15:37", "2025-02-29T00:00:00Z", "",
		"2025-07-23T13:15:37.123456789-23:59",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseXDate(s)
		if err != nil {
			return
		}
		// Anything accepted that Go's RFC 3339 parser also accepts must mean
		// the same instant.
		if std, err := time.Parse(time.RFC3339Nano, s); err == nil && !std.Equal(got) {
			t.Fatalf("ParseXDate(%q) = %v, time.Parse = %v", s, got, std)
		}
		// Re-formatting in canonical RFC 3339 round-trips (when the UTC
		// instant still has a four-digit year).
		if y := got.UTC().Year(); y < 0 || y > 9999 {
			return
		}
		again, err := ParseXDate(got.UTC().Format(time.RFC3339Nano))
		if err != nil || !again.Equal(got) {
			t.Fatalf("round trip of %q: %v %v", s, again, err)
		}
	})
}

// A verified request is remembered until its X-Date leaves the window; the
// same one again is refused as 101, and only verified requests are recorded.
func TestVerifyRefusesReplay(t *testing.T) {
	v := newVerifier()
	seen := map[string]time.Time{}
	v.Remember = func(_ context.Context, fp string, until time.Time) (bool, error) {
		if _, ok := seen[fp]; ok {
			return false, nil
		}
		seen[fp] = until
		return true, nil
	}
	const xd = "2025-07-23T13:15:37Z"
	h := signed(xd, tLogin, "")
	if _, err := v.Verify(context.Background(), h, nil); err != nil {
		t.Fatalf("first: %v", err)
	}
	_, err := v.Verify(context.Background(), h, nil)
	wantCode(t, "replay", err, 101, 400)
	for _, until := range seen {
		if !until.Equal(tNow.Add(DefaultWindow)) {
			t.Fatalf("remembered until %s", until)
		}
	}
	bad := h.Clone()
	bad.Set("Authorization", "D24 "+strings.Repeat("ab", 32))
	_, err = v.Verify(context.Background(), bad, nil)
	wantCode(t, "bad signature", err, 102, 400)
	if len(seen) != 1 {
		t.Fatalf("%d fingerprints; an unverified request must not be recorded", len(seen))
	}
	// Another X-Date (a fraction is enough) is another request.
	if _, err := v.Verify(context.Background(), signed("2025-07-23T13:15:37.001Z", tLogin, ""), nil); err != nil {
		t.Fatalf("fresh X-Date: %v", err)
	}
}
