package webhook

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/store"
)

// Route is an HTTP handler with its Go 1.22 ServeMux pattern.
type Route struct {
	Pattern string
	Handler http.Handler
}

// Routes are the merchant-facing webhook endpoints. They take the merchant's
// v1 access token like the v1 API does (Authorization: Bearer, or
// X-ImpTokenHeader) and answer in the v1 envelope {code, message, response}.
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
func (s *Service) Routes() []Route {
	h := func(pattern string, fn func(w http.ResponseWriter, r *http.Request, m *core.Merchant)) Route {
		return Route{Pattern: pattern, Handler: s.authed(fn)}
	}
	return []Route{
		h("GET /webhooks/events", s.handleEvents),
		h("GET /webhooks/events/{id}", s.handleEvent),
		h("GET /webhooks/events/{id}/attempts", s.handleAttempts),
		h("POST /webhooks/events/{id}/resend", s.handleResend),
		h("POST /webhooks/resend-failed", s.handleResendFailed),
		h("GET /webhooks/secret", s.handleSecret),
		h("POST /webhooks/secret/rotate", s.handleRotate),
		h("GET /webhooks/settings", s.handleGetSettings),
		h("PUT /webhooks/settings", s.handlePutSettings),
	}
}

type envelope struct {
	Code     int     `json:"code"`
	Message  *string `json:"message"`
	Response any     `json:"response"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func ok(w http.ResponseWriter, v any) { writeJSON(w, http.StatusOK, envelope{Response: v}) }

func fail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, envelope{Code: -1, Message: &msg})
}

func tokenFrom(r *http.Request) string {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	if h != "" && !strings.EqualFold(h, "bearer") {
		return h
	}
	return strings.TrimSpace(r.Header.Get("X-ImpTokenHeader"))
}

func (s *Service) authed(fn func(http.ResponseWriter, *http.Request, *core.Merchant)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.authenticate == nil {
			fail(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
		m, err := s.authenticate(r.Context(), tokenFrom(r))
		if err != nil || m == nil {
			fail(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
		fn(w, r, m)
	})
}

func (s *Service) serverError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, core.ErrNotFound):
		fail(w, http.StatusNotFound, "webhook event not found")
	case errors.Is(err, core.ErrConflict):
		fail(w, http.StatusConflict, "delivery in progress; try again shortly")
	case errors.Is(err, ErrInvalid):
		fail(w, http.StatusBadRequest, err.Error())
	default:
		s.log.Error("webhook endpoint", "path", r.URL.Path, "err", err)
		fail(w, http.StatusInternalServerError, "internal error")
	}
}

func (s *Service) handleEvents(w http.ResponseWriter, r *http.Request, m *core.Merchant) {
	q := r.URL.Query()
	f := store.EventFilter{ImpUID: q.Get("imp_uid"), Status: q.Get("status")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			fail(w, http.StatusBadRequest, "limit must be 1..1000")
			return
		}
		f.Limit = n
	}
	evs, err := s.Events(r.Context(), m.ID, f)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	ok(w, evs)
}

func (s *Service) handleEvent(w http.ResponseWriter, r *http.Request, m *core.Merchant) {
	evs, err := s.Events(r.Context(), m.ID, store.EventFilter{EventID: r.PathValue("id"), Limit: 1})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if len(evs) == 0 {
		s.serverError(w, r, core.ErrNotFound)
		return
	}
	ok(w, evs[0])
}

func (s *Service) handleAttempts(w http.ResponseWriter, r *http.Request, m *core.Merchant) {
	as, err := s.Attempts(r.Context(), m.ID, r.PathValue("id"))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	ok(w, as)
}

func (s *Service) handleResend(w http.ResponseWriter, r *http.Request, m *core.Merchant) {
	id := r.PathValue("id")
	if err := s.Resend(r.Context(), m.ID, id); err != nil {
		s.serverError(w, r, err)
		return
	}
	ok(w, map[string]any{"id": id, "status": store.EventPending})
}

func (s *Service) handleResendFailed(w http.ResponseWriter, r *http.Request, m *core.Merchant) {
	n, err := s.ResendFailed(r.Context(), m.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	ok(w, map[string]int{"queued": n})
}

func (s *Service) handleSecret(w http.ResponseWriter, r *http.Request, m *core.Merchant) {
	secs, err := s.Secrets(r.Context(), m.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	// Secrets must not linger in shared caches.
	w.Header().Set("Cache-Control", "no-store")
	ok(w, secs)
}

func (s *Service) handleRotate(w http.ResponseWriter, r *http.Request, m *core.Merchant) {
	var in struct {
		OverlapSeconds *int64 `json:"overlap_seconds"`
	}
	if err := decodeOptional(r, &in); err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	var overlap time.Duration
	if in.OverlapSeconds != nil {
		if *in.OverlapSeconds < 0 || *in.OverlapSeconds > 30*86400 {
			fail(w, http.StatusBadRequest, "overlap_seconds must be 0..2592000")
			return
		}
		overlap = time.Duration(*in.OverlapSeconds) * time.Second
		if overlap == 0 {
			overlap = -1 // retire the old secret at once
		}
	}
	sec, err := s.RotateSecret(r.Context(), m.ID, overlap)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	ok(w, sec)
}

func (s *Service) handleGetSettings(w http.ResponseWriter, r *http.Request, m *core.Merchant) {
	st, err := s.GetSettings(r.Context(), m.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	ok(w, st)
}

func (s *Service) handlePutSettings(w http.ResponseWriter, r *http.Request, m *core.Merchant) {
	var in struct {
		URL     *string `json:"url"`
		Format  *string `json:"format"`
		Profile *string `json:"profile"`
	}
	if err := decodeOptional(r, &in); err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	st, err := s.GetSettings(r.Context(), m.ID)
	if err != nil {
		s.serverError(w, r, err)
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
	if err := s.SetSettings(r.Context(), m.ID, st); err != nil {
		s.serverError(w, r, err)
		return
	}
	ok(w, st)
}

// decodeOptional reads a small JSON body if there is one.
func decodeOptional(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errors.New("body must be JSON")
	}
	return nil
}
