package iamport

import (
	"context"
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/billkey/billkey/internal/api/iamport/view"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/merchant"
	"github.com/billkey/billkey/internal/pg/router"
)

// channelAdmin manages a merchant's processor channels (the i'mport "PG
// settings"): *merchant.Service.
type channelAdmin interface {
	AddChannel(ctx context.Context, merchantID int64, in merchant.ChannelInput) (core.Channel, error)
	RemoveChannel(ctx context.Context, merchantID int64, ref string) (core.Channel, error)
	SetDefaultChannel(ctx context.Context, merchantID int64, ref string) (core.Channel, error)
}

var _ channelAdmin = (*merchant.Service)(nil)

func (h *handler) channelRoutes(r chi.Router) {
	ca, ok := h.mer.(channelAdmin)
	if !ok {
		return
	}
	r.Get("/channels", h.listChannelSettings)
	r.Post("/channels", func(w http.ResponseWriter, r *http.Request) { h.addChannel(w, r, ca) })
	r.Delete("/channels/{pg}", func(w http.ResponseWriter, r *http.Request) { h.removeChannel(w, r, ca) })
	r.Post("/channels/{pg}/default", func(w http.ResponseWriter, r *http.Request) { h.setDefaultChannel(w, r, ca) })
}

// channelSettingView is a channel with what a merchant manages about it;
// credentials are never shown, only whether the channel has them.
type channelSettingView struct {
	channelView
	ID        int64   `json:"id"`
	PG        string  `json:"pg"`
	IsDefault bool    `json:"is_default"`
	Processor bool    `json:"processor"`
	APIURL    *string `json:"api_url"`
}

func newChannelSettingView(c *core.Channel) channelSettingView {
	return channelSettingView{channelView: newChannelView(c), ID: c.ID, PG: c.Provider + "." + c.MID,
		IsDefault: c.IsDefault, Processor: c.HasCredentials, APIURL: view.Str(c.APIURL)}
}

func (h *handler) listChannelSettings(w http.ResponseWriter, r *http.Request) {
	chs, err := h.mer.Channels(r.Context(), merchantFrom(r.Context()).ID)
	if err != nil {
		h.fail(w, r, err, opDefault, "")
		return
	}
	out := make([]channelSettingView, 0, len(chs))
	for i := range chs {
		out = append(out, newChannelSettingView(&chs[i]))
	}
	writeOK(w, http.StatusOK, out)
}

func (h *handler) addChannel(w http.ResponseWriter, r *http.Request, ca channelAdmin) {
	p, err := h.readParams(r)
	if err != nil {
		h.fail(w, r, err, opDefault, "")
		return
	}
	rd := reader{p: p}
	in := merchant.ChannelInput{
		Provider: rd.str("pg", 40), MID: rd.str("mid", 100), APIURL: rd.str("api_url", 500),
		Sandbox: !rd.bool("live"), Default: rd.bool("default"), Name: rd.str("name", 100),
		Creds: router.Credentials{
			ImpKey: rd.str("imp_key", 200), ImpSecret: rd.str("imp_secret", 500),
			UpstreamPG: rd.str("upstream_pg", 100), SecretKey: rd.str("secret_key", 500),
		},
	}
	if rd.err != nil {
		h.fail(w, r, rd.err, opDefault, "")
		return
	}
	c, err := ca.AddChannel(r.Context(), merchantFrom(r.Context()).ID, in)
	if err != nil {
		h.channelFail(w, r, err)
		return
	}
	writeOK(w, http.StatusOK, newChannelSettingView(&c))
}

func (h *handler) removeChannel(w http.ResponseWriter, r *http.Request, ca channelAdmin) {
	c, err := ca.RemoveChannel(r.Context(), merchantFrom(r.Context()).ID, pathParam(r, "pg"))
	if err != nil {
		h.channelFail(w, r, err)
		return
	}
	writeOK(w, http.StatusOK, newChannelSettingView(&c))
}

func (h *handler) setDefaultChannel(w http.ResponseWriter, r *http.Request, ca channelAdmin) {
	c, err := ca.SetDefaultChannel(r.Context(), merchantFrom(r.Context()).ID, pathParam(r, "pg"))
	if err != nil {
		h.channelFail(w, r, err)
		return
	}
	writeOK(w, http.StatusOK, newChannelSettingView(&c))
}

func (h *handler) channelFail(w http.ResponseWriter, r *http.Request, err error) {
	var ce *merchant.ChannelError
	var up *merchant.UnknownPGError
	switch {
	case errors.As(err, &ce):
		writeError(w, http.StatusBadRequest, -1, ce.Msg)
	case errors.Is(err, merchant.ErrLiveOnDemo):
		writeError(w, http.StatusForbidden, -1, "데모 가맹점에는 라이브 자격 증명을 등록할 수 없습니다. (the demo merchant cannot hold live credentials)")
	case errors.As(err, &up):
		writeError(w, http.StatusNotFound, -1, "요청하신 pg("+up.PG+")에 해당하는 PG 설정정보를 찾을 수 없습니다.")
	default:
		h.fail(w, r, err, opDefault, "")
	}
}
