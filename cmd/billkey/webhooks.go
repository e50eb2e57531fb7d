package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/billkey/billkey/internal/app"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/webhook"
)

// merchantsFor resolves --merchant, or every merchant when it is empty: the
// store has no cross-tenant event queries, so operator views loop instead.
func merchantsFor(ctx context.Context, a *app.Core, code string) ([]core.Merchant, error) {
	if code != "" {
		m, err := a.Merchants.ByCode(ctx, code)
		if err != nil {
			return nil, err
		}
		return []core.Merchant{*m}, nil
	}
	return a.Merchants.List(ctx)
}

func webhooksListCmd(fs *flag.FlagSet) func(context.Context, *runEnv) error {
	var code, impUID, eventID, status string
	var asJSON bool
	fs.StringVar(&code, "merchant", "", "merchant code (default: all merchants)")
	fs.StringVar(&impUID, "imp-uid", "", "events of this payment")
	fs.StringVar(&eventID, "event", "", "this event (webhook-id)")
	fs.StringVar(&status, "status", "", "events in this status: pending, delivered, failed or skipped")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	return func(ctx context.Context, e *runEnv) error {
		if impUID == "" && eventID == "" && status == "" {
			return errors.New("webhooks list: give --imp-uid, --event or --status")
		}
		a, err := openCore(ctx, e, nil)
		if err != nil {
			return err
		}
		defer a.Close()
		return webhooksList(ctx, a, e.out, code, impUID, eventID, status, asJSON)
	}
}

func webhooksList(ctx context.Context, a *app.Core, out io.Writer, code, impUID, eventID, status string, asJSON bool) error {
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

func webhooksResendCmd(fs *flag.FlagSet) func(context.Context, *runEnv) error {
	var code, eventID string
	var failed bool
	fs.StringVar(&code, "merchant", "", "merchant code (default: all merchants)")
	fs.StringVar(&eventID, "event", "", "resend this event (same webhook-id)")
	fs.BoolVar(&failed, "failed", false, "resend every failed event")
	return func(ctx context.Context, e *runEnv) error {
		if (eventID == "") == !failed {
			return errors.New("webhooks resend: give exactly one of --event ID or --failed")
		}
		a, err := openCore(ctx, e, nil)
		if err != nil {
			return err
		}
		defer a.Close()
		return webhooksResend(ctx, a, e, code, eventID, failed)
	}
}

func webhooksResend(ctx context.Context, a *app.Core, e *runEnv, code, eventID string, failed bool) error {
	out := e.out
	ms, err := merchantsFor(ctx, a, code)
	if err != nil {
		return err
	}
	w := a.Webhooks()
	if failed {
		total := 0
		for i, m := range ms {
			n, err := w.ResendFailed(ctx, m.ID)
			if err != nil {
				return fmt.Errorf("resend failed events of %s: %w", m.Code, err)
			}
			total += n
			if len(ms) > 1 {
				fmt.Fprintf(e.errOut, "merchant %d/%d %s: %d queued\n", i+1, len(ms), m.Code, n)
			}
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

func webhooksSecretCmd(action string) func(fs *flag.FlagSet) func(context.Context, *runEnv) error {
	return func(fs *flag.FlagSet) func(context.Context, *runEnv) error {
		var code string
		var overlap time.Duration
		fs.StringVar(&code, "merchant", "", "merchant code (required)")
		if action == "rotate" {
			fs.DurationVar(&overlap, "overlap", webhook.DefaultSecretOverlap, "how long the old secret keeps signing (0: retire it now)")
		}
		return func(ctx context.Context, e *runEnv) error {
			if code == "" {
				return fmt.Errorf("webhooks secret %s: --merchant is required", action)
			}
			a, err := openCore(ctx, e, nil)
			if err != nil {
				return err
			}
			defer a.Close()
			return webhooksSecret(ctx, a, e.out, action, code, overlap)
		}
	}
}

func webhooksSecret(ctx context.Context, a *app.Core, out io.Writer, action, code string, overlap time.Duration) error {
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

func webhooksSetCmd(fs *flag.FlagSet) func(context.Context, *runEnv) error {
	var code string
	var url, format, profile optString
	fs.StringVar(&code, "merchant", "", "merchant code (required)")
	fs.Var(&url, "url", "default webhook URL (a payment's notice_url replaces it; empty clears it)")
	fs.Var(&format, "format", "body format: json or form")
	fs.Var(&profile, "profile", "retry profile: "+strings.Join(webhook.ProfileNames(), ", "))
	return func(ctx context.Context, e *runEnv) error {
		if code == "" {
			return errors.New("webhooks set: --merchant is required")
		}
		a, err := openCore(ctx, e, nil)
		if err != nil {
			return err
		}
		defer a.Close()
		return webhooksSet(ctx, a, e.out, code, url, format, profile)
	}
}

func webhooksSet(ctx context.Context, a *app.Core, out io.Writer, code string, url, format, profile optString) error {
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
