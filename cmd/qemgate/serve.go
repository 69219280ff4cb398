package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"riverqueue.com/riverui"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/forge"
	"github.com/qemgate/qemgate/handlers"
	"github.com/qemgate/qemgate/jobs"
	"github.com/qemgate/qemgate/migrations"
	"github.com/qemgate/qemgate/store"
)

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// loadConfig reads the configuration and prints every problem on stderr.
func loadConfig(name string, args []string, getenv func(string) string, stderr io.Writer) (config.Config, bool) {
	path, ok := commonFlags(name, args, stderr)
	if !ok {
		return config.Config{}, false
	}
	cfg, err := config.Load(path, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "qemgate %s: %v\n", name, err)
		return cfg, false
	}
	return cfg, true
}

func openPool(ctx context.Context, cfg config.Config) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, errors.New("QEMGATE_DATABASE_URL: cannot be parsed") // the error would echo the password
	}
	pc.ConnConfig.RuntimeParams["application_name"] = "qemgate"
	if pc.MaxConns < 10 {
		pc.MaxConns = 10
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database unreachable: %w", err)
	}
	return pool, nil
}

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, ok := loadConfig("migrate", args, getenv, stderr)
	if !ok {
		return 2
	}
	logger := newLogger(stderr, cfg.LogLevel)
	pool, err := openPool(ctx, cfg)
	if err != nil {
		logger.Error("migrate", "error", err)
		return 1
	}
	defer pool.Close()
	res, err := migrations.Up(ctx, pool, logger)
	if err != nil {
		logger.Error("migrate", "error", err)
		return 1
	}
	fmt.Fprintf(stdout, "migrations current: applied %d of ours, %d of River's\n", len(res.Applied), len(res.River))
	return 0
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, ok := loadConfig("serve", args, getenv, stderr)
	if !ok {
		return 2
	}
	logger := newLogger(stdout, cfg.LogLevel)
	if err := serve(ctx, cfg, logger); err != nil {
		logger.Error("qemgate stopped with an error", "error", err)
		return 1
	}
	return 0
}

// serve runs until ctx is cancelled, then stops gracefully: the listener
// closes, in-flight requests finish, River stops softly and then hard.
func serve(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	logger.Info("starting qemgate", "version", version, "config", cfg.Redacted())

	pool, err := openPool(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if cfg.AutoMigrate {
		if _, err := migrations.Up(ctx, pool, logger); err != nil {
			return err
		}
	}

	st := store.New(pool)
	fg, err := forge.New(forge.Config{URL: cfg.Gitea.URL, Token: cfg.Gitea.Token, Timeout: cfg.Gitea.Timeout.D()})
	if err != nil {
		return fmt.Errorf("gitea client: %w", err)
	}
	deps := jobs.Deps{Store: st, Forge: fg, Logger: logger}
	riverClient, err := jobs.NewClient(pool, deps, jobs.Config{
		GiteaWorkers:    cfg.Workers.Gitea,
		OpenQAWorkers:   cfg.Workers.OpenQA,
		DefaultWorkers:  cfg.Workers.Default,
		SoftStopTimeout: cfg.ShutdownWait.D() / 2,
	})
	if err != nil {
		return err
	}

	var riverRunning atomic.Bool
	ready := func(ctx context.Context) error {
		if err := pool.Ping(ctx); err != nil {
			return fmt.Errorf("database unreachable: %w", err)
		}
		if err := migrations.Check(ctx, pool); err != nil {
			return err
		}
		if !riverRunning.Load() {
			return errors.New("job queue (River) is not running")
		}
		return nil
	}

	uiCtx, stopUI := context.WithCancel(context.WithoutCancel(ctx))
	defer stopUI()
	ui, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(riverClient, nil),
		Logger:    logger.With("component", "riverui"),
		Prefix:    "/admin/river",
	})
	if err != nil {
		return fmt.Errorf("river ui: %w", err)
	}
	if err := ui.Start(uiCtx); err != nil {
		return fmt.Errorf("river ui: %w", err)
	}

	metrics := handlers.NewMetrics()
	srv := &http.Server{
		Addr: cfg.Listen,
		Handler: handlers.NewServer(handlers.Deps{
			Config:  cfg,
			Logger:  logger,
			Store:   st,
			Ingest:  &jobs.Ingest{Store: st, River: riverClient},
			Metrics: metrics,
			Ready:   ready,
			RiverUI: ui,
		}),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	logger.Info("listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL)

	// River starts once the schema is current. With auto_migrate off that
	// may be later (a migration job runs elsewhere); meanwhile /readyz says
	// why the service is not ready. River runs on its own context so that
	// HTTP drains first and River gets its bounded soft stop afterwards.
	riverStarted := make(chan error, 1)
	go func() { riverStarted <- startRiverWhenMigrated(ctx, pool, riverClient, &riverRunning, logger) }()
	var runErr error
	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			runErr = fmt.Errorf("http server: %w", err)
		}
	case err := <-riverStarted:
		if err != nil {
			runErr = err
		} else {
			select {
			case <-ctx.Done():
				logger.Info("shutting down")
			case err := <-serveErr:
				if !errors.Is(err, http.ErrServerClosed) {
					runErr = fmt.Errorf("http server: %w", err)
				}
			}
		}
	}

	deadline := cfg.ShutdownWait.D()
	httpCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deadline/2)
	if err := srv.Shutdown(httpCtx); err != nil {
		logger.Warn("http shutdown incomplete", "error", err)
		srv.Close()
	}
	cancel()

	if !riverRunning.Swap(false) {
		stopUI()
		logger.Info("stopped")
		return runErr
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deadline/2)
	defer cancel()
	if err := riverClient.Stop(stopCtx); err != nil {
		logger.Warn("river soft stop incomplete, stopping hard", "error", err)
		hardCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if err := riverClient.StopAndCancel(hardCtx); err != nil && !strings.Contains(err.Error(), "context") {
			logger.Warn("river hard stop", "error", err)
		}
	}
	stopUI()
	logger.Info("stopped")
	return runErr
}

// startRiverWhenMigrated waits until the schema is current, then starts River.
// It returns nil without starting when ctx ends first.
func startRiverWhenMigrated(ctx context.Context, pool *pgxpool.Pool, client *river.Client[pgx.Tx], running *atomic.Bool, logger *slog.Logger) error {
	for warned := false; ; {
		err := migrations.Check(ctx, pool)
		if err == nil {
			break
		}
		if !warned {
			logger.Warn("waiting for the database schema to be current before starting the workers", "reason", err)
			warned = true
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(2 * time.Second):
		}
	}
	if err := client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start river: %w", err)
	}
	running.Store(true)
	return nil
}

// compile-time check that the River client fits the ingest.
var _ jobs.Inserter = (*river.Client[pgx.Tx])(nil)
