package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/app"
	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/fake/giteafake"
	"github.com/qemgate/qemgate/fake/openqafake"
	"github.com/qemgate/qemgate/internal/demo"
	"github.com/qemgate/qemgate/internal/pgtest"
	"github.com/qemgate/qemgate/internal/rabbittest"
)

// TestMain stops the shared broker and drops the template database.
func TestMain(m *testing.M) { os.Exit(rabbittest.Run(pgRun{m})) }

type pgRun struct{ m *testing.M }

func (p pgRun) Run() int { return pgtest.Run(p.m) }

// The cast of the story (internal/demo), under the short names the tests use.
const (
	owner         = demo.Owner
	repoName      = demo.RepoName
	repo          = demo.Repo
	author        = demo.Author
	requester     = demo.Requester
	botLogin      = demo.BotLogin
	botToken      = demo.BotToken
	stagingBot    = demo.StagingBot
	teamMember    = demo.TeamMember
	reviewTeam    = demo.ReviewTeam
	webhookSecret = demo.WebhookSecret
	callbackToken = demo.CallbackToken
	openqaKey     = demo.OpenQAKey
	openqaSecret  = demo.OpenQASecret
	groupID       = demo.GroupID
	patchinfo     = demo.Patchinfo
)

// world is qemgate with its neighbours: fake Gitea, fake openQA, Postgres.
type world struct {
	t      *testing.T
	gitea  *giteafake.Server
	openqa *openqafake.Server
	app    *app.App
	srv    *httptest.Server
	cfg    config.Config
	ctx    context.Context
	// giteaBus is the Gitea event publisher when the world runs on the
	// bus (withBus); nil when Gitea calls qemgate's webhook.
	giteaBus *demo.GiteaPublisher
}

type worldOption func(*config.Config)

// newWorld starts everything and a repository products/SLFO whose webhook
// points at qemgate, and stops it all when the test ends.
func newWorld(t *testing.T, opts ...worldOption) *world {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	w := &world{t: t, ctx: ctx}

	// qemgate's handler answers through a listener that exists before the
	// fakes, so they can be told where to call.
	w.srv = httptest.NewUnstartedServer(nil)
	w.srv.Start()
	t.Cleanup(w.srv.Close)

	var err error
	w.gitea, err = demo.NewGitea("")
	require.NoError(t, err)
	t.Cleanup(w.gitea.Close)
	w.openqa = demo.NewOpenQA("", w.srv.URL)
	t.Cleanup(w.openqa.Close)

	metaDir := t.TempDir()
	require.NoError(t, demo.WriteMetadata(metaDir))
	cfg := demo.Config(w.srv.URL, w.gitea.URL(), w.openqa.URL(), metaDir)
	cfg.ShutdownWait = config.Duration(4 * time.Second)
	for _, o := range opts {
		o(&cfg)
	}
	w.cfg = cfg
	if cfg.AMQP.Enabled() {
		// SUSE's way: an organisation webhook feeds a publisher, openQA's
		// AMQP plugin publishes; neither calls qemgate.
		pub := &demo.AMQPPublisher{URL: cfg.AMQP.URL, Exchange: cfg.AMQP.Exchange}
		t.Cleanup(func() { pub.Close() })
		w.giteaBus = &demo.GiteaPublisher{Bus: pub, Prefix: cfg.AMQP.TopicPrefix}
		publisher := httptest.NewServer(w.giteaBus)
		t.Cleanup(publisher.Close)
		require.NoError(t, demo.HookGitea(w.gitea, publisher.URL))
		w.openqa.SetHookEnabled(false)
		w.openqa.SetPublisher(pub, cfg.AMQP.TopicPrefix)
	} else {
		require.NoError(t, demo.HookGitea(w.gitea, w.srv.URL))
	}

	pool := pgtest.New(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	w.app, err = app.New(cfg, logger, pool, app.Options{TestOnly: true})
	require.NoError(t, err)
	require.NoError(t, w.app.ReloadMetadata())
	w.srv.Config.Handler = w.app.Handler
	require.NoError(t, w.app.StartWorkers(ctx))
	t.Cleanup(func() { w.app.StopWorkers(context.Background()) })
	if w.app.Bus != nil {
		busCtx, stopBus := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); w.app.RunBus(busCtx) }()
		t.Cleanup(func() { stopBus(); <-done })
		// The queue exists once the consumer is connected: what is
		// published before that has nowhere to go (on a real broker the
		// durable queue outlives restarts; only the first start has this).
		require.Eventually(t, func() bool { return w.app.Bus.State() == "connected" }, time.Minute, 20*time.Millisecond,
			"the consumer never connected: %s", w.app.Bus.State())
	}
	return w
}

// openPull opens a PR by carol changing a _patchinfo, and asks our team for review.
func (w *world) openPull(title string) giteafake.PullInfo {
	w.t.Helper()
	pr, err := demo.OpenPull(w.gitea, title)
	require.NoError(w.t, err)
	return pr
}

// buildSucceeds is the staging bot's "Build successful" review at sha.
func (w *world) buildSucceeds(number int64, sha string) {
	w.t.Helper()
	_, err := w.gitea.SubmitReview(owner, repoName, number, giteafake.ReviewOptions{User: stagingBot, State: "APPROVED", Body: "Build successful", CommitID: sha})
	require.NoError(w.t, err)
}

// settle waits until every webhook is delivered (on the bus: every
// published event is stored) and no River job is left waiting or running.
func (w *world) settle() {
	w.t.Helper()
	require.NoError(w.t, w.gitea.WaitIdle(w.ctx))
	if w.giteaBus != nil {
		require.Eventually(w.t, func() bool {
			published := int(w.giteaBus.Published.Load()) + len(w.openqa.Events())
			var stored int
			err := w.app.Pool.QueryRow(w.ctx, `SELECT count(*) FROM deliveries WHERE source IN ('gitea-amqp', 'openqa-amqp')`).Scan(&stored)
			return err == nil && stored >= published
		}, 30*time.Second, 20*time.Millisecond, "published events never all stored: %d from Gitea, %v from openQA", w.giteaBus.Published.Load(), w.openqa.Events())
	}
	require.Eventually(w.t, func() bool {
		var n int
		err := w.app.Pool.QueryRow(w.ctx, `SELECT count(*) FROM river_job
			WHERE state IN ('available', 'running', 'retryable', 'scheduled', 'pending')
			  AND (state <> 'retryable' OR scheduled_at < now() + interval '5 seconds')
			  AND (state <> 'scheduled' OR scheduled_at < now() + interval '5 seconds')`).Scan(&n)
		return err == nil && n == 0
	}, 30*time.Second, 20*time.Millisecond, "jobs never settled")
}

// count runs a count(*) query.
func (w *world) count(sql string, args ...any) int {
	w.t.Helper()
	var n int
	require.NoError(w.t, w.app.Pool.QueryRow(w.ctx, sql, args...).Scan(&n))
	return n
}
