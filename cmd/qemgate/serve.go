package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/qemgate/qemgate/app"
	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/migrations"
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
	if problems := cfg.ServeProblems(); len(problems) > 0 {
		fmt.Fprintf(stderr, "qemgate serve: %v\n", &config.Error{Problems: problems})
		return 2
	}
	logger := newLogger(stdout, cfg.LogLevel)
	for name, off := range map[string]bool{"gitea webhooks": cfg.Webhooks.GiteaDisabled, "openqa callbacks": cfg.Webhooks.OpenQADisabled, "admin API": cfg.AdminDisabled} {
		if off {
			logger.Warn("switched off by the configuration: its routes answer 404", "receiver", name)
		}
	}
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
	a, err := app.New(cfg, logger, pool, app.Options{})
	if err != nil {
		return err
	}
	// A broken metadata set at start is reported by /readyz; the service
	// still serves webhooks and keeps retrying on every reload.
	_ = a.ReloadMetadata()
	go reloadMetadataLoop(ctx, a)

	srv := &http.Server{
		Addr:              cfg.Listen,
		Handler:           a.Handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		// Headers are read before anything is authenticated; ours and
		// Gitea's are a few hundred bytes (Go's default allows 1 MiB).
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	logger.Info("listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL)

	// Workers start once the schema is current; with auto_migrate off that
	// may be later, and meanwhile /readyz says why the service is not ready.
	workersErr := make(chan error, 1)
	go func() { workersErr <- a.StartWorkers(ctx) }()
	// The broker consumer stops on its own signal, after HTTP, so that a
	// message being stored is finished and acknowledged.
	busCtx, stopBus := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBus()
	busDone := make(chan struct{})
	go func() { defer close(busDone); a.RunBus(busCtx) }()

	var runErr error
	for done := false; !done; {
		select {
		case <-ctx.Done():
			logger.Info("shutting down")
			done = true
		case err := <-serveErr:
			if !errors.Is(err, http.ErrServerClosed) {
				runErr = fmt.Errorf("http server: %w", err)
			}
			done = true
		case err := <-workersErr:
			if err != nil {
				runErr, done = err, true
			}
		}
	}

	httpCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownWait.D()/2)
	if err := srv.Shutdown(httpCtx); err != nil {
		logger.Warn("http shutdown incomplete", "error", err)
		srv.Close()
	}
	cancel()
	stopBus()
	select {
	case <-busDone:
	case <-time.After(cfg.ShutdownWait.D() / 2):
		logger.Warn("broker consumer did not stop in time; its unacknowledged messages go back to the broker")
	}
	a.StopWorkers(ctx)
	logger.Info("stopped")
	return runErr
}

// reloadMetadataLoop reloads the metadata on SIGHUP and every
// metadata.reload_interval until ctx ends.
func reloadMetadataLoop(ctx context.Context, a *app.App) {
	if a.Config.Metadata.Dir == "" {
		return
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	tick := time.NewTicker(a.Config.Metadata.ReloadInterval.D())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			a.Logger.Info("SIGHUP: reloading metadata")
			_ = a.ReloadMetadata()
		case <-tick.C:
			_ = a.ReloadMetadata()
		}
	}
}
