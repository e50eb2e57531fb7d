// Package checkout is Billkey's payment window: the IMP browser SDK
// (GET /v1/iamport.js), the hosted window page each PG personality renders
// (card, CHAI bank transfer, phone billing) and the demo merchant page.
//
// Flow: the merchant page calls IMP.request_pay; the SDK creates a window
// session server-side (POST /v1/checkout/sessions, CORS-checked against the
// configured origins) and opens GET /v1/checkout/{session} in an overlay
// iframe (callback mode) or navigates to it (redirect mode, m_redirect_url).
// The page posts its form, with a CSRF token bound to the session, back to
// Billkey; the session runs at most one payment (charge.Service.WindowPay)
// and then only ever answers with that outcome. The result goes to the
// merchant page by postMessage (to the session's origin only) or by a 303 to
// m_redirect_url.
package checkout

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/merchant"
	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/pg/provider"
	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/vault"
)

// Options configures the window.
type Options struct {
	Service *charge.Service
	// Merchants finds the merchant IMP.init names, its channels and origins.
	Merchants *merchant.Service
	Logger    *slog.Logger
	Clock     clock.Clock
	// Origins may embed the window (CSP frame-ancestors), open sessions
	// (CORS) and receive redirects: "https://shop.example.com",
	// "https://*.example.com", "http://localhost:*" or "*". Nil means
	// DefaultOrigins. The Billkey origin itself is always allowed.
	Origins []string
	// SessionTTL is how long a window stays usable (default 30 minutes).
	SessionTTL time.Duration
	// MaxAttempts caps submissions per window (default 5).
	MaxAttempts int
	// SubmitsPerIP caps form submissions per client IP per minute (default 20).
	SubmitsPerIP int
	// SessionsPerIP caps new windows per client IP per minute (default 60).
	SessionsPerIP int
	// Store keeps the windows, so that any node serves any step.
	Store *store.Store
	// Demo serves the demo merchant page at /demo.
	Demo bool
	// Terms tells a key-only window that belongs to a recurring agreement
	// (a v3 OneShot subscription) what will really be charged; nil, or no
	// terms for the order, shows the plain key-only note.
	Terms func(ctx context.Context, merchantID int64, merchantUID string) (Terms, bool)
}

// Terms are a recurring agreement's terms as the window states them, in
// Korean and English.
type Terms struct {
	Ko, En string
}

// Handler serves the SDK, the window and the demo.
type Handler struct {
	svc     *charge.Service
	mer     *merchant.Service
	log     *slog.Logger
	clock   clock.Clock
	origins merchant.Origins
	// merchantOrigins caches every merchant's origins for preflights.
	originsMu       sync.Mutex
	merchantOrigins merchant.Origins
	originsUntil    time.Time
	ttl             time.Duration
	maxAttempts     int
	sessions        *sessions
	submits         *limiter
	creates         *limiter
	demo            bool
	terms           func(ctx context.Context, merchantID int64, merchantUID string) (Terms, bool)
}

// New builds the handler; it fails on malformed origins.
func New(opts Options) (*Handler, error) {
	if opts.Origins == nil {
		opts.Origins = merchant.DefaultOrigins
	}
	if opts.Service == nil || opts.Merchants == nil || opts.Store == nil {
		return nil, errors.New("checkout: Service, Merchants and Store are required")
	}
	ps, err := merchant.ParseOrigins(opts.Origins)
	if err != nil {
		return nil, err
	}
	h := &Handler{svc: opts.Service, mer: opts.Merchants, log: opts.Logger, clock: opts.Clock, origins: ps, ttl: opts.SessionTTL,
		maxAttempts: opts.MaxAttempts, demo: opts.Demo, terms: opts.Terms}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.clock == nil {
		h.clock = clock.Real{}
	}
	if h.ttl <= 0 {
		h.ttl = 30 * time.Minute
	}
	if h.maxAttempts <= 0 {
		h.maxAttempts = 5
	}
	h.sessions = &sessions{st: opts.Store, mer: opts.Merchants, lease: windowPayTimeout + time.Minute}
	h.submits = newLimiter(orDefault(opts.SubmitsPerIP, 20), time.Minute)
	h.creates = newLimiter(orDefault(opts.SessionsPerIP, 60), time.Minute)
	return h, nil
}

func orDefault(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

// Route is one pattern (net/http ServeMux syntax) and its handler.
type Route struct {
	Pattern string
	Handler http.Handler
}

// Routes lists the endpoints to mount.
func (h *Handler) Routes() []Route {
	rs := []Route{
		{"GET " + SDKPath, http.HandlerFunc(serveSDK)},
		{"GET /v1/iamport.json", http.HandlerFunc(serveSDKInfo)},
		{"GET /v1/checkout/assets/{name}", http.HandlerFunc(serveAsset)},
		{"POST /v1/checkout/sessions", http.HandlerFunc(h.createSession)},
		{"OPTIONS /v1/checkout/sessions", http.HandlerFunc(h.preflight)},
		{"GET /v1/checkout/{sid}", http.HandlerFunc(h.page)},
		{"POST /v1/checkout/{sid}", http.HandlerFunc(h.submit)},
		{"POST /v1/checkout/{sid}/cancel", http.HandlerFunc(h.cancel)},
		{"POST /v1/checkout/{sid}/close", http.HandlerFunc(h.close)},
		{"OPTIONS /v1/checkout/{sid}/close", http.HandlerFunc(h.preflight)},
	}
	if h.demo {
		rs = append(rs,
			Route{"GET /demo", http.HandlerFunc(h.demoPage)},
			Route{"GET /demo/result", http.HandlerFunc(h.demoResult)},
		)
	}
	return rs
}

// FrameAncestors is the CSP frame-ancestors value the window is served with.
func (h *Handler) FrameAncestors() string {
	return strings.TrimSpace("'self' " + h.origins.CSP())
}

// selfOrigin is Billkey's own origin as the browser sees it. A TLS
// terminating proxy is recognised by X-Forwarded-Proto; trusting it only
// widens "same origin" to the https form of our own host.
func selfOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + strings.ToLower(r.Host)
}

func (h *Handler) originAllowed(r *http.Request, origin string) bool {
	return origin != "" && (origin == selfOrigin(r) || h.origins.Match(origin))
}

// anyMerchantOrigins is every merchant's window origins, cached briefly.
func (h *Handler) anyMerchantOrigins(ctx context.Context) merchant.Origins {
	h.originsMu.Lock()
	defer h.originsMu.Unlock()
	now := h.clock.Now()
	if now.Before(h.originsUntil) {
		return h.merchantOrigins
	}
	list, err := h.mer.AllCheckoutOrigins(ctx)
	if err != nil {
		h.log.Error("checkout: merchant origins", "err", err)
		return h.merchantOrigins
	}
	h.merchantOrigins = list
	h.originsUntil = now.Add(30 * time.Second)
	return h.merchantOrigins
}

// merchantOrigins are the merchant's own window origins (validated when set).
func merchantOrigins(m *core.Merchant) merchant.Origins {
	if m == nil {
		return nil
	}
	ps, _ := merchant.ParseOrigins(m.CheckoutOrigins)
	return ps
}

// allowedFor: the deployment's origins, or the merchant's own.
func (h *Handler) allowedFor(r *http.Request, origin string, m *core.Merchant) bool {
	return h.originAllowed(r, origin) || (origin != "" && merchantOrigins(m).Match(origin))
}

// frameAncestors is the window's frame-ancestors for a session's merchant.
func (h *Handler) frameAncestors(s *session) string {
	if s == nil {
		return h.FrameAncestors()
	}
	return strings.TrimSpace(h.FrameAncestors() + " " + merchantOrigins(s.merchant).CSP())
}

func (h *Handler) preflight(w http.ResponseWriter, r *http.Request) {
	// The merchant is only known from the POST body: the preflight passes
	// the deployment's origins and any merchant's; the POST itself checks
	// the origin against that merchant.
	w.Header().Add("Vary", "Origin")
	if o := r.Header.Get("Origin"); h.originAllowed(r, o) || h.anyMerchantOrigins(r.Context()).Match(o) {
		w.Header().Set("Access-Control-Allow-Origin", o)
		w.Header().Set("Access-Control-Allow-Methods", "POST")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
		w.Header().Set("Access-Control-Max-Age", "600")
	}
	w.WriteHeader(http.StatusNoContent)
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// pageHeaders are the security headers of every window page.
func (h *Handler) pageHeaders(w http.ResponseWriter, s *session) {
	formAction := "'self'"
	if s != nil && s.redirect {
		// Chromium applies form-action to the redirect that follows a form
		// post, so the merchant's return URL must be listed.
		if o, err := originOf(s.req.RedirectURL); err == nil {
			formAction += " " + o
		}
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; form-action "+formAction+"; frame-ancestors "+h.frameAncestors(s)+"; base-uri 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	// The page URL holds the session id: never leak it to the merchant. Not
	// "no-referrer": Chromium then sends "Origin: null" on our own form posts.
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// createResp answers POST /v1/checkout/sessions. On failure Rsp is the
// callback result and RedirectURL, in redirect mode, where to send it.
type createResp struct {
	SessionID   string `json:"session_id,omitempty"`
	URL         string `json:"url,omitempty"`
	Rsp         *rsp   `json:"rsp,omitempty"`
	RedirectURL string `json:"redirect_url,omitempty"`
	// Mode is how the window opens, decided by the PG's rule: "popup"
	// (overlay and callback) or "redirect" (page navigation).
	Mode string `json:"mode,omitempty"`
}

type createReq struct {
	MerchantCode string `json:"merchant_code"`
	Mode         string `json:"mode"` // "popup" (callback) or "redirect"
	// Mobile and Callback describe the page (a mobile browser; a callback
	// was given), so that each PG's own PC/mobile rule picks the mode. Older
	// SDKs send only Mode.
	Mobile   *bool  `json:"mobile,omitempty"`
	Callback *bool  `json:"callback,omitempty"`
	Params   params `json:"params"`
}

func (h *Handler) createSession(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var merchant *core.Merchant
	fail := func(status int, req request, redirect bool, code, msg string) {
		out := failRsp(req, req.PG, code, msg, nil)
		resp := createResp{Rsp: out}
		if redirect && req.RedirectURL != "" {
			if o, err := originOf(req.RedirectURL); err == nil && h.allowedFor(r, o, merchant) {
				resp.RedirectURL = redirectURL(req.RedirectURL, out)
			}
		}
		writeJSON(w, status, resp)
	}
	// Errors are readable by the page only once its origin is known to be
	// allowed: the deployment's origins here, the merchant's own below.
	origin := r.Header.Get("Origin")
	w.Header().Add("Vary", "Origin")
	if h.originAllowed(r, origin) {
		w.Header().Set("Access-Control-Allow-Origin", origin)
	}
	if !h.creates.allow(clientIP(r), h.clock.Now()) {
		fail(http.StatusTooManyRequests, request{}, false, CodeRateLimited, "요청이 너무 많습니다. 잠시 후 다시 시도하세요. (Too many requests.)")
		return
	}
	var in createReq
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 32<<10))
	if err := dec.Decode(&in); err != nil {
		fail(http.StatusBadRequest, request{}, false, CodeInvalidParams, "요청 형식이 올바르지 않습니다. (Malformed request: "+err.Error()+")")
		return
	}
	redirect := in.Mode == "redirect"
	req, err := parseParams(in.Params, func() string { return "merchant_" + h.clock.Now().Format("20060102150405") + "_" + randToken()[:8] })
	if err != nil {
		fail(http.StatusBadRequest, req, redirect, CodeInvalidParams, err.Error())
		return
	}
	if redirect && req.RedirectURL == "" {
		fail(http.StatusBadRequest, req, false, CodeInvalidParams, "m_redirect_url: required in redirect mode")
		return
	}
	m, err := h.mer.ByCode(ctx, strings.TrimSpace(in.MerchantCode))
	if err != nil {
		if !errors.Is(err, core.ErrNotFound) {
			h.log.Error("checkout: merchant lookup", "err", err)
		}
		fail(http.StatusNotFound, req, redirect, CodeInvalidMerchant, "가맹점 식별코드가 올바르지 않습니다. (Unknown merchant code passed to IMP.init.)")
		return
	}
	if !h.allowedFor(r, origin, m) {
		fail(http.StatusForbidden, request{}, false, CodeOriginRefused,
			"이 사이트에서는 결제창을 열 수 없습니다. (This origin may not open this merchant's payment windows; see BILLKEY_CHECKOUT_ORIGINS and billkey merchant set --checkout-origins.)")
		return
	}
	merchant = m
	w.Header().Set("Access-Control-Allow-Origin", origin)
	if redirect {
		if o, _ := originOf(req.RedirectURL); !h.allowedFor(r, o, m) {
			fail(http.StatusBadRequest, req, false, CodeOriginRefused, "m_redirect_url: origin "+o+" is not an allowed checkout origin")
			return
		}
	}
	ch, err := h.mer.WindowChannel(ctx, m.ID, req.PG)
	if err != nil {
		fail(http.StatusBadRequest, req, redirect, CodeInvalidParams, "pg: "+err.Error())
		return
	}
	pgName := ch.Provider
	if p, ok := provider.Lookup(ch.Provider); ok {
		pgName = p.Name
		if in.Mobile != nil && in.Callback != nil {
			mode, msg := windowMode(p, *in.Mobile, *in.Callback, req.RedirectURL != "")
			if msg != "" {
				fail(http.StatusBadRequest, req, false, CodeInvalidParams, msg)
				return
			}
			if mode == "redirect" && !redirect {
				if o, _ := originOf(req.RedirectURL); !h.allowedFor(r, o, m) {
					fail(http.StatusBadRequest, req, false, CodeOriginRefused, "m_redirect_url: origin "+o+" is not an allowed checkout origin")
					return
				}
			}
			redirect = mode == "redirect"
		}
		if !p.SupportsWindowMethod(req.PayMethod) {
			fail(http.StatusBadRequest, req, redirect, CodeUnsupported, pgName+" 결제창은 pay_method \""+req.PayMethod+
				"\"을(를) 지원하지 않습니다. (This PG's window does not support this pay_method; supported: "+strings.Join(p.Window, ", ")+")")
			return
		}
	}
	if err := h.svc.CheckPrepared(ctx, m.ID, req.MerchantUID, req.Amount, req.Currency); err != nil {
		var mm *charge.AmountMismatchError
		if errors.As(err, &mm) {
			h.log.Warn("checkout: amount differs from prepared", "merchant", m.Code, "merchant_uid", req.MerchantUID,
				"amount", req.Amount, "prepared", mm.Prepared.Amount)
			fail(http.StatusBadRequest, req, redirect, CodeAmountMismatch, msgAmountMismatch)
			return
		}
		h.log.Error("checkout: prepared lookup", "err", err)
		fail(http.StatusInternalServerError, req, redirect, CodeInternal, "internal error")
		return
	}
	now := h.clock.Now()
	s := &session{
		id: randToken(), csrf: randToken(), merchant: m, channel: ch, pgName: pgName, req: req, redirect: redirect,
		origin: r.Header.Get("Origin"), createdAt: now, expiresAt: now.Add(h.ttl),
	}
	if err := h.sessions.add(ctx, s); err != nil {
		h.log.Error("checkout: store window", "err", err)
		fail(http.StatusServiceUnavailable, req, redirect, CodeInternal, "결제창을 열 수 없습니다. 잠시 후 다시 시도하세요. (Could not open the window; try again.)")
		return
	}
	h.log.Info("checkout: window opened", "merchant", m.Code, "merchant_uid", req.MerchantUID, "pg", ch.Provider,
		"pay_method", req.PayMethod, "key_only", req.CustomerUID != "" && req.Amount == 0, "redirect", redirect)
	mode := "popup"
	if redirect {
		mode = "redirect"
	}
	writeJSON(w, http.StatusCreated, createResp{SessionID: s.id, URL: selfOrigin(r) + "/v1/checkout/" + s.id, Mode: mode})
}

// windowMode applies a PG's own PC/mobile rule from its i'mport guide:
// CHAI lands on m_redirect_url on PC and mobile alike (so it needs one);
// Danal, Kakao Pay, PAYCO and KG Mobilians call back on mobile as on PC;
// the rest call back on PC and redirect on mobile. Without a callback the
// window can only redirect.
func windowMode(p provider.PG, mobile, callback, hasRedirect bool) (mode, problem string) {
	switch {
	case p.PCRedirect && !hasRedirect:
		return "", p.Name + " 결제는 PC와 모바일 모두 m_redirect_url로 이동합니다. m_redirect_url을 지정하세요. " +
			"(This PG always redirects to m_redirect_url, on PC too.)"
	case p.PCRedirect, !callback && hasRedirect:
		return "redirect", ""
	case mobile && hasRedirect && !p.CallbackOnMobile:
		return "redirect", ""
	}
	return "popup", ""
}

// session finds the window of the request, answering itself when it is
// gone or cannot be read.
func (h *Handler) session(w http.ResponseWriter, r *http.Request) *session {
	s, err := h.sessions.get(r.Context(), r.PathValue("sid"))
	if err != nil {
		h.log.Error("checkout: read window", "err", err)
		h.pageHeaders(w, nil)
		w.WriteHeader(http.StatusServiceUnavailable)
		h.render(w, "message", messageData{Title: "일시적인 오류입니다", TitleEn: "Temporary error",
			Body: "잠시 후 새로고침하세요.", BodyEn: "Reload in a moment."})
		return nil
	}
	if s == nil {
		h.pageHeaders(w, nil)
		w.WriteHeader(http.StatusNotFound)
		h.render(w, "message", messageData{Title: "결제창을 찾을 수 없습니다", TitleEn: "Payment window not found",
			Body:   "결제창이 만료되었거나 존재하지 않습니다. 가맹점 페이지에서 다시 시도하세요.",
			BodyEn: "The window expired or never existed. Start again from the merchant's page."})
		return nil
	}
	return s
}

// finish makes out the window's final result (the first one wins, on any
// node) and returns the window as it now is.
func (h *Handler) finish(ctx context.Context, s *session, out *rsp, from ...store.CheckoutState) *session {
	cur, err := h.sessions.finish(context.WithoutCancel(ctx), s, out, from...)
	if err != nil {
		h.log.Error("checkout: finish window", "err", err)
	}
	return cur
}

// wait returns the window once it is no longer processing: its outcome,
// written by whichever node ran the submission. A submission whose node
// died holds the window until its lease ends; the window then ends as
// PAYMENT_PENDING, since the charge may have reached the PG (the merchant
// verifies it over REST, where the reconciler settles it).
func (h *Handler) wait(ctx context.Context, s *session) *session {
	delay := 10 * time.Millisecond
	for s.state == store.CheckoutProcessing {
		if h.clock.Now().After(s.leaseUntil) {
			out := failRsp(s.req, s.channel.Provider, CodePending, msgOrphaned, nil)
			b, _ := json.Marshal(out)
			if _, err := h.sessions.st.FinishAbandonedCheckoutSession(context.WithoutCancel(ctx), s.id, b, h.clock.Now()); err != nil {
				h.log.Error("checkout: end orphaned window", "err", err)
			}
		} else {
			select {
			case <-ctx.Done():
				return s
			case <-time.After(delay):
			}
			delay = min(2*delay, 250*time.Millisecond)
		}
		cur, err := h.sessions.get(ctx, s.id)
		if err != nil || cur == nil {
			return s
		}
		s = cur
	}
	return s
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	s := h.session(w, r)
	if s == nil {
		return
	}
	h.pageHeaders(w, s)
	if s.state == store.CheckoutOpen && h.clock.Now().After(s.expiresAt) {
		s = h.finish(r.Context(), s, failRsp(s.req, s.channel.Provider, CodeSessionExpired, msgExpired, nil), store.CheckoutOpen)
	}
	if s.state != store.CheckoutOpen {
		h.respondResult(w, r, h.wait(r.Context(), s))
		return
	}
	h.renderForm(r.Context(), w, s, http.StatusOK, "", nil)
}

const (
	msgExpired  = "결제창 유효시간이 지났습니다. 다시 시도하세요. (The payment window expired; please start again.)"
	msgOrphaned = "결제 결과를 확인하지 못했습니다. 가맹점에서 결제 여부를 확인합니다. (The payment's outcome is not known yet; the merchant will verify it.)"
	// windowPayTimeout bounds one submission's PG calls.
	windowPayTimeout = 2 * time.Minute
)

// respondResult shows a finished window's outcome: a 303 to m_redirect_url,
// or a page whose script posts the rsp to the merchant page.
func (h *Handler) respondResult(w http.ResponseWriter, r *http.Request, s *session) {
	out := s.result
	if out == nil {
		// Still processing and the client gave up waiting.
		w.WriteHeader(http.StatusAccepted)
		h.render(w, "message", messageData{Title: "결제 처리 중입니다", TitleEn: "Processing", Body: "잠시 후 새로고침하세요.", BodyEn: "Reload in a moment."})
		return
	}
	if s.redirect {
		http.Redirect(w, r, redirectURL(s.req.RedirectURL, out), http.StatusSeeOther)
		return
	}
	b, _ := json.Marshal(out)
	h.render(w, "result", resultData{
		Session: s.id, Origin: s.origin, Rsp: string(b), Success: out.Success, PGName: s.pgName,
		Provider: s.channel.Provider, KeyOnly: s.req.CustomerUID != "" && s.req.Amount == 0,
		ErrorCode: deref(out.ErrorCode), ErrorMsg: deref(out.ErrorMsg), ImpUID: deref(out.ImpUID), CustomerUID: s.req.CustomerUID,
	})
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// checkForm verifies the same-origin post and the session's CSRF token.
func (h *Handler) checkForm(w http.ResponseWriter, r *http.Request, s *session) bool {
	if o := r.Header.Get("Origin"); o != "" && o != selfOrigin(r) {
		w.WriteHeader(http.StatusForbidden)
		h.render(w, "message", messageData{Title: "잘못된 요청입니다", TitleEn: "Forbidden", Body: "다른 사이트에서 보낸 요청입니다.", BodyEn: "Cross-site form post refused."})
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		h.render(w, "message", messageData{Title: "잘못된 요청입니다", TitleEn: "Bad request", Body: "요청을 읽을 수 없습니다.", BodyEn: "Unreadable form."})
		return false
	}
	tok := r.PostForm.Get("csrf_token")
	if subtle.ConstantTimeCompare([]byte(tok), []byte(s.csrf)) != 1 {
		h.log.Warn("checkout: bad CSRF token", "merchant", s.merchant.Code, "merchant_uid", s.req.MerchantUID, "ip", clientIP(r))
		w.WriteHeader(http.StatusForbidden)
		h.render(w, "message", messageData{Title: "잘못된 요청입니다", TitleEn: "Invalid form token",
			Body: "결제창을 새로 열어 다시 시도하세요.", BodyEn: "The form token is missing or wrong. Open the window again."})
		return false
	}
	return true
}

func (h *Handler) submit(w http.ResponseWriter, r *http.Request) {
	s := h.session(w, r)
	if s == nil {
		return
	}
	h.pageHeaders(w, s)
	if !h.checkForm(w, r, s) {
		return
	}
	now := h.clock.Now()
	if !h.submits.allow(clientIP(r), now) {
		h.log.Warn("checkout: submission rate limit", "ip", clientIP(r), "merchant", s.merchant.Code)
		h.renderForm(r.Context(), w, s, http.StatusTooManyRequests, "요청이 너무 많습니다. 1분 후 다시 시도하세요. (Too many attempts from your network; wait a minute.)", r.PostForm)
		return
	}
	// Claim the window: only one submission ever reaches the PG, on
	// whichever node it arrives.
	claimed := false
	if s.state == store.CheckoutOpen {
		switch {
		case now.After(s.expiresAt):
			s = h.finish(r.Context(), s, failRsp(s.req, s.channel.Provider, CodeSessionExpired, msgExpired, nil), store.CheckoutOpen)
		case s.attempts >= h.maxAttempts:
			s = h.finish(r.Context(), s, failRsp(s.req, s.channel.Provider, CodeTooManyAttempts, "입력 횟수를 초과했습니다. (Too many attempts in this window.)", nil),
				store.CheckoutOpen)
		default:
			var err error
			if claimed, err = h.sessions.st.ClaimCheckoutSession(r.Context(), s.id, now, h.maxAttempts, h.sessions.lease); err != nil {
				h.log.Error("checkout: claim window", "err", err)
			}
			if !claimed {
				if cur, err := h.sessions.get(r.Context(), s.id); err == nil && cur != nil {
					s = cur
				}
			}
		}
	}
	if !claimed {
		// A replay or a double click: never run again, answer with the outcome.
		h.respondResult(w, r, h.wait(r.Context(), s))
		return
	}

	in, formErr := h.windowInput(s, r)
	if formErr == "" {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), windowPayTimeout)
		p, _, err := h.svc.WindowPay(ctx, s.merchant.ID, in)
		cancel()
		var invalid *charge.InvalidCardError
		var verr *charge.ValidationError
		switch {
		case errors.As(err, &invalid):
			formErr = cardErrorText(invalid.Reason)
		case errors.As(err, &verr) && (verr.Field == "card_number" || verr.Field == "expiry"):
			formErr = cardErrorText(verr.Field)
		default:
			out := outcomeRsp(s.req, s.channel.Provider, p, err)
			if out.ErrorCode != nil && *out.ErrorCode == CodeInternal {
				h.log.Error("checkout: window payment", "merchant", s.merchant.Code, "merchant_uid", s.req.MerchantUID, "err", err)
			}
			h.log.Info("checkout: window finished", "merchant", s.merchant.Code, "merchant_uid", s.req.MerchantUID,
				"imp_uid", deref(out.ImpUID), "status", deref(out.Status), "error_code", deref(out.ErrorCode))
			h.respondResult(w, r, h.finish(r.Context(), s, out))
			return
		}
	}
	// Input the customer can fix: reopen the form (attempts are counted).
	if err := h.sessions.st.ReopenCheckoutSession(context.WithoutCancel(r.Context()), s.id); err != nil {
		h.log.Error("checkout: reopen window", "err", err)
	}
	h.renderForm(r.Context(), w, s, http.StatusUnprocessableEntity, formErr, r.PostForm)
}

func cardErrorText(reason string) string {
	switch reason {
	case "expiry":
		return "유효기간을 MM/YY 형식으로 입력하세요. (Enter the expiry as MM/YY.)"
	case "expired":
		return "유효기간이 지난 카드입니다. (This card has expired.)"
	default:
		return "카드번호를 확인하세요. (Check the card number.)"
	}
}

// SandboxOTP is the phone-billing verification code the sandbox accepts.
const SandboxOTP = "123456"

// windowInput reads the submitted form. Card fields go straight into the
// PG request: they are never logged, stored (beyond the vault) or echoed.
func (h *Handler) windowInput(s *session, r *http.Request) (charge.WindowInput, string) {
	f := r.PostForm
	q := s.req
	channel := "pc"
	if s.redirect {
		channel = "mobile"
	}
	in := charge.WindowInput{PayMethod: q.PayMethod, PayInput: charge.PayInput{
		MerchantUID: q.MerchantUID, Amount: q.Amount, Currency: q.Currency, TaxFree: q.TaxFree, Name: q.Name,
		Buyer: q.Buyer, CustomData: q.CustomData, NoticeURL: q.NoticeURL, PG: s.channel.Provider + "." + s.channel.MID,
		CustomerUID: q.CustomerUID, Channel: channel,
	}}
	if p, ok := provider.Lookup(s.channel.Provider); ok && p.Wallet {
		return walletInput(in, f, p)
	}
	switch q.PayMethod {
	case charge.MethodCard:
		num := f.Get("card_number")
		if _, err := vault.NormalizeCardNumber(num); err != nil {
			return in, cardErrorText("card_number")
		}
		exp := strings.ReplaceAll(f.Get("expiry"), " ", "")
		if len(exp) == 4 && !strings.Contains(exp, "/") {
			exp = exp[:2] + "/" + exp[2:] // the field asks for MM/YY, so four digits are MMYY
		}
		birth, pwd := strings.TrimSpace(f.Get("birth")), strings.TrimSpace(f.Get("pwd_2digit"))
		if !digits(birth, 6) && !digits(birth, 10) {
			return in, "생년월일 6자리(법인카드는 사업자등록번호 10자리)를 입력하세요. (Enter your date of birth as YYMMDD, or a 10-digit business number.)"
		}
		if !digits(pwd, 2) {
			return in, "카드 비밀번호 앞 2자리를 입력하세요. (Enter the first 2 digits of the card PIN.)"
		}
		in.Card = &pg.Card{Number: num, Expiry: exp, Birth: birth, Pwd2Digit: pwd}
	case charge.MethodTrans:
		if _, ok := bankNames[f.Get("bank_code")]; !ok {
			return in, "은행을 선택하세요. (Choose a bank.)"
		}
		if f.Get("agree") != "yes" {
			return in, "자동이체 약관에 동의해야 합니다. (Please agree to the direct-debit terms.)"
		}
	case charge.MethodPhone:
		if _, ok := carrierNames[f.Get("carrier")]; !ok {
			return in, "통신사를 선택하세요. (Choose your carrier.)"
		}
		tel := strings.NewReplacer("-", "", " ", "").Replace(f.Get("phone"))
		if !(digits(tel, 10) || digits(tel, 11)) || !strings.HasPrefix(tel, "01") {
			return in, "휴대폰 번호를 확인하세요. (Check the mobile number.)"
		}
		if !digits(strings.TrimSpace(f.Get("birth")), 6) {
			return in, "생년월일 6자리를 입력하세요. (Enter your date of birth as YYMMDD.)"
		}
		if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(f.Get("otp"))), []byte(SandboxOTP)) != 1 {
			return in, "인증번호가 올바르지 않습니다. (Wrong verification code; the sandbox code is " + SandboxOTP + ".)"
		}
		if f.Get("agree") != "yes" {
			return in, "휴대폰 소액결제 약관에 동의해야 합니다. (Please agree to the phone-billing terms.)"
		}
	}
	return in, ""
}

func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (h *Handler) cancel(w http.ResponseWriter, r *http.Request) {
	s := h.session(w, r)
	if s == nil {
		return
	}
	h.pageHeaders(w, s)
	if !h.checkForm(w, r, s) {
		return
	}
	s = h.abandon(r.Context(), s, "사용자가 결제를 취소하셨습니다. (The customer cancelled the payment.)")
	h.respondResult(w, r, h.wait(r.Context(), s))
}

// close is the SDK telling us its overlay was closed (× or Esc). The session
// id is the only credential: the worst a thief of it can do is cancel the
// window, which its owner can do anyway. The answer is the window's real
// outcome, in case the payment finished just before the close.
func (h *Handler) close(w http.ResponseWriter, r *http.Request) {
	s, err := h.sessions.get(r.Context(), r.PathValue("sid"))
	if err != nil {
		h.log.Error("checkout: read window", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, createResp{})
		return
	}
	var m *core.Merchant
	if s != nil {
		m = s.merchant
	}
	w.Header().Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if !h.allowedFor(r, origin, m) {
		writeJSON(w, http.StatusForbidden, createResp{})
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	if s == nil {
		writeJSON(w, http.StatusNotFound, createResp{})
		return
	}
	s = h.abandon(r.Context(), s, "사용자가 결제창을 닫았습니다. (The customer closed the payment window.)")
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	s = h.wait(ctx, s)
	cancel()
	writeJSON(w, http.StatusOK, createResp{Rsp: s.result})
}

// abandon ends an open window as cancelled by the customer and returns the
// window as it now is (a submission may have claimed it meanwhile).
func (h *Handler) abandon(ctx context.Context, s *session, msg string) *session {
	open := s.state == store.CheckoutOpen
	if open {
		s = h.finish(ctx, s, failRsp(s.req, s.channel.Provider, CodeUserCancel, msg, nil), store.CheckoutOpen)
		h.log.Info("checkout: window cancelled", "merchant", s.merchant.Code, "merchant_uid", s.req.MerchantUID)
	}
	return s
}

// walletMeans are what a sandbox wallet holds: cards already registered in
// it (the sandbox test cards, by behaviour) and, for Kakao Pay, its money.
// The form names a means, never a card number.
var walletMeans = []struct {
	value, label, number string
	points               bool
}{
	{"card_ok", "신한카드 ****4242 (승인 approves)", "4242424242424242", false},
	{"card_funds", "KB국민카드 ****9995 (잔액부족 insufficient funds)", "4000000000009995", false},
	{"card_decline", "KB국민카드 ****0002 (거절 declined)", "4000000000000002", false},
	{"point", "카카오머니 KakaoMoney", "", true},
}

func walletOptions(p provider.PG) []option {
	var out []option
	for _, m := range walletMeans {
		if m.points && !p.SupportsWindowMethod(provider.MethodPoint) {
			continue
		}
		out = append(out, option{Value: m.value, Label: m.label})
	}
	return out
}

// walletInput reads a wallet window (Naver Pay, Kakao Pay, PAYCO): the
// buyer signs in with phone number and 6-digit payment password and picks
// one of the wallet's means; the pay_method the merchant sent does not
// matter, the means does.
func walletInput(in charge.WindowInput, f url.Values, p provider.PG) (charge.WindowInput, string) {
	tel := strings.NewReplacer("-", "", " ", "").Replace(f.Get("wallet_phone"))
	if !(digits(tel, 10) || digits(tel, 11)) || !strings.HasPrefix(tel, "01") {
		return in, "휴대폰 번호를 확인해 주세요. (Check the mobile number.)"
	}
	if !digits(strings.TrimSpace(f.Get("wallet_pin")), 6) {
		return in, "결제 비밀번호 6자리를 입력해 주세요. (Enter your 6-digit payment password.)"
	}
	for _, m := range walletMeans {
		if m.value != f.Get("wallet_means") || (m.points && !p.SupportsWindowMethod(provider.MethodPoint)) {
			continue
		}
		if m.points {
			in.PayMethod, in.Card = charge.MethodPoint, nil
			return in, ""
		}
		in.PayMethod = charge.MethodCard
		in.Card = &pg.Card{Number: m.number, Expiry: "2030-12"}
		return in, ""
	}
	return in, "결제수단을 선택해 주세요. (Choose how to pay.)"
}
