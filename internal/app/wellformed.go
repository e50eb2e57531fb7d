package app

import (
	"net/http"
	"strings"

	"github.com/billkey/billkey/internal/api/iamport"
	v3 "github.com/billkey/billkey/internal/api/v3"
	"github.com/billkey/billkey/internal/wellformed"
)

// maxCheckedBody is the largest body any route accepts (V1's 1 MiB); a
// larger one is left to the route's own size limit.
const maxCheckedBody = 1 << 20

// wellFormed puts every route behind wellformed.Guard: NUL or invalid
// UTF-8 anywhere in a request is a 400 in the dialect the path speaks
// (v3's under /v3/, V1's everywhere else), before any lookup or write.
func wellFormed(next http.Handler) http.Handler {
	return wellformed.Guard(next, maxCheckedBody, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v3/") {
			v3.RefuseMalformed(w, r)
			return
		}
		iamport.RefuseMalformed(w, r)
	})
}
