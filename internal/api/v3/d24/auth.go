// Package d24 implements the D24 (OneKey Payments v3) request
// authentication: the "D24 " HMAC-SHA256 Authorization scheme, the X-Date
// clock-skew check, the dialect's {code, description, type} errors, and the
// request hashing behind X-Idempotency-Key. It knows nothing about routing or
// storage: credentials come from a callback, idempotency records from the
// caller.
package d24

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Header names.
const (
	HeaderXDate           = "X-Date"
	HeaderXLogin          = "X-Login"
	HeaderAuthorization   = "Authorization"
	HeaderIdempotencyKey  = "X-Idempotency-Key"
	Scheme                = "D24 "
	DefaultWindow         = 5 * time.Minute
	signatureHexLen       = sha256.Size * 2
	maxHeaderValueLen     = 1024
	DefaultMaxRequestBody = 1 << 20
)

// Sign returns the Authorization value for a request: "D24 " + lowercase
// hex HMAC-SHA256(secret, X-Date + X-Login + body), over the exact header
// strings and raw body bytes (an empty body signs as "").
func Sign(secret, xDate, xLogin string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(xDate))
	mac.Write([]byte(xLogin))
	mac.Write(body)
	return Scheme + hex.EncodeToString(mac.Sum(nil))
}

// ErrUnknownLogin is what a Verifier.Secret callback returns (possibly
// wrapped) for an X-Login that does not exist or is not active.
var ErrUnknownLogin = errors.New("d24: unknown login")

// Verifier checks D24-signed requests. The zero value needs only Secret.
type Verifier struct {
	// Window is the allowed |server time − X-Date|, inclusive; <= 0 means
	// DefaultWindow.
	Window time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Secret returns the API signature secret and merchant for an X-Login.
	// It returns ErrUnknownLogin for unknown logins; any other error is
	// passed through (not mapped to 100) so that a store outage is a 5xx
	// rather than a claim that the merchant's credentials are wrong.
	Secret func(ctx context.Context, xLogin string) (secret string, merchantID int64, err error)
	// Remember records the fingerprint of a verified request until the
	// moment its X-Date leaves the window and reports whether it was new.
	// The signature covers X-Date, X-Login and the body only, not the
	// method or path, so a captured empty-body request would otherwise be
	// valid against every empty-body endpoint for the whole window. Shared
	// through the store, it refuses a replay on any node. nil disables the
	// check (unit tests of the scheme itself).
	Remember func(ctx context.Context, fingerprint string, until time.Time) (fresh bool, err error)
}

func (v *Verifier) window() time.Duration {
	if v.Window <= 0 {
		return DefaultWindow
	}
	return v.Window
}

// Verify authenticates a request from its headers and raw body and returns
// the merchant it belongs to. Errors are *Error except for Secret's own
// non-ErrUnknownLogin failures.
//
// Checks run cheapest first: header shape (101), X-Date window (101),
// login lookup (100), signature (102), then the replay guard (101: the
// client must sign again with a fresh X-Date). The skew check precedes the lookup so
// stale replays are turned away without touching the credential store; it
// reveals nothing about credentials.
func (v *Verifier) Verify(ctx context.Context, h http.Header, body []byte) (int64, error) {
	login, ok := single(h, HeaderXLogin)
	if !ok || !printable(login) {
		return 0, ErrMissingHeader(HeaderXLogin)
	}
	xDate, ok := single(h, HeaderXDate)
	if !ok {
		return 0, ErrMissingHeader(HeaderXDate)
	}
	sent, err := ParseXDate(xDate)
	if err != nil {
		return 0, ErrMissingHeader(HeaderXDate)
	}
	auth, ok := single(h, HeaderAuthorization)
	if !ok {
		return 0, ErrMissingHeader(HeaderAuthorization)
	}
	mac, ok := parseAuthorization(auth)
	if !ok {
		return 0, ErrMissingHeader(HeaderAuthorization)
	}

	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	w := v.window()
	if skew := now().Sub(sent); skew > w || skew < -w {
		return 0, ErrXDateSkew(w)
	}

	if v.Secret == nil {
		return 0, errors.New("d24: Verifier.Secret is nil")
	}
	secret, merchantID, err := v.Secret(ctx, login)
	if errors.Is(err, ErrUnknownLogin) {
		return 0, ErrInvalidCredentials()
	}
	if err != nil {
		return 0, fmt.Errorf("d24: look up X-Login: %w", err)
	}

	want := hmac.New(sha256.New, []byte(secret))
	want.Write([]byte(xDate))
	want.Write([]byte(login))
	want.Write(body)
	if !hmac.Equal(mac, want.Sum(nil)) {
		return 0, ErrInvalidSignature()
	}
	if v.Remember != nil {
		fresh, err := v.Remember(ctx, Fingerprint(login, xDate, mac), sent.Add(w))
		if err != nil {
			return 0, fmt.Errorf("d24: replay guard: %w", err)
		}
		if !fresh {
			return 0, ErrReplayed()
		}
	}
	return merchantID, nil
}

// Fingerprint identifies one signed request: its login, X-Date string and
// MAC (decoded, so that upper- and lower-case hex are the same request).
func Fingerprint(login, xDate string, mac []byte) string {
	h := sha256.New()
	h.Write([]byte(login))
	h.Write([]byte{0})
	h.Write([]byte(xDate))
	h.Write([]byte{0})
	h.Write(mac)
	return hex.EncodeToString(h.Sum(nil))
}

// parseAuthorization accepts "D24 " + 64 hex digits. The scheme name is
// matched case-insensitively (RFC 9110 §11.1) and the hex is decoded rather
// than string-compared, so upper-case hex from a client is the same MAC.
func parseAuthorization(s string) ([]byte, bool) {
	if len(s) != len(Scheme)+signatureHexLen || !strings.EqualFold(s[:len(Scheme)], Scheme) {
		return nil, false
	}
	mac, err := hex.DecodeString(s[len(Scheme):])
	if err != nil {
		return nil, false
	}
	return mac, true
}

// single returns the one value of header name. http.Header from net/http
// has canonical keys, but hand-built maps (tests, other frameworks) may not,
// so a non-canonical key is found too. Zero, several or empty values are
// "missing or invalid": with two X-Login values it is ambiguous which one
// was signed.
func single(h http.Header, name string) (string, bool) {
	vals, ok := h[name] // name is already canonical
	if !ok {
		for k, vs := range h {
			if strings.EqualFold(k, name) {
				if ok {
					return "", false // same header under two spellings
				}
				vals, ok = vs, true
			}
		}
	}
	if len(vals) != 1 || vals[0] == "" || len(vals[0]) > maxHeaderValueLen {
		return "", false
	}
	return vals[0], true
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

type ctxKey struct{}

// MerchantID returns the merchant a Handler-authenticated request belongs to.
func MerchantID(ctx context.Context) (int64, bool) {
	id, ok := ctx.Value(ctxKey{}).(int64)
	return id, ok
}

// WithMerchantID returns ctx carrying id, as Handler does; for tests and
// alternative middleware.
func WithMerchantID(ctx context.Context, id int64) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// Handler wraps next with D24 authentication: it reads the body (at most
// maxBody bytes; <= 0 means DefaultMaxRequestBody), verifies it, puts the
// merchant id in the context (see MerchantID) and hands next a fresh body
// reader over the same bytes, since the signature covers the body the
// handler will decode.
func (v *Verifier) Handler(maxBody int64, next http.Handler) http.Handler {
	if maxBody <= 0 {
		maxBody = DefaultMaxRequestBody
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		if r.Body != nil {
			b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
			if err != nil {
				WriteError(w, ErrValidation(""))
				return
			}
			if int64(len(b)) > maxBody {
				WriteError(w, &Error{http.StatusRequestEntityTooLarge, CodeValidation, "Request body too large", TypeValidation})
				return
			}
			body = b
		}
		id, err := v.Verify(r.Context(), r.Header, body)
		if err != nil {
			WriteError(w, err)
			return
		}
		r2 := r.WithContext(WithMerchantID(r.Context(), id))
		r2.Body = io.NopCloser(bytes.NewReader(body))
		r2.ContentLength = int64(len(body))
		next.ServeHTTP(w, r2)
	})
}
