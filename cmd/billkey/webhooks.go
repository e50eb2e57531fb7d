package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/billkey/billkey/internal/app"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/webhook"
)

const webhooksUsage = `billkey webhooks — webhook deliveries, secrets and settings

  billkey webhooks list [--merchant CODE] (--imp-uid X | --event ID | --status pending|delivered|failed|skipped) [--json]
  billkey webhooks resend [--merchant CODE] (--event ID | --failed)
  billkey webhooks secret show --merchant CODE
  billkey webhooks secret rotate --merchant CODE [--overlap 24h]
  billkey webhooks set --merchant CODE [--url U] [--format json|form] [--profile default|iamport|d24]

Without --merchant, list and resend look across every merchant. A running
server picks resent events up within a second.
`

// webhooksCmd is `billkey webhooks ...`.
func webhooksCmd(ctx context.Context, args []string) error {
	return runWebhooks(ctx, args, os.Stdout)
}

func runWebhooks(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(out, webhooksUsage)
		return nil
	}
	switch args[0] {
	case "list":
		return webhooksList(ctx, args[1:], out)
	case "resend":
		return webhooksResend(ctx, args[1:], out)
	case "secret":
		if len(args) < 2 || (args[1] != "show" && args[1] != "rotate") {
			return errors.New("webhooks secret: want show or rotate")
		}
		return webhooksSecret(ctx, args[1], args[2:], out)
	case "set":
		return webhooksSet(ctx, args[1:], out)
	}
	return fmt.Errorf("webhooks: unknown subcommand %q\n\n%s", args[0], webhooksUsage)
}

// merchantsFor resolves --merchant, or every merchant when it is empty: the
// store has no cross-tenant event queries, so operator views loop instead.
func merchantsFor(ctx context.Context, a *app.App, code string) ([]core.Merchant, error) {
	if code != "" {
		m, err := a.Store.MerchantByCode(ctx, code)
		if err != nil {
			return nil, fmt.Errorf("merchant %s: %w", code, err)
		}
		return []core.Merchant{*m}, nil
	}
	return a.Store.ListMerchants(ctx)
}

func webhooksList(ctx context.Context, args []string, out io.Writer) error {
	var code, impUID, eventID, status string
	var asJSON bool
	a, _, err := openApp(ctx, "webhooks list", args, func(fs *flag.FlagSet) {
		fs.StringVar(&code, "merchant", "", "merchant code (default: all merchants)")
		fs.StringVar(&impUID, "imp-uid", "", "events of this payment")
		fs.StringVar(&eventID, "event", "", "this event (webhook-id)")
		fs.StringVar(&status, "status", "", "events in this status")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	})
	if err != nil {
		return err
	}
	defer a.Close()
	if impUID == "" && eventID == "" && status == "" {
		return errors.New("webhooks list: give --imp-uid, --event or --status")
	}
	ms, err := merchantsFor(ctx, a, code)
	if err != nil {
		return err
	}
	type row struct {
		Merchant string            `json:"merchant_code"`
		Event    webhook.Event     `json:"event"`
		Attempts []webhook.Attempt `json:"attempts"`
	}
	rows := []row{}
	w := a.Webhooks()
	for _, m := range ms {
		evs, err := w.Events(ctx, m.ID, store.EventFilter{ImpUID: impUID, EventID: eventID, Status: status, Limit: 1000})
		if err != nil {
			return err
		}
		for _, ev := range evs {
			atts, err := w.Attempts(ctx, m.ID, ev.ID)
			if err != nil {
				return err
			}
			rows = append(rows, row{m.Code, ev, atts})
		}
	}
	if asJSON {
		return json.NewEncoder(out).Encode(rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(out, "no webhook events found")
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		ev := r.Event
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\tstatus=%s\tattempts=%d", r.Merchant, ev.ID, ev.Type, ev.ImpUID, ev.Status, ev.Attempts)
		if ev.NextAttemptAt != 0 {
			fmt.Fprintf(tw, "\tnext=%s", fmtUnix(ev.NextAttemptAt))
		}
		if ev.DeliveredAt != 0 {
			fmt.Fprintf(tw, "\tdelivered=%s", fmtUnix(ev.DeliveredAt))
		}
		fmt.Fprintln(tw)
		for _, at := range r.Attempts {
			code := "-"
			if at.StatusCode != 0 {
				code = fmt.Sprint(at.StatusCode)
			}
			fmt.Fprintf(tw, "\t#%d\t%s\t%s\tHTTP %s\t%dms\t%s\n", at.AttemptNo, fmtUnix(at.CreatedAt), at.URL, code, at.LatencyMS, at.Error)
		}
	}
	return tw.Flush()
}

func fmtUnix(s int64) string { return time.Unix(s, 0).UTC().Format(time.RFC3339) }

func webhooksResend(ctx context.Context, args []string, out io.Writer) error {
	var code, eventID string
	var failed bool
	a, _, err := openApp(ctx, "webhooks resend", args, func(fs *flag.FlagSet) {
		fs.StringVar(&code, "merchant", "", "merchant code (default: all merchants)")
		fs.StringVar(&eventID, "event", "", "resend this event (same webhook-id)")
		fs.BoolVar(&failed, "failed", false, "resend every failed event")
	})
	if err != nil {
		return err
	}
	defer a.Close()
	if (eventID == "") == !failed {
		return errors.New("webhooks resend: give exactly one of --event ID or --failed")
	}
	ms, err := merchantsFor(ctx, a, code)
	if err != nil {
		return err
	}
	w := a.Webhooks()
	if failed {
		total := 0
		for _, m := range ms {
			n, err := w.ResendFailed(ctx, m.ID)
			if err != nil {
				return fmt.Errorf("resend failed events of %s: %w", m.Code, err)
			}
			total += n
		}
		fmt.Fprintf(out, "%d failed events queued for delivery\n", total)
		return nil
	}
	for _, m := range ms {
		err := w.Resend(ctx, m.ID, eventID)
		if errors.Is(err, core.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("resend %s: %w", eventID, err)
		}
		fmt.Fprintf(out, "event %s of %s queued for delivery\n", eventID, m.Code)
		return nil
	}
	return fmt.Errorf("resend: event %s: %w", eventID, core.ErrNotFound)
}

func webhooksSecret(ctx context.Context, action string, args []string, out io.Writer) error {
	var code string
	var overlap time.Duration
	a, _, err := openApp(ctx, "webhooks secret "+action, args, func(fs *flag.FlagSet) {
		fs.StringVar(&code, "merchant", "", "merchant code")
		if action == "rotate" {
			fs.DurationVar(&overlap, "overlap", webhook.DefaultSecretOverlap, "how long the old secret keeps signing (0: retire it now)")
		}
	})
	if err != nil {
		return err
	}
	defer a.Close()
	if code == "" {
		return fmt.Errorf("webhooks secret %s: --merchant is required", action)
	}
	ms, err := merchantsFor(ctx, a, code)
	if err != nil {
		return err
	}
	m, w := ms[0], a.Webhooks()
	if action == "rotate" {
		if overlap == 0 {
			overlap = -1 // RotateSecret reads 0 as the default
		}
		if _, err := w.RotateSecret(ctx, m.ID, overlap); err != nil {
			return err
		}
	}
	secs, err := w.Secrets(ctx, m.ID)
	if err != nil {
		return err
	}
	for _, s := range secs {
		state := "current"
		if !s.ExpiresAt.IsZero() {
			state = "signs until " + s.ExpiresAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(out, "%s\t%s\t%s\n", s.ID, s.Key, state)
	}
	return nil
}

func webhooksSet(ctx context.Context, args []string, out io.Writer) error {
	var code string
	var url, format, profile optString
	a, _, err := openApp(ctx, "webhooks set", args, func(fs *flag.FlagSet) {
		fs.StringVar(&code, "merchant", "", "merchant code")
		fs.Var(&url, "url", "default webhook URL (a payment's notice_url replaces it; empty clears it)")
		fs.Var(&format, "format", "body format: json or form")
		fs.Var(&profile, "profile", "retry profile: "+strings.Join(webhook.ProfileNames(), ", "))
	})
	if err != nil {
		return err
	}
	defer a.Close()
	if code == "" {
		return errors.New("webhooks set: --merchant is required")
	}
	ms, err := merchantsFor(ctx, a, code)
	if err != nil {
		return err
	}
	m, w := ms[0], a.Webhooks()
	st, err := w.GetSettings(ctx, m.ID)
	if err != nil {
		return err
	}
	url.apply(&st.URL)
	format.apply(&st.Format)
	profile.apply(&st.Profile)
	if url.set || format.set || profile.set {
		if err := w.SetSettings(ctx, m.ID, st); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "merchant: %s\nurl:      %s\nformat:   %s\nprofile:  %s\n", m.Code, st.URL, st.Format, st.Profile)
	return nil
}

// optString is a string flag that knows whether it was given, so that
// `set --url ""` clears the URL while omitting --url keeps it.
type optString struct {
	v   string
	set bool
}

func (o *optString) String() string { return o.v }
func (o *optString) Set(s string) error {
	o.v, o.set = s, true
	return nil
}
func (o *optString) apply(dst *string) {
	if o.set {
		*dst = o.v
	}
}
