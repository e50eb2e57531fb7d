// Package iamport is the i'mport (PortOne V1) REST dialect: the envelope,
// the transport quirks real client libraries depend on, and the handlers
// that translate V1 requests into calls on the charge service.
package iamport

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/checkout"
	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/merchant"
)

// Options configures the handler. Zero values are usable.
type Options struct {
	Logger *slog.Logger
	Clock  clock.Clock
	// Registerer receives the request metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// MaxBodyBytes caps request bodies (default 1 MiB); larger ones get 413.
	MaxBodyBytes int64
	// TokenThrottle limits failed getToken attempts; nil: the defaults
	// (merchant.NewTokenThrottle) on the handler's clock.
	TokenThrottle *merchant.TokenThrottle
	// Webhooks serves the /webhooks/ operator endpoints; nil leaves them out.
	Webhooks Webhooks
	// Sandbox is the test clock behind /sandbox/clock; nil (or a wall-clock
	// server) answers 403 there.
	Sandbox SandboxClock
	// Schedules serves the scheduled-payment endpoints; nil leaves them out.
	Schedules Schedules
	// Window serves the browser side of V1 (the IMP SDK, the hosted payment
	// window, the demo page); nil leaves it out.
	Window PaymentWindow
}

// PaymentWindow is the payment-window handler (internal/checkout). Its
// routes answer browsers, not API clients: they sit beside the API, outside
// its token check, envelope and metrics.
type PaymentWindow interface {
	Routes() []checkout.Route
}

const defaultMaxBody = 1 << 20

// service is the part of *charge.Service this dialect calls. It exists so
// that handler tests can exercise the HTTP contract (envelope, status
// codes, error mapping) without a store.
type service interface {
	IssueBillingKey(ctx context.Context, merchantID int64, in charge.IssueKeyInput) (*core.BillingKey, error)
	GetBillingKey(ctx context.Context, merchantID int64, customerUID string) (*core.BillingKey, error)
	GetBillingKeys(ctx context.Context, merchantID int64, customerUIDs []string) ([]core.BillingKey, error)
	DeleteBillingKey(ctx context.Context, merchantID int64, customerUID, reason string) (*core.BillingKey, error)
	Onetime(ctx context.Context, merchantID int64, in charge.PayInput) (*core.Payment, error)
	Again(ctx context.Context, merchantID int64, in charge.PayInput) (*core.Payment, error)
	GetPayment(ctx context.Context, merchantID int64, impUID string) (*core.Payment, error)
	FindPayment(ctx context.Context, merchantID int64, merchantUID, status, sorting string) (*core.Payment, error)
	GetPayments(ctx context.Context, merchantID int64, impUIDs, merchantUIDs []string) ([]core.Payment, int, error)
	ListPayments(ctx context.Context, merchantID int64, q core.PaymentQuery) (core.PaymentPage, error)
	Cancel(ctx context.Context, merchantID int64, in charge.CancelInput) (*core.Payment, error)
	Prepare(ctx context.Context, merchantID int64, merchantUID string, amount int64, currency string, update bool) (*core.Prepared, error)
	GetPrepared(ctx context.Context, merchantID int64, merchantUID string) (*core.Prepared, error)
}

var _ service = (*charge.Service)(nil)

// merchants is the part of *merchant.Service this dialect calls: V1
// credentials, tokens and the channel catalog.
type merchants interface {
	IssueToken(ctx context.Context, impKey, impSecret string) (core.Token, error)
	Authenticate(ctx context.Context, token string) (*core.Merchant, error)
	Channels(ctx context.Context, merchantID int64) ([]core.Channel, error)
}

var _ merchants = (*merchant.Service)(nil)

// handler holds what every endpoint needs.
type handler struct {
	svc     service
	mer     merchants
	log     *slog.Logger
	clock   clock.Clock
	maxBody int64
	metrics *metrics
	tokens  *merchant.TokenThrottle
}

// New returns the V1 API as an http.Handler rooted at "/".
func New(svc *charge.Service, mer *merchant.Service, opts Options) http.Handler {
	return newHandler(svc, mer, opts)
}

func newHandler(svc service, mer merchants, opts Options) http.Handler {
	h := &handler{svc: svc, mer: mer, log: opts.Logger, clock: opts.Clock, maxBody: opts.MaxBodyBytes}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.clock == nil {
		h.clock = clock.Real{}
	}
	if h.maxBody <= 0 {
		h.maxBody = defaultMaxBody
	}
	h.metrics = newMetrics(opts.Registerer, h.log)
	h.tokens = opts.TokenThrottle
	if h.tokens == nil {
		h.tokens = merchant.NewTokenThrottle(h.clock, 0, 0, 0)
	}

	r := chi.NewRouter()
	// Metrics and recovery wrap everything so that panics are counted as
	// the 500 the client saw. StripSlashes rewrites the routing path only:
	// a redirect would turn the PHP client's POST /payments/cancel/ into GET.
	r.Use(h.metrics.middleware, h.recoverer, middleware.StripSlashes, h.limitBody)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, -1, "요청하신 API를 찾을 수 없습니다.")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, -1, "허용되지 않는 HTTP 메서드입니다.")
	})

	r.Post("/users/getToken", h.getToken)
	r.Group(func(r chi.Router) {
		r.Use(h.authenticate)
		// One function per area, each registering full paths on the same
		// router, so that later areas (schedules) are one more file and one
		// more line here, and chi sees every route for static-vs-param
		// priority.
		for _, area := range []func(chi.Router){
			h.userRoutes,
			h.channelRoutes,
			h.customerRoutes,
			h.subscribeRoutes,
			h.paymentRoutes,
			h.scheduleRoutes(opts.Schedules),
			h.webhookRoutes(opts.Webhooks),
			h.sandboxRoutes(opts.Sandbox),
		} {
			area(r)
		}
	})
	if opts.Window == nil {
		return r
	}
	root := chi.NewRouter()
	for _, wr := range opts.Window.Routes() {
		method, path, _ := strings.Cut(wr.Pattern, " ")
		root.Method(method, path, wr.Handler)
	}
	root.Mount("/", freshRouting{r})
	return headAsGet{root}
}

// freshRouting routes the API with a routing context of its own: the root's
// would carry "method not allowed" from a window path into the API, which
// answers an unknown path with 404 whatever the method. It stays a
// chi.Routes, so that route walks see the API.
type freshRouting struct{ *chi.Mux }

func (f freshRouting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.Mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), chi.RouteCtxKey, chi.NewRouteContext())))
}

// headAsGet answers HEAD on the window's GET routes, as http.ServeMux does
// for GET patterns (browsers and caches probe the SDK and assets with HEAD);
// the server still drops the body. It stays a chi.Routes, listing GET only.
type headAsGet struct{ *chi.Mux }

func (h headAsGet) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		if p := h.Find(chi.NewRouteContext(), http.MethodGet, r.URL.Path); p != "" && p != "/*" {
			r = r.WithContext(r.Context())
			r.Method = http.MethodGet
		}
	}
	h.Mux.ServeHTTP(w, r)
}
