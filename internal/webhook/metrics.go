package webhook

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	deliveries *prometheus.CounterVec
	latency    prometheus.Histogram
	queueDepth *prometheus.GaugeVec
	inFlight   prometheus.Gauge
	// registered: without a registry nobody reads the gauges, so the
	// queue-depth query is skipped.
	registered bool
}

func newMetrics(reg prometheus.Registerer) *metrics {
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
		queueDepth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "billkey_webhook_queue_depth",
			Help: "Undelivered webhook events by status: pending (due or waiting to retry) and failed.",
		}, []string{"status"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "billkey_webhook_in_flight",
			Help: "Webhook deliveries in progress on this node.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.deliveries, m.latency, m.queueDepth, m.inFlight)
		m.registered = true
	}
	return m
}
