package main

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// scripts/release.sh makes what the README promises: per platform a
// tarball holding the stamped static binary with LICENSE, NOTICE and
// README.md, a SHA256SUMS that verifies every tarball, and the same bytes
// every time the same commit is built.
func TestReleaseArchivesAreReproducible(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("release.sh is run on linux (GNU tar, sha256sum)")
	}
	if testing.Short() {
		t.Skip("builds release archives twice (skipped with -short)")
	}
	t.Parallel()
	root, _ := filepath.Abs("../..")
	const version, commit, date = "v9.8.7-test", "0123456789abcdef", "2026-11-30T12:00:00Z"
	release := func() string {
		dist := filepath.Join(t.TempDir(), "dist")
		cmd := exec.Command(filepath.Join(root, "scripts/release.sh"), dist)
		cmd.Env = append(os.Environ(), "VERSION="+version, "COMMIT="+commit, "DATE="+date,
			"PLATFORMS=linux/amd64")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("scripts/release.sh: %v\n%s", err, out)
		}
		return dist
	}
	// Each build takes seconds, so the two see different wall-clock times,
	// as a release and someone checking it later do.
	first, second := release(), release()

	sums := readSums(t, filepath.Join(first, "SHA256SUMS"))
	wantNames := []string{"billkey_" + version + "_linux_amd64.tar.gz"}
	if names := slices.Sorted(maps.Keys(sums)); !slices.Equal(names, wantNames) {
		t.Fatalf("SHA256SUMS lists %v, want %v", names, wantNames)
	}
	for name, want := range sums {
		if got := fileSHA256(t, filepath.Join(first, name)); got != want {
			t.Errorf("%s: SHA256SUMS says %s, the file is %s", name, want, got)
		}
		if again := fileSHA256(t, filepath.Join(second, name)); again != want {
			t.Errorf("%s differs between two builds of the same commit: %s then %s", name, want, again)
		}
	}

	// The linux archive: its entries, owned by root at the commit's time,
	// and a binary that runs and names its build.
	name := "billkey_" + version + "_linux_amd64"
	bin := filepath.Join(t.TempDir(), "billkey")
	entries := readArchive(t, filepath.Join(first, name+".tar.gz"), name+"/billkey", bin)
	stamp, _ := time.Parse(time.RFC3339, date)
	var got []string
	for _, h := range entries {
		got = append(got, h.Name)
		if h.Uid != 0 || h.Gid != 0 || !h.ModTime.Equal(stamp) {
			t.Errorf("%s: owner %d:%d, time %s; want 0:0 at %s", h.Name, h.Uid, h.Gid, h.ModTime.UTC(), stamp)
		}
	}
	want := []string{name + "/", name + "/LICENSE", name + "/NOTICE", name + "/README.md", name + "/billkey"}
	if !slices.Equal(got, want) {
		t.Errorf("archive holds %v, want %v (in that order)", got, want)
	}
	assertStatic(t, bin)
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "billkey "+version) || !strings.Contains(string(out), commit) {
		t.Errorf("billkey version = %q, want %s and %s in it", out, version, commit)
	}
}

func readSums(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("SHA256SUMS line %q is not sha256sum's format", sc.Text())
		}
		sums[name] = sum
	}
	return sums
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// readArchive lists a .tar.gz in order and writes the entry named extract
// to the file to (executable).
func readArchive(t *testing.T, path, extract, to string) []*tar.Header {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out []*tar.Header
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, h)
		if h.Name == extract {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(to, b, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
}
