package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/app"
	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/fake/giteafake"
	"github.com/qemgate/qemgate/fake/openqafake"
	"github.com/qemgate/qemgate/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// The cast of the story, as on the real servers.
const (
	owner         = "products"
	repoName      = "SLFO"
	repo          = owner + "/" + repoName
	author        = "carol"
	requester     = "alice"
	botLogin      = "qam-openqa-review" // qemgate's own account
	botToken      = "bot-token"
	stagingBot    = "autogits_obs_staging_bot"
	teamMember    = "qam-bot"
	reviewTeam    = "qam-openqa"
	webhookSecret = "e2e-webhook-secret"
	callbackToken = "e2e-callback-token"
	openqaKey     = "0123456789ABCDEF"
	openqaSecret  = "FEDCBA9876543210"
	groupID       = 414
	patchinfo     = `<patchinfo incident="1"><package>openssl-3</package><category>security</category></patchinfo>`
)

// metadataYAML is a squad's metadata in qem-bot's format: one flavor on two
// archs for the SLFO 1.1.99 / SLES 16.0 channel.
const metadataYAML = `product: SLES-16.0
product_repo: SLES
product_version: "16.0"
settings:
  DISTRI: sle
  VERSION: "16.0"
incidents:
  FLAVOR:
    Online-Incidents:
      archs: [x86_64, aarch64]
      issues:
        OS_TEST_ISSUES: SLFO:1.1.99#16.0
      aggregate_job: false
`

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

	w.gitea = giteafake.New(giteafake.Options{Tokens: map[string]string{botToken: botLogin}})
	t.Cleanup(w.gitea.Close)
	for _, u := range []string{author, requester, botLogin, stagingBot, teamMember} {
		require.NoError(t, w.gitea.AddUser(giteafake.User{Login: u}))
	}
	require.NoError(t, w.gitea.AddOrg(owner, "Products"))
	require.NoError(t, w.gitea.AddTeam(owner, giteafake.Team{Name: reviewTeam, Members: []string{teamMember, botLogin}}))
	_, err := w.gitea.AddRepo(giteafake.Repo{Owner: owner, Name: repoName, ObjectFormat: "sha256",
		Writers: []string{stagingBot, teamMember, requester}, Admins: []string{botLogin}})
	require.NoError(t, err)
	_, err = w.gitea.AddHook(giteafake.Hook{Repo: repo, URL: w.srv.URL + "/webhooks/gitea", Secret: webhookSecret,
		Events: []string{"pull_request", "issue_comment", "status"}})
	require.NoError(t, err)

	w.openqa = openqafake.New(openqafake.Options{
		Users: []openqafake.User{{Name: "qemgate", Key: openqaKey, Secret: openqaSecret, Level: openqafake.LevelOperator}},
		Templates: []openqafake.Template{
			{Distri: "sle", Version: "16.0", Flavor: "Online-Incidents", Arch: "x86_64", Test: "qam-minimal", GroupID: groupID},
			{Distri: "sle", Version: "16.0", Flavor: "Online-Incidents", Arch: "x86_64", Test: "qam-textmode", GroupID: groupID},
			{Distri: "sle", Version: "16.0", Flavor: "Online-Incidents", Arch: "aarch64", Test: "qam-minimal", GroupID: groupID},
		},
		JobGroups: []openqafake.JobGroup{{ID: groupID, Name: "Maintenance: SLES 16.0 Incidents", Description: "Responsible: @qe-core"}},
		HookURL:   w.srv.URL + "/webhooks/openqa",
		HookToken: callbackToken,
	})
	t.Cleanup(w.openqa.Close)

	metaDir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(metaDir, "sles-16.0.yml"), []byte(metadataYAML), 0o644))

	skip := true
	cfg := config.Default()
	cfg.DatabaseURL = "unused"
	cfg.PublicURL = w.srv.URL
	cfg.AdminToken = "e2e-admin"
	cfg.ShutdownWait = config.Duration(4 * time.Second)
	cfg.Gitea.URL = w.gitea.URL()
	cfg.Gitea.Token = botToken
	cfg.Gitea.WebhookSecrets = []string{webhookSecret}
	cfg.Gitea.BotLogin = botLogin
	cfg.Gitea.Timeout = config.Duration(5 * time.Second)
	cfg.Gitea.Approval = config.Approval{Mode: "review", ReviewBot: botLogin}
	cfg.Gitea.Repos = []config.Repo{{
		Name:       repo,
		Reviewer:   config.Reviewer{Users: []string{botLogin}, Teams: []string{reviewTeam}},
		BuildReady: config.BuildReady{Review: &config.ReviewSignal{User: stagingBot, Body: "^Build successful"}, Status: &config.StatusSignal{Context: "obs/*"}},
		SkipDrafts: &skip,
		Branches: map[string]config.Branch{"main": {
			ProductVersion: "16.0",
			Archs:          []string{"x86_64", "aarch64"},
			Channels:       []string{"SLFO:1.1.99#16.0"},
			StagingProject: "SUSE:SLFO:1.1.99:PullRequest:{number}",
			IncidentRepo:   "http://download.example.test/ibs/{staging_project_path}/product/repo/{product_repo}-{product_version}-{arch}/",
		}},
	}}
	cfg.OpenQA.URL = w.openqa.URL()
	cfg.OpenQA.Key = openqaKey
	cfg.OpenQA.Secret = openqaSecret
	cfg.OpenQA.CallbackToken = callbackToken
	cfg.OpenQA.Timeout = config.Duration(5 * time.Second)
	cfg.Metadata.Dir = metaDir
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
	pr, err := w.gitea.OpenPull(giteafake.PullOptions{Owner: owner, Repo: repoName, Author: author, HeadOwner: author,
		Head: "update-openssl", Title: title, Files: map[string]string{"openssl-3/_patchinfo": patchinfo}})
	require.NoError(w.t, err)
	require.NoError(w.t, w.gitea.RequestReview(owner, repoName, pr.Number, requester, nil, []string{reviewTeam}))
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
