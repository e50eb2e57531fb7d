package checkout

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/pg/provider"
)

type option struct{ Value, Label string }

// Banks offered by the CHAI transfer flow (KFTC bank codes).
var banks = []option{
	{"004", "KB국민은행"}, {"088", "신한은행"}, {"020", "우리은행"}, {"081", "하나은행"},
	{"011", "NH농협은행"}, {"090", "카카오뱅크"}, {"092", "토스뱅크"},
}

// Carriers of the phone-billing flow.
var carriers = []option{{"SKT", "SKT"}, {"KT", "KT"}, {"LGU", "LG U+"}, {"MVNO", "알뜰폰 MVNO"}}

var bankNames, carrierNames = optionSet(banks), optionSet(carriers)

func optionSet(os []option) map[string]string {
	m := make(map[string]string, len(os))
	for _, o := range os {
		m[o.Value] = o.Label
	}
	return m
}

type testCard struct{ Number, Behaviour string }

// The sandbox test cards (the same as the REST API's; see the README).
var testCards = []testCard{
	{"4242 4242 4242 4242", "승인 approves"},
	{"4000 0000 0000 0002", "거절 declined"},
	{"4000 0000 0000 9995", "잔액부족 insufficient funds"},
	{"4000 0000 0000 0341", "발급 OK, 이후 결제 거절 key OK, later charges decline"},
}

type formData struct {
	Action, CancelAction, CSRF string
	MerchantName, PGName       string
	Provider, Method           string
	OrderName, Amount          string
	KeyOnly, Sandbox, Redirect bool
	// Terms replace the plain key-only note when the key starts a
	// recurring agreement whose first charge follows.
	Terms                *Terms
	CustomerUID          string
	Error                string
	Phone, Carrier, Bank string
	Banks, Carriers      []option
	TestCards            []testCard
	OTP                  string
	Wallet               bool
	WalletMeans          []option
}

type resultData struct {
	Session, Origin, Rsp        string
	Success, KeyOnly            bool
	PGName, Provider            string
	ErrorCode, ErrorMsg, ImpUID string
	CustomerUID                 string
}

type messageData struct {
	Title, TitleEn, Body, BodyEn string
}

func (h *Handler) render(w http.ResponseWriter, name string, data any) {
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, data); err != nil {
		h.log.Error("checkout: render", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	}
	w.Write(buf.Bytes())
}

// renderForm shows the window's form. prev refills the fields that are not
// secret after a validation error; card fields are never echoed back.
func (h *Handler) renderForm(ctx context.Context, w http.ResponseWriter, s *session, status int, errText string, prev url.Values) {
	d := formData{
		Action: "/v1/checkout/" + s.id, CancelAction: "/v1/checkout/" + s.id + "/cancel", CSRF: s.csrf,
		MerchantName: s.merchant.Name, PGName: s.pgName, Provider: s.channel.Provider, Method: s.req.PayMethod,
		OrderName: s.req.Name, Amount: formatAmount(s.req.Amount, s.req.Currency),
		KeyOnly: s.req.CustomerUID != "" && s.req.Amount == 0, Sandbox: s.channel.Sandbox, Redirect: s.redirect,
		CustomerUID: s.req.CustomerUID, Error: errText, Phone: s.req.Buyer.Tel,
		Banks: banks, Carriers: carriers, TestCards: testCards, OTP: SandboxOTP,
	}
	if p, ok := provider.Lookup(s.channel.Provider); ok {
		d.Wallet = p.Wallet
		if d.Wallet {
			d.WalletMeans = walletOptions(p)
		}
		// A window that only displays its amount charges nothing now.
		if s.req.CustomerUID != "" && p.WindowAmount == provider.AmountDisplayOnly {
			d.KeyOnly = true
		}
	}
	if d.KeyOnly && h.terms != nil {
		if t, ok := h.terms(ctx, s.merchant.ID, s.req.MerchantUID); ok {
			d.Terms = &t
		}
	}
	if prev != nil {
		if v := prev.Get("phone"); v != "" {
			d.Phone = v
		}
		d.Carrier, d.Bank = prev.Get("carrier"), prev.Get("bank_code")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	h.render(w, "form", d)
}

// formatAmount renders minor units for people: "1,000원", "10.50 USD".
func formatAmount(minor int64, currency string) string {
	text := core.FormatAmount(minor, currency)
	whole, frac, hasFrac := strings.Cut(text, ".")
	n, _ := strconv.ParseInt(whole, 10, 64)
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		if scale, err := core.CurrencyScale(currency); err == nil {
			frac += strings.Repeat("0", scale-len(frac))
		}
		b.WriteString("." + frac)
	}
	if currency == "KRW" {
		return b.String() + "원"
	}
	return b.String() + " " + currency
}
