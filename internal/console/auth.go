package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"

	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/store"
)

const (
	sessionCookie = "billkey_console"
	loginCookie   = "billkey_console_login" // CSRF token of the sign-in form, before there is a session
	// SessionTTL is how long a sign-in lasts.
	SessionTTL = 12 * time.Hour
	// SetupTTL is how long a password-set link works.
	SetupTTL = 72 * time.Hour
	// MinPassword is the shortest password accepted (NIST SP 800-63B).
	MinPassword = 10
)

// hashParams are OWASP's argon2id minimum (19 MiB, 2 passes): about 30 ms
// here, paid only at sign-in.
var hashParams = &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// hashing bounds concurrent argon2id runs: each takes 19 MiB, and sign-in
// attempts from many addresses must not add up to all of the memory.
var hashing = make(chan struct{}, 4)

func compareHash(password, hash string) (bool, error) {
	hashing <- struct{}{}
	defer func() { <-hashing }()
	return argon2id.ComparePasswordAndHash(password, hash)
}

func createHash(password string) (string, error) {
	hashing <- struct{}{}
	defer func() { <-hashing }()
	return argon2id.CreateHash(password, hashParams)
}

// dummyHash is verified against when an e-mail has no account, so that the
// answer takes as long as for a wrong password.
var dummyHash = func() string {
	h, err := argon2id.CreateHash("billkey-console-no-such-user", hashParams)
	if err != nil {
		panic(err)
	}
	return h
}()

func randToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(t string) []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}

// NormalizeEmail lower-cases and checks an e-mail address.
func NormalizeEmail(e string) (string, error) {
	e = strings.ToLower(strings.TrimSpace(e))
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || len(e) > 254 {
		return "", fmt.Errorf("e-mail %q: not a plain address like ops@example.com", e)
	}
	return e, nil
}

// AddUser creates a console account for the merchant with that code and
// returns the path of its one-time password-set link (relative to the
// server's base URL). The CLI calls it.
func (h *Handler) AddUser(ctx context.Context, merchantCode, email string, role core.OperatorRole) (string, error) {
	m, err := h.o.Merchants.ByCode(ctx, merchantCode)
	if err != nil {
		return "", fmt.Errorf("merchant %q: %w", merchantCode, err)
	}
	return h.addUser(ctx, by(m.ID, 0, "cli"), email, role)
}

func (h *Handler) addUser(ctx context.Context, who actor, email string, role core.OperatorRole) (string, error) {
	if !role.Valid() {
		return "", fmt.Errorf("role %q: want owner, operator or viewer", role)
	}
	email, err := NormalizeEmail(email)
	if err != nil {
		return "", err
	}
	now := h.wall()
	token := randToken()
	u := &store.ConsoleUser{MerchantID: who.merchantID, Email: email, Role: role, SetupTokenHash: hashToken(token),
		SetupExpires: now.Add(SetupTTL), CreatedAt: now, UpdatedAt: now}
	if err := h.o.Store.CreateConsoleUser(ctx, u); err != nil {
		return "", err
	}
	h.audit(ctx, who, "user_add", email, string(role))
	return setupPath(token), nil
}

// ResetLink issues a new one-time password-set link for an existing account
// (the old link stops working); the password stays valid until it is used.
func (h *Handler) ResetLink(ctx context.Context, email string) (string, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return "", err
	}
	u, err := h.o.Store.ConsoleUserByEmail(ctx, email)
	if err != nil {
		return "", err
	}
	token := randToken()
	now := h.wall()
	if err := h.o.Store.SetConsoleSetupToken(ctx, u.ID, hashToken(token), now.Add(SetupTTL), now); err != nil {
		return "", err
	}
	h.audit(ctx, by(u.MerchantID, u.ID, u.Email), "user_link", email, "")
	return setupPath(token), nil
}

func setupPath(token string) string { return "/console/password?token=" + token }

// actor is who did something, for the audit log.
type actor struct {
	merchantID, userID int64
	email, ip          string
}

func by(merchantID, userID int64, email string) actor {
	return actor{merchantID: merchantID, userID: userID, email: email}
}

func (h *Handler) audit(ctx context.Context, a actor, action, target, detail string) {
	err := h.o.Store.AddAudit(context.WithoutCancel(ctx), store.AuditEntry{MerchantID: a.merchantID, UserID: a.userID, Email: a.email,
		Action: action, Target: target, Detail: detail, IP: a.ip, CreatedAt: h.wall()})
	if err != nil {
		h.log.Error("console: audit", "action", action, "err", err)
	}
}

// secureCookies: cookies are Secure except when the console is reached on
// a loopback address over plain HTTP (the local sandbox).
func secureCookies(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip == nil || !ip.IsLoopback()
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: Prefix, MaxAge: maxAge,
		HttpOnly: true, Secure: secureCookies(r), SameSite: http.SameSiteLaxMode})
}

func clientIP(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// sameOrigin refuses form posts sent by other sites: browsers say where a
// request comes from, and SameSite=Lax keeps the cookie off cross-site posts
// as well; the CSRF token is the check that does not depend on either.
func sameOrigin(r *http.Request) bool {
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" && s != "none" {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	return true
}

func tokensEqual(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// session returns the signed-in session of the request.
func (h *Handler) session(r *http.Request) (*store.ConsoleSession, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, core.ErrNotFound
	}
	return h.o.Store.ConsoleSessionByID(r.Context(), hashToken(c.Value), h.wall())
}

// need is the permission a route requires.
type need int

const (
	canRead need = iota
	canOperate
	canAdminister
)

func (n need) allows(role core.OperatorRole) bool {
	switch n {
	case canOperate:
		return role.CanOperate()
	case canAdminister:
		return role.CanAdminister()
	}
	return role.Valid()
}

// req is one signed-in request.
type req struct {
	*http.Request
	sess     *store.ConsoleSession
	merchant *core.Merchant
}

func (q *req) actor() actor {
	return actor{merchantID: q.sess.MerchantID, userID: q.sess.UserID, email: q.sess.User.Email, ip: clientIP(q.Request)}
}

type pageFunc func(w http.ResponseWriter, q *req)

// authed resolves the session, checks the role and, on every POST, the
// origin and the session's CSRF token.
func (h *Handler) authed(n need, fn pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		sess, err := h.session(r)
		if err != nil {
			if !errors.Is(err, core.ErrNotFound) {
				h.serverError(w, r, err)
				return
			}
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/console/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			h.message(w, r, http.StatusUnauthorized, "로그인이 필요합니다", "Please sign in again.")
			return
		}
		m, err := h.o.Merchants.ByID(r.Context(), sess.MerchantID)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		q := &req{Request: r, sess: sess, merchant: m}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if !sameOrigin(r) || !tokensEqual(r.PostFormValue("csrf"), sess.CSRF) {
				h.message(w, r, http.StatusForbidden, "요청을 확인할 수 없습니다", "The form expired or came from another site. Reload the page and try again.")
				return
			}
		}
		if !n.allows(sess.User.Role) {
			if r.Method == http.MethodPost {
				h.audit(r.Context(), q.actor(), "denied", r.URL.Path, string(sess.User.Role))
			}
			h.message(w, r, http.StatusForbidden, "권한이 없습니다", "Your role ("+string(sess.User.Role)+") may not do this. Ask an owner of this merchant.")
			return
		}
		fn(w, q)
	})
}

type loginData struct {
	CSRF, Email, Next, Error string
}

func safeNext(next string) string {
	if strings.HasPrefix(next, Prefix) && !strings.HasPrefix(next, "//") && !strings.Contains(next, `\`) {
		return next
	}
	return "/console/overview"
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	h.renderLogin(w, r, http.StatusOK, loginData{Next: r.URL.Query().Get("next")})
}

func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, d loginData) {
	d.CSRF = randToken()
	setCookie(w, r, loginCookie, d.CSRF, 3600)
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, status, "login", &page{Title: "로그인", TitleEn: "Sign in", Data: d})
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	c, _ := r.Cookie(loginCookie)
	email := strings.ToLower(strings.TrimSpace(r.PostFormValue("email")))
	d := loginData{Email: email, Next: r.PostFormValue("next")}
	if c == nil || !sameOrigin(r) || !tokensEqual(r.PostFormValue("csrf"), c.Value) {
		d.Error = "양식이 만료되었습니다. 다시 시도해주세요. · The form expired; please try again."
		h.renderLogin(w, r, http.StatusForbidden, d)
		return
	}
	ip := clientIP(r)
	if !h.throttle.allow(email, ip) {
		d.Error = "로그인 시도가 너무 많습니다. 15분 후 다시 시도해주세요. · Too many attempts; try again in 15 minutes."
		h.renderLogin(w, r, http.StatusTooManyRequests, d)
		return
	}
	u, err := h.o.Store.ConsoleUserByEmail(r.Context(), email)
	hash := dummyHash
	if err == nil && u.PasswordHash != "" {
		hash = u.PasswordHash
	} else if err != nil && !errors.Is(err, core.ErrNotFound) {
		h.serverError(w, r, err)
		return
	}
	match, err := compareHash(r.PostFormValue("password"), hash)
	if err != nil || !match || u == nil || u.PasswordHash == "" {
		h.throttle.fail(email, ip)
		if u != nil {
			h.audit(r.Context(), actor{merchantID: u.MerchantID, userID: u.ID, email: u.Email, ip: ip}, "sign_in_failed", u.Email, "")
		}
		d.Error = "이메일 또는 비밀번호가 올바르지 않습니다. · Wrong e-mail or password."
		h.renderLogin(w, r, http.StatusUnauthorized, d)
		return
	}
	h.throttle.reset(email)
	if err := h.startSession(w, r, u); err != nil {
		h.serverError(w, r, err)
		return
	}
	h.audit(r.Context(), actor{merchantID: u.MerchantID, userID: u.ID, email: u.Email, ip: ip}, "sign_in", u.Email, "")
	http.Redirect(w, r, safeNext(d.Next), http.StatusSeeOther)
}

func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, u *store.ConsoleUser) error {
	id := randToken()
	now := h.wall()
	err := h.o.Store.CreateConsoleSession(r.Context(), store.ConsoleSession{IDHash: hashToken(id), UserID: u.ID, MerchantID: u.MerchantID,
		CSRF: randToken(), CreatedAt: now, ExpiresAt: now.Add(SessionTTL)})
	if err != nil {
		return err
	}
	setCookie(w, r, sessionCookie, id, int(SessionTTL/time.Second))
	setCookie(w, r, loginCookie, "", -1)
	return nil
}

func (h *Handler) logout(w http.ResponseWriter, q *req) {
	if err := h.o.Store.DeleteConsoleSession(q.Context(), q.sess.IDHash); err != nil {
		h.serverError(w, q.Request, err)
		return
	}
	h.audit(q.Context(), q.actor(), "sign_out", q.sess.User.Email, "")
	setCookie(w, q.Request, sessionCookie, "", -1)
	http.Redirect(w, q.Request, "/console/login", http.StatusSeeOther)
}

func (h *Handler) logoutAll(w http.ResponseWriter, q *req) {
	n, err := h.o.Store.DeleteConsoleSessions(q.Context(), q.sess.MerchantID, q.sess.UserID)
	if err != nil {
		h.serverError(w, q.Request, err)
		return
	}
	h.audit(q.Context(), q.actor(), "sign_out_everywhere", q.sess.User.Email, fmt.Sprintf("%d sessions", n))
	setCookie(w, q.Request, sessionCookie, "", -1)
	http.Redirect(w, q.Request, "/console/login", http.StatusSeeOther)
}

type passwordData struct {
	Token, Email, Error string
	Min                 int
}

func (h *Handler) passwordPage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	u, err := h.o.Store.ConsoleUserBySetupToken(r.Context(), hashToken(token), h.wall())
	if err != nil {
		h.message(w, r, http.StatusNotFound, "링크가 만료되었습니다", "This link was used or has expired. Ask an owner for a new one (billkey user link --email …).")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, http.StatusOK, "password", &page{Title: "비밀번호 설정", TitleEn: "Set your password",
		Data: passwordData{Token: token, Email: u.Email, Min: MinPassword}})
}

func (h *Handler) setPassword(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	token := r.PostFormValue("token")
	if !sameOrigin(r) {
		h.message(w, r, http.StatusForbidden, "요청을 확인할 수 없습니다", "The form came from another site.")
		return
	}
	// The one-time token in the form is itself the CSRF token of this form.
	u, err := h.o.Store.ConsoleUserBySetupToken(r.Context(), hashToken(token), h.wall())
	if err != nil {
		h.message(w, r, http.StatusNotFound, "링크가 만료되었습니다", "This link was used or has expired.")
		return
	}
	pw, confirm := r.PostFormValue("password"), r.PostFormValue("confirm")
	d := passwordData{Token: token, Email: u.Email, Min: MinPassword}
	switch {
	case utf8.RuneCountInString(pw) < MinPassword:
		d.Error = fmt.Sprintf("비밀번호는 %d자 이상이어야 합니다. · At least %d characters.", MinPassword, MinPassword)
	case len(pw) > 256:
		d.Error = "비밀번호가 너무 깁니다. · Too long."
	case pw != confirm:
		d.Error = "두 비밀번호가 다릅니다. · The passwords differ."
	case strings.EqualFold(pw, u.Email):
		d.Error = "이메일과 다른 비밀번호를 쓰세요. · Do not use your e-mail as the password."
	}
	if d.Error != "" {
		h.render(w, r, http.StatusBadRequest, "password", &page{Title: "비밀번호 설정", TitleEn: "Set your password", Data: d})
		return
	}
	hash, err := createHash(pw)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	ok, err := h.o.Store.SetConsolePassword(r.Context(), u.ID, hashToken(token), hash, h.wall())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if !ok {
		h.message(w, r, http.StatusConflict, "링크가 만료되었습니다", "This link was used meanwhile.")
		return
	}
	h.audit(r.Context(), actor{merchantID: u.MerchantID, userID: u.ID, email: u.Email, ip: clientIP(r)}, "password_set", u.Email, "")
	if err := h.startSession(w, r, u); err != nil {
		h.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/overview", http.StatusSeeOther)
}

// throttle limits failed sign-ins: 5 per e-mail and 30 per client address
// in 15 minutes. It lives in the process: with several nodes each counts
// its own, which still bounds guessing to a small multiple.
type throttle struct {
	mu    sync.Mutex
	now   func() time.Time
	fails map[string][]time.Time
}

const (
	throttleWindow   = 15 * time.Minute
	throttlePerEmail = 5
	throttlePerIP    = 30
)

func newThrottle(now func() time.Time) *throttle {
	return &throttle{now: now, fails: map[string][]time.Time{}}
}

func (t *throttle) recent(key string) int {
	cut := t.now().Add(-throttleWindow)
	list := t.fails[key]
	i := 0
	for i < len(list) && list[i].Before(cut) {
		i++
	}
	if i == len(list) {
		delete(t.fails, key)
		return 0
	}
	t.fails[key] = list[i:]
	return len(list) - i
}

func (t *throttle) allow(email, ip string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.recent("e:"+email) < throttlePerEmail && t.recent("i:"+ip) < throttlePerIP
}

func (t *throttle) fail(email, ip string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, k := range []string{"e:" + email, "i:" + ip} {
		t.fails[k] = append(t.fails[k], now)
	}
	if len(t.fails) > 100_000 { // bound memory under a spray of made-up addresses
		for k := range t.fails {
			t.recent(k)
		}
	}
}

func (t *throttle) reset(email string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.fails, "e:"+email)
}
