package iamport

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/billkey/billkey/internal/core"
)

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// throttled counts getToken calls refused for too many failures.
	throttled *prometheus.CounterVec
	log       *slog.Logger
}

func newMetrics(reg prometheus.Registerer, log *slog.Logger) *metrics {
	labels := []string{"route", "method", "status"}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "billkey", Subsystem: "iamport", Name: "requests_total",
			Help: "V1 API requests by chi route pattern, method, HTTP status and envelope code (\"none\" for answers outside the envelope).",
		}, append(labels, "code")),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "billkey", Subsystem: "iamport", Name: "request_duration_seconds",
			Help:    "V1 API request latency by chi route pattern, method and HTTP status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, labels),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "billkey", Subsystem: "iamport", Name: "gettoken_throttled_total",
			Help: "getToken calls refused with 429 after too many failed attempts, by what was limited (imp_key or address).",
		}, []string{"by"}),
		log: log,
	}
	if reg != nil {
		m.throttled = register(reg, m.throttled)
		// A second handler on the same registry (tests, two listeners)
		// shares the first one's collectors instead of failing.
		m.requests = register(reg, m.requests)
		m.duration = register(reg, m.duration)
	}
	return m
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}

// middleware counts by route pattern, not path: paths carry imp_uids and
// customer_uids and would explode label cardinality. It also writes the
// access log, which deliberately has no body or query (card data,
// tokens).
func (m *metrics) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := &codeWriter{WrapResponseWriter: middleware.NewWrapResponseWriter(w, r.ProtoMajor), code: "none"}
		next.ServeHTTP(ww, r)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil {
			if p := rc.RoutePattern(); p != "" && p != "/*" {
				route = p
			}
		}
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK
		}
		d := time.Since(start)
		labels := prometheus.Labels{"route": route, "method": r.Method, "status": strconv.Itoa(status)}
		m.duration.With(labels).Observe(d.Seconds())
		labels["code"] = ww.code
		m.requests.With(labels).Inc()
		m.log.LogAttrs(r.Context(), slog.LevelInfo, "iamport request",
			slog.String("method", r.Method), slog.String("route", route),
			slog.Int("status", status), slog.Duration("duration", d))
	})
}

// codeWriter remembers the envelope code written through it, so that the
// request metrics tell a business refusal (HTTP 200, code 1) from a success.
type codeWriter struct {
	middleware.WrapResponseWriter
	code string
}

func (w *codeWriter) setEnvelopeCode(code int) { w.code = strconv.Itoa(code) }

// recordEnvelopeCode finds the codeWriter under any wrappers added after it.
func recordEnvelopeCode(w http.ResponseWriter, code int) {
	for w != nil {
		if cw, ok := w.(interface{ setEnvelopeCode(int) }); ok {
			cw.setEnvelopeCode(code)
			return
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}

// recoverer turns a panic into the V1 envelope; chi's own Recoverer would
// answer with a plain-text body that V1 clients cannot parse.
func (h *handler) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if rec == http.ErrAbortHandler {
				panic(rec)
			}
			h.log.ErrorContext(r.Context(), "iamport handler panic",
				slog.Any("panic", rec), slog.String("stack", string(debug.Stack())))
			writeError(w, http.StatusInternalServerError, -1, msgInternal)
		}()
		next.ServeHTTP(w, r)
	})
}

// limitBody rejects oversized bodies up front when the length is declared
// and caps streamed ones; readParams turns the cap into a 413.
func (h *handler) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > h.maxBody {
			writeError(w, http.StatusRequestEntityTooLarge, -1, tooLargeMessage(h.maxBody))
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, h.maxBody)
		}
		next.ServeHTTP(w, r)
	})
}

func tooLargeMessage(limit int64) string {
	return "요청 본문이 너무 큽니다. (최대 " + strconv.FormatInt(limit, 10) + " bytes)"
}

type ctxKey struct{}

func withMerchant(ctx context.Context, m *core.Merchant) context.Context {
	return context.WithValue(ctx, ctxKey{}, m)
}

// merchantFrom returns the authenticated merchant; every route behind
// authenticate has one.
func merchantFrom(ctx context.Context) *core.Merchant {
	m, _ := ctx.Value(ctxKey{}).(*core.Merchant)
	return m
}

// tokenFrom accepts every form clients send. Authorization wins over
// X-ImpTokenHeader (per the vendor), and "?_token=" is the legacy fallback
// hinted at by the Java client.
func tokenFrom(r *http.Request) string {
	if t := authToken(r.Header.Get("Authorization")); t != "" {
		return t
	}
	if t := strings.TrimSpace(r.Header.Get("X-ImpTokenHeader")); t != "" {
		return t
	}
	return strings.TrimSpace(r.URL.Query().Get("_token"))
}

func authToken(h string) string {
	h = strings.TrimSpace(h)
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	if strings.EqualFold(h, "bearer") {
		return ""
	}
	return h
}

func (h *handler) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := tokenFrom(r)
		if tok == "" {
			writeError(w, http.StatusUnauthorized, -1, msgUnauthorized)
			return
		}
		m, err := h.mer.Authenticate(r.Context(), tok)
		if err != nil || m == nil {
			if err != nil {
				h.fail(w, r, err, opDefault, "")
				return
			}
			writeError(w, http.StatusUnauthorized, -1, msgUnauthorized)
			return
		}
		next.ServeHTTP(w, r.WithContext(withMerchant(r.Context(), m)))
	})
}

// fail writes the mapped error and logs the ones that are our fault.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error, o op, subject string) {
	ae := mapError(err, o, subject)
	if ae.Status >= 500 {
		h.log.ErrorContext(r.Context(), "iamport request failed", slog.String("path", routePattern(r)), slog.Any("err", err))
	}
	writeError(w, ae.Status, ae.Code, ae.Message)
}

func routePattern(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		return rc.RoutePattern()
	}
	return ""
}
