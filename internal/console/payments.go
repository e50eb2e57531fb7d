package console

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/store"
)

// filter is the payment list's query string, parsed.
type filter struct {
	Status, MerchantUID, CustomerUID, PG, Min, Max, From, To string
	search                                                   store.PaymentSearch
}

var statusOptions = []struct{ Value, Label string }{
	{"", "전체 all"}, {"paid", "결제완료 paid"}, {"failed", "실패 failed"}, {"cancelled", "취소 cancelled"}, {"ready", "미결제·확인 중 ready"},
}

func (h *Handler) parseFilter(q *req, loc *time.Location) (filter, bool) {
	v := q.URL.Query()
	f := filter{Status: v.Get("status"), MerchantUID: strings.TrimSpace(v.Get("merchant_uid")), CustomerUID: strings.TrimSpace(v.Get("customer_uid")),
		PG: v.Get("pg"), Min: v.Get("min"), Max: v.Get("max"), From: v.Get("from"), To: v.Get("to")}
	s := &f.search
	ok := true
	switch f.Status {
	case "", "paid", "failed", "cancelled", "ready":
		s.Status = core.PaymentStatus(f.Status)
	default:
		ok = false
	}
	s.MerchantUID, s.CustomerUID, s.PGProvider = f.MerchantUID, f.CustomerUID, f.PG
	if strings.HasPrefix(f.MerchantUID, "imp_") {
		// An imp_uid pasted into the search box finds that payment.
		s.MerchantUID, s.ImpUID = "", f.MerchantUID
	}
	num := func(text string, dst *int64) {
		if text == "" {
			return
		}
		n, err := strconv.ParseInt(strings.ReplaceAll(text, ",", ""), 10, 64)
		if err != nil || n < 0 {
			ok = false
			return
		}
		*dst = n
	}
	num(f.Min, &s.MinAmount)
	num(f.Max, &s.MaxAmount)
	date := func(text string, dst *time.Time, plus int) {
		if text == "" {
			return
		}
		d, err := time.ParseInLocation("2006-01-02", text, loc)
		if err != nil {
			ok = false
			return
		}
		*dst = d.AddDate(0, 0, plus)
	}
	date(f.From, &s.From, 0)
	date(f.To, &s.To, 1) // the "to" day is included
	s.Page, _ = strconv.Atoi(v.Get("page"))
	return f, ok
}

// query renders the filter back into a query string, for paging and export links.
func (f filter) query(page int) string {
	v := url.Values{}
	for k, val := range map[string]string{"status": f.Status, "merchant_uid": f.MerchantUID, "customer_uid": f.CustomerUID, "pg": f.PG,
		"min": f.Min, "max": f.Max, "from": f.From, "to": f.To} {
		if val != "" {
			v.Set(k, val)
		}
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	return v.Encode()
}

type paymentsData struct {
	Filter   filter
	Statuses any
	PGs      []string
	Page     core.PaymentPage
	Prev     string
	Next     string
	CSV      string
	Pages    int
}

func (h *Handler) payments(w http.ResponseWriter, q *req) {
	p := h.base(q, "payments", "결제 내역", "Payments")
	f, ok := h.parseFilter(q, p.loc)
	if !ok {
		p.Error = notices["invalid"]
	}
	f.search.Limit = 20
	pg, err := h.o.Store.SearchPayments(q.Context(), q.merchant.ID, f.search)
	if err != nil {
		h.serverError(w, q.Request, err)
		return
	}
	d := paymentsData{Filter: f, Statuses: statusOptions, Page: pg, CSV: "/console/payments.csv?" + f.query(0)}
	if pg.Previous() > 0 {
		d.Prev = "?" + f.query(pg.Previous())
	}
	if pg.Next() > 0 {
		d.Next = "?" + f.query(pg.Next())
	}
	d.Pages = (pg.Total + pg.Limit - 1) / max(pg.Limit, 1)
	if chs, err := h.o.Merchants.Channels(q.Context(), q.merchant.ID); err == nil {
		seen := map[string]bool{}
		for _, c := range chs {
			if !seen[c.Provider] {
				seen[c.Provider] = true
				d.PGs = append(d.PGs, c.Provider)
			}
		}
		sort.Strings(d.PGs)
	}
	p.Data = d
	h.render(w, q.Request, http.StatusOK, "payments", p)
}

// csvCell keeps spreadsheet programs from running a cell as a formula.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// maxExport bounds one CSV export.
const maxExport = 50_000

func (h *Handler) paymentsCSV(w http.ResponseWriter, q *req) {
	loc, err := time.LoadLocation(q.merchant.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	f, ok := h.parseFilter(q, loc)
	if !ok {
		http.Error(w, "invalid filter", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="payments-%s.csv"`, h.o.Clock.Now().In(loc).Format("20060102-150405")))
	w.Write([]byte("\xef\xbb\xbf")) // BOM: Excel then reads the Korean text as UTF-8
	cw := csv.NewWriter(w)
	cw.Write([]string{"imp_uid", "merchant_uid", "status", "amount", "cancel_amount", "currency", "name", "pg_provider", "pay_method",
		"card_name", "card_number", "customer_uid", "buyer_name", "started_at", "paid_at", "failed_at", "cancelled_at", "fail_reason"})
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format(time.RFC3339)
	}
	f.search.Limit = 500
	written := 0
	for page := 1; written < maxExport; page++ {
		f.search.Page = page
		pg, err := h.o.Store.SearchPayments(q.Context(), q.merchant.ID, f.search)
		if err != nil {
			h.log.Error("console: export", "err", err)
			return
		}
		for _, p := range pg.Payments {
			cw.Write([]string{p.ImpUID, csvCell(p.MerchantUID), string(p.Status), strconv.FormatInt(p.Amount, 10), strconv.FormatInt(p.CancelAmount, 10),
				p.Currency, csvCell(p.Name), p.PGProvider, p.PayMethod, csvCell(p.CardName), p.CardNumber, csvCell(p.CustomerUID), csvCell(p.Buyer.Name),
				ts(p.StartedAt), ts(p.PaidAt), ts(p.FailedAt), ts(p.CancelledAt), csvCell(p.FailReason)})
			written++
		}
		if pg.Next() == 0 {
			break
		}
	}
	cw.Flush()
	h.audit(q.Context(), q.actor(), "export_payments", f.query(0), strconv.Itoa(written)+" rows")
}

// event is one line of a payment's timeline.
type event struct {
	At     time.Time
	Kind   string // css class: ok, bad, warn, info
	Title  string
	Detail string
	Sub    []string
}

type paymentData struct {
	P          *core.Payment
	Refundable int64
	Timeline   []event
	Attempts   []core.Payment
}

func (h *Handler) payment(w http.ResponseWriter, q *req) {
	ctx := q.Context()
	pay, err := h.o.Payments.GetPayment(ctx, q.merchant.ID, q.PathValue("imp_uid"))
	if err != nil {
		if errors.Is(err, charge.ErrPaymentNotFound) || errors.Is(err, core.ErrNotFound) {
			h.message(w, q.Request, http.StatusNotFound, "결제를 찾을 수 없습니다", "No such payment for this merchant.")
			return
		}
		h.serverError(w, q.Request, err)
		return
	}
	p := h.base(q, "payments", "결제 "+pay.MerchantUID, "Payment "+pay.ImpUID)
	d := paymentData{P: pay}
	if pay.Status == core.StatusPaid || pay.Status == core.StatusCancelled {
		d.Refundable = pay.Amount - pay.CancelAmount
		for _, c := range pay.Cancels {
			if c.Status == core.CancelPending {
				d.Refundable -= c.Amount
			}
		}
	}
	attempts, err := h.o.Payments.ListPayments(ctx, q.merchant.ID, core.PaymentQuery{MerchantUID: pay.MerchantUID, Sorting: "started", Limit: 100})
	if err != nil {
		h.serverError(w, q.Request, err)
		return
	}
	d.Attempts = attempts.Payments
	for i := range attempts.Payments {
		a := &attempts.Payments[i]
		d.Timeline = append(d.Timeline, attemptEvents(a, p)...)
	}
	for _, c := range pay.Cancels {
		e := event{At: c.CreatedAt, Title: "환불 요청 refund " + formatAmount(c.Amount, pay.Currency), Detail: c.Reason}
		switch c.Status {
		case core.CancelDone:
			e.Kind, e.Title = "warn", "환불 완료 refunded "+formatAmount(c.Amount, pay.Currency)
			if !c.CancelledAt.IsZero() {
				e.At = c.CancelledAt
			}
			e.Sub = append(e.Sub, "cancellation_id "+c.ID, "pg_tid "+c.PGTID)
		case core.CancelFailed:
			e.Kind, e.Title = "bad", "환불 거절 refund refused by the PG "+formatAmount(c.Amount, pay.Currency)
		default:
			e.Kind, e.Title = "info", "환불 확인 중 refund outcome being confirmed "+formatAmount(c.Amount, pay.Currency)
		}
		d.Timeline = append(d.Timeline, e)
	}
	for _, a := range d.Attempts {
		evs, err := h.o.Webhooks.Events(ctx, q.merchant.ID, store.EventFilter{ImpUID: a.ImpUID, Limit: 50})
		if err != nil {
			h.serverError(w, q.Request, err)
			return
		}
		for _, ev := range evs {
			e := event{At: time.Unix(ev.CreatedAt, 0), Kind: "info", Title: "웹훅 webhook " + ev.Type + " · " + ev.Status,
				Detail: "event " + ev.ID}
			atts, err := h.o.Webhooks.Attempts(ctx, q.merchant.ID, ev.ID)
			if err != nil {
				h.serverError(w, q.Request, err)
				return
			}
			for _, at := range atts {
				e.Sub = append(e.Sub, attemptLine(at.AttemptNo, at.StatusCode, at.LatencyMS, at.Error, p.T(time.Unix(at.CreatedAt, 0))))
			}
			if ev.Status == "failed" {
				e.Kind = "bad"
			}
			d.Timeline = append(d.Timeline, e)
		}
	}
	sort.SliceStable(d.Timeline, func(i, j int) bool { return d.Timeline[i].At.Before(d.Timeline[j].At) })
	p.Data = d
	h.render(w, q.Request, http.StatusOK, "payment", p)
}

func attemptLine(no, status int, latencyMS int64, errText, at string) string {
	s := fmt.Sprintf("#%d %s · ", no, at)
	if status > 0 {
		s += fmt.Sprintf("HTTP %d", status)
	} else {
		s += "응답 없음 no response"
	}
	s += fmt.Sprintf(" · %d ms", latencyMS)
	if errText != "" {
		s += " · " + errText
	}
	return s
}

// attemptEvents tells one charge attempt: started, what the PG answered,
// and whether the outcome was unknown until the reconciler looked it up.
func attemptEvents(a *core.Payment, p *page) []event {
	out := []event{{At: a.StartedAt, Kind: "info", Title: "결제 시도 attempt " + a.ImpUID,
		Detail: fmt.Sprintf("%s · %s · %s · %s", a.PGProvider, a.PayMethod, a.Channel, formatAmount(a.Amount, a.Currency))}}
	if a.CustomerUID != "" {
		out[0].Sub = append(out[0].Sub, "customer_uid "+a.CustomerUID+" ("+a.CustomerUIDUsage+")")
	}
	reconciled := wentUnknown(a)
	switch {
	case !a.PaidAt.IsZero():
		e := event{At: a.PaidAt, Kind: "ok", Title: "PG 승인 approved", Detail: "승인번호 apply_num " + a.ApplyNum + " · pg_tid " + a.PGTID}
		if a.CardNumber != "" {
			e.Sub = append(e.Sub, a.CardName+" "+a.CardNumber)
		}
		if reconciled {
			e.Sub = append(e.Sub, "PG 응답이 없어 결과 불명 → 조회로 승인 확인 · outcome unknown → reconciled: the look-up found the approval")
		}
		out = append(out, e)
	case !a.FailedAt.IsZero():
		e := event{At: a.FailedAt, Kind: "bad", Title: "실패 failed", Detail: a.FailReason}
		if reconciled {
			e.Sub = append(e.Sub, "PG 응답이 없어 결과 불명 → 조회로 실패 확인 · outcome unknown → reconciled as failed by look-up")
		}
		out = append(out, e)
	case a.Status == core.StatusUnknown || a.Status == core.StatusPending:
		e := event{At: a.UpdatedAt, Kind: "warn", Title: "결과 확인 중 outcome unknown",
			Detail: "PG 응답이 없어 조회로 확인합니다. 이 주문은 그동안 다시 결제되지 않습니다. · The PG did not answer; the reconciler looks it up, nothing is charged again meanwhile."}
		if !a.NextCheckAt.IsZero() {
			e.Sub = append(e.Sub, "다음 조회 next look-up "+p.T(a.NextCheckAt))
		}
		out = append(out, e)
	}
	return out
}

// wentUnknown tells an attempt whose outcome the reconciler settled from one
// the PG answered at once. The store keeps no history, but it keeps the
// look-up bookkeeping: an attempt answered at once still has its next check
// at its deadline, as recorded when it began; an unknown or abandoned one was
// given an earlier look-up (and a lease) by the reconciler, or counted checks.
func wentUnknown(a *core.Payment) bool {
	if a.Status.Unresolved() {
		return false
	}
	return a.Checks > 0 || (!a.NextCheckAt.IsZero() && !a.AttemptDeadline.IsZero() && !a.NextCheckAt.Equal(a.AttemptDeadline))
}

func (h *Handler) refund(w http.ResponseWriter, q *req) {
	impUID := q.PathValue("imp_uid")
	back := "/console/payments/" + url.PathEscape(impUID)
	reason := strings.TrimSpace(q.PostFormValue("reason"))
	if reason == "" || len(reason) > 500 {
		http.Redirect(w, q.Request, back+"?err=no_reason#refund", http.StatusSeeOther)
		return
	}
	// The merchant's system learns of a console refund like of any other.
	in := charge.CancelInput{ImpUID: impUID, Reason: reason, EnableWebhook: true}
	if text := strings.ReplaceAll(strings.TrimSpace(q.PostFormValue("amount")), ",", ""); text != "" {
		pay, err := h.o.Payments.GetPayment(q.Context(), q.merchant.ID, impUID)
		if err != nil {
			http.Redirect(w, q.Request, back+"?err=not_found", http.StatusSeeOther)
			return
		}
		// Typed as people write money ("10.50" USD), stored in minor units.
		n, err := core.ParseAmount(text, pay.Currency)
		if err != nil || n <= 0 {
			http.Redirect(w, q.Request, back+"?err=invalid_amount#refund", http.StatusSeeOther)
			return
		}
		in.Amount = &n
	}
	// The balance the operator saw: a form submitted twice, or after
	// someone else refunded, is refused instead of refunding again.
	if text := q.PostFormValue("checksum"); text != "" {
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			http.Redirect(w, q.Request, back+"?err=invalid#refund", http.StatusSeeOther)
			return
		}
		in.Checksum = &n
	}
	p, err := h.o.Payments.Cancel(q.Context(), q.merchant.ID, in)
	var refused *charge.PGRefusedError
	code := ""
	switch {
	case err == nil:
	case errors.Is(err, charge.ErrChecksumMismatch):
		code = "stale"
	case errors.Is(err, charge.ErrCancelExceeds):
		code = "exceeds"
	case errors.Is(err, charge.ErrNothingToCancel):
		code = "not_refundable"
	case errors.Is(err, charge.ErrPaymentNotFound), errors.Is(err, core.ErrNotFound):
		code = "not_found"
	case errors.Is(err, charge.ErrCancelUnknown):
		code = "pg_unknown"
	case errors.As(err, &refused):
		code = "pg_refused"
	default:
		var ve *charge.ValidationError
		if errors.As(err, &ve) {
			code = "invalid"
			break
		}
		h.serverError(w, q.Request, err)
		return
	}
	amount := "full"
	if in.Amount != nil {
		amount = strconv.FormatInt(*in.Amount, 10)
	}
	if code != "" {
		h.audit(q.Context(), q.actor(), "refund_refused", impUID, amount+" · "+code+" · "+reason)
		http.Redirect(w, q.Request, back+"?err="+code+"#refund", http.StatusSeeOther)
		return
	}
	h.audit(q.Context(), q.actor(), "refund", impUID, fmt.Sprintf("%s · cancel_amount %d · %s", amount, p.CancelAmount, reason))
	http.Redirect(w, q.Request, back+"?ok=refunded#timeline", http.StatusSeeOther)
}
