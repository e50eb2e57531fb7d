// Package v3 is the OneKey/D24 Subscriptions API v3 dialect: D24-signed
// requests, subscriptions, deposits and the OneShot hosted page, on top of
// the subscription engine.
package v3

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/billkey/billkey/internal/api/v3/d24"
	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/merchant"
	"github.com/billkey/billkey/internal/period"
	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/subscription"
)

// SecretOpener unseals a stored D24 signature secret (the vault).
type SecretOpener interface {
	OpenString(ciphertext []byte, keyID, aad string) (string, error)
}

// Options wires the handler.
type Options struct {
	Engine  *subscription.Engine
	Service *charge.Service
	Store   *store.Store
	Vault   SecretOpener
	Clock   clock.Clock
	// WallClock checks X-Date; nil means the wall clock.
	WallClock clock.Clock
	Logger    *slog.Logger
	// Window is the accepted X-Date skew (default ±5 minutes).
	Window time.Duration
	// WindowPG is the payment-window PG the OneShot page opens (default kicc).
	WindowPG string
	// IdempotencyLease is how long an unanswered X-Idempotency-Key claim
	// holds before a retry may take it over (default DefaultIdempotencyLease).
	IdempotencyLease time.Duration
	// Registerer receives the request metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
}

// DefaultIdempotencyLease outlasts the longest create (a key issuance and a
// first charge, each bounded by the PG timeout), so that only a claim whose
// node died or hung is taken over.
const DefaultIdempotencyLease = 2 * time.Minute

// Handler serves /v3/.
type Handler struct {
	opts     Options
	verifier *d24.Verifier
	page     *template.Template
	metrics  *requestMetrics
}

//go:embed assets
var assets embed.FS

const maxBody = 64 << 10

// New builds the handler.
func New(opts Options) *Handler {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.WallClock == nil {
		opts.WallClock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.WindowPG == "" {
		opts.WindowPG = "kicc"
	}
	if opts.IdempotencyLease <= 0 {
		opts.IdempotencyLease = DefaultIdempotencyLease
	}
	h := &Handler{opts: opts, page: template.Must(template.ParseFS(assets, "assets/oneshot.html")), metrics: newRequestMetrics(opts.Registerer)}
	// X-Date is the client's clock, so the window is checked against the
	// wall clock: a sandbox test clock moves billing time only.
	h.verifier = &d24.Verifier{Window: opts.Window, Now: opts.WallClock.Now, Secret: h.secret,
		Remember: func(ctx context.Context, fingerprint string, until time.Time) (bool, error) {
			return opts.Store.RememberD24Request(ctx, fingerprint, until, opts.WallClock.Now())
		}}
	return h
}

func (h *Handler) secret(ctx context.Context, xLogin string) (string, int64, error) {
	c, err := h.opts.Store.D24CredentialByLogin(ctx, xLogin)
	if errors.Is(err, core.ErrNotFound) {
		return "", 0, d24.ErrUnknownLogin
	}
	if err != nil {
		return "", 0, err
	}
	secret, err := h.opts.Vault.OpenString(c.SecretCipher, c.SecretKeyID, merchant.D24SecretAAD(c.MerchantID))
	if err != nil {
		return "", 0, fmt.Errorf("open d24 secret: %w", err)
	}
	return secret, c.MerchantID, nil
}

// Route is one pattern for the top-level ServeMux.
type Route struct {
	Pattern string
	Handler http.Handler
}

// Routes lists the v3 endpoints.
func (h *Handler) Routes() []Route {
	signed := func(f http.HandlerFunc) http.Handler { return h.verifier.Handler(maxBody, f) }
	routes := []Route{
		{"POST /v3/subscriptions", signed(h.idempotent(h.create))},
		{"GET /v3/subscriptions/{id}", signed(h.get)},
		{"DELETE /v3/subscriptions/{id}", signed(h.cancel)},
		{"GET /v3/deposits/{id}", signed(h.deposit)},
		{"GET /v3/checkout/{token}", http.HandlerFunc(h.checkoutPage)},
		{"GET /v3/checkout/{token}/complete", http.HandlerFunc(h.checkoutComplete)},
		{"GET /v3/checkout-assets/oneshot.js", http.HandlerFunc(h.asset)},
	}
	for i := range routes {
		routes[i].Handler = h.metrics.measure(routes[i].Pattern, routes[i].Handler)
	}
	return routes
}

// RefuseMalformed answers a request holding NUL or invalid UTF-8 (see
// internal/wellformed): in the v3 envelope, or as a page for the OneShot
// pages and their script, which a browser opens.
func RefuseMalformed(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/v3/checkout") {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `<!doctype html><html lang="ko"><meta charset="utf-8"><title>잘못된 요청 (Bad request)</title>`+
			`<p>요청에 사용할 수 없는 문자가 포함되어 있습니다. (The request contains NUL or invalid UTF-8.)</p></html>`)
		return
	}
	d24.WriteError(w, d24.ErrValidation("request contains NUL or invalid UTF-8"))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// money renders minor units as a JSON number.
func money(minor int64, currency string) json.Number {
	return json.Number(core.FormatAmount(minor, currency))
}

func merchantID(r *http.Request) int64 {
	id, _ := d24.MerchantID(r.Context())
	return id
}

// --- idempotency ---

type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) { r.status = code; r.ResponseWriter.WriteHeader(code) }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// idempotent replays the first response to a POST with the same
// X-Idempotency-Key and body for 24 hours, and refuses the key with another
// body. A claim left unanswered for IdempotencyLease (its node crashed) is
// taken over by the next retry; running the request again is safe because
// invoice_id is unique per merchant.
func (h *Handler) idempotent(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(r)
		if err != nil {
			d24.WriteError(w, d24.ErrValidation("unreadable body"))
			return
		}
		mid := merchantID(r)
		key, ok, err := d24.IdempotencyKeyFrom(r.Header, mid, r.Method, r.URL.Path, body)
		if err != nil {
			d24.WriteError(w, err)
			return
		}
		if !ok {
			next(w, r)
			return
		}
		stored, claim, err := h.opts.Store.ClaimIdempotencyKey(r.Context(), mid, key.Key, key.RequestHash, h.opts.Clock.Now(),
			d24.IdempotencyRetention, h.opts.IdempotencyLease)
		if err != nil {
			d24.WriteError(w, err)
			return
		}
		if claim == nil {
			if err := key.Check(stored.RequestHash); err != nil {
				d24.WriteError(w, err)
				return
			}
			if stored.StatusCode == 0 {
				d24.WriteError(w, &d24.Error{HTTPStatus: http.StatusConflict, Code: http.StatusConflict, Type: "IDEMPOTENCY_KEY_IN_USE",
					Description: "A request with this X-Idempotency-Key is still being processed."})
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(stored.StatusCode)
			w.Write(stored.Body)
			return
		}
		rec := &recorder{ResponseWriter: w}
		next(rec, r)
		status := rec.status
		if status >= 500 {
			status = 0 // not an answer worth replaying: let a retry run again
		}
		if claim.TakenOver {
			h.opts.Logger.Warn("took over an idempotency key whose claim outlived its lease", "merchant_id", mid)
		}
		ok, err = h.opts.Store.CompleteIdempotencyKey(context.WithoutCancel(r.Context()), claim, status, rec.body.Bytes())
		if err != nil {
			h.opts.Logger.Error("store idempotent response", "err", err)
		} else if !ok {
			h.opts.Logger.Warn("idempotency key was taken over by a retry before this request answered", "merchant_id", mid)
		}
	}
}

func readBody(r *http.Request) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r.Body); err != nil {
		return nil, err
	}
	r.Body.Close()
	b := buf.Bytes()
	r.Body = readCloser{bytes.NewReader(b)}
	return b, nil
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// --- create ---

type createReq struct {
	InvoiceID    string          `json:"invoice_id"`
	Amount       json.Number     `json:"amount"`
	Currency     string          `json:"currency"`
	Country      string          `json:"country"`
	Payer        json.RawMessage `json:"payer"`
	Description  string          `json:"description"`
	Subscription *struct {
		StartDate   string `json:"start_date"`
		Plan        string `json:"plan"`
		PlanUnit    *int   `json:"plan_unit"`
		AutoRenewal *bool  `json:"auto_renewal"`
	} `json:"subscription"`
	CreditCard *struct {
		HolderName      string `json:"holder_name"`
		CardNumber      string `json:"card_number"`
		CVV             string `json:"cvv"`
		ExpirationMonth string `json:"expiration_month"`
		ExpirationYear  string `json:"expiration_year"`
	} `json:"credit_card"`
	// CustomerUID is Billkey's extension: charge an existing v1 billing key.
	CustomerUID     string `json:"customer_uid"`
	ClientIP        string `json:"client_ip"`
	BackURL         string `json:"back_url"`
	SuccessURL      string `json:"success_url"`
	ErrorURL        string `json:"error_url"`
	NotificationURL string `json:"notification_url"`
}

// Bounds on free fields (the body itself is capped at maxBody).
const (
	maxFreeText = 1000
	maxPayer    = 16 << 10
	maxURL      = 2048
)

func validation(format string, a ...any) error { return d24.ErrValidation(fmt.Sprintf(format, a...)) }

func (req *createReq) input() (subscription.CreateInput, error) {
	var in subscription.CreateInput
	switch {
	case req.InvoiceID == "":
		return in, validation("invoice_id is required")
	case req.Amount == "":
		return in, validation("amount is required")
	case req.Currency == "":
		return in, validation("currency is required")
	case req.Country == "":
		return in, validation("country is required")
	case req.Subscription == nil:
		return in, validation("subscription is required")
	case req.Subscription.Plan == "":
		return in, validation("subscription.plan is required")
	}
	cur, err := core.NormalizeCurrency(req.Currency)
	if err != nil {
		return in, validation("currency must be an ISO 4217 currency code")
	}
	req.Currency = cur
	for name, f := range map[string]struct {
		n, max int
	}{
		"description": {utf8.RuneCountInString(req.Description), maxFreeText}, "client_ip": {len(req.ClientIP), 64},
		"payer": {len(req.Payer), maxPayer}, "back_url": {len(req.BackURL), maxURL}, "success_url": {len(req.SuccessURL), maxURL},
		"error_url": {len(req.ErrorURL), maxURL}, "notification_url": {len(req.NotificationURL), maxURL},
	} {
		if f.n > f.max {
			return in, validation("%s must be at most %d characters", name, f.max)
		}
	}
	amount, err := core.ParseAmount(req.Amount.String(), req.Currency)
	if err != nil {
		return in, validation("amount must be a positive number with at most the currency's decimals")
	}
	unit, auto := 1, false
	if req.Subscription.PlanUnit != nil {
		unit = *req.Subscription.PlanUnit
	}
	if req.Subscription.AutoRenewal != nil {
		auto = *req.Subscription.AutoRenewal
	}
	for name, u := range map[string]string{"back_url": req.BackURL, "success_url": req.SuccessURL, "error_url": req.ErrorURL, "notification_url": req.NotificationURL} {
		if u == "" {
			continue
		}
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return in, validation("%s must be an http(s) URL", name)
		}
	}
	in = subscription.CreateInput{
		InvoiceID: req.InvoiceID, Amount: amount, Currency: req.Currency, Country: req.Country, Description: req.Description,
		Payer: req.Payer, Plan: req.Subscription.Plan, PlanUnit: unit, AutoRenewal: auto, StartDate: req.Subscription.StartDate,
		CustomerUID: req.CustomerUID, NotificationURL: req.NotificationURL, BackURL: req.BackURL, SuccessURL: req.SuccessURL,
		ErrorURL: req.ErrorURL, ClientIP: req.ClientIP,
	}
	if c := req.CreditCard; c != nil {
		year := c.ExpirationYear
		if len(year) == 2 {
			year = "20" + year
		}
		month := c.ExpirationMonth
		if len(month) == 1 {
			month = "0" + month
		}
		in.Card = &pg.Card{Number: c.CardNumber, Expiry: year + "-" + month, CVC: c.CVV}
		in.HolderName = c.HolderName
	}
	return in, nil
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request) {
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	var req createReq
	if err := dec.Decode(&req); err != nil {
		d24.WriteError(w, validation("body must be a JSON object: %v", err))
		return
	}
	in, err := req.input()
	if err != nil {
		d24.WriteError(w, err)
		return
	}
	sub, err := h.opts.Engine.Create(r.Context(), merchantID(r), in)
	var ve *subscription.ValidationError
	var ce *subscription.CardError
	switch {
	case errors.As(err, &ve):
		d24.WriteError(w, validation("%s %s", ve.Field, ve.Reason))
		return
	case errors.As(err, &ce):
		d24.WriteError(w, d24.ErrUnprocessable("Credit card rejected: "+declineText(cardReason(ce), in.Country)))
		return
	case errors.Is(err, subscription.ErrInvoiceExists):
		d24.WriteError(w, d24.ErrUnprocessable("A subscription with this invoice_id already exists."))
		return
	case err != nil:
		h.opts.Logger.Error("create subscription", "err", err)
		d24.WriteError(w, d24.ErrServiceUnavailable())
		return
	}
	if sub.Flow != core.FlowOneShot {
		writeJSON(w, http.StatusOK, map[string]any{"subscription_id": sub.ID})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"subscription_id": sub.ID,
		"redirect_url":    baseURL(r) + "/v3/checkout/" + sub.CheckoutToken + "?subscriptionId=" + strconv.FormatInt(sub.ID, 10),
		"expiration_date": inZone(sub.CheckoutExpires, sub.TimeZone).Format("2006-01-02 15:04:05"),
		"payment_amount":  money(sub.Amount, sub.Currency),
		"redirect":        true,
	})
}

func cardReason(ce *subscription.CardError) string {
	var refused *charge.PGRefusedError
	if errors.As(ce.Err, &refused) {
		return refused.Err.Message
	}
	var inv *charge.InvalidCardError
	if errors.As(ce.Err, &inv) {
		return "invalid " + inv.Reason
	}
	return "declined"
}

// declineKind is what a PG's refusal says, whatever its wording: the PG
// personalities keep these words in their texts.
type declineKind int

const (
	declineGeneric declineKind = iota
	declineFunds
	declineExpired
	declineNumber
)

func kindOf(reason string) declineKind {
	switch {
	case strings.Contains(reason, "잔액부족") || strings.Contains(reason, "한도초과"):
		return declineFunds
	case strings.Contains(reason, "유효기간"):
		return declineExpired
	case strings.Contains(reason, "카드번호") || strings.HasPrefix(reason, "invalid number"):
		return declineNumber
	}
	return declineGeneric
}

// declineTexts word a decline for the subscription's country: D24 serves
// Latin America in Portuguese and Spanish, and a Korean PG's own text only
// makes sense to a Korean payer.
var declineTexts = map[string][4]string{
	"en": {"Transaction declined by the card issuer", "Insufficient funds", "Expired card", "Invalid card number"},
	"pt": {"Transação recusada pelo emissor do cartão", "Saldo insuficiente", "Cartão vencido", "Número do cartão inválido"},
	"es": {"Transacción rechazada por el emisor de la tarjeta", "Fondos insuficientes", "Tarjeta vencida", "Número de tarjeta inválido"},
}

var countryLanguage = map[string]string{
	"BR": "pt", "PT": "pt", "MX": "es", "CO": "es", "CL": "es", "PE": "es", "AR": "es", "UY": "es", "EC": "es",
	"BO": "es", "PY": "es", "CR": "es", "PA": "es", "GT": "es", "SV": "es", "DO": "es", "ES": "es",
}

// declineText is reason (the PG's own text) in the words of the
// subscription's country: the PG's text itself for Korea, Portuguese or
// Spanish for D24's Latin American countries, English elsewhere.
func declineText(reason, country string) string {
	country = strings.ToUpper(strings.TrimSpace(country))
	if country == "KR" || reason == "" {
		return reason
	}
	lang, ok := countryLanguage[country]
	if !ok {
		lang = "en"
	}
	return declineTexts[lang][kindOf(reason)]
}

// baseURL is how the client reached us, for links it will follow.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// --- read, cancel ---

func pathID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// localTime formats an instant as D24 does: local, no zone.
// Every v3 timestamp is the subscription's local time (its time zone,
// Asia/Seoul unless the merchant set another), without a zone as the docs
// show them: creation_date and last_modified_date as 2006-01-02T15:04:05,
// expiration_date as 2006-01-02 15:04:05.
func localTime(t time.Time, zone string) string {
	return inZone(t, zone).Format("2006-01-02T15:04:05")
}

func inZone(t time.Time, zone string) time.Time {
	loc, err := period.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	return t.In(loc)
}

func (h *Handler) subscriptionView(sub *core.Subscription) map[string]any {
	end := ""
	if !sub.EndAt.IsZero() {
		loc, _ := period.LoadLocation(sub.TimeZone)
		end = period.DateOf(sub.EndAt.In(loc)).String()
	} else if start, err := period.ParseDate(sub.StartDate); err == nil {
		if d, err := period.EndDate(start, period.Plan(sub.Plan), sub.PlanUnit); err == nil {
			end = d.String()
		}
	}
	// A status reached by time alone (a term that ended, an abandoned
	// OneShot link) changed when that time came.
	modified := sub.UpdatedAt
	switch {
	case sub.Status == core.SubTerminated && sub.EndAt.After(modified):
		modified = sub.EndAt
	case sub.Status == core.SubCancelled && sub.Flow == core.FlowOneShot && sub.CustomerUID == "" &&
		sub.CancelledAt.IsZero() && sub.CheckoutExpires.After(modified):
		modified = sub.CheckoutExpires
	}
	return map[string]any{
		"id": sub.ID, "status": sub.Status, "start_date": sub.StartDate, "end_date": end,
		"creation_date": localTime(sub.CreatedAt, sub.TimeZone), "subscription_plan": sub.Plan,
		"amount": money(sub.Amount, sub.Currency), "auto_renewal": sub.AutoRenewal,
		"last_modified_date": localTime(modified, sub.TimeZone),
	}
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		d24.WriteError(w, d24.ErrSubscriptionNotFound())
		return
	}
	sub, err := h.opts.Engine.Get(r.Context(), merchantID(r), id)
	if errors.Is(err, subscription.ErrNotFound) {
		d24.WriteError(w, d24.ErrSubscriptionNotFound())
		return
	}
	if err != nil {
		d24.WriteError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, h.subscriptionView(sub))
}

func (h *Handler) cancel(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		d24.WriteError(w, d24.ErrSubscriptionNotFound())
		return
	}
	_, err := h.opts.Engine.Cancel(r.Context(), merchantID(r), id)
	switch {
	case errors.Is(err, subscription.ErrNotFound):
		d24.WriteError(w, d24.ErrSubscriptionNotFound())
	case errors.Is(err, subscription.ErrAlreadyCancelled):
		d24.WriteError(w, d24.ErrSubscriptionAlreadyCancelled())
	case errors.Is(err, subscription.ErrTerminated):
		d24.WriteError(w, d24.ErrSubscriptionTerminated())
	case err != nil:
		h.opts.Logger.Error("cancel subscription", "err", err)
		d24.WriteError(w, d24.ErrGenericCancel())
	default:
		writeJSON(w, http.StatusOK, map[string]any{})
	}
}

// --- deposits ---

var brands = map[string]struct{ brand, code string }{"4": {"Visa", "VI"}, "5": {"Mastercard", "MC"}, "3": {"American Express", "AE"}, "6": {"Discover", "DC"}, "9": {"BC Card", "BC"}}

func (h *Handler) deposit(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		d24.WriteError(w, &d24.Error{HTTPStatus: http.StatusBadRequest, Code: http.StatusBadRequest, Type: d24.TypeValidation, Description: "Invalid deposit_id."})
		return
	}
	d, err := h.opts.Engine.GetDeposit(r.Context(), merchantID(r), id)
	if errors.Is(err, subscription.ErrNotFound) {
		d24.WriteError(w, &d24.Error{HTTPStatus: http.StatusNotFound, Code: http.StatusNotFound, Type: "DEPOSIT_NOT_FOUND", Description: "Deposit not found."})
		return
	}
	if err != nil {
		d24.WriteError(w, err)
		return
	}
	p, sub := d.Payment, d.Subscription
	var payer map[string]any
	json.Unmarshal([]byte(sub.Payer), &payer)
	userID, _ := payer["id"].(string)
	b := brands[firstDigit(p.CardNumber)]
	if b.brand == "" {
		b.brand, b.code = "Card", "CC"
	}
	cardType := "CREDIT"
	if p.CardType != nil && *p.CardType == 1 {
		cardType = "DEBIT"
	}
	result := "Transaction Approved"
	if d.Status != core.DepositCompleted {
		result = declineText(p.FailReason, sub.Country)
	}
	holder := strings.TrimSpace(fmt.Sprint(payer["first_name"], " ", payer["last_name"]))
	if payer["first_name"] == nil {
		holder = ""
	}
	var expiration any
	if k, err := h.opts.Service.GetBillingKey(r.Context(), merchantID(r), sub.CustomerUID); err == nil {
		if k.Customer.Name != "" {
			holder = k.Customer.Name // holder_name as sent
		}
		if k.CardExpiry != "" {
			expiration = k.CardExpiry // kept beside the sealed PG key; no card number is kept
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"user_id": userID, "deposit_id": d.ID, "subscription_id": d.SubscriptionID, "invoice_id": sub.InvoiceID,
		"country": sub.Country, "currency": p.Currency, "local_amount": money(p.Amount, p.Currency),
		"amount": money(p.Amount, p.Currency), "usd_amount": usdAmount(p.Amount, p.Currency),
		"bonus_amount": json.Number("0.00"), "bonus_relative": "false",
		"payment_method": b.code, "payment_type": "CREDIT_CARD", "status": d.Status, "payer": payer,
		"refunded": p.CancelAmount > 0, "fee_amount": json.Number("0.00"), "fee_currency": p.Currency,
		"bank_account": nil,
		"card_detail": map[string]any{
			"card_holder": holder, "brand": b.brand, "masked_card": spacedMask(p.CardNumber), "expiration": expiration,
			"card_type": cardType, "transaction_result": result,
		},
	})
}

// spacedMask writes a masked number as the D24 docs do, in groups of four:
// "424242******4242" → "4242 42** **** 4242".
func spacedMask(masked string) string {
	var b strings.Builder
	for i, r := range masked {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// sandboxUSDRates are fixed reference rates (units of the currency per US
// dollar) that fill usd_amount, since the sandbox has no FX feed: the
// amounts are indicative, not a quote.
var sandboxUSDRates = map[string]float64{
	"KRW": 1350, "BRL": 5.0, "MXN": 17.0, "COP": 4000, "CLP": 900, "PEN": 3.7, "ARS": 900, "UYU": 39,
	"JPY": 150, "EUR": 0.92, "GBP": 0.79, "INR": 83, "CNY": 7.2, "IDR": 15600, "THB": 36, "VND": 24500, "PHP": 56,
}

// usdAmount is the deposit's value in US dollars: the amount itself for
// USD, the sandbox reference rate otherwise; null for a currency without one.
func usdAmount(minor int64, currency string) any {
	if strings.EqualFold(currency, "USD") {
		return money(minor, "USD")
	}
	rate, ok := sandboxUSDRates[strings.ToUpper(currency)]
	scale, err := core.CurrencyScale(currency)
	if !ok || err != nil {
		return nil
	}
	major := float64(minor) / math.Pow10(scale)
	return money(int64(math.Round(major/rate*100)), "USD")
}

func firstDigit(s string) string {
	if s == "" {
		return ""
	}
	return s[:1]
}

// --- OneShot hosted page ---

// checkoutPage opens the payment window for a OneShot subscription: it is
// Billkey's own IMP.request_pay in redirect mode, issuing the billing key
// only (amount 0); the first charge follows on completion.
func (h *Handler) checkoutPage(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	sub, m, err := h.opts.Engine.Checkout(r.Context(), token)
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "same-origin")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if err != nil {
		w.WriteHeader(http.StatusGone)
		h.page.Execute(w, map[string]any{"Expired": true})
		return
	}
	data := map[string]any{
		"MerchantCode": m.Code, "MerchantName": m.Name, "PG": h.opts.WindowPG, "MerchantUID": subscription.KeyOrderUID(sub.ID),
		"CustomerUID": subscription.CheckoutCustomerUID(sub), "Name": sub.Description,
		"Amount": core.FormatAmount(sub.Amount, sub.Currency), "Currency": sub.Currency, "Plan": sub.Plan,
		"Redirect": baseURL(r) + "/v3/checkout/" + token + "/complete",
	}
	for k, v := range oneShotTerms(sub, clock.For(h.opts.Clock, sub.MerchantID)) {
		data[k] = v
	}
	h.page.Execute(w, data)
}

var planWords = map[string][2]string{
	"DAILY": {"매일", "every day"}, "WEEKLY": {"매주", "every week"}, "MONTHLY": {"매월", "every month"},
	"ANNUALLY": {"매년", "every year"}, "TEST": {"매분(테스트)", "every minute (test)"},
}

// oneShotTerms is what the hosted page tells the customer before any card
// is entered, as Korean e-commerce rules require for recurring payments: what
// is charged now (or on the start date), the recurring amount and period, the
// next charge date, and how long it lasts.
func oneShotTerms(sub *core.Subscription, now time.Time) map[string]any {
	loc, err := period.LoadLocation(sub.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	today := period.DateOf(now.In(loc)).String()
	words, ok := planWords[sub.Plan]
	if !ok {
		words = [2]string{sub.Plan, sub.Plan}
	}
	out := map[string]any{
		"FirstNow": sub.StartDate <= today, "StartDate": sub.StartDate, "PlanKo": words[0], "PlanEn": words[1],
		"Periods": sub.PlanUnit, "AutoRenewal": sub.AutoRenewal,
	}
	start, err1 := period.ParseDate(sub.StartDate)
	plan, err2 := period.ParsePlan(sub.Plan)
	at := period.TimeOfDay{Hour: sub.ChargeTime / 3600, Minute: sub.ChargeTime / 60 % 60, Second: sub.ChargeTime % 60}
	if sched, err := period.NewSchedule(plan, start, at, loc); err1 == nil && err2 == nil && err == nil {
		out["NextDate"] = sched.NthDate(1).String()
	}
	return out
}

// OneShotNotice is what a OneShot subscription's key window states
// instead of "nothing is charged now": the first charge that follows the
// key (today or on the start date), the recurring amount and period, and
// the next date, in Korean and English.
func OneShotNotice(sub *core.Subscription, now time.Time) (ko, en string) {
	t := oneShotTerms(sub, now)
	amount := core.FormatAmount(sub.Amount, sub.Currency) + " " + sub.Currency
	if t["FirstNow"].(bool) {
		ko = "등록을 마치면 오늘 " + amount + "이(가) 바로 결제되고"
		en = "Once saved, " + amount + " is charged today"
	} else {
		ko = "등록을 마치면 " + sub.StartDate + "에 첫 결제 " + amount + "이(가) 이루어지고"
		en = "Once saved, the first " + amount + " is charged on " + sub.StartDate
	}
	ko += ", 이후 " + t["PlanKo"].(string) + " " + amount + "이(가) 이 수단으로 자동 결제됩니다."
	en += ", then " + amount + " " + t["PlanEn"].(string) + " to this method."
	if next, ok := t["NextDate"].(string); ok {
		ko += " 다음 결제일: " + next + "."
		en += " Next charge: " + next + "."
	}
	return ko, en
}

func (h *Handler) checkoutComplete(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	q := r.URL.Query()
	sub, _, cerr := h.opts.Engine.Checkout(r.Context(), token)
	target := func(ok bool) string {
		if sub == nil {
			return ""
		}
		if ok && sub.SuccessURL != "" {
			return sub.SuccessURL
		}
		if !ok && sub.ErrorURL != "" {
			return sub.ErrorURL
		}
		return sub.BackURL
	}
	ok := cerr == nil && q.Get("imp_success") != "false" && q.Get("error_code") == ""
	if ok {
		if _, err := h.opts.Engine.CompleteCheckout(r.Context(), token, q.Get("imp_uid")); err != nil {
			h.opts.Logger.Warn("oneshot checkout not completed", "err", err)
			ok = false
		}
	}
	next := target(ok)
	if next != "" && sub != nil {
		next = withQuery(next, "subscription_id", strconv.FormatInt(sub.ID, 10))
	}
	// This request ends the window's form post, so an HTTP redirect to the
	// merchant would be held to the window page's form-action policy; a page
	// that moves on by itself starts a fresh navigation instead.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'")
	w.Header().Set("Cache-Control", "no-store")
	if !ok {
		w.WriteHeader(http.StatusBadRequest)
	}
	h.page.ExecuteTemplate(w, "done", map[string]any{"OK": ok, "Next": next})
}

func withQuery(raw, k, v string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	q.Set(k, v)
	u.RawQuery = q.Encode()
	return u.String()
}

func (h *Handler) asset(w http.ResponseWriter, r *http.Request) {
	b, _ := assets.ReadFile("assets/oneshot.js")
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(b)
}
