package checkout

import (
	"net/http"
	"strings"
	"time"

	"github.com/billkey/billkey/internal/api/iamport/view"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/pg/provider"
)

// The demo merchant page (GET /demo?merchant=imp…) is a stand-in for a
// merchant's own site: it loads /v1/iamport.js like any merchant would and
// shows the callback's rsp. To show what the merchant's server would see, it
// asks GET /demo/result, which answers only for sandbox payments whose
// merchant_uid starts with "demo_" and never needs the merchant's API secret
// in the browser.

// DemoPrefix marks the orders the demo result endpoint may show.
const DemoPrefix = "demo_"

type demoChoice struct{ Value, Label string }

type demoData struct {
	MerchantCode, MerchantName string
	Missing                    bool
	Choices                    []demoChoice
	CustomerUID                string
	SDKIntegrity               string
}

func demoHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

func (h *Handler) demoPage(w http.ResponseWriter, r *http.Request) {
	demoHeaders(w)
	d := demoData{MerchantCode: strings.TrimSpace(r.URL.Query().Get("merchant")), SDKIntegrity: SDKIntegrity(),
		CustomerUID: DemoPrefix + "cust_" + randToken()[:10]}
	m, err := h.mer.ByCode(r.Context(), d.MerchantCode)
	if d.MerchantCode == "" || err != nil {
		d.Missing = true
		w.WriteHeader(http.StatusNotFound)
		h.render(w, "demo", d)
		return
	}
	d.MerchantName = m.Name
	chans, err := h.mer.Channels(r.Context(), m.ID)
	if err != nil {
		h.log.Error("demo: channels", "err", err)
	}
	for _, c := range chans {
		p, ok := provider.Lookup(c.Provider)
		if c.Type != "payment" || !ok {
			continue
		}
		for _, method := range p.Window {
			d.Choices = append(d.Choices, demoChoice{
				Value: c.Provider + "." + c.MID + "|" + method,
				Label: p.Name + " · " + methodLabel[method] + " (" + c.Provider + ")",
			})
		}
	}
	h.render(w, "demo", d)
}

var methodLabel = map[string]string{"card": "카드 card", "trans": "계좌이체 trans", "phone": "휴대폰 phone"}

type demoPayment struct {
	ImpUID           string `json:"imp_uid"`
	MerchantUID      string `json:"merchant_uid"`
	Status           string `json:"status"`
	Amount           string `json:"amount"`
	Currency         string `json:"currency"`
	PayMethod        string `json:"pay_method"`
	Channel          string `json:"channel"`
	PGProvider       string `json:"pg_provider"`
	CardName         string `json:"card_name"`
	CardNumber       string `json:"card_number"`
	CustomerUID      string `json:"customer_uid"`
	CustomerUIDUsage string `json:"customer_uid_usage"`
	PaidAt           string `json:"paid_at,omitempty"`
	FailReason       string `json:"fail_reason,omitempty"`
}

type demoCustomer struct {
	CustomerUID string `json:"customer_uid"`
	PGProvider  string `json:"pg_provider"`
	PGID        string `json:"pg_id"`
	CardName    string `json:"card_name"`
	CardNumber  string `json:"card_number"`
	Inserted    string `json:"inserted"`
}

// demoResult shows a demo payment and the key it stored.
func (h *Handler) demoResult(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ctx := r.Context()
	notFound := func() { writeJSON(w, http.StatusNotFound, map[string]string{"error": "not a demo payment"}) }
	m, err := h.mer.ByCode(ctx, q.Get("merchant"))
	if err != nil {
		notFound()
		return
	}
	p, err := h.svc.GetPayment(ctx, m.ID, q.Get("imp_uid"))
	if err != nil || !p.Sandbox || !strings.HasPrefix(p.MerchantUID, DemoPrefix) || (p.Channel != "pc" && p.Channel != "mobile") {
		notFound()
		return
	}
	out := struct {
		Payment  demoPayment   `json:"payment"`
		Customer *demoCustomer `json:"customer"`
	}{Payment: demoPayment{
		ImpUID: p.ImpUID, MerchantUID: p.MerchantUID, Status: view.Status(p.Status), Amount: core.FormatAmount(p.Amount, p.Currency),
		Currency: p.Currency, PayMethod: p.PayMethod, Channel: p.Channel, PGProvider: p.PGProvider, CardName: p.CardName,
		CardNumber: p.CardNumber, CustomerUID: p.CustomerUID, CustomerUIDUsage: p.CustomerUIDUsage, FailReason: p.FailReason,
	}}
	if !p.PaidAt.IsZero() {
		out.Payment.PaidAt = p.PaidAt.UTC().Format(time.RFC3339)
	}
	if p.CustomerUID != "" {
		if k, err := h.svc.GetBillingKey(ctx, m.ID, p.CustomerUID); err == nil && k.Sandbox {
			out.Customer = &demoCustomer{CustomerUID: k.CustomerUID, PGProvider: k.PGProvider, PGID: k.PGID,
				CardName: k.CardName, CardNumber: k.CardNumber, Inserted: k.Inserted.UTC().Format(time.RFC3339)}
		}
	}
	writeJSON(w, http.StatusOK, out)
}
