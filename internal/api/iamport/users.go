package iamport

import (
	"errors"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/billkey/billkey/internal/api/iamport/view"
	"github.com/billkey/billkey/internal/merchant"
)

// clientAddr is the TCP peer's address. Forwarding headers are not trusted:
// a client could name any address in them and escape its limit.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (h *handler) userRoutes(r chi.Router) {
	r.Get("/users/pg", h.listChannels)
}

// getToken is the only unauthenticated endpoint. The service applies the
// reuse rule; "now" lets clients correct their clock skew.
func (h *handler) getToken(w http.ResponseWriter, r *http.Request) {
	p, err := h.readParams(r)
	if err != nil {
		h.fail(w, r, err, opDefault, "")
		return
	}
	rd := reader{p: p}
	key := rd.str("imp_key", 0)
	secret := rd.str("imp_secret", 0)
	if rd.err != nil {
		h.fail(w, r, rd.err, opDefault, "")
		return
	}
	if key == "" || secret == "" {
		writeError(w, http.StatusBadRequest, -1, msgMissingKeys)
		return
	}
	addr := clientAddr(r)
	if by, retry, limited := h.tokens.Limited(key, addr); limited {
		h.metrics.throttled.WithLabelValues(by).Inc()
		h.log.WarnContext(r.Context(), "getToken throttled", slog.String("by", by), slog.String("imp_key", key), slog.String("addr", addr))
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
		writeError(w, http.StatusTooManyRequests, -1, msgTooManyAttempts)
		return
	}
	tok, err := h.mer.IssueToken(r.Context(), key, secret)
	if errors.Is(err, merchant.ErrBadCredentials) {
		h.tokens.Failed(key, addr)
	}
	if err != nil {
		h.fail(w, r, err, opDefault, "")
		return
	}
	h.tokens.Succeeded(key)
	writeOK(w, http.StatusOK, tokenView{
		AccessToken: tok.Token,
		Now:         h.clock.Now().Unix(),
		ExpiredAt:   view.Unix(tok.ExpiresAt),
	})
}

func (h *handler) listChannels(w http.ResponseWriter, r *http.Request) {
	chs, err := h.mer.Channels(r.Context(), merchantFrom(r.Context()).ID)
	if err != nil {
		h.fail(w, r, err, opDefault, "")
		return
	}
	out := make([]channelView, 0, len(chs))
	for i := range chs {
		out = append(out, newChannelView(&chs[i]))
	}
	writeOK(w, http.StatusOK, out)
}
