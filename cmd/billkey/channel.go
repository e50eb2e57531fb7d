package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/billkey/billkey/internal/app"
	"github.com/billkey/billkey/internal/config"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/merchant"
	"github.com/billkey/billkey/internal/pg/router"
)

// channelCommands manage a merchant's PG channels (real processors).
func channelCommands() *command {
	db := config.Log | config.DB
	return &command{name: "channel", subs: []*command{
		{name: "add", synopsis: "channel add --merchant CODE --pg iamport|tosspayments|stripe [--mid MID] [--api-url URL] [--live] [--default] " +
			"(--imp-key K --imp-secret S [--upstream-pg PG] | --secret-key K)",
			summary: `add a processor channel; credentials are sealed, never shown again ("-" reads a secret from stdin)`, scope: db, setup: channelAddCmd},
		{name: "list", synopsis: "channel list --merchant CODE [--json]", summary: "a merchant's channels (never their credentials)", scope: db, setup: channelListCmd},
		{name: "remove", synopsis: "channel remove --merchant CODE --pg PROVIDER[.MID]|ID", summary: "remove a channel", scope: db, setup: channelRefCmd("remove")},
		{name: "set-default", synopsis: "channel set-default --merchant CODE --pg PROVIDER[.MID]|ID", summary: "the channel used when a request names no pg", scope: db, setup: channelRefCmd("set-default")},
	}}
}

// channelJSON is a channel as the CLI shows it: never its credentials.
type channelJSON struct {
	ID          int64  `json:"id"`
	PG          string `json:"pg"`
	PGProvider  string `json:"pg_provider"`
	PGID        string `json:"pg_id"`
	Sandbox     bool   `json:"sandbox"`
	Type        string `json:"type"`
	Name        string `json:"name"`
	IsDefault   bool   `json:"is_default"`
	APIURL      string `json:"api_url,omitempty"`
	Processor   bool   `json:"processor"`
	Credentials string `json:"credentials,omitempty"`
}

func channelView(c core.Channel) channelJSON {
	v := channelJSON{ID: c.ID, PG: c.Provider + "." + c.MID, PGProvider: c.Provider, PGID: c.MID, Sandbox: c.Sandbox,
		Type: c.Type, Name: c.Name, IsDefault: c.IsDefault, APIURL: c.APIURL, Processor: c.HasCredentials}
	if c.HasCredentials {
		v.Credentials = "sealed"
	}
	return v
}

// withMerchant opens the core and finds the merchant by code.
func withMerchant(ctx context.Context, e *runEnv, code string, fn func(c *app.Core, m *core.Merchant) error) error {
	if code == "" {
		return errors.New("--merchant is required")
	}
	c, err := openCore(ctx, e, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	m, err := c.Store.MerchantByCode(ctx, code)
	if err != nil {
		return fmt.Errorf("merchant %s: %w", code, err)
	}
	return fn(c, m)
}

func channelAddCmd(fs *flag.FlagSet) func(context.Context, *runEnv) error {
	code := fs.String("merchant", "", "merchant code (required)")
	provider := fs.String("pg", "", "processor: iamport, tosspayments or stripe")
	mid := fs.String("mid", "", "MID / account id naming the channel (pg = provider.mid)")
	apiURL := fs.String("api-url", "", "processor API base URL (default: the processor's production host)")
	live := fs.Bool("live", false, "live credentials: real money (default: the processor's test mode)")
	isDefault := fs.Bool("default", false, "make it the merchant's default channel")
	impKey := fs.String("imp-key", "", "iamport: REST API key of the upstream account")
	impSecret := fs.String("imp-secret", "", `iamport: REST API secret ("-" reads stdin)`)
	upstreamPG := fs.String("upstream-pg", "", "iamport: pg value of the upstream account's channel")
	secretKey := fs.String("secret-key", "", `tosspayments/stripe: secret key ("-" reads stdin)`)
	asJSON := fs.Bool("json", false, "print JSON")
	return func(ctx context.Context, e *runEnv) error {
		stdin := bufio.NewReader(os.Stdin)
		for _, s := range []*string{impSecret, secretKey} {
			if *s == "-" {
				line, err := stdin.ReadString('\n')
				if err != nil && !errors.Is(err, io.EOF) {
					return err
				}
				*s = strings.TrimSpace(line)
			}
		}
		in := merchant.ChannelInput{Provider: *provider, MID: *mid, APIURL: *apiURL, Sandbox: !*live, Default: *isDefault,
			Creds: router.Credentials{ImpKey: *impKey, ImpSecret: *impSecret, UpstreamPG: *upstreamPG, SecretKey: *secretKey}}
		return withMerchant(ctx, e, *code, func(c *app.Core, m *core.Merchant) error {
			ch, err := c.Merchants.AddChannel(ctx, m.ID, in)
			if err != nil {
				return err
			}
			return printChannel(e.out, *asJSON, "added", ch)
		})
	}
}

func channelRefCmd(what string) func(fs *flag.FlagSet) func(context.Context, *runEnv) error {
	return func(fs *flag.FlagSet) func(context.Context, *runEnv) error {
		code := fs.String("merchant", "", "merchant code (required)")
		ref := fs.String("pg", "", "the channel: provider, provider.mid or its id")
		asJSON := fs.Bool("json", false, "print JSON")
		return func(ctx context.Context, e *runEnv) error {
			return withMerchant(ctx, e, *code, func(c *app.Core, m *core.Merchant) error {
				var ch core.Channel
				var err error
				if what == "remove" {
					ch, err = c.Merchants.RemoveChannel(ctx, m.ID, *ref)
				} else {
					ch, err = c.Merchants.SetDefaultChannel(ctx, m.ID, *ref)
				}
				if err != nil {
					return err
				}
				return printChannel(e.out, *asJSON, map[string]string{"remove": "removed", "set-default": "default"}[what], ch)
			})
		}
	}
}

func printChannel(out io.Writer, asJSON bool, what string, c core.Channel) error {
	if asJSON {
		return json.NewEncoder(out).Encode(channelView(c))
	}
	_, err := fmt.Fprintf(out, "%s %s.%s (id %d, %s)\n", what, c.Provider, c.MID, c.ID, map[bool]string{true: "sandbox", false: "live"}[c.Sandbox])
	return err
}

func channelListCmd(fs *flag.FlagSet) func(context.Context, *runEnv) error {
	code := fs.String("merchant", "", "merchant code (required)")
	asJSON := fs.Bool("json", false, "print JSON")
	return func(ctx context.Context, e *runEnv) error {
		return withMerchant(ctx, e, *code, func(c *app.Core, m *core.Merchant) error {
			chans, err := c.Merchants.Channels(ctx, m.ID)
			if err != nil {
				return err
			}
			if *asJSON {
				out := []channelJSON{}
				for _, ch := range chans {
					out = append(out, channelView(ch))
				}
				return json.NewEncoder(e.out).Encode(out)
			}
			for _, ch := range chans {
				def := ""
				if ch.IsDefault {
					def = " default"
				}
				kind := "sandbox PG"
				if ch.HasCredentials {
					kind = map[bool]string{true: "processor (test mode)", false: "processor (LIVE)"}[ch.Sandbox]
				}
				fmt.Fprintf(e.out, "%d\t%s.%s\t%s\t%s%s\n", ch.ID, ch.Provider, ch.MID, ch.Type, kind, def)
			}
			return nil
		})
	}
}
