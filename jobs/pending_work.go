package jobs

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qemgate/qemgate/store"
)

// StaleWorkAfter is how long an acknowledged delivery may wait for its
// jobs before /readyz and qemgate_delivery_work_stale report it: many
// dispatch sweeps.
const StaleWorkAfter = time.Minute

var (
	pendingWorkDesc = prometheus.NewDesc("qemgate_delivery_work_pending",
		"Acknowledged deliveries whose River jobs the dispatcher has not inserted yet (delivery_work rows). Usually 0 or a few for a moment.",
		nil, nil)
	staleWorkDesc = prometheus.NewDesc("qemgate_delivery_work_stale",
		"Acknowledged deliveries still waiting for their River jobs after a minute: the dispatcher fails (see its log) or no replica runs it.",
		nil, nil)
)

// PendingWorkCollector reports the outbox's backlog from the database at
// each scrape.
func PendingWorkCollector(st *store.Store) prometheus.Collector { return pendingWorkCollector{st} }

type pendingWorkCollector struct{ st *store.Store }

func (c pendingWorkCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pendingWorkDesc
	ch <- staleWorkDesc
}

func (c pendingWorkCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// Nothing is said rather than failing the whole scrape while the
	// database is away; /readyz says so.
	if n, err := store.PendingWork(ctx, c.st.Pool); err == nil {
		ch <- prometheus.MustNewConstMetric(pendingWorkDesc, prometheus.GaugeValue, float64(n))
	}
	if n, err := store.StaleWork(ctx, c.st.Pool, StaleWorkAfter); err == nil {
		ch <- prometheus.MustNewConstMetric(staleWorkDesc, prometheus.GaugeValue, float64(n))
	}
}
