package iamport

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/webhook"
)

// Webhooks is the operator view of the webhook outbox (*webhook.Service).
type Webhooks interface {
	Events(ctx context.Context, merchantID int64, f store.EventFilter) ([]webhook.Event, error)
	Attempts(ctx context.Context, merchantID int64, eventID string) ([]webhook.Attempt, error)
	Resend(ctx context.Context, merchantID int64, eventID string) error
	ResendFailed(ctx context.Context, merchantID int64) (int, error)
	Secrets(ctx context.Context, merchantID int64) ([]webhook.Secret, error)
	RotateSecret(ctx context.Context, merchantID int64, overlap time.Duration) (webhook.Secret, error)
	GetSettings(ctx context.Context, merchantID int64) (webhook.Settings, error)
	SetSettings(ctx context.Context, merchantID int64, in webhook.Settings) error
}

var _ Webhooks = (*webhook.Service)(nil)

// webhookRoutes are the merchant-facing webhook endpoints, behind the same
// token rules and envelope as every V1 route:
//
//	GET  /webhooks/events?imp_uid=&status=&limit=  events with delivery state
//	GET  /webhooks/events/{id}                      one event
//	GET  /webhooks/events/{id}/attempts             its delivery log
//	POST /webhooks/events/{id}/resend               queue it again (same webhook-id)
//	POST /webhooks/resend-failed                    queue every failed event
//	GET  /webhooks/secret                           live signing secrets
//	POST /webhooks/secret/rotate                    new secret; {"overlap_seconds": n}
//	GET  /webhooks/settings                         url, format, profile
//	PUT  /webhooks/settings                         change any of them
func (h *handler) webhookRoutes(wh Webhooks) func(chi.Router) {
	return func(r chi.Router) {
		if wh == nil {
			return
		}
		w := &webhookHandler{h: h, svc: wh}
		r.Get("/webhooks/events", w.events)
		r.Get("/webhooks/events/{id}", w.event)
		r.Get("/webhooks/events/{id}/attempts", w.attempts)
		r.Post("/webhooks/events/{id}/resend", w.resend)
		r.Post("/webhooks/resend-failed", w.resendFailed)
		r.Get("/webhooks/secret", w.secret)
		r.Post("/webhooks/secret/rotate", w.rotate)
		r.Get("/webhooks/settings", w.getSettings)
		r.Put("/webhooks/settings", w.putSettings)
	}
}

type webhookHandler struct {
	h   *handler
	svc Webhooks
}

func (wh *webhookHandler) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, core.ErrNotFound):
		writeError(w, http.StatusNotFound, -1, "webhook event not found")
	case errors.Is(err, core.ErrConflict):
		writeError(w, http.StatusConflict, -1, "delivery in progress; try again shortly")
	case errors.Is(err, webhook.ErrInvalid):
		writeError(w, http.StatusBadRequest, -1, err.Error())
	default:
		wh.h.log.ErrorContext(r.Context(), "webhook endpoint", slog.String("route", routePattern(r)), slog.Any("err", err))
		writeError(w, http.StatusInternalServerError, -1, msgInternal)
	}
}

func (wh *webhookHandler) events(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.EventFilter{ImpUID: q.Get("imp_uid"), Status: q.Get("status")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, -1, "limit must be 1..1000")
			return
		}
		f.Limit = n
	}
	evs, err := wh.svc.Events(r.Context(), merchantFrom(r.Context()).ID, f)
	if err != nil {
		wh.fail(w, r, err)
		return
	}
	writeOK(w, http.StatusOK, evs)
}

func (wh *webhookHandler) event(w http.ResponseWriter, r *http.Request) {
	evs, err := wh.svc.Events(r.Context(), merchantFrom(r.Context()).ID, store.EventFilter{EventID: pathParam(r, "id"), Limit: 1})
	if err == nil && len(evs) == 0 {
		err = core.ErrNotFound
	}
	if err != nil {
		wh.fail(w, r, err)
		return
	}
	writeOK(w, http.StatusOK, evs[0])
}

func (wh *webhookHandler) attempts(w http.ResponseWriter, r *http.Request) {
	as, err := wh.svc.Attempts(r.Context(), merchantFrom(r.Context()).ID, pathParam(r, "id"))
	if err != nil {
		wh.fail(w, r, err)
		return
	}
	writeOK(w, http.StatusOK, as)
}

func (wh *webhookHandler) resend(w http.ResponseWriter, r *http.Request) {
	id := pathParam(r, "id")
	if err := wh.svc.Resend(r.Context(), merchantFrom(r.Context()).ID, id); err != nil {
		wh.fail(w, r, err)
		return
	}
	writeOK(w, http.StatusOK, map[string]any{"id": id, "status": store.EventPending})
}

func (wh *webhookHandler) resendFailed(w http.ResponseWriter, r *http.Request) {
	n, err := wh.svc.ResendFailed(r.Context(), merchantFrom(r.Context()).ID)
	if err != nil {
		wh.fail(w, r, err)
		return
	}
	writeOK(w, http.StatusOK, map[string]int{"queued": n})
}

func (wh *webhookHandler) secret(w http.ResponseWriter, r *http.Request) {
	secs, err := wh.svc.Secrets(r.Context(), merchantFrom(r.Context()).ID)
	if err != nil {
		wh.fail(w, r, err)
		return
	}
	// Secrets must not linger in shared caches.
	w.Header().Set("Cache-Control", "no-store")
	writeOK(w, http.StatusOK, secs)
}

func (wh *webhookHandler) rotate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		OverlapSeconds *int64 `json:"overlap_seconds"`
	}
	if err := decodeOptional(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, -1, err.Error())
		return
	}
	var overlap time.Duration
	if in.OverlapSeconds != nil {
		if *in.OverlapSeconds < 0 || *in.OverlapSeconds > 30*86400 {
			writeError(w, http.StatusBadRequest, -1, "overlap_seconds must be 0..2592000")
			return
		}
		overlap = time.Duration(*in.OverlapSeconds) * time.Second
		if overlap == 0 {
			overlap = -1 // retire the old secret at once
		}
	}
	sec, err := wh.svc.RotateSecret(r.Context(), merchantFrom(r.Context()).ID, overlap)
	if err != nil {
		wh.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeOK(w, http.StatusOK, sec)
}

func (wh *webhookHandler) getSettings(w http.ResponseWriter, r *http.Request) {
	st, err := wh.svc.GetSettings(r.Context(), merchantFrom(r.Context()).ID)
	if err != nil {
		wh.fail(w, r, err)
		return
	}
	writeOK(w, http.StatusOK, st)
}

func (wh *webhookHandler) putSettings(w http.ResponseWriter, r *http.Request) {
	var in struct {
		URL     *string `json:"url"`
		Format  *string `json:"format"`
		Profile *string `json:"profile"`
	}
	if err := decodeOptional(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, -1, err.Error())
		return
	}
	id := merchantFrom(r.Context()).ID
	st, err := wh.svc.GetSettings(r.Context(), id)
	if err != nil {
		wh.fail(w, r, err)
		return
	}
	if in.URL != nil {
		st.URL = *in.URL
	}
	if in.Format != nil {
		st.Format = *in.Format
	}
	if in.Profile != nil {
		st.Profile = *in.Profile
	}
	if err := wh.svc.SetSettings(r.Context(), id, st); err != nil {
		wh.fail(w, r, err)
		return
	}
	writeOK(w, http.StatusOK, st)
}

// decodeOptional reads a small JSON body if there is one (the body cap of
// every V1 route applies).
func decodeOptional(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return errors.New("request body could not be read")
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errors.New("body must be JSON")
	}
	return nil
}
