package webhook

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/billkey/billkey/internal/store"
)

type metrics struct {
	deliveries *prometheus.CounterVec
	latency    prometheus.Histogram
	inFlight   prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer, st Store) *metrics {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "billkey_webhook_deliveries_total",
			Help: "Webhook delivery attempts by outcome: delivered, retrying, failed (retries exhausted), refused (bad URL or blocked address), skipped (no URL).",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "billkey_webhook_delivery_duration_seconds",
			Help:    "Time from sending a webhook to its response or error.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15},
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "billkey_webhook_in_flight",
			Help: "Webhook deliveries in progress on this node.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.deliveries, m.latency, m.inFlight, queueDepth{st})
	}
	return m
}

// queueDepth counts undelivered events when Prometheus scrapes, not on
// every dispatch: dispatch runs after every charge, a scrape every few
// seconds.
type queueDepth struct{ st Store }

var queueDepthDesc = prometheus.NewDesc("billkey_webhook_queue_depth",
	"Undelivered webhook events by status: pending (due or waiting to retry) and failed.", []string{"status"}, nil)

func (q queueDepth) Describe(ch chan<- *prometheus.Desc) { ch <- queueDepthDesc }

func (q queueDepth) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	depth, err := q.st.WebhookQueueDepth(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(queueDepthDesc, err)
		return
	}
	for _, st := range []string{store.EventPending, store.EventFailed} {
		ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(depth[st]), st)
	}
}
