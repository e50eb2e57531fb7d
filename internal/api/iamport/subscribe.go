package iamport

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/core"
)

func (h *handler) subscribeRoutes(r chi.Router) {
	r.Post("/subscribe/payments/onetime", h.onetime)
	r.Post("/subscribe/payments/again", h.again)
}

// readPayInput reads the fields onetime and again share. The Java client
// always sends card_quota/product_count 0 and the booleans false, so zero
// values mean "unset" throughout.
func readPayInput(rd *reader) charge.PayInput {
	in := charge.PayInput{
		MerchantUID: rd.requiredIdent("merchant_uid", maxMerchantUID),
	}
	in.Currency = rd.currency()
	amount, ok := rd.amount("amount", in.Currency)
	if !ok && rd.err == nil {
		rd.setErr(missing("amount"))
	}
	in.Amount = amount
	in.TaxFree, _ = rd.amount("tax_free", in.Currency)
	if v, ok := rd.amount("vat_amount", in.Currency); ok {
		in.VatAmount = &v
	} else if v, ok := rd.amount("vat", in.Currency); ok {
		// "vat" is the deprecated spelling; honour it when it is the only one.
		in.VatAmount = &v
	}
	in.Name = rd.str("name", charge.MaxNameLength)
	in.Buyer = core.Buyer{
		Name:     rd.str("buyer_name", 16),
		Email:    rd.str("buyer_email", 64),
		Tel:      rd.str("buyer_tel", 16),
		Addr:     rd.str("buyer_addr", 128),
		Postcode: rd.str("buyer_postcode", 8),
	}
	in.CardQuota = rd.int("card_quota")
	if in.CardQuota < 0 {
		rd.setErr(badRequest("card_quota 파라메터는 0 이상이어야 합니다."))
	}
	in.CustomData = rd.jsonText("custom_data")
	in.NoticeURL = rd.firstString("notice_url")
	in.PG = rd.str("pg", 80)
	in.Channel = "api"
	// Accepted for compatibility, not acted on (no field in the core):
	// reading them still rejects values of the wrong type.
	rd.bool("interest_free_by_merchant")
	rd.bool("use_card_point")
	rd.int("product_count")
	rd.str("browser_ip", 0)
	rd.str("promotion_id", 0)
	if pt := rd.str("product_type", 0); pt != "" && pt != "real" && pt != "digital" {
		rd.setErr(badRequest("product_type 파라메터는 real 또는 digital 이어야 합니다."))
	}
	return in
}

func (h *handler) onetime(w http.ResponseWriter, r *http.Request) {
	p, err := h.readParams(r)
	if err != nil {
		h.fail(w, r, err, opPay, "")
		return
	}
	rd := reader{p: p}
	in := readPayInput(&rd)
	card := readCard(&rd)
	in.Card = &card
	in.CustomerUID = rd.ident("customer_uid", maxCustomerUID)
	rd.str("channelGroupId", 55)
	if rd.err != nil {
		h.fail(w, r, rd.err, opPay, in.CustomerUID)
		return
	}
	pay, err := h.svc.Onetime(r.Context(), merchantFrom(r.Context()).ID, in)
	h.writePayment(w, r, pay, err, opPay, in.CustomerUID)
}

func (h *handler) again(w http.ResponseWriter, r *http.Request) {
	p, err := h.readParams(r)
	if err != nil {
		h.fail(w, r, err, opAgain, "")
		return
	}
	rd := reader{p: p}
	customerUID := rd.requiredIdent("customer_uid", maxCustomerUID)
	in := readPayInput(&rd)
	in.CustomerUID = customerUID
	if ct := rd.str("cash_receipt_type", 0); ct != "" && ct != "person" && ct != "company" && ct != "anonymous" {
		rd.setErr(badRequest("cash_receipt_type 파라메터는 person, company, anonymous 중 하나여야 합니다."))
	}
	rd.str("channel_key", 55)
	if _, _, err := p.Object("extra"); err != nil {
		rd.setErr(err)
	}
	if rd.err != nil {
		h.fail(w, r, rd.err, opAgain, customerUID)
		return
	}
	pay, err := h.svc.Again(r.Context(), merchantFrom(r.Context()).ID, in)
	h.writePayment(w, r, pay, err, opAgain, customerUID)
}

// writePayment answers with the payment whatever its status: a decline is
// code 0 with status "failed", which is how every V1 client tells a
// declined card from a failed request.
func (h *handler) writePayment(w http.ResponseWriter, r *http.Request, pay *core.Payment, err error, o op, subject string) {
	if err != nil {
		h.fail(w, r, err, o, subject)
		return
	}
	if pay == nil {
		h.fail(w, r, errNilResult, o, subject)
		return
	}
	writeOK(w, http.StatusOK, newPaymentView(pay))
}
