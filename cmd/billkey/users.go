package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/billkey/billkey/internal/app"
	"github.com/billkey/billkey/internal/console"
	"github.com/billkey/billkey/internal/core"
)

// demoOperator is the console account serve creates for the demo merchant.
const demoOperator = "demo@billkey.local"

// accounts is the console's account management on the admin Core.
func accounts(c *app.Core) *console.Handler {
	return console.New(console.Options{Store: c.Store, Merchants: c.Merchants, Clock: c.Config.Clock, Logger: c.Log.With("component", "console")})
}

func consoleBase(e *runEnv) string {
	if e.cfg.BaseURL != "" {
		return strings.TrimSuffix(e.cfg.BaseURL, "/")
	}
	return "http://" + e.cfg.Addr
}

func userAddCmd(fs *flag.FlagSet) func(context.Context, *runEnv) error {
	code := fs.String("merchant", "", "merchant code (required)")
	email := fs.String("email", "", "the operator's e-mail address (required)")
	role := fs.String("role", "operator", "owner, operator or viewer")
	return func(ctx context.Context, e *runEnv) error {
		if *code == "" || *email == "" {
			return errors.New("user add: --merchant and --email are required")
		}
		c, err := openCore(ctx, e, nil)
		if err != nil {
			return err
		}
		defer c.Close()
		link, err := accounts(c).AddUser(ctx, *code, *email, core.OperatorRole(*role))
		if err != nil {
			return err
		}
		fmt.Fprintf(e.out, "Set the password (one-time link, valid 72 hours):\n  %s%s\n", consoleBase(e), link)
		return nil
	}
}

func userLinkCmd(fs *flag.FlagSet) func(context.Context, *runEnv) error {
	email := fs.String("email", "", "the operator's e-mail address (required)")
	return func(ctx context.Context, e *runEnv) error {
		if *email == "" {
			return errors.New("user link: --email is required")
		}
		c, err := openCore(ctx, e, nil)
		if err != nil {
			return err
		}
		defer c.Close()
		link, err := accounts(c).ResetLink(ctx, *email)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.out, "Set the password (one-time link, valid 72 hours):\n  %s%s\n", consoleBase(e), link)
		return nil
	}
}

// demoConsoleLink gives the demo merchant's operator a fresh one-time
// sign-in link (creating the account on first start).
func demoConsoleLink(ctx context.Context, a *app.App, merchantCode string, created bool) (string, error) {
	if created {
		return a.Console().AddUser(ctx, merchantCode, demoOperator, core.RoleOwner)
	}
	return a.Console().ResetLink(ctx, demoOperator)
}
