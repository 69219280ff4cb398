package jobs

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the workers' Prometheus metrics. Labels never carry PR
// numbers, SHAs or job ids.
type Metrics struct {
	Verdicts       *prometheus.CounterVec
	GiteaWrites    *prometheus.CounterVec
	OpenQARequests *prometheus.CounterVec
	GiteaRequests  *prometheus.CounterVec
	// OBSRequests and SMELTRequests count the calls of the optional
	// clients; they stay empty when obs.url or smelt.url is not set.
	OBSRequests    *prometheus.CounterVec
	SMELTRequests  *prometheus.CounterVec
	Scheduled      *prometheus.CounterVec
	MetadataReload *prometheus.CounterVec
	MetadataOK     prometheus.Gauge
	// PollerDrift counts what the pollers found that no event had told us.
	PollerDrift       *prometheus.CounterVec
	Aggregates        *prometheus.CounterVec
	DeliveriesDeleted prometheus.Counter
	// Reruns counts jobs queued again because news arrived while they ran.
	Reruns *prometheus.CounterVec
	// HeadMoved counts reports held back because the SHA was no longer the head.
	HeadMoved prometheus.Counter
	// Reevaluations counts evaluations the verdict safety net asked for.
	Reevaluations *prometheus.CounterVec
}

// NewMetrics registers the workers' metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qemgate_verdicts_total",
			Help: "Verdicts computed, by verdict (pending, passed, failed, no-jobs).",
		}, []string{"verdict"}),
		GiteaWrites: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qemgate_gitea_writes_total",
			Help: "Writes to Gitea, by kind (status, approval, decline, summary, dismissal) and outcome (posted, failed, dry_run).",
		}, []string{"kind", "outcome"}),
		OpenQARequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qemgate_openqa_requests_total",
			Help: "openQA API requests, by endpoint and HTTP status code (0: no answer).",
		}, []string{"endpoint", "code"}),
		GiteaRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qemgate_gitea_requests_total",
			Help: "Gitea API requests, by endpoint and HTTP status code (0: no answer).",
		}, []string{"endpoint", "code"}),
		OBSRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qemgate_obs_requests_total",
			Help: "OBS API requests, by endpoint (result, multibuild, listing) and HTTP status code (0: no answer).",
		}, []string{"endpoint", "code"}),
		SMELTRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qemgate_smelt_requests_total",
			Help: "SMELT API requests, by endpoint (update) and HTTP status code (0: no answer).",
		}, []string{"endpoint", "code"}),
		Scheduled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qemgate_test_runs_scheduled_total",
			Help: "Test runs posted to openQA, by outcome (scheduled, adopted, failed, retry, dry_run).",
		}, []string{"outcome"}),
		MetadataReload: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qemgate_metadata_reloads_total",
			Help: "Metadata reloads, by result (ok, error). A failed reload keeps the last good set.",
		}, []string{"result"}),
		MetadataOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "qemgate_metadata_last_reload_ok",
			Help: "1 when the last metadata reload succeeded, 0 when it failed and an older set is in use.",
		}),
		PollerDrift: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qemgate_poller_drift_total",
			Help: "What the pollers found that no event had told us, by kind (new_pull, head_changed, updated, closed, build_ready_missed, openqa_job_changed, openqa_job_unsynced, openqa_job_gone).",
		}, []string{"kind"}),
		Aggregates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qemgate_aggregates_total",
			Help: "Aggregate decisions per product and arch, by outcome (created, unchanged, onetime, empty).",
		}, []string{"outcome"}),
		DeliveriesDeleted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qemgate_deliveries_deleted_total",
			Help: "Stored deliveries deleted by retention.",
		}),
		Reruns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qemgate_job_reruns_total",
			Help: "Jobs queued again on completion because an event for their key arrived while they ran, by kind.",
		}, []string{"kind"}),
		HeadMoved: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qemgate_reports_head_moved_total",
			Help: "Final statuses, approvals and requests for changes held back because Gitea, read live, or a stored event showed a newer head than the tested SHA.",
		}),
		Reevaluations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qemgate_reevaluations_total",
			Help: "Evaluations queued by the verdict safety net, by reason (jobs_newer: a stored job or acceptance changed after the last evaluation; head_unevaluated: the head SHA has runs but no verdict). Non-zero means news was lost on the way to an evaluation.",
		}, []string{"reason"}),
	}
	reg.MustRegister(m.Reruns, m.HeadMoved, m.Reevaluations, m.Verdicts, m.GiteaWrites, m.OpenQARequests, m.GiteaRequests, m.OBSRequests, m.SMELTRequests, m.Scheduled, m.MetadataReload, m.MetadataOK,
		m.PollerDrift, m.Aggregates, m.DeliveriesDeleted)
	return m
}
