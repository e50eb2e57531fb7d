package iamport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/billkey/billkey/internal/api/iamport/form"
	"github.com/billkey/billkey/internal/api/iamport/view"
	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/scheduler"
)

// Schedules is the scheduled-payment service (*scheduler.Scheduler). It is
// optional: without it the schedule endpoints do not exist (404).
type Schedules interface {
	Schedule(ctx context.Context, merchantID int64, b scheduler.Booking) ([]core.Schedule, error)
	Unschedule(ctx context.Context, merchantID int64, customerUID string, merchantUIDs []string) ([]core.Schedule, error)
	Get(ctx context.Context, merchantID int64, merchantUID string) (*core.Schedule, error)
	Update(ctx context.Context, merchantID int64, merchantUID string, at time.Time) (*core.Schedule, error)
	Reschedule(ctx context.Context, merchantID int64, merchantUID string, at time.Time) (*core.Schedule, error)
	Retry(ctx context.Context, merchantID int64, merchantUID string) (*core.Payment, error)
	List(ctx context.Context, merchantID int64, q core.ScheduleQuery) (core.SchedulePage, error)
}

var _ Schedules = (*scheduler.Scheduler)(nil)

type scheduleHandler struct {
	*handler
	sched Schedules
}

// scheduleRoutes returns the schedule area for the route list; nil sched
// registers nothing.
func (h *handler) scheduleRoutes(sched Schedules) func(chi.Router) {
	return func(r chi.Router) {
		if sched == nil {
			return
		}
		sh := &scheduleHandler{handler: h, sched: sched}
		r.Post("/subscribe/payments/schedule", sh.schedule)
		r.Get("/subscribe/payments/schedule", sh.list)
		r.Post("/subscribe/payments/unschedule", sh.unschedule)
		r.Get("/subscribe/payments/schedule/{merchant_uid}", sh.get)
		r.Put("/subscribe/payments/schedule/{merchant_uid}", sh.update)
		r.Post("/subscribe/payments/schedule/{merchant_uid}/reschedule", sh.reschedule)
		r.Post("/subscribe/payments/schedule/{merchant_uid}/retry", sh.retry)
		// Two spellings of the same list (§3.6); chi prefers the static
		// "customers" segment over {merchant_uid}.
		r.Get("/subscribe/payments/schedule/customers/{customer_uid}", sh.customerList)
		r.Get("/subscribe/customers/{customer_uid}/schedules", sh.customerList)
	}
}

// Messages for schedule failures. The first two are observed verbatim; the
// rest follow the spec's descriptions.
const (
	msgScheduleNoCustomer  = "등록된 고객정보가 없습니다."
	msgNothingToUnschedule = "취소할 예약결제 기록이 존재하지 않습니다."
	msgCardCheckFailed     = "카드정보 확인에 실패하였습니다."
	msgScheduleNotFound    = "존재하지 않는 결제예약입니다."
	msgScheduleExists      = "이미 결제예약된 merchant_uid입니다. 동일한 주문번호로 중복 예약할 수 없습니다. (%s)"
	msgScheduleInPast      = "예약시각(schedule_at)이 현재 시각보다 과거입니다."
	msgScheduleWindow      = "조회 기간은 최대 3개월까지 지정할 수 있습니다."
	msgScheduleRange       = "조회 종료시각(to)은 시작시각(from)보다 커야 합니다."
	msgUpdateState         = "이미 실행되었거나 실행 중이거나 취소된 결제예약은 변경할 수 없습니다."
	msgRescheduleState     = "결제에 실패했거나 취소된 결제예약만 재예약할 수 있습니다. (아직 실행되지 않았거나 실행 중이거나 승인된 결제예약)"
	msgRetryState          = "결제에 실패했거나 취소된 결제예약만 재시도할 수 있습니다. (아직 실행되지 않았거나 실행 중이거나 승인된 결제예약)"
	msgRetryNoKey          = "존재하지 않는 결제예약 혹은 빌링키입니다."
)

// scheduleOp says which schedule endpoint failed.
type scheduleOp int

const (
	sopBook scheduleOp = iota
	sopUnschedule
	sopLookup
	sopUpdate
	sopReschedule
	sopRetry
)

// scheduleError decides schedule-specific responses and leaves the rest
// to mapError.
func scheduleError(err error, o scheduleOp) error {
	var (
		se  *scheduler.StateError
		ex  *scheduler.ExistsError
		cf  *scheduler.CheckFailedError
		ve  *charge.ValidationError
		ic  *charge.InvalidCardError
		pr  *charge.PGRefusedError
		dup *charge.DuplicateOrderError
	)
	ok200 := func(code int, msg string) *apiError {
		return &apiError{Status: http.StatusOK, Code: code, Message: msg}
	}
	switch {
	case errors.Is(err, scheduler.ErrNotFound):
		return &apiError{Status: http.StatusNotFound, Code: -1, Message: msgScheduleNotFound}
	case errors.Is(err, scheduler.ErrNothingToRevoke):
		return ok200(1, msgNothingToUnschedule)
	case errors.As(err, &se):
		msg := msgUpdateState
		switch se.Op {
		case "reschedule":
			msg = msgRescheduleState
		case "retry":
			msg = msgRetryState
		}
		return badRequest("%s", msg)
	case errors.As(err, &ex):
		if ex.Paid {
			return ok200(1, msgDuplicateOrder)
		}
		return ok200(1, fmt.Sprintf(msgScheduleExists, ex.MerchantUID))
	case errors.As(err, &cf):
		return ok200(1, join(msgCardCheckFailed, cf.Reason))
	case errors.As(err, &ve) && ve.Reason == "in the past":
		return badRequest("%s", msgScheduleInPast)
	case errors.As(err, &ve) && ve.Reason == "window longer than 3 months":
		return badRequest("%s", msgScheduleWindow)
	case errors.Is(err, charge.ErrCustomerNotFound):
		switch o {
		case sopBook:
			return ok200(1, msgScheduleNoCustomer)
		case sopRetry, sopReschedule:
			return &apiError{Status: http.StatusNotFound, Code: 1, Message: msgRetryNoKey}
		}
	case o == sopBook && errors.As(err, &ic):
		return ok200(1, join(msgCardCheckFailed, strings.TrimPrefix(invalidCardMessage(ic.Reason), "카드정보 인증에 실패하였습니다. ")))
	case o == sopBook && errors.As(err, &pr) && pr.Stage == "issue":
		return ok200(1, join(msgCardCheckFailed, pgText(pr.Err)))
	case o == sopRetry && errors.As(err, &dup):
		// The order was paid meanwhile: nothing to retry.
		return badRequest("%s", msgRetryState)
	}
	return err
}

func (sh *scheduleHandler) failSchedule(w http.ResponseWriter, r *http.Request, err error, o scheduleOp, subject string) {
	op := opDefault
	if o == sopBook {
		op = opAgain
	}
	sh.fail(w, r, scheduleError(err, o), op, subject)
}

// scheduleView is ScheduleResultAnnotation with every key. customer_uid is
// never null: the Java client's adapter calls getAsString() on it.
type scheduleView struct {
	CustomerUID    string          `json:"customer_uid"`
	MerchantUID    string          `json:"merchant_uid"`
	ImpUID         *string         `json:"imp_uid"`
	PGProvider     *string         `json:"pg_provider"`
	PGID           *string         `json:"pg_id"`
	CustomerID     *string         `json:"customer_id"`
	ScheduleAt     int64           `json:"schedule_at"`
	ExecutedAt     int64           `json:"executed_at"`
	RevokedAt      int64           `json:"revoked_at"`
	Amount         json.RawMessage `json:"amount"`
	Currency       string          `json:"currency"`
	Name           *string         `json:"name"`
	BuyerName      *string         `json:"buyer_name"`
	BuyerEmail     *string         `json:"buyer_email"`
	BuyerTel       *string         `json:"buyer_tel"`
	BuyerAddr      *string         `json:"buyer_addr"`
	BuyerPostcode  *string         `json:"buyer_postcode"`
	CustomData     *string         `json:"custom_data"`
	ScheduleStatus string          `json:"schedule_status"`
	PaymentStatus  *string         `json:"payment_status"`
	FailReason     *string         `json:"fail_reason"`
	PromotionID    *string         `json:"promotion_id"`
}

func newScheduleView(sc *core.Schedule) scheduleView {
	cur := sc.Currency
	if cur == "" {
		cur = "KRW"
	}
	v := scheduleView{
		CustomerUID: sc.CustomerUID, MerchantUID: sc.MerchantUID, ImpUID: view.Str(sc.ImpUID),
		PGProvider: view.Str(sc.PGProvider), PGID: view.Str(sc.PGID), CustomerID: view.Str(sc.CustomerID),
		ScheduleAt: view.Unix(sc.ScheduleAt), ExecutedAt: view.Unix(sc.ExecutedAt), RevokedAt: view.Unix(sc.RevokedAt),
		Amount: amountJSON(sc.Amount, cur), Currency: cur, Name: view.Str(sc.Name),
		BuyerName: view.Str(sc.Buyer.Name), BuyerEmail: view.Str(sc.Buyer.Email), BuyerTel: view.Str(sc.Buyer.Tel),
		BuyerAddr: view.Str(sc.Buyer.Addr), BuyerPostcode: view.Str(sc.Buyer.Postcode), CustomData: sc.CustomData,
		ScheduleStatus: string(sc.Status), FailReason: view.Str(sc.FailReason), PromotionID: view.Str(sc.PromotionID),
	}
	switch sc.Status {
	case core.ScheduleExecuting:
		// Running or outcome unknown: not finished, so still "scheduled" to
		// V1, with the attempt's imp_uid and no payment status yet.
		v.ScheduleStatus = string(core.ScheduleScheduled)
	case core.ScheduleExecuted:
		v.PaymentStatus = view.Str(string(sc.PaymentStatus))
	}
	return v
}

func scheduleViews(list []core.Schedule) []scheduleView {
	out := make([]scheduleView, 0, len(list))
	for i := range list {
		out = append(out, newScheduleView(&list[i]))
	}
	return out
}

// readScheduleAt reads a required UNIX-seconds timestamp, at most
// scheduleHorizon after now (a past one is the scheduler's to refuse).
func readScheduleAt(rd *reader, key string, now time.Time) time.Time {
	v, ok, err := rd.p.Int64(key)
	rd.setErr(err)
	if !ok && rd.err == nil {
		rd.setErr(missing(key))
	}
	if v <= 0 {
		return time.Time{}
	}
	if v > now.Add(scheduleHorizon).Unix() {
		rd.setErr(badRequest("%s는 현재로부터 5년 이내여야 합니다.", key))
		return time.Time{}
	}
	return time.Unix(v, 0)
}

func (sh *scheduleHandler) schedule(w http.ResponseWriter, r *http.Request) {
	p, err := sh.readParams(r)
	if err != nil {
		sh.failSchedule(w, r, err, sopBook, "")
		return
	}
	rd := reader{p: p}
	b := scheduler.Booking{
		CustomerUID: rd.requiredIdent("customer_uid", maxCustomerUID),
		CustomerID:  rd.str("customer_id", 0),
		PG:          rd.str("pg", 80),
	}
	if n, ok, err := p.Int64("checking_amount"); err != nil {
		rd.setErr(err)
	} else if ok {
		b.CheckingAmount = n
	}
	if num := normalizeCardNumber(rd.str("card_number", 0)); num != "" {
		b.Card = &pg.Card{
			Number: num, Expiry: rd.str("expiry", 0), Birth: rd.str("birth", 10),
			Pwd2Digit: rd.str("pwd_2digit", 2), CVC: rd.str("cvc", 4),
		}
	}
	rd.str("channel_key", 55)
	entries, ok, err := p.Objects("schedules")
	rd.setErr(err)
	if !ok && rd.err == nil {
		rd.setErr(missing("schedules"))
	}
	if len(entries) > maxBookingEntries {
		rd.setErr(badRequest("schedules는 한 번에 최대 %d건까지 예약할 수 있습니다.", maxBookingEntries))
		entries = nil
	}
	now := clock.For(sh.clock, merchantFrom(r.Context()).ID)
	for _, ep := range entries {
		if rd.err != nil {
			break
		}
		erd := reader{p: ep}
		in := readPayInput(&erd)
		at := readScheduleAt(&erd, "schedule_at", now)
		promo := erd.str("promotion_id", 0)
		if ct := erd.str("cash_receipt_type", 0); ct != "" && ct != "person" && ct != "company" && ct != "anonymous" {
			erd.setErr(badRequest("cash_receipt_type 파라메터는 person, company, anonymous 중 하나여야 합니다."))
		}
		erd.str("bypass", 0)
		if _, _, err := ep.Object("extra"); err != nil {
			erd.setErr(err)
		}
		rd.setErr(erd.err)
		b.Entries = append(b.Entries, scheduler.Entry{
			MerchantUID: in.MerchantUID, ScheduleAt: at, Amount: in.Amount, Currency: in.Currency, TaxFree: in.TaxFree,
			VatAmount: in.VatAmount, Name: in.Name, Buyer: in.Buyer, CustomData: in.CustomData, NoticeURL: in.NoticeURL,
			CardQuota: in.CardQuota, PromotionID: promo,
		})
	}
	if rd.err == nil && ok && len(entries) == 0 {
		rd.setErr(missing("schedules"))
	}
	if rd.err != nil {
		sh.failSchedule(w, r, rd.err, sopBook, b.CustomerUID)
		return
	}
	list, err := sh.sched.Schedule(r.Context(), merchantFrom(r.Context()).ID, b)
	if err != nil {
		sh.failSchedule(w, r, err, sopBook, b.CustomerUID)
		return
	}
	writeOK(w, http.StatusOK, scheduleViews(list))
}

func (sh *scheduleHandler) unschedule(w http.ResponseWriter, r *http.Request) {
	p, err := sh.readParams(r)
	if err != nil {
		sh.failSchedule(w, r, err, sopUnschedule, "")
		return
	}
	rd := reader{p: p}
	customerUID := rd.ident("customer_uid", maxCustomerUID)
	merchantUIDs, _, err := p.StringOrArray("merchant_uid")
	rd.setErr(err)
	merchantUIDs = dedupe(merchantUIDs)
	if rd.err == nil {
		rd.setErr(idList("merchant_uid", merchantUIDs, maxMerchantUID))
	}
	if rd.err == nil && customerUID == "" && len(merchantUIDs) == 0 {
		rd.setErr(badRequest("customer_uid 또는 merchant_uid 파라메터가 누락되었습니다."))
	}
	if rd.err != nil {
		sh.failSchedule(w, r, rd.err, sopUnschedule, customerUID)
		return
	}
	list, err := sh.sched.Unschedule(r.Context(), merchantFrom(r.Context()).ID, customerUID, merchantUIDs)
	if err != nil {
		sh.failSchedule(w, r, err, sopUnschedule, customerUID)
		return
	}
	writeOK(w, http.StatusOK, scheduleViews(list))
}

func (sh *scheduleHandler) get(w http.ResponseWriter, r *http.Request) {
	mu, err := merchantUIDParam(r)
	if err != nil {
		sh.failSchedule(w, r, err, sopLookup, "")
		return
	}
	sc, err := sh.sched.Get(r.Context(), merchantFrom(r.Context()).ID, mu)
	if err != nil {
		sh.failSchedule(w, r, err, sopLookup, "")
		return
	}
	writeOK(w, http.StatusOK, newScheduleView(sc))
}

// readMove reads the path merchant_uid and the body's schedule_at.
func (sh *scheduleHandler) readMove(r *http.Request) (string, time.Time, error) {
	mu, err := merchantUIDParam(r)
	if err != nil {
		return "", time.Time{}, err
	}
	p, err := sh.readParams(r)
	if err != nil {
		return "", time.Time{}, err
	}
	rd := reader{p: p}
	at := readScheduleAt(&rd, "schedule_at", clock.For(sh.clock, merchantFrom(r.Context()).ID))
	return mu, at, rd.err
}

func (sh *scheduleHandler) update(w http.ResponseWriter, r *http.Request) {
	mu, at, err := sh.readMove(r)
	if err == nil {
		var sc *core.Schedule
		if sc, err = sh.sched.Update(r.Context(), merchantFrom(r.Context()).ID, mu, at); err == nil {
			writeOK(w, http.StatusOK, newScheduleView(sc))
			return
		}
	}
	sh.failSchedule(w, r, err, sopUpdate, "")
}

func (sh *scheduleHandler) reschedule(w http.ResponseWriter, r *http.Request) {
	mu, at, err := sh.readMove(r)
	if err == nil {
		var sc *core.Schedule
		if sc, err = sh.sched.Reschedule(r.Context(), merchantFrom(r.Context()).ID, mu, at); err == nil {
			writeOK(w, http.StatusOK, newScheduleView(sc))
			return
		}
	}
	sh.failSchedule(w, r, err, sopReschedule, "")
}

func (sh *scheduleHandler) retry(w http.ResponseWriter, r *http.Request) {
	mu, err := merchantUIDParam(r)
	if err != nil {
		sh.failSchedule(w, r, err, sopRetry, "")
		return
	}
	pay, err := sh.sched.Retry(r.Context(), merchantFrom(r.Context()).ID, mu)
	if err != nil {
		sh.failSchedule(w, r, err, sopRetry, "")
		return
	}
	writeOK(w, http.StatusOK, newPaymentView(pay))
}

// readWindow reads a schedule list query. Clients spell the parameters two
// ways (spec: from/to/schedule-status on the customer paths,
// schedule_from/schedule_to/schedule_status on the global list; the Java
// client sends the latter everywhere): both are accepted on every path.
func readWindow(p form.Params, preferFrom bool) (core.ScheduleQuery, error) {
	var q core.ScheduleQuery
	first := func(keys ...string) (int64, string, bool, error) {
		for _, k := range keys {
			v, ok, err := p.Int64(k)
			if err != nil || ok {
				return v, k, ok, err
			}
		}
		return 0, keys[0], false, nil
	}
	fromKeys, toKeys := []string{"schedule_from", "from"}, []string{"schedule_to", "to"}
	if preferFrom {
		fromKeys, toKeys = []string{"from", "schedule_from"}, []string{"to", "schedule_to"}
	}
	from, fk, ok, err := first(fromKeys...)
	if err != nil {
		return q, err
	}
	if !ok {
		return q, missing(fk)
	}
	to, tk, ok, err := first(toKeys...)
	if err != nil {
		return q, err
	}
	if !ok {
		return q, missing(tk)
	}
	if to <= from {
		return q, badRequest("%s", msgScheduleRange)
	}
	q.From, q.To = time.Unix(from, 0), time.Unix(to, 0)
	if q.To.After(scheduler.MaxWindowEnd(q.From)) {
		return q, badRequest("%s", msgScheduleWindow)
	}
	for _, k := range []string{"schedule_status", "schedule-status"} {
		st, _, err := p.String(k)
		if err != nil {
			return q, err
		}
		if st != "" {
			q.Status = st
			break
		}
	}
	switch q.Status {
	case "", "scheduled", "executed", "revoked":
	default:
		return q, badRequest("schedule_status 파라메터는 scheduled, executed, revoked 중 하나여야 합니다.")
	}
	if q.Page, err = readPage(p); err != nil {
		return q, err
	}
	if q.Limit, err = readLimit(p); err != nil {
		return q, err
	}
	return q, nil
}

func (sh *scheduleHandler) list(w http.ResponseWriter, r *http.Request) {
	p, err := sh.readParams(r)
	if err != nil {
		sh.failSchedule(w, r, err, sopLookup, "")
		return
	}
	q, err := readWindow(p, false)
	if err == nil {
		switch sorting, _, serr := p.String("sorting"); {
		case serr != nil:
			err = serr
		case sorting == "scheduled":
			q.Ascending = true
		case sorting == "" || sorting == "-scheduled":
		default:
			err = badRequest("sorting 파라메터는 scheduled 이거나 생략되어야 합니다.")
		}
	}
	sh.writeList(w, r, q, err)
}

func (sh *scheduleHandler) customerList(w http.ResponseWriter, r *http.Request) {
	uid, err := customerUIDParam(r)
	if err != nil {
		sh.failSchedule(w, r, err, sopLookup, "")
		return
	}
	p, err := sh.readParams(r)
	if err != nil {
		sh.failSchedule(w, r, err, sopLookup, uid)
		return
	}
	q, err := readWindow(p, true)
	q.CustomerUID = uid
	sh.writeList(w, r, q, err)
}

func (sh *scheduleHandler) writeList(w http.ResponseWriter, r *http.Request, q core.ScheduleQuery, err error) {
	if err == nil {
		var page core.SchedulePage
		if page, err = sh.sched.List(r.Context(), merchantFrom(r.Context()).ID, q); err == nil {
			if page.Page == 0 {
				page.Page, page.Limit = q.Page, q.Limit
			}
			writeOK(w, http.StatusOK, newPaged(page.Pager, scheduleViews(page.Schedules)))
			return
		}
	}
	sh.failSchedule(w, r, err, sopLookup, q.CustomerUID)
}
