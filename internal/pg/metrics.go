package pg

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Operation names a Connector method in metrics.
type Operation string

const (
	OpIssueKey     Operation = "issue_key"
	OpIssueWindow  Operation = "issue_key_window"
	OpDeleteKey    Operation = "delete_key"
	OpCharge       Operation = "charge"
	OpLookupCharge Operation = "lookup_charge"
	OpCancel       Operation = "cancel"
	OpLookupCancel Operation = "lookup_cancel"
)

// Outcome classifies a processor call for metrics and alerts.
type Outcome string

const (
	OutcomeOK       Outcome = "ok"       // done (issued, deleted, refunded, found)
	OutcomeApproved Outcome = "approved" // charge approved
	OutcomeDeclined Outcome = "declined" // charge declined by the issuer
	OutcomeRefused  Outcome = "refused"  // a definite *Error from the PG: nothing done
	OutcomeNotFound Outcome = "not_found"
	OutcomeUnknown  Outcome = "unknown" // no answer: may or may not have happened
	OutcomeError    Outcome = "error"   // anything else
)

// Instrumented wraps a Connector and measures every call by provider,
// operation and outcome: billkey_pg_calls_total and
// billkey_pg_call_duration_seconds.
type Instrumented struct {
	next     Connector
	calls    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// windowIssuer is the optional payment-window method of a connector
// (charge.WindowIssuer); the wrapper keeps it visible when c has it.
type windowIssuer interface {
	IssueWindowBillingKey(ctx context.Context, req IssueKeyRequest, method string) (*IssueKeyResult, error)
}

// Instrument returns c measured into reg. The result implements the same
// optional interfaces as c, so that type assertions on it still work.
func Instrument(c Connector, reg prometheus.Registerer) Connector {
	in := newInstrumented(c, reg)
	if w, ok := c.(windowIssuer); ok {
		return &instrumentedWindow{Instrumented: in, window: w}
	}
	return in
}

type instrumentedWindow struct {
	*Instrumented
	window windowIssuer
}

func (in *instrumentedWindow) IssueWindowBillingKey(ctx context.Context, req IssueKeyRequest, method string) (*IssueKeyResult, error) {
	start := time.Now()
	r, err := in.window.IssueWindowBillingKey(ctx, req, method)
	in.observe(req.Target, OpIssueWindow, start, ClassifyError(err))
	return r, err
}

// Unwrap returns the measured connector.
func (in *Instrumented) Unwrap() Connector { return in.next }

func newInstrumented(c Connector, reg prometheus.Registerer) *Instrumented {
	in := &Instrumented{
		next: c,
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "billkey_pg_calls_total",
			Help: "Payment processor calls by provider, operation and outcome.",
		}, []string{"provider", "operation", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "billkey_pg_call_duration_seconds",
			Help:    "Payment processor call latency by provider, operation and outcome.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"provider", "operation", "outcome"}),
	}
	if reg != nil {
		reg.MustRegister(in.calls, in.duration)
	}
	return in
}

func (in *Instrumented) observe(t Target, op Operation, start time.Time, out Outcome) {
	provider := t.Provider
	if provider == "" {
		provider = "default"
	}
	in.calls.WithLabelValues(provider, string(op), string(out)).Inc()
	in.duration.WithLabelValues(provider, string(op), string(out)).Observe(time.Since(start).Seconds())
}

// ClassifyError maps a Connector error to its outcome.
func ClassifyError(err error) Outcome {
	var pe *Error
	switch {
	case err == nil:
		return OutcomeOK
	case errors.Is(err, ErrUnknownOutcome), errors.Is(err, context.DeadlineExceeded):
		return OutcomeUnknown
	case errors.Is(err, ErrNoSuchCharge):
		return OutcomeNotFound
	case errors.As(err, &pe):
		return OutcomeRefused
	}
	return OutcomeError
}

func chargeOutcome(r *ChargeResult, err error) Outcome {
	if err != nil || r == nil {
		return ClassifyError(err)
	}
	if r.Status == ChargeApproved {
		return OutcomeApproved
	}
	return OutcomeDeclined
}

func (in *Instrumented) IssueBillingKey(ctx context.Context, req IssueKeyRequest) (*IssueKeyResult, error) {
	start := time.Now()
	r, err := in.next.IssueBillingKey(ctx, req)
	in.observe(req.Target, OpIssueKey, start, ClassifyError(err))
	return r, err
}

func (in *Instrumented) DeleteBillingKey(ctx context.Context, target Target, billingKey string) error {
	start := time.Now()
	err := in.next.DeleteBillingKey(ctx, target, billingKey)
	in.observe(target, OpDeleteKey, start, ClassifyError(err))
	return err
}

func (in *Instrumented) Charge(ctx context.Context, req ChargeRequest) (*ChargeResult, error) {
	start := time.Now()
	r, err := in.next.Charge(ctx, req)
	in.observe(req.Target, OpCharge, start, chargeOutcome(r, err))
	return r, err
}

func (in *Instrumented) LookupCharge(ctx context.Context, target Target, idempotencyKey string) (*ChargeResult, error) {
	start := time.Now()
	r, err := in.next.LookupCharge(ctx, target, idempotencyKey)
	in.observe(target, OpLookupCharge, start, chargeOutcome(r, err))
	return r, err
}

func (in *Instrumented) Cancel(ctx context.Context, req CancelRequest) (*CancelResult, error) {
	start := time.Now()
	r, err := in.next.Cancel(ctx, req)
	in.observe(req.Target, OpCancel, start, ClassifyError(err))
	return r, err
}

func (in *Instrumented) LookupCancel(ctx context.Context, target Target, chargeKey, idempotencyKey string) (*CancelResult, error) {
	start := time.Now()
	r, err := in.next.LookupCancel(ctx, target, chargeKey, idempotencyKey)
	in.observe(target, OpLookupCancel, start, ClassifyError(err))
	return r, err
}

var _ Connector = (*Instrumented)(nil)
