package checkout

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/core"
)

// params is IMP.request_pay's params object as the SDK forwards it.
type params struct {
	PG            string          `json:"pg"`
	PayMethod     string          `json:"pay_method"`
	MerchantUID   string          `json:"merchant_uid"`
	CustomerUID   string          `json:"customer_uid"`
	Amount        json.RawMessage `json:"amount"`
	TaxFree       json.RawMessage `json:"tax_free"`
	Name          string          `json:"name"`
	Currency      string          `json:"currency"`
	BuyerName     string          `json:"buyer_name"`
	BuyerEmail    string          `json:"buyer_email"`
	BuyerTel      string          `json:"buyer_tel"`
	BuyerAddr     string          `json:"buyer_addr"`
	BuyerPostcode string          `json:"buyer_postcode"`
	CustomData    json.RawMessage `json:"custom_data"`
	NoticeURL     json.RawMessage `json:"notice_url"`
	MRedirectURL  string          `json:"m_redirect_url"`
}

// request is a validated window request.
type request struct {
	PG          string
	PayMethod   string
	MerchantUID string
	CustomerUID string
	Amount      int64
	TaxFree     int64
	Name        string
	Currency    string
	Buyer       core.Buyer
	CustomData  *string // stored as the merchant sent it (objects as JSON text)
	NoticeURL   string
	RedirectURL string

	customDataJSON json.RawMessage // echoed in rsp.custom_data as it came
}

// paramError is bad request_pay input, shown to the merchant's developer.
type paramError struct{ field, reason string }

func (e *paramError) Error() string { return e.field + ": " + e.reason }

// number reads a JSON number, or a string holding one (merchants send both).
func number(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s), true
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String(), true
	}
	return "!", true
}

func parseParams(p params, newUID func() string) (request, error) {
	r := request{
		PG: strings.TrimSpace(p.PG), PayMethod: strings.ToLower(strings.TrimSpace(p.PayMethod)),
		MerchantUID: strings.TrimSpace(p.MerchantUID), CustomerUID: strings.TrimSpace(p.CustomerUID),
		Name: p.Name, Currency: strings.ToUpper(strings.TrimSpace(p.Currency)),
		Buyer:       core.Buyer{Name: p.BuyerName, Email: p.BuyerEmail, Tel: p.BuyerTel, Addr: p.BuyerAddr, Postcode: p.BuyerPostcode},
		RedirectURL: strings.TrimSpace(p.MRedirectURL),
	}
	if r.PayMethod == "" {
		r.PayMethod = "card"
	}
	switch r.PayMethod {
	case "card", "trans", "phone":
	default:
		return r, &paramError{"pay_method", fmt.Sprintf("%q is not supported by the billing window (card, trans, phone)", r.PayMethod)}
	}
	if r.Currency == "" {
		r.Currency = "KRW"
	}
	cur, err := core.NormalizeCurrency(r.Currency)
	if err != nil {
		return r, &paramError{"currency", "unknown currency"}
	}
	r.Currency = cur
	if r.MerchantUID == "" {
		// The i'mport SDK makes one up too when the merchant leaves it out.
		r.MerchantUID = newUID()
	}
	if len([]rune(r.MerchantUID)) > 40 {
		return r, &paramError{"merchant_uid", "longer than 40 characters"}
	}
	if len([]rune(r.CustomerUID)) > 80 {
		return r, &paramError{"customer_uid", "longer than 80 characters"}
	}
	if len([]rune(r.Name)) > charge.MaxNameLength {
		return r, &paramError{"name", fmt.Sprintf("longer than %d characters", charge.MaxNameLength)}
	}
	text, ok := number(p.Amount)
	if !ok {
		if r.CustomerUID == "" {
			return r, &paramError{"amount", "required"}
		}
		text = "0"
	}
	amt, err := core.ParseAmount(text, r.Currency)
	if err != nil {
		return r, &paramError{"amount", "must be a non-negative amount in " + r.Currency}
	}
	if amt == 0 && r.CustomerUID == "" {
		return r, &paramError{"amount", "must be greater than 0 (0 only with customer_uid: billing key only)"}
	}
	r.Amount = amt
	if text, ok := number(p.TaxFree); ok {
		tf, err := core.ParseAmount(text, r.Currency)
		if err != nil || tf > amt {
			return r, &paramError{"tax_free", "must be between 0 and amount"}
		}
		r.TaxFree = tf
	}
	if cd := bytes.TrimSpace(p.CustomData); len(cd) > 0 && string(cd) != "null" {
		if len(cd) > 4096 {
			return r, &paramError{"custom_data", "larger than 4 KiB"}
		}
		var s string
		if json.Unmarshal(cd, &s) == nil {
			r.CustomData = &s
		} else {
			t := string(cd)
			r.CustomData = &t
		}
		r.customDataJSON = json.RawMessage(cd)
	}
	if nu := bytes.TrimSpace(p.NoticeURL); len(nu) > 0 && string(nu) != "null" {
		// The typings allow a string or an array; one URL is kept (the first).
		var one string
		var many []string
		switch {
		case json.Unmarshal(nu, &one) == nil:
		case json.Unmarshal(nu, &many) == nil && len(many) > 0:
			one = many[0]
		default:
			return r, &paramError{"notice_url", "must be a URL or an array of URLs"}
		}
		if one != "" {
			if u, err := url.Parse(one); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return r, &paramError{"notice_url", "must be an absolute http(s) URL"}
			}
		}
		r.NoticeURL = one
	}
	if r.RedirectURL != "" {
		if _, err := originOf(r.RedirectURL); err != nil {
			return r, &paramError{"m_redirect_url", "must be an absolute http(s) URL"}
		}
	}
	return r, nil
}

// originOf returns scheme://host[:port] of an absolute http(s) URL.
func originOf(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", fmt.Errorf("not an absolute http(s) URL: %q", raw)
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), nil
}
