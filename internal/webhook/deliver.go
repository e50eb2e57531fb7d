package webhook

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/billkey/billkey/internal/reqid"
	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/vault"
)

// Delivery outcomes, as counted in billkey_webhook_deliveries_total.
const (
	outcomeDelivered = "delivered" // 2xx
	outcomeRetrying  = "retrying"  // failed, another attempt scheduled
	outcomeFailed    = "failed"    // failed, schedule exhausted
	outcomeRefused   = "refused"   // never sent: bad URL or blocked address
	outcomeSkipped   = "skipped"   // no URL configured
)

const userAgent = "Billkey-Webhook/1"

// errUndeliverable marks failures that retrying cannot fix.
var errUndeliverable = errors.New("undeliverable")

// encodeBody renders what goes on the wire. A v1 field map follows the
// merchant's format setting; an exact body is sent as stored.
func encodeBody(ev *store.OutboxEvent, merchantFormat string) ([]byte, string, error) {
	format := ev.BodyFormat
	if format == "" {
		format = merchantFormat
		if format == "form" {
			v := url.Values{}
			for k, val := range ev.Payload {
				v.Set(k, val)
			}
			return []byte(v.Encode()), "application/x-www-form-urlencoded", nil
		}
		b, err := json.Marshal(ev.Payload)
		return b, "application/json", err
	}
	switch format {
	case "json":
		return []byte(ev.Body), "application/json", nil
	case "form":
		return []byte(ev.Body), "application/x-www-form-urlencoded", nil
	}
	return nil, "", fmt.Errorf("event %s: unknown body format %q: %w", ev.ID, format, errUndeliverable)
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("webhook URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("webhook URL %q: scheme must be http or https", raw)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("webhook URL %q: no host", raw)
	}
	if u.User != nil {
		return fmt.Errorf("webhook URL: credentials in the URL are not supported")
	}
	return nil
}

// safeURL is the URL for logs: the query may carry a receiver's own token.
func safeURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String()
}

type attemptResult struct {
	status     int
	latency    time.Duration
	err        error
	retryAfter time.Duration
}

// deliver makes one attempt at a claimed event and records the outcome,
// with its merchant's settings and secrets as read for the claim pass.
func (s *Service) deliver(ctx context.Context, ev store.OutboxEvent, mp *merchantPass) {
	log := s.log.With("event_id", ev.ID, "merchant_id", ev.MerchantID, "imp_uid", ev.ImpUID, "attempt", ev.Attempts+1)
	if ev.RequestID != "" {
		log = log.With("request_id", ev.RequestID)
	}
	settings, err := mp.settings()
	if err != nil {
		// The claim's lease brings the event back later.
		log.Error("webhook settings", "err", err)
		return
	}
	target := ev.URL
	if target == "" {
		target = settings.URL
	}
	now := s.clock.Now()
	var res attemptResult
	switch {
	case target == "":
		s.finish(ctx, log, ev, settings.Profile, target, now, attemptResult{err: errors.New("no webhook URL: the payment has no notice_url and the merchant no default URL")}, outcomeSkipped)
		return
	default:
		if err := checkURL(target); err != nil {
			res.err = fmt.Errorf("%w: %w", err, errUndeliverable)
			break
		}
		body, ctype, err := encodeBody(&ev, settings.Format)
		if err != nil {
			res.err = err
			break
		}
		secrets, err := mp.secrets()
		if err != nil {
			log.Error("webhook secrets", "err", err)
			return
		}
		res = s.send(ctx, ev.ID, cmp.Or(ev.RequestID, ev.ID), target, body, ctype, secrets, s.wall.Now())
	}
	if ctx.Err() != nil {
		// Shutting down, not a receiver failure: hand the event back for
		// the next start instead of charging the receiver an attempt.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if err := s.store.ReleaseEvent(rctx, ev.MerchantID, ev.ID, ev.Attempts, ev.LeasedUntil, s.clock.Now()); err != nil {
			log.Warn("release webhook claim", "err", err)
		}
		return
	}
	s.finish(ctx, log, ev, settings.Profile, target, now, res, "")
}

// send POSTs body with Standard Webhooks headers signed at ts.
func (s *Service) send(ctx context.Context, id, requestID, target string, body []byte, ctype string, secrets []Secret, ts time.Time) attemptResult {
	sig, err := signatureHeader(secrets, id, ts, body)
	if err != nil {
		return attemptResult{err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return attemptResult{err: fmt.Errorf("%w: %w", err, errUndeliverable)}
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(HeaderID, id)
	// Receivers correlate by X-Request-Id too: the id of the API request
	// that caused the event, so one id follows a payment from the merchant's
	// call to their receiver; else the webhook-id, stable across attempts.
	req.Header.Set(reqid.Header, requestID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)
	// Latency is a measurement of real elapsed time, not business time, so
	// it reads the wall clock rather than the injectable one.
	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		var refused *RefusedAddressError
		if errors.As(err, &refused) {
			err = fmt.Errorf("%w: %w", refused, errUndeliverable)
		}
		return attemptResult{latency: time.Since(start), err: err}
	}
	defer resp.Body.Close()
	// Read a little so that the connection can be reused and the operator
	// sees what the receiver complained about; never more.
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	r := attemptResult{status: resp.StatusCode, latency: time.Since(start)}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := fmt.Sprintf("HTTP %d", resp.StatusCode)
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			msg += " (redirects are not followed)"
		}
		if s := strings.TrimSpace(strings.ToValidUTF8(string(snippet), "")); s != "" {
			if len(s) > 200 {
				s = s[:200]
				for !utf8.ValidString(s) {
					s = s[:len(s)-1]
				}
			}
			msg += ": " + vault.Redact(s)
		}
		r.err = errors.New(msg)
		r.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), ts)
	}
	return r
}

// parseRetryAfter reads delay-seconds or an HTTP date relative to now.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, int64(maxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// finish schedules the next attempt (or ends the event) and logs the attempt.
func (s *Service) finish(ctx context.Context, log *slog.Logger, ev store.OutboxEvent, profileName, target string, now time.Time, res attemptResult, outcome string) {
	r := store.DeliveryResult{
		EventID: ev.ID, MerchantID: ev.MerchantID, ClaimedAttempts: ev.Attempts, LeasedUntil: ev.LeasedUntil,
		Attempt: store.WebhookAttempt{AttemptNo: ev.Attempts + 1, URL: target, StatusCode: res.status, Latency: res.latency, CreatedAt: now},
	}
	if res.err != nil {
		r.Attempt.Error = strings.TrimSuffix(res.err.Error(), ": "+errUndeliverable.Error())
	}
	switch {
	case outcome == outcomeSkipped:
		r.Status = store.EventSkipped
	case res.err == nil:
		outcome, r.Status, r.DeliveredAt = outcomeDelivered, store.EventDelivered, now
	case errors.Is(res.err, errUndeliverable):
		outcome, r.Status = outcomeRefused, store.EventFailed
	default:
		if ev.Profile != "" {
			profileName = ev.Profile // a dialect's own schedule (v3: d24)
		}
		profile, err := LookupProfile(profileName)
		if err != nil {
			log.Warn("webhook profile unknown, using default", "profile", profileName)
			profile = Profiles[DefaultProfile]
		}
		if d, ok := profile.nextDelay(ev.Attempts+1-ev.RetryBase, res.retryAfter); ok {
			outcome, r.Status, r.NextAttemptAt = outcomeRetrying, store.EventPending, now.Add(d)
		} else {
			outcome, r.Status = outcomeFailed, store.EventFailed
		}
	}
	// Stored even if the worker is being stopped (the finisher never takes
	// the caller's cancel), together with other deliveries' outcomes.
	applied, err := s.finishes.finish(r)
	if err != nil {
		log.Error("record webhook attempt", "err", err, "outcome", outcome)
		return
	}
	s.m.deliveries.WithLabelValues(outcome).Inc()
	if res.latency > 0 {
		s.m.latency.Observe(res.latency.Seconds())
	}
	attrs := []any{"outcome", outcome, "url", safeURL(target), "status_code", res.status, "latency", res.latency}
	if !applied {
		attrs = append(attrs, "superseded", true)
	}
	switch outcome {
	case outcomeDelivered:
		log.Info("webhook delivered", attrs...)
	case outcomeRetrying:
		log.Warn("webhook attempt failed; will retry", append(attrs, "err", r.Attempt.Error, "next_attempt_at", r.NextAttemptAt)...)
	case outcomeSkipped:
		log.Info("webhook skipped: no URL", attrs...)
	default:
		log.Error("webhook delivery failed for good", append(attrs, "err", r.Attempt.Error)...)
	}
}
