package webhook

import (
	"context"
	"fmt"
	"time"

	"github.com/billkey/billkey/internal/store"
)

// Settings are a merchant's webhook settings as shown to operators.
type Settings struct {
	URL     string `json:"url"`
	Format  string `json:"format"`
	Profile string `json:"profile"`
}

// GetSettings returns the merchant's webhook settings, defaults filled in.
func (s *Service) GetSettings(ctx context.Context, merchantID int64) (Settings, error) {
	w, err := s.store.GetWebhookSettings(ctx, merchantID)
	if err != nil {
		return Settings{}, err
	}
	if w.Format == "" {
		w.Format = "json"
	}
	if w.Profile == "" {
		w.Profile = DefaultProfile
	}
	return Settings{URL: w.URL, Format: w.Format, Profile: w.Profile}, nil
}

// SetSettings validates and stores the merchant's webhook settings.
func (s *Service) SetSettings(ctx context.Context, merchantID int64, in Settings) error {
	if in.URL != "" {
		if err := checkURL(in.URL); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	if in.Format != "json" && in.Format != "form" {
		return fmt.Errorf("%w: format %q: want json or form", ErrInvalid, in.Format)
	}
	if _, err := LookupProfile(in.Profile); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return s.store.SetWebhookSettings(ctx, store.WebhookSettings{MerchantID: merchantID, URL: in.URL, Format: in.Format, Profile: in.Profile}, s.clock.Now())
}

// Event is an outbox event with its delivery state, as operators see it.
type Event struct {
	ID            string            `json:"id"`
	Type          string            `json:"type"`
	ImpUID        string            `json:"imp_uid"`
	Payload       map[string]string `json:"payload,omitempty"`
	Body          string            `json:"body,omitempty"` // exact-body events only
	URL           string            `json:"url"`            // the payment's notice_url; empty = merchant default
	Status        string            `json:"status"`
	Attempts      int               `json:"attempts"`
	NextAttemptAt int64             `json:"next_attempt_at"` // unix seconds, 0 = none
	DeliveredAt   int64             `json:"delivered_at"`
	CreatedAt     int64             `json:"created_at"`
}

// Attempt is one logged delivery attempt.
type Attempt struct {
	AttemptNo  int    `json:"attempt_no"`
	URL        string `json:"url"`
	StatusCode int    `json:"status_code"` // 0 = no HTTP response
	LatencyMS  int64  `json:"latency_ms"`
	Error      string `json:"error,omitempty"`
	CreatedAt  int64  `json:"created_at"`
}

// unixOrZero renders the operator view's times: unix seconds, 0 for a time
// that does not apply (as V1 renders them; the view is served there).
func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func toEvent(e store.OutboxEvent) Event {
	out := Event{ID: e.ID, Type: e.Type, ImpUID: e.ImpUID, Payload: e.Payload, URL: e.URL, Status: e.Status,
		Attempts: e.Attempts, DeliveredAt: unixOrZero(e.DeliveredAt), CreatedAt: unixOrZero(e.CreatedAt)}
	if e.BodyFormat != "" {
		out.Body = e.Body
	}
	if e.Status == store.EventPending {
		out.NextAttemptAt = unixOrZero(e.NextAttemptAt)
	}
	return out
}

// Events lists a merchant's events, newest first.
func (s *Service) Events(ctx context.Context, merchantID int64, f store.EventFilter) ([]Event, error) {
	rows, err := s.store.OutboxEvents(ctx, merchantID, f)
	if err != nil {
		return nil, err
	}
	out := make([]Event, 0, len(rows))
	for _, r := range rows {
		out = append(out, toEvent(r))
	}
	return out, nil
}

// Attempts lists an event's attempts; core.ErrNotFound if the merchant has no such event.
func (s *Service) Attempts(ctx context.Context, merchantID int64, eventID string) ([]Attempt, error) {
	if _, err := s.store.OutboxEvent(ctx, merchantID, eventID); err != nil {
		return nil, err
	}
	rows, err := s.store.WebhookAttempts(ctx, merchantID, eventID)
	if err != nil {
		return nil, err
	}
	out := make([]Attempt, 0, len(rows))
	for _, r := range rows {
		out = append(out, Attempt{AttemptNo: r.AttemptNo, URL: r.URL, StatusCode: r.StatusCode,
			LatencyMS: r.Latency.Milliseconds(), Error: r.Error, CreatedAt: unixOrZero(r.CreatedAt)})
	}
	return out, nil
}

// Resend queues one event for delivery now, with a fresh retry schedule and
// the same webhook-id; delivered events are replayed.
func (s *Service) Resend(ctx context.Context, merchantID int64, eventID string) error {
	if err := s.store.RequeueEvent(ctx, merchantID, eventID, s.clock.Now()); err != nil {
		return err
	}
	s.log.Info("webhook resend queued", "merchant_id", merchantID, "event_id", eventID)
	s.Wake()
	return nil
}

// ResendFailed queues every failed event of the merchant and counts them.
func (s *Service) ResendFailed(ctx context.Context, merchantID int64) (int, error) {
	n, err := s.store.RequeueFailedEvents(ctx, merchantID, s.clock.Now())
	if err != nil {
		return 0, err
	}
	s.log.Info("webhook resend of failed events queued", "merchant_id", merchantID, "events", n)
	s.Wake()
	return n, nil
}
