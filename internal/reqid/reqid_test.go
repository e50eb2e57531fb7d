package reqid_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/billkey/billkey/internal/reqid"
)

func TestRequestIDInResponseAndEveryLogLine(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(reqid.Handler(slog.NewJSONHandler(&buf, nil)))
	h := reqid.Middleware(reqid.AccessLog(log, "v3 request", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.InfoContext(r.Context(), "inside")
		w.WriteHeader(http.StatusTeapot)
	})))
	cases := []struct{ sent, want string }{
		{"abc-123_X.y:z", "abc-123_X.y:z"},
		{"", ""},                        // generated
		{"evil\nrequest_id=forged", ""}, // refused, generated
		{strings.Repeat("a", 129), ""},  // too long, generated
	}
	for _, c := range cases {
		buf.Reset()
		req := httptest.NewRequest("GET", "/v3/x", nil)
		if c.sent != "" {
			req.Header.Set(reqid.Header, c.sent)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got := rec.Header().Get(reqid.Header)
		if c.want != "" && got != c.want || c.want == "" && (len(got) != 16 || got == c.sent) {
			t.Errorf("sent %q: response id %q", c.sent, got)
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if len(lines) != 2 {
			t.Fatalf("log lines: %q", lines)
		}
		for _, l := range lines {
			if !strings.Contains(l, `"request_id":"`+got+`"`) {
				t.Errorf("log line without the request id %q: %s", got, l)
			}
		}
		if !strings.Contains(lines[1], `"status":418`) || !strings.Contains(lines[1], `"msg":"v3 request"`) {
			t.Errorf("access line: %s", lines[1])
		}
	}
}
