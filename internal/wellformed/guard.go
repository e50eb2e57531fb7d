package wellformed

import (
	"bytes"
	"io"
	"net/http"
)

// GuardedHeaders are the request headers whose values reach lookups or
// storage (tokens, D24 credentials, idempotency keys, the window's origin).
var GuardedHeaders = []string{"Authorization", "X-ImpTokenHeader", "X-Login", "X-Date", "X-Idempotency-Key", "Origin"}

// Guard refuses, before routing, authentication or any handler, a request
// whose path, query, guarded headers or body (JSON or urlencoded, up to
// maxBody bytes) is not Text, answering it with refuse (which writes the
// dialect's envelope). A body over maxBody is passed on unchecked, for the
// handler's own size limit to refuse.
func Guard(next http.Handler, maxBody int64, refuse func(http.ResponseWriter, *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !Path(r.URL.EscapedPath()) || !Query(r.URL.RawQuery) || !headersOK(r.Header) {
			refuse(w, r)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
			if err != nil {
				refuse(w, r)
				return
			}
			if int64(len(body)) > maxBody {
				r.Body = readCloser{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
				next.ServeHTTP(w, r)
				return
			}
			if !Body(body) {
				refuse(w, r)
				return
			}
			r.Body = readCloser{bytes.NewReader(body), r.Body}
		}
		next.ServeHTTP(w, r)
	})
}

func headersOK(h http.Header) bool {
	for _, name := range GuardedHeaders {
		for _, v := range h.Values(name) {
			if !Text(v) {
				return false
			}
		}
	}
	return true
}

type readCloser struct {
	io.Reader
	c io.Closer
}

func (r readCloser) Close() error { return r.c.Close() }
