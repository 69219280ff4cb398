package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qemgate/qemgate/store"
)

// Overdue finds jobs running past their own timeout: jobs of a killed
// process (or whose completion was lost in a database outage) that River's
// rescuer has not retried yet. While the rescuer works they are retried
// within workers.rescue_after plus 30 s; one that stays overdue longer means
// the rescuer is not running (no leader) and PRs are held back.
type Overdue struct {
	Store *store.Store
	// JobTimeout is the client's default attempt bound (workers.job_timeout).
	JobTimeout time.Duration
}

// longTimeouts are the kinds with an attempt bound of their own (timeouts.go).
var longTimeouts = map[string]time.Duration{
	PollGiteaArgs{}.Kind():  periodicTimeout,
	PollOpenQAArgs{}.Kind(): periodicTimeout,
	RetentionArgs{}.Kind():  periodicTimeout,
	AggregateArgs{}.Kind():  periodicTimeout,
	ReevaluateArgs{}.Kind(): periodicTimeout,
}

// overdueGrace keeps a job that is just ending from counting.
const overdueGrace = 10 * time.Second

func (o *Overdue) timeout(kind string) time.Duration {
	if d, ok := longTimeouts[kind]; ok {
		return d
	}
	return o.JobTimeout
}

// Count returns the overdue jobs by kind and the longest overdue run.
func (o *Overdue) Count(ctx context.Context) (map[string]int, time.Duration, error) {
	running, err := store.RunningJobsOlderThan(ctx, o.Store.Pool, o.JobTimeout+overdueGrace)
	if err != nil {
		return nil, 0, err
	}
	out := map[string]int{}
	var longest time.Duration
	for _, j := range running {
		if past := j.For - o.timeout(j.Kind); past > overdueGrace {
			out[j.Kind]++
			longest = max(longest, j.For)
		}
	}
	return out, longest, nil
}

// Describe reads as the readiness detail: "" when nothing is overdue.
func (o *Overdue) Describe(ctx context.Context) (string, error) {
	byKind, longest, err := o.Count(ctx)
	if err != nil || len(byKind) == 0 {
		return "", err
	}
	n := 0
	for _, c := range byKind {
		n += c
	}
	return fmt.Sprintf("%d jobs running past their timeout (longest for %s): a killed process's, retried by River's rescuer", n,
		longest.Truncate(time.Second)), nil
}

var overdueDesc = prometheus.NewDesc("qemgate_jobs_overdue",
	"River jobs running past their own timeout, by kind: jobs of a killed process (or whose completion was lost) not retried yet. "+
		"Non-zero for longer than workers.rescue_after plus a minute means River's rescuer is not running.",
	[]string{"kind"}, nil)

// overdueCollector reads the count at scrape time, with a short deadline.
type overdueCollector struct{ o *Overdue }

// Collector returns a Prometheus collector of qemgate_jobs_overdue.
func (o *Overdue) Collector() prometheus.Collector { return overdueCollector{o} }

func (c overdueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- overdueDesc }

func (c overdueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	byKind, _, err := c.o.Count(ctx)
	if err != nil {
		// Nothing is said rather than failing the whole scrape: /metrics
		// must answer while the database is down, and /readyz says so.
		return
	}
	for _, kind := range []string{SyncPullArgs{}.Kind(), SyncCommitArgs{}.Kind(), ScheduleArgs{}.Kind(), SyncOpenQAJobArgs{}.Kind(),
		EvaluateArgs{}.Kind(), ReportArgs{}.Kind(), PollGiteaArgs{}.Kind(), PollOpenQAArgs{}.Kind(), RetentionArgs{}.Kind(), AggregateArgs{}.Kind(), ReevaluateArgs{}.Kind()} {
		ch <- prometheus.MustNewConstMetric(overdueDesc, prometheus.GaugeValue, float64(byKind[kind]), kind)
	}
}
