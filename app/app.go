// Package app wires qemgate together: from a configuration and a database
// to the clients, the workers and the HTTP handler, for serve and for tests.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/riverqueue/river"
	"riverqueue.com/riverui"

	"github.com/qemgate/qemgate/bus"
	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/forge"
	"github.com/qemgate/qemgate/handlers"
	"github.com/qemgate/qemgate/intake"
	"github.com/qemgate/qemgate/jobs"
	"github.com/qemgate/qemgate/metadata"
	"github.com/qemgate/qemgate/migrations"
	"github.com/qemgate/qemgate/obs"
	"github.com/qemgate/qemgate/openqa"
	"github.com/qemgate/qemgate/smelt"
	"github.com/qemgate/qemgate/store"
)

// App is one qemgate process: HTTP handler plus River workers.
type App struct {
	Config   config.Config
	Logger   *slog.Logger
	Pool     *pgxpool.Pool
	Store    *store.Store
	River    *river.Client[pgx.Tx]
	Handler  http.Handler
	Metadata *metadata.Holder
	// Registry is the process's one Prometheus registry: made here, with
	// the Go and process collectors; handlers and jobs register their
	// metrics on it, and /metrics serves it.
	Registry *prometheus.Registry
	Metrics  *handlers.Metrics
	Jobs     *jobs.Metrics
	// Overdue finds jobs running past their timeout (a killed process's).
	Overdue *jobs.Overdue
	// Bus consumes from the broker when amqp.url is set; nil otherwise.
	Bus *bus.Consumer
	// Ingest stores deliveries; its dispatcher runs with the workers.
	Ingest *jobs.Ingest

	riverUI      *riverui.Handler
	riverRunning atomic.Bool
	stopUI       context.CancelFunc
	// stopDispatch ends the dispatcher; dispatchDone is closed when it has.
	stopDispatch context.CancelFunc
	dispatchDone chan struct{}
}

// Options tune an App for tests.
type Options struct {
	// TestOnly makes River start without its production jitter.
	TestOnly bool
	// Now is the workers' clock.
	Now func() time.Time
}

// New builds an App on an open pool. It does no network I/O.
func New(cfg config.Config, logger *slog.Logger, pool *pgxpool.Pool, opts Options) (*App, error) {
	if err := cfg.Resolve(); err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Logger: logger, Pool: pool, Store: store.New(pool)}
	a.Registry = prometheus.NewRegistry()
	a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.Metrics = handlers.NewMetrics(a.Registry)
	a.Jobs = jobs.NewMetrics(a.Registry)
	a.Overdue = &jobs.Overdue{Store: a.Store, JobTimeout: cfg.Workers.JobTimeout.D()}
	a.Registry.MustRegister(a.Overdue.Collector(), jobs.PendingWorkCollector(a.Store))

	fg, err := forge.New(forge.Config{
		URL:     cfg.Gitea.URL,
		Token:   cfg.Gitea.Token,
		Timeout: cfg.Gitea.Timeout.D(),
		Observe: observe(a.Jobs.GiteaRequests),
	})
	if err != nil {
		return nil, fmt.Errorf("gitea client: %w", err)
	}
	oq := openqa.New(openqa.Config{
		URL:     cfg.OpenQA.URL,
		Key:     cfg.OpenQA.Key,
		Secret:  cfg.OpenQA.Secret,
		Timeout: cfg.OpenQA.Timeout.D(),
		Observe: observe(a.Jobs.OpenQARequests),
	})
	a.Metadata = metadata.NewHolder(cfg.Metadata.Dir, metadata.Options{Strict: cfg.Metadata.Strict}, opts.Now)
	// Without obs.url or smelt.url the workers see nil and behave as before.
	var buildService jobs.OBS
	if cfg.OBS.Enabled() {
		buildService = obs.New(obs.Config{
			URL: cfg.OBS.URL, User: cfg.OBS.User, Password: cfg.OBS.Password, Token: cfg.OBS.Token,
			DownloadURL: cfg.OBS.DownloadURL, Timeout: cfg.OBS.Timeout.D(), Observe: observe(a.Jobs.OBSRequests),
		})
	}
	var priorities jobs.SMELT
	if cfg.SMELT.Enabled() {
		smeltRequests := observe(a.Jobs.SMELTRequests)
		priorities = smelt.New(smelt.Config{URL: cfg.SMELT.URL, Timeout: cfg.SMELT.Timeout.D(),
			Observe: func(code int, d time.Duration) { smeltRequests("update", code, d) }})
	}

	deps := jobs.Deps{
		Config:   &a.Config,
		Store:    a.Store,
		Forge:    fg,
		OpenQA:   oq,
		OBS:      buildService,
		SMELT:    priorities,
		Metadata: a.Metadata,
		Metrics:  a.Jobs,
		Logger:   logger,
		Now:      opts.Now,
	}
	a.River, err = jobs.NewClient(pool, deps, jobs.Config{
		GiteaWorkers:      cfg.Workers.Gitea,
		OpenQAWorkers:     cfg.Workers.OpenQA,
		DefaultWorkers:    cfg.Workers.Default,
		SoftStopTimeout:   cfg.ShutdownWait.D() / 2,
		JobTimeout:        cfg.Workers.JobTimeout.D(),
		RescueAfter:       cfg.Workers.RescueAfter.D(),
		FetchCooldown:     cfg.Workers.FetchCooldown.D(),
		FetchPollInterval: cfg.Workers.FetchPollInterval.D(),
		TestOnly:          opts.TestOnly,
	})
	if err != nil {
		return nil, err
	}

	a.riverUI, err = riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(a.River, nil),
		Logger:    jobs.RiverLogger(logger.With("component", "riverui")),
		Prefix:    "/admin/river",
	})
	if err != nil {
		return nil, fmt.Errorf("river ui: %w", err)
	}

	ingest := &jobs.Ingest{Store: a.Store, River: a.River, Logger: logger.With("component", "ingest"), OnRetry: func(sqlstate string, attempt int) {
		a.Metrics.IngestRetried(sqlstate)
		logger.Warn("ingest transaction aborted by PostgreSQL; running it again", "sqlstate", sqlstate, "attempt", attempt)
	}, OnGroup: a.Metrics.IngestGroup}
	a.Ingest = ingest
	busMetrics := bus.NewMetrics(a.Registry)
	if cfg.AMQP.Enabled() {
		a.Bus = bus.New(&a.Config, intake.Receiver{Config: &a.Config, Ingest: ingest}, logger, busMetrics)
	}
	a.Handler = handlers.NewServer(handlers.Deps{
		Config:  cfg,
		Logger:  logger,
		Store:   a.Store,
		Ingest:  ingest,
		Metrics: a.Metrics,
		Ready:   a.Ready,
		RiverUI: a.riverUI,
	})
	return a, nil
}

func observe(c *prometheus.CounterVec) func(endpoint string, code int, d time.Duration) {
	return func(endpoint string, code int, _ time.Duration) {
		c.WithLabelValues(endpoint, fmt.Sprint(code)).Inc()
	}
}

// ReloadMetadata loads the metadata again; a broken set is refused and the
// last good one kept.
func (a *App) ReloadMetadata() error {
	if a.Config.Metadata.Dir == "" {
		return nil
	}
	err := a.Metadata.Reload()
	if err != nil {
		a.Jobs.MetadataReload.WithLabelValues("error").Inc()
		a.Jobs.MetadataOK.Set(0)
		a.Logger.Error("metadata reload failed; keeping the last good set", "dir", a.Config.Metadata.Dir, "error", err)
		return err
	}
	a.Jobs.MetadataReload.WithLabelValues("ok").Inc()
	a.Jobs.MetadataOK.Set(1)
	a.Logger.Info("metadata loaded", "dir", a.Config.Metadata.Dir, "products", len(a.Metadata.Current().Products()), "problems", len(a.Metadata.Problems()))
	return nil
}

// Ready says whether the App can do its work, with details for /readyz.
func (a *App) Ready(ctx context.Context) (map[string]string, error) {
	detail := map[string]string{}
	// Without metadata nothing can be planned, so no PR can be gated: the
	// replica is not ready, whether metadata.dir is unset or never loaded.
	// The other checks still run, so the answer shows every reason.
	var notReady error
	if a.Config.Metadata.Dir == "" {
		detail["metadata"] = "metadata.dir is not configured: nothing can be scheduled"
		notReady = errors.New("metadata.dir is not configured: nothing can be scheduled or gated (set QEMGATE_METADATA_DIR)")
	} else {
		switch {
		case a.Metadata.Current() == nil:
			msg := "never loaded"
			if err := a.Metadata.LastError(); err != nil {
				msg = err.Error()
			}
			return detail, fmt.Errorf("metadata: %s", msg)
		case a.Metadata.LastError() != nil:
			detail["metadata"] = fmt.Sprintf("last reload at %s failed, using the set loaded at %s: %v",
				a.Metadata.LastReload().UTC().Format(time.RFC3339), a.Metadata.LastSuccess().UTC().Format(time.RFC3339), a.Metadata.LastError())
		default:
			detail["metadata"] = fmt.Sprintf("%d products, loaded at %s", len(a.Metadata.Current().Products()), a.Metadata.LastSuccess().UTC().Format(time.RFC3339))
		}
	}
	if err := a.Pool.Ping(ctx); err != nil {
		return detail, fmt.Errorf("database unreachable: %w", err)
	}
	if err := migrations.Check(ctx, a.Pool); err != nil {
		return detail, err
	}
	if !a.riverRunning.Load() {
		return detail, errors.New("job queue (River) is not running")
	}
	// The broker is one path of events among three (webhooks, pollers):
	// its outage is shown, and does not stop this replica taking webhooks.
	if a.Bus != nil {
		detail["amqp"] = a.Bus.State()
	}
	// Jobs of a killed process are retried by the rescuer; they are shown,
	// not a reason to take this replica out of service.
	if msg, err := a.Overdue.Describe(ctx); err != nil {
		detail["jobs"] = "could not count overdue jobs: " + err.Error()
	} else if msg != "" {
		detail["jobs"] = msg
	}
	// Acknowledged deliveries whose jobs no dispatcher inserted for a
	// while (River cannot take them, or no replica runs its workers):
	// shown, like overdue jobs.
	if n, err := store.StaleWork(ctx, a.Pool, jobs.StaleWorkAfter); err != nil {
		detail["dispatch"] = "could not count undispatched deliveries: " + err.Error()
	} else if n > 0 {
		detail["dispatch"] = fmt.Sprintf("%d deliveries acknowledged more than %s ago still wait for their jobs; see the dispatcher's errors in the log", n, jobs.StaleWorkAfter)
	}
	return detail, notReady
}

// RunBus consumes from the broker until ctx ends, when amqp.url is set;
// otherwise it returns at once.
func (a *App) RunBus(ctx context.Context) {
	if a.Bus != nil {
		a.Bus.Run(ctx)
	}
}

// StartWorkers waits until the schema is current, then starts River and the
// River UI. It returns nil without starting when ctx ends first.
func (a *App) StartWorkers(ctx context.Context) error {
	for warned := false; ; {
		err := migrations.Check(ctx, a.Pool)
		if err == nil {
			break
		}
		if !warned {
			a.Logger.Warn("waiting for the database schema to be current before starting the workers", "reason", err)
			warned = true
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(2 * time.Second):
		}
	}
	// River runs on its own context: StopWorkers gives it a bounded soft stop.
	if err := a.River.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start river: %w", err)
	}
	uiCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	a.stopUI = stop
	if err := a.riverUI.Start(uiCtx); err != nil {
		return fmt.Errorf("river ui: %w", err)
	}
	// The dispatcher turns stored deliveries into jobs (jobs.Ingest): on
	// every replica, woken by this one's deliveries and sweeping for the
	// rest, so that a delivery whose replica died is dispatched by another.
	dispatchCtx, stopDispatch := context.WithCancel(context.WithoutCancel(ctx))
	a.stopDispatch, a.dispatchDone = stopDispatch, make(chan struct{})
	go func() {
		defer close(a.dispatchDone)
		a.Ingest.RunDispatcher(dispatchCtx, a.Config.Workers.DispatchSweep.D())
	}()
	a.riverRunning.Store(true)
	return nil
}

// StopWorkers stops River softly, then hard after half the shutdown timeout.
func (a *App) StopWorkers(ctx context.Context) {
	if a.stopUI != nil {
		a.stopUI()
	}
	if !a.riverRunning.Swap(false) {
		return
	}
	// Work not dispatched yet stays pending for the next dispatcher.
	a.stopDispatch()
	<-a.dispatchDone
	soft, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.Config.ShutdownWait.D()/2)
	defer cancel()
	if err := a.River.Stop(soft); err != nil {
		a.Logger.Warn("river soft stop incomplete, stopping hard", "error", err)
		hard, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if err := a.River.StopAndCancel(hard); err != nil {
			a.Logger.Warn("river hard stop", "error", err)
		}
	}
}
