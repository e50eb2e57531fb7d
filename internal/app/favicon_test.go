package app_test

import (
	"net/http"
	"testing"

	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/testenv"
)

// TestFavicon: browsers' icon request gets no content rather than a 404
// that would show as a console error on the demo page and payment window.
func TestFavicon(t *testing.T) {
	e := apptest.New(t, testenv.SQLite(t))
	resp, err := http.Get(e.Server.URL + "/favicon.ico")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("/favicon.ico: %d", resp.StatusCode)
	}
}
