package handlers

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the HTTP-side Prometheus metrics. Labels never carry PR
// numbers, SHAs or delivery ids.
type Metrics struct {
	reg             *prometheus.Registry // served at /metrics; app owns it
	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	deliveries      *prometheus.CounterVec
	ingestDuration  *prometheus.HistogramVec
	replays         *prometheus.CounterVec
	ingestRetries   *prometheus.CounterVec
	ingestGroups    prometheus.Histogram
	adminLogins     *prometheus.CounterVec
}

// NewMetrics registers the HTTP metrics on reg, the process's one registry
// (made by app), which /metrics serves.
func NewMetrics(reg *prometheus.Registry) *Metrics {
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qemgate_http_requests_total",
			Help: "HTTP requests answered, by route pattern and status code.",
		}, []string{"route", "code"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "qemgate_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qemgate_webhook_deliveries_total",
			Help: "Webhook deliveries received, by source, event type and outcome (accepted, duplicate, ignored, bad_signature, bad_request, too_large, busy, error).",
		}, []string{"source", "event", "outcome"}),
		ingestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "qemgate_webhook_ingest_duration_seconds",
			Help:    "Time from receiving a delivery to acknowledging it (verify, store, enqueue, commit).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"source"}),
		replays: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qemgate_replays_total",
			Help: "Stored deliveries replayed and PRs resynced by an operator.",
		}, []string{"kind"}),
		ingestRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qemgate_ingest_retries_total",
			Help: "Ingest transactions that PostgreSQL aborted and that ran again, by SQLSTATE (40P01 deadlock, 40001 serialization failure).",
		}, []string{"sqlstate"}),
		ingestGroups: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "qemgate_ingest_group_deliveries",
			Help:    "Deliveries (webhooks and the bus) stored together in one statement and one commit.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64},
		}),
		adminLogins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qemgate_admin_logins_total",
			Help: "Browser sign-ins at /admin/login, by result (ok, wrong_token, limited).",
		}, []string{"result"}),
	}
	reg.MustRegister(m.requests, m.requestDuration, m.deliveries, m.ingestDuration, m.replays, m.ingestRetries, m.ingestGroups, m.adminLogins)
	// Appear at zero from the start, so an alert on failed sign-ins has a series to watch.
	for _, result := range []string{"ok", "wrong_token", "limited"} {
		m.adminLogins.WithLabelValues(result)
	}
	return m
}

// IngestRetried counts an ingest transaction that runs again after
// PostgreSQL aborted it with sqlstate.
func (m *Metrics) IngestRetried(sqlstate string) {
	m.ingestRetries.WithLabelValues(sqlstate).Inc()
}

// IngestGroup observes a group commit of n deliveries.
func (m *Metrics) IngestGroup(n int) { m.ingestGroups.Observe(float64(n)) }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
