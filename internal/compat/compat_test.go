// Package compat proves i'mport compatibility with the real, published npm
// clients: it starts Billkey on each store and runs compat/npm against it.
package compat_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/app"
	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/testenv"
)

func TestNPMClients(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		if testenv.InCI() {
			t.Fatal("node is required for the npm client compatibility suite (CI=true)")
		}
		t.Skip("SKIP npm compatibility suite: node not installed")
	}
	_, file, _, _ := runtime.Caller(0)
	suite := filepath.Join(filepath.Dir(file), "..", "..", "compat", "npm")
	// go test never downloads packages: .ci/run installs them, and so does
	// `npm ci` in compat/npm on request.
	if _, err := os.Stat(filepath.Join(suite, "node_modules")); err != nil {
		if testenv.InCI() {
			t.Fatal("compat/npm/node_modules is missing under CI=true: .ci/run installs it with npm ci")
		}
		t.Skip("SKIP npm compatibility suite: clients not installed; run `npm ci` in compat/npm (or .ci/run)")
	}
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		// The clients compare token expiry with their own wall clock, so the
		// test clock starts at the real time; the schedule suite advances it
		// through the sandbox endpoint instead of waiting.
		e := apptest.New(t, b, func(c *app.Config) { c.Clock = clock.NewTest(time.Now()) })
		cmd := exec.Command("bash", filepath.Join(suite, "run.sh"))
		cmd.Env = append(os.Environ(), "BILLKEY_URL="+e.Server.URL, "IMP_KEY="+e.Cred.ImpKey, "IMP_SECRET="+e.Cred.ImpSecret,
			"BILLKEY_COMPAT_SCHEDULES=1", "BILLKEY_COMPAT_TEST_CLOCK=1", "BILLKEY_COMPAT_SCHEDULE_TIMEOUT=10")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("npm compatibility suite failed on %s: %v\n%s", b.Name, err, out)
		}
		t.Logf("%s", lastLines(out, 12))
	})
}

func lastLines(b []byte, n int) string {
	lines := 0
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			lines++
			if lines > n {
				return string(b[i+1:])
			}
		}
	}
	return string(b)
}
