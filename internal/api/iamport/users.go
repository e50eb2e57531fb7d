package iamport

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/billkey/billkey/internal/api/iamport/view"
)

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
	tok, err := h.mer.IssueToken(r.Context(), key, secret)
	if err != nil {
		h.fail(w, r, err, opDefault, "")
		return
	}
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
