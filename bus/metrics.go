package bus

import (
	"net/url"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the consumer's Prometheus metrics.
type Metrics struct {
	messages   *prometheus.CounterVec
	duration   prometheus.Histogram
	connected  prometheus.Gauge
	reconnects prometheus.Counter
	oldest     func() float64
}

// NewMetrics registers the consumer's metrics on reg. They exist (at zero)
// whether or not a broker is configured, so that dashboards and alerts do
// not depend on it.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qemgate_amqp_messages_total",
			Help: "Messages from the broker by source (openqa-amqp, gitea-amqp), event (from the routing key: job_done, comment_create, pull_request, ... or other) and outcome (accepted, ignored, duplicate, bad_request; error is one failed attempt to store, retried).",
		}, []string{"source", "event", "outcome"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "qemgate_amqp_message_duration_seconds",
			Help:    "From handing a message to a worker to its acknowledgement.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "qemgate_amqp_connected",
			Help: "1 while this process is connected to the broker and consuming.",
		}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qemgate_amqp_reconnects_total",
			Help: "Times the broker connection was lost (or could not be made) and is tried again.",
		}),
		oldest: func() float64 { return 0 },
	}
	reg.MustRegister(m.messages, m.duration, m.connected, m.reconnects,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "qemgate_amqp_oldest_unacked_seconds",
			Help: "Age of the oldest message this process holds without having acknowledged it; it grows while the database is away.",
		}, func() float64 { return m.oldest() }))
	return m
}

// redactedError is an error's text without the broker URL or its password.
func redactedError(err error, raw string) string {
	msg := err.Error()
	if raw == "" {
		return msg
	}
	msg = strings.ReplaceAll(msg, raw, "[amqp.url]")
	if u, perr := url.Parse(raw); perr == nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "[redacted]")
		}
	}
	return msg
}
