package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/merchant"
	"github.com/billkey/billkey/internal/pg/router"
	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/webhook"
)

// --- webhooks ---

type deliveryView struct {
	webhook.Event
	Attempts []string
	Created  time.Time
}

type webhooksData struct {
	Settings webhook.Settings
	Profiles []string
	Status   string
	Statuses []string
	Events   []deliveryView
	Failed   int
	Secrets  []webhook.Secret // only right after an owner asked to reveal them
}

func (h *Handler) webhooks(w http.ResponseWriter, q *req) {
	h.renderWebhooks(w, q, nil)
}

func (h *Handler) renderWebhooks(w http.ResponseWriter, q *req, secrets []webhook.Secret) {
	ctx := q.Context()
	p := h.base(q, "webhooks", "웹훅", "Webhooks")
	st, err := h.o.Webhooks.GetSettings(ctx, q.merchant.ID)
	if err != nil {
		h.serverError(w, q.Request, err)
		return
	}
	status := q.URL.Query().Get("status")
	switch status {
	case "", store.EventPending, store.EventDelivered, store.EventFailed, store.EventSkipped:
	default:
		status = ""
	}
	evs, err := h.o.Webhooks.Events(ctx, q.merchant.ID, store.EventFilter{Status: status, Limit: 50})
	if err != nil {
		h.serverError(w, q.Request, err)
		return
	}
	failed, err := h.o.Webhooks.Events(ctx, q.merchant.ID, store.EventFilter{Status: store.EventFailed, Limit: 1000})
	if err != nil {
		h.serverError(w, q.Request, err)
		return
	}
	d := webhooksData{Settings: st, Profiles: webhook.ProfileNames(), Status: status, Failed: len(failed), Secrets: secrets,
		Statuses: []string{store.EventPending, store.EventDelivered, store.EventFailed, store.EventSkipped}}
	for _, ev := range evs {
		v := deliveryView{Event: ev, Created: time.Unix(ev.CreatedAt, 0)}
		atts, err := h.o.Webhooks.Attempts(ctx, q.merchant.ID, ev.ID)
		if err != nil {
			h.serverError(w, q.Request, err)
			return
		}
		for _, a := range atts {
			v.Attempts = append(v.Attempts, attemptLine(a.AttemptNo, a.StatusCode, a.LatencyMS, a.Error, p.T(time.Unix(a.CreatedAt, 0))))
		}
		d.Events = append(d.Events, v)
	}
	p.Data = d
	if secrets != nil {
		w.Header().Set("Cache-Control", "no-store")
	}
	h.render(w, q.Request, http.StatusOK, "webhooks", p)
}

func (h *Handler) resend(w http.ResponseWriter, q *req) {
	id := q.PathValue("id")
	if err := h.o.Webhooks.Resend(q.Context(), q.merchant.ID, id); err != nil {
		if errors.Is(err, core.ErrNotFound) {
			http.Redirect(w, q.Request, "/console/webhooks?err=not_found", http.StatusSeeOther)
			return
		}
		h.serverError(w, q.Request, err)
		return
	}
	h.audit(q.Context(), q.actor(), "webhook_resend", id, "")
	http.Redirect(w, q.Request, "/console/webhooks?ok=resent", http.StatusSeeOther)
}

func (h *Handler) resendFailed(w http.ResponseWriter, q *req) {
	n, err := h.o.Webhooks.ResendFailed(q.Context(), q.merchant.ID)
	if err != nil {
		h.serverError(w, q.Request, err)
		return
	}
	h.audit(q.Context(), q.actor(), "webhook_resend_failed", "", strconv.Itoa(n)+" events")
	http.Redirect(w, q.Request, "/console/webhooks?ok=resent_all", http.StatusSeeOther)
}

func (h *Handler) webhookSettings(w http.ResponseWriter, q *req) {
	in := webhook.Settings{URL: strings.TrimSpace(q.PostFormValue("url")), Format: q.PostFormValue("format"), Profile: q.PostFormValue("profile")}
	if err := h.o.Webhooks.SetSettings(q.Context(), q.merchant.ID, in); err != nil {
		if errors.Is(err, webhook.ErrInvalid) {
			http.Redirect(w, q.Request, "/console/webhooks?err=invalid#settings", http.StatusSeeOther)
			return
		}
		h.serverError(w, q.Request, err)
		return
	}
	h.audit(q.Context(), q.actor(), "webhook_settings", in.URL, in.Format+" · "+in.Profile)
	http.Redirect(w, q.Request, "/console/webhooks?ok=settings#settings", http.StatusSeeOther)
}

// revealSecret answers the POST with the page itself, so that the secret
// is never in a URL, a redirect or a cache.
func (h *Handler) revealSecret(w http.ResponseWriter, q *req) {
	secs, err := h.o.Webhooks.Secrets(q.Context(), q.merchant.ID)
	if err != nil {
		h.serverError(w, q.Request, err)
		return
	}
	ids := make([]string, len(secs))
	for i, s := range secs {
		ids[i] = s.ID
	}
	h.audit(q.Context(), q.actor(), "webhook_secret_reveal", strings.Join(ids, ","), "")
	h.renderWebhooks(w, q, secs)
}

func (h *Handler) rotateSecret(w http.ResponseWriter, q *req) {
	sec, err := h.o.Webhooks.RotateSecret(q.Context(), q.merchant.ID, 0)
	if err != nil {
		h.serverError(w, q.Request, err)
		return
	}
	h.audit(q.Context(), q.actor(), "webhook_secret_rotate", sec.ID, "")
	http.Redirect(w, q.Request, "/console/webhooks?ok=rotated#secret", http.StatusSeeOther)
}

// --- customers ---

type customersData struct {
	Search     string
	Keys       []core.BillingKey
	Total      int
	Page       int
	Prev, Next string
	// ThisMonth is the merchant's current month as YYYY-MM, the format of
	// a key's CardExpiry: a card expiring in it needs the customer soon.
	ThisMonth string
}

func (h *Handler) customers(w http.ResponseWriter, q *req) {
	p := h.base(q, "customers", "고객·빌링키", "Customers and billing keys")
	search := strings.TrimSpace(q.URL.Query().Get("q"))
	page, _ := strconv.Atoi(q.URL.Query().Get("page"))
	page = max(page, 1)
	const limit = 30
	keys, total, err := h.o.Store.ListBillingKeys(q.Context(), q.merchant.ID, search, page, limit)
	if err != nil {
		h.serverError(w, q.Request, err)
		return
	}
	d := customersData{Search: search, Keys: keys, Total: total, Page: page,
		ThisMonth: clock.For(h.o.Clock, q.merchant.ID).In(p.loc).Format("2006-01")}
	link := func(n int) string { return "?" + url.Values{"q": {search}, "page": {strconv.Itoa(n)}}.Encode() }
	if page > 1 {
		d.Prev = link(page - 1)
	}
	if page*limit < total {
		d.Next = link(page + 1)
	}
	p.Data = d
	h.render(w, q.Request, http.StatusOK, "customers", p)
}

func (h *Handler) deleteKey(w http.ResponseWriter, q *req) {
	uid := q.PostFormValue("customer_uid")
	if uid == "" {
		http.Redirect(w, q.Request, "/console/customers?err=invalid", http.StatusSeeOther)
		return
	}
	// The API's delete: the key is removed at the PG and its waiting schedules are revoked with it.
	if _, err := h.o.Payments.DeleteBillingKey(q.Context(), q.merchant.ID, uid, "console: "+q.sess.User.Email); err != nil {
		h.log.Warn("console: delete billing key", "customer_uid", uid, "err", err)
		http.Redirect(w, q.Request, "/console/customers?err=not_found", http.StatusSeeOther)
		return
	}
	h.audit(q.Context(), q.actor(), "key_delete", uid, "")
	http.Redirect(w, q.Request, "/console/customers?ok=key_deleted", http.StatusSeeOther)
}

// --- schedules and subscriptions ---

type subView struct {
	core.Subscription
	Effective core.SubscriptionStatus
	Cancel    bool
}

// calDay is one day of the schedules calendar.
type calDay struct {
	Date    time.Time
	Day     int
	Other   bool // outside the current month
	Today   bool
	Count   int
	Amount  int64
	Entries []string
}

type schedulesData struct {
	Customer string
	Calendar [][]calDay
	Month    string
	Upcoming []core.Schedule
	Recent   []core.Schedule
	Subs     []subView
	SubTotal int
}

func (h *Handler) schedules(w http.ResponseWriter, q *req) {
	ctx := q.Context()
	p := h.base(q, "schedules", "예약·구독", "Schedules and subscriptions")
	now := clock.For(h.o.Clock, q.merchant.ID)
	customer := strings.TrimSpace(q.URL.Query().Get("customer_uid"))
	up, err := h.o.Schedules.List(ctx, q.merchant.ID, core.ScheduleQuery{CustomerUID: customer, Status: "scheduled", From: now.AddDate(0, 0, -1),
		To: now.AddDate(0, 0, 88), Ascending: true, Limit: 1000})
	if err != nil {
		h.serverError(w, q.Request, err)
		return
	}
	recent, err := h.o.Schedules.List(ctx, q.merchant.ID, core.ScheduleQuery{CustomerUID: customer, From: now.AddDate(0, 0, -89), To: now.Add(time.Second), Limit: 50})
	if err != nil {
		h.serverError(w, q.Request, err)
		return
	}
	subs, total, err := h.o.Store.ListSubscriptions(ctx, q.merchant.ID, 1, 50)
	if err != nil {
		h.serverError(w, q.Request, err)
		return
	}
	d := schedulesData{Customer: customer, Upcoming: up.Schedules, SubTotal: total}
	d.Calendar, d.Month = calendar(now.In(p.loc), up.Schedules)
	if len(d.Upcoming) > 100 {
		d.Upcoming = d.Upcoming[:100]
	}
	for _, s := range recent.Schedules {
		if s.Status != core.ScheduleScheduled {
			d.Recent = append(d.Recent, s)
		}
	}
	for _, s := range subs {
		eff := h.o.Subscriptions.Effective(&s)
		d.Subs = append(d.Subs, subView{Subscription: s, Effective: eff, Cancel: eff == core.SubActive || eff == core.SubPending})
	}
	p.Data = d
	h.render(w, q.Request, http.StatusOK, "schedules", p)
}

// calendar lays out six weeks from the Monday on or before the first of
// this month, with the waiting schedules of each day.
func calendar(now time.Time, list []core.Schedule) ([][]calDay, string) {
	loc := now.Location()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc)
	start := first.AddDate(0, 0, -((int(first.Weekday()) + 6) % 7))
	byDay := map[string]*calDay{}
	var weeks [][]calDay
	for w := range 6 {
		week := make([]calDay, 7)
		for i := range week {
			d := start.AddDate(0, 0, w*7+i)
			week[i] = calDay{Date: d, Day: d.Day(), Other: d.Month() != now.Month(),
				Today: d.Year() == now.Year() && d.YearDay() == now.YearDay()}
		}
		weeks = append(weeks, week)
	}
	for w := range weeks {
		for i := range weeks[w] {
			byDay[weeks[w][i].Date.Format("2006-01-02")] = &weeks[w][i]
		}
	}
	for _, s := range list {
		if c, ok := byDay[s.ScheduleAt.In(loc).Format("2006-01-02")]; ok {
			c.Count++
			if s.Currency == "KRW" { // the calendar adds up won, like the overview
				c.Amount += s.Amount
			}
			if len(c.Entries) < 3 {
				c.Entries = append(c.Entries, s.MerchantUID)
			}
		}
	}
	return weeks, now.Format("2006-01")
}

type subscriptionData struct {
	S         *core.Subscription
	Effective core.SubscriptionStatus
	Cancel    bool
	Deposits  []core.Deposit
}

func (h *Handler) subscription(w http.ResponseWriter, q *req) {
	id, err := strconv.ParseInt(q.PathValue("id"), 10, 64)
	if err != nil {
		h.message(w, q.Request, http.StatusNotFound, "구독을 찾을 수 없습니다", "No such subscription.")
		return
	}
	sub, err := h.o.Subscriptions.Get(q.Context(), q.merchant.ID, id)
	if err != nil {
		if errors.Is(err, core.ErrNotFound) {
			h.message(w, q.Request, http.StatusNotFound, "구독을 찾을 수 없습니다", "No such subscription.")
			return
		}
		h.serverError(w, q.Request, err)
		return
	}
	deps, err := h.o.Store.Deposits(q.Context(), q.merchant.ID, id)
	if err != nil {
		h.serverError(w, q.Request, err)
		return
	}
	p := h.base(q, "schedules", fmt.Sprintf("구독 #%d", id), "Subscription "+sub.InvoiceID)
	eff := h.o.Subscriptions.Effective(sub)
	p.Data = subscriptionData{S: sub, Effective: eff, Cancel: eff == core.SubActive || eff == core.SubPending, Deposits: deps}
	h.render(w, q.Request, http.StatusOK, "subscription", p)
}

func (h *Handler) unschedule(w http.ResponseWriter, q *req) {
	uid := q.PostFormValue("merchant_uid")
	if uid == "" {
		http.Redirect(w, q.Request, "/console/schedules?err=invalid", http.StatusSeeOther)
		return
	}
	out, err := h.o.Schedules.Unschedule(q.Context(), q.merchant.ID, "", []string{uid})
	if err != nil || len(out) == 0 {
		if err != nil && !errors.Is(err, core.ErrNotFound) {
			h.log.Warn("console: unschedule", "merchant_uid", uid, "err", err)
		}
		http.Redirect(w, q.Request, "/console/schedules?err=nothing", http.StatusSeeOther)
		return
	}
	h.audit(q.Context(), q.actor(), "unschedule", uid, "")
	http.Redirect(w, q.Request, "/console/schedules?ok=unscheduled", http.StatusSeeOther)
}

// moveSchedule reschedules a waiting entry, as PUT /subscribe/payments/schedule/{merchant_uid} does.
func (h *Handler) moveSchedule(w http.ResponseWriter, q *req) {
	uid := q.PostFormValue("merchant_uid")
	loc, err := time.LoadLocation(q.merchant.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	at, err := time.ParseInLocation("2006-01-02T15:04", q.PostFormValue("at"), loc)
	if uid == "" || err != nil || !at.After(clock.For(h.o.Clock, q.merchant.ID)) {
		http.Redirect(w, q.Request, "/console/schedules?err=invalid", http.StatusSeeOther)
		return
	}
	if _, err := h.o.Schedules.Update(q.Context(), q.merchant.ID, uid, at); err != nil {
		h.log.Warn("console: move schedule", "merchant_uid", uid, "err", err)
		http.Redirect(w, q.Request, "/console/schedules?err=invalid", http.StatusSeeOther)
		return
	}
	h.audit(q.Context(), q.actor(), "reschedule", uid, at.Format(time.RFC3339))
	http.Redirect(w, q.Request, "/console/schedules?ok=moved", http.StatusSeeOther)
}

func (h *Handler) cancelSubscription(w http.ResponseWriter, q *req) {
	id, err := strconv.ParseInt(q.PathValue("id"), 10, 64)
	if err != nil {
		http.Redirect(w, q.Request, "/console/schedules?err=invalid", http.StatusSeeOther)
		return
	}
	if _, err := h.o.Subscriptions.Cancel(q.Context(), q.merchant.ID, id); err != nil {
		h.log.Warn("console: cancel subscription", "id", id, "err", err)
		http.Redirect(w, q.Request, "/console/schedules?err=invalid", http.StatusSeeOther)
		return
	}
	h.audit(q.Context(), q.actor(), "subscription_cancel", strconv.FormatInt(id, 10), "")
	http.Redirect(w, q.Request, "/console/schedules?ok=sub_cancelled", http.StatusSeeOther)
}

// --- settings ---

type settingsData struct {
	Channels   []core.Channel
	Processors []string
	Users      []store.ConsoleUser
	Now        time.Time
	Origins    string
	// NewSecret is a rotated credential, shown once in the answer to the rotation.
	NewSecret *newSecret
}

type newSecret struct {
	Name, Login, Value string
	Link               bool // Value is a one-time link, not a secret
}

func (h *Handler) settings(w http.ResponseWriter, q *req) {
	h.renderSettings(w, q, nil, "")
}

// renderSettings shows the page with a just-made secret or link, or with
// an error to fix (then with status 400).
func (h *Handler) renderSettings(w http.ResponseWriter, q *req, secret *newSecret, problem string) {
	ctx := q.Context()
	p := h.base(q, "settings", "설정", "Settings")
	status := http.StatusOK
	if problem != "" {
		p.Error, status = problem, http.StatusBadRequest
	}
	chs, err := h.o.Merchants.Channels(ctx, q.merchant.ID)
	if err != nil {
		h.serverError(w, q.Request, err)
		return
	}
	// Read fresh: the merchant of the session is cached, its origins may have changed.
	m, err := h.o.Merchants.ByCode(ctx, q.merchant.Code)
	if err != nil {
		h.serverError(w, q.Request, err)
		return
	}
	d := settingsData{Channels: chs, Processors: router.Processors, Now: clock.For(h.o.Clock, q.merchant.ID), Origins: strings.Join(m.CheckoutOrigins, " "), NewSecret: secret}
	if secret != nil {
		w.Header().Set("Cache-Control", "no-store")
	}
	if q.sess.User.Role.CanAdminister() {
		if d.Users, err = h.o.Store.ConsoleUsers(ctx, q.merchant.ID); err != nil {
			h.serverError(w, q.Request, err)
			return
		}
	}
	p.Data = d
	h.render(w, q.Request, status, "settings", p)
}

func (h *Handler) advanceClock(w http.ResponseWriter, q *req) {
	if h.o.Sandbox == nil {
		http.Redirect(w, q.Request, "/console/settings?err=no_clock#clock", http.StatusSeeOther)
		return
	}
	days, err1 := strconv.Atoi(strings.TrimSpace(q.PostFormValue("days")))
	hours, err2 := strconv.Atoi(strings.TrimSpace(defaultStr(q.PostFormValue("hours"), "0")))
	if err1 != nil || err2 != nil || days < 0 || hours < 0 || days > 3660 || hours > 24*366 || days+hours == 0 {
		http.Redirect(w, q.Request, "/console/settings?err=invalid#clock", http.StatusSeeOther)
		return
	}
	d := time.Duration(days)*24*time.Hour + time.Duration(hours)*time.Hour
	now, n, err := h.o.Sandbox.Advance(q.Context(), q.merchant.ID, d)
	if err != nil {
		h.serverError(w, q.Request, err)
		return
	}
	h.audit(q.Context(), q.actor(), "clock_advance", d.String(), fmt.Sprintf("now %s · %d executed", now.UTC().Format(time.RFC3339), n))
	http.Redirect(w, q.Request, "/console/settings?ok=clock#clock", http.StatusSeeOther)
}

func (h *Handler) setOrigins(w http.ResponseWriter, q *req) {
	list := strings.FieldsFunc(q.PostFormValue("origins"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
	if _, err := h.o.Merchants.SetCheckoutOrigins(q.Context(), q.merchant.Code, list); err != nil {
		h.log.Warn("console: checkout origins", "err", err)
		http.Redirect(w, q.Request, "/console/settings?err=invalid#origins", http.StatusSeeOther)
		return
	}
	h.audit(q.Context(), q.actor(), "checkout_origins", strings.Join(list, " "), "")
	http.Redirect(w, q.Request, "/console/settings?ok=settings#origins", http.StatusSeeOther)
}

// rotateImpSecret answers with the page itself, so that the new secret is
// never in a URL, a redirect or a cache; it is shown this once.
func (h *Handler) rotateImpSecret(w http.ResponseWriter, q *req) {
	secret, err := h.o.Merchants.RotateImpSecret(q.Context(), q.merchant.ID)
	if err != nil {
		h.serverError(w, q.Request, err)
		return
	}
	h.audit(q.Context(), q.actor(), "imp_secret_rotate", q.merchant.ImpKey, "")
	h.renderSettings(w, q, &newSecret{Name: "imp_secret", Login: q.merchant.ImpKey, Value: secret}, "")
}

func (h *Handler) rotateAPISignature(w http.ResponseWriter, q *req) {
	login, secret, err := h.o.Merchants.RotateAPISignature(q.Context(), q.merchant.ID)
	if err != nil {
		h.serverError(w, q.Request, err)
		return
	}
	h.audit(q.Context(), q.actor(), "api_signature_rotate", login, "")
	h.renderSettings(w, q, &newSecret{Name: "api_signature", Login: login, Value: secret}, "")
}

// inviteUser adds an account and shows its one-time password-set link once.
func (h *Handler) inviteUser(w http.ResponseWriter, q *req) {
	role := core.OperatorRole(q.PostFormValue("role"))
	link, err := h.addUser(q.Context(), q.actor(), q.PostFormValue("email"), role)
	if err != nil {
		code := "invalid"
		if errors.Is(err, store.ErrEmailTaken) {
			code = "email_taken"
		}
		http.Redirect(w, q.Request, "/console/settings?err="+code+"#users", http.StatusSeeOther)
		return
	}
	scheme := "https"
	if !secureCookies(q.Request) {
		scheme = "http"
	}
	h.renderSettings(w, q, &newSecret{Name: "link", Login: strings.ToLower(strings.TrimSpace(q.PostFormValue("email"))),
		Value: scheme + "://" + q.Host + link, Link: true}, "")
}

func (h *Handler) removeUser(w http.ResponseWriter, q *req) {
	id, err := strconv.ParseInt(q.PathValue("id"), 10, 64)
	if err != nil || id == q.sess.UserID {
		// Owners do not remove themselves: a merchant must keep one.
		http.Redirect(w, q.Request, "/console/settings?err=invalid#users", http.StatusSeeOther)
		return
	}
	if err := h.o.Store.DeleteConsoleUser(q.Context(), q.merchant.ID, id); err != nil {
		http.Redirect(w, q.Request, "/console/settings?err=not_found#users", http.StatusSeeOther)
		return
	}
	h.audit(q.Context(), q.actor(), "user_remove", strconv.FormatInt(id, 10), "")
	http.Redirect(w, q.Request, "/console/settings?ok=user_removed#users", http.StatusSeeOther)
}

// addChannel adds a processor channel; its credentials go to the vault
// through the merchant service and are never shown again.
func (h *Handler) addChannel(w http.ResponseWriter, q *req) {
	in := merchant.ChannelInput{
		Provider: q.PostFormValue("provider"), MID: strings.TrimSpace(q.PostFormValue("mid")), APIURL: strings.TrimSpace(q.PostFormValue("api_url")),
		Sandbox: q.PostFormValue("sandbox") == "on", Default: q.PostFormValue("default") == "on", Name: strings.TrimSpace(q.PostFormValue("name")),
		Creds: router.Credentials{ImpKey: strings.TrimSpace(q.PostFormValue("imp_key")), ImpSecret: strings.TrimSpace(q.PostFormValue("imp_secret")),
			UpstreamPG: strings.TrimSpace(q.PostFormValue("upstream_pg")), SecretKey: strings.TrimSpace(q.PostFormValue("secret_key"))},
	}
	c, err := h.o.Merchants.AddChannel(q.Context(), q.merchant.ID, in)
	if err != nil {
		h.channelProblem(w, q, err)
		return
	}
	h.audit(q.Context(), q.actor(), "channel_add", c.Provider+"."+c.MID, map[bool]string{true: "sandbox", false: "live"}[c.Sandbox])
	http.Redirect(w, q.Request, "/console/settings?ok=settings#channels", http.StatusSeeOther)
}

func (h *Handler) channelProblem(w http.ResponseWriter, q *req, err error) {
	var ce *merchant.ChannelError
	var unknown *merchant.UnknownPGError
	switch {
	case errors.As(err, &ce):
		h.renderSettings(w, q, nil, "채널을 저장하지 못했습니다. · "+ce.Msg)
	case errors.Is(err, merchant.ErrLiveOnDemo):
		h.renderSettings(w, q, nil, "데모 가맹점에는 실결제 키를 쓸 수 없습니다. · "+err.Error())
	case errors.As(err, &unknown):
		h.renderSettings(w, q, nil, notices["not_found"])
	default:
		h.serverError(w, q.Request, err)
	}
}

func (h *Handler) defaultChannel(w http.ResponseWriter, q *req) {
	c, err := h.o.Merchants.SetDefaultChannel(q.Context(), q.merchant.ID, q.PathValue("id"))
	if err != nil {
		h.channelProblem(w, q, err)
		return
	}
	h.audit(q.Context(), q.actor(), "channel_default", c.Provider+"."+c.MID, "")
	http.Redirect(w, q.Request, "/console/settings?ok=settings#channels", http.StatusSeeOther)
}

func (h *Handler) removeChannel(w http.ResponseWriter, q *req) {
	c, err := h.o.Merchants.RemoveChannel(q.Context(), q.merchant.ID, q.PathValue("id"))
	if err != nil {
		h.channelProblem(w, q, err)
		return
	}
	h.audit(q.Context(), q.actor(), "channel_remove", c.Provider+"."+c.MID, "")
	http.Redirect(w, q.Request, "/console/settings?ok=settings#channels", http.StatusSeeOther)
}

func defaultStr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// --- audit ---

type auditData struct {
	Entries []store.AuditEntry
	Older   string
}

func (h *Handler) auditPage(w http.ResponseWriter, q *req) {
	p := h.base(q, "audit", "감사 로그", "Audit log")
	before, _ := strconv.ParseInt(q.URL.Query().Get("before"), 10, 64)
	const limit = 100
	list, err := h.o.Store.AuditLog(q.Context(), q.merchant.ID, before, limit)
	if err != nil {
		h.serverError(w, q.Request, err)
		return
	}
	d := auditData{Entries: list}
	if len(list) == limit {
		d.Older = "?before=" + strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	p.Data = d
	h.render(w, q.Request, http.StatusOK, "audit", p)
}
