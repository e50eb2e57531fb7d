package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// paths lists every command path of the tree, groups included.
func paths(c *command, prefix []string) [][]string {
	var out [][]string
	for _, s := range c.subs {
		p := append(append([]string{}, prefix...), s.name)
		out = append(out, p)
		out = append(out, paths(s, p)...)
	}
	return out
}

func runBin(t *testing.T, bin, dir string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// Every command answers --help with its usage and exit 0, creating nothing
// (no database, no master key); unknown commands and flags exit 2 with usage.
func TestHelpAndUsageErrors(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	clean := []string{"BILLKEY_DATABASE_URL=", "BILLKEY_MASTER_KEY=", "BILLKEY_MASTER_KEY_FILE="}
	all := append([][]string{{}}, paths(root(), nil)...)
	for _, p := range all {
		for _, h := range []string{"--help", "-h"} {
			args := append(append([]string{}, p...), h)
			out, errOut, code := runBin(t, bin, dir, clean, args...)
			if code != 0 || !strings.Contains(out, "Usage:") || errOut != "" {
				t.Errorf("billkey %s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), code, out, errOut)
			}
		}
	}
	// The top-level help lists every environment variable.
	out, _, _ := runBin(t, bin, dir, clean, "--help")
	for _, v := range []string{"BILLKEY_ADDR", "BILLKEY_DATABASE_URL", "BILLKEY_MASTER_KEY", "BILLKEY_SCHEDULER_LEASE", "BILLKEY_D24_WINDOW",
		"BILLKEY_LOG_FORMAT", "BILLKEY_PG_MAX_CONNS", "BILLKEY_CHECKOUT_ORIGINS", "BILLKEY_DEMO"} {
		if !strings.Contains(out, v) {
			t.Errorf("billkey --help does not list %s", v)
		}
	}
	// merchant list does not offer create's or set's flags.
	out, _, _ = runBin(t, bin, dir, clean, "merchant", "list", "--help")
	for _, f := range []string{"-name", "-checkout-origins", "-addr", "-pg-url"} {
		if strings.Contains(out, f+" ") {
			t.Errorf("merchant list --help offers %s:\n%s", f, out)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("help created files: %v", entries)
	}
	for _, args := range [][]string{{}, {"nope"}, {"merchant"}, {"merchant", "nope"}, {"merchant", "list", "--name", "x"},
		{"serve", "--bogus"}, {"webhooks", "secret"}, {"migrate", "extra"}} {
		out, errOut, code := runBin(t, bin, dir, clean, args...)
		if code != 2 || !strings.Contains(errOut, "Usage:") || out != "" {
			t.Errorf("billkey %v: exit %d, stdout %q, stderr %q; want 2 with usage on stderr", args, code, out, errOut)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("usage errors created files: %v", entries)
	}
}

// Bad configuration is caught before anything starts, naming the variable.
func TestConfigurationErrorsNameTheVariable(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	cases := []struct {
		env  []string
		args []string
		want []string
	}{
		{[]string{"BILLKEY_DATABASE_URL=mysql://root@db/billkey"}, []string{"migrate"}, []string{"BILLKEY_DATABASE_URL", `unknown database scheme "mysql"`}},
		{[]string{"BILLKEY_LOG_LEVEL=loud"}, []string{"serve"}, []string{`BILLKEY_LOG_LEVEL="loud"`}},
		{[]string{"BILLKEY_PG_TIMEOUT=10"}, []string{"serve"}, []string{"BILLKEY_PG_TIMEOUT"}},
		{nil, []string{"serve", "--pg-url", "localhost:8090"}, []string{"--pg-url"}},
		{nil, []string{"serve", "--addr", "nope"}, []string{"--addr"}},
	}
	for _, c := range cases {
		_, errOut, code := runBin(t, bin, dir, c.env, c.args...)
		for _, w := range c.want {
			if code != 2 || !strings.Contains(errOut, w) {
				t.Errorf("%v %v: exit %d, stderr %q; want 2 naming %s", c.env, c.args, code, errOut, w)
			}
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a bad configuration created files: %v", entries)
	}
}

// The in-process entry point behaves the same (fast feedback for the tree).
func TestExecuteHelpInProcess(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := execute(context.Background(), root(), []string{"keys", "rotate", "--help"}, &out, &errOut, noEnv); code != 0 || !strings.Contains(out.String(), "keys rotate") {
		t.Fatalf("exit %d: %q %q", code, out.String(), errOut.String())
	}
}
