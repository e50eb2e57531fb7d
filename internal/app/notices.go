package app

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/billkey/billkey/internal/pg/iamport"
	"github.com/billkey/billkey/internal/pg/router"
)

// IAMPortNoticePath is where an upstream PortOne account's notice_url
// points; mid is the merchant's iamport channel.
const IAMPortNoticePath = "/pg/iamport/notice/{merchant_code}/{mid}"

// iamportNotices verifies an upstream notification by looking the payment
// up at the upstream, then hands the attempt to the reconciler (which looks
// it up again and settles it). A notice never settles anything by itself;
// anything it names that is not ours, or not unknown here, is ignored.
func (a *App) iamportNotices(rt *router.Router) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, mid := r.PathValue("merchant_code"), r.PathValue("mid")
		var n iamport.Notice
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			_ = json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&n)
		} else if r.ParseForm() == nil {
			n = iamport.Notice{ImpUID: r.PostForm.Get("imp_uid"), MerchantUID: r.PostForm.Get("merchant_uid"), Status: r.PostForm.Get("status")}
		}
		m, err := a.Store.MerchantByCode(r.Context(), code)
		if err != nil || n.ImpUID == "" {
			http.NotFound(w, r)
			return
		}
		key, _, err := rt.VerifyIAMPortNotice(r.Context(), m.ID, mid, n)
		if err != nil {
			a.Log.Warn("upstream i'mport notice not verified", "merchant", code, "imp_uid", n.ImpUID, "err", err)
			http.Error(w, "not verified", http.StatusBadRequest)
			return
		}
		if _, err := a.Store.ExpediteCheck(r.Context(), m.ID, key, a.Config.Clock.Now()); err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("OK"))
	})
}
