package iamport

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/pg"
)

const (
	maxMerchantUID = 40
	maxCustomerUID = 80
	customerPage   = 20
)

func (h *handler) customerRoutes(r chi.Router) {
	r.Get("/subscribe/customers", h.getCustomers)
	r.Post("/subscribe/customers/{customer_uid}", h.issueCustomer)
	r.Get("/subscribe/customers/{customer_uid}", h.getCustomer)
	r.Delete("/subscribe/customers/{customer_uid}", h.deleteCustomer)
	r.Get("/subscribe/customers/{customer_uid}/payments", h.customerPayments)
}

// customerUIDParam reads and checks the {customer_uid} path segment.
func customerUIDParam(r *http.Request) (string, error) {
	uid := pathParam(r, "customer_uid")
	if uid == "" {
		return "", missing("customer_uid")
	}
	if err := identifier("customer_uid", uid, maxCustomerUID); err != nil {
		return "", err
	}
	return uid, nil
}

// normalizeCardNumber drops the separators clients format card numbers
// with ("1234-5678-…", "1234 5678 …"); anything else is left for the
// service to reject with the V1 card-number message.
func normalizeCardNumber(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, s)
}

// readCard reads the card fields shared by issue and onetime.
func readCard(rd *reader) pg.Card {
	c := pg.Card{
		Number:    normalizeCardNumber(rd.required("card_number", 0)),
		Expiry:    rd.required("expiry", 0),
		Birth:     rd.str("birth", 10),
		Pwd2Digit: rd.str("pwd_2digit", 2),
		CVC:       rd.str("cvc", 4),
	}
	return c
}

func (h *handler) issueCustomer(w http.ResponseWriter, r *http.Request) {
	uid, err := customerUIDParam(r)
	if err != nil {
		h.fail(w, r, err, opIssueKey, "")
		return
	}
	p, err := h.readParams(r)
	if err != nil {
		h.fail(w, r, err, opIssueKey, uid)
		return
	}
	rd := reader{p: p}
	in := charge.IssueKeyInput{
		CustomerUID: uid,
		Card:        readCard(&rd),
		PG:          rd.str("pg", 80),
		CustomerID:  rd.str("customer_id", 0),
		Customer: core.Buyer{
			Name:     rd.str("customer_name", 20),
			Tel:      rd.str("customer_tel", 20),
			Email:    rd.str("customer_email", 200),
			Addr:     rd.str("customer_addr", 200),
			Postcode: rd.str("customer_postcode", 8),
		},
	}
	// Read only for validation: channel_key is marked required in the
	// newest spec but no client sends it, and channel groups are out of
	// scope.
	rd.str("channel_key", 55)
	rd.str("channel_group_id", 55)
	if rd.err != nil {
		h.fail(w, r, rd.err, opIssueKey, uid)
		return
	}
	key, err := h.svc.IssueBillingKey(r.Context(), merchantFrom(r.Context()).ID, in)
	if err != nil {
		h.fail(w, r, err, opIssueKey, uid)
		return
	}
	writeOK(w, http.StatusOK, newCustomerView(key))
}

func (h *handler) getCustomer(w http.ResponseWriter, r *http.Request) {
	uid, err := customerUIDParam(r)
	if err != nil {
		h.fail(w, r, err, opCustomer, "")
		return
	}
	key, err := h.svc.GetBillingKey(r.Context(), merchantFrom(r.Context()).ID, uid)
	if err != nil {
		h.fail(w, r, err, opCustomer, uid)
		return
	}
	writeOK(w, http.StatusOK, newCustomerView(key))
}

func (h *handler) deleteCustomer(w http.ResponseWriter, r *http.Request) {
	uid, err := customerUIDParam(r)
	if err != nil {
		h.fail(w, r, err, opCustomer, "")
		return
	}
	p, err := h.readParams(r)
	if err != nil {
		h.fail(w, r, err, opCustomer, uid)
		return
	}
	rd := reader{p: p}
	reason := rd.str("reason", 0)
	// extra[requester] only matters to naverpay; accepted and ignored.
	if _, _, err := p.Object("extra"); err != nil {
		rd.setErr(err)
	}
	if rd.err != nil {
		h.fail(w, r, rd.err, opCustomer, uid)
		return
	}
	key, err := h.svc.DeleteBillingKey(r.Context(), merchantFrom(r.Context()).ID, uid, reason)
	if err != nil {
		h.fail(w, r, err, opCustomer, uid)
		return
	}
	writeOK(w, http.StatusOK, newCustomerView(key))
}

// getCustomers answers 200 when every uid was found, 207 with the found
// ones when some were not, and 404 when none was.
func (h *handler) getCustomers(w http.ResponseWriter, r *http.Request) {
	p, err := h.readParams(r)
	if err != nil {
		h.fail(w, r, err, opCustomer, "")
		return
	}
	uids, _, err := p.StringOrArray("customer_uid")
	if err != nil {
		h.fail(w, r, err, opCustomer, "")
		return
	}
	uids = dedupe(uids)
	if len(uids) > maxListIDs {
		h.fail(w, r, badRequest("customer_uid 파라메터는 한 번에 최대 %d개까지 조회할 수 있습니다.", maxListIDs), opCustomer, "")
		return
	}
	if len(uids) == 0 {
		h.fail(w, r, missing("customer_uid"), opCustomer, "")
		return
	}
	for _, u := range uids {
		if utf8.RuneCountInString(u) > maxCustomerUID {
			h.fail(w, r, badRequest("customer_uid 파라메터는 최대 %d자까지 입력 가능합니다.", maxCustomerUID), opCustomer, "")
			return
		}
	}
	keys, err := h.svc.GetBillingKeys(r.Context(), merchantFrom(r.Context()).ID, uids)
	if err != nil {
		h.fail(w, r, err, opCustomer, strings.Join(uids, ","))
		return
	}
	if len(keys) == 0 {
		writeError(w, http.StatusNotFound, 1, "요청하신 customer_uid로 등록된 정보를 찾을 수 없습니다.")
		return
	}
	found := map[string]bool{}
	out := make([]customerView, 0, len(keys))
	for i := range keys {
		found[keys[i].CustomerUID] = true
		out = append(out, newCustomerView(&keys[i]))
	}
	status := http.StatusOK
	for _, u := range uids {
		if !found[u] {
			status = http.StatusMultiStatus
			break
		}
	}
	writeOK(w, status, out)
}

func (h *handler) customerPayments(w http.ResponseWriter, r *http.Request) {
	uid, err := customerUIDParam(r)
	if err != nil {
		h.fail(w, r, err, opCustomer, "")
		return
	}
	p, err := h.readParams(r)
	if err != nil {
		h.fail(w, r, err, opCustomer, uid)
		return
	}
	page, err := readPage(p)
	if err != nil {
		h.fail(w, r, err, opCustomer, uid)
		return
	}
	mid := merchantFrom(r.Context()).ID
	// The list alone cannot tell an unknown customer from one without
	// payments, and the spec answers 404 only for the former.
	if _, err := h.svc.GetBillingKey(r.Context(), mid, uid); err != nil {
		h.fail(w, r, err, opCustomer, uid)
		return
	}
	res, err := h.svc.ListPayments(r.Context(), mid, core.PaymentQuery{
		CustomerUID: uid, Page: page, Limit: customerPage, Sorting: "-started",
	})
	if err != nil {
		h.fail(w, r, err, opCustomer, uid)
		return
	}
	writeOK(w, http.StatusOK, newPagedView(fillPage(res, page, customerPage)))
}

func dedupe(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := in[:0:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
