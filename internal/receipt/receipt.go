// Package receipt serves Billkey's printable receipts: one page per payment
// (카드 매출전표) at /receipts/{imp_uid} and one per cancellation at
// /receipts/{imp_uid}/cancellations/{cancellation_id}. V1's receipt_url and
// cancel_receipt_urls point here, so the links stay valid whichever PG, or
// simulator port, made the charge.
package receipt

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/billkey/billkey/internal/core"
)

//go:embed templates/receipt.html
var files embed.FS

var page = template.Must(template.New("receipt.html").ParseFS(files, "templates/receipt.html"))

// Store is what the pages read.
type Store interface {
	PaymentByImpUID(ctx context.Context, impUID string) (*core.Payment, error)
	MerchantByID(ctx context.Context, id int64) (*core.Merchant, error)
}

// Handler serves the receipt pages.
type Handler struct {
	store Store
	log   *slog.Logger
}

// New builds the handler; mount it with Register.
func New(store Store, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.Default()
	}
	return &Handler{store: store, log: log}
}

// Register mounts the receipt routes on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /receipts/{imp_uid}", h.serve)
	mux.HandleFunc("GET /receipts/{imp_uid}/cancellations/{cancellation_id}", h.serve)
}

// Seoul is the zone Korean receipts are dated in.
var seoul = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Seoul"); err == nil {
		return l
	}
	return time.FixedZone("KST", 9*3600)
}()

// view is one receipt as the template shows it.
type view struct {
	Nonce                  string
	Title                  string
	Cancel                 bool
	MerchantName           string
	MerchantCode           string
	ImpUID, MerchantUID    string
	OrderName              string
	Method                 string
	CardName, CardNumber   string
	Installment            string
	ApplyNum, PGTID        string
	PGProvider             string
	Date                   string
	Total, Supply, VAT     string
	TaxFree                string
	Currency               string
	Buyer                  string
	CancelReason           string
	OriginalTotal, Refunds string
	Status                 string
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	p, err := h.store.PaymentByImpUID(r.Context(), r.PathValue("imp_uid"))
	if errors.Is(err, core.ErrNotFound) || (err == nil && p.Status != core.StatusPaid && p.Status != core.StatusCancelled) ||
		(err == nil && p.Amount == 0) {
		// Only money that moved has a receipt; failed or pending attempts
		// and key-only windows have none.
		http.Error(w, "영수증을 찾을 수 없습니다. (No receipt for this payment.)", http.StatusNotFound)
		return
	}
	if err != nil {
		h.log.Error("receipt: payment", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	m, err := h.store.MerchantByID(r.Context(), p.MerchantID)
	if err != nil {
		h.log.Error("receipt: merchant", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	v := paymentView(p, m)
	if id := r.PathValue("cancellation_id"); id != "" {
		var c *core.Cancellation
		for i := range p.Cancels {
			if p.Cancels[i].ID == id && p.Cancels[i].Status == core.CancelDone {
				c = &p.Cancels[i]
			}
		}
		if c == nil {
			http.Error(w, "취소 영수증을 찾을 수 없습니다. (No such cancellation.)", http.StatusNotFound)
			return
		}
		cancelView(&v, p, c)
	}
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	v.Nonce = base64.StdEncoding.EncodeToString(nonce)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+v.Nonce+"'; script-src 'nonce-"+v.Nonce+
		"'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
	if err := page.Execute(w, v); err != nil {
		h.log.Error("receipt: render", "err", err)
	}
}

var methodNames = map[string]string{
	"card": "신용카드", "trans": "계좌이체", "phone": "휴대폰 소액결제", "point": "간편결제 머니", "vbank": "가상계좌",
}

func paymentView(p *core.Payment, m *core.Merchant) view {
	taxable := p.Amount - p.TaxFree
	vat := int64(math.Round(float64(taxable) / 11))
	if p.VatAmount != nil {
		vat = *p.VatAmount
	}
	method := methodNames[p.PayMethod]
	if method == "" {
		method = p.PayMethod
	}
	installment := "일시불"
	if p.CardQuota > 1 {
		installment = itoa(int64(p.CardQuota)) + "개월"
	}
	paid := p.PaidAt
	if paid.IsZero() {
		paid = p.StartedAt
	}
	v := view{
		Title: "카드 매출전표", MerchantName: m.Name, MerchantCode: m.Code, ImpUID: p.ImpUID, MerchantUID: p.MerchantUID,
		OrderName: p.Name, Method: method, CardName: p.CardName, CardNumber: p.CardNumber, Installment: installment,
		ApplyNum: p.ApplyNum, PGTID: p.PGTID, PGProvider: p.PGProvider, Date: paid.In(seoul).Format("2006-01-02 15:04:05"),
		Total: money(p.Amount, p.Currency), Supply: money(taxable-vat, p.Currency), VAT: money(vat, p.Currency),
		TaxFree: money(p.TaxFree, p.Currency), Currency: p.Currency, Buyer: p.Buyer.Name, Status: "승인",
	}
	if p.PayMethod != "" && p.PayMethod != "card" {
		v.Title = "결제 영수증"
	}
	if p.CancelAmount > 0 {
		v.Refunds = money(p.CancelAmount, p.Currency)
	}
	return v
}

// cancelView turns v into the receipt of cancellation c: a negative slip
// for the refunded amount, as card slips show cancellations.
func cancelView(v *view, p *core.Payment, c *core.Cancellation) {
	taxable := c.Amount - c.TaxFree
	vat := int64(math.Round(float64(taxable) / 11))
	v.Cancel, v.Status, v.Title = true, "취소", strings.Replace(v.Title, "매출전표", "취소전표", 1)
	if v.Title == "결제 영수증" {
		v.Title = "결제 취소 영수증"
	}
	v.OriginalTotal = v.Total
	v.Total, v.Supply, v.VAT = "-"+money(c.Amount, p.Currency), "-"+money(taxable-vat, p.Currency), "-"+money(vat, p.Currency)
	v.TaxFree = "-" + money(c.TaxFree, p.Currency)
	v.PGTID, v.CancelReason = c.PGTID, c.Reason
	v.Date = c.CancelledAt.In(seoul).Format("2006-01-02 15:04:05")
}

func money(minor int64, currency string) string {
	if currency == "" || strings.EqualFold(currency, "KRW") {
		return itoa(minor) + "원"
	}
	return core.FormatAmount(minor, currency) + " " + strings.ToUpper(currency)
}

// itoa formats n with thousands separators.
func itoa(n int64) string {
	neg := n < 0
	if neg {
		n = -n
	}
	s := []byte{}
	for i := 0; ; i++ {
		if i > 0 && i%3 == 0 {
			s = append([]byte{','}, s...)
		}
		s = append([]byte{byte('0' + n%10)}, s...)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		return "-" + string(s)
	}
	return string(s)
}
