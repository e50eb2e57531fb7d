package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/billkey/billkey/internal/app"
	"github.com/billkey/billkey/internal/core"
)

// demoOperator is the console account serve creates for the demo merchant.
const demoOperator = "demo@billkey.local"

// userCmd manages merchant console accounts:
//
//	billkey user add --merchant CODE --email E --role owner|operator|viewer
//	billkey user link --email E      (a new one-time password-set link)
func userCmd(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "add" && args[0] != "link") {
		return errors.New("user: want add or link")
	}
	var code, email, role, base string
	a, _, err := openApp(ctx, "user "+args[0], args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&code, "merchant", "", "merchant code (add)")
		fs.StringVar(&email, "email", "", "the operator's e-mail address")
		fs.StringVar(&role, "role", "operator", "owner, operator or viewer (add)")
		fs.StringVar(&base, "base-url", env("BILLKEY_BASE_URL", "http://"+env("BILLKEY_ADDR", "127.0.0.1:8080")), "the console's public base URL, for the printed link")
	})
	if err != nil {
		return err
	}
	defer a.Close()
	var link string
	switch args[0] {
	case "add":
		if code == "" || email == "" {
			return errors.New("user add: --merchant and --email are required")
		}
		link, err = a.Console().AddUser(ctx, code, email, core.OperatorRole(role))
	case "link":
		if email == "" {
			return errors.New("user link: --email is required")
		}
		link, err = a.Console().ResetLink(ctx, email)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stdout, "Set the password (one-time link, valid 72 hours):\n  %s%s\n", strings.TrimSuffix(base, "/"), link)
	return nil
}

// demoConsoleLink gives the demo merchant's operator a fresh one-time
// sign-in link (creating the account on first start).
func demoConsoleLink(ctx context.Context, a *app.App, merchantCode string, created bool) (string, error) {
	if created {
		return a.Console().AddUser(ctx, merchantCode, demoOperator, core.RoleOwner)
	}
	return a.Console().ResetLink(ctx, demoOperator)
}
