package main

import (
	"bufio"
	"debug/elf"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/billkey/billkey/internal/testenv"
)

// The Dockerfile builds through scripts/build.sh and copies its output into
// a non-root static image; compose.yaml runs that image on Postgres with the
// master key from a secret. Docker itself is not needed to check the parts
// that matter: this builds the same binary the same way and starts it with
// exactly the compose file's environment against Postgres.
func TestComposeDeploymentStartsStaticBinary(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the image is linux; static linking is checked on linux")
	}
	pg, ok := testenv.Postgres(t, false)
	if !ok {
		return
	}
	root, _ := filepath.Abs("../..")

	dockerfile, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`(?m)^RUN .*\n?.*scripts/build\.sh /out/billkey$`,
		`(?m)^COPY --from=build /out/billkey /usr/local/bin/billkey$`,
		`(?m)^FROM gcr\.io/distroless/static\S*:nonroot$`,
		`(?m)^USER nonroot`,
		`(?m)^CMD \["serve"\]$`,
	} {
		if !regexp.MustCompile(want).Match(dockerfile) {
			t.Errorf("Dockerfile does not match %s", want)
		}
	}

	bin := filepath.Join(t.TempDir(), "billkey")
	build := exec.Command(filepath.Join(root, "scripts/build.sh"), bin)
	build.Env = append(os.Environ(), "VERSION=v9.8.7-test", "COMMIT=0123456789abcdef", "DATE=2026-11-30T12:00:00Z")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("scripts/build.sh: %v\n%s", err, out)
	}
	assertStatic(t, bin)
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"billkey v9.8.7-test", "commit: 0123456789abcdef", "built:  2026-11-30T12:00:00Z"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("billkey version = %q, want %q in it", out, want)
		}
	}

	env, secrets := composeEnv(t, filepath.Join(root, "compose.yaml"))
	apiAddr, metricsAddr := freeAddr(t), freeAddr(t)
	var cmdEnv []string
	for k, v := range env {
		for name, path := range secrets {
			v = strings.ReplaceAll(v, "/run/secrets/"+name, path)
		}
		switch k {
		case "BILLKEY_ADDR":
			v = apiAddr
		case "BILLKEY_METRICS_ADDR":
			v = metricsAddr
		case "BILLKEY_DATABASE_URL":
			v = onTestServer(t, v, pg.URL)
		}
		cmdEnv = append(cmdEnv, k+"="+v)
	}
	for _, k := range []string{"BILLKEY_ADDR", "BILLKEY_METRICS_ADDR", "BILLKEY_DATABASE_URL", "BILLKEY_MASTER_KEY_FILE"} {
		if _, ok := env[k]; !ok {
			t.Errorf("compose.yaml: billkey has no %s", k)
		}
	}
	if _, ok := env["BILLKEY_MASTER_KEY"]; ok {
		t.Error("compose.yaml puts the master key itself in the environment; it belongs in a secret")
	}
	masterBefore, _ := os.ReadFile(secrets["master_key"])

	dir := t.TempDir()
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir
	cmd.Env = cmdEnv // nothing else: a container sees only what compose sets
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	logs := make(chan string, 1)
	go func() {
		var sb strings.Builder
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			sb.WriteString(sc.Text() + "\n")
		}
		logs <- sb.String()
	}()

	waitHTTP(t, "http://"+apiAddr+"/readyz", 200)
	waitHTTP(t, "http://"+metricsAddr+"/metrics", 200)
	if got := status(t, "http://"+apiAddr+"/metrics"); got == 200 {
		t.Errorf("/metrics is public on the API listener although BILLKEY_METRICS_ADDR is set")
	}
	if after, _ := os.ReadFile(secrets["master_key"]); string(after) != string(masterBefore) {
		t.Error("the master key secret was rewritten")
	}
	if _, err := os.Stat(filepath.Join(dir, "billkey.master.key")); err == nil {
		t.Error("a master key file was created although the secret is configured")
	}
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	if l := <-logs; !strings.Contains(l, "database=postgres") || strings.Contains(l, "NO MASTER KEY") {
		t.Errorf("server log:\n%s", l)
	}
}

func assertStatic(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s has a program interpreter: not statically linked", bin)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("%s links %v", bin, libs)
	}
}

// composeEnv returns the billkey service's environment and its secrets, each
// written to a file as compose would mount it under /run/secrets.
func composeEnv(t *testing.T, path string) (map[string]string, map[string]string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Environment map[string]string `yaml:"environment"`
			Secrets     []string          `yaml:"secrets"`
		} `yaml:"services"`
		Secrets map[string]struct {
			File string `yaml:"file"`
		} `yaml:"secrets"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	svc, ok := doc.Services["billkey"]
	if !ok {
		t.Fatal("compose.yaml has no billkey service")
	}
	if !strings.HasPrefix(doc.Services["postgres"].Image, "postgres:") {
		t.Errorf("compose.yaml: postgres service image %q", doc.Services["postgres"].Image)
	}
	dir := t.TempDir()
	secrets := map[string]string{}
	for _, name := range svc.Secrets {
		if _, ok := doc.Secrets[name]; !ok {
			t.Fatalf("compose.yaml: secret %s is not declared", name)
		}
		// What the compose file's comment tells the operator to create.
		content := map[string]string{
			"master_key": "7f1e0c9a4b3d2e1f0a9b8c7d6e5f40312233445566778899aabbccddeeff0011\n",
			"pgpass":     "*:*:*:*:unused-by-trust-auth\n",
		}[name]
		if content == "" {
			t.Fatalf("compose.yaml: no test content for secret %s", name)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o444); err != nil {
			t.Fatal(err)
		}
		secrets[name] = p
	}
	for k, v := range svc.Environment {
		for _, m := range regexp.MustCompile(`/run/secrets/([a-z_]+)`).FindAllStringSubmatch(v, -1) {
			if _, ok := secrets[m[1]]; !ok {
				t.Fatalf("compose.yaml: %s reads secret %s that the service does not mount", k, m[1])
			}
		}
	}
	return svc.Environment, secrets
}

// onTestServer points the compose database URL at the test server and
// schema, keeping the compose URL's own parameters (sslmode, passfile).
func onTestServer(t *testing.T, composeURL, testURL string) string {
	t.Helper()
	c, err := url.Parse(composeURL)
	if err != nil {
		t.Fatalf("compose BILLKEY_DATABASE_URL: %v", err)
	}
	u, err := url.Parse(testURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for k, vs := range c.Query() {
		if q.Get(k) == "" {
			q[k] = vs
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func status(t *testing.T, u string) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// waitHTTP polls until the server answers want; the process starts in the
// background, so this waits on the condition rather than for a time.
func waitHTTP(t *testing.T, u string, want int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if got := status(t, u); got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never answered %d", u, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
