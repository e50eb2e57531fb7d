// Package console is the merchant console: a web UI under /console/ where a
// merchant's operators sign in, search and refund payments, see their
// billing in charts, follow webhook deliveries and change settings.
//
// Pages are rendered on the server from embedded templates; the little
// JavaScript there is (charts, confirmations) and the vendored uPlot are
// embedded too, and served under a CSP that allows nothing else. Every read
// and write goes through the same services as the API, scoped by the
// signed-in account's merchant.
package console

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/merchant"
	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/webhook"
)

// Prefix is where the console is served.
const Prefix = "/console/"

// Store is what the console keeps and reads itself: accounts, sessions, the
// audit log, and the read-only views the API has no use for.
type Store interface {
	CreateConsoleUser(ctx context.Context, u *store.ConsoleUser) error
	ConsoleUserByEmail(ctx context.Context, email string) (*store.ConsoleUser, error)
	ConsoleUserBySetupToken(ctx context.Context, tokenHash []byte, now time.Time) (*store.ConsoleUser, error)
	ConsoleUsers(ctx context.Context, merchantID int64) ([]store.ConsoleUser, error)
	SetConsoleSetupToken(ctx context.Context, userID int64, tokenHash []byte, expires, now time.Time) error
	SetConsolePassword(ctx context.Context, userID int64, tokenHash []byte, passwordHash string, now time.Time) (bool, error)
	CreateConsoleSession(ctx context.Context, s store.ConsoleSession) error
	ConsoleSessionByID(ctx context.Context, idHash []byte, now time.Time) (*store.ConsoleSession, error)
	DeleteConsoleSession(ctx context.Context, idHash []byte) error
	DeleteConsoleSessions(ctx context.Context, merchantID, userID int64) (int, error)
	DeleteConsoleUser(ctx context.Context, merchantID, userID int64) error
	AddAudit(ctx context.Context, e store.AuditEntry) error
	AuditLog(ctx context.Context, merchantID, before int64, limit int) ([]store.AuditEntry, error)

	SearchPayments(ctx context.Context, merchantID int64, q store.PaymentSearch) (core.PaymentPage, error)
	Daily(ctx context.Context, merchantID int64, currency string, from, to time.Time, offset time.Duration, upcomingTo time.Time) (store.DailyFigures, error)
	Recurring(ctx context.Context, merchantID int64, currency string, failedSince, from, to time.Time) (store.RecurringState, error)
	ListSubscriptions(ctx context.Context, merchantID int64, page, limit int) ([]core.Subscription, int, error)
	ListBillingKeys(ctx context.Context, merchantID int64, search string, page, limit int) ([]core.BillingKey, int, error)
	Deposits(ctx context.Context, merchantID, subscriptionID int64) ([]core.Deposit, error)
}

// Payments is the API's payment service: refunds take the API's cancel path.
type Payments interface {
	GetPayment(ctx context.Context, merchantID int64, impUID string) (*core.Payment, error)
	ListPayments(ctx context.Context, merchantID int64, q core.PaymentQuery) (core.PaymentPage, error)
	Cancel(ctx context.Context, merchantID int64, in charge.CancelInput) (*core.Payment, error)
	DeleteBillingKey(ctx context.Context, merchantID int64, customerUID, reason string) (*core.BillingKey, error)
}

// Merchants is the merchant service: the signed-in account's merchant and its channels.
type Merchants interface {
	ByID(ctx context.Context, id int64) (*core.Merchant, error)
	ByCode(ctx context.Context, code string) (*core.Merchant, error)
	Channels(ctx context.Context, merchantID int64) ([]core.Channel, error)
	SetCheckoutOrigins(ctx context.Context, code string, origins []string) (*core.Merchant, error)
	RotateImpSecret(ctx context.Context, merchantID int64) (string, error)
	RotateAPISignature(ctx context.Context, merchantID int64) (xLogin, secret string, err error)
	AddChannel(ctx context.Context, merchantID int64, in merchant.ChannelInput) (core.Channel, error)
	RemoveChannel(ctx context.Context, merchantID int64, ref string) (core.Channel, error)
	SetDefaultChannel(ctx context.Context, merchantID int64, ref string) (core.Channel, error)
}

// Webhooks is the webhook outbox service.
type Webhooks interface {
	GetSettings(ctx context.Context, merchantID int64) (webhook.Settings, error)
	SetSettings(ctx context.Context, merchantID int64, in webhook.Settings) error
	Events(ctx context.Context, merchantID int64, f store.EventFilter) ([]webhook.Event, error)
	Attempts(ctx context.Context, merchantID int64, eventID string) ([]webhook.Attempt, error)
	Resend(ctx context.Context, merchantID int64, eventID string) error
	ResendFailed(ctx context.Context, merchantID int64) (int, error)
	Secrets(ctx context.Context, merchantID int64) ([]webhook.Secret, error)
	RotateSecret(ctx context.Context, merchantID int64, overlap time.Duration) (webhook.Secret, error)
}

// Schedules is the scheduled-payment service.
type Schedules interface {
	List(ctx context.Context, merchantID int64, q core.ScheduleQuery) (core.SchedulePage, error)
	Unschedule(ctx context.Context, merchantID int64, customerUID string, merchantUIDs []string) ([]core.Schedule, error)
	Update(ctx context.Context, merchantID int64, merchantUID string, at time.Time) (*core.Schedule, error)
}

// Subscriptions is the v3 subscription engine.
type Subscriptions interface {
	Get(ctx context.Context, merchantID, id int64) (*core.Subscription, error)
	Cancel(ctx context.Context, merchantID, id int64) (*core.Subscription, error)
	Effective(sub *core.Subscription) core.SubscriptionStatus
}

// SandboxClock moves a --test-clock sandbox merchant's own time and runs
// what fell due.
type SandboxClock interface {
	Advance(ctx context.Context, merchantID int64, d time.Duration) (now time.Time, executed int, err error)
}

// Options configure the console.
type Options struct {
	Store         Store
	Merchants     Merchants
	Payments      Payments
	Webhooks      Webhooks
	Schedules     Schedules
	Subscriptions Subscriptions
	// Sandbox is nil unless the server runs on a test clock.
	Sandbox SandboxClock
	// Clock is billing time (the test clock in a sandbox, read per merchant
	// with clock.For); sessions and throttling use the wall clock, which the
	// test clock must not move.
	Clock  clock.Clock
	Logger *slog.Logger
}

// Handler serves the console.
type Handler struct {
	o        Options
	log      *slog.Logger
	wall     func() time.Time
	throttle *throttle
	mux      *http.ServeMux
}

// New builds the console.
func New(o Options) *Handler {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	h := &Handler{o: o, log: o.Logger, wall: time.Now}
	h.throttle = newThrottle(h.wall)
	h.mux = h.routes()
	return h
}

func (h *Handler) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /console/assets/{name}", serveAsset)
	mux.HandleFunc("GET /console/{$}", h.home)
	mux.HandleFunc("GET /console/login", h.loginPage)
	mux.HandleFunc("POST /console/login", h.login)
	mux.HandleFunc("GET /console/password", h.passwordPage)
	mux.HandleFunc("POST /console/password", h.setPassword)

	authed := func(pattern string, need need, fn pageFunc) { mux.Handle(pattern, h.authed(need, fn)) }
	authed("POST /console/logout", canRead, h.logout)
	authed("POST /console/logout-all", canRead, h.logoutAll)
	authed("GET /console/overview", canRead, h.overview)
	authed("GET /console/payments", canRead, h.payments)
	authed("GET /console/payments.csv", canRead, h.paymentsCSV)
	authed("GET /console/payments/{imp_uid}", canRead, h.payment)
	authed("POST /console/payments/{imp_uid}/refund", canOperate, h.refund)
	authed("GET /console/customers", canRead, h.customers)
	authed("POST /console/customers/delete", canOperate, h.deleteKey)
	authed("GET /console/schedules", canRead, h.schedules)
	authed("POST /console/schedules/move", canOperate, h.moveSchedule)
	authed("POST /console/schedules/unschedule", canOperate, h.unschedule)
	authed("GET /console/subscriptions/{id}", canRead, h.subscription)
	authed("POST /console/subscriptions/{id}/cancel", canOperate, h.cancelSubscription)
	authed("GET /console/webhooks", canRead, h.webhooks)
	authed("POST /console/webhooks/{id}/resend", canOperate, h.resend)
	authed("POST /console/webhooks/resend-failed", canOperate, h.resendFailed)
	authed("POST /console/webhooks/settings", canAdminister, h.webhookSettings)
	authed("POST /console/webhooks/secret/reveal", canAdminister, h.revealSecret)
	authed("POST /console/webhooks/secret/rotate", canAdminister, h.rotateSecret)
	authed("GET /console/settings", canRead, h.settings)
	authed("POST /console/settings/clock", canOperate, h.advanceClock)
	authed("POST /console/settings/origins", canAdminister, h.setOrigins)
	authed("POST /console/settings/channels", canAdminister, h.addChannel)
	authed("POST /console/settings/channels/{id}/default", canAdminister, h.defaultChannel)
	authed("POST /console/settings/channels/{id}/remove", canAdminister, h.removeChannel)
	authed("POST /console/settings/rotate-imp-secret", canAdminister, h.rotateImpSecret)
	authed("POST /console/settings/rotate-api-signature", canAdminister, h.rotateAPISignature)
	authed("POST /console/users", canAdminister, h.inviteUser)
	authed("POST /console/users/{id}/delete", canAdminister, h.removeUser)
	authed("GET /console/audit", canAdminister, h.auditPage)
	return mux
}

// ServeHTTP serves everything under Prefix with the console's security headers.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	if r.URL.Path == "/console" {
		http.Redirect(w, r, Prefix, http.StatusFound)
		return
	}
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	if _, err := h.session(r); err == nil {
		http.Redirect(w, r, "/console/overview", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}
