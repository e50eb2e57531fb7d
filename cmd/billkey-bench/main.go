// Command billkey-bench measures Billkey: `again` throughput and latency
// over loopback HTTP, and scheduled billing runs on Postgres. It is not part
// of the shipped binary.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
)

const usage = `billkey-bench — measure Billkey

Usage:
  billkey-bench again [flags]       POST /subscribe/payments/again throughput or latency
  billkey-bench schedules [flags]   billing runs on Postgres, and serve's RSS with pending entries
  billkey-bench fsync [flags]       the disk's durable-write latency: the floor under every commit
  billkey-bench targets [flags]     every measure of the performance targets in one run, then a summary

Run "billkey-bench again --help" for the flags of each.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "again":
		err = benchAgain(ctx, os.Args[2:])
	case "schedules":
		err = benchSchedules(ctx, os.Args[2:])
	case "fsync":
		err = benchFsync(ctx, os.Args[2:])
	case "targets":
		err = benchTargets(ctx, os.Args[2:])
	case "help", "-h", "--help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "billkey-bench: unknown benchmark %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "billkey-bench:", err)
		os.Exit(1)
	}
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// quietLogger keeps the measured process from spending time on logs.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
}

// billkeyBinary finds the billkey binary whose memory the schedules
// benchmark samples: beside this one, on PATH, or built from this module.
func billkeyBinary(ctx context.Context) (string, func(), error) {
	if self, err := os.Executable(); err == nil {
		if p := filepath.Join(filepath.Dir(self), "billkey"); fileExists(p) {
			return p, func() {}, nil
		}
	}
	if p, err := exec.LookPath("billkey"); err == nil {
		return p, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "billkey-bench-bin-")
	if err != nil {
		return "", nil, err
	}
	bin := filepath.Join(dir, "billkey")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/billkey/billkey/cmd/billkey").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("build billkey: %v\n%s", err, out)
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
