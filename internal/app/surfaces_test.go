package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/testenv"
)

// Every V1 surface — API, /webhooks/ and /sandbox/clock — takes the token
// the same ways (Authorization with or without Bearer, X-ImpTokenHeader,
// ?_token=) and answers in the same envelope.
func TestOneTokenParserAndEnvelopeForEveryV1Surface(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, testenv.SQLite(t))
	tok := e.Token(e.Cred)
	get := func(path string, header ...string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("GET", e.Server.URL+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var env map[string]any
		if err := json.Unmarshal(raw, &env); err != nil {
			t.Fatalf("GET %s: not an envelope: %s", path, raw)
		}
		for _, k := range []string{"code", "message", "response"} {
			if _, ok := env[k]; !ok {
				t.Fatalf("GET %s: envelope without %q: %s", path, k, raw)
			}
		}
		return resp.StatusCode, env
	}
	for _, path := range []string{"/users/pg", "/webhooks/settings", "/webhooks/events?status=failed", "/sandbox/clock"} {
		for _, how := range [][]string{
			{"Authorization", "Bearer " + tok},
			{"Authorization", tok},
			{"X-ImpTokenHeader", tok},
		} {
			if st, env := get(path, how...); st != 200 || env["code"].(float64) != 0 {
				t.Errorf("GET %s with %s: HTTP %d %v", path, how[0], st, env)
			}
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		if st, env := get(path + sep + "_token=" + tok); st != 200 || env["code"].(float64) != 0 {
			t.Errorf("GET %s with ?_token=: HTTP %d %v", path, st, env)
		}
		st, env := get(path)
		if st != http.StatusUnauthorized || env["code"].(float64) != -1 {
			t.Errorf("GET %s without a token: HTTP %d %v", path, st, env)
		}
	}
}
