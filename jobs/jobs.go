// Package jobs holds River job arguments and workers: the durable work that
// follows a webhook, a callback or a poll, each idempotent on business keys.
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/forge"
	"github.com/qemgate/qemgate/metadata"
	"github.com/qemgate/qemgate/openqa"
	"github.com/qemgate/qemgate/store"
)

// Queue names. Gitea and openQA calls have their own queues so that one slow
// system cannot starve work for the other.
const (
	QueueGitea   = "gitea"
	QueueOpenQA  = "openqa"
	QueueDefault = river.QueueDefault
)

// OpenQA is what the workers need from openQA; *openqa.Client implements it.
type OpenQA interface {
	PostISOs(ctx context.Context, params url.Values) (*openqa.ScheduleResult, error)
	GetJob(ctx context.Context, id int64) (*openqa.Job, error)
	ListJobs(ctx context.Context, f openqa.JobFilter) ([]openqa.Job, error)
	JobComments(ctx context.Context, jobID int64) ([]openqa.Comment, error)
	JobGroup(ctx context.Context, id int64) (*openqa.JobGroup, error)
}

// Deps are the collaborators every worker may use.
type Deps struct {
	Config *config.Config
	Store  *store.Store
	Forge  forge.Forge
	OpenQA OpenQA
	// OBS and SMELT are nil when not configured: products then come from
	// the branch configuration and priority from labels.
	OBS      OBS
	SMELT    SMELT
	Metadata *metadata.Holder
	Metrics  *Metrics
	Logger   *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func (d Deps) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// Config sizes the River client.
type Config struct {
	GiteaWorkers, OpenQAWorkers, DefaultWorkers int
	SoftStopTimeout                             time.Duration
	JobTimeout                                  time.Duration
	// FetchCooldown and FetchPollInterval are River's (0: River's defaults).
	FetchCooldown, FetchPollInterval time.Duration
	// RescueAfter is River's RescueStuckJobsAfter: a job running this long
	// (past its own timeout) is retried. Default JobTimeout + 1 minute.
	RescueAfter time.Duration
	TestOnly    bool
}

// Register adds every worker qemgate has: the one place to look for them.
// Each worker gets only the dependencies it uses, named here; the others are
// nil, so what a worker touches is visible in one line and a use it does
// not declare fails in every test that runs it. Every event-driven worker
// ends through finishDebounced, which uses Store, Metrics and Logger.
func Register(workers *river.Workers, d Deps) {
	river.AddWorker(workers, &SyncPullWorker{deps: Deps{Config: d.Config, Store: d.Store, Forge: d.Forge, OBS: d.OBS, SMELT: d.SMELT, Metrics: d.Metrics, Logger: d.Logger}})
	river.AddWorker(workers, &SyncCommitWorker{deps: Deps{Store: d.Store, Forge: d.Forge}})
	river.AddWorker(workers, &ScheduleWorker{deps: Deps{Config: d.Config, Store: d.Store, OpenQA: d.OpenQA, Metadata: d.Metadata, Metrics: d.Metrics, Logger: d.Logger, Now: d.Now}})
	river.AddWorker(workers, &SyncOpenQAJobWorker{deps: Deps{Store: d.Store, OpenQA: d.OpenQA, Metrics: d.Metrics, Logger: d.Logger, Now: d.Now}})
	river.AddWorker(workers, &EvaluateWorker{deps: Deps{Config: d.Config, Store: d.Store, Metrics: d.Metrics, Logger: d.Logger, Now: d.Now}})
	river.AddWorker(workers, &ReportWorker{deps: Deps{Config: d.Config, Store: d.Store, Forge: d.Forge, Metrics: d.Metrics, Logger: d.Logger, Now: d.Now}})
	river.AddWorker(workers, &PollGiteaWorker{deps: Deps{Config: d.Config, Store: d.Store, Forge: d.Forge, OBS: d.OBS, SMELT: d.SMELT, Metrics: d.Metrics, Logger: d.Logger}})
	river.AddWorker(workers, &PollOpenQAWorker{deps: Deps{Config: d.Config, Store: d.Store, OpenQA: d.OpenQA, Metrics: d.Metrics, Logger: d.Logger, Now: d.Now}})
	river.AddWorker(workers, &RetentionWorker{deps: Deps{Config: d.Config, Store: d.Store, Metrics: d.Metrics, Logger: d.Logger, Now: d.Now}})
	river.AddWorker(workers, &AggregateWorker{deps: Deps{Config: d.Config, Store: d.Store, OpenQA: d.OpenQA, Metadata: d.Metadata, Metrics: d.Metrics, Logger: d.Logger, Now: d.Now}})
	river.AddWorker(workers, &ReevaluateWorker{deps: Deps{Store: d.Store, Metrics: d.Metrics, Logger: d.Logger}})
}

// NewClient returns a River client with our queues, every worker and the
// periodic jobs (registered on every replica; only the leader runs them).
func NewClient(pool *pgxpool.Pool, deps Deps, cfg Config) (*river.Client[pgx.Tx], error) {
	workers := river.NewWorkers()
	Register(workers, deps)
	periodic, err := PeriodicJobs(deps.Config)
	if err != nil {
		return nil, err
	}
	jobTimeout := cfg.JobTimeout
	if jobTimeout == 0 {
		jobTimeout = 2 * time.Minute
	}
	rescueAfter := max(cfg.RescueAfter, jobTimeout)
	if cfg.RescueAfter == 0 {
		rescueAfter = jobTimeout + time.Minute
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues: map[string]river.QueueConfig{
			QueueGitea:   {MaxWorkers: max(cfg.GiteaWorkers, 1)},
			QueueOpenQA:  {MaxWorkers: max(cfg.OpenQAWorkers, 1)},
			QueueDefault: {MaxWorkers: max(cfg.DefaultWorkers, 1)},
		},
		Workers:      workers,
		PeriodicJobs: periodic,
		Logger:       RiverLogger(deps.Logger),
		JobTimeout:   jobTimeout,
		// A notification wakes a queue at most once per cooldown, and a
		// queue not woken polls; both bound the reaction to an event.
		FetchCooldown:     cfg.FetchCooldown,
		FetchPollInterval: cfg.FetchPollInterval,
		// The default (JobTimeout + 1 h) left the jobs of a killed process
		// running, and every later event for their PRs skipped as a
		// duplicate of them, for over an hour.
		RescueStuckJobsAfter: rescueAfter,
		SoftStopTimeout:      cfg.SoftStopTimeout,
		ErrorHandler:         &errorHandler{logger: deps.Logger},
		RetryPolicy:          retryPolicy{}, // real time, as River schedules against the database clock
		TestOnly:             cfg.TestOnly,
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return client, nil
}

// errorHandler logs failed attempts once, with the job's kind and args, so a
// failing job can be followed without River UI.
type errorHandler struct{ logger *slog.Logger }

func (h *errorHandler) HandleError(ctx context.Context, job *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	h.logger.WarnContext(ctx, "job attempt failed", "job_id", job.ID, "kind", job.Kind, "attempt", job.Attempt,
		"args", string(job.EncodedArgs), "error", err)
	return nil
}

func (h *errorHandler) HandlePanic(ctx context.Context, job *rivertype.JobRow, panicVal any, trace string) *river.ErrorHandlerResult {
	h.logger.ErrorContext(ctx, "job panicked", "job_id", job.ID, "kind", job.Kind, "panic", fmt.Sprint(panicVal), "trace", trace)
	return nil
}
