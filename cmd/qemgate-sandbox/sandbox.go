package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/qemgate/qemgate/app"
	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/fake/giteafake"
	"github.com/qemgate/qemgate/fake/obsfake"
	"github.com/qemgate/qemgate/fake/openqafake"
	"github.com/qemgate/qemgate/fake/smeltfake"
	"github.com/qemgate/qemgate/internal/demo"
	"github.com/qemgate/qemgate/internal/rabbittest"
	"github.com/qemgate/qemgate/migrations"
)

type options struct {
	Listen, GiteaAddr, OpenQAAddr, DatabaseURL, LogLevel string
	// OBSAddr, when set, starts a fake OBS there and a fake SMELT.
	OBSAddr string
	// RabbitMQ starts a broker node: events then come through it.
	RabbitMQ bool
}

// sandbox is qemgate with its two fake neighbours.
type sandbox struct {
	opts   options
	gitea  *giteafake.Server
	openqa *openqafake.Server
	obs    *obsfake.Server
	broker *rabbittest.Broker
	bus    *demo.AMQPPublisher
	// giteaBus receives Gitea's webhooks and puts them on the bus.
	giteaBus *http.Server
	stopBus  func()
	smelt    *smeltfake.Server
	app      *app.App
	pool     *pgxpool.Pool
	srv      *http.Server
	tmp      string
	pr       giteafake.PullInfo
	done     chan error
	base     string
	// adminToken is made up at start and printed with the story: the
	// demo's fixed one would open the admin API to anyone on the machine.
	adminToken string
}

func start(ctx context.Context, o options, logOut io.Writer) (sb *sandbox, err error) {
	sb = &sandbox{opts: o, done: make(chan error, 1), base: "http://" + o.Listen, adminToken: rand.Text()}
	defer func() {
		if err != nil {
			sb.Close()
		}
	}()
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("qemgate cannot listen on %s: %w", o.Listen, err)
	}
	sb.base = "http://" + ln.Addr().String()

	for _, addr := range []string{o.GiteaAddr, o.OpenQAAddr} {
		if err := checkFree(addr); err != nil {
			ln.Close()
			return nil, err
		}
	}
	if sb.gitea, err = demo.NewGitea(o.GiteaAddr); err != nil {
		ln.Close()
		return nil, err
	}
	sb.openqa = demo.NewOpenQA(o.OpenQAAddr, sb.base)
	if err := sb.connect(); err != nil {
		ln.Close()
		return nil, err
	}
	if o.OBSAddr != "" {
		if err := checkFree(o.OBSAddr); err != nil {
			ln.Close()
			return nil, err
		}
		sb.obs = demo.NewOBS(o.OBSAddr)
		sb.smelt = demo.NewSMELT("")
	}
	sb.tmp, err = os.MkdirTemp("", "qemgate-sandbox-")
	if err != nil {
		ln.Close()
		return nil, err
	}
	if err := demo.WriteMetadata(sb.tmp); err != nil {
		ln.Close()
		return nil, err
	}

	cfg := sb.config()
	logger := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: parseLevel(o.LogLevel)}))
	sb.pool, err = pgxpool.New(ctx, o.DatabaseURL)
	if err != nil {
		ln.Close()
		return nil, err
	}
	if _, err := migrations.Up(ctx, sb.pool, logger); err != nil {
		ln.Close()
		return nil, err
	}
	sb.app, err = app.New(cfg, logger, sb.pool, app.Options{})
	if err != nil {
		ln.Close()
		return nil, err
	}
	if err := sb.app.ReloadMetadata(); err != nil {
		ln.Close()
		return nil, err
	}
	sb.srv = &http.Server{Handler: sb.app.Handler, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := sb.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			sb.done <- err
		}
	}()
	if err := sb.app.StartWorkers(ctx); err != nil {
		return nil, err
	}
	if sb.app.Bus != nil {
		busCtx, stopBus := context.WithCancel(context.WithoutCancel(ctx))
		busDone := make(chan struct{})
		go func() { defer close(busDone); sb.app.RunBus(busCtx) }()
		sb.stopBus = func() { stopBus(); <-busDone }
		// The queue exists once the consumer is connected; the demo PR's
		// events must find it.
		for deadline := time.Now().Add(30 * time.Second); sb.app.Bus.State() != "connected"; {
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("qemgate did not connect to RabbitMQ: %s", sb.app.Bus.State())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// The demo PR, opened after qemgate listens so its webhooks arrive.
	if sb.pr, err = demo.OpenPull(sb.gitea, "openssl-3: fix CVE-2026-0001"); err != nil {
		return nil, err
	}
	if sb.obs != nil {
		// Its staging project builds; publish it with the curl lines of
		// the README's sandbox section.
		demo.BuildSLES(sb.obs, sb.pr.Number, sb.pr.HeadSHA, "building", "building")
		if _, err := sb.gitea.CreateComment(demo.Owner, demo.RepoName, sb.pr.Number, demo.StagingBot, demo.StagingComment(sb.pr.Number)); err != nil {
			return nil, err
		}
	}
	return sb, nil
}

func (sb *sandbox) config() config.Config {
	cfg := demo.Config(sb.base, sb.gitea.URL(), sb.openqa.URL(), sb.tmp)
	cfg.AdminToken = sb.adminToken
	cfg.Listen = sb.opts.Listen
	cfg.DatabaseURL = sb.opts.DatabaseURL
	cfg.LogLevel = sb.opts.LogLevel
	// Short intervals, so the poller's part of the story shows within a
	// minute: openQA sends no hook for a new comment.
	cfg.Poll.Gitea = config.Duration(30 * time.Second)
	cfg.Poll.OpenQA = config.Duration(15 * time.Second)
	cfg.Poll.OpenQAStaleAfter = config.Duration(10 * time.Second)
	if sb.obs != nil {
		demo.WithOBS(&cfg, sb.obs.URL(), sb.smelt.URL())
	}
	if sb.broker != nil {
		cfg.AMQP.URL, cfg.AMQP.Exchange, cfg.AMQP.TopicPrefix = sb.broker.URL, demo.Exchange, demo.TopicPrefix
	}
	return cfg
}

// connect wires the neighbours to qemgate: webhooks, or with -rabbitmq a
// broker node on which Gitea's events (through a publisher) and openQA's
// (its AMQP plugin) arrive.
func (sb *sandbox) connect() error {
	if !sb.opts.RabbitMQ {
		return demo.HookGitea(sb.gitea, sb.base)
	}
	var err error
	if sb.broker, err = rabbittest.Launch(); err != nil {
		return fmt.Errorf("start RabbitMQ: %w", err)
	}
	if err := demo.DeclareExchange(sb.broker.URL, demo.Exchange); err != nil {
		return err
	}
	sb.bus = &demo.AMQPPublisher{URL: sb.broker.URL, Exchange: demo.Exchange}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	sb.giteaBus = &http.Server{Handler: &demo.GiteaPublisher{Bus: sb.bus, Prefix: demo.TopicPrefix}, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = sb.giteaBus.Serve(ln) }()
	if err := demo.HookGitea(sb.gitea, "http://"+ln.Addr().String()); err != nil {
		return err
	}
	sb.openqa.SetHookEnabled(false)
	sb.openqa.SetPublisher(sb.bus, demo.TopicPrefix)
	return nil
}

// Done reports a server that stopped on its own.
func (sb *sandbox) Done() <-chan error { return sb.done }

// Close stops everything, qemgate first.
func (sb *sandbox) Close() {
	if sb.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = sb.srv.Shutdown(ctx)
		cancel()
	}
	if sb.stopBus != nil {
		sb.stopBus()
	}
	if sb.app != nil {
		sb.app.StopWorkers(context.Background())
	}
	if sb.pool != nil {
		sb.pool.Close()
	}
	if sb.gitea != nil {
		sb.gitea.Close()
	}
	if sb.openqa != nil {
		sb.openqa.Close()
	}
	if sb.obs != nil {
		sb.obs.Close()
		sb.smelt.Close()
	}
	if sb.giteaBus != nil {
		sb.giteaBus.Close()
	}
	if sb.bus != nil {
		sb.bus.Close()
	}
	if sb.broker != nil {
		sb.broker.Close()
	}
	if sb.tmp != "" {
		os.RemoveAll(sb.tmp)
	}
}

func checkFree(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (is another sandbox running?): %w", addr, err)
	}
	return ln.Close()
}

func parseLevel(s string) slog.Level {
	var l slog.Level
	_ = l.UnmarshalText([]byte(s))
	return l
}
