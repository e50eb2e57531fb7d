package iamport

import (
	"errors"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/billkey/billkey/internal/api/iamport/form"
	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/core"
)

const (
	defaultLimit   = 20
	maxLimit       = 1000
	maxLookupIDs   = 100
	maxStatusRange = 90 * 24 * time.Hour
)

func (h *handler) paymentRoutes(r chi.Router) {
	r.Get("/payments", h.getPayments)
	r.Get("/payments/{imp_uid}", h.getPayment)
	// The status segment is optional: old Node, Python and Ruby clients
	// call both without it.
	r.Get("/payments/find/{merchant_uid}", h.findPayment)
	r.Get("/payments/find/{merchant_uid}/{payment_status}", h.findPayment)
	r.Get("/payments/findAll/{merchant_uid}", h.findAllPayments)
	r.Get("/payments/findAll/{merchant_uid}/{payment_status}", h.findAllPayments)
	r.Get("/payments/status/{payment_status}", h.paymentsByStatus)
	r.Post("/payments/cancel", h.cancel)
	r.Post("/payments/prepare", h.prepare(false))
	r.Put("/payments/prepare", h.prepare(true))
	r.Get("/payments/prepare/{merchant_uid}", h.getPrepared)
}

func (h *handler) getPayment(w http.ResponseWriter, r *http.Request) {
	impUID := pathParam(r, "imp_uid")
	// include_sandbox is deliberately not applied: on a self-hosted gateway
	// most traffic is sandbox, and hiding it would break every client that
	// predates the flag. It is still type-checked.
	p, err := h.readParams(r)
	if err == nil {
		_, _, err = p.Bool("include_sandbox")
	}
	if err != nil {
		h.fail(w, r, err, opLookup, "")
		return
	}
	pay, err := h.svc.GetPayment(r.Context(), merchantFrom(r.Context()).ID, impUID)
	h.writePayment(w, r, pay, err, opLookup, "")
}

// getPayments answers 200 when every id matched, 207 with the matches when
// some did not, 404 when none did.
func (h *handler) getPayments(w http.ResponseWriter, r *http.Request) {
	p, err := h.readParams(r)
	if err != nil {
		h.fail(w, r, err, opLookup, "")
		return
	}
	impUIDs, _, err1 := p.StringOrArray("imp_uid")
	merchantUIDs, _, err2 := p.StringOrArray("merchant_uid")
	if err := errors.Join(err1, err2); err != nil {
		h.fail(w, r, firstErr(err1, err2), opLookup, "")
		return
	}
	impUIDs, merchantUIDs = dedupe(impUIDs), dedupe(merchantUIDs)
	if len(impUIDs)+len(merchantUIDs) > maxListIDs {
		h.fail(w, r, badRequest("imp_uid와 merchant_uid는 합쳐서 한 번에 최대 %d개까지 조회할 수 있습니다.", maxListIDs), opLookup, "")
		return
	}
	if len(impUIDs)+len(merchantUIDs) == 0 {
		h.fail(w, r, badRequest("imp_uid 또는 merchant_uid 파라메터가 누락되었습니다."), opLookup, "")
		return
	}
	if len(impUIDs)+len(merchantUIDs) > maxLookupIDs {
		h.fail(w, r, badRequest("imp_uid, merchant_uid는 합쳐서 최대 %d개까지 조회할 수 있습니다.", maxLookupIDs), opLookup, "")
		return
	}
	pays, missingCount, err := h.svc.GetPayments(r.Context(), merchantFrom(r.Context()).ID, impUIDs, merchantUIDs)
	if err != nil {
		h.fail(w, r, err, opLookup, "")
		return
	}
	if len(pays) == 0 {
		writeError(w, http.StatusNotFound, -1, msgPaymentNotFound)
		return
	}
	status := http.StatusOK
	if missingCount > 0 {
		status = http.StatusMultiStatus
	}
	writeOK(w, status, paymentViews(pays))
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// paymentStatusParam reads the optional {payment_status} segment; "all"
// and absent both mean any status.
func paymentStatusParam(r *http.Request, allowAll bool) (string, error) {
	s := pathParam(r, "payment_status")
	switch s {
	case "", "all":
		if s == "all" && !allowAll {
			break
		}
		return "", nil
	case "ready", "paid", "cancelled", "failed":
		return s, nil
	}
	return "", badRequest(msgBadStatus)
}

var sortings = map[string]bool{"-started": true, "started": true, "-paid": true, "paid": true, "-updated": true, "updated": true}

func readSorting(p form.Params) (string, error) {
	s, _, err := p.String("sorting")
	if err != nil {
		return "", err
	}
	if s == "" {
		return "-started", nil
	}
	if !sortings[s] {
		return "", badRequest("sorting 파라메터는 -started, started, -paid, paid, -updated, updated 중 하나여야 합니다.")
	}
	return s, nil
}

func readPage(p form.Params) (int, error) {
	page, ok, err := p.Int("page")
	if err != nil {
		return 0, err
	}
	if !ok {
		return 1, nil
	}
	if page < 1 {
		return 0, badRequest("page 파라메터는 1 이상이어야 합니다.")
	}
	return page, nil
}

func readLimit(p form.Params) (int, error) {
	limit, ok, err := p.Int("limit")
	if err != nil {
		return 0, err
	}
	if !ok {
		return defaultLimit, nil
	}
	if limit < 1 || limit > maxLimit {
		return 0, badRequest("limit 파라메터는 1 이상 %d 이하여야 합니다.", maxLimit)
	}
	return limit, nil
}

// fillPage makes previous/next right even if the service leaves the
// page bookkeeping to the caller.
func fillPage(pg core.PaymentPage, page, limit int) core.PaymentPage {
	if pg.Page == 0 {
		pg.Page = page
	}
	if pg.Limit == 0 {
		pg.Limit = limit
	}
	return pg
}

func merchantUIDParam(r *http.Request) (string, error) {
	mu := pathParam(r, "merchant_uid")
	if mu == "" {
		return "", missing("merchant_uid")
	}
	if err := identifier("merchant_uid", mu, maxMerchantUID); err != nil {
		return "", err
	}
	return mu, nil
}

func (h *handler) findPayment(w http.ResponseWriter, r *http.Request) {
	mu, err := merchantUIDParam(r)
	var status, sorting string
	var p form.Params
	if err == nil {
		status, err = paymentStatusParam(r, true)
	}
	if err == nil {
		p, err = h.readParams(r)
	}
	if err == nil {
		sorting, err = readSorting(p)
	}
	if err != nil {
		h.fail(w, r, err, opLookup, "")
		return
	}
	pay, err := h.svc.FindPayment(r.Context(), merchantFrom(r.Context()).ID, mu, status, sorting)
	h.writePayment(w, r, pay, err, opLookup, "")
}

func (h *handler) findAllPayments(w http.ResponseWriter, r *http.Request) {
	mu, err := merchantUIDParam(r)
	q := core.PaymentQuery{MerchantUID: mu}
	var p form.Params
	if err == nil {
		q.Status, err = paymentStatusParam(r, true)
	}
	if err == nil {
		p, err = h.readParams(r)
	}
	if err == nil {
		q.Sorting, err = readSorting(p)
	}
	if err == nil {
		q.Page, err = readPage(p)
	}
	if err == nil {
		q.Limit, err = readLimit(p)
	}
	if err != nil {
		h.fail(w, r, err, opLookup, "")
		return
	}
	res, err := h.svc.ListPayments(r.Context(), merchantFrom(r.Context()).ID, q)
	if err != nil {
		h.fail(w, r, err, opLookup, "")
		return
	}
	// Unlike /payments/status, an order with no payments at all is a
	// not-found lookup.
	if res.Total == 0 {
		writeError(w, http.StatusNotFound, -1, msgPaymentNotFound)
		return
	}
	writeOK(w, http.StatusOK, newPagedView(fillPage(res, q.Page, q.Limit)))
}

// statusTimeField is the timestamp /payments/status filters on: the time
// the payment entered the requested status.
var statusTimeField = map[string]string{"": "started", "ready": "started", "paid": "paid", "cancelled": "cancelled", "failed": "failed"}

func (h *handler) paymentsByStatus(w http.ResponseWriter, r *http.Request) {
	if pathParam(r, "payment_status") == "" {
		h.fail(w, r, badRequest(msgBadStatus), opLookup, "")
		return
	}
	status, err := paymentStatusParam(r, true)
	q := core.PaymentQuery{Status: status, TimeField: statusTimeField[status]}
	var p form.Params
	if err == nil {
		p, err = h.readParams(r)
	}
	if err == nil {
		q.Sorting, err = readSorting(p)
	}
	if err == nil {
		q.Page, err = readPage(p)
	}
	if err == nil {
		q.Limit, err = readLimit(p)
	}
	if err == nil {
		q.From, q.To, err = h.statusWindow(merchantFrom(r.Context()).ID, p)
	}
	if err != nil {
		h.fail(w, r, err, opLookup, "")
		return
	}
	res, err := h.svc.ListPayments(r.Context(), merchantFrom(r.Context()).ID, q)
	if err != nil {
		h.fail(w, r, err, opLookup, "")
		return
	}
	writeOK(w, http.StatusOK, newPagedView(fillPage(res, q.Page, q.Limit)))
}

// statusWindow applies the V1 defaults (to = now, from = to - 90 days) and
// the 90-day cap, which keeps the scan bounded.
func (h *handler) statusWindow(merchantID int64, p form.Params) (from, to time.Time, err error) {
	f, hasFrom, err := p.Int64("from")
	if err != nil {
		return
	}
	t, hasTo, err := p.Int64("to")
	if err != nil {
		return
	}
	// The window's end is exclusive and V1 times are whole seconds: the
	// default takes in the current second, so a payment made this very
	// second is listed.
	to = clock.For(h.clock, merchantID).Truncate(time.Second).Add(time.Second)
	if hasTo {
		to = time.Unix(t, 0)
	}
	from = to.Add(-maxStatusRange)
	if hasFrom {
		from = time.Unix(f, 0)
	}
	if !from.Before(to) {
		return time.Time{}, time.Time{}, badRequest("from 파라메터는 to 보다 이전 시각이어야 합니다.")
	}
	if to.Sub(from) > maxStatusRange {
		return time.Time{}, time.Time{}, badRequest("조회 기간(from ~ to)은 최대 90일까지 지정할 수 있습니다.")
	}
	return from, to, nil
}

func (h *handler) cancel(w http.ResponseWriter, r *http.Request) {
	p, err := h.readParams(r)
	if err != nil {
		h.fail(w, r, err, opCancel, "")
		return
	}
	rd := reader{p: p}
	in := charge.CancelInput{
		ImpUID:      rd.str("imp_uid", 32),
		MerchantUID: rd.ident("merchant_uid", maxMerchantUID),
		Reason:      rd.str("reason", 0),
	}
	in.EnableWebhook = rd.bool("enable_webhook")
	// Accepted and type-checked; virtual-account refunds, promotions and
	// naverpay extras have no meaning for card payments.
	for _, k := range []string{"refund_holder", "refund_bank", "refund_account", "refund_tel"} {
		rd.str(k, 0)
	}
	rd.bool("retain_promotion")
	rd.bool("escrow_confirmed")
	if _, _, err := p.Object("extra"); err != nil {
		if _, _, err2 := p.StringOrArray("extra"); err2 != nil {
			rd.setErr(err)
		}
	}
	if rd.err == nil && in.ImpUID == "" && in.MerchantUID == "" {
		rd.setErr(badRequest(msgNoUID))
	}
	if rd.err != nil {
		h.fail(w, r, rd.err, opCancel, "")
		return
	}
	ctx, mid := r.Context(), merchantFrom(r.Context()).ID
	if p.Has("amount") || p.Has("tax_free") || p.Has("checksum") || p.Has("vat_amount") {
		cur, err := h.cancelCurrency(r, mid, in)
		if err != nil {
			h.fail(w, r, err, opCancel, "")
			return
		}
		if v, ok := rd.amount("amount", cur); ok && v > 0 {
			in.Amount = &v
		}
		in.TaxFree, _ = rd.amount("tax_free", cur)
		if v, ok := rd.amount("checksum", cur); ok {
			in.Checksum = &v
		}
		rd.amount("vat_amount", cur)
		if rd.err != nil {
			h.fail(w, r, rd.err, opCancel, "")
			return
		}
	}
	pay, err := h.svc.Cancel(ctx, mid, in)
	h.writePayment(w, r, pay, err, opCancel, "")
}

// cancelCurrency finds the currency the cancel amounts are in: V1 sends
// them as bare decimals and charge.CancelInput wants minor units. imp_uid
// wins over merchant_uid, as in the service.
func (h *handler) cancelCurrency(r *http.Request, mid int64, in charge.CancelInput) (string, error) {
	var pay *core.Payment
	var err error
	if in.ImpUID != "" {
		pay, err = h.svc.GetPayment(r.Context(), mid, in.ImpUID)
	} else {
		pay, err = h.svc.FindPayment(r.Context(), mid, in.MerchantUID, "paid", "")
		if errors.Is(err, charge.ErrPaymentNotFound) {
			// A partly refunded payment is "cancelled" in V1 but still
			// has a balance.
			pay, err = h.svc.FindPayment(r.Context(), mid, in.MerchantUID, "cancelled", "")
		}
	}
	if err != nil {
		return "", err
	}
	if pay == nil || pay.Currency == "" {
		return "KRW", nil
	}
	return pay.Currency, nil
}

func (h *handler) prepare(update bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := h.readParams(r)
		if err != nil {
			h.fail(w, r, err, opPrepare, "")
			return
		}
		rd := reader{p: p}
		mu := rd.requiredIdent("merchant_uid", maxMerchantUID)
		cur := rd.currency()
		amount, ok := rd.amount("amount", cur)
		if !ok && rd.err == nil {
			rd.setErr(missing("amount"))
		}
		if rd.err != nil {
			h.fail(w, r, rd.err, opPrepare, "")
			return
		}
		pr, err := h.svc.Prepare(r.Context(), merchantFrom(r.Context()).ID, mu, amount, cur, update)
		if err != nil {
			h.fail(w, r, err, opPrepare, "")
			return
		}
		if pr == nil {
			h.fail(w, r, errNilResult, opPrepare, "")
			return
		}
		writeOK(w, http.StatusOK, newPreparedView(pr))
	}
}

func (h *handler) getPrepared(w http.ResponseWriter, r *http.Request) {
	mu, err := merchantUIDParam(r)
	if err != nil {
		h.fail(w, r, err, opPrepare, "")
		return
	}
	pr, err := h.svc.GetPrepared(r.Context(), merchantFrom(r.Context()).ID, mu)
	if err != nil {
		h.fail(w, r, err, opPrepare, "")
		return
	}
	if pr == nil {
		h.fail(w, r, errNilResult, opPrepare, "")
		return
	}
	writeOK(w, http.StatusOK, newPreparedView(pr))
}
