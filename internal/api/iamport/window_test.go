package iamport

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/billkey/billkey/internal/checkout"
)

type fakeWindow struct{}

func (fakeWindow) Routes() []checkout.Route {
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "window "+r.PathValue("sid"))
	})
	return []checkout.Route{{Pattern: "GET /v1/checkout/{sid}", Handler: page}, {Pattern: "POST /v1/checkout/{sid}", Handler: page}}
}

// The payment window shares the V1 router but not the API's token check.
func TestWindowRoutesMountedBesideTheAPI(t *testing.T) {
	t.Parallel()
	f := &fakeService{}
	h := newHandler(f, f, Options{Window: fakeWindow{}})
	tests := []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/v1/checkout/s1", 200, "window s1"},
		{"POST", "/v1/checkout/s2", 200, "window s2"},
		{"HEAD", "/v1/checkout/s1", 200, ""},
		// Another method is an unknown V1 path, in the V1 envelope.
		{"DELETE", "/v1/checkout/s1", 404, `"code":-1`},
		// The API behind keeps its token check.
		{"GET", "/payments/imp_1", 401, `"code":-1`},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.body) {
			t.Errorf("%s %s: %d %q, want %d with %q", tt.method, tt.path, rec.Code, rec.Body.String(), tt.status, tt.body)
		}
	}
	walked := map[string]bool{}
	chi.Walk(h.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		walked[method+" "+route] = true
		return nil
	})
	for _, want := range []string{"GET /v1/checkout/{sid}", "POST /users/getToken", "GET /payments/{imp_uid}"} {
		if !walked[want] {
			t.Errorf("route walk misses %s", want)
		}
	}
}
