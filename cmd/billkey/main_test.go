package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/store"
)

// buildBinary compiles billkey once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "billkey")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func run(t *testing.T, bin, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BILLKEY_DATABASE_URL=", "BILLKEY_MASTER_KEY=")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("billkey %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func TestCLI(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()

	var cred map[string]string
	if err := json.Unmarshal([]byte(run(t, bin, dir, "merchant", "create", "--name", "Shop", "--json")), &cred); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^imp\d{8}$`).MatchString(cred["merchant_code"]) || cred["imp_key"] == "" || cred["imp_secret"] == "" {
		t.Fatalf("merchant create --json: %v", cred)
	}
	// The embedded default: a SQLite file and a generated master key in the working directory.
	for _, f := range []string{"billkey.db", "billkey.master.key"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("%s not created: %v", f, err)
		}
	}
	if list := run(t, bin, dir, "merchant", "list"); !strings.Contains(list, cred["merchant_code"]) {
		t.Fatalf("merchant list: %q", list)
	}
	// The secret is stored hashed.
	raw, _ := os.ReadFile(filepath.Join(dir, "billkey.db"))
	if strings.Contains(string(raw), cred["imp_secret"]) {
		t.Fatal("imp_secret stored in clear")
	}
	if out := run(t, bin, dir, "merchant", "set", "--merchant", cred["merchant_code"], "--checkout-origins", "https://shop.example.com"); !strings.Contains(out, "https://shop.example.com") {
		t.Fatalf("merchant set: %q", out)
	}
	if out := run(t, bin, dir, "keys", "rotate"); !strings.Contains(out, "re-wrapped") {
		t.Fatalf("keys rotate: %q", out)
	}
	s, err := store.Open(context.Background(), filepath.Join(dir, "billkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := s.VaultKeys(context.Background())
	s.Close()
	if len(keys) != 2 {
		t.Fatalf("vault keys after rotate: %d", len(keys))
	}
	// Console accounts: the printed one-time link sets the password.
	out := run(t, bin, dir, "user", "add", "--merchant", cred["merchant_code"], "--email", "Ops@Example.com", "--role", "viewer", "--base-url", "https://billing.example.com/")
	if !regexp.MustCompile(`https://billing\.example\.com/console/password\?token=[A-Za-z0-9_-]{43}\n`).MatchString(out) {
		t.Fatalf("user add: %q", out)
	}
	dup := exec.Command(bin, "user", "add", "--merchant", cred["merchant_code"], "--email", "ops@example.com")
	dup.Dir, dup.Env = dir, append(os.Environ(), "BILLKEY_DATABASE_URL=", "BILLKEY_MASTER_KEY=")
	if b, err := dup.CombinedOutput(); err == nil || !strings.Contains(string(b), "already") {
		t.Fatalf("user add of a taken e-mail: %v %s", err, b)
	}
	if out := run(t, bin, dir, "user", "link", "--email", "ops@example.com"); !strings.Contains(out, "/console/password?token=") {
		t.Fatalf("user link: %q", out)
	}
	if v := run(t, bin, dir, "version"); !strings.HasPrefix(v, "billkey") {
		t.Fatalf("version: %q", v)
	}
}

// On an empty database serve creates the demo merchant and prints its
// credentials and a curl line that works.
func TestServePrintsDemoMerchant(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BILLKEY_DATABASE_URL=", "BILLKEY_MASTER_KEY=")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stdout)
	var key, secret, url string
	deadline := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "imp_key:"); ok {
			key = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "imp_secret:"); ok {
			secret = strings.TrimSpace(v)
		}
		if m := regexp.MustCompile(`(http://[0-9.:]+)/users/getToken`).FindStringSubmatch(line); m != nil {
			url = m[1]
			break
		}
	}
	if key == "" || secret == "" || url == "" {
		t.Fatalf("demo credentials not printed (key=%q secret=%q url=%q)", key, secret, url)
	}
	var consoleLink string
	for sc.Scan() {
		if m := regexp.MustCompile(`http://[0-9.:]+/console/password\?token=\S+`).FindString(sc.Text()); m != "" {
			consoleLink = m
			break
		}
	}
	if consoleLink == "" {
		t.Fatal("no console sign-in link printed for the demo operator")
	}
	var resp *http.Response
	var err error
	body := `{"imp_key":"` + key + `","imp_secret":"` + secret + `"}`
	for i := 0; i < 50; i++ { // the listener is up before the banner; allow for scheduling
		resp, err = http.Post(url+"/users/getToken", "application/json", strings.NewReader(body))
		if err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Code     int `json:"code"`
		Response struct {
			AccessToken string `json:"access_token"`
		} `json:"response"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != 200 || out.Response.AccessToken == "" {
		t.Fatalf("getToken with the printed credentials: %d %+v", resp.StatusCode, out)
	}
	if r, err := http.Get(consoleLink); err != nil || r.StatusCode != 200 {
		t.Fatalf("demo operator's console link: %v %v", r, err)
	} else {
		r.Body.Close()
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		r, err := http.Get(url + path)
		if err != nil || r.StatusCode != 200 {
			t.Fatalf("%s: %v %v", path, r, err)
		}
		r.Body.Close()
	}
}
