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
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/merchant"
	"github.com/billkey/billkey/internal/pg/router"
)

const channelUsage = `usage:
  billkey channel add --merchant CODE --pg iamport|tosspayments|stripe [--mid MID] [--api-url URL]
                      [--live] [--default] <credentials>
      iamport:       --imp-key KEY --imp-secret SECRET [--upstream-pg PG]
      tosspayments:  --secret-key test_sk_…|live_sk_…
      stripe:        --secret-key sk_test_…|sk_live_…
      A secret given as "-" is read from standard input (keeps it out of ps and shell history).
  billkey channel list --merchant CODE [--json]
  billkey channel remove --merchant CODE --pg PROVIDER[.MID]|ID
  billkey channel set-default --merchant CODE --pg PROVIDER[.MID]|ID
`

// channelJSON is a channel as the CLI and the API show it: never its
// credentials.
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

func channelCmd(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "help" {
		fmt.Fprint(os.Stderr, channelUsage)
		return errors.New("channel: want add, list, remove or set-default")
	}
	var (
		code, pgValue, mid, apiURL, impKey, impSecret, upstreamPG, secretKey string
		live, isDefault, asJSON                                              bool
	)
	a, _, err := openApp(ctx, "channel "+args[0], args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&code, "merchant", "", "merchant code")
		fs.StringVar(&pgValue, "pg", "", "provider (add), or provider[.mid] or channel id")
		fs.StringVar(&mid, "mid", "", "MID / account id naming the channel (pg = provider.mid)")
		fs.StringVar(&apiURL, "api-url", "", "processor API base URL (default: the processor's production host)")
		fs.BoolVar(&live, "live", false, "live credentials: real money (default: the processor's test mode)")
		fs.BoolVar(&isDefault, "default", false, "make it the merchant's default channel")
		fs.StringVar(&impKey, "imp-key", "", "iamport: REST API key of the upstream account")
		fs.StringVar(&impSecret, "imp-secret", "", `iamport: REST API secret ("-" reads stdin)`)
		fs.StringVar(&upstreamPG, "upstream-pg", "", "iamport: pg value of the upstream account's channel")
		fs.StringVar(&secretKey, "secret-key", "", `tosspayments/stripe: secret key ("-" reads stdin)`)
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	})
	if err != nil {
		return err
	}
	defer a.Close()
	if code == "" {
		return errors.New("channel: --merchant is required")
	}
	m, err := a.Store.MerchantByCode(ctx, code)
	if err != nil {
		return fmt.Errorf("merchant %s: %w", code, err)
	}
	stdin := bufio.NewReader(os.Stdin)
	for _, s := range []*string{&impSecret, &secretKey} {
		if *s == "-" {
			line, err := stdin.ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			*s = strings.TrimSpace(line)
		}
	}
	switch args[0] {
	case "add":
		c, err := a.Merchants.AddChannel(ctx, m.ID, channelInput(pgValue, mid, apiURL, live, isDefault, impKey, impSecret, upstreamPG, secretKey))
		if err != nil {
			return err
		}
		return printChannel(asJSON, "added", c)
	case "remove":
		c, err := a.Merchants.RemoveChannel(ctx, m.ID, pgValue)
		if err != nil {
			return err
		}
		return printChannel(asJSON, "removed", c)
	case "set-default":
		c, err := a.Merchants.SetDefaultChannel(ctx, m.ID, pgValue)
		if err != nil {
			return err
		}
		return printChannel(asJSON, "default", c)
	case "list":
		return listChannels(ctx, a, m.ID, asJSON)
	}
	fmt.Fprint(os.Stderr, channelUsage)
	return fmt.Errorf("channel: unknown subcommand %q", args[0])
}

func channelInput(provider, mid, apiURL string, live, isDefault bool, impKey, impSecret, upstreamPG, secretKey string) merchant.ChannelInput {
	return merchant.ChannelInput{Provider: provider, MID: mid, APIURL: apiURL, Sandbox: !live, Default: isDefault,
		Creds: router.Credentials{ImpKey: impKey, ImpSecret: impSecret, UpstreamPG: upstreamPG, SecretKey: secretKey}}
}

func printChannel(asJSON bool, what string, c core.Channel) error {
	if asJSON {
		return json.NewEncoder(os.Stdout).Encode(channelView(c))
	}
	fmt.Printf("%s %s.%s (id %d, %s)\n", what, c.Provider, c.MID, c.ID, map[bool]string{true: "sandbox", false: "live"}[c.Sandbox])
	return nil
}

func listChannels(ctx context.Context, a *app.App, merchantID int64, asJSON bool) error {
	chans, err := a.Merchants.Channels(ctx, merchantID)
	if err != nil {
		return err
	}
	if asJSON {
		out := []channelJSON{}
		for _, c := range chans {
			out = append(out, channelView(c))
		}
		return json.NewEncoder(os.Stdout).Encode(out)
	}
	for _, c := range chans {
		def := ""
		if c.IsDefault {
			def = " default"
		}
		kind := "sandbox PG"
		if c.HasCredentials {
			kind = map[bool]string{true: "processor (test mode)", false: "processor (LIVE)"}[c.Sandbox]
		}
		fmt.Printf("%d\t%s.%s\t%s\t%s%s\n", c.ID, c.Provider, c.MID, c.Type, kind, def)
	}
	return nil
}
