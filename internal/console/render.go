package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/billkey/billkey/internal/core"
)

// Assets are plain files with no build step; uplot.* is uPlot 1.6.32 from
// npm, unchanged, with its licence beside it.
//
//go:embed assets/*
var assetFS embed.FS

//go:embed templates/*.html
var templateFS embed.FS

type asset struct {
	body    []byte
	ctype   string
	version string
}

var assets = func() map[string]*asset {
	entries, err := fs.ReadDir(assetFS, "assets")
	if err != nil {
		panic(err)
	}
	m := map[string]*asset{}
	for _, e := range entries {
		b, err := assetFS.ReadFile("assets/" + e.Name())
		if err != nil {
			panic(err)
		}
		ct := "text/plain; charset=utf-8"
		switch path.Ext(e.Name()) {
		case ".js":
			ct = "application/javascript; charset=utf-8"
		case ".css":
			ct = "text/css; charset=utf-8"
		case ".svg":
			ct = "image/svg+xml"
		}
		v := sha256.Sum256(b)
		m[e.Name()] = &asset{body: b, ctype: ct, version: hex.EncodeToString(v[:6])}
	}
	return m
}()

func assetURL(name string) string {
	a, ok := assets[name]
	if !ok {
		panic(fmt.Sprintf("console: no asset %q", name))
	}
	return "/console/assets/" + name + "?v=" + a.version
}

func serveAsset(w http.ResponseWriter, r *http.Request) {
	a, ok := assets[r.PathValue("name")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Cache-Control", "public, max-age=86400")
	w.Write(a.body)
}

var funcs = template.FuncMap{
	"asset": assetURL,
	"json": func(v any) (template.JS, error) {
		b, err := json.Marshal(v)
		return template.JS(b), err
	},
	"won":    formatAmount,
	"num":    func(n int) string { return formatInt(int64(n)) },
	"status": statusLabel,
	"scls":   func(s core.PaymentStatus) string { return "st-" + string(s) },
	"iso":    func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}

// pages holds one template set per page: the layout plus that page.
var pages = func() map[string]*template.Template {
	base := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	m := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" {
			continue
		}
		m[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, n))
	}
	return m
}()

// page is what every template gets.
type page struct {
	Title, TitleEn string
	Nav            string
	User           *userView
	Merchant       *core.Merchant
	CSRF           string
	Notice, Error  string
	Sandbox        bool
	Data           any
	loc            *time.Location
}

type userView struct {
	Email         string
	Role          core.OperatorRole
	CanOperate    bool
	CanAdminister bool
}

// T formats a time in the merchant's zone.
func (p *page) T(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(p.loc).Format("2006-01-02 15:04:05")
}

// Local is the value of a datetime-local input in the merchant's zone.
func (p *page) Local(t time.Time) string { return t.In(p.loc).Format("2006-01-02T15:04") }

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	if p.loc == nil {
		p.loc = time.UTC
	}
	var buf bytes.Buffer
	t, ok := pages[name]
	if !ok {
		h.serverError(w, r, fmt.Errorf("no page %q", name))
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		h.serverError(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// notices are the messages a redirect after a form can show (?ok=…, ?err=…).
var notices = map[string]string{
	"refunded":       "환불했습니다. · Refunded.",
	"resent":         "웹훅을 다시 보냅니다. · Webhook queued for delivery.",
	"resent_all":     "실패한 웹훅을 모두 다시 보냅니다. · Failed webhooks queued again.",
	"settings":       "저장했습니다. · Saved.",
	"rotated":        "서명 키를 교체했습니다. 이전 키는 24시간 더 서명합니다. · Secret rotated; the old one signs for 24 more hours.",
	"unscheduled":    "예약을 취소했습니다. · Schedule revoked.",
	"sub_cancelled":  "구독을 해지했습니다. · Subscription cancelled.",
	"clock":          "샌드박스 시계를 옮겼습니다. · Sandbox clock advanced.",
	"key_deleted":    "빌링키를 삭제했습니다. 대기 중인 예약도 취소되었습니다. · Billing key deleted; its waiting schedules were revoked.",
	"moved":          "예약 시각을 바꿨습니다. · Schedule moved.",
	"email_taken":    "이미 계정이 있는 이메일입니다. · That e-mail already has an account.",
	"user_removed":   "계정을 삭제했습니다. · Account removed; its sessions ended.",
	"nothing":        "취소할 예약이 없습니다. · Nothing to revoke.",
	"invalid_amount": "금액을 확인해주세요. · Check the amount.",
	"no_reason":      "환불 사유를 입력해주세요. · Give a reason for the refund.",
	"exceeds":        "환불 가능 금액을 초과했습니다. · More than the refundable balance.",
	"stale":          "그 사이 결제가 바뀌었습니다. 금액을 확인하고 다시 시도해주세요. · The payment changed meanwhile; check and try again.",
	"not_refundable": "환불할 수 없는 결제입니다. · This payment cannot be refunded.",
	"pg_refused":     "PG사가 환불을 거절했습니다. · The PG refused the refund.",
	"pg_unknown":     "PG사 응답이 없습니다. 결과를 확인 중이며 중복 환불되지 않습니다. · The PG did not answer; the refund is being confirmed and cannot happen twice.",
	"invalid":        "입력값을 확인해주세요. · Check the values.",
	"not_found":      "찾을 수 없습니다. · Not found.",
	"no_clock":       "테스트 시계 모드가 아닙니다. · Not running on a test clock.",
}

func (h *Handler) base(q *req, nav, title, titleEn string) *page {
	loc, err := time.LoadLocation(q.merchant.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	role := q.sess.User.Role
	p := &page{Title: title, TitleEn: titleEn, Nav: nav, Merchant: q.merchant, CSRF: q.sess.CSRF, loc: loc,
		Sandbox: h.o.Sandbox != nil,
		User:    &userView{Email: q.sess.User.Email, Role: role, CanOperate: role.CanOperate(), CanAdminister: role.CanAdminister()}}
	if v := q.URL.Query().Get("ok"); v != "" {
		p.Notice = notices[v]
	}
	if v := q.URL.Query().Get("err"); v != "" {
		p.Error = notices[v]
	}
	return p
}

func (h *Handler) message(w http.ResponseWriter, r *http.Request, status int, title, body string) {
	h.render(w, r, status, "message", &page{Title: title, TitleEn: body})
}

func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, err error) {
	h.log.Error("console", "path", r.URL.Path, "err", err)
	h.message(w, r, http.StatusInternalServerError, "오류가 발생했습니다", "Something went wrong on our side; it has been logged.")
}

// formatAmount renders minor units for people: "1,000원", "10.50 USD".
func formatAmount(minor int64, currency string) string {
	text := core.FormatAmount(minor, currency)
	neg := strings.HasPrefix(text, "-")
	whole, frac, hasFrac := strings.Cut(strings.TrimPrefix(text, "-"), ".")
	n, _ := strconv.ParseInt(whole, 10, 64)
	s := formatInt(n)
	if neg {
		s = "-" + s
	}
	if scale, err := core.CurrencyScale(currency); err == nil && scale > 0 {
		s += "." + frac + strings.Repeat("0", scale-len(frac))
	} else if hasFrac {
		s += "." + frac
	}
	if currency == "KRW" || currency == "" {
		return s + "원"
	}
	return s + " " + currency
}

func formatInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func statusLabel(s core.PaymentStatus) string {
	switch s {
	case core.StatusPaid:
		return "결제완료 paid"
	case core.StatusFailed:
		return "실패 failed"
	case core.StatusCancelled:
		return "취소 cancelled"
	case core.StatusPending:
		return "진행 중 pending"
	case core.StatusUnknown:
		return "확인 중 unknown"
	case core.StatusReady:
		return "미결제 ready"
	}
	return string(s)
}
