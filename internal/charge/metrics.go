package charge

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Refund outcomes in billkey_refunds_total.
const (
	refundDone    = "done"
	refundRefused = "refused"
	refundUnknown = "unknown"
)

var (
	backlogCount = prometheus.NewDesc("billkey_reconciler_backlog",
		"Charges and refunds waiting for the reconciler to learn their outcome at the PG, by kind (payment_unknown, payment_pending, cancel_pending).",
		[]string{"kind"}, nil)
	backlogOldest = prometheus.NewDesc("billkey_reconciler_oldest_seconds",
		"Age of the oldest unresolved charge or refund of each kind (0 when there is none).",
		[]string{"kind"}, nil)
)

// backlogCollector measures the reconciler's backlog at scrape time, from
// the store, so that every node reports the same cluster-wide figure.
type backlogCollector struct{ s *Service }

// BacklogCollector is the reconciler backlog for the metrics registry.
func (s *Service) BacklogCollector() prometheus.Collector { return backlogCollector{s} }

func (c backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- backlogCount
	ch <- backlogOldest
}

func (c backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	backlog, err := c.s.store.ReconcileBacklog(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(backlogCount, err)
		return
	}
	now := c.s.clock.Now()
	for _, b := range backlog {
		age := 0.0
		if b.Count > 0 && !b.Oldest.IsZero() {
			age = max(now.Sub(b.Oldest).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(backlogCount, prometheus.GaugeValue, float64(b.Count), b.Kind)
		ch <- prometheus.MustNewConstMetric(backlogOldest, prometheus.GaugeValue, age, b.Kind)
	}
}

// refundMetrics count refunds by outcome and the refunded amount by currency.
type refundMetrics struct {
	refunds *prometheus.CounterVec
	amount  *prometheus.CounterVec
}

func newRefundMetrics(reg prometheus.Registerer) refundMetrics {
	m := refundMetrics{
		refunds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "billkey_refunds_total",
			Help: "Refunds (cancels) by outcome: done, refused by the PG, unknown (no answer; the reconciler confirms it), reconciled_done, reconciled_failed.",
		}, []string{"outcome"}),
		amount: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "billkey_refunded_amount_total",
			Help: "Amount refunded, in minor units of the currency.",
		}, []string{"currency"}),
	}
	if reg != nil {
		reg.MustRegister(m.refunds, m.amount)
	}
	return m
}
