package d24

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// Idempotency rule (the gateway documents only the header; the rest is
// Billkey's):
//
//   - Only POST honours X-Idempotency-Key; on GET/DELETE it is ignored, as
//     the D24 docs say.
//   - Keys are scoped per merchant.
//   - The first response for (merchant, key) is stored for
//     IdempotencyRetention (24 h). A retry with the same key and the same
//     RequestHash replays that response byte for byte instead of running the
//     request again.
//   - The same key with a different RequestHash is refused with
//     ErrIdempotencyKeyReused (HTTP 409, code 409, IDEMPOTENCY_KEY_REUSED):
//     reusing a key for a different request is a client bug, and silently
//     replaying the old response would hide it.
//
// The hash covers method, path and body only: a retry is re-signed with a
// fresh X-Date, so the auth headers legitimately differ between attempts.
const IdempotencyRetention = 24 * time.Hour

// MaxIdempotencyKeyLen bounds the stored key.
const MaxIdempotencyKeyLen = 255

// IdempotencyKey identifies one idempotent POST.
type IdempotencyKey struct {
	MerchantID  int64
	Key         string // the X-Idempotency-Key value
	RequestHash string // RequestHash(method, path, body)
}

// RequestHash is the lowercase hex SHA-256 of method, path and body,
// length-prefixed so that no two different (method, path, body) triples hash
// the same input bytes. Pass the request path without host or query
// (r.URL.Path); the subscription endpoints take no query parameters.
func RequestHash(method, path string, body []byte) string {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(method)))
	h.Write(n[:])
	h.Write([]byte(method))
	binary.BigEndian.PutUint64(n[:], uint64(len(path)))
	h.Write(n[:])
	h.Write([]byte(path))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// IdempotencyKeyFrom extracts the key of an authenticated request. ok is
// false when the request carries no key or is not a POST. A key that is
// empty, too long, repeated or contains non-printable bytes is a 101 error.
func IdempotencyKeyFrom(h http.Header, merchantID int64, method, path string, body []byte) (IdempotencyKey, bool, error) {
	if method != http.MethodPost {
		return IdempotencyKey{}, false, nil
	}
	if _, present := lookup(h, HeaderIdempotencyKey); !present {
		return IdempotencyKey{}, false, nil
	}
	key, ok := single(h, HeaderIdempotencyKey)
	if !ok || len(key) > MaxIdempotencyKeyLen || !printable(key) {
		return IdempotencyKey{}, false, ErrMissingHeader(HeaderIdempotencyKey)
	}
	return IdempotencyKey{MerchantID: merchantID, Key: key, RequestHash: RequestHash(method, path, body)}, true, nil
}

// Check compares k with the hash stored for the same key: nil means replay
// the stored response, otherwise ErrIdempotencyKeyReused.
func (k IdempotencyKey) Check(storedHash string) error {
	if storedHash != k.RequestHash {
		return ErrIdempotencyKeyReused()
	}
	return nil
}

func lookup(h http.Header, name string) ([]string, bool) {
	if v, ok := h[name]; ok {
		return v, true
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}
