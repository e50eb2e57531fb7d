// Package browser starts headless Chromium for end-to-end tests. Without
// Chromium the tests skip with an install hint on a developer's machine and
// fail under CI=true, where the browser is part of the contract.
package browser

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/billkey/billkey/internal/testenv"
)

// Path finds the browser, or skips (fails under CI) without one.
func Path(t testing.TB) string {
	t.Helper()
	for _, p := range []string{os.Getenv("BILLKEY_CHROMIUM"), "/usr/bin/chromium"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "Chromium not found (install it with: apt-get install -y chromium fonts-nanum; or set BILLKEY_CHROMIUM)"
	if testenv.InCI() {
		t.Fatal(msg + "; browser tests are required under CI=true")
	}
	t.Skip(msg)
	return ""
}

// Artifacts is where screenshots go: $BILLKEY_ARTIFACTS, else a temp dir.
func Artifacts(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("BILLKEY_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// New starts a fresh headless Chromium for one test.
func New(t testing.TB) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(Path(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		// This machine's network is closed: keep Chromium from calling home.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 860),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // start the browser now, so failures are clear
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// Shot saves a screenshot of the tab as <test name>-<name>.png.
func Shot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	safe := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	p := filepath.Join(Artifacts(t), safe+"-"+name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Error(err)
	}
	t.Logf("screenshot: %s", p)
}
