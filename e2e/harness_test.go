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
)

func TestMain(m *testing.M) { pgtest.Main(m) }

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
	require.NoError(t, demo.HookGitea(w.gitea, w.srv.URL))
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

// settle waits until every webhook is delivered and no River job is left
// waiting or running.
func (w *world) settle() {
	w.t.Helper()
	require.NoError(w.t, w.gitea.WaitIdle(w.ctx))
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
