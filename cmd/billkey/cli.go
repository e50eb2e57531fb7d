package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/billkey/billkey/internal/config"
	"github.com/billkey/billkey/internal/reqid"
	"github.com/billkey/billkey/internal/vault"
)

// command is one word of the command line: a group of subcommands, or a
// leaf that takes flags (its own plus the settings of its config scope).
type command struct {
	name     string
	synopsis string // after "billkey ", e.g. "merchant create --name N [--json]"
	summary  string
	scope    config.Scope
	subs     []*command
	// setup registers the leaf's own flags and returns what runs it.
	setup func(fs *flag.FlagSet) func(ctx context.Context, env *runEnv) error
}

// runEnv is what a leaf runs with.
type runEnv struct {
	cfg    config.Config
	out    io.Writer // results
	errOut io.Writer // logs and progress
	log    *slog.Logger
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func isHelp(a string) bool { return a == "-h" || a == "-help" || a == "--help" || a == "help" }

// execute runs the command line args (without the program name) and
// returns the exit code. Help goes to stdout with 0; usage errors to stderr
// with 2; nothing is opened or created before the flags parsed.
func execute(ctx context.Context, root *command, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cmd, path := root, []string{"billkey"}
	for cmd.subs != nil {
		if len(args) == 0 {
			cmd.writeUsage(stderr, path, nil)
			return exitUsage
		}
		if isHelp(args[0]) {
			cmd.writeUsage(stdout, path, nil)
			return exitOK
		}
		next := cmd.sub(args[0])
		if next == nil {
			fmt.Fprintf(stderr, "%s: unknown command %q\n\n", strings.Join(path, " "), args[0])
			cmd.writeUsage(stderr, path, nil)
			return exitUsage
		}
		cmd, path, args = next, append(path, next.name), args[1:]
	}
	fs := flag.NewFlagSet(strings.Join(path, " "), flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	loader := config.Register(fs, cmd.scope)
	var runFn func(context.Context, *runEnv) error
	if cmd.setup != nil {
		runFn = cmd.setup(fs)
	}
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		cmd.writeUsage(stdout, path, fs)
		return exitOK
	case err != nil:
		fmt.Fprintf(stderr, "%s: %v\n\n", strings.Join(path, " "), err)
		cmd.writeUsage(stderr, path, fs)
		return exitUsage
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n\n", strings.Join(path, " "), fs.Arg(0))
		cmd.writeUsage(stderr, path, fs)
		return exitUsage
	}
	cfg, err := loader.Load(fs, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "billkey: configuration:\n  %s\n", strings.ReplaceAll(err.Error(), "\n", "\n  "))
		return exitUsage
	}
	env := &runEnv{cfg: cfg, out: stdout, errOut: stderr, log: newLogger(cfg, stderr)}
	if err := runFn(ctx, env); err != nil {
		fmt.Fprintln(stderr, "billkey:", err)
		return exitError
	}
	return exitOK
}

func (c *command) sub(name string) *command {
	for _, s := range c.subs {
		if s.name == name {
			return s
		}
	}
	return nil
}

// writeUsage prints a group's subcommands, or a leaf's synopsis and flags,
// and the environment variables that apply.
func (c *command) writeUsage(w io.Writer, path []string, fs *flag.FlagSet) {
	if c.summary != "" {
		fmt.Fprintf(w, "%s — %s\n\n", strings.Join(path, " "), c.summary)
	}
	if c.subs != nil {
		fmt.Fprintln(w, "Usage:")
		var walk func(c *command)
		walk = func(c *command) {
			for _, s := range c.subs {
				if s.subs != nil {
					walk(s)
					continue
				}
				fmt.Fprintf(w, "  billkey %-52s %s\n", s.synopsis, s.summary)
			}
		}
		walk(c)
		fmt.Fprintf(w, "\nRun \"%s COMMAND --help\" for a command's flags.\n", strings.Join(path, " "))
		if len(path) == 1 {
			fmt.Fprintln(w)
			config.WriteEnvironment(w, ^config.Scope(0))
		}
		return
	}
	fmt.Fprintf(w, "Usage:\n  billkey %s\n", c.synopsis)
	if fs != nil {
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(w, "\nFlags:")
			fs.SetOutput(w)
			fs.PrintDefaults()
			fs.SetOutput(io.Discard)
		}
	}
	if c.scope != 0 {
		fmt.Fprintln(w)
		config.WriteEnvironment(w, c.scope)
	}
}

// newLogger builds the process logger: text or JSON, at the configured
// level, behind the redacting handler (defence in depth: nothing should log
// a card number, and if something ever does, it is masked).
func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(vault.RedactingHandler(reqid.Handler(h)))
}
